//! PII scrubbing (`--scrub`, opt-in): personal data in a message is replaced
//! by a placeholder such as `<PHONE>`, and every replacement is counted per
//! kind for the summary and the report.
//!
//! Customer-service logs are Chinese text with numbers typed straight into
//! it (`电话13800138000谢谢`), next to prices, dates, order and tracking
//! numbers that look alike. So the rules are narrow on purpose, and a
//! labelled test set (`tests/data/pii_labelled.tsv`, made by
//! `tests/oracle/make_pii.py`) measures precision and recall per kind:
//!
//! | kind       | placeholder  | matched when                                              |
//! |------------|--------------|-----------------------------------------------------------|
//! | `phone`    | `<PHONE>`    | a mainland mobile number `1[3-9]` + 9 digits, written `13800138000`, `138 0013 8000`, `138-0013-8000` (also 4-3-4, 3-8, 7-4), optionally after `+86`, `0086`, `(+86)`, `86-`, or `86`/`+86`/`0086` run into it; or a landline: area code (`010`, `02X`, `0[3-9]XX`) + 7–8 digits not starting with 0/1, joined by `-`, a space or parentheses (`(010)12345678`, `（0755）1234567`), with an optional `-` extension of up to 5 digits |
//! | `idcard`   | `<IDCARD>`   | an 18-character resident ID (`17 digits + digit/X/x`, or grouped 6-8-4) with a known province code, a birth date between 1900 and 2029 that exists, and a valid ISO 7064 MOD 11-2 check character |
//! | `bankcard` | `<BANKCARD>` | 16–19 digits (contiguous or in groups of 4) starting with 3, 4, 5, 6 or 9 (card issuer ranges; order numbers start with a year) with a valid Luhn check digit |
//! | `email`    | `<EMAIL>`    | `local@domain.tld`, ASCII                                 |
//! | `url`      | `<URL>`      | `http://`, `https://` or `www.` up to the first space, non-ASCII character or quote; trailing `.,;:!?)]}'"` stay text |
//! | `wechat`   | `<WECHAT>`   | `wxid_...` anywhere, or an id (a letter, then 5–19 of `A-Za-z0-9_-`) right after a WeChat keyword: `微信`, `薇信`, `威信`, `V信`/`v信`, `wechat`, `weixin`, `wx`, `vx` (case-insensitive; an ASCII keyword must be followed by a separator). Only the id is replaced: `微信号：<WECHAT>` |
//! | `custom`   | `<NAME>`     | a configured regex; when it has a capture group, only group 1 is replaced (so `订单号[:：]?(\d{10,20})` keeps `订单号：`) |
//!
//! Why WeChat ids need a keyword: an id is any 6–20 letters and digits,
//! indistinguishable from words, model numbers and user names. Only the
//! `wxid_` form stands alone. Without an explicit marker (`号`, `:`, `：`,
//! `=`, `是`, `为`, `id`) between keyword and id, an id of letters only is
//! not taken either (`微信 iPhone版` is not an id). A phone number after a
//! WeChat keyword is replaced as `<PHONE>`.
//!
//! Numbers are found by one hand-written scan, not by regexes: a run of
//! ASCII digits is a *group*, groups joined by one space, `-` or a
//! parenthesised area code form a *chain*, and only whole groups can match.
//! A longer digit run therefore never yields a match inside it
//! (`213800138000` is no phone), while a chain like `2023-05-01
//! 13800138000` still yields its last group. A group touching an ASCII
//! letter or `_` (`SF13800138000`, `v13`), or a decimal point with a digit
//! beyond it (`13800138000.50`, `192.168.1.100`), cannot start or end a
//! match; a match of several groups must not continue with the same
//! separator (`6222 0212 3456 7890 123`: the first 16 digits are no card).
//!
//! Overlapping matches: the one starting first wins, then the longer, then
//! by kind in the order url, email, wechat, custom, idcard, bankcard, phone
//! (a URL containing a number stays one `<URL>`; `13800138000@qq.com` is
//! one `<EMAIL>`; an 18-digit number valid both as an ID and as a card is
//! an ID).
//!
//! Known limits: full-width digits (`１３８…`), numbers spelled with
//! Chinese numerals, bare domains without `www.` (`jd.com/…`), 15-digit
//! first-generation IDs, QQ numbers and postal addresses are not detected;
//! add a custom pattern where a corpus needs them. Unicode `\b` in a custom
//! pattern sees Chinese characters as word characters: write `(?-u:\b)`
//! for an ASCII boundary.
//!
//! Speed: most messages hold nothing to scrub. One pass over the bytes,
//! eight at a time, notes whether there is any `@`, `h`/`w`, `x` or the
//! tail byte of `信`, and counts the digits; the number scanner runs only
//! on 11 digits or more, each regex only when its trigger is present (and
//! a cheap confirmation: `http`/`www.`, `wx`/`vx`/`信`/`wechat`), a custom
//! pattern only when a literal every match starts with is present, and a
//! message with nothing found is returned borrowed. `cargo bench --bench
//! scrub`: about 500 MiB/s on typical chat lines with one custom pattern.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use regex::Regex;

/// What kind of personal data a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Phone,
    IdCard,
    Email,
    Url,
    WeChat,
    BankCard,
    /// The `n`th configured custom pattern.
    Custom(u16),
}

impl Kind {
    /// The built-in kinds, in `--scrub` order.
    pub const BUILTIN: [Kind; 6] = [
        Kind::Phone,
        Kind::IdCard,
        Kind::Email,
        Kind::Url,
        Kind::WeChat,
        Kind::BankCard,
    ];

    /// Index into [`ScrubCounts`]'s built-in counters (custom: none).
    fn builtin_index(self) -> Option<usize> {
        Kind::BUILTIN.iter().position(|&k| k == self)
    }

    /// Tie-break between overlapping matches that start at the same byte
    /// and have the same length: lower wins.
    fn priority(self) -> u8 {
        match self {
            Kind::Url => 0,
            Kind::Email => 1,
            Kind::WeChat => 2,
            Kind::Custom(_) => 3,
            Kind::IdCard => 4,
            Kind::BankCard => 5,
            Kind::Phone => 6,
        }
    }

