//! Stage 2: dialogues. [`group`] turns a table into dialogues, [`turns`]
//! renders them, [`split`] reproduces sklearn's train/val split, and
//! [`write_corpus`] writes the forward corpus itself while the
//! [`reverse_writer`] thread writes the reversed one.

pub mod emoji;
pub mod group;
pub mod reverse_writer;
pub mod scrub;
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
///
/// Dialogues stay in memory up to a byte budget (`--memory-limit`); past
/// it they are appended to an anonymous spill file and only their offsets
/// are kept, so a corpus far larger than RAM costs 8 bytes a dialogue. The
/// spilled dialogues are always a prefix of the global order, and the
/// writer fetches each one in permutation order with a positioned read:
/// the bytes written are the same either way.
pub struct Corpus {
    mem: Vec<Vec<Turn>>,
    mem_bytes: usize,
    budget: usize,
    spill_dir: PathBuf,
    spill: Option<Spill>,
    pub messages_skipped: u64,
    pub rows_read: u64,
    pub dropped_missing: u64,
    pub dropped_duplicate: u64,
}

struct Spill {
    w: BufWriter<File>,
    /// Start of each spilled dialogue's record, plus the end of the last.
    offsets: Vec<u64>,
}

impl Corpus {
    /// An empty corpus keeping at most `budget` bytes of dialogues in
    /// memory, spilling into `spill_dir` beyond.
    pub fn new(spill_dir: &Path, budget: usize) -> Corpus {
        Corpus {
            mem: Vec::new(),
            mem_bytes: 0,
            budget,
            spill_dir: spill_dir.to_path_buf(),
            spill: None,
            messages_skipped: 0,
            rows_read: 0,
            dropped_missing: 0,
            dropped_duplicate: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.spilled() + self.mem.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn spilled(&self) -> usize {
        self.spill.as_ref().map_or(0, |s| s.offsets.len() - 1)
    }

    /// Whether any dialogue went to the spill file.
    pub fn has_spilled(&self) -> bool {
        self.spilled() > 0
    }

    /// Render a unit's grouped dialogues and append them.
    pub fn push(&mut self, g: Grouped, agent_value: &str) -> Result<()> {
        let rendered = render(g.dialogues, agent_value);
        self.append(
            rendered,
            g.rows_read,
            g.dropped_missing,
            g.dropped_duplicate,
        )
    }

    /// Append dialogues rendered elsewhere (e.g. on a worker).
    pub fn append(
        &mut self,
        r: Rendered,
        rows_read: u64,
        dropped_missing: u64,
        dropped_duplicate: u64,
    ) -> Result<()> {
        self.messages_skipped += r.skipped;
        self.rows_read += rows_read;
        self.dropped_missing += dropped_missing;
        self.dropped_duplicate += dropped_duplicate;
        for d in r.dialogues {
            self.mem_bytes += 24 + d.iter().map(|t| t.text.len() + 32).sum::<usize>();
            self.mem.push(d);
        }
        if self.mem_bytes > self.budget {
            self.spill_mem()?;
        }
        Ok(())
    }

    fn spill_mem(&mut self) -> Result<()> {
        if self.spill.is_none() {
            let f = tempfile::tempfile_in(&self.spill_dir)
                .map_err(|e| Error::io(&self.spill_dir, e))?;
            self.spill = Some(Spill {
                w: BufWriter::with_capacity(1 << 20, f),
                offsets: vec![0],
            });
        }
        let s = self.spill.as_mut().expect("just created");
        let mut end = *s.offsets.last().expect("starts with 0");
        let mut rec = Vec::new();
        for d in self.mem.drain(..) {
            rec.clear();
            encode_dialogue(&d, &mut rec);
            s.w.write_all(&rec)
                .map_err(|e| Error::io(&self.spill_dir, e))?;
            end += rec.len() as u64;
            s.offsets.push(end);
        }
        s.w.flush().map_err(|e| Error::io(&self.spill_dir, e))?;
        self.mem_bytes = 0;
        Ok(())
    }

    /// Call `f` with dialogue `i`'s turns.
    fn with_dialogue<T>(
        &self,
        i: usize,
        buf: &mut Vec<u8>,
        f: impl FnOnce(&[Turn]) -> T,
    ) -> Result<T> {
        let spilled = self.spilled();
        if i >= spilled {
            return Ok(f(&self.mem[i - spilled]));
        }
        use std::os::unix::fs::FileExt;
        let s = self.spill.as_ref().expect("i < spilled");
        let (a, b) = (s.offsets[i], s.offsets[i + 1]);
        buf.resize((b - a) as usize, 0);
        s.w.get_ref()
            .read_exact_at(buf, a)
            .map_err(|e| Error::io(&self.spill_dir, e))?;
        let turns = decode_dialogue(buf)
            .ok_or_else(|| Error::Other("corrupt dialogue spill file".into()))?;
        Ok(f(&turns))
    }
}

fn encode_dialogue(turns: &[Turn], out: &mut Vec<u8>) {
    out.extend_from_slice(&(turns.len() as u32).to_le_bytes());
    for t in turns {
        out.push(t.agent as u8);
        out.extend_from_slice(&(t.text.len() as u32).to_le_bytes());
        out.extend_from_slice(t.text.as_bytes());
    }
}

fn decode_dialogue(mut b: &[u8]) -> Option<Vec<Turn>> {
    let mut take = |n: usize| -> Option<&[u8]> {
        let (h, t) = (b.get(..n)?, b.get(n..)?);
        b = t;
        Some(h)
    };
    let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let mut turns = Vec::with_capacity(n);
    for _ in 0..n {
        let agent = take(1)?[0] != 0;
        let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        let text = String::from_utf8(take(len)?.to_vec()).ok()?;
        turns.push(Turn { agent, text });
    }
    Some(turns)
}

/// Rendered dialogues of one unit.
#[derive(Debug, Default)]
pub struct Rendered {
    pub dialogues: Vec<Vec<Turn>>,
    pub skipped: u64,
}

/// Turn each dialogue into its turns. Dialogues are independent, so this
/// runs on the current rayon pool: when one large file is the only work
/// left, the idle workers help (order is kept by `collect`).
pub fn render(
    dialogues: Vec<Vec<(crate::value::Value, crate::value::Value)>>,
    agent_value: &str,
) -> Rendered {
    use rayon::prelude::*;
    let built: Vec<(Vec<Turn>, u64)> = dialogues
        .par_iter()
        .with_min_len(64)
        .map(|msgs| build_turns(msgs, agent_value))
        .collect();
    let mut r = Rendered {
        dialogues: Vec::with_capacity(built.len()),
        skipped: 0,
    };
    for (turns, skipped) in built {
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
    let (train, val) = split::split(corpus.len(), val_size, seed)?;
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
    let mut progress = Progress::new(corpus.len() as u64, "dialogues", quiet);
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
    let mut rec = Vec::new();
    for (n, &i) in order.iter().enumerate() {
        if n % 1024 == 0 {
            interrupt::check()?;
        }
        buf.clear();
        let (rev, line, turn_count) = corpus.with_dialogue(i as usize, &mut rec, |turns| {
            turns::forward_text(turns, &mut buf);
            let mut rev = String::with_capacity(buf.len());
            turns::reverse_text(turns, &mut rev);
            let line = files.jsonl.as_ref().map(|_| jsonl_line(turns));
            (rev, line, turns.len())
        })?;
        std.write_all(buf.as_bytes()).map_err(ioe(std_path))?;
        mmi.send(rev)?;
        if let (Some(w), Some(a), Some(line)) = (jsonl.as_mut(), &files.jsonl, line) {
            w.write_all(line.as_bytes()).map_err(ioe(a.tmp_path()))?;
        }
        progress.inc(turn_count as u64);
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
