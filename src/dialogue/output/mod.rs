//! Corpus outputs: one trait, one file per format. A format opens one
//! [`CorpusOutput`] per set (train, val) and receives each dialogue of the
//! set in split order; [`write_corpus`] splits the corpus, feeds every
//! output and renames all files into place only when all succeeded.

mod jsonl;
mod mmi;
mod parquet;
mod sharegpt;
mod txt;

use std::path::{Path, PathBuf};

use super::{split, Corpus, Turn};
use crate::error::{Error, Result};
use crate::fs::{ensure_dir, AtomicFile};
use crate::interrupt;
use crate::progress::Progress;

pub use self::jsonl::jsonl_line;
pub use self::sharegpt::{dataset_info, sharegpt_line};

/// A corpus format of `--corpus-format` (txt is always written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpusFormat {
    /// `OUT/std/SET.txt` and, reversed, `OUT/mmi/SET.txt`: the reference's.
    Txt,
    /// `OUT/jsonl/SET.jsonl`: chat-format messages.
    Jsonl,
    /// `OUT/sharegpt/SET.jsonl` + `dataset_info.json`: LLaMA-Factory.
    ShareGpt,
    /// `OUT/parquet/SET.parquet`: a `messages` list column.
    Parquet,
}

impl CorpusFormat {
    /// The word `--corpus-format` takes for it.
    pub fn name(self) -> &'static str {
        match self {
            CorpusFormat::Txt => "txt",
            CorpusFormat::Jsonl => "jsonl",
            CorpusFormat::ShareGpt => "sharegpt",
            CorpusFormat::Parquet => "parquet",
        }
    }
}

/// One output file of one set being written. `Send`: the chat formats are
/// written on threads of their own (see `write_set`).
pub trait CorpusOutput: Send {
    /// Write one dialogue.
    fn dialogue(&mut self, turns: &[Turn]) -> Result<()>;
    /// Complete the file at its temporary path (flushed, threads joined).
    fn finish(self: Box<Self>) -> Result<()>;
}

/// The sets in the order they are written.
const SETS: [&str; 2] = ["train", "val"];

/// The (directory, extension) of each file `format` writes per set.
fn layout(format: CorpusFormat) -> &'static [(&'static str, &'static str)] {
    match format {
        CorpusFormat::Txt => &[("std", "txt"), ("mmi", "txt")],
        CorpusFormat::Jsonl => &[("jsonl", "jsonl")],
        CorpusFormat::ShareGpt => &[("sharegpt", "jsonl")],
        CorpusFormat::Parquet => &[("parquet", "parquet")],
    }
}

/// Every file [`write_corpus`] writes under `out`, in its order (what a
/// dry run prints).
pub fn corpus_paths(out: &Path, formats: &[CorpusFormat]) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for set in SETS {
        for &f in formats {
            for (dir, ext) in layout(f) {
                v.push(out.join(dir).join(format!("{set}.{ext}")));
            }
        }
    }
    // LLaMA-Factory's description of both sets, written after them.
    if formats.contains(&CorpusFormat::ShareGpt) {
        v.push(out.join("sharegpt").join("dataset_info.json"));
    }
    v
}

/// The files of `format` for the set `set` (`train`, `val`) under `out`:
/// each with its atomic guard, the output writing into its open temporary
/// (never reopened by name).
fn open(
    format: CorpusFormat,
    out: &Path,
    set: &str,
    jobs: usize,
    system: Option<&str>,
) -> Result<Vec<(AtomicFile, Box<dyn CorpusOutput>)>> {
    let file = |dir: &str, ext: &str| -> Result<AtomicFile> {
        let d = out.join(dir);
        ensure_dir(&d)?;
        AtomicFile::new(&d.join(format!("{set}.{ext}")))
    };
    let names = layout(format);
    Ok(match format {
        CorpusFormat::Txt => {
            let std = file(names[0].0, names[0].1)?;
            let mmi = file(names[1].0, names[1].1)?;
            let std_out = txt::Forward::create(std.try_clone()?, std.tmp_path());
            let mmi_out = mmi::Reversed::spawn(mmi.try_clone()?, mmi.tmp_path(), jobs)?;
            vec![
                (std, Box::new(std_out) as Box<dyn CorpusOutput>),
                (mmi, Box::new(mmi_out)),
            ]
        }
        CorpusFormat::Jsonl => {
            let f = file(names[0].0, names[0].1)?;
            let o = jsonl::Jsonl::create(f.try_clone()?, f.tmp_path(), system);
            vec![(f, Box::new(o) as Box<dyn CorpusOutput>)]
        }
        CorpusFormat::ShareGpt => {
            let f = file(names[0].0, names[0].1)?;
            let o = sharegpt::ShareGpt::create(f.try_clone()?, f.tmp_path(), system);
            vec![(f, Box::new(o) as Box<dyn CorpusOutput>)]
        }
        CorpusFormat::Parquet => {
            let f = file(names[0].0, names[0].1)?;
            let o = parquet::Parquet::create(f.try_clone()?, f.tmp_path(), system)?;
            vec![(f, Box::new(o) as Box<dyn CorpusOutput>)]
        }
    })
}

