//! Fine-tuning shaping of a finished corpus (all opt-in): PII scrubbing,
//! `\r` stripping, chat shaping, whole-dialogue de-duplication and the
//! corpus statistics.
//!
//! It runs on the whole corpus in the global order, right before the
//! train/val split, so that `dialogues --shard K/N` + `merge` gives the
//! same bytes as one `dialogues`: the shards write unshaped dialogues and
//! the merge shapes them (de-duplication and statistics need every
//! dialogue anyway). Session splitting (`--session-gap`) is the exception:
//! it needs the rows' send times, so it happens while grouping
//! ([`super::group::Session`]).
//!
//! Per dialogue, in this order:
//! 1. `--scrub`: each turn's content (after the reference's cleaning, so a
//!    number broken by a removed `\n` is found whole) has its personal data
//!    replaced by placeholders; counted per kind.
//! 2. `--strip-cr`: every `\r` removed from the turns (the reference keeps
//!    a `\r` that ends a message, which breaks loaders splitting on
//!    `\r\n\r\n`).
//! 3. `--start-with user`: leading agent turns are **dropped**, not folded
//!    into the system prompt. Why: they are the agent's canned greeting
//!    (`您好，请问有什么可以帮您`), worth nothing as system context, and a
//!    per-dialogue system prompt would make `--system-prompt` ambiguous.
//!    A dialogue with no customer turn at all is dropped (`no_user_turn`).
//!    `--end-with assistant`: trailing customer turns are dropped (a
//!    question without its answer teaches nothing, and LLaMA-Factory's
//!    sharegpt converter discards a conversation of odd length); one with
//!    no agent turn is dropped (`no_assistant`).
//! 4. `--max-turns N`: a longer dialogue is **split into windows** of at
//!    most N turns (not dropped: long conversations are the richest data).
//!    With `--start-with user` the window is N rounded down to even (at
//!    least 2), so that windows of an alternating dialogue all start with
//!    the customer; a window starting with the agent anyway loses its
//!    leading agent turns like a dialogue does.
//! 5. `--require-assistant`: a dialogue (window) without an agent turn is
//!    dropped (`no_assistant`); `--min-turns N`: one with fewer than N turns
//!    is dropped (`too_few_turns`).
//! 6. `--dedup-dialogues`: a dialogue equal, turn for turn, to an earlier
//!    one in the global order (after all of the above) is dropped
//!    (`duplicate`): canned exchanges would otherwise be learned many times.
//!
//! The train/val split then runs on what is left, with the same seed.

use std::path::Path;

use rustc_hash::FxHashSet;
use serde::Serialize;

use super::scrub::{ScrubConfig, ScrubCounts, Scrubber};
use super::{Corpus, Rendered, Turn};
use crate::error::{Error, Result};

/// The corpus options of `dialogues`, `merge` and `run`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorpusOptions {
    /// `--scrub` (None: no scrubbing).
    pub scrub: Option<ScrubConfig>,
    /// `--system-prompt`: a first `system` message in the chat formats
    /// (jsonl, sharegpt, parquet); the txt corpora have no place for it.
    pub system_prompt: Option<String>,
    /// `--start-with user`.
    pub start_with_user: bool,
    /// `--end-with assistant`.
    pub end_with_assistant: bool,
    pub require_assistant: bool,
    pub min_turns: Option<usize>,
    pub max_turns: Option<usize>,
    pub strip_cr: bool,
    pub dedup: bool,
    /// `--stats`: the statistics without any other option.
    pub stats: bool,
}

impl CorpusOptions {
    /// Whether the shaping pass runs (it also computes the statistics):
    /// any corpus option. Without one, nothing changes and no pass is made.
    pub fn shapes(&self) -> bool {
        self.scrub.is_some()
            || self.start_with_user
            || self.end_with_assistant
            || self.require_assistant
            || self.min_turns.is_some()
            || self.max_turns.is_some()
            || self.strip_cr
            || self.dedup
            || self.stats
            || self.system_prompt.is_some()
    }
}

/// The corpus statistics and every count of the shaping pass: one field of
/// the stage-2 report.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CorpusStats {
    /// Dialogues before shaping (after `--session-gap`).
    pub dialogues_in: u64,
    /// Dialogues written (train + val).
    pub dialogues: u64,
    /// Extra dialogues made by `--max-turns` windows.
    pub windows_added: u64,
    /// Dropped dialogues by reason: `no_user_turn`, `no_assistant`,
    /// `too_few_turns`, `duplicate`.
    pub dropped: Dropped,
    /// Leading agent turns removed by `--start-with user`.
    pub leading_agent_turns_dropped: u64,
    /// Trailing customer turns removed by `--end-with assistant`.
    pub trailing_user_turns_dropped: u64,
    /// `\r` removed by `--strip-cr`.
    pub carriage_returns_stripped: u64,
    pub turns_per_dialogue: Summary,
    pub chars_per_turn: Summary,
    /// Share of dialogues whose first turn is the customer's (0..1).
    pub share_starting_with_user: f64,
    /// Share of dialogues with at least one agent turn (0..1).
    pub share_with_assistant: f64,
    /// Placeholders inserted by `--scrub`, all kinds.
    pub placeholders: u64,
    /// Placeholders per kind (selected built-in kinds, then custom names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scrubbed: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Dropped {
    pub no_user_turn: u64,
    pub no_assistant: u64,
    pub too_few_turns: u64,
    pub duplicate: u64,
}

