//! Stage 2's machinery: [`group`] turns a table into dialogues, [`turns`]
//! renders them, the [`Corpus`] holds them in the global order (spilling
//! past a budget), [`split`] reproduces sklearn's train/val split, and
//! [`output`] writes each corpus format behind one trait (the reversed
//! corpus through the [`reverse_writer`] thread).

pub mod emoji;
pub mod group;
pub mod lengths;
pub mod output;
pub mod reverse_writer;
pub mod scrub;
pub mod shape;
pub mod split;
pub mod turns;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use self::group::{group, Grouped};
pub use self::lengths::Lengths;
pub use self::output::{corpus_paths, write_corpus, CorpusFormat, CorpusSpec, Written};
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
///
/// A corpus can also start from [`Stored`] runs of records already on
/// disk ([`Corpus::over_stored`]): the merge of `dialogues --shard` parts
/// builds its corpus over the part files, so it reads them the way a
/// spilled corpus reads its spill file, in bounded memory.
pub struct Corpus {
    /// Read-only runs of records before everything else, in global order.
    stored: Vec<Stored>,
    /// Global index of each stored run's first dialogue, plus the total.
    stored_starts: Vec<usize>,
    mem: Vec<Vec<Turn>>,
    mem_bytes: usize,
    budget: usize,
    spill_dir: PathBuf,
    spill: Option<Spill>,
    pub messages_skipped: u64,
    pub rows_read: u64,
    pub dropped_missing: u64,
    pub dropped_duplicate: u64,
    /// The distributions of the dialogues appended (not of stored runs).
    pub lengths: Lengths,
}

struct Spill {
    w: BufWriter<File>,
    /// Start of each spilled dialogue's record, plus the end of the last.
    offsets: Vec<u64>,
}

/// Dialogue records (the spill file's encoding, [`encode_dialogue`]) in a
/// file written earlier: `offsets` holds the start of each record plus the
/// end of the last, so it is one longer than the number of dialogues.
pub struct Stored {
    pub file: File,
    /// Named in errors.
    pub path: PathBuf,
    pub offsets: Vec<u64>,
}

impl Corpus {
    /// An empty corpus keeping at most `budget` bytes of dialogues in
    /// memory, spilling into `spill_dir` beyond.
    pub fn new(spill_dir: &Path, budget: usize) -> Corpus {
        Corpus {
            stored: Vec::new(),
            stored_starts: vec![0],
            mem: Vec::new(),
            mem_bytes: 0,
            budget,
            spill_dir: spill_dir.to_path_buf(),
            spill: None,
            messages_skipped: 0,
            rows_read: 0,
            dropped_missing: 0,
            dropped_duplicate: 0,
            lengths: Lengths::default(),
        }
    }

    /// A corpus whose first dialogues are the records of `stored`, in
    /// that order; more may be appended (and spill into `spill_dir`).
    pub fn over_stored(spill_dir: &Path, budget: usize, stored: Vec<Stored>) -> Corpus {
        let mut c = Corpus::new(spill_dir, budget);
        for s in &stored {
            let end = c.stored_len() + s.offsets.len().saturating_sub(1);
            c.stored_starts.push(end);
        }
        c.stored = stored;
        c
    }

    fn stored_len(&self) -> usize {
        *self.stored_starts.last().expect("starts with 0")
    }

    pub fn len(&self) -> usize {
        self.stored_len() + self.spilled() + self.mem.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn spilled(&self) -> usize {
        self.spill.as_ref().map_or(0, |s| s.offsets.len() - 1)
    }

    /// Whether the corpus starts with records written earlier (the
    /// merge's parts), whose distributions [`Corpus::lengths`] lacks.
    pub fn has_stored(&self) -> bool {
        !self.stored.is_empty()
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
        self.lengths.merge(&r.lengths);
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
    pub(crate) fn with_dialogue<T>(
        &self,
        i: usize,
        buf: &mut Vec<u8>,
        f: impl FnOnce(&[Turn]) -> T,
    ) -> Result<T> {
        let stored = self.stored_len();
        if i < stored {
            // The run holding i: the last whose start is <= i.
            let r = self.stored_starts.partition_point(|&s| s <= i) - 1;
            let s = &self.stored[r];
            return read_record(&s.file, &s.path, &s.offsets, i - self.stored_starts[r], buf)
                .map(|t| f(&t));
        }
        let i = i - stored;
        let spilled = self.spilled();
        if i >= spilled {
            return Ok(f(&self.mem[i - spilled]));
        }
        let s = self.spill.as_ref().expect("i < spilled");
        read_record(s.w.get_ref(), &self.spill_dir, &s.offsets, i, buf).map(|t| f(&t))
    }
}

/// Record `i` of a file of records, by a positioned read.
fn read_record(
    file: &File,
    path: &Path,
    offsets: &[u64],
    i: usize,
    buf: &mut Vec<u8>,
) -> Result<Vec<Turn>> {
    use std::os::unix::fs::FileExt;
    let (a, b) = (offsets[i], offsets[i + 1]);
    buf.resize((b - a) as usize, 0);
    file.read_exact_at(buf, a).map_err(|e| Error::io(path, e))?;
    decode_dialogue(buf).ok_or(Error::Spill {
        path: path.to_path_buf(),
        record: i,
    })
}

/// One dialogue as a record: turn count (u32 LE), then per turn the
/// agent flag (1 byte), the text's length (u32 LE) and its UTF-8 bytes.
/// The spill file's and the stage-2 parts' encoding.
pub(crate) fn encode_dialogue(turns: &[Turn], out: &mut Vec<u8>) {
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
    /// Their dialogue-length and turn-length distributions.
    pub lengths: Lengths,
}

/// Turn each dialogue into its turns. Dialogues are independent, so this
/// runs on the current rayon pool: when one large file is the only work
/// left, the idle workers help (order is kept by `collect`).
pub fn render(
    dialogues: Vec<Vec<(crate::value::Value, crate::value::Value)>>,
    agent_value: &str,
) -> Rendered {
    use rayon::prelude::*;
    // Each dialogue's messages are freed by the thread that renders it:
    // freed at the end on one thread, they took a tenth of `dialogues`.
    let built: Vec<(Vec<Turn>, u64)> = dialogues
        .into_par_iter()
        .with_min_len(64)
        .map(|msgs| build_turns(&msgs, agent_value))
        .collect();
    let mut r = Rendered {
        dialogues: Vec::with_capacity(built.len()),
        skipped: 0,
        lengths: Lengths::default(),
    };
    for (turns, skipped) in built {
        r.skipped += skipped;
        r.lengths.add_dialogue(&turns);
        r.dialogues.push(turns);
    }
    r
}