    /// The `--scrub` name of a built-in kind (`custom` for all custom ones).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Phone => "phone",
            Kind::IdCard => "idcard",
            Kind::Email => "email",
            Kind::Url => "url",
            Kind::WeChat => "wechat",
            Kind::BankCard => "bankcard",
            Kind::Custom(_) => "custom",
        }
    }

    fn placeholder_builtin(self) -> &'static str {
        match self {
            Kind::Phone => "<PHONE>",
            Kind::IdCard => "<IDCARD>",
            Kind::Email => "<EMAIL>",
            Kind::Url => "<URL>",
            Kind::WeChat => "<WECHAT>",
            Kind::BankCard => "<BANKCARD>",
            Kind::Custom(_) => unreachable!("custom placeholders live in the Scrubber"),
        }
    }

    fn bit(self) -> Kinds {
        match self {
            Kind::Phone => Kinds::PHONE,
            Kind::IdCard => Kinds::IDCARD,
            Kind::Email => Kinds::EMAIL,
            Kind::Url => Kinds::URL,
            Kind::WeChat => Kinds::WECHAT,
            Kind::BankCard => Kinds::BANKCARD,
            Kind::Custom(_) => Kinds::CUSTOM,
        }
    }
}

/// A set of kinds, as `--scrub phone,idcard,...` selects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kinds(u8);

impl Kinds {
    pub const NONE: Kinds = Kinds(0);
    pub const PHONE: Kinds = Kinds(1);
    pub const IDCARD: Kinds = Kinds(2);
    pub const EMAIL: Kinds = Kinds(4);
    pub const URL: Kinds = Kinds(8);
    pub const WECHAT: Kinds = Kinds(16);
    pub const BANKCARD: Kinds = Kinds(32);
    pub const CUSTOM: Kinds = Kinds(64);
    pub const ALL: Kinds = Kinds(127);

    pub fn contains(self, other: Kinds) -> bool {
        self.0 & other.0 == other.0
    }

    fn intersects(self, other: Kinds) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for Kinds {
    type Output = Kinds;
    fn bitor(self, o: Kinds) -> Kinds {
        Kinds(self.0 | o.0)
    }
}

impl FromStr for Kinds {
    type Err = ScrubError;

    /// `phone,idcard,email,url,wechat,bankcard,custom` (any subset, any
    /// order, case-insensitive) or `all`.
    fn from_str(s: &str) -> Result<Kinds, ScrubError> {
        let mut k = Kinds::NONE;
        for item in s.split(',').map(str::trim) {
            k = k | match item.to_ascii_lowercase().as_str() {
                "phone" => Kinds::PHONE,
                "idcard" => Kinds::IDCARD,
                "email" => Kinds::EMAIL,
                "url" => Kinds::URL,
                "wechat" => Kinds::WECHAT,
                "bankcard" => Kinds::BANKCARD,
                "custom" => Kinds::CUSTOM,
                "all" => Kinds::ALL,
                _ => return Err(ScrubError::UnknownKind(item.to_string())),
            };
        }
        Ok(k)
    }
}

impl fmt::Display for Kinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = Kind::BUILTIN
            .iter()
            .filter(|k| self.contains(k.bit()))
            .map(|k| k.name())
            .collect();
        if self.contains(Kinds::CUSTOM) {
            names.push("custom");
        }
        f.write_str(&names.join(","))
    }
}

/// One custom pattern from the config file (`[[scrub.patterns]]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CustomPattern {
    /// Names the placeholder: `order` -> `<ORDER>`, and the count.
    pub name: String,
    /// A `regex` crate pattern; with a capture group, only group 1 is replaced.
    pub pattern: String,
}

/// What to scrub.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrubConfig {
    pub kinds: Kinds,
    /// Used only when `kinds` contains [`Kinds::CUSTOM`].
    pub custom: Vec<CustomPattern>,
}

/// A scrub configuration that cannot be used; each names what is wrong.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScrubError {
    #[error("unknown --scrub kind `{0}` (expected phone, idcard, email, url, wechat, bankcard, custom or all)")]
    UnknownKind(String),
    #[error("scrub pattern {name} (`{pattern}`) is not a valid regex: {message}")]
    BadPattern {
        name: String,
        pattern: String,
        message: String,
    },
    #[error("scrub pattern {name} (`{pattern}`) matches the empty string")]
    EmptyMatch { name: String, pattern: String },
    #[error("scrub pattern name `{0}` must be ASCII letters, digits or _ (it becomes the placeholder <NAME>)")]
    BadName(String),
    #[error("scrub pattern name `{0}` is used twice or is a built-in kind")]
    DuplicateName(String),
    #[error("--scrub custom needs at least one [[scrub.patterns]] entry (name, pattern) in the config file")]
    NoCustomPatterns,
}

/// One piece of personal data found: its kind and byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    pub range: Range<usize>,
}

/// Replacements made, per kind. Add them up across messages with
/// [`ScrubCounts::add`]; name them with [`Scrubber::named_counts`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrubCounts {
    builtin: [u64; 6],
    /// Per custom pattern; empty until a custom pattern matched (no
    /// allocation on the common path).
    custom: Vec<u64>,
}

impl ScrubCounts {
    pub fn get(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Custom(i) => self.custom.get(i as usize).copied().unwrap_or(0),
            k => self.builtin[k.builtin_index().expect("built-in kind")],
        }
    }

    fn bump(&mut self, kind: Kind) {
        match kind {
            Kind::Custom(i) => {
                let i = i as usize;
                if self.custom.len() <= i {
                    self.custom.resize(i + 1, 0);
                }
                self.custom[i] += 1;
            }
            k => self.builtin[k.builtin_index().expect("built-in kind")] += 1,
        }
    }

    /// Add another message's (or worker's) counts to these.
    pub fn add(&mut self, other: &ScrubCounts) {
        for (a, b) in self.builtin.iter_mut().zip(other.builtin) {
            *a += b;
        }
        if self.custom.len() < other.custom.len() {
            self.custom.resize(other.custom.len(), 0);
        }
        for (a, b) in self.custom.iter_mut().zip(&other.custom) {
            *a += b;
        }
    }

    /// All placeholders inserted.
    pub fn total(&self) -> u64 {
        self.builtin.iter().sum::<u64>() + self.custom.iter().sum::<u64>()
    }
}

struct Custom {
    name: String,
    placeholder: String,
    re: Regex,
    /// The literals every match starts with, when they are few: a
    /// substring search rules a message out before the regex runs.
    prefilter: Option<Prefilter>,
    /// Replace group 1 rather than the whole match.
    group: bool,
}

