//! Emoji removal identical to Python `emoji.replace_emoji(s, '')` of emoji
//! 2.16.0 (workflow.py D14).
//!
//! This is a literal port of `emoji.tokenizer.tokenize` with
//! `keep_zwj=False`, because its quirks decide output bytes: the trie walk
//! is greedy and never backtracks (a walk that ends on a non-emoji node
//! matches nothing, so the first char stays as text); a ZWJ right after a
//! matched emoji is marked "ignored" and the cursor re-scans from the
//! emoji, so emoji+ZWJ+emoji chains vanish whole (RGI or not); U+FE0E and
//! U+FE0F never survive; and pending tokens are flushed only when a char
//! outside the trie arrives, which limits what the ZWJ rule can see.

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::OnceLock;

/// Every key of `EMOJI_DATA`, one sequence a line as hex code points.
const SEQUENCES: &str = include_str!("emoji-2.16.0-sequences.txt");

const ZWJ: char = '\u{200D}';

struct Trie {
    /// (node, char) -> child node. Node 0 is the root.
    edges: FxHashMap<(u32, char), u32>,
    /// Chars that start a sequence, as a bitmap over code points (every
    /// emoji starts below U+20000): the per-char test of the hot path.
    root: Vec<u64>,
    /// Chars without which no sequence can match (bitmap below U+20000;
    /// every char above counts): the one-char emoji and every char at a
    /// second or later place of a sequence. A string with none of them,
    /// nor U+FE0E/U+FE0F, comes out unchanged ([`unchanged`]).
    needed: Vec<u64>,
    /// UTF-8 lead bytes of the chars `needed` holds, of U+FE0E/U+FE0F, and
    /// every four-byte lead: a char with another lead needs no look-up.
    lead: [bool; 256],
    /// Whether the path to a node is an emoji (`'data' in sub_tree`).
    terminal: Vec<bool>,
    /// Sequences whose status is `component` (skin tones, hair styles).
    components: Vec<Vec<char>>,
    /// Every sequence, for `chars in EMOJI_DATA`.
    all: FxHashSet<Vec<char>>,
}

fn trie() -> &'static Trie {
    static TRIE: OnceLock<Trie> = OnceLock::new();
    TRIE.get_or_init(|| {
        let mut t = Trie {
            edges: FxHashMap::default(),
            root: vec![0; 0x20000 / 64],
            needed: vec![0; 0x20000 / 64],
            lead: [false; 256],
            terminal: vec![false],

            components: Vec::new(),
            all: Default::default(),
        };
        for line in SEQUENCES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let seq: Vec<char> = line
                .split_whitespace()
                .map(|h| {
                    char::from_u32(u32::from_str_radix(h, 16).expect("hex code point"))
                        .expect("valid char")
                })
                .collect();
            let mut node = 0u32;
            for &ch in &seq {
                let next = t.terminal.len() as u32;
                node = *t.edges.entry((node, ch)).or_insert_with(|| next);
                if node == next {
                    t.terminal.push(false);
                }
            }
            t.terminal[node as usize] = true;
            let from = if seq.len() == 1 { 0 } else { 1 };
            for &ch in &seq[from..] {
                let c = ch as usize;
                if c < 0x20000 {
                    t.needed[c / 64] |= 1 << (c % 64);
                }
            }
            let first = seq[0] as usize;
            assert!(first < 0x20000, "emoji data starts below U+20000");
            t.root[first / 64] |= 1 << (first % 64);
            if seq.len() == 1 && matches!(seq[0] as u32, 0x1F3FB..=0x1F3FF | 0x1F9B0..=0x1F9B3) {
                t.components.push(seq.clone());
            }
            t.all.insert(seq);
        }
        for c in (0x80..0x20000u32).filter_map(char::from_u32) {
            if t.may_change(c) {
                let mut buf = [0u8; 4];
                t.lead[usize::from(c.encode_utf8(&mut buf).as_bytes()[0])] = true;
            }
        }
        for lead in 0xF0..=0xFF {
            t.lead[lead] = true;
        }
        t
    })
}

impl Trie {
    fn child(&self, node: u32, ch: char) -> Option<u32> {
        self.edges.get(&(node, ch)).copied()
    }
    /// A char without which removal changes nothing (see [`unchanged`]).
    fn may_change(&self, ch: char) -> bool {
        let c = ch as usize;
        c >= 0x20000
            || self.needed[c / 64] & (1 << (c % 64)) != 0
            || ch == '\u{FE0E}'
            || ch == '\u{FE0F}'
    }

    fn in_root(&self, ch: char) -> bool {
        let c = ch as usize;
        c < 0x20000 && self.root[c / 64] & (1 << (c % 64)) != 0
    }
}

/// A token: `start..end` of the input, and whether it is an emoji match.
#[derive(Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    emoji: bool,
}

/// Whether `remove_emoji(s) == s` for certain, by one pass over the chars.
///
/// Nothing is removed unless a sequence matches (the ZWJ rule needs a
/// matched emoji before it) or a U+FE0E/U+FE0F is there. A match of one
/// char is a one-char emoji; a longer one holds its second char. Chat text
/// is mostly CJK, Latin letters and digits, none of which is either: a
/// digit starts a keycap sequence, but only a keycap's later chars would
/// let it match.
pub fn unchanged(s: &str) -> bool {
    scan(s, None)
}

