//! CSV output: UTF-8, no BOM, quoted where needed. Values are rendered as
//! pandas' `to_csv` would: integers plain, floats as Python `repr`,
//! booleans `True`/`False`, date-times `YYYY-MM-DD HH:MM:SS`.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::Sink;
use crate::error::{Error, Result};
use crate::value::{py_float_repr, DateTimeParts, Value};

pub struct CsvSink {
    path: PathBuf,
    w: csv::Writer<BufWriter<File>>,
    width: usize,
    buf: Vec<String>,
}

fn cerr(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        other => Error::output(path, format!("{other:?}")),
    }
}

impl CsvSink {
    /// A sink creating `path` (tests and tools; outputs use [`CsvSink::to_file`]).
    pub fn create(path: &Path) -> Result<CsvSink> {
        let f = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(CsvSink::to_file(f, path))
    }

    /// A sink writing into `f`, an open temporary (`path` is for messages):
    /// the temporary is never opened again by its name.
    pub fn to_file(f: File, path: &Path) -> CsvSink {
        let w = csv::WriterBuilder::new()
            .flexible(false)
            .from_writer(BufWriter::with_capacity(1 << 16, f));
        CsvSink {
            path: path.to_path_buf(),
            w,
            width: 0,
            buf: Vec::new(),
        }
    }
}

/// The text a value takes in a CSV cell.
pub fn csv_text(v: &Value) -> String {
    match v {
        Value::Empty => String::new(),
        Value::Text(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::BigInt(i) => i.to_string(),
        Value::Float(f) => py_float_repr(*f),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::DateTime(d) => DateTimeParts::from_serial(*d).to_python_str(),
        Value::Time(_) | Value::Duration(_) => v.to_text(),
    }
}

impl Sink for CsvSink {
    fn header(&mut self, columns: &[crate::value::ColName]) -> Result<()> {
        self.width = columns.len();
        self.w
            .write_record(columns.iter().map(|c| csv_text(&c.0)))
            .map_err(|e| cerr(&self.path, e))
    }

    fn row(&mut self, row: &[Value]) -> Result<()> {
        self.buf.clear();
        self.buf.extend(row.iter().take(self.width).map(csv_text));
        self.buf.resize(self.width, String::new());
        self.w
            .write_record(&self.buf)
            .map_err(|e| cerr(&self.path, e))
    }

    fn finish(self: Box<Self>) -> Result<Option<(u64, String)>> {
        let path = self.path.clone();
        let inner = self
            .w
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        inner
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        Ok(None)
    }
}