/// A compiled scrub configuration. Cheap to share across threads
/// (`Send + Sync`); build once per run.
pub struct Scrubber {
    kinds: Kinds,
    email: Option<Regex>,
    url: Option<Regex>,
    wechat: Option<Regex>,
    /// Finds `信` (of 微信, V信, ...); built once, as building costs more
    /// than searching a message.
    xin: memchr::memmem::Finder<'static>,
    custom: Vec<Custom>,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrubber")
            .field("kinds", &self.kinds.to_string())
            .field(
                "custom",
                &self.custom.iter().map(|c| &c.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

const EMAIL_RE: &str = r"[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}";
const URL_RE: &str = r"(?i:https?://|www\.)[-A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%]+";
/// Group `wxid`: the standalone internal id. Otherwise keyword, marker
/// (separators and words like 号), id. The `wxid` branch comes first so
/// that `wxid_...` is not read as keyword `wx` + marker `id`.
const WECHAT_RE: &str = concat!(
    r"(?P<wxid>wxid_[A-Za-z0-9_-]{4,40})",
    r"|(?P<kw>微信|薇信|威信|[Vv]信|(?i:wechat|weixin|wx|vx))",
    r"(?P<mark>(?:号码|账号|号|(?i:id)[:：= \t]|[:：=是为]|[ \t\u{3000}]){0,6})",
    r"(?P<id>[A-Za-z][A-Za-z0-9_-]{5,19})",
);

impl Scrubber {
    /// Compile and validate a configuration: every custom pattern must be
    /// a valid regex that cannot match the empty string, under a unique
    /// name usable as a placeholder.
    pub fn new(config: &ScrubConfig) -> Result<Scrubber, ScrubError> {
        let kinds = config.kinds;
        let builtin = |k: Kinds, re: &str| {
            kinds
                .contains(k)
                .then(|| Regex::new(re).expect("built-in patterns compile"))
        };
        let mut custom = Vec::new();
        if kinds.contains(Kinds::CUSTOM) {
            if config.custom.is_empty() {
                return Err(ScrubError::NoCustomPatterns);
            }
            for p in &config.custom {
                let upper = p.name.to_ascii_uppercase();
                if upper.is_empty()
                    || !upper
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    return Err(ScrubError::BadName(p.name.clone()));
                }
                let taken = Kind::BUILTIN
                    .iter()
                    .any(|k| k.placeholder_builtin() == format!("<{upper}>"))
                    || custom
                        .iter()
                        .any(|c: &Custom| c.name.to_ascii_uppercase() == upper);
                if taken {
                    return Err(ScrubError::DuplicateName(p.name.clone()));
                }
                let re = Regex::new(&p.pattern).map_err(|e| ScrubError::BadPattern {
                    name: p.name.clone(),
                    pattern: p.pattern.clone(),
                    message: e.to_string(),
                })?;
                if re.is_match("") {
                    return Err(ScrubError::EmptyMatch {
                        name: p.name.clone(),
                        pattern: p.pattern.clone(),
                    });
                }
                custom.push(Custom {
                    prefilter: prefix_prefilter(&p.pattern),
                    name: p.name.clone(),
                    placeholder: format!("<{upper}>"),
                    group: re.captures_len() > 1,
                    re,
                });
            }
        }
        Ok(Scrubber {
            kinds,
            email: builtin(Kinds::EMAIL, EMAIL_RE),
            url: builtin(Kinds::URL, URL_RE),
            wechat: builtin(Kinds::WECHAT, WECHAT_RE),
            xin: memchr::memmem::Finder::new("信".as_bytes()),
            custom,
        })
    }

    /// The selected kinds.
    pub fn kinds(&self) -> Kinds {
        self.kinds
    }

    /// The text that replaces a match of `kind`.
    pub fn placeholder(&self, kind: Kind) -> &str {
        match kind {
            Kind::Custom(i) => &self.custom[i as usize].placeholder,
            k => k.placeholder_builtin(),
        }
    }

    /// Counts by name, for the summary and the report: the selected
    /// built-in kinds (`phone`, ...) then each custom pattern by its name.
    pub fn named_counts(&self, counts: &ScrubCounts) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = Kind::BUILTIN
            .iter()
            .filter(|k| self.kinds.contains(k.bit()))
            .map(|&k| (k.name().to_string(), counts.get(k)))
            .collect();
        for (i, c) in self.custom.iter().enumerate() {
            v.push((c.name.clone(), counts.get(Kind::Custom(i as u16))));
        }
        v
    }

    /// `text` with every match replaced by its placeholder, and the
    /// replacements per kind. Borrows `text` when nothing matched.
    pub fn scrub<'a>(&self, text: &'a str) -> (Cow<'a, str>, ScrubCounts) {
        let mut counts = ScrubCounts::default();
        let found = self.find(text);
        if found.is_empty() {
            return (Cow::Borrowed(text), counts);
        }
        let mut out = String::with_capacity(text.len() + 8 * found.len());
        let mut at = 0;
        for f in &found {
            out.push_str(&text[at..f.range.start]);
            out.push_str(self.placeholder(f.kind));
            counts.bump(f.kind);
            at = f.range.end;
        }
        out.push_str(&text[at..]);
        (Cow::Owned(out), counts)
    }

    /// The matches `scrub` replaces: sorted, not overlapping.
    pub fn find(&self, text: &str) -> Vec<Found> {
        let mut found = Vec::new();
        let b = text.as_bytes();
        let (t, ndigits) = triggers(b);
        if ndigits >= digits::MIN_DIGITS
            && self
                .kinds
                .intersects(Kinds::PHONE | Kinds::IDCARD | Kinds::BANKCARD)
        {
            digits::scan(b, self.kinds, &mut found);
        }
        if let (Some(re), true) = (&self.email, t & T_AT != 0) {
            for m in re.find_iter(text) {
                push(&mut found, Kind::Email, m.range());
            }
        }
        if let Some(re) = &self.url {
            if t & (T_H | T_W) != 0 && (contains_ci(b, b"http") || contains_ci(b, b"www.")) {
                find_urls(re, text, &mut found);
            }
        }
        if let Some(re) = &self.wechat {
            if wechat_trigger(b, t, &self.xin) {
                find_wechat(re, text, &mut found);
            }
        }
        for (i, c) in self.custom.iter().enumerate() {
            find_custom(c, Kind::Custom(i as u16), text, &mut found);
        }
        resolve(&mut found);
        found
    }
}

