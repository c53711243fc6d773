//! The stage-1 row filter: a row is dropped when its content is missing
//! (`missing`) or contains a system-message phrase (`system`).
//!
//! Phrases match as substrings (the reference's `info in value`) or, with
//! `[filter] match = "exact"`, the whole content. Non-text content (numbers,
//! dates) never matches a phrase.

use aho_corasick::{packed, AhoCorasick};

use crate::value::Value;

/// The reference's `sysInfo_list`, ASCII commas exactly as given.
pub const DEFAULT_SYSTEM_MESSAGES: [&str; 5] = [
    "我通过了好友请求,现在你俩可以开始聊天了",
    "我通过了你的朋友验证请求,现在我们可以开始聊天了",
    "已通过你的朋友验证请求,现在可以开始聊天了",
    "不支持此消息,请在手机上查看",
    "微信红包",
];

/// How phrases are matched against content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    #[default]
    Substring,
    Exact,
}

/// Why a row was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    Missing,
    System,
}

/// Rows dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DropCounts {
    pub missing: u64,
    pub system: u64,
}

impl DropCounts {
    pub fn add(&mut self, r: DropReason) {
        match r {
            DropReason::Missing => self.missing += 1,
            DropReason::System => self.system += 1,
        }
    }
    pub fn merge(&mut self, o: &DropCounts) {
        self.missing += o.missing;
        self.system += o.system;
    }
}

/// The compiled filter.
#[derive(Debug, Clone)]
pub struct RowFilter {
    phrases: Vec<String>,
    matcher: Option<Matcher>,
    mode: MatchMode,
}

/// How substring phrases are searched for.
#[derive(Debug, Clone)]
enum Matcher {
    /// A few phrases (up to 64): aho-corasick's SIMD searcher (Teddy, and
    /// Rabin-Karp on text too short for it). The automaton's own
    /// prefilter looks for rare bytes, and in Chinese text every byte of
    /// a phrase is common, so it restarted on nearly every message: half
    /// of the filter's time.
    Packed(packed::Searcher),
    /// Any number of phrases.
    Automaton(AhoCorasick),
}

impl Matcher {
    fn new(phrases: &[String]) -> Matcher {
        match packed::Config::new().builder().extend(phrases).build() {
            Some(p) => Matcher::Packed(p),
            None => Matcher::Automaton(
                AhoCorasick::new(phrases).expect("phrases from a config always build"),
            ),
        }
    }

    fn is_match(&self, s: &str) -> bool {
        match self {
            Matcher::Packed(p) => p.find(s.as_bytes()).is_some(),
            Matcher::Automaton(a) => a.is_match(s),
        }
    }
}

impl RowFilter {
    /// How phrases are matched (for the report's options).
    pub fn match_mode(&self) -> MatchMode {
        self.mode
    }

    /// The system-message phrases in use (for the report's options).
    pub fn phrase_count(&self) -> usize {
        self.phrases.len()
    }

    pub fn new(phrases: Vec<String>, mode: MatchMode) -> RowFilter {
        let phrases: Vec<String> = phrases.into_iter().filter(|p| !p.is_empty()).collect();
        let matcher = match mode {
            MatchMode::Substring if !phrases.is_empty() => Some(Matcher::new(&phrases)),
            _ => None,
        };
        RowFilter {
            phrases,
            matcher,
            mode,
        }
    }

    pub fn phrases(&self) -> &[String] {
        &self.phrases
    }

    pub fn mode(&self) -> MatchMode {
        self.mode
    }

    /// `Some(reason)` when the row with this content is dropped.
    pub fn check(&self, content: Option<&Value>) -> Option<DropReason> {
        match content {
            None | Some(Value::Empty) => Some(DropReason::Missing),
            Some(Value::Text(s)) => {
                let hit = match self.mode {
                    MatchMode::Substring => self.matcher.as_ref().is_some_and(|m| m.is_match(s)),
                    MatchMode::Exact => self.phrases.iter().any(|p| p.as_str() == s.as_ref()),
                };
                hit.then_some(DropReason::System)
            }
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_filter(mode: MatchMode) -> RowFilter {
        RowFilter::new(
            DEFAULT_SYSTEM_MESSAGES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            mode,
        )
    }

    #[test]
    fn substring_and_exact() {
        let f = default_filter(MatchMode::Substring);
        assert_eq!(
            f.check(Some(&Value::text("[微信红包]"))),
            Some(DropReason::System)
        );
        // The full-width comma variant is not a system message.
        assert_eq!(
            f.check(Some(&Value::text("不支持此消息，请在手机上查看"))),
            None
        );
        assert_eq!(f.check(Some(&Value::Empty)), Some(DropReason::Missing));
        assert_eq!(f.check(None), Some(DropReason::Missing));
        assert_eq!(f.check(Some(&Value::Int(5))), None);
        let e = default_filter(MatchMode::Exact);
        assert_eq!(e.check(Some(&Value::text("[微信红包]"))), None);
        assert_eq!(
            e.check(Some(&Value::text("微信红包"))),
            Some(DropReason::System)
        );
    }

    /// Both searchers find a phrase exactly when `str::contains` does:
    /// texts short (Rabin-Karp) and long (Teddy), phrases cut and glued,
    /// one phrase list small enough for the SIMD searcher, one too big.
    #[test]
    fn substring_search_is_contains() {
        let small = default_filter(MatchMode::Substring);
        assert!(matches!(small.matcher, Some(Matcher::Packed(_))));
        let many: Vec<String> = (0..100)
            .map(|i| format!("系统消息{i}号"))
            .chain(DEFAULT_SYSTEM_MESSAGES.iter().map(|s| s.to_string()))
            .collect();
        let big = RowFilter::new(many, MatchMode::Substring);
        assert!(matches!(big.matcher, Some(Matcher::Automaton(_))));
        let pieces: Vec<String> = DEFAULT_SYSTEM_MESSAGES
            .iter()
            .flat_map(|p| {
                let chars: Vec<char> = p.chars().collect();
                let half = chars.len() / 2;
                [
                    p.to_string(),
                    chars[..half].iter().collect(),
                    chars[half..].iter().collect(),
                ]
            })
            .chain(["好的", "a", "订单号123", "系统消息7号", "，", "_x", "微信"].map(String::from))
            .collect();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for _ in 0..20_000 {
            let parts = next(12);
            let text: String = (0..parts)
                .map(|_| pieces[next(pieces.len())].as_str())
                .collect();
            for f in [&small, &big] {
                let want = f.phrases().iter().any(|p| text.contains(p.as_str()));
                let got = f.check(Some(&Value::Text(text.clone().into())));
                assert_eq!(got == Some(DropReason::System), want, "{text:?}");
            }
        }
    }
}
