//! GB18030 and GBK decoding exactly as CPython 3.11's `gb18030` and `gbk`
//! codecs do, streamed block by block ([`Decoder`]); the same for UTF-8
//! ([`Utf8Decoder`]); the reference's detection rule over a reader
//! ([`detect`]); and a reader adapter giving UTF-8 to the csv crate in
//! bounded memory ([`DecodeReader`]).
//!
//! The reference reads a CSV with `pd.read_csv(path, encoding=E)`: E is
//! `utf-8-sig` when `data.decode('utf-8')` succeeds on the whole file, else
//! `gb18030` (`--encoding` forces E). A file Python cannot decode is a file
//! error, so what decodes, to which characters, and where the first error
//! is, are all part of the contract.
//!
//! Why hand-written: no crate implements Python's codecs. encoding_rs
//! follows WHATWG, and an exhaustive comparison of every 1-, 2-, 3- and
//! 4-byte input (CPython 3.11.7 against encoding_rs 0.8.44; the test
//! `differences_from_encoding_rs_are_exactly_these` repeats it) finds:
//! - byte 0x80: WHATWG decodes it alone as U+20AC; Python never accepts it
//!   (0x80 at the end: "incomplete multibyte sequence"; followed by a digit
//!   and fewer than 4 bytes in all: incomplete; otherwise "illegal");
//! - 20 two-byte codes map differently: Python keeps GB18030-2000's private
//!   use code points where WHATWG uses GB18030-2022's characters (A6D9..A6DF,
//!   A6EC, A6ED, A6F3, FE59, FE61, FE66, FE67, FE6D, FE7E, FE90, FEA0),
//!   A3A0 is U+E5E5 (WHATWG: U+3000) and A8BC is U+E7C7 (WHATWG: U+1E3F);
//! - one four-byte code: 81 35 F4 37 is U+1E3F (WHATWG: U+E7C7);
//! - nothing else: both accept the same other sequences and fail at the
//!   same offsets (every error starts at the first byte of a sequence).
//!
//! Patching encoding_rs's output is not possible (U+3000 also comes from
//! A1A1, so the output cannot tell which bytes made it), and its GB18030
//! decoder has no fast path beyond ASCII, so this decoder owns the whole
//! state machine and is as fast (benches/gb18030.rs). The mapping is
//! Python's own: `tests/oracle/gen_gb18030.py` runs the codec over every
//! input and writes `gb18030/two_byte.bin` (the 23,940 two-byte codes,
//! token-coded, 18 KB, expanded at compile time), `gb18030/tables.rs` (the
//! 206 four-byte BMP ranges, the codes Python's `gbk` lacks, and checksums of
//! Python's outcome on every input of 1 to 3 bytes and on 2.7 M four-byte
//! inputs around every boundary, which `gb18030/tests.rs` recomputes).
//!
//! Python's codec, which this mirrors step for step (CPython
//! `Modules/cjkcodecs/_codecs_cn.c`): a byte below 0x80 is itself; any other
//! byte needs a second one; a second byte 0x30..0x39 makes a four-byte
//! sequence (81..84 xx 81..FE 30..39 below U+10000 through the range table,
//! 90..E3 xx 81..FE 30..39 up to U+10FFFF by arithmetic), else the pair is
//! looked up (lead 81..FE, trail 40..FE but 7F: all assigned). An error
//! covers the sequence's first byte ("illegal multibyte sequence"), or at
//! the end of the input everything left ("incomplete multibyte sequence").
//! `gbk` is the same without four-byte sequences and without 2,149 codes.

use std::fmt;

mod tables;

/// Which of Python's codecs to mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `gb18030`: the reference's fallback when a file is not UTF-8.
    Gb18030,
    /// `gbk` (alias `cp936`): only when forced with `--encoding`.
    Gbk,
}

impl Codec {
    /// Python's codec name, as its error messages spell it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gb18030 => "gb18030",
            Codec::Gbk => "gbk",
        }
    }
}

