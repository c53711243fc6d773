//! `OUT/parquet/SET.parquet`: one row per dialogue, one column `messages`,
//! a list of structs {role, content} (`user` / `assistant`, `system` first
//! when `--system-prompt` is given), as `datasets` and TRL read chat data.
//!
//! Written with the `parquet` crate's column writer (no arrow, no codec:
//! uncompressed pages), which needs the list's levels by hand: the schema
//! is a required LIST of required structs, so every message is written
//! with definition level 1, repetition level 0 for a dialogue's first
//! message and 1 for the others; an empty dialogue is one entry of
//! definition level 0 (an empty list).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::CorpusOutput;
use crate::dialogue::Turn;
use crate::error::{Error, Result};

const SCHEMA: &str = "
message corpus {
  REQUIRED group messages (LIST) {
    REPEATED group list {
      REQUIRED group element {
        REQUIRED BYTE_ARRAY role (UTF8);
        REQUIRED BYTE_ARRAY content (UTF8);
      }
    }
  }
}";

/// Dialogues per row group: a few MB of text, bounded memory.
const ROW_GROUP: usize = 16_384;

pub(super) struct Parquet {
    w: Option<SerializedFileWriter<File>>,
    path: PathBuf,
    system: Option<String>,
    rows: usize,
    role: Vec<ByteArray>,
    content: Vec<ByteArray>,
    def: Vec<i16>,
    rep: Vec<i16>,
}

fn err(path: &Path, e: parquet::errors::ParquetError) -> Error {
    Error::io(path, std::io::Error::other(e.to_string()))
}

impl Parquet {
    /// Write into `f`, the open temporary named `path`.
    pub(super) fn create(f: File, path: &Path, system: Option<&str>) -> Result<Parquet> {
        let schema = Arc::new(parse_message_type(SCHEMA).expect("the schema parses"));
        let props = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::UNCOMPRESSED)
                .set_created_by(format!("sheetsift {}", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        let w = SerializedFileWriter::new(f, schema, props).map_err(|e| err(path, e))?;
        Ok(Parquet {
            w: Some(w),
            path: path.to_path_buf(),
            system: system.map(str::to_string),
            rows: 0,
            role: Vec::new(),
            content: Vec::new(),
            def: Vec::new(),
            rep: Vec::new(),
        })
    }

    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let path = self.path.clone();
        let w = self.w.as_mut().expect("open until finish");
        let mut rg = w.next_row_group().map_err(|e| err(&path, e))?;
        for values in [&self.role, &self.content] {
            let mut col = rg
                .next_column()
                .map_err(|e| err(&path, e))?
                .expect("two columns");
            col.typed::<ByteArrayType>()
                .write_batch(values, Some(&self.def), Some(&self.rep))
                .map_err(|e| err(&path, e))?;
            col.close().map_err(|e| err(&path, e))?;
        }
        rg.close().map_err(|e| err(&path, e))?;
        self.rows = 0;
        self.role.clear();
        self.content.clear();
        self.def.clear();
        self.rep.clear();
        Ok(())
    }
}

impl CorpusOutput for Parquet {
    fn dialogue(&mut self, turns: &[Turn]) -> Result<()> {
        let mut first = true;
        let mut push = |role: &str, content: &str, s: &mut Parquet| {
            s.role.push(ByteArray::from(role));
            s.content.push(ByteArray::from(content.as_bytes().to_vec()));
            s.def.push(1);
            s.rep.push(if first { 0 } else { 1 });
            first = false;
        };
        if let Some(sys) = self.system.clone() {
            push("system", &sys, self);
        }
        for t in turns {
            push(
                if t.agent { "assistant" } else { "user" },
                t.content(),
                self,
            );
        }
        if first {
            // An empty list.
            self.def.push(0);
            self.rep.push(0);
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush()?;
        let path = self.path.clone();
        let f = self
            .w
            .take()
            .expect("open until finish")
            .into_inner()
            .map_err(|e| err(&path, e))?;
        f.sync_all().map_err(|e| Error::io(&path, e))
    }
}