/// min, median, p95, max (nearest rank); all 0 for no values.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub min: u64,
    pub median: u64,
    pub p95: u64,
    pub max: u64,
}

impl Summary {
    /// Nearest-rank percentiles: the value at rank ceil(p * n).
    pub fn of(mut v: Vec<u32>) -> Summary {
        if v.is_empty() {
            return Summary::default();
        }
        v.sort_unstable();
        let rank = |p: f64| {
            let r = (p * v.len() as f64).ceil() as usize;
            v[r.clamp(1, v.len()) - 1] as u64
        };
        Summary {
            min: v[0] as u64,
            median: rank(0.5),
            p95: rank(0.95),
            max: v[v.len() - 1] as u64,
        }
    }
}

impl CorpusStats {
    /// Summary lines (no trailing newline).
    pub fn human(&self) -> String {
        let d = &self.dropped;
        let t = &self.turns_per_dialogue;
        let c = &self.chars_per_turn;
        let mut s = vec![
            format!(
                "corpus: {} dialogues ({} in, {} windows added); dropped: {} no user turn, {} no assistant, {} too few turns, {} duplicate",
                self.dialogues,
                self.dialogues_in,
                self.windows_added,
                d.no_user_turn,
                d.no_assistant,
                d.too_few_turns,
                d.duplicate
            ),
            format!(
                "corpus: turns/dialogue min {} median {} p95 {} max {}; chars/turn min {} median {} p95 {} max {}",
                t.min, t.median, t.p95, t.max, c.min, c.median, c.p95, c.max
            ),
            format!(
                "corpus: {:.1}% start with the customer, {:.1}% have an agent turn; {} placeholders inserted",
                100.0 * self.share_starting_with_user,
                100.0 * self.share_with_assistant,
                self.placeholders
            ),
        ];
        if !self.scrubbed.is_empty() {
            let kinds: Vec<String> = self
                .scrubbed
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            s.push(format!("scrubbed: {}", kinds.join(", ")));
        }
        s.join("\n")
    }
}

/// The compiled options.
pub struct Shaper {
    opts: CorpusOptions,
    scrubber: Option<Scrubber>,
}

/// One dialogue's shaping result.
#[derive(Default)]
struct Shaped {
    out: Vec<Vec<Turn>>,
    scrub: ScrubCounts,
    dropped: Dropped,
    windows_added: u64,
    leading: u64,
    trailing: u64,
    cr: u64,
}

impl Shaper {
    pub fn new(opts: &CorpusOptions) -> Result<Shaper> {
        let scrubber = match &opts.scrub {
            Some(c) => Some(Scrubber::new(c).map_err(|e| Error::Config(e.to_string()))?),
            None => None,
        };
        Ok(Shaper {
            opts: opts.clone(),
            scrubber,
        })
    }

    /// Steps 1-5 of the module doc on one dialogue.
    fn dialogue(&self, turns: &[Turn], r: &mut Shaped) {
        let o = &self.opts;
        let mut turns: Vec<Turn> = turns.to_vec();
        if let Some(s) = &self.scrubber {
            for t in &mut turns {
                let (new, counts) = s.scrub(t.content());
                if counts.total() > 0 {
                    t.text = format!("{}{}", &t.text[..7], new);
                    r.scrub.add(&counts);
                }
            }
        }
        if o.strip_cr {
            for t in &mut turns {
                let n = t.text.bytes().filter(|&b| b == b'\r').count();
                if n > 0 {
                    t.text.retain(|c| c != '\r');
                    r.cr += n as u64;
                }
            }
        }
        if o.start_with_user && !self.lead_user(&mut turns, r) {
            return;
        }
        let windows: Vec<Vec<Turn>> = match o.max_turns {
            Some(max) if turns.len() > max => {
                let size = if o.start_with_user {
                    (max & !1).max(2)
                } else {
                    max.max(1)
                };
                let w: Vec<Vec<Turn>> = turns.chunks(size).map(<[Turn]>::to_vec).collect();
                r.windows_added += w.len() as u64 - 1;
                w
            }
            _ => vec![turns],
        };
        let several = windows.len() > 1;
        for mut w in windows {
            if several && o.start_with_user && !self.lead_user(&mut w, r) {
                continue;
            }
            if o.end_with_assistant {
                let trail = w.iter().rev().take_while(|t| !t.agent).count();
                w.truncate(w.len() - trail);
                r.trailing += trail as u64;
                if w.is_empty() {
                    r.dropped.no_assistant += 1;
                    continue;
                }
            }
            if o.require_assistant && !w.iter().any(|t| t.agent) {
                r.dropped.no_assistant += 1;
                continue;
            }
            if o.min_turns.is_some_and(|m| w.len() < m) {
                r.dropped.too_few_turns += 1;
                continue;
            }
            r.out.push(w);
        }
    }

