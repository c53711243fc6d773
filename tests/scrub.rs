//! Precision and recall of the PII scrubber on the labelled set
//! `tests/data/pii_labelled.tsv` (made by `tests/oracle/make_pii.py`):
//! hundreds of customer-service lines with personal data, and hundreds of
//! hard negatives (prices, dates, order and tracking numbers, codes).
//!
//! A match counts as found only when kind and byte range are exactly the
//! labelled ones; a wrong boundary is both a false positive and a false
//! negative. The labelled spans are recovered by aligning the expected
//! text with the input, each placeholder a lazy `(.+?)` (the generator
//! asserts this alignment gives back its spans).
//!
//!     cargo test --release --test scrub -- --nocapture   # prints the table

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use sheetsift::dialogue::scrub::{CustomPattern, Kinds, ScrubConfig, Scrubber};

/// The custom pattern the labelled set assumes (see its header).
const ORDER: &str = r"订单(?:号|编号)[:：]?\s*(\d{10,20})";

fn scrubber() -> Scrubber {
    Scrubber::new(&ScrubConfig {
        kinds: Kinds::ALL,
        custom: vec![CustomPattern {
            name: "order".into(),
            pattern: ORDER.into(),
        }],
    })
    .unwrap()
}

fn labelled() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pii_labelled.tsv");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (text, want) = l.split_once('\t').expect("text<TAB>expected");
            (text.to_string(), want.to_string())
        })
        .collect()
}

/// The labelled spans `(KIND, start, end)` of `text`, given its expected
/// scrubbed form.
fn expected_spans(text: &str, expected: &str) -> Vec<(String, usize, usize)> {
    let ph = Regex::new(r"<([A-Z_]+)>").unwrap();
    let mut pattern = String::from("^");
    let mut kinds = Vec::new();
    let mut at = 0;
    for c in ph.captures_iter(expected) {
        let m = c.get(0).unwrap();
        pattern.push_str(&regex::escape(&expected[at..m.start()]));
        pattern.push_str("(.+?)");
        kinds.push(c[1].to_string());
        at = m.end();
    }
    pattern.push_str(&regex::escape(&expected[at..]));
    pattern.push('$');
    let caps = Regex::new(&pattern)
        .unwrap()
        .captures(text)
        .unwrap_or_else(|| panic!("expected {expected:?} does not align with {text:?}"));
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            let g = caps.get(i + 1).unwrap();
            (k, g.start(), g.end())
        })
        .collect()
}

