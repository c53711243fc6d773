//! The decoder against CPython 3.11: checksums of Python's outcome on every
//! input (computed by tests/oracle/gen_gb18030.py, recomputed here),
//! Python's words for hand-picked cases, the exact list of differences from
//! encoding_rs, and streaming at every block boundary.

use super::tables::checksums;
use super::*;

/// The generator's sampled third and fourth bytes of four-byte inputs.
fn b3_sample() -> Vec<u8> {
    [0x00, 0x30, 0x39, 0x7F]
        .into_iter()
        .chain(0x80..=0xFF)
        .collect()
}

fn b4_sample() -> Vec<u8> {
    [0x00, 0x2F]
        .into_iter()
        .chain(0x30..=0x3A)
        .chain([0x7F, 0x80, 0xFF])
        .collect()
}

/// Python's outcome word (see the generator): the code point, or
/// 0x80000000 | start << 16 | end << 8 | reason (1 illegal, 2 incomplete).
fn outcome(codec: Codec, input: &[u8]) -> u32 {
    let mut out = String::new();
    match Decoder::with_codec(codec).decode(input, true, &mut out) {
        Ok(()) => {
            let mut chars = out.chars();
            let c = chars.next().expect("one character");
            assert!(chars.next().is_none(), "{input:02X?} gave {out:?}");
            c as u32
        }
        Err(e) => {
            let reason = match e.reason {
                Reason::Illegal => 1,
                Reason::Incomplete => 2,
                r => panic!("{r:?}"),
            };
            0x8000_0000 | (e.offset as u32) << 16 | (e.end as u32) << 8 | reason
        }
    }
}

#[derive(Default)]
struct Fnv {
    n: u64,
    h: u64,
}

impl Fnv {
    fn new() -> Self {
        Fnv {
            n: 0,
            h: 0xCBF2_9CE4_8422_2325,
        }
    }
    fn add(&mut self, word: u32) {
        for b in word.to_le_bytes() {
            self.h = (self.h ^ b as u64).wrapping_mul(0x0100_0000_01B3);
        }
        self.n += 1;
    }
    fn get(&self) -> (u64, u64) {
        (self.n, self.h)
    }
}

fn checksum(codec: Codec, inputs: impl Iterator<Item = Input>) -> (u64, u64) {
    let mut f = Fnv::new();
    for input in inputs {
        f.add(outcome(codec, &input));
    }
    f.get()
}

/// An input of up to four bytes, without an allocation per input (these
/// spaces hold millions).
#[derive(Clone, Copy)]
struct Input([u8; 4], usize);

impl std::ops::Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

fn ones() -> impl Iterator<Item = Input> {
    (0..=0xFFu8).map(|b| Input([b, 0, 0, 0], 1))
}

fn twos() -> impl Iterator<Item = Input> {
    (0x80..=0xFFu8).flat_map(|b1| (0..=0xFFu8).map(move |b2| Input([b1, b2, 0, 0], 2)))
}

fn threes() -> impl Iterator<Item = Input> {
    (0x80..=0xFFu8).flat_map(|b1| {
        (0x30..=0x39u8).flat_map(move |b2| (0..=0xFFu8).map(move |b3| Input([b1, b2, b3, 0], 3)))
    })
}

fn fours() -> impl Iterator<Item = Input> {
    let (s3, s4) = (b3_sample(), b4_sample());
    (0x80..=0xFFu8).flat_map(move |b1| {
        let (s3, s4) = (s3.clone(), s4.clone());
        (0x30..=0x39u8).flat_map(move |b2| {
            let s4 = s4.clone();
            s3.clone().into_iter().flat_map(move |b3| {
                s4.clone()
                    .into_iter()
                    .map(move |b4| Input([b1, b2, b3, b4], 4))
            })
        })
    })
}

#[test]
fn every_one_and_two_byte_input_decodes_as_python() {
    assert_eq!(checksum(Codec::Gb18030, ones()), checksums::ONE);
    assert_eq!(checksum(Codec::Gb18030, twos()), checksums::TWO);
    assert_eq!(checksum(Codec::Gbk, ones()), checksums::GBK_ONE);
    assert_eq!(checksum(Codec::Gbk, twos()), checksums::GBK_TWO);
    let mut f = Fnv::new();
    for c in TWO_BYTE {
        f.add(c as u32);
    }
    assert_eq!(f.get(), checksums::TABLE);
}