    /// Drop leading agent turns; false (and counted) when nothing is left.
    fn lead_user(&self, turns: &mut Vec<Turn>, r: &mut Shaped) -> bool {
        let lead = turns.iter().take_while(|t| t.agent).count();
        if lead > 0 {
            turns.drain(..lead);
            r.leading += lead as u64;
        }
        if turns.is_empty() {
            r.dropped.no_user_turn += 1;
            return false;
        }
        true
    }

    /// Shape a whole corpus into a new one (spilling into `spill_dir` past
    /// `budget` like any corpus), with its statistics.
    ///
    /// Dialogues are shaped in batches on the current rayon pool (order
    /// kept by `collect`); de-duplication and statistics run in order.
    pub fn corpus(
        &self,
        mut corpus: Corpus,
        spill_dir: &Path,
        budget: usize,
    ) -> Result<(Corpus, CorpusStats)> {
        use rayon::prelude::*;
        const BATCH: usize = 8192;
        // The whole budget: the input's in-memory dialogues are moved out
        // batch by batch and freed once shaped, so the two corpora together
        // hold about one corpus (the rest is on disk).
        let mut next = Corpus::new(spill_dir, budget);
        next.messages_skipped = corpus.messages_skipped;
        next.rows_read = corpus.rows_read;
        next.dropped_missing = corpus.dropped_missing;
        next.dropped_duplicate = corpus.dropped_duplicate;
        let mut stats = CorpusStats {
            dialogues_in: corpus.len() as u64,
            ..CorpusStats::default()
        };
        let mut scrub = ScrubCounts::default();
        let mut seen: FxHashSet<u128> = FxHashSet::default();
        let (mut turn_counts, mut chars) = (Vec::new(), Vec::new());
        let (mut user_first, mut with_agent) = (0u64, 0u64);
        let mut rec = Vec::new();
        let mut start = 0;
        while start < corpus.len() {
            crate::interrupt::check()?;
            let end = (start + BATCH).min(corpus.len());
            // Dialogues held in memory are moved, not copied (the input
            // corpus is consumed); stored or spilled ones are read back.
            let on_disk = corpus.stored_len() + corpus.spilled();
            let mut batch = Vec::with_capacity(end - start);
            for i in start..end {
                if i >= on_disk {
                    batch.push(std::mem::take(&mut corpus.mem[i - on_disk]));
                } else {
                    batch.push(corpus.with_dialogue(i, &mut rec, <[Turn]>::to_vec)?);
                }
            }
            let shaped: Vec<Shaped> = batch
                .par_iter()
                .with_min_len(256)
                .map(|d| {
                    let mut r = Shaped::default();
                    self.dialogue(d, &mut r);
                    r
                })
                .collect();
            let mut keep = Vec::new();
            for r in shaped {
                scrub.add(&r.scrub);
                stats.windows_added += r.windows_added;
                stats.leading_agent_turns_dropped += r.leading;
                stats.trailing_user_turns_dropped += r.trailing;
                stats.carriage_returns_stripped += r.cr;
                let d = &mut stats.dropped;
                d.no_user_turn += r.dropped.no_user_turn;
                d.no_assistant += r.dropped.no_assistant;
                d.too_few_turns += r.dropped.too_few_turns;
                for w in r.out {
                    if self.opts.dedup && !seen.insert(fingerprint(&w, &mut rec)) {
                        stats.dropped.duplicate += 1;
                        continue;
                    }
                    turn_counts.push(w.len() as u32);
                    chars.extend(w.iter().map(|t| t.content().chars().count() as u32));
                    user_first += w.first().is_some_and(|t| !t.agent) as u64;
                    with_agent += w.iter().any(|t| t.agent) as u64;
                    keep.push(w);
                }
            }
            // The distributions of what is written: the shaped dialogues.
            let mut lengths = super::Lengths::default();
            for d in &keep {
                lengths.add_dialogue(d);
            }
            next.append(
                Rendered {
                    dialogues: keep,
                    skipped: 0,
                    lengths,
                },
                0,
                0,
                0,
            )?;
            start = end;
        }
        let n = next.len() as u64;
        stats.dialogues = n;
        let share = |k: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
        stats.share_starting_with_user = share(user_first);
        stats.share_with_assistant = share(with_agent);
        stats.turns_per_dialogue = Summary::of(turn_counts);
        stats.chars_per_turn = Summary::of(chars);
        stats.placeholders = scrub.total();
        if let Some(s) = &self.scrubber {
            stats.scrubbed = s.named_counts(&scrub);
        }
        Ok((next, stats))
    }
}

