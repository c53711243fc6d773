//! One cell value as pandas sees it, and the text renderings the reference
//! workflow makes of it (Python `repr` of floats, `str` of ints).
//!
//! Every reader produces `Value`s and every writer consumes them, so the
//! typing rules of SPEC "Inputs" live in exactly one place.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// pandas 3.1.1's default missing-value strings (`STR_NA_VALUES`): a text
/// cell equal to one of these (exact match, no stripping) is missing.
pub const NA_STRINGS: [&str; 19] = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// True when `s` is one of pandas' default NA strings.
pub fn is_na_string(s: &str) -> bool {
    // Every NA string is at most 8 bytes: reject long text without a scan.
    s.len() <= 8 && NA_STRINGS.contains(&s)
}

/// A typed cell. 24 bytes: text is boxed so rows stay compact.
///
/// The tag is a full word (`repr(u64)`): with a byte tag, moving a
/// `Value` (or a `Result` of one) through the stack copied the seven bytes
/// after the tag as two overlapping 4-byte moves, and the load that
/// followed stalled on store forwarding: 6% of `extract`'s time went to
/// those stalls in cell typing alone.
#[derive(Debug, Clone, PartialEq)]
#[repr(u64)]
pub enum Value {
    /// Missing: empty cell, error cell, uncached formula, or an NA string.
    Empty,
    Text(Box<str>),
    Int(i64),
    /// An integer outside int64 (uint64 in CSV, a Python `int` in an
    /// object column, an xlsx `<v>` of more digits): exact up to i128,
    /// boxed so that a `Value` stays 24 bytes.
    BigInt(Box<i128>),
    Float(f64),
    Bool(bool),
    /// An Excel serial date-time (1900 system; 1904 inputs are converted).
    DateTime(f64),
    /// A time of day (Python `datetime.time`), in microseconds since
    /// midnight: a date- or time-formatted xlsx number in [0, 1), as
    /// openpyxl's `from_excel` returns it (ms-rounded); xls likewise (xlrd
    /// + pandas); an ods time cell.
    Time(u64),
    /// A duration (Python `datetime.timedelta`), in microseconds: an xlsx
    /// number under an elapsed format (`[h]:mm:ss`, `[mm]:ss`, `[ss]`), as
    /// openpyxl's `from_excel(..., timedelta=True)` returns it.
    Duration(i64),
}

impl Value {
    pub fn text(s: &str) -> Value {
        if is_na_string(s) {
            Value::Empty
        } else {
            Value::Text(s.into())
        }
    }

    /// Like [`Value::text`], taking ownership (no copy).
    pub fn text_owned(s: String) -> Value {
        if is_na_string(&s) {
            Value::Empty
        } else {
            Value::Text(s.into_boxed_str())
        }
    }

    /// A float as pandas keeps an xlsx numeric cell: integral -> int.
    pub fn number(x: f64) -> Value {
        if x.is_nan() {
            Value::Empty
        } else if x.fract() == 0.0 && x.abs() < 9.223_372_036_854_776e18 {
            Value::Int(x as i64)
        } else {
            Value::Float(x)
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Empty)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// An integer: `Int` when it fits int64, else `BigInt`.
    pub fn int(i: i128) -> Value {
        match i64::try_from(i) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::BigInt(Box::new(i)),
        }
    }

    /// The numeric value under Python equality (`True == 1`, `12 == 12.0`),
    /// exact: integers (and integral floats within i128) as integers.
    fn as_number(&self) -> Option<Num> {
        match self {
            Value::Int(i) => Some(Num::Int(*i as i128)),
            Value::BigInt(i) => Some(Num::Int(**i)),
            Value::Float(f) => Some(Num::of_f64(*f)),
            Value::Bool(b) => Some(Num::Int(*b as i128)),
            _ => None,
        }
    }

    /// Python `==` between two cell values: numbers (and booleans) compare
    /// by value, exactly (`2**63 + 1 != 2.0**63`), everything else by type
    /// and content.
    pub fn py_eq(&self, other: &Value) -> bool {
        match (self.as_number(), other.as_number()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self == other,
            _ => false,
        }
    }