/// Why decoding stopped, in Python's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// GB codecs: a sequence that is not assigned.
    Illegal,
    /// GB codecs: the input ends inside a sequence.
    Incomplete,
    /// UTF-8: a byte that cannot start a character.
    InvalidStart,
    /// UTF-8: a character cut by a byte that cannot continue it.
    InvalidContinuation,
    /// UTF-8: the input ends inside a character.
    UnexpectedEnd,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Illegal => "illegal multibyte sequence",
            Reason::Incomplete => "incomplete multibyte sequence",
            Reason::InvalidStart => "invalid start byte",
            Reason::InvalidContinuation => "invalid continuation byte",
            Reason::UnexpectedEnd => "unexpected end of data",
        }
    }
}

/// The first undecodable bytes, `offset..end` counted from the start of the
/// whole input (all blocks), as Python's `UnicodeDecodeError` gives them
/// when the whole file is decoded at once (`data.decode(codec)`).
///
/// (pandas, reading through a text wrapper, would report a position inside
/// the block it was decoding; the absolute offset is the useful one.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub codec: &'static str,
    pub offset: u64,
    pub end: u64,
    /// The byte at `offset`.
    pub byte: u8,
    pub reason: Reason,
}

impl fmt::Display for DecodeError {
    /// Python's `str(UnicodeDecodeError)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.end == self.offset + 1 {
            write!(
                f,
                "'{}' codec can't decode byte {:#04x} in position {}: {}",
                self.codec,
                self.byte,
                self.offset,
                self.reason.as_str()
            )
        } else {
            write!(
                f,
                "'{}' codec can't decode bytes in position {}-{}: {}",
                self.codec,
                self.offset,
                self.end - 1,
                self.reason.as_str()
            )
        }
    }
}

impl std::error::Error for DecodeError {}

/// The most UTF-8 bytes `n` input bytes can decode to (a two-byte code
/// gives at most three), for `String::reserve`.
pub fn max_utf8_len(n: usize) -> usize {
    n.saturating_add(n / 2).saturating_add(4)
}

/// A streaming decoder: feed a file's bytes in blocks of any size. A
/// sequence cut by a block boundary is carried to the next call; errors
/// carry absolute offsets. After an error the decoder keeps returning it.
#[derive(Debug, Clone)]
pub struct Decoder {
    codec: Codec,
    /// The start of a sequence the previous block cut (at most 3 bytes).
    carry: [u8; 4],
    carry_len: usize,
    /// Bytes fed before the current call.
    fed: u64,
    failed: Option<DecodeError>,
    stage: Stage,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

/// One step of the state machine at a non-ASCII byte.
enum Step {
    Char(char, usize),
    /// More bytes are needed to decide.
    Need,
    Illegal,
}

impl Decoder {
    /// Python's `gb18030`.
    pub fn new() -> Self {
        Decoder::with_codec(Codec::Gb18030)
    }