#[test]
fn every_three_and_four_byte_input_decodes_as_python() {
    assert_eq!(checksum(Codec::Gb18030, threes()), checksums::THREE);
    assert_eq!(checksum(Codec::Gb18030, fours()), checksums::FOUR);
}

/// Python 3.11's results, printed by the interpreter.
#[test]
fn boundary_cases_decode_as_python() {
    let ok = |hex: &str, cp: u32| {
        let bytes = hex_bytes(hex);
        assert_eq!(outcome(Codec::Gb18030, &bytes), cp, "{hex}");
    };
    // The BMP four-byte space: first, ends of ranges, last, past it.
    ok("81308130", 0x0080);
    ok("81308139", 0x0089);
    ok("84318730", 0xFE70);
    ok("84319533", 0xFEFF);
    ok("8431A430", 0xFFF6);
    ok("8431A439", 0xFFFF);
    // The supplementary space: first and last.
    ok("90308130", 0x10000);
    ok("E3329A35", 0x10FFFF);
    // Where Python and WHATWG part.
    ok("8135F437", 0x1E3F);
    ok("A8BC", 0xE7C7);
    ok("A3A0", 0xE5E5);
    ok("A6D9", 0xE78D);
    ok("FEA0", 0xE864);
    // Two-byte corners.
    ok("8140", 0x4E02);
    ok("A1A1", 0x3000);
    ok("A2E3", 0x20AC);
    ok("A8BF", 0x01F9);
    ok("FE50", 0x2E81);
    ok("FEFE", 0xE4C5);
    let illegal = 0x8000_0000 | 1 << 8 | 1;
    for hex in [
        "8431A530", // past U+FFFF
        "85308130", // leads 85..8F are unassigned
        "8F39FE39", "E3329A36", // past U+10FFFF
        "E4308130", "FE39FE39", "FF308130", "80308130", // bad leads
        "8130FF30", "81308030", // third byte out of 81..FE
        "8130813A", // fourth byte not a digit
        "817F", "81FF", "8020", "FF40",
    ] {
        assert_eq!(outcome(Codec::Gb18030, &hex_bytes(hex)), illegal, "{hex}");
    }
    // gbk: no four-byte sequences, no GB18030-only codes, the rest alike.
    assert_eq!(outcome(Codec::Gbk, &hex_bytes("A8BC")), illegal);
    assert_eq!(outcome(Codec::Gbk, &hex_bytes("FEFE")), illegal);
    assert_eq!(outcome(Codec::Gbk, &hex_bytes("81308130")), illegal);
    assert_eq!(outcome(Codec::Gbk, &hex_bytes("8140")), 0x4E02);
    assert_eq!(outcome(Codec::Gbk, &hex_bytes("A1A1")), 0x3000);
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn decode_all(codec: Codec, input: &[u8]) -> Result<String, DecodeError> {
    let mut out = String::new();
    Decoder::with_codec(codec)
        .decode(input, true, &mut out)
        .map(|()| out)
}

/// `str(UnicodeDecodeError)` from Python 3.11 for each input.
#[test]
fn errors_are_worded_and_placed_as_python() {
    let cases: [(&[u8], Codec, &str); 7] = [
        (
            b"ab\x80A",
            Codec::Gb18030,
            "'gb18030' codec can't decode byte 0x80 in position 2: illegal multibyte sequence",
        ),
        (
            b"ab\x80",
            Codec::Gb18030,
            "'gb18030' codec can't decode byte 0x80 in position 2: incomplete multibyte sequence",
        ),
        (
            b"ab\x810\x81",
            Codec::Gb18030,
            "'gb18030' codec can't decode bytes in position 2-4: incomplete multibyte sequence",
        ),
        (
            b"\xff\xff",
            Codec::Gb18030,
            "'gb18030' codec can't decode byte 0xff in position 0: illegal multibyte sequence",
        ),
        (
            b"x\xa8\xbcy\x815\xf47z\x841\xa50",
            Codec::Gb18030,
            "'gb18030' codec can't decode byte 0x84 in position 9: illegal multibyte sequence",
        ),
        (
            b"\xa8\xbc",
            Codec::Gbk,
            "'gbk' codec can't decode byte 0xa8 in position 0: illegal multibyte sequence",
        ),
        (
            b"a\x810\x811",
            Codec::Gbk,
            "'gbk' codec can't decode byte 0x81 in position 1: illegal multibyte sequence",
        ),
    ];
    for (input, codec, python) in cases {
        let e = decode_all(codec, input).expect_err("undecodable");
        assert_eq!(e.to_string(), python);
    }
}

/// Python's encoding of 'a你好,€\x80\xff\uffff\ufeff\U00010000\U0010ffff
/// \ue7c7\u1e3f\ue5e5\u3000𠀀z': ASCII, two-byte, BMP and supplementary
/// four-byte sequences, and the codes where WHATWG differs.
const MIXED: &str = "61c4e3bac32ca2e38130813081308b378431a4398431953390308130e3329a35a8bc8135f437a3a0a1a1953282367a";
const MIXED_TEXT: &str =
    "a你好,€\u{80}\u{ff}\u{ffff}\u{feff}\u{10000}\u{10ffff}\u{e7c7}\u{1e3f}\u{e5e5}\u{3000}\u{20000}z";

/// Decode `input` in blocks cut at `cuts` (ascending offsets).
fn decode_split(codec: Codec, input: &[u8], cuts: &[usize]) -> Result<String, DecodeError> {
    let mut d = Decoder::with_codec(codec);
    let mut out = String::new();
    let mut from = 0;
    for &cut in cuts {
        d.decode(&input[from..cut], false, &mut out)?;
        from = cut;
    }
    d.decode(&input[from..], true, &mut out).map(|()| out)
}

#[test]
fn blocks_split_anywhere_decode_as_one() {
    let input = hex_bytes(MIXED);
    assert_eq!(
        decode_all(Codec::Gb18030, &input).expect("valid"),
        MIXED_TEXT
    );
    for a in 0..=input.len() {
        for b in a..=input.len() {
            let got = decode_split(Codec::Gb18030, &input, &[a, b]).expect("valid");
            assert_eq!(got, MIXED_TEXT, "cut at {a} and {b}");
        }
    }
    let every_byte: Vec<usize> = (1..input.len()).collect();
    assert_eq!(
        decode_split(Codec::Gb18030, &input, &every_byte).expect("valid"),
        MIXED_TEXT
    );
}

#[test]
fn errors_keep_their_absolute_offset_across_blocks() {
    let mixed = hex_bytes(MIXED);
    // Each bad tail after the valid text: Python's (offset, end, reason)
    // relative to the tail, as in the outcome words.
    let tails: [(&[u8], u64, u64, Reason); 6] = [
        (b"\x80", 0, 1, Reason::Incomplete),
        (b"\x80A", 0, 1, Reason::Illegal),
        (b"\x81\x30\x81", 0, 3, Reason::Incomplete),
        (b"\x81\x30\x81\x3a", 0, 1, Reason::Illegal),
        (b"ok\x84\x31\xa5\x30", 2, 3, Reason::Illegal),
        (b"\xa1\xa1\xff\x40", 2, 3, Reason::Illegal),
    ];
    for (tail, offset, end, reason) in tails {
        let input = [mixed.as_slice(), tail].concat();
        let base = mixed.len() as u64;
        let whole = decode_all(Codec::Gb18030, &input).expect_err("bad tail");
        assert_eq!(
            (whole.offset, whole.end, whole.reason),
            (base + offset, base + end, reason)
        );
        for a in 0..=input.len() {
            for b in a..=input.len() {
                let e = decode_split(Codec::Gb18030, &input, &[a, b]).expect_err("bad tail");
                assert_eq!(e, whole, "cut at {a} and {b}");
            }
        }
    }
}

#[test]
fn a_failed_decoder_keeps_failing() {
    let mut d = Decoder::new();
    let mut out = String::new();
    let e = d
        .decode(b"a\x80b", false, &mut out)
        .expect_err("0x80 then b");
    assert_eq!(out, "a");
    assert_eq!(d.decode(b"c", true, &mut out), Err(e));
    assert_eq!(out, "a");
}

/// encoding_rs's outcome in the same words, except that an error is
/// reduced to its start (its lengths and wording are not Python's).
fn whatwg_outcome(input: &[u8]) -> u32 {
    let mut d = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(16);
    let (r, read) = d.decode_to_string_without_replacement(input, &mut out, true);
    match r {
        encoding_rs::DecoderResult::Malformed(len, extra) => {
            0x8000_0000 | ((read - len as usize - extra as usize) as u32) << 16
        }
        _ => {
            let mut chars = out.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c as u32,
                _ => 0x7FFF_FFFF, // several characters: never Python's outcome
            }
        }
    }
}

