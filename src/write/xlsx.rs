//! xlsx output through rust_xlsxwriter in constant-memory mode: rows are
//! streamed to the worksheet's temporary XML in order, so memory stays flat
//! whatever the row count. Past 1,048,575 data rows the output goes on in
//! `Sheet2`, ... with the header repeated. Document dates are fixed so the
//! bytes are the same on every run.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

use super::Sink;
use crate::error::{Error, Result};
use crate::value::Value;

/// Data rows a sheet holds below its header (1,048,576 rows in all).
pub const MAX_DATA_ROWS: u32 = 1_048_575;
/// The longest text a cell holds, in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 32_767;

pub struct XlsxSink {
    path: PathBuf,
    book: Workbook,
    date_format: Format,
    columns: Vec<String>,
    sheet_index: usize,
    /// Next row to write in the current sheet (0 = header).
    row: u32,
}

fn xerr(path: &Path, e: rust_xlsxwriter::XlsxError) -> Error {
    Error::output(path, e.to_string())
}

impl XlsxSink {
    pub fn create(path: &Path, compression: u8) -> Result<XlsxSink> {
        let mut book = Workbook::new();
        if let Some(dir) = path.parent() {
            // Keep the constant-memory spill beside the output, not in /tmp.
            book.set_tempdir(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
            .map_err(|e| xerr(path, e))?;
        }
        let epoch = ExcelDateTime::from_ymd(2000, 1, 1).map_err(|e| xerr(path, e))?;
        book.set_properties(&DocProperties::new().set_creation_datetime(&epoch));
        book.set_zip_compression_level(compression);
        Ok(XlsxSink {
            path: path.to_path_buf(),
            book,
            date_format: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            columns: Vec::new(),
            sheet_index: 0,
            row: 0,
        })
    }

    fn new_sheet(&mut self) -> Result<()> {
        let path = self.path.clone();
        let ws = self
            .book
            .add_worksheet_with_constant_memory()
            .map_err(|e| xerr(&path, e))?;
        for (c, name) in self.columns.iter().enumerate() {
            ws.write_string(0, c as u16, name)
                .map_err(|e| xerr(&path, e))?;
        }
        self.sheet_index += 1;
        self.row = 1;
        Ok(())
    }
}

impl Sink for XlsxSink {
    fn header(&mut self, columns: &[String]) -> Result<()> {
        self.columns = columns.to_vec();
        self.new_sheet()
    }

    fn row(&mut self, row: &[Value]) -> Result<()> {
        if self.row > MAX_DATA_ROWS {
            self.new_sheet()?;
        }
        let r = self.row;
        let path = &self.path;
        let ws = self
            .book
            .worksheet_from_index(self.sheet_index - 1)
            .map_err(|e| xerr(path, e))?;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Value::Empty => continue,
                Value::Text(s) => ws.write_string(r, c, s.as_ref()),
                Value::Int(i) => ws.write_number(r, c, *i as f64),
                Value::Float(f) => ws.write_number(r, c, *f),
                Value::Bool(b) => ws.write_boolean(r, c, *b),
                Value::DateTime(d) => ws.write_number_with_format(r, c, *d, &self.date_format),
            }
            .map_err(|e| xerr(path, e))?;
        }
        self.row += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if self.sheet_index == 0 {
            self.header(&[])?;
        }
        let path = self.path.clone();
        self.book.save(&path).map_err(|e| match e {
            rust_xlsxwriter::XlsxError::IoError(io) => Error::io(&path, io),
            e => xerr(&path, e),
        })
    }
}