    pub fn with_codec(codec: Codec) -> Self {
        Decoder {
            codec,
            carry: [0; 4],
            carry_len: 0,
            fed: 0,
            failed: None,
            stage: Stage::default(),
        }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Decode the next block, appending its text to `out`; `last` marks the
    /// final block (then a sequence still open is an error). On an error,
    /// `out` holds the text of everything before the bad sequence.
    pub fn decode(
        &mut self,
        input: &[u8],
        last: bool,
        out: &mut String,
    ) -> Result<(), DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        out.reserve(max_utf8_len(input.len()));
        let mut stage = std::mem::take(&mut self.stage);
        stage.buf.reserve(max_utf8_len(input.len()).min(STAGE + 4));
        let result = self.decode_block(input, last, &mut stage, out);
        // Also on an error: the text before it is the caller's.
        stage.flush(out);
        self.stage = stage;
        self.fed += input.len() as u64;
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn decode_block(
        &mut self,
        input: &[u8],
        last: bool,
        stage: &mut Stage,
        out: &mut String,
    ) -> Result<(), DecodeError> {
        let mut i = 0;
        // Finish the sequence the previous block cut, one byte at a time
        // (`i` of them are from this block).
        while self.carry_len > 0 {
            let start = self.fed + i as u64 - self.carry_len as u64;
            match self.step(&self.carry[..self.carry_len]) {
                Step::Char(c, _) => {
                    stage.push_char(c, out);
                    self.carry_len = 0;
                }
                Step::Illegal => {
                    return Err(self.error(start, start + 1, self.carry[0], Reason::Illegal))
                }
                Step::Need => match input.get(i) {
                    Some(&b) => {
                        self.carry[self.carry_len] = b;
                        self.carry_len += 1;
                        i += 1;
                    }
                    None if last => {
                        let end = start + self.carry_len as u64;
                        return Err(self.error(start, end, self.carry[0], Reason::Incomplete));
                    }
                    None => return Ok(()),
                },
            }
        }
        let gbk = self.codec == Codec::Gbk;
        while i < input.len() {
            let b = input[i];
            if b < 0x80 {
                // Byte by byte (ASCII between hanzi is mostly a comma or a
                // few digits), a long run at once.
                stage.push_byte(b, out);
                i += 1;
                if input.len() - i >= 16 && input[i..i + 16].is_ascii() {
                    let n = ascii_prefix(&input[i..]);
                    stage.push_ascii(&input[i..i + n], out);
                    i += n;
                }
                continue;
            }
            // The common case inline: an assigned two-byte code.
            if let Some(&b2) = input.get(i + 1) {
                if let Some(idx) = two_byte_index(b, b2) {
                    if !gbk || !gbk_missing(idx) {
                        stage.push_bmp(TWO_BYTE[idx], out);
                        i += 2;
                        continue;
                    }
                }
            }
            match self.step(&input[i..]) {
                Step::Char(c, len) => {
                    stage.push_char(c, out);
                    i += len;
                }
                Step::Illegal => return Err(self.error_at(i, input, Reason::Illegal)),
                Step::Need => {
                    let rest = &input[i..];
                    if last {
                        let start = self.fed + i as u64;
                        let end = start + rest.len() as u64;
                        return Err(self.error(start, end, b, Reason::Incomplete));
                    }
                    self.carry[..rest.len()].copy_from_slice(rest);
                    self.carry_len = rest.len();
                    break;
                }
            }
        }
        Ok(())
    }

    /// Decode the sequence at the start of `s` (`s[0] >= 0x80`).
    #[inline(always)]
    fn step(&self, s: &[u8]) -> Step {
        let Some(&b2) = s.get(1) else {
            return Step::Need;
        };
        let b1 = s[0];
        if self.codec == Codec::Gb18030 && b2.wrapping_sub(0x30) < 10 {
            return match s.get(..4) {
                None => Step::Need,
                Some(q) => match four_byte(b1, b2, q[2], q[3]) {
                    Some(c) => Step::Char(c, 4),
                    None => Step::Illegal,
                },
            };
        }
        let Some(idx) = two_byte_index(b1, b2) else {
            return Step::Illegal;
        };
        if self.codec == Codec::Gbk && gbk_missing(idx) {
            return Step::Illegal;
        }
        match char::from_u32(TWO_BYTE[idx] as u32) {
            Some(c) => Step::Char(c, 2),
            None => Step::Illegal, // never: the table holds no surrogates
        }
    }

    fn error_at(&self, i: usize, input: &[u8], reason: Reason) -> DecodeError {
        let start = self.fed + i as u64;
        self.error(start, start + 1, input[i], reason)
    }

    fn error(&self, offset: u64, end: u64, byte: u8, reason: Reason) -> DecodeError {
        DecodeError {
            codec: self.codec.name(),
            offset,
            end,
            byte,
            reason,
        }
    }
}

/// How many bytes at the start of `s` are ASCII.
#[inline]
fn ascii_prefix(s: &[u8]) -> usize {
    let mut n = 0;
    // Whole 16-byte chunks first: slice `is_ascii` tests a word at a time.
    for chunk in s.chunks(16) {
        if chunk.is_ascii() {
            n += chunk.len();
        } else {
            return n + chunk.iter().take_while(|b| b.is_ascii()).count();
        }
    }
    n
}

/// Index into [`TWO_BYTE`] of lead `b1`, trail `b2`, if both are in range.
#[inline(always)]
fn two_byte_index(b1: u8, b2: u8) -> Option<usize> {
    let lead = b1.wrapping_sub(0x81);
    let trail = TRAIL_POSITION[b2 as usize];
    if lead < 126 && trail != NO_TRAIL {
        Some(lead as usize * 190 + trail as usize)
    } else {
        None
    }
}

/// A four-byte sequence's character (`b2` is a digit).
#[inline]
fn four_byte(b1: u8, b2: u8, b3: u8, b4: u8) -> Option<char> {
    let (c1, c3, c4) = (
        b1.wrapping_sub(0x81),
        b3.wrapping_sub(0x81),
        b4.wrapping_sub(0x30),
    );
    if c1 > 0x7D || c3 > 0x7D || c4 > 9 {
        return None;
    }
    let linear = (c1 as u32 * 10 + (b2 - 0x30) as u32) * 1260 + c3 as u32 * 10 + c4 as u32;
    if c1 < 4 {
        if linear >= BMP_LINEAR_END {
            return None;
        }
        // The last range starting at or before `linear`.
        let r = tables::FOUR_BYTE_BMP.partition_point(|&(first, _)| first as u32 <= linear) - 1;
        let (first, cp) = tables::FOUR_BYTE_BMP[r];
        char::from_u32(cp as u32 + (linear - first as u32))
    } else if c1 >= 15 {
        // Leads 90..E3: U+10000 onwards, in order.
        let cp = 0x10000 + linear - 15 * 12600;
        if cp <= 0x10FFFF {
            char::from_u32(cp)
        } else {
            None
        }
    } else {
        None
    }
}

/// Four-byte linear indexes below this map into the BMP (81 30 81 30 ..
/// 84 31 A4 39).
const BMP_LINEAR_END: u32 = 39420;

const NO_TRAIL: u8 = 0xFF;

/// A trail byte's position among the 190 (40..7E, 80..FE).
static TRAIL_POSITION: [u8; 256] = {
    let mut t = [NO_TRAIL; 256];
    let mut b = 0x40;
    while b <= 0xFE {
        if b != 0x7F {
            t[b] = (b - 0x40 - (b > 0x7F) as usize) as u8;
        }
        b += 1;
    }
    t
};

const TWO_BYTE_CODES: usize = 126 * 190;

/// Every two-byte code's character under Python's `gb18030`, row by row
/// (lead 81..FE, then trail), expanded at compile time from the generated
/// token stream. A malformed stream fails the build, not a run.
static TWO_BYTE: [u16; TWO_BYTE_CODES] = expand_two_byte(include_bytes!("gb18030/two_byte.bin"));

/// The token format (written by `tests/oracle/gen_gb18030.py`); each token
/// emits code points relative to the previous one, `prev`, starting at 0:
/// `01..3F`: that many entries prev+1, prev+2, ...;
/// `40..7F`: one entry prev + (t - 0x40 + 2);
/// `80..FF x`: one entry 0x4E00 + ((t & 0x7F) << 8 | x) (the CJK block);
/// `00 hi lo`: one entry hi << 8 | lo.
const fn expand_two_byte(tokens: &[u8]) -> [u16; TWO_BYTE_CODES] {
    let mut table = [0u16; TWO_BYTE_CODES];
    let (mut n, mut i, mut prev) = (0, 0, 0u32);
    while i < tokens.len() {
        let t = tokens[i];
        let mut run = 1;
        let cp;
        if t == 0 {
            cp = (tokens[i + 1] as u32) << 8 | tokens[i + 2] as u32;
            i += 3;
        } else if t < 0x40 {
            run = t as usize;
            cp = prev + 1;
            i += 1;
        } else if t < 0x80 {
            cp = prev + (t as u32 - 0x40 + 2);
            i += 1;
        } else {
            cp = 0x4E00 + (((t & 0x7F) as u32) << 8 | tokens[i + 1] as u32);
            i += 2;
        }
        let mut k = 0;
        while k < run {
            let c = cp + k as u32;
            // What Stage::push_bmp can encode.
            if c < 0x80 || c > 0xFFFF || (c >= 0xD800 && c <= 0xDFFF) {
                panic!("two_byte.bin holds a code point that is not a BMP character past ASCII");
            }
            table[n] = c as u16;
            n += 1;
            k += 1;
        }
        prev = cp + run as u32 - 1;
    }
    if n != TWO_BYTE_CODES {
        panic!("two_byte.bin does not hold 126 x 190 codes");
    }
    table
}

#[inline(always)]
fn gbk_missing(idx: usize) -> bool {
    GBK_MISSING[idx / 64] >> (idx % 64) & 1 == 1
}

/// A bit per two-byte code: set when Python's `gbk` rejects it.
static GBK_MISSING: [u64; TWO_BYTE_CODES.div_ceil(64)] = {
    let mut bits = [0u64; TWO_BYTE_CODES.div_ceil(64)];
    let mut r = 0;
    while r < tables::GBK_HOLES.len() {
        let (mut i, last) = (
            tables::GBK_HOLES[r].0 as usize,
            tables::GBK_HOLES[r].1 as usize,
        );
        while i <= last {
            bits[i / 64] |= 1 << (i % 64);
            i += 1;
        }
        r += 1;
    }
    bits
};

/// How many bytes the stage holds before it is flushed.
const STAGE: usize = 4096;

/// Decoded text on its way to the caller's String: whole characters as
/// UTF-8 bytes, checked once per flush. Safe Rust appends bytes to a String
/// only through a UTF-8 check, and checking a few KB at a time (simdutf8)
/// is much cheaper than pushing each char; with it the decoder keeps up
/// with encoding_rs (benches/gb18030.rs).
#[derive(Debug, Clone, Default)]
struct Stage {
    buf: Vec<u8>,
}

impl Stage {
    #[inline(always)]
    fn room(&mut self, out: &mut String) {
        if self.buf.len() >= STAGE {
            self.flush(out);
        }
    }