    /// The reference's `to_text` (workflow.py D10): str unchanged, bool ->
    /// `True`/`False`, integral numbers without a fraction, other floats as
    /// Python's shortest `repr`, date-times as `str(datetime)`.
    pub fn to_text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Text(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            Value::BigInt(i) => i.to_string(),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.is_finite() {
                    format!("{f:.0}")
                } else {
                    py_float_repr(*f)
                }
            }
            Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Value::DateTime(serial) => DateTimeParts::from_serial(*serial).to_python_str(),
            Value::Time(us) => time_str(*us),
            Value::Duration(us) => timedelta_str(*us),
        }
    }

    /// A grouping key: one class per kind so that the sort order is
    /// numbers (by value) < date-times < text (by code point).
    pub fn key(&self) -> Key {
        match self {
            Value::Text(s) => Key::Text(s.clone()),
            Value::DateTime(d) => Key::DateTime(OrdF64(*d)),
            Value::Time(us) => Key::Time(*us),
            Value::Duration(us) => Key::Duration(*us),
            Value::Empty => Key::Text("".into()),
            other => Key::Number(other.as_number().unwrap_or(Num::Float(OrdF64(f64::NAN)))),
        }
    }
}

impl Value {
    /// Append a byte encoding that is equal for two values exactly when
    /// they are equal under Python `==` (numbers and booleans by value,
    /// `-0.0 == 0.0`): the exact key of de-duplication and grouping.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        match self {
            Value::Text(s) => {
                out.push(b'T');
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Value::DateTime(d) => {
                out.push(b'D');
                out.extend_from_slice(&d.to_bits().to_le_bytes());
            }
            Value::Time(us) => {
                out.push(b'H');
                out.extend_from_slice(&us.to_le_bytes());
            }
            Value::Duration(us) => {
                out.push(b'U');
                out.extend_from_slice(&us.to_le_bytes());
            }
            Value::Empty => out.push(b'E'),
            other => match other.as_number().unwrap_or(Num::Float(OrdF64(f64::NAN))) {
                Num::Int(i) => {
                    out.push(b'I');
                    out.extend_from_slice(&i.to_le_bytes());
                }
                Num::Float(OrdF64(x)) => {
                    out.push(b'N');
                    out.extend_from_slice(&x.to_bits().to_le_bytes());
                }
            },
        }
    }
}

/// A column name as pandas keeps it: the header cell's value — text, or in
/// a spreadsheet header a number, boolean, date-time or time. Two names are
/// the same column exactly when their values are equal under Python `==`
/// (so the number 2023 and the text `"2023"` are two columns, as in pandas'
/// `concat`); a name is written back as the typed cell it was read from.
#[derive(Debug, Clone)]
pub struct ColName(pub Value);

impl ColName {
    /// The name as text, when it is text (required columns are text).
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_str()
    }

    /// `str(name)`: how messages and the CSV header show it.
    pub fn to_text(&self) -> String {
        self.0.to_text()
    }
}

impl From<&str> for ColName {
    fn from(s: &str) -> ColName {
        ColName(Value::Text(s.into()))
    }
}

impl From<String> for ColName {
    fn from(s: String) -> ColName {
        ColName(Value::Text(s.into_boxed_str()))
    }
}

impl PartialEq for ColName {
    fn eq(&self, o: &ColName) -> bool {
        self.0.key() == o.0.key()
    }
}
impl Eq for ColName {}
impl std::hash::Hash for ColName {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.key().hash(h)
    }
}
impl PartialEq<str> for ColName {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == Some(o)
    }
}
impl PartialEq<&str> for ColName {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == Some(*o)
    }
}

/// A total order on f64 (keys are never NaN: missing values never group).

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrdF64(pub f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0)
    }
}
impl std::hash::Hash for OrdF64 {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // -0.0 == 0.0 under Python equality: hash them alike.
        let v = if self.0 == 0.0 { 0.0f64 } else { self.0 };
        v.to_bits().hash(h)
    }
}

/// Grouping / de-duplication key of one value (Python equality classes:
/// a `time` equals only an equal `time`, a `timedelta` only an equal
/// `timedelta`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Number(Num),
    DateTime(OrdF64),
    Time(u64),
    Duration(i64),
    Text(Box<str>),
}