/// Step 1 of the port, kept as a test: every input of the checksummed
/// spaces through both decoders. Python (this decoder) and WHATWG
/// (encoding_rs) differ exactly on inputs led by 0x80 and on 21 codes.
#[test]
fn differences_from_encoding_rs_are_exactly_these() {
    let mut led_by_80 = 0;
    let mut others = Vec::new();
    for input in ones().chain(twos()).chain(threes()).chain(fours()) {
        let python = outcome(Codec::Gb18030, &input);
        let whatwg = whatwg_outcome(&input);
        let same = if python & 0x8000_0000 != 0 {
            whatwg & 0xFFFF_0000 == python & 0xFFFF_0000
        } else {
            whatwg == python
        };
        if same {
            continue;
        }
        if input[0] == 0x80 {
            // WHATWG reads 0x80 as U+20AC; Python rejects it.
            assert!(python & 0x8000_0000 != 0, "{:02X?}", &*input);
            led_by_80 += 1;
        } else {
            others.push((input.to_vec(), python, whatwg));
        }
    }
    // Every input led by 0x80: WHATWG always gets past it, Python fails there.
    assert_eq!(led_by_80, 1 + 256 + 10 * 256 + 10 * 132 * 16);
    let expected: Vec<(Vec<u8>, u32, u32)> = [
        ("A3A0", 0xE5E5, 0x3000),
        ("A6D9", 0xE78D, 0xFE10),
        ("A6DA", 0xE78E, 0xFE12),
        ("A6DB", 0xE78F, 0xFE11),
        ("A6DC", 0xE790, 0xFE13),
        ("A6DD", 0xE791, 0xFE14),
        ("A6DE", 0xE792, 0xFE15),
        ("A6DF", 0xE793, 0xFE16),
        ("A6EC", 0xE794, 0xFE17),
        ("A6ED", 0xE795, 0xFE18),
        ("A6F3", 0xE796, 0xFE19),
        ("A8BC", 0xE7C7, 0x1E3F),
        ("FE59", 0xE81E, 0x9FB4),
        ("FE61", 0xE826, 0x9FB5),
        ("FE66", 0xE82B, 0x9FB6),
        ("FE67", 0xE82C, 0x9FB7),
        ("FE6D", 0xE832, 0x9FB8),
        ("FE7E", 0xE843, 0x9FB9),
        ("FE90", 0xE854, 0x9FBA),
        ("FEA0", 0xE864, 0x9FBB),
        ("8135F437", 0x1E3F, 0xE7C7),
    ]
    .into_iter()
    .map(|(hex, p, w)| (hex_bytes(hex), p, w))
    .collect();
    assert_eq!(others, expected);
}