    #[inline(always)]
    fn push_byte(&mut self, b: u8, out: &mut String) {
        self.room(out);
        self.buf.push(b);
    }

    /// A code point from the two-byte table: U+0080..U+FFFF, no surrogate
    /// (checked when the table is built).
    #[inline(always)]
    fn push_bmp(&mut self, c: u16, out: &mut String) {
        self.room(out);
        let c = c as u32;
        if c >= 0x800 {
            self.buf.extend_from_slice(&[
                0xE0 | (c >> 12) as u8,
                0x80 | (c >> 6 & 0x3F) as u8,
                0x80 | (c & 0x3F) as u8,
            ]);
        } else {
            self.buf
                .extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
        }
    }

    #[inline]
    fn push_char(&mut self, c: char, out: &mut String) {
        self.room(out);
        self.buf
            .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }

    /// An ASCII run.
    fn push_ascii(&mut self, s: &[u8], out: &mut String) {
        if self.buf.len() + s.len() <= STAGE {
            self.buf.extend_from_slice(s);
        } else {
            self.flush(out);
            out.push_str(simdutf8::basic::from_utf8(s).expect("ASCII is UTF-8"));
        }
    }

    fn flush(&mut self, out: &mut String) {
        let text = simdutf8::basic::from_utf8(&self.buf);
        out.push_str(text.expect("the stage holds whole characters"));
        self.buf.clear();
    }
}

/// Streamed UTF-8, as Python's `utf-8` / `utf-8-sig` codecs decode: the
/// detection pass (is the whole file UTF-8?) and the decoding pass of the
/// reference's rule, a block at a time. Python and std accept exactly the
/// same bytes (no surrogates, no overlongs, nothing past U+10FFFF).
#[derive(Debug, Clone, Default)]
pub struct Utf8Decoder {
    /// `utf-8-sig`: drop one leading BOM.
    strip_bom: bool,
    carry: [u8; 4],
    carry_len: usize,
    fed: u64,
    failed: Option<DecodeError>,
}

impl Utf8Decoder {
    /// Python's `utf-8-sig` (`strip_bom`) or `utf-8`.
    pub fn new(strip_bom: bool) -> Self {
        Utf8Decoder {
            strip_bom,
            ..Utf8Decoder::default()
        }
    }

