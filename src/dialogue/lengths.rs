//! The dialogue-length (turns per dialogue) and turn-length (characters
//! per turn) distributions of a corpus, for the report and its HTML page.
//!
//! Counted where the turns are built ([`super::render`]), on fixed
//! log-2 buckets: a fixed array of counters per unit, merged by adding,
//! so the cost is one `chars().count()` per turn and no allocation, and
//! the result does not depend on the order units finish in. Log buckets
//! because both lengths are long-tailed (most turns are a few dozen
//! characters, a pasted log can be megabytes): equal-width buckets would
//! put nearly everything in the first bar.

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// Bucket 0 holds 0; bucket k >= 1 holds 2^(k-1) ..= 2^k - 1. 65 buckets
/// cover every u64.
const BUCKETS: usize = 65;

/// Counts of values on the log-2 buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    counts: [u64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: [0; BUCKETS],
        }
    }
}

/// One bucket as reported: values `min ..= max` were seen `count` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Bucket {
    pub min: u64,
    pub max: u64,
    pub count: u64,
}

impl Histogram {
    pub fn add(&mut self, value: u64) {
        let k = (u64::BITS - value.leading_zeros()) as usize;
        self.counts[k] += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The buckets from the first to the last that holds a value (the
    /// empty ones between included, so a chart's axis has no gaps);
    /// nothing when nothing was counted.
    pub fn buckets(&self) -> Vec<Bucket> {
        let Some(first) = self.counts.iter().position(|&c| c > 0) else {
            return Vec::new();
        };
        let last = self
            .counts
            .iter()
            .rposition(|&c| c > 0)
            .expect("one is > 0");
        (first..=last)
            .map(|k| {
                let (min, max) = match k {
                    0 => (0, 0),
                    64 => (1 << 63, u64::MAX),
                    k => (1 << (k - 1), (1 << k) - 1),
                };
                Bucket {
                    min,
                    max,
                    count: self.counts[k],
                }
            })
            .collect()
    }
}

/// As the list of [`Bucket`]s.
impl Serialize for Histogram {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.buckets();
        let mut seq = s.serialize_seq(Some(b.len()))?;
        for x in &b {
            seq.serialize_element(x)?;
        }
        seq.end()
    }
}

/// Both distributions of a set of dialogues.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Lengths {
    /// Turns per dialogue (a dialogue whose messages all cleaned to
    /// nothing has 0).
    pub turns_per_dialogue: Histogram,
    /// Characters per turn, the `坐席:` / `客户:` prefix not counted.
    pub chars_per_turn: Histogram,
}

impl Lengths {
    /// Count one dialogue's turns.
    pub fn add_dialogue(&mut self, turns: &[super::Turn]) {
        self.turns_per_dialogue.add(turns.len() as u64);
        for t in turns {
            self.chars_per_turn.add(t.content().chars().count() as u64);
        }
    }

    pub fn merge(&mut self, other: &Lengths) {
        self.turns_per_dialogue.merge(&other.turns_per_dialogue);
        self.chars_per_turn.merge(&other.chars_per_turn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_buckets_hold_their_bounds() {
        let mut h = Histogram::default();
        for v in [0, 1, 2, 3, 4, 7, 8, 1000, u64::MAX] {
            h.add(v);
        }
        let b = h.buckets();
        assert_eq!(
            b[0],
            Bucket {
                min: 0,
                max: 0,
                count: 1
            }
        );
        assert_eq!(
            b[1],
            Bucket {
                min: 1,
                max: 1,
                count: 1
            }
        );
        assert_eq!(
            b[2],
            Bucket {
                min: 2,
                max: 3,
                count: 2
            }
        );
        assert_eq!(
            b[3],
            Bucket {
                min: 4,
                max: 7,
                count: 2
            }
        );
        assert_eq!(
            b[4],
            Bucket {
                min: 8,
                max: 15,
                count: 1
            }
        );
        assert_eq!(
            b[10],
            Bucket {
                min: 512,
                max: 1023,
                count: 1
            }
        );
        assert_eq!(
            *b.last().unwrap(),
            Bucket {
                min: 1 << 63,
                max: u64::MAX,
                count: 1
            }
        );
        assert_eq!(h.total(), 9);
        assert!(Histogram::default().buckets().is_empty());
    }

    #[test]
    fn leading_and_trailing_empty_buckets_are_left_out() {
        let mut h = Histogram::default();
        h.add(5);
        h.add(40);
        let b = h.buckets();
        assert_eq!(b.first().unwrap().min, 4);
        assert_eq!(b.last().unwrap().max, 63);
        assert_eq!(b.len(), 4);
        assert_eq!(
            serde_json::to_string(&h)
                .unwrap()
                .matches("\"count\":0")
                .count(),
            2
        );
    }
}