/// [`unchanged`], and no `extra` byte (ASCII) either: one pass for both
/// of `clean`'s steps.
pub fn unchanged_without(s: &str, extra: u8) -> bool {
    scan(s, Some(extra))
}

/// The pass behind [`unchanged`]: by bytes, decoding only the chars whose
/// lead byte some char of [`Trie::may_change`] has. CJK text (lead bytes
/// E4-E9) is passed over three bytes at a time.
fn scan(s: &str, extra: Option<u8>) -> bool {
    let t = trie();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if Some(c) == extra || t.may_change(char::from(c)) {
                return false;
            }
            i += 1;
        } else if !t.lead[usize::from(c)] {
            // A valid str: a lead byte tells its char's length.
            i += match c {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
        } else {
            let ch = s[i..].chars().next().expect("a char starts here");
            if t.may_change(ch) {
                return false;
            }
            i += ch.len_utf8();
        }
    }
    true
}

/// `emoji.replace_emoji(s, '')`.
pub fn remove_emoji(s: &str) -> String {
    let t = trie();
    // Fast path: nothing that can start an emoji, nor a variation selector.
    if !s
        .chars()
        .any(|c| t.in_root(c) || c == '\u{FE0E}' || c == '\u{FE0F}')
    {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let mut out = String::with_capacity(s.len());
    let mut result: Vec<Token> = Vec::new();
    let mut ignore = vec![false; n];
    let flush = |result: &mut Vec<Token>, out: &mut String| {
        for tok in result.drain(..) {
            if !tok.emoji {
                out.extend(&chars[tok.start..tok.end]);
            }
        }
    };
    let mut i = 0usize;
    while i < n {
        let mut consumed = false;
        let ch = chars[i];
        if ignore[i] {
            i += 1;
            continue;
        } else if let Some(mut node) = t.child(0, ch) {
            let mut j = i + 1;
            while j < n {
                let Some(next) = t.child(node, chars[j]) else {
                    break;
                };
                if ignore[j] {
                    break;
                }
                node = next;
                j += 1;
            }
            if t.terminal[node as usize] {
                result.push(Token {
                    start: i,
                    end: j,
                    emoji: true,
                });
                i = j - 1;
                consumed = true;
            }
        } else if ch == ZWJ
            && result
                .last()
                .is_some_and(|last| t.all.contains(&chars[last.start..last.end]))
            && i > 0
            && t.in_root(chars[i - 1])
        {
            ignore[i] = true;
            let last = *result.last().expect("checked above");
            let last_chars = &chars[last.start..last.end];
            if t.components.iter().any(|c| c.as_slice() == last_chars) {
                // It could be ZWJ+EMOJI+COMPONENT or ZWJ+COMPONENT.
                let back: usize = result
                    .iter()
                    .rev()
                    .take(2)
                    .map(|tok| tok.end - tok.start)
                    .sum();
                i -= back;
                if chars[i] == ZWJ {
                    i += 1;
                    result.pop();
                } else {
                    let keep = result.len().saturating_sub(2);
                    result.truncate(keep);
                }
            } else {
                i -= last.end - last.start;
                result.pop();
            }
            continue;
        } else if !result.is_empty() {
            flush(&mut result, &mut out);
        }
        if !consumed && ch != '\u{FE0E}' && ch != '\u{FE0F}' {
            result.push(Token {
                start: i,
                end: i + 1,
                emoji: false,
            });
        }
        i += 1;
    }
    flush(&mut result, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_examples() {
        assert_eq!(remove_emoji("你好😀"), "你好");
        assert_eq!(remove_emoji("🇺😀🇸"), "🇺🇸");
        assert_eq!(remove_emoji("🇺🇸"), "");
        assert_eq!(remove_emoji("a\u{FE0F}b"), "ab");
        assert_eq!(remove_emoji("plain text"), "plain text");
        assert_eq!(trie().all.len(), 5244);
    }

    /// `unchanged` never claims a string that removal changes: every
    /// sequence, alone and inside text, and every char below U+20000
    /// alone and next to a keycap's start.
    #[test]
    fn unchanged_is_never_wrong() {
        let check = |s: &str| {
            if unchanged(s) {
                assert_eq!(
                    remove_emoji(s),
                    s,
                    "{s:?} {:x?}",
                    s.chars().map(|c| c as u32).collect::<Vec<_>>()
                );
            }
        };
        for seq in &trie().all {
            let e: String = seq.iter().collect();
            check(&e);
            check(&format!("好{e}的1"));
            assert!(!unchanged(&e), "{e:?} is an emoji");
        }
        for c in (0..0x20000u32).filter_map(char::from_u32) {
            check(&c.to_string());
            check(&format!("1{c}"));
            check(&format!("{c}\u{20E3}"));
        }
        assert!(unchanged("订单号3465464046，¥1018.89 #*"));
        assert!(!unchanged("好的\u{FE0F}"));
        assert!(!unchanged("你好😀"));
    }
}