    /// Validate the next block without keeping its text: the detection
    /// pass. `Ok` after the `last` block means the whole input is UTF-8.
    pub fn check(&mut self, input: &[u8], last: bool) -> Result<(), DecodeError> {
        self.run(input, last, &mut |_| ())
    }

    /// Decode the next block, appending its text to `out`.
    pub fn decode(
        &mut self,
        input: &[u8],
        last: bool,
        out: &mut String,
    ) -> Result<(), DecodeError> {
        out.reserve(input.len());
        self.run(input, last, &mut |s| out.push_str(s))
    }

    fn run(
        &mut self,
        input: &[u8],
        last: bool,
        sink: &mut dyn FnMut(&str),
    ) -> Result<(), DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.run_block(input, last, sink);
        self.fed += input.len() as u64;
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn run_block(
        &mut self,
        input: &[u8],
        last: bool,
        sink: &mut dyn FnMut(&str),
    ) -> Result<(), DecodeError> {
        let mut i = 0;
        // Finish the character the previous block cut (`i` bytes of it are
        // from this block).
        while self.carry_len > 0 {
            let start = self.fed + i as u64 - self.carry_len as u64;
            match std::str::from_utf8(&self.carry[..self.carry_len]) {
                Ok(s) => {
                    self.emit(s, start, sink);
                    self.carry_len = 0;
                }
                Err(e) if e.error_len().is_some() => {
                    let end = start + e.error_len().unwrap_or(1) as u64;
                    return Err(utf8_error(
                        start,
                        end,
                        self.carry[0],
                        Reason::InvalidContinuation,
                    ));
                }
                Err(_) => match input.get(i) {
                    Some(&b) => {
                        self.carry[self.carry_len] = b;
                        self.carry_len += 1;
                        i += 1;
                    }
                    None if last => {
                        let end = start + self.carry_len as u64;
                        return Err(utf8_error(start, end, self.carry[0], Reason::UnexpectedEnd));
                    }
                    None => return Ok(()),
                },
            }
        }
        let rest = &input[i..];
        let base = self.fed + i as u64;
        // A character cut by the block's end waits for the next block, so
        // the common case validates each byte once.
        let cut = if last {
            rest.len()
        } else {
            rest.len() - cut_tail(rest)
        };
        if let Ok(s) = simdutf8::basic::from_utf8(&rest[..cut]) {
            self.emit(s, base, sink);
            let tail = &rest[cut..];
            self.carry[..tail.len()].copy_from_slice(tail);
            self.carry_len = tail.len();
            return Ok(());
        }
        // Invalid: judge the whole block, the tail too, as Python would.
        match simdutf8::compat::from_utf8(rest) {
            Ok(s) => self.emit(s, base, sink),
            Err(e) => {
                let valid = e.valid_up_to();
                // The prefix is valid by the error's own account.
                if let Ok(s) = std::str::from_utf8(&rest[..valid]) {
                    self.emit(s, base, sink);
                }
                let start = base + valid as u64;
                let bad = &rest[valid..];
                match e.error_len() {
                    Some(len) => {
                        // Python's wording: a byte that can start a character
                        // was let down by the next one; any other cannot.
                        let reason = if (0xC2..=0xF4).contains(&bad[0]) {
                            Reason::InvalidContinuation
                        } else {
                            Reason::InvalidStart
                        };
                        return Err(utf8_error(start, start + len as u64, bad[0], reason));
                    }
                    None if last => {
                        let end = start + bad.len() as u64;
                        return Err(utf8_error(start, end, bad[0], Reason::UnexpectedEnd));
                    }
                    None => {
                        self.carry[..bad.len()].copy_from_slice(bad);
                        self.carry_len = bad.len();
                    }
                }
            }
        }
        Ok(())
    }

