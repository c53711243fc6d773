//! Stage 2: dialogues. [`group`] turns a table into dialogues, [`turns`]
//! renders them, [`split`] reproduces sklearn's train/val split, and
//! [`write_corpus`] writes the forward corpus itself while the
//! [`reverse_writer`] thread writes the reversed one.

pub mod emoji;
pub mod group;
pub mod reverse_writer;
pub mod split;
pub mod turns;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::interrupt;
use crate::progress::Progress;
use crate::write::AtomicFile;

pub use self::group::{group, Grouped};
pub use self::turns::{build_turns, Turn};

/// All dialogues of a run, in the global order (file order, then key
/// order), each as its rendered turns.
#[derive(Debug, Default)]
pub struct Corpus {
    pub dialogues: Vec<Vec<Turn>>,
    pub messages_skipped: u64,
    pub rows_read: u64,
    pub dropped_missing: u64,
    pub dropped_duplicate: u64,
}

impl Corpus {
    /// Render a unit's grouped dialogues and append them.
    pub fn push(&mut self, g: Grouped, agent_value: &str) {
        let rendered = render(g.dialogues, agent_value);
        self.append(
            rendered,
            g.rows_read,
            g.dropped_missing,
            g.dropped_duplicate,
        );
    }

    /// Append dialogues rendered elsewhere (e.g. on a worker).
    pub fn append(
        &mut self,
        r: Rendered,
        rows_read: u64,
        dropped_missing: u64,
        dropped_duplicate: u64,
    ) {
        self.dialogues.extend(r.dialogues);
        self.messages_skipped += r.skipped;
        self.rows_read += rows_read;
        self.dropped_missing += dropped_missing;
        self.dropped_duplicate += dropped_duplicate;
    }
}

/// Rendered dialogues of one unit.
#[derive(Debug, Default)]
pub struct Rendered {
    pub dialogues: Vec<Vec<Turn>>,
    pub skipped: u64,
}

pub fn render(
    dialogues: Vec<Vec<(crate::value::Value, crate::value::Value)>>,
    agent_value: &str,
) -> Rendered {
    let mut r = Rendered::default();
    for msgs in dialogues {
        let (turns, skipped) = build_turns(&msgs, agent_value);
        r.skipped += skipped;
        r.dialogues.push(turns);
    }
    r
}

/// What `write_corpus` produced.
#[derive(Debug)]
pub struct Written {
    pub train: u64,
    pub val: u64,
    pub outputs: Vec<PathBuf>,
}

/// One output set (train or val): its std, mmi and optional jsonl files.
struct SetFiles {
    std: AtomicFile,
    mmi: AtomicFile,
    jsonl: Option<AtomicFile>,
}

/// Split the corpus and write `OUT/std`, `OUT/mmi` (and `OUT/jsonl`).
/// The split is validated before anything is created; every file is
/// written beside its final name and renamed only when all succeeded.
pub fn write_corpus(
    corpus: &Corpus,
    out: &Path,
    val_size: f64,
    seed: u32,
    jsonl: bool,
    quiet: bool,
) -> Result<Written> {
    let (train, val) = split::split(corpus.dialogues.len(), val_size, seed)?;
    let mut dirs = vec![out.join("std"), out.join("mmi")];
    if jsonl {
        dirs.push(out.join("jsonl"));
    }
    for d in &dirs {
        crate::cmd::extract::ensure_dir(d)?;
    }
    let set = |name: &str| SetFiles {
        std: AtomicFile::new(&out.join("std").join(format!("{name}.txt"))),
        mmi: AtomicFile::new(&out.join("mmi").join(format!("{name}.txt"))),
        jsonl: jsonl.then(|| AtomicFile::new(&out.join("jsonl").join(format!("{name}.jsonl")))),
    };
    let (train_files, val_files) = (set("train"), set("val"));
    let mut progress = Progress::new(corpus.dialogues.len() as u64, "dialogues", quiet);
    progress.set_prefix("write");
    write_set(corpus, &train, &train_files, &mut progress)?;
    write_set(corpus, &val, &val_files, &mut progress)?;
    progress.finish();
    let mut outputs = Vec::new();
    for f in [train_files, val_files] {
        for a in [Some(f.std), Some(f.mmi), f.jsonl].into_iter().flatten() {
            outputs.push(a.dest().to_path_buf());
            a.commit()?;
        }
    }
    Ok(Written {
        train: train.len() as u64,
        val: val.len() as u64,
        outputs,
    })
}

fn ioe(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(p, e)
}

fn write_set(
    corpus: &Corpus,
    order: &[u32],
    files: &SetFiles,
    progress: &mut Progress,
) -> Result<()> {
    let std_path = files.std.tmp_path();
    let mut std = BufWriter::with_capacity(1 << 20, File::create(std_path).map_err(ioe(std_path))?);
    let mut jsonl = match &files.jsonl {
        Some(a) => Some(BufWriter::with_capacity(
            1 << 20,
            File::create(a.tmp_path()).map_err(ioe(a.tmp_path()))?,
        )),
        None => None,
    };
    let mut mmi = reverse_writer::ReverseWriter::spawn(files.mmi.tmp_path(), 64)?;
    let mut buf = String::new();
    for (n, &i) in order.iter().enumerate() {
        if n % 1024 == 0 {
            interrupt::check()?;
        }
        let turns = &corpus.dialogues[i as usize];
        buf.clear();
        turns::forward_text(turns, &mut buf);
        std.write_all(buf.as_bytes()).map_err(ioe(std_path))?;
        let mut rev = String::with_capacity(buf.len());
        turns::reverse_text(turns, &mut rev);
        mmi.send(rev)?;
        if let (Some(w), Some(a)) = (jsonl.as_mut(), &files.jsonl) {
            w.write_all(jsonl_line(turns).as_bytes())
                .map_err(ioe(a.tmp_path()))?;
        }
        progress.inc(turns.len() as u64);
    }
    mmi.finish()?;
    let f = std
        .into_inner()
        .map_err(|e| Error::io(std_path, e.into_error()))?;
    f.sync_all().map_err(ioe(std_path))?;
    if let (Some(w), Some(a)) = (jsonl, &files.jsonl) {
        w.into_inner()
            .map_err(|e| Error::io(a.tmp_path(), e.into_error()))?;
    }
    Ok(())
}

/// `{"messages":[{"role":"user","content":"..."},...]}` + `\n`: the
/// customer is the user, the agent the assistant; contents are the txt
/// turns without their `坐席:` / `客户:` prefix.
pub fn jsonl_line(turns: &[Turn]) -> String {
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
        messages: turns
            .iter()
            .map(|t| Message {
                role: if t.agent { "assistant" } else { "user" },
                content: t.content(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string(&line).expect("strings always serialize");
    s.push('\n');
    s
}