fn push(found: &mut Vec<Found>, kind: Kind, range: Range<usize>) {
    if !range.is_empty() {
        found.push(Found { kind, range });
    }
}

/// Keep the first-starting of overlapping matches (then the longer, then
/// by kind priority).
fn resolve(found: &mut Vec<Found>) {
    if found.len() < 2 {
        return;
    }
    found.sort_by_key(|f| {
        (
            f.range.start,
            std::cmp::Reverse(f.range.end),
            f.kind.priority(),
        )
    });
    let mut end = 0;
    found.retain(|f| {
        let keep = f.range.start >= end;
        if keep {
            end = f.range.end;
        }
        keep
    });
}

const T_DIGIT: u8 = 1;
const T_AT: u8 = 2;
const T_H: u8 = 4;
const T_W: u8 = 8;
const T_X: u8 = 16;
/// 0xA1, the last byte of `信` (E4 BF A1): confirmed by a substring search.
const T_XIN: u8 = 32;

static TRIGGER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = T_DIGIT;
        d += 1;
    }
    t[b'@' as usize] = T_AT;
    t[b'h' as usize] = T_H;
    t[b'H' as usize] = T_H;
    t[b'w' as usize] = T_W;
    t[b'W' as usize] = T_W;
    t[b'x' as usize] = T_X;
    t[b'X' as usize] = T_X;
    t[0xA1] = T_XIN;
    t
};

/// Which detectors could match. Every trigger byte is ASCII or 0xA1, and
/// Chinese text is mostly neither: eight bytes at a time, a word with
/// no ASCII byte and no 0xA1 is skipped with a few integer operations
/// (bit tricks, no SIMD intrinsics); only the other words go through the
/// lookup table. This doubled the speed on Chinese chat text.
///
/// Also returns the number of ASCII digits: every number rule needs at
/// least 11, so prices and dates skip the number scanner.
fn triggers(b: &[u8]) -> (u8, usize) {
    const HI: u64 = 0x8080_8080_8080_8080;
    const LO: u64 = 0x0101_0101_0101_0101;
    let table = |(m, n): (u8, usize), &c: &u8| {
        let t = TRIGGER[c as usize];
        (m | t, n + (t & T_DIGIT) as usize)
    };
    let mut acc = (0, 0);
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        let ascii = !v & HI;
        // "Has a zero byte" on v ^ 0xA1A1...: exact, no false negatives.
        let a1 = v ^ (0xA1 * LO);
        let has_a1 = a1.wrapping_sub(LO) & !a1 & HI;
        if ascii | has_a1 != 0 {
            acc = w.iter().fold(acc, table);
        }
    }
    words.remainder().iter().fold(acc, table)
}