/// A 128-bit hash of a dialogue's record (two independent 64-bit hashes):
/// at 10^9 dialogues the chance of one false duplicate is about 10^-21,
/// and the set costs 16 bytes a dialogue instead of its text.
fn fingerprint(turns: &[Turn], buf: &mut Vec<u8>) -> u128 {
    use std::hash::{BuildHasher, Hasher};
    buf.clear();
    super::encode_dialogue(turns, buf);
    let h = |seed: u64| {
        let mut h = rustc_hash::FxBuildHasher.build_hasher();
        h.write_u64(seed);
        h.write(buf);
        h.finish()
    };
    let a = h(0x9e37_79b9_7f4a_7c15);
    let mut s = std::collections::hash_map::DefaultHasher::new();
    s.write(buf);
    ((a as u128) << 64) | s.finish() as u128
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(agent: bool, s: &str) -> Turn {
        Turn {
            agent,
            text: format!("{}{s}", if agent { "坐席:" } else { "客户:" }),
        }
    }

    fn shape(o: CorpusOptions, d: &[Turn]) -> (Vec<Vec<Turn>>, Dropped, u64) {
        let s = Shaper::new(&o).unwrap();
        let mut r = Shaped::default();
        s.dialogue(d, &mut r);
        (r.out, r.dropped, r.windows_added)
    }

    #[test]
    fn start_with_user_drops_leading_agent_turns() {
        let o = CorpusOptions {
            start_with_user: true,
            ..Default::default()
        };
        let (out, dropped, _) = shape(
            o.clone(),
            &[t(true, "您好"), t(false, "在吗"), t(true, "在")],
        );
        assert_eq!(out, vec![vec![t(false, "在吗"), t(true, "在")]]);
        assert_eq!(dropped, Dropped::default());
        let (out, dropped, _) = shape(o, &[t(true, "您好")]);
        assert!(out.is_empty());
        assert_eq!(dropped.no_user_turn, 1);
    }

    #[test]
    fn end_with_assistant_drops_trailing_customer_turns() {
        let o = CorpusOptions {
            end_with_assistant: true,
            ..Default::default()
        };
        let (out, _, _) = shape(o.clone(), &[t(false, "a"), t(true, "b"), t(false, "c")]);
        assert_eq!(out, vec![vec![t(false, "a"), t(true, "b")]]);
        let (out, d, _) = shape(o, &[t(false, "a")]);
        assert!(out.is_empty());
        assert_eq!(d.no_assistant, 1);
    }

    #[test]
    fn max_turns_windows_start_with_the_customer() {
        let d: Vec<Turn> = (0..7).map(|i| t(i % 2 == 1, &i.to_string())).collect();
        let o = CorpusOptions {
            start_with_user: true,
            max_turns: Some(3),
            ..Default::default()
        };
        let (out, _, added) = shape(o, &d);
        // Window size 2 (3 rounded down to even): 0-1, 2-3, 4-5, 6.
        assert_eq!(out.len(), 4);
        assert_eq!(added, 3);
        assert!(out.iter().all(|w| !w[0].agent && w.len() <= 3));
    }

    #[test]
    fn require_assistant_and_min_turns_count_their_drops() {
        let o = CorpusOptions {
            require_assistant: true,
            min_turns: Some(2),
            ..Default::default()
        };
        let (out, d, _) = shape(o.clone(), &[t(false, "a"), t(false, "b")]);
        assert!(out.is_empty());
        assert_eq!(d.no_assistant, 1);
        let (out, d, _) = shape(o, &[t(true, "a")]);
        assert!(out.is_empty());
        assert_eq!(d.too_few_turns, 1);
    }

    #[test]
    fn scrub_and_strip_cr_touch_the_content_only() {
        let o = CorpusOptions {
            scrub: Some(ScrubConfig {
                kinds: "phone".parse().unwrap(),
                custom: vec![],
            }),
            strip_cr: true,
            ..Default::default()
        };
        let (out, _, _) = shape(o, &[t(false, "电话13800138000\r")]);
        assert_eq!(out[0][0].text, "客户:电话<PHONE>");
    }

    #[test]
    fn nearest_rank_summary() {
        let s = Summary::of((1..=20).collect());
        assert_eq!((s.min, s.median, s.p95, s.max), (1, 10, 19, 20));
        assert_eq!(Summary::of(vec![]), Summary::default());
    }
}
