//! The stage-1 row filter: a row is dropped when its content is missing
//! (`missing`) or contains a system-message phrase (`system`).
//!
//! Phrases match as substrings (the reference's `info in value`) or, with
//! `[filter] match = "exact"`, the whole content. Non-text content (numbers,
//! dates) never matches a phrase.

use aho_corasick::AhoCorasick;

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
    matcher: Option<AhoCorasick>,
    mode: MatchMode,
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
            MatchMode::Substring if !phrases.is_empty() => {
                Some(AhoCorasick::new(&phrases).expect("a handful of phrases always builds"))
            }
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
                    MatchMode::Substring => self
                        .matcher
                        .as_ref()
                        .is_some_and(|m| m.is_match(s.as_ref())),
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
}