// --- UTF-8 ------------------------------------------------------------------

fn utf8_split(input: &[u8], strip_bom: bool, cuts: &[usize]) -> Result<String, DecodeError> {
    let mut d = Utf8Decoder::new(strip_bom);
    let mut check = Utf8Decoder::new(strip_bom);
    let mut out = String::new();
    let (mut decoded, mut checked) = (Ok(()), Ok(()));
    let mut from = 0;
    // A failed decoder keeps returning its error, so no early exit.
    for (i, &cut) in cuts.iter().chain([&input.len()]).enumerate() {
        let last = i == cuts.len();
        decoded = d.decode(&input[from..cut], last, &mut out);
        checked = check.check(&input[from..cut], last);
        from = cut;
    }
    let decoded = decoded.map(|()| out);
    // The detection pass agrees with the decoding pass.
    assert_eq!(checked.as_ref().err(), decoded.as_ref().err());
    decoded
}

#[test]
fn utf8_blocks_split_anywhere_decode_as_one() {
    let text = "\u{feff}a你好😀\u{feff}z";
    let input = text.as_bytes();
    for a in 0..=input.len() {
        for b in a..=input.len() {
            assert_eq!(utf8_split(input, true, &[a, b]).expect("utf-8"), &text[3..]);
            assert_eq!(utf8_split(input, false, &[a, b]).expect("utf-8"), text);
        }
    }
}