    /// Pass on text that starts at absolute offset `at`, minus a leading BOM.
    fn emit(&self, s: &str, at: u64, sink: &mut dyn FnMut(&str)) {
        if at == 0 && self.strip_bom {
            sink(s.strip_prefix('\u{FEFF}').unwrap_or(s));
        } else {
            sink(s);
        }
    }
}

/// How many bytes at the end of `s` begin a character that the end cuts.
fn cut_tail(s: &[u8]) -> usize {
    for k in 1..=s.len().min(3) {
        let b = s[s.len() - k];
        if b & 0xC0 != 0x80 {
            let need = match b {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => return 0,
            };
            return if need > k { k } else { 0 };
        }
    }
    0
}

fn utf8_error(offset: u64, end: u64, byte: u8, reason: Reason) -> DecodeError {
    DecodeError {
        codec: "utf-8",
        offset,
        end,
        byte,
        reason,
    }
}

/// A CSV's text encoding as the reference picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// `utf-8-sig`: UTF-8, one leading BOM dropped.
    Utf8Sig,
    /// `utf-8`: only when forced.
    Utf8,
    Gb(Codec),
}

/// Block size of the streamed helpers.
const READ_BLOCK: usize = 64 << 10;

/// The reference's rule, streamed: `utf-8-sig` when the whole input is
/// UTF-8 (Python's `data.decode('utf-8')`), else `gb18030`. Reads to the
/// end, or to the first byte that is not UTF-8.
///
/// Beyond the codecs, pandas' C parser drops one more leading U+FEFF from
/// the decoded text, whichever the encoding (a GB18030 file starting
/// `84 31 95 33`, a UTF-8 file with two BOMs): that is the CSV reader's
/// business, not this module's.
pub fn detect<R: std::io::Read>(mut input: R) -> std::io::Result<TextEncoding> {
    let mut check = Utf8Decoder::new(false);
    let mut block = vec![0; READ_BLOCK];
    loop {
        let n = read_some(&mut input, &mut block)?;
        if check.check(&block[..n], n == 0).is_err() {
            return Ok(TextEncoding::Gb(Codec::Gb18030));
        }
        if n == 0 {
            return Ok(TextEncoding::Utf8Sig);
        }
    }
}

/// `read` that retries on `Interrupted`.
fn read_some<R: std::io::Read>(input: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

enum AnyDecoder {
    Utf8(Utf8Decoder),
    Gb(Decoder),
}

/// Bytes in, UTF-8 out: wraps a reader of encoded text (a CSV file) so that
/// a UTF-8 consumer (the csv crate) reads it a block at a time, in bounded
/// memory. An undecodable input is an `InvalidData` error whose inner error
/// is the [`DecodeError`] (`get_ref()` / `into_inner()` and downcast).
pub struct DecodeReader<R> {
    inner: R,
    decoder: AnyDecoder,
    block: Vec<u8>,
    text: String,
    /// Bytes of `text` already handed out.
    pos: usize,
    done: bool,
}

impl<R: std::io::Read> DecodeReader<R> {
    pub fn new(inner: R, encoding: TextEncoding) -> Self {
        let decoder = match encoding {
            TextEncoding::Utf8Sig => AnyDecoder::Utf8(Utf8Decoder::new(true)),
            TextEncoding::Utf8 => AnyDecoder::Utf8(Utf8Decoder::new(false)),
            TextEncoding::Gb(codec) => AnyDecoder::Gb(Decoder::with_codec(codec)),
        };
        DecodeReader {
            inner,
            decoder,
            block: vec![0; READ_BLOCK],
            text: String::new(),
            pos: 0,
            done: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Decode blocks until there is text to give (a block can decode to
        // nothing: a sequence cut at its end, or a BOM).
        while self.pos == self.text.len() && !self.done {
            let n = read_some(&mut self.inner, &mut self.block)?;
            self.done = n == 0;
            self.text.clear();
            self.pos = 0;
            let input = &self.block[..n];
            let result = match &mut self.decoder {
                AnyDecoder::Utf8(d) => d.decode(input, self.done, &mut self.text),
                AnyDecoder::Gb(d) => d.decode(input, self.done, &mut self.text),
            };
            if let Err(e) = result {
                // What decoded before the error is dropped: the file is
                // unreadable anyway.
                self.done = true;
                self.text.clear();
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
            }
        }
        let rest = &self.text.as_bytes()[self.pos..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