/// A number under Python equality, exactly: integral values (integers,
/// booleans, integral floats within i128) as `Int`, every other float as
/// `Float` (never integral unless beyond i128 or infinite). So
/// `1234567890123456789` and `1234567890123456788` are two keys, and
/// `12 == 12.0`.
#[derive(Debug, Clone, Copy)]
pub enum Num {
    Int(i128),
    Float(OrdF64),
}

impl Num {
    pub fn of_f64(f: f64) -> Num {
        if f.fract() == 0.0 && f.abs() < 1.7e38 {
            Num::Int(f as i128)
        } else {
            Num::Float(OrdF64(f))
        }
    }
}

impl PartialEq for Num {
    fn eq(&self, o: &Num) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Num {}
impl PartialOrd for Num {
    fn partial_cmp(&self, o: &Num) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Num {
    fn cmp(&self, o: &Num) -> Ordering {
        match (*self, *o) {
            (Num::Int(a), Num::Int(b)) => a.cmp(&b),
            (Num::Float(x), Num::Float(y)) => x.cmp(&y),
            // A float here is not integral (or beyond i128): never equal to
            // an integer; the f64 comparison orders them, ties (rounding of
            // a huge integer) put the integer first.
            (Num::Int(a), Num::Float(OrdF64(y))) => (a as f64)
                .partial_cmp(&y)
                .unwrap_or(Ordering::Less)
                .then(Ordering::Less),
            (Num::Float(OrdF64(x)), Num::Int(b)) => x
                .partial_cmp(&(b as f64))
                .unwrap_or(Ordering::Greater)
                .then(Ordering::Greater),
        }
    }
}
impl std::hash::Hash for Num {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match self {
            Num::Int(i) => i.hash(h),
            Num::Float(x) => x.hash(h),
        }
    }
}

const US_PER_DAY: i64 = 86_400_000_000;

/// `str(datetime.time)`: `09:30:00`, or `12:30:00.500000` with microseconds.
pub fn time_str(us: u64) -> String {
    let secs = us / 1_000_000;
    let mut s = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if !us.is_multiple_of(1_000_000) {
        let _ = write!(s, ".{:06}", us % 1_000_000);
    }
    s
}

/// `str(datetime.timedelta)`: `1 day, 2:00:00`, `-1 day, 12:00:00`,
/// `0:00:00.500000` (days may be negative; the rest never is).
pub fn timedelta_str(us: i64) -> String {
    let days = us.div_euclid(US_PER_DAY);
    let rem = us.rem_euclid(US_PER_DAY);
    let mut s = String::new();
    if days != 0 {
        let plural = if days.abs() != 1 { "s" } else { "" };
        let _ = write!(s, "{days} day{plural}, ");
    }
    let secs = rem / 1_000_000;
    let _ = write!(s, "{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if rem % 1_000_000 != 0 {
        let _ = write!(s, ".{:06}", rem % 1_000_000);
    }
    s
}

/// openpyxl's `from_excel` on a date-formatted number: a time of day
/// (microseconds) when `0 <= v < 1` and the fraction, rounded (half to
/// even) to the millisecond, stays within the day; `None` for a date-time.
pub fn excel_time(v: f64) -> Option<u64> {
    if !(0.0..1.0).contains(&v) {
        return None;
    }
    let ms = (v * 86_400_000.0).round_ties_even() as u64;
    (ms < 86_400_000).then_some(ms * 1000)
}

/// openpyxl's `from_excel(v, timedelta=True)`: Python's
/// `timedelta(days=v)` (rounded to the microsecond as CPython does: whole
/// days, whole seconds of the fraction, then the microseconds half to
/// even), then, when there are microseconds, floored to the second plus
/// the microseconds rounded to the millisecond (`round(us, -3)`).
pub fn excel_duration(v: f64) -> Option<i64> {
    if !v.is_finite() || v.abs() >= 1e8 {
        return None; // beyond timedelta's range (999999999 days): OverflowError
    }
    let days = v.trunc();
    let day_secs = (v - days) * 86_400.0;
    let whole_secs = day_secs.trunc();
    let us = ((day_secs - whole_secs) * 1e6).round_ties_even();
    let total = days as i64 * US_PER_DAY + whole_secs as i64 * 1_000_000 + us as i64;
    let micro = total.rem_euclid(1_000_000);
    if micro == 0 {
        return Some(total);
    }
    // round(micro, -3): half to even on the thousands.
    let (q, r) = (micro / 1000, micro % 1000);
    let q = match r.cmp(&500) {
        Ordering::Less => q,
        Ordering::Greater => q + 1,
        Ordering::Equal => q + (q & 1),
    };
    Some(total.div_euclid(1_000_000) * 1_000_000 + q * 1000)
}

/// The number pandas' `to_excel` writes for a `timedelta`:
/// `total_seconds() / 86400`.
pub fn duration_days(us: i64) -> f64 {
    (us as f64 / 1e6) / 86_400.0
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in -4..16, else `1e-05` / `1e+16`.
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e-5".
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decpt = exp + 1; // position of the decimal point after the first digit
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if (-3..=16).contains(&decpt) {
        if decpt <= 0 {
            out.push_str("0.");
            for _ in 0..(-decpt) {
                out.push('0');
            }
            out.push_str(&digits);
        } else if (decpt as usize) >= digits.len() {
            out.push_str(&digits);
            for _ in 0..(decpt as usize - digits.len()) {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..decpt as usize]);
            out.push('.');
            out.push_str(&digits[decpt as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

/// A calendar date-time split from an Excel serial, rounded to the
/// microsecond as Python's `timedelta(days=x)` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeParts {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micro: u32,
}

impl DateTimeParts {
    /// `2023-05-01T09:30:00[.fff]` -> calendar parts.
    pub fn parse_iso(s: &str) -> Option<DateTimeParts> {
        let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00"));
        let mut d = date.split('-');
        let year = d.next()?.parse().ok()?;
        let month = d.next()?.parse().ok()?;
        let day = d.next()?.parse().ok()?;
        let time = time.trim_end_matches('Z');
        let mut t = time.split(':');
        let hour = t.next()?.parse().ok()?;
        let minute = t.next().unwrap_or("0").parse().ok()?;
        let sec: f64 = t.next().unwrap_or("0").parse().ok()?;
        Some(DateTimeParts {
            year,
            month,
            day,
            hour,
            minute,
            second: sec.trunc() as u32,
            micro: (sec.fract() * 1e6).round() as u32,
        })
    }

    /// An Excel serial (1900 system) as openpyxl's `from_excel` turns it
    /// into a datetime: whole days, plus the fraction rounded (half to
    /// even) to the millisecond; serials below 60 shifted by one day for
    /// Excel's 1900 leap-year bug.
    pub fn from_serial(serial: f64) -> DateTimeParts {
        let mut day = serial.floor();
        let fraction = serial - day;
        let ms = (fraction * 86_400_000.0).round_ties_even() as i64;
        if serial > 0.0 && serial < 60.0 {
            day += 1.0;
        }
        let total_ms = day as i64 * 86_400_000 + ms;
        let days = total_ms.div_euclid(86_400_000);
        let rem = total_ms.rem_euclid(86_400_000);
        // 1899-12-30 is day -25569 relative to 1970-01-01.
        let (year, month, day) = civil_from_days(days - 25_569);
        DateTimeParts {
            year,
            month,
            day,
            hour: (rem / 3_600_000) as u32,
            minute: (rem / 60_000 % 60) as u32,
            second: (rem / 1000 % 60) as u32,
            micro: (rem % 1000) as u32 * 1000,
        }
    }

    /// The Excel serial of a calendar date-time (inverse of `from_serial`).
    pub fn to_serial(&self) -> f64 {
        let days = days_from_civil(self.year, self.month, self.day) + 25_569;
        let secs = self.hour as f64 * 3600.0 + self.minute as f64 * 60.0 + self.second as f64;
        let serial = days as f64 + (secs + self.micro as f64 / 1e6) / 86_400.0;
        if serial < 61.0 {
            serial - 1.0
        } else {
            serial
        }
    }

    /// `str(datetime)`: `2023-05-01 09:30:00` or `2023-05-01 09:30:00.250000`.
    pub fn to_python_str(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.micro != 0 {
            let _ = write!(s, ".{:06}", self.micro);
        }
        s
    }

    /// ISO form rounded to the millisecond, as the fixtures' cell dumps
    /// write it: `2023-05-01T09:30:00` or `2023-05-01T09:30:00.250`.
    pub fn to_iso_millis(&self) -> String {
        let mut ms = (self.micro as f64 / 1000.0).round() as u32;
        let mut p = *self;
        if ms == 1000 {
            p = DateTimeParts::from_serial(self.to_serial() + 1.0 / 86_400.0);
            p.micro = 0;
            ms = 0;
        }
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            p.year, p.month, p.day, p.hour, p.minute, p.second
        );
        if ms != 0 {
            let _ = write!(s, ".{ms:03}");
        }
        s
    }
}

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) -> days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        for (x, want) in [
            (1.5, "1.5"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15 + 0.5, "1000000000000000.5"),
            (123456789.125, "123456789.125"),
            (-2.5e-7, "-2.5e-07"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.0, "1.0"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ] {
            assert_eq!(py_float_repr(x), want, "{x}");
        }
    }

    #[test]
    fn to_text_follows_d10() {
        assert_eq!(Value::Float(1003.0).to_text(), "1003");
        assert_eq!(Value::Float(1.5).to_text(), "1.5");
        assert_eq!(Value::Int(0).to_text(), "0");
        assert_eq!(Value::Bool(true).to_text(), "True");
    }

    #[test]
    fn serial_dates_round_trip() {
        // 2023-04-10 04:29:32 is serial 45026.18717592593
        let p = DateTimeParts::from_serial(45026.18717592593);
        assert_eq!(p.to_iso_millis(), "2023-04-10T04:29:32");
        assert_eq!(p.to_python_str(), "2023-04-10 04:29:32");
        let back = DateTimeParts::from_serial(p.to_serial());
        assert_eq!(back, p);
    }

    #[test]
    fn times_and_durations_print_as_python() {
        assert_eq!(time_str(excel_time(0.395833333333333).unwrap()), "09:30:00");
        assert_eq!(time_str(excel_time(0.0).unwrap()), "00:00:00");
        assert_eq!(
            time_str(excel_time(0.5208391203703704).unwrap()),
            "12:30:00.500000"
        );
        assert_eq!(time_str(excel_time(0.999).unwrap()), "23:58:33.600000");
        assert_eq!(excel_time(0.999999999), None);
        assert_eq!(excel_time(1.5), None);
        for (v, want) in [
            (1.083333333333333, "1 day, 2:00:00"),
            (0.75, "18:00:00"),
            (0.01, "0:14:24"),
            (1.157407407407407e-05, "0:00:01"),
            (-0.5, "-1 day, 12:00:00"),
            (30.25, "30 days, 6:00:00"),
            (5.787037037037037e-06, "0:00:00.500000"),
            (2.5, "2 days, 12:00:00"),
        ] {
            assert_eq!(timedelta_str(excel_duration(v).unwrap()), want, "{v}");
        }
        assert_eq!(
            duration_days(excel_duration(1.083333333333333).unwrap()),
            1.0833333333333333
        );
        assert_ne!(Value::Time(0).key(), Value::Duration(0).key());
        // 64-bit integers compare exactly.
        let a = Value::Int(1_234_567_890_123_456_789);
        let b = Value::Int(1_234_567_890_123_456_788);
        assert_ne!(a.key(), b.key());
        assert!(!a.py_eq(&b));
        assert_eq!(
            Value::Float(1e20).key(),
            Value::int(100_000_000_000_000_000_000).key()
        );
        assert_eq!(Value::Float(-0.0).key(), Value::Int(0).key());
        assert!(Value::Int(3).key() < Value::Float(3.5).key());
        assert!(Value::Float(2.5).key() < Value::Int(3).key());
        assert_eq!(
            Value::int(u64::MAX as i128).to_text(),
            "18446744073709551615"
        );
        assert!(!Value::Duration(0).py_eq(&Value::Int(0)));
    }

    #[test]
    fn python_equality_classes() {
        assert!(Value::Int(12).py_eq(&Value::Float(12.0)));
        assert!(!Value::Int(12).py_eq(&Value::text("12")));
        assert_eq!(Value::Int(12).key(), Value::Float(12.0).key());
        assert!(Value::Int(1_000_000).key() < Value::text("0012").key());
        assert!(Value::text("NA").is_missing());
    }
}