/// What `write_corpus` produced.
#[derive(Debug)]
pub struct Written {
    pub train: u64,
    pub val: u64,
    pub outputs: Vec<PathBuf>,
}

/// What [`write_corpus`] writes: the split and the formats.
pub struct CorpusSpec<'a> {
    /// `--val-size`: a count, or a fraction below 1.
    pub val_size: f64,
    pub seed: u32,
    pub formats: &'a [CorpusFormat],
    /// The chat formats' system prompt.
    pub system: Option<&'a str>,
}

/// Split the corpus and write every format's files for train and val.
/// The split is validated before anything is created; every file is
/// written beside its final name and renamed only when all succeeded.
pub fn write_corpus(
    corpus: &Corpus,
    out: &Path,
    spec: &CorpusSpec<'_>,
    jobs: usize,
    quiet: bool,
) -> Result<Written> {
    let CorpusSpec {
        val_size,
        seed,
        formats,
        system,
    } = *spec;
    let (train, val) = split::split(corpus.len(), val_size, seed)?;
    let mut progress = Progress::new(corpus.len() as u64, "dialogues", quiet);
    progress.set_prefix("write");
    let mut files = Vec::new();
    for (set, order) in SETS.into_iter().zip([&train, &val]) {
        let mut outputs = Vec::new();
        for &f in formats {
            outputs.extend(open(f, out, set, jobs, system)?);
        }
        write_set(corpus, order, &mut outputs, &mut progress)?;
        for (file, output) in outputs {
            output.finish()?;
            files.push(file);
        }
    }
    progress.finish();
    if formats.contains(&CorpusFormat::ShareGpt) {
        let f = AtomicFile::new(&out.join("sharegpt").join("dataset_info.json"))?;
        f.write_all(dataset_info(system.is_some()).as_bytes())?;
        files.push(f);
    }
    let mut outputs = Vec::new();
    for f in files {
        outputs.push(f.dest().to_path_buf());
        f.commit()?;
    }
    Ok(Written {
        train: train.len() as u64,
        val: val.len() as u64,
        outputs,
    })
}

fn write_set(
    corpus: &Corpus,
    order: &[u32],
    outputs: &mut [(AtomicFile, Box<dyn CorpusOutput>)],
    progress: &mut Progress,
) -> Result<()> {
    // The txt corpora (first, always) on this thread with the progress bar;
    // each further format on a thread of its own, reading the dialogues
    // itself (positioned reads of a spilled or stored corpus are safe to
    // share), so `--format jsonl,sharegpt,parquet` costs the longest of
    // them rather than their sum. Each output still gets every dialogue in
    // split order: the bytes are those of one thread.
    let main = outputs.len().min(2);
    let (txt, rest) = outputs.split_at_mut(main);
    std::thread::scope(|s| -> Result<()> {
        let threads: Vec<_> = rest
            .iter_mut()
            .map(|(_, o)| {
                std::thread::Builder::new()
                    .name("sheetsift-format".into())
                    .spawn_scoped(s, move || feed(corpus, order, &mut [o], None))
                    .map_err(Error::thread("a corpus format writer"))
            })
            .collect();
        let mut txt: Vec<&mut Box<dyn CorpusOutput>> = txt.iter_mut().map(|(_, o)| o).collect();
        let mut outcome = feed(corpus, order, &mut txt, Some(progress));
        for t in threads {
            let r = match t {
                Ok(h) => h.join().unwrap_or_else(|p| {
                    Err(Error::Panicked {
                        what: "writing a corpus format",
                        msg: crate::pool::panic_message(p),
                    })
                }),
                Err(e) => Err(e),
            };
            if let (Ok(()), Err(e)) = (&outcome, r) {
                outcome = Err(e);
            }
        }
        outcome
    })
}

/// Write every dialogue of `order` to `outputs`.
fn feed(
    corpus: &Corpus,
    order: &[u32],
    outputs: &mut [&mut Box<dyn CorpusOutput>],
    mut progress: Option<&mut Progress>,
) -> Result<()> {
    let mut rec = Vec::new();
    for (n, &i) in order.iter().enumerate() {
        if n % 1024 == 0 {
            interrupt::check()?;
        }
        let turns = corpus.with_dialogue(i as usize, &mut rec, |turns| -> Result<usize> {
            for o in outputs.iter_mut() {
                o.dialogue(turns)?;
            }
            Ok(turns.len())
        })??;
        if let Some(p) = progress.as_deref_mut() {
            p.inc(turns as u64);
        }
    }
    Ok(())
}
