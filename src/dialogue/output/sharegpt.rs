//! `OUT/sharegpt/SET.jsonl`: one dialogue per line in LLaMA-Factory's
//! sharegpt format, `{"conversations":[{"from":"human","value":...},
//! {"from":"gpt","value":...}],"system":...}`, and
//! `OUT/sharegpt/dataset_info.json` describing both sets (columns and tags
//! spelled out, so LLaMA-Factory reads them without guessing): copy its
//! entries into LLaMA-Factory's `data/dataset_info.json`, or point
//! `dataset_dir` at this directory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::CorpusOutput;
use crate::dialogue::Turn;
use crate::error::{Error, Result};

pub(super) struct ShareGpt {
    w: BufWriter<File>,
    path: PathBuf,
    system: Option<String>,
}

impl ShareGpt {
    /// Write into `f`, the open temporary named `path`.
    pub(super) fn create(f: File, path: &Path, system: Option<&str>) -> ShareGpt {
        ShareGpt {
            w: BufWriter::with_capacity(1 << 20, f),
            path: path.to_path_buf(),
            system: system.map(str::to_string),
        }
    }
}

impl CorpusOutput for ShareGpt {
    fn dialogue(&mut self, turns: &[Turn]) -> Result<()> {
        self.w
            .write_all(sharegpt_line(turns, self.system.as_deref()).as_bytes())
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

/// One line: the customer is `human`, the agent `gpt`; the system prompt,
/// when given, is the `system` column (LLaMA-Factory's documented place).
pub fn sharegpt_line(turns: &[Turn], system: Option<&str>) -> String {
    #[derive(serde::Serialize)]
    struct Message<'a> {
        from: &'static str,
        value: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Line<'a> {
        conversations: Vec<Message<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        system: Option<&'a str>,
    }
    let line = Line {
        conversations: turns
            .iter()
            .map(|t| Message {
                from: if t.agent { "gpt" } else { "human" },
                value: t.content(),
            })
            .collect(),
        system,
    };
    let mut s = serde_json::to_string(&line).expect("strings always serialize");
    s.push('\n');
    s
}

/// `dataset_info.json`: entries `sheetsift_train` and `sheetsift_val`.
pub fn dataset_info(system: bool) -> String {
    let entry = |set: &str| {
        let mut columns = serde_json::json!({ "messages": "conversations" });
        if system {
            columns["system"] = "system".into();
        }
        serde_json::json!({
            "file_name": format!("{set}.jsonl"),
            "formatting": "sharegpt",
            "columns": columns,
            "tags": {
                "role_tag": "from",
                "content_tag": "value",
                "user_tag": "human",
                "assistant_tag": "gpt",
            },
        })
    };
    let info = serde_json::json!({
        "sheetsift_train": entry("train"),
        "sheetsift_val": entry("val"),
    });
    serde_json::to_string_pretty(&info).expect("json") + "\n"
}