/// `str(UnicodeDecodeError)` from Python 3.11 (`data.decode('utf-8')`).
#[test]
fn utf8_errors_are_worded_and_placed_as_python() {
    let cases: [(&[u8], &str); 14] = [
        (
            b"\xf0\x9f\x98\xf0\x9f\x98",
            "bytes in position 0-2: invalid continuation byte",
        ),
        (
            b"\xe4\xc3\xa4",
            "byte 0xe4 in position 0: invalid continuation byte",
        ),
        (
            b"\xe4\xb8\xe4\xb8",
            "bytes in position 0-1: invalid continuation byte",
        ),
        (b"\xc3", "byte 0xc3 in position 0: unexpected end of data"),
        (b"\xff", "byte 0xff in position 0: invalid start byte"),
        (
            b"a\xe4\xb8",
            "bytes in position 1-2: unexpected end of data",
        ),
        (
            b"\xe4\xb8A",
            "bytes in position 0-1: invalid continuation byte",
        ),
        (
            b"\xed\xa0\x80",
            "byte 0xed in position 0: invalid continuation byte",
        ),
        (b"\xc0\x80", "byte 0xc0 in position 0: invalid start byte"),
        (
            b"\xf4\x90\x80\x80",
            "byte 0xf4 in position 0: invalid continuation byte",
        ),
        (
            b"\xe0\x80\x80",
            "byte 0xe0 in position 0: invalid continuation byte",
        ),
        (
            b"\xf0\x9f\x98",
            "bytes in position 0-2: unexpected end of data",
        ),
        (b"\x80", "byte 0x80 in position 0: invalid start byte"),
        (b"\xf5\x80", "byte 0xf5 in position 0: invalid start byte"),
    ];
    for (bad, python) in cases {
        let input = [b"ok ".as_slice(), bad].concat();
        for a in 0..=input.len() {
            for b in a..=input.len() {
                let e = utf8_split(&input, false, &[a, b]).expect_err("not utf-8");
                // Python's positions are those of `bad` alone.
                let msg = DecodeError {
                    offset: e.offset - 3,
                    end: e.end - 3,
                    ..e
                };
                let python = format!("'utf-8' codec can't decode {python}");
                assert_eq!(msg.to_string(), python, "cut at {a} and {b}");
            }
        }
    }
}

// --- Streams of sequences ----------------------------------------------------

/// The text before the first error, and the error as (offset, end, reason).
type Outcome = (String, Option<(u64, u64, Reason)>);

/// An independent decoder for concatenations: cut the input into sequences
/// by Python's first two bytes and decode each alone (what the checksums
/// pin), stopping at the first that fails.
fn one_sequence_at_a_time(input: &[u8]) -> Outcome {
    let mut out = String::new();
    let mut i = 0;
    while i < input.len() {
        if input[i] < 0x80 {
            out.push(input[i] as char); // ASCII: pinned by the checksums too
            i += 1;
            continue;
        }
        let len = match (input[i], input.get(i + 1)) {
            (_, Some(0x30..=0x39)) => 4,
            _ => 2,
        };
        let seq = &input[i..(i + len).min(input.len())];
        match decode_all(Codec::Gb18030, seq) {
            Ok(s) => out.push_str(&s),
            Err(e) => return (out, Some((i as u64 + e.offset, i as u64 + e.end, e.reason))),
        }
        i += len;
    }
    (out, None)
}

/// The decoder over blocks cut at `cuts`, going on after an error (it
/// keeps returning it) to check that no text follows it.
fn streamed(input: &[u8], cuts: &[usize]) -> Outcome {
    let mut d = Decoder::new();
    let mut out = String::new();
    let mut first = None;
    let mut from = 0;
    for (k, &cut) in cuts.iter().chain([&input.len()]).enumerate() {
        if let Err(e) = d.decode(&input[from..cut], k == cuts.len(), &mut out) {
            first.get_or_insert((e.offset, e.end, e.reason));
        }
        from = cut;
    }
    (out, first)
}

mod streams {
    use super::*;
    use proptest::prelude::*;
    use proptest::{collection, num};

