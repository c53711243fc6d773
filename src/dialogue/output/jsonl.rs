//! `OUT/jsonl/SET.jsonl`: one chat per line, as OpenAI / TRL fine-tuning
//! reads it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::CorpusOutput;
use crate::dialogue::Turn;
use crate::error::{Error, Result};

pub(super) struct Jsonl {
    w: BufWriter<File>,
    path: PathBuf,
    system: Option<String>,
}

impl Jsonl {
    /// Write into `f`, the open temporary named `path`.
    pub(super) fn create(f: File, path: &Path, system: Option<&str>) -> Jsonl {
        Jsonl {
            w: BufWriter::with_capacity(1 << 20, f),
            path: path.to_path_buf(),
            system: system.map(str::to_string),
        }
    }
}

impl CorpusOutput for Jsonl {
    fn dialogue(&mut self, turns: &[Turn]) -> Result<()> {
        self.w
            .write_all(chat_line(turns, self.system.as_deref()).as_bytes())
            .map_err(|e| Error::io(&self.path, e))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let f = self
            .w
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&self.path, e))
    }
}

/// `{"messages":[{"role":"user","content":"..."},...]}` + `\n`: the
/// customer is the user, the agent the assistant; contents are the txt
/// turns without their `坐席:` / `客户:` prefix.
pub fn jsonl_line(turns: &[Turn]) -> String {
    chat_line(turns, None)
}

/// [`jsonl_line`] with `system` as a first `{"role":"system",...}`
/// message (`--system-prompt`).
pub fn chat_line(turns: &[Turn], system: Option<&str>) -> String {
    #[derive(serde::Serialize)]
    struct Message<'a> {
        role: &'static str,
        content: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Line<'a> {
        messages: Vec<Message<'a>>,
    }
    let line = Line {
        messages: system
            .map(|s| Message {
                role: "system",
                content: s,
            })
            .into_iter()
            .chain(turns.iter().map(|t| Message {
                role: if t.agent { "assistant" } else { "user" },
                content: t.content(),
            }))
            .collect(),
    };
    let mut s = serde_json::to_string(&line).expect("strings always serialize");
    s.push('\n');
    s
}
