//! One dialogue's messages -> speaker turns, exactly as the reference's
//! `_save_funtine_body` builds them (pure functions, no I/O).
//!
//! Per message: text conversion (D10), every `\n` removed, emoji removed;
//! empty results skipped; then the same cleaning once more (the reference
//! cleans twice, and emoji removal is not idempotent); `;` appended when
//! the last char is not punctuation. Consecutive messages of one raw role
//! value are joined into one turn, prefixed `坐席:` for the agent value and
//! `客户:` otherwise, and each turn loses its last char.

use std::borrow::Cow;

use super::emoji::{remove_emoji, unchanged_without};
use crate::value::Value;

/// `string.punctuation` plus the CJK punctuation of workflow.py
/// `PUNCTUATIONS`.
pub fn is_punctuation(c: char) -> bool {
    // A match, not `str::contains`: that one runs a memchr a call.
    c.is_ascii_punctuation()
        || matches!(
            c,
            '，' | '。'
                | '！'
                | '？'
                | '；'
                | '：'
                | '、'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '（'
                | '）'
                | '【'
                | '】'
                | '《'
                | '》'
                | '〈'
                | '〉'
                | '「'
                | '」'
                | '『'
                | '』'
                | '〔'
                | '〕'
                | '…'
                | '—'
                | '～'
                | '·'
        )
}

/// One cleaning pass: `\n` removed, then emoji removed.
pub fn clean(s: &str) -> String {
    if s.contains('\n') {
        remove_emoji(&s.replace('\n', ""))
    } else {
        remove_emoji(s)
    }
}

/// A speaker turn as written: `坐席:...` / `客户:...` without its last char.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub agent: bool,
    pub text: String,
}

impl Turn {
    /// The text after the `坐席:` / `客户:` prefix.
    pub fn content(&self) -> &str {
        // Both prefixes are two CJK chars and a colon: 7 bytes.
        self.text.get(7..).unwrap_or("")
    }
}

/// The turns of one dialogue, and how many messages only the second
/// cleaning emptied (the reference crashes on those; they are skipped).
pub fn build_turns(messages: &[(Value, Value)], agent_value: &str) -> (Vec<Turn>, u64) {
    // First pass: keep messages whose cleaned text is not empty. Most
    // messages have no `\n` and nothing emoji removal could touch: both
    // cleanings would return them as they are, so they are borrowed.
    let mut kept: Vec<(&Value, Cow<'_, str>)> = Vec::with_capacity(messages.len());
    let mut skipped = 0;
    for (role, content) in messages {
        let text = match content {
            Value::Text(s) => Cow::Borrowed(&**s),
            v => Cow::Owned(v.to_text()),
        };
        if unchanged_without(&text, b'\n') {
            if !text.is_empty() {
                kept.push((role, text));
            }
            continue;
        }
        let once = clean(&text);
        if once.is_empty() {
            continue;
        }
        let twice = clean(&once);
        if twice.is_empty() {
            skipped += 1;
            continue;
        }
        kept.push((role, Cow::Owned(twice)));
    }
    let mut turns = Vec::new();
    let mut current = String::new();
    let mut current_agent = false;
    let mut previous: Option<&Value> = None;
    for (role, content) in kept {
        if previous.is_none_or(|p| !role.py_eq(p)) {
            if previous.is_some() {
                turns.push(finish_turn(std::mem::take(&mut current), current_agent));
            }
            let agent = role.as_str() == Some(agent_value);
            let prefix = if agent { "坐席:" } else { "客户:" };
            current.reserve(prefix.len() + content.len() + 1);
            current.push_str(prefix);
            current_agent = agent;
        }
        current.push_str(&content);
        if !content.chars().next_back().is_some_and(is_punctuation) {
            current.push(';');
        }
        previous = Some(role);
    }
    // The reference writes the last turn when `len(save_str) > 1`.
    if current.chars().nth(1).is_some() {
        turns.push(finish_turn(current, current_agent));
    }
    (turns, skipped)
}

/// `save_str[0:-1]`: the turn without its last char.
fn finish_turn(mut text: String, agent: bool) -> Turn {
    text.pop();
    Turn { agent, text }
}

/// The forward text of a dialogue: each turn on its line, then an empty
/// line.
pub fn forward_text(turns: &[Turn], out: &mut String) {
    for t in turns {
        out.push_str(&t.text);
        out.push('\n');
    }
    out.push('\n');
}

/// The reversed text (for the MMI corpus): turns last to first, then an
/// empty line.
pub fn reverse_text(turns: &[Turn], out: &mut String) {
    for t in turns.iter().rev() {
        out.push_str(&t.text);
        out.push('\n');
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    /// The match holds exactly the chars of workflow.py's list.
    #[test]
    fn punctuation_is_the_reference_set() {
        let listed = "，。！？；：、“”‘’（）【】《》〈〉「」『』〔〕…—～·";
        for c in (0..0x11000u32).filter_map(char::from_u32) {
            let want = c.is_ascii_punctuation() || listed.contains(c);
            assert_eq!(super::is_punctuation(c), want, "{c:?}");
        }
    }

    use super::*;

    fn msgs(v: &[(&str, &str)]) -> Vec<(Value, Value)> {
        v.iter()
            .map(|(r, c)| (Value::text(r), Value::text(c)))
            .collect()
    }

    #[test]
    fn joins_roles_appends_semicolons_and_drops_last_char() {
        let m = msgs(&[
            ("否", "你好"),
            ("否", "在吗？"),
            ("是", "您好😀"),
            ("否", "谢谢。"),
        ]);
        let (turns, skipped) = build_turns(&m, "是");
        let text: Vec<_> = turns.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(text, ["客户:你好;在吗", "坐席:您好", "客户:谢谢"]);
        assert_eq!(skipped, 0);
        assert_eq!(turns[1].content(), "您好");
    }

    #[test]
    fn second_cleaning_can_empty_a_message() {
        let m = msgs(&[("否", "🇺😀🇸"), ("是", "好的")]);
        let (turns, skipped) = build_turns(&m, "是");
        assert_eq!(skipped, 1);
        assert_eq!(
            turns,
            [Turn {
                agent: true,
                text: "坐席:好的".into()
            }]
        );
    }

    #[test]
    fn different_non_agent_values_are_different_turns() {
        let m = msgs(&[("否", "a"), ("N", "b")]);
        let (turns, _) = build_turns(&m, "是");
        assert_eq!(turns.len(), 2);
        assert!(turns.iter().all(|t| !t.agent));
    }

    #[test]
    fn newline_removed_carriage_return_kept() {
        assert_eq!(clean("a\nb\r"), "ab\r");
        let (turns, _) = build_turns(&msgs(&[("否", "x\r")]), "是");
        assert_eq!(turns[0].text, "客户:x\r");
    }
}