    /// One assigned sequence, or an ASCII run (some longer than the stage).
    fn valid() -> impl Strategy<Value = Vec<u8>> {
        let trail = prop_oneof![0x40u8..0x7F, 0x80u8..0xFF];
        prop_oneof![
            4 => collection::vec(0u8..0x80, 1..4),
            8 => (0x81u8..0xFF, trail).prop_map(|(a, b)| vec![a, b]),
            2 => (0x81u8..0x84, 0x30u8..0x3A, 0x81u8..0xFF, 0x30u8..0x3A)
                .prop_map(|(a, b, c, d)| vec![a, b, c, d]),
            2 => (0x90u8..0xE3, 0x30u8..0x3A, 0x81u8..0xFF, 0x30u8..0x3A)
                .prop_map(|(a, b, c, d)| vec![a, b, c, d]),
            1 => (0usize..9000).prop_map(|n| vec![b'x'; n]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// Assigned sequences with, in some cases, random bytes somewhere,
        /// cut into random blocks: the same text, and the same first error,
        /// as one sequence at a time.
        #[test]
        fn streams_decode_as_their_sequences(
            mut atoms in collection::vec(valid(), 0..300),
            garbage in proptest::option::of((num::usize::ANY, collection::vec(num::u8::ANY, 1..5))),
            cuts in collection::vec(num::usize::ANY, 0..8),
        ) {
            if let Some((at, bytes)) = garbage {
                atoms.insert(at % (atoms.len() + 1), bytes);
            }
            let input = atoms.concat();
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
            cuts.sort_unstable();
            prop_assert_eq!(streamed(&input, &cuts), one_sequence_at_a_time(&input));
        }
    }
}

// --- Readers ----------------------------------------------------------------

/// A reader that hands out at most `step` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(buf.len()).min(self.step);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn read_all(data: &[u8], step: usize, encoding: TextEncoding) -> std::io::Result<String> {
    let mut text = String::new();
    let mut r = DecodeReader::new(Trickle { data, step }, encoding);
    std::io::Read::read_to_string(&mut r, &mut text)?;
    Ok(text)
}

#[test]
fn detection_is_the_references_rule() {
    let gb = hex_bytes(MIXED);
    let utf8 = ["\u{feff}", MIXED_TEXT, "好"].concat().into_bytes();
    for step in [1, 2, 3, 7, 1 << 20] {
        let detect = |d: &[u8]| detect(Trickle { data: d, step }).expect("in memory");
        assert_eq!(detect(&utf8), TextEncoding::Utf8Sig);
        assert_eq!(detect(b""), TextEncoding::Utf8Sig);
        // Valid UTF-8 up to a cut character at the very end: not UTF-8.
        assert_eq!(
            detect(&utf8[..utf8.len() - 1]),
            TextEncoding::Gb(Codec::Gb18030)
        );
        assert_eq!(detect(&gb), TextEncoding::Gb(Codec::Gb18030));
    }
}

#[test]
fn readers_decode_any_read_pattern() {
    let gb = hex_bytes(MIXED).repeat(3000); // past a 64 KiB block
    let text = MIXED_TEXT.repeat(3000);
    let utf8 = ["\u{feff}", &text].concat().into_bytes();
    for step in [1, 5, 4096, 1 << 20] {
        let gb18030 = TextEncoding::Gb(Codec::Gb18030);
        assert_eq!(read_all(&gb, step, gb18030).expect("gb18030"), text);
        assert_eq!(
            read_all(&utf8, step, TextEncoding::Utf8Sig).expect("utf-8"),
            text
        );
        assert_eq!(
            read_all(&utf8, step, TextEncoding::Utf8).expect("utf-8"),
            ["\u{feff}", &text].concat()
        );
    }
    // An error is InvalidData carrying Python's error, offset included.
    let bad = [gb.as_slice(), b"\x80A"].concat();
    let e = read_all(&bad, 4096, TextEncoding::Gb(Codec::Gb18030)).expect_err("0x80");
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    let inner = e
        .get_ref()
        .and_then(|e| e.downcast_ref::<DecodeError>())
        .expect("a DecodeError");
    assert_eq!(
        (inner.offset, inner.reason),
        (gb.len() as u64, Reason::Illegal)
    );
}