/// ASCII-case-insensitive substring test (needles are a few bytes).
fn contains_ci(b: &[u8], needle: &[u8]) -> bool {
    b.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether a WeChat keyword can be present. `x`/`X` alone is common (`XL`
/// sizes), so look for `wx`/`vx`, `信`, `wechat`, `weixin` before paying
/// for the regex.
fn wechat_trigger(b: &[u8], t: u8, xin: &memchr::memmem::Finder) -> bool {
    let pair = |w: &[u8]| matches!(w[0] | 0x20, b'w' | b'v') && w[1] | 0x20 == b'x';
    (t & T_XIN != 0 && xin.find(b).is_some())
        || (t & T_X != 0 && b.windows(2).any(pair))
        || (t & T_W != 0 && (contains_ci(b, b"wechat") || contains_ci(b, b"weixin")))
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn find_urls(re: &Regex, text: &str, found: &mut Vec<Found>) {
    let b = text.as_bytes();
    for m in re.find_iter(text) {
        let (start, mut end) = (m.start(), m.end());
        if start > 0 && is_word(b[start - 1]) {
            continue;
        }
        while end > start && b".,;:!?'\")]}".contains(&b[end - 1]) {
            end -= 1;
        }
        // Something must follow the scheme or `www.`.
        let head = if b[start] == b'w' || b[start] == b'W' {
            4
        } else {
            text[start..end].find("//").map_or(end - start, |i| i + 2)
        };
        if end - start > head {
            push(found, Kind::Url, start..end);
        }
    }
}

fn find_wechat(re: &Regex, text: &str, found: &mut Vec<Found>) {
    // `is_match` allocates nothing; `captures_at` does.
    if !re.is_match(text) {
        return;
    }
    let b = text.as_bytes();
    let mut pos = 0;
    while let Some(c) = re.captures_at(text, pos) {
        let whole = c.get(0).expect("group 0");
        // On a rejected match, retry one character later: a standalone
        // `wxid_` inside it may still match.
        let next = whole.start()
            + text[whole.start()..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
        let left_ok = whole.start() == 0 || !is_word(b[whole.start() - 1]);
        if let Some(w) = c.name("wxid") {
            let right_ok = w.end() == b.len() || !is_id_byte(b[w.end()]);
            if left_ok && right_ok {
                push(found, Kind::WeChat, w.range());
                pos = w.end();
            } else {
                pos = next;
            }
            continue;
        }
        let (kw, mark, id) = (
            c.name("kw").expect("kw"),
            c.name("mark").expect("mark").as_str(),
            c.name("id").expect("id"),
        );
        let ascii_kw =
            kw.as_str().as_bytes()[0].is_ascii_alphabetic() && !kw.as_str().ends_with('信');
        let explicit = mark.chars().any(|ch| !ch.is_whitespace());
        let id_ok = id.end() == b.len() || !is_id_byte(b[id.end()]);
        let letters_only = id.as_str().bytes().all(|c| c.is_ascii_alphabetic());
        let ok =
            id_ok && (!ascii_kw || (left_ok && !mark.is_empty())) && (explicit || !letters_only);
        if ok {
            push(found, Kind::WeChat, id.range());
            pos = id.end();
        } else {
            pos = next;
        }
    }
}

fn is_id_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// An automaton for the prefix literals of `pattern` when every match
/// must start with one of a finite set of non-empty literals (`订单号...`),
/// else None (`\d{12}` could start anywhere). Why: a regex call costs
/// about 100 ns even when its own prefilter fails fast, and custom
/// patterns run on every message.
fn prefix_prefilter(pattern: &str) -> Option<Prefilter> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let lits: Vec<&[u8]> = seq.literals()?.iter().map(|l| l.as_bytes()).collect();
    if lits.is_empty() || lits.len() > 64 || lits.iter().any(|l| l.is_empty()) {
        return None;
    }
    // A prefix common to all (`订单` of `订单号`, `订单编号`) is searched
    // with memmem: on short messages, half the cost of an automaton.
    let common = lits.iter().fold(lits[0], |acc, l| {
        let n = acc.iter().zip(*l).take_while(|(a, b)| a == b).count();
        &acc[..n]
    });
    if !common.is_empty() {
        return Some(Prefilter::Common(Box::new(
            memchr::memmem::Finder::new(common).into_owned(),
        )));
    }
    aho_corasick::AhoCorasick::new(lits)
        .ok()
        .map(Prefilter::Any)
}

/// What every match of a custom pattern starts with.
enum Prefilter {
    /// A byte string common to all its prefix literals (boxed: a
    /// `Finder` is several times the size of an `AhoCorasick` handle).
    Common(Box<memchr::memmem::Finder<'static>>),
    /// One of its prefix literals.
    Any(aho_corasick::AhoCorasick),
}

impl Prefilter {
    fn may_match(&self, text: &str) -> bool {
        match self {
            Prefilter::Common(f) => f.find(text.as_bytes()).is_some(),
            Prefilter::Any(ac) => ac.is_match(text),
        }
    }
}

fn find_custom(c: &Custom, kind: Kind, text: &str, found: &mut Vec<Found>) {
    if c.prefilter.as_ref().is_some_and(|p| !p.may_match(text)) {
        return;
    }
    if c.group {
        // `is_match` allocates nothing; `captures_iter` does.
        if !c.re.is_match(text) {
            return;
        }
        for caps in c.re.captures_iter(text) {
            if let Some(g) = caps.get(1) {
                push(found, kind, g.range());
            }
        }
    } else {
        for m in c.re.find_iter(text) {
            push(found, kind, m.range());
        }
    }
}

/// The number scanner: digit groups, chains, and the phone / ID / card
/// rules on whole groups (see the module doc).
mod digits {
    use std::cell::RefCell;

    use super::{is_word, Found, Kind, Kinds};

    #[derive(Debug, Clone, Copy)]
    struct Group {
        /// Byte range of the digits, plus a trailing `X`/`x` when `x`,
        /// plus the closing parenthesis when `paren`.
        start: usize,
        end: usize,
        /// Where a match that uses this group as a prefix starts (before
        /// `+` or `(`).
        lead: usize,
        ndig: usize,
        /// A trailing `X`/`x` not followed by a word character (ID check).
        x: bool,
        /// A `+` right before the digits.
        plus: bool,
        /// Enclosed in `()` or `（）`: an area code or `+86`.
        paren: bool,
        /// The byte joining this group to the previous one of its chain:
        /// `b' '`, `b'-'`, `b')'` (after a parenthesised group), or 0 for
        /// the first group of a chain.
        sep: u8,
        /// A match may start here: no letter, `_` or `digit.` right before.
        left_ok: bool,
        /// A match may end here: no letter, `_` or `.digit` right after.
        right_ok: bool,
    }

    const OPEN_FW: &[u8] = "（".as_bytes();
    const CLOSE_FW: &[u8] = "）".as_bytes();
    const SPACE_FW: &[u8] = "\u{3000}".as_bytes();

    /// The fewest digits any rule accepts (a mobile number; a landline's
    /// area code and local number).
    pub(super) const MIN_DIGITS: usize = 11;

    thread_local! {
        /// The chain under construction, reused: most messages with a
        /// digit hold no data, and allocating per message would cost more
        /// than scanning it.
        static CHAIN: RefCell<Vec<Group>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn scan(b: &[u8], kinds: Kinds, found: &mut Vec<Found>) {
        CHAIN.with(|c| match c.try_borrow_mut() {
            Ok(mut chain) => scan_with(b, kinds, found, &mut chain),
            Err(_) => scan_with(b, kinds, found, &mut Vec::new()),
        })
    }

    fn scan_with(b: &[u8], kinds: Kinds, found: &mut Vec<Found>, chain: &mut Vec<Group>) {
        chain.clear();
        let n = b.len();
        let mut i = 0;
        while i < n {
            let Some(off) = b[i..].iter().position(u8::is_ascii_digit) else {
                break;
            };
            let s = i + off;
            let mut e = s;
            while e < n && b[e].is_ascii_digit() {
                e += 1;
            }
            let mut end = e;
            let x = e < n && (b[e] | 0x20) == b'x' && (e + 1 == n || !is_word(b[e + 1]));
            if x {
                end += 1;
            }
            let mut lead = s;
            let plus = lead > 0 && b[lead - 1] == b'+';
            if plus {
                lead -= 1;
            }
            let open = if lead >= 1 && b[lead - 1] == b'(' {
                1
            } else if b[..lead].ends_with(OPEN_FW) {
                3
            } else {
                0
            };
            let close = if b[end..].starts_with(b")") {
                1
            } else if b[end..].starts_with(CLOSE_FW) {
                3
            } else {
                0
            };
            let paren = open > 0 && close > 0 && !x;
            if paren {
                lead -= open;
                end += close;
            }
            let sep = chain.last().map_or(0, |p| link(b, p, lead, plus, paren));
            if sep == 0 {
                process(b, chain, kinds, found);
                chain.clear();
            }
            // A decimal point with a digit beyond it blocks like a letter:
            // amounts, IP addresses, version numbers.
            let before = if sep != 0 { b' ' } else { byte_before(b, lead) };
            let decimal_before = before == b'.' && lead >= 2 && b[lead - 2].is_ascii_digit();
            let left_ok = !(is_word(before) || decimal_before);
            let after = b.get(end).copied().unwrap_or(b' ');
            let decimal_after = after == b'.' && b.get(end + 1).is_some_and(u8::is_ascii_digit);
            let right_ok = paren || !(is_word(after) || decimal_after);
            chain.push(Group {
                start: s,
                end,
                lead,
                ndig: e - s,
                x,
                plus,
                paren,
                sep,
                left_ok,
                right_ok,
            });
            i = end;
        }
        process(b, chain, kinds, found);
    }

    fn byte_before(b: &[u8], at: usize) -> u8 {
        if at == 0 {
            b' '
        } else {
            b[at - 1]
        }
    }

    /// The separator joining a new group (starting at `lead`) to the chain's
    /// last group `p`, or 0 when it starts a new chain.
    fn link(b: &[u8], p: &Group, lead: usize, plus: bool, paren: bool) -> u8 {
        if p.x || plus || paren {
            return 0;
        }
        let Some(gap) = b.get(p.end..lead) else {
            return 0;
        };
        if p.paren {
            return if gap.is_empty() || gap == b" " {
                b')'
            } else {
                0
            };
        }
        match gap {
            b" " | b"-" => gap[0],
            g if g == SPACE_FW => b' ',
            _ => 0,
        }
    }

    /// Find the matches of one chain: at each group, the longest valid run
    /// of groups starting there.
    fn process(b: &[u8], chain: &[Group], kinds: Kinds, found: &mut Vec<Found>) {
        let mut i = 0;
        while i < chain.len() {
            let mut best = None;
            if chain[i].left_ok {
                let mut total = 0;
                for j in i + 1..=chain.len().min(i + 6) {
                    total += chain[j - 1].ndig;
                    if total > 19 + 4 {
                        break;
                    }
                    if total < MIN_DIGITS || !chain[j - 1].right_ok || !separators_end(chain, i, j)
                    {
                        continue;
                    }
                    if let Some((kind, start)) = classify(b, &chain[i..j], kinds) {
                        best = Some((kind, start, j));
                    }
                }
            }
            match best {
                Some((kind, start, j)) => {
                    found.push(Found {
                        kind,
                        range: start..chain[j - 1].end,
                    });
                    i = j;
                }
                None => i += 1,
            }
        }
    }

    /// A match of several groups must not go on with a separator it uses
    /// inside (else it is a piece of a longer grouped number).
    fn separators_end(chain: &[Group], i: usize, j: usize) -> bool {
        if j - i < 2 {
            return true;
        }
        let inside = |s: u8| s != 0 && chain[i + 1..j].iter().any(|g| g.sep == s);
        let continues = j < chain.len() && inside(chain[j].sep);
        !(inside(chain[i].sep) || continues)
    }

    /// The digits of groups, concatenated (at most 24).
    fn digits_of(b: &[u8], gs: &[Group], out: &mut [u8; 24]) -> usize {
        let mut n = 0;
        for g in gs {
            for &c in &b[g.start..g.start + g.ndig] {
                if n == out.len() {
                    return n;
                }
                out[n] = c;
                n += 1;
            }
        }
        n
    }

    /// Which kind a run of whole groups is, and where its match starts.
    /// ID before card before phone when more than one rule holds.
    fn classify(b: &[u8], gs: &[Group], kinds: Kinds) -> Option<(Kind, usize)> {
        let last = gs.len() - 1;
        if gs[..last].iter().any(|g| g.x) || gs[1..].iter().any(|g| g.paren) {
            return None;
        }
        // At most 6 groups (see `process`): no allocation per candidate.
        let mut lens_buf = [0usize; 6];
        for (l, g) in lens_buf.iter_mut().zip(gs) {
            *l = g.ndig;
        }
        let lens = &lens_buf[..gs.len()];
        let mut d = [0u8; 24];
        let n = digits_of(b, gs, &mut d);
        let d = &d[..n];
        let x = gs[last].x;
        let first = &gs[0];
        let plain = !first.paren && !first.plus;
        if kinds.contains(Kinds::IDCARD) && plain {
            let shape = matches!(
                (lens, x),
                ([18], false) | ([17], true) | ([6, 8, 4], false) | ([6, 8, 3], true)
            );
            if shape && valid_id(d, x) {
                return Some((Kind::IdCard, first.start));
            }
        }
        if x {
            return None;
        }
        if kinds.contains(Kinds::BANKCARD) && plain && (16..=19).contains(&n) {
            let grouped = lens.len() >= 4
                && lens[..last].iter().all(|&l| l == 4)
                && (1..=4).contains(&lens[last]);
            if (lens.len() == 1 || grouped) && b"34569".contains(&d[0]) && luhn(d) {
                return Some((Kind::BankCard, first.start));
            }
        }
        if kinds.contains(Kinds::PHONE) {
            if let Some(start) = mobile(b, gs, lens, d) {
                return Some((Kind::Phone, start));
            }
            if landline(gs, lens, d) {
                return Some((Kind::Phone, first.lead));
            }
        }
        None
    }

    fn is_mobile(d: &[u8]) -> bool {
        d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1])
    }

    /// A mobile number, with or without a country prefix: where it starts.
    fn mobile(b: &[u8], gs: &[Group], lens: &[usize], d: &[u8]) -> Option<usize> {
        let first = &gs[0];
        let fd = &b[first.start..first.start + first.ndig];
        // `+86` / `0086` / `(+86)` / `(86)` / `86-` as a group of its own.
        let prefix_group = gs.len() > 1
            && (fd == b"0086" && !first.paren
                || fd == b"86" && (first.plus || first.paren || gs[1].sep == b'-'));
        if prefix_group {
            let body = &lens[1..];
            let body_ok = matches!(body, [11] | [3, 4, 4] | [4, 3, 4] | [3, 8] | [7, 4]);
            if body_ok && gs[1..].iter().all(|g| !g.plus) && is_mobile(&d[fd.len()..]) {
                return Some(first.lead);
            }
            return None;
        }
        if first.paren {
            return None;
        }
        if gs.len() == 1 {
            // The prefix run into the number: `+8613800138000`, `008613...`.
            let rest = if d.len() == 13 && d.starts_with(b"86") {
                &d[2..]
            } else if d.len() == 15 && d.starts_with(b"0086") {
                &d[4..]
            } else {
                d
            };
            if is_mobile(rest) && (rest.len() < d.len() || !first.plus) {
                return Some(if rest.len() < d.len() {
                    first.lead
                } else {
                    first.start
                });
            }
            return None;
        }
        let shape_ok = matches!(lens, [3, 4, 4] | [4, 3, 4] | [3, 8] | [7, 4]);
        (shape_ok && !first.plus && gs[1..].iter().all(|g| !g.plus) && is_mobile(d))
            .then_some(first.start)
    }

    /// Area code, then 7–8 local digits (one or two groups of 3+), then an
    /// optional `-` extension of 1–5 digits.
    fn landline(gs: &[Group], lens: &[usize], d: &[u8]) -> bool {
        let area = lens[0];
        if gs.len() < 2 || gs[0].plus || d[0] != b'0' {
            return false;
        }
        let area_ok = match area {
            3 => d[1] == b'1' && d[2] == b'0' || d[1] == b'2',
            4 => (b'3'..=b'9').contains(&d[1]),
            _ => false,
        };
        if !area_ok || !matches!(gs[1].sep, b'-' | b' ' | b')') {
            return false;
        }
        let local_ok = |l: &[usize]| {
            let total: usize = l.iter().sum();
            let ok_len = if area == 3 {
                total == 8
            } else {
                (7..=8).contains(&total)
            };
            ok_len && l.len() <= 2 && l.iter().all(|&x| x >= 3)
        };
        let rest = &lens[1..];
        let first_local = d[area];
        if !(b'2'..=b'9').contains(&first_local) {
            return false;
        }
        if local_ok(rest) {
            return true;
        }
        // With an extension: the last group, joined by '-', 1–5 digits.
        let (ext, local) = rest.split_last().expect("at least one group");
        !local.is_empty()
            && gs[gs.len() - 1].sep == b'-'
            && (1..=5).contains(ext)
            && local_ok(local)
    }

    /// Province codes of resident ID numbers (incl. 81–83: Hong Kong,
    /// Macau and Taiwan residence permits).
    fn province_ok(p: u8) -> bool {
        matches!(p, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83)
    }

    fn num(d: &[u8]) -> u32 {
        d.iter().fold(0, |a, &c| a * 10 + (c - b'0') as u32)
    }

    /// 17 digits (+ `d[17]` or X), province, birth date, ISO 7064 MOD 11-2.
    pub(super) fn valid_id(d: &[u8], x: bool) -> bool {
        if d.len() != if x { 17 } else { 18 } || !province_ok(num(&d[..2]) as u8) {
            return false;
        }
        let (y, m, day) = (num(&d[6..10]), num(&d[10..12]), num(&d[12..14]));
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let mdays = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        if !(1900..=2029).contains(&y) || day == 0 || day > mdays {
            return false;
        }
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = d[..17]
            .iter()
            .zip(W)
            .map(|(&c, w)| (c - b'0') as u32 * w)
            .sum();
        let check = b"10X98765432"[(sum % 11) as usize];
        if x {
            check == b'X'
        } else {
            check == d[17]
        }
    }

    pub(super) fn luhn(d: &[u8]) -> bool {
        let sum: u32 = d
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &c)| {
                let v = (c - b'0') as u32;
                // Every second digit from the right is doubled, digits summed.
                if i % 2 == 1 {
                    (v * 2) % 10 + v * 2 / 10
                } else {
                    v
                }
            })
            .sum();
        sum.is_multiple_of(10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Scrubber {
        Scrubber::new(&ScrubConfig {
            kinds: Kinds::ALL,
            custom: vec![CustomPattern {
                name: "order".into(),
                pattern: r"订单(?:号|编号)[:：]?\s*(\d{10,20})".into(),
            }],
        })
        .unwrap()
    }

    fn s(text: &str) -> String {
        all().scrub(text).0.into_owned()
    }

    #[test]
    fn mobile_numbers_in_chinese_text() {
        assert_eq!(s("电话13800138000谢谢"), "电话<PHONE>谢谢");
        assert_eq!(s("13800138000"), "<PHONE>");
        assert_eq!(s("打138 0013 8000或139-0013-9000"), "打<PHONE>或<PHONE>");
        assert_eq!(s("+86 138 0013 8000"), "<PHONE>");
        assert_eq!(s("手机+8613800138000"), "手机<PHONE>");
        assert_eq!(s("0086-13800138000。"), "<PHONE>。");
        assert_eq!(s("(+86)13800138000"), "<PHONE>");
        assert_eq!(s("13800138000 13900139000"), "<PHONE> <PHONE>");
        assert_eq!(s("2023-05-01 13800138000"), "2023-05-01 <PHONE>");
    }

    #[test]
    fn no_phone_inside_longer_runs_or_codes() {
        for t in [
            "213800138000",
            "138001380001",
            "1380013800",
            "SF13800138000",
            "13800138000.50",
            "12345678901",
            "10086123456",
            "23800138000",
            "138 0013 800",
            "v13.800.138000",
        ] {
            assert_eq!(s(t), t, "{t}");
        }
    }

    #[test]
    fn landlines() {
        assert_eq!(s("座机010-62345678"), "座机<PHONE>");
        assert_eq!(s("(010)62345678"), "<PHONE>");
        assert_eq!(
            s("010-12345678"),
            "010-12345678",
            "local numbers never start with 1"
        );
        assert_eq!(s("（0755）2345678转"), "<PHONE>转");
        assert_eq!(s("0755-8888 6666"), "<PHONE>");
        assert_eq!(s("021-61234567-8021"), "<PHONE>");
        for t in [
            "2023-05-01",
            "010-1234",
            "0001-2345678",
            "010-01234567",
            "028-2345678",
        ] {
            assert_eq!(s(t), t, "{t}");
        }
    }

    #[test]
    fn id_numbers_need_a_valid_check_digit_and_date() {
        assert!(digits::valid_id(b"11010519491231002", true));
        assert_eq!(s("身份证11010519491231002X"), "身份证<IDCARD>");
        assert_eq!(s("身份证11010519491231002x。"), "身份证<IDCARD>。");
        assert_eq!(s("110105 19491231 002X"), "<IDCARD>");
        // Wrong check character, impossible date, unknown province.
        for t in [
            "110105194912310021",
            "110105194902300024",
            "991105194912310028",
        ] {
            assert_eq!(s(t), t, "{t}");
        }
    }

    #[test]
    fn bank_cards_need_luhn_and_an_issuer_digit() {
        assert!(digits::luhn(b"6222021234567890128"));
        assert_eq!(s("卡号6222021234567890128"), "卡号<BANKCARD>");
        assert_eq!(
            s("卡号 6222 0212 3456 7890 128 谢谢"),
            "卡号 <BANKCARD> 谢谢"
        );
        // Luhn fails; Luhn holds but it starts with a year (an order number).
        assert!(!digits::luhn(b"6222021234567890123"));
        assert!(digits::luhn(b"2023050112345677"));
        for t in ["6222021234567890123", "2023050112345677"] {
            assert_eq!(s(t), t, "{t}");
        }
    }

    #[test]
    fn emails_and_urls() {
        assert_eq!(s("邮箱abc.def@qq.com谢谢"), "邮箱<EMAIL>谢谢");
        assert_eq!(s("13800138000@163.com"), "<EMAIL>");
        assert_eq!(s("看https://item.jd.com/100012.html。"), "看<URL>。");
        assert_eq!(s("www.taobao.com/?id=13800138000!"), "<URL>!");
        assert_eq!(s("http协议"), "http协议");
        assert_eq!(s("@张三 你好"), "@张三 你好");
    }

    #[test]
    fn wechat_ids_need_a_keyword() {
        assert_eq!(s("微信号：zhang_san88"), "微信号：<WECHAT>");
        assert_eq!(s("加我vx: lili2023哦"), "加我vx: <WECHAT>哦");
        assert_eq!(s("加我微信wxid_abcd1234efgh"), "加我微信<WECHAT>");
        assert_eq!(s("wxid_abcd1234efgh"), "<WECHAT>");
        assert_eq!(s("V信 Tom_1990"), "V信 <WECHAT>");
        assert_eq!(s("微信同号13800138000"), "微信同号<PHONE>");
        for t in [
            "微信支付",
            "微信 iPhone版",
            "zhang_san88",
            "awx: abc12345",
            "wxabc12345",
        ] {
            assert_eq!(s(t), t, "{t}");
        }
    }

    #[test]
    fn custom_patterns_replace_their_group() {
        assert_eq!(s("订单号：2023050112345678"), "订单号：<ORDER>");
        let (out, counts) = all().scrub("订单编号20230501123456 电话13800138000");
        assert_eq!(out, "订单编号<ORDER> 电话<PHONE>");
        assert_eq!(counts.get(Kind::Custom(0)), 1);
        assert_eq!(counts.get(Kind::Phone), 1);
        assert_eq!(counts.total(), 2);
    }

    #[test]
    fn custom_prefilters_never_hide_a_match() {
        let common = prefix_prefilter(r"订单(?:号|编号)[:：]?\s*(\d{10,20})");
        assert!(matches!(common, Some(Prefilter::Common(_))));
        let any = prefix_prefilter(r"(?:SO|PO)\d{8}");
        assert!(matches!(any, Some(Prefilter::Any(_))));
        assert!(
            prefix_prefilter(r"\d{12}").is_none(),
            "could start anywhere"
        );
        let sc = |p: &str| {
            Scrubber::new(&ScrubConfig {
                kinds: Kinds::CUSTOM,
                custom: vec![CustomPattern {
                    name: "x".into(),
                    pattern: p.into(),
                }],
            })
            .unwrap()
        };
        assert_eq!(sc(r"(?:SO|PO)\d{8}").scrub("单号PO12345678").0, "单号<X>");
        assert_eq!(sc(r"(?i:vip)\d{6}").scrub("会员Vip123456").0, "会员<X>");
        assert_eq!(sc(r"\d{12}").scrub("a123456789012").0, "a<X>");
    }

    #[test]
    fn nothing_found_borrows() {
        let text = "您好，很高兴为您服务";
        assert!(matches!(all().scrub(text).0, Cow::Borrowed(_)));
        assert!(matches!(all().scrub("活动价199元").0, Cow::Borrowed(_)));
    }

    #[test]
    fn only_selected_kinds() {
        let sc = Scrubber::new(&ScrubConfig {
            kinds: "phone".parse().unwrap(),
            custom: vec![],
        })
        .unwrap();
        let (out, c) = sc.scrub("13800138000 abc@qq.com 11010519491231002X");
        assert_eq!(out, "<PHONE> abc@qq.com 11010519491231002X");
        assert_eq!(sc.named_counts(&c), vec![("phone".to_string(), 1)]);
    }

    #[test]
    fn config_errors_name_the_problem() {
        let err = |name: &str, pattern: &str| {
            Scrubber::new(&ScrubConfig {
                kinds: Kinds::CUSTOM,
                custom: vec![CustomPattern {
                    name: name.into(),
                    pattern: pattern.into(),
                }],
            })
            .unwrap_err()
            .to_string()
        };
        let e = err("order", r"订单(\d+");
        assert!(
            e.starts_with("scrub pattern order (`订单(\\d+`) is not a valid regex"),
            "{e}"
        );
        assert!(err("order", r"\d*").contains("matches the empty string"));
        assert!(err("my order", r"\d+").contains("`my order`"));
        assert!(err("phone", r"\d+").contains("built-in"));
        assert_eq!(
            Scrubber::new(&ScrubConfig { kinds: Kinds::CUSTOM, custom: vec![] })
                .unwrap_err()
                .to_string(),
            "--scrub custom needs at least one [[scrub.patterns]] entry (name, pattern) in the config file"
        );
        let e = "phone,cellphone".parse::<Kinds>().unwrap_err().to_string();
        assert!(e.contains("`cellphone`"), "{e}");
        assert_eq!("all".parse::<Kinds>().unwrap(), Kinds::ALL);
        assert_eq!(
            Kinds::ALL.to_string(),
            "phone,idcard,email,url,wechat,bankcard,custom"
        );
    }

    #[test]
    fn word_at_a_time_triggers_match_a_byte_loop() {
        let naive = |b: &[u8]| {
            let m = b.iter().fold(0, |m, &c| m | TRIGGER[c as usize]);
            (m, b.iter().filter(|c| c.is_ascii_digit()).count())
        };
        let pieces = [
            "信", "你好", "1", "@", "h", "W", "x", "。", "微信", "ab", "\u{a1}", "é", "9",
        ];
        // Every string of up to 4 pieces: triggers at every offset in a word.
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for t in &texts {
                for p in pieces {
                    next.push(format!("{t}{p}"));
                }
            }
            texts.extend(next);
            texts.dedup();
        }
        for t in &texts {
            for pad in ["", "好", "好好", "好好好"] {
                let s = format!("{pad}{t}");
                assert_eq!(triggers(s.as_bytes()), naive(s.as_bytes()), "{s:?}");
            }
        }
    }

    #[test]
    fn counts_add_up() {
        let sc = all();
        let mut total = ScrubCounts::default();
        for t in ["13800138000", "订单号12345678901", "a@b.cn 13900139000"] {
            total.add(&sc.scrub(t).1);
        }
        assert_eq!(total.get(Kind::Phone), 2);
        assert_eq!(total.get(Kind::Email), 1);
        assert_eq!(total.get(Kind::Custom(0)), 1);
        assert_eq!(total.total(), 4);
    }
}