#[derive(Default, Debug)]
struct Score {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Score {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

#[test]
fn precision_and_recall_on_the_labelled_set() {
    let sc = scrubber();
    let rows = labelled();
    let positives = rows.iter().filter(|(t, w)| t != w).count();
    let negatives = rows.len() - positives;
    assert!(
        positives >= 250 && negatives >= 250,
        "{positives} positive, {negatives} negative lines"
    );

    let mut by_kind: BTreeMap<String, Score> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (text, want) in &rows {
        let expected = expected_spans(text, want);
        let actual: Vec<(String, usize, usize)> = sc
            .find(text)
            .into_iter()
            .map(|f| {
                let name = sc.placeholder(f.kind).trim_matches(['<', '>']).to_string();
                (name, f.range.start, f.range.end)
            })
            .collect();
        for e in &expected {
            let s = by_kind.entry(e.0.clone()).or_default();
            if actual.contains(e) {
                s.tp += 1;
            } else {
                s.fn_ += 1;
            }
        }
        for a in &actual {
            if !expected.contains(a) {
                by_kind.entry(a.0.clone()).or_default().fp += 1;
            }
        }
        let (out, _) = sc.scrub(text);
        if out != *want {
            wrong.push(format!("  {text}\n    want {want}\n    got  {out}"));
        }
        if text == want {
            assert!(
                matches!(out, Cow::Borrowed(_)),
                "a negative was copied: {text}"
            );
        }
    }

    let mut all = Score::default();
    println!("\nPII scrubbing on {positives} positive and {negatives} negative lines:");
    println!(
        "{:<10} {:>5} {:>4} {:>4} {:>9} {:>7}",
        "kind", "tp", "fp", "fn", "precision", "recall"
    );
    for (k, s) in &by_kind {
        println!(
            "{k:<10} {:>5} {:>4} {:>4} {:>9.4} {:>7.4}",
            s.tp,
            s.fp,
            s.fn_,
            s.precision(),
            s.recall()
        );
        all.tp += s.tp;
        all.fp += s.fp;
        all.fn_ += s.fn_;
    }
    println!(
        "{:<10} {:>5} {:>4} {:>4} {:>9.4} {:>7.4}",
        "overall",
        all.tp,
        all.fp,
        all.fn_,
        all.precision(),
        all.recall()
    );
    if !wrong.is_empty() {
        println!("{} lines differ:\n{}", wrong.len(), wrong.join("\n"));
    }

    for k in [
        "PHONE", "IDCARD", "EMAIL", "URL", "WECHAT", "BANKCARD", "ORDER",
    ] {
        let s = by_kind
            .get(k)
            .unwrap_or_else(|| panic!("no {k} in the labelled set"));
        assert!(s.tp + s.fn_ >= 20, "{k}: only {} labelled", s.tp + s.fn_);
        assert!(s.precision() >= 0.99, "{k} precision {:.4}", s.precision());
        assert!(s.recall() >= 0.99, "{k} recall {:.4}", s.recall());
    }
    assert!(
        all.precision() >= 0.99 && all.recall() >= 0.99,
        "overall {all:?}"
    );
}

#[test]
fn alignment_recovers_spans() {
    // The alignment the metric relies on, on a line with three kinds.
    let text = "电话13800138000，邮箱a@qq.com，订单号：2023050112345678";
    let want = "电话<PHONE>，邮箱<EMAIL>，订单号：<ORDER>";
    let spans = expected_spans(text, want);
    let got: Vec<&str> = spans.iter().map(|(_, a, b)| &text[*a..*b]).collect();
    assert_eq!(got, ["13800138000", "a@qq.com", "2023050112345678"]);
    assert_eq!(scrubber().scrub(text).0, want);
}

proptest::proptest! {
    /// Any mix of digits, separators, keywords and Chinese text: no panic,
    /// matches sorted, disjoint and on character boundaries, and the
    /// output is the text with exactly those ranges replaced.
    #[test]
    fn scrub_is_consistent_on_any_text(pieces in proptest::collection::vec(
        proptest::sample::select(vec![
            "1", "3", "8", "0", "6", "9", "13800138000", "11010519491231002", "X", "x",
            " ", "-", "+", "86", "(", ")", "（", "）", ".", "@", "qq.com", "http://", "www.",
            "微信", "号", "：", "wx", "vx", "信", "wxid_", "abc", "_", "订单号", "电话", "，", "。",
            "\u{3000}", "é", "😀",
        ]),
        0..40,
    )) {
        let text: String = pieces.concat();
        let sc = scrubber();
        let found = sc.find(&text);
        let mut end = 0;
        let mut rebuilt = String::new();
        for f in &found {
            proptest::prop_assert!(f.range.start >= end && f.range.start < f.range.end);
            proptest::prop_assert!(text.is_char_boundary(f.range.start) && text.is_char_boundary(f.range.end));
            rebuilt.push_str(&text[end..f.range.start]);
            rebuilt.push_str(sc.placeholder(f.kind));
            end = f.range.end;
        }
        rebuilt.push_str(&text[end..]);
        let (out, counts) = sc.scrub(&text);
        proptest::prop_assert_eq!(out, rebuilt);
        proptest::prop_assert_eq!(counts.total(), found.len() as u64);
    }
}
