//! Decode throughput of the Python-exact GB18030 decoder against
//! encoding_rs's (WHATWG) on ~50 MB of generated GBK chat CSV, whole and in
//! 64 KiB blocks; plus the streamed UTF-8 check on the same text as UTF-8.
//!
//!     cargo bench --bench gb18030
//!
//! On the 2-core development machine, shared and loaded (load ~9), MiB/s of
//! GBK input, criterion's median: whole file, python-exact 148 vs
//! encoding_rs 136; 64 KiB blocks 130 vs 158; DecodeReader 157; the UTF-8
//! check 4.4 GiB/s. The spread between runs is wider than the gap: under
//! cachegrind both decoders execute ~22 instructions per input byte.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sheetsift::read::gb18030::{
    max_utf8_len, Codec, DecodeReader, Decoder, TextEncoding, Utf8Decoder,
};

const SIZE: usize = 50 << 20;
const BLOCK: usize = 64 << 10;

/// Deterministic chat-export lines: an id, an agent, a flag and a message
/// of GB2312 hanzi with full-width punctuation, ASCII words and digits, and
/// a rare emoji (a four-byte sequence).
fn gbk_csv() -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut out = Vec::with_capacity(SIZE + 256);
    let mut row = 0u64;
    while out.len() < SIZE {
        row += 1;
        out.extend_from_slice(format!("{row},agent{},", next(50)).as_bytes());
        out.extend_from_slice(if next(2) == 0 {
            b"\xca\xc7,"
        } else {
            b"\xb7\xf1,"
        }); // 是 / 否
        for _ in 0..10 + next(70) {
            match next(100) {
                0..=84 => {
                    out.extend_from_slice(&[0xB0 + next(0x47) as u8, 0xA1 + next(0x5E) as u8])
                }
                85..=91 => {
                    out.extend_from_slice([b"\xa3\xac", b"\xa1\xa3", b"\xa3\xbf"][next(3) as usize])
                }
                92..=98 => out.push(b"abcxyz0123456789 "[next(17) as usize]),
                _ if next(10) == 0 => out.extend_from_slice(b"\x94\x39\xfc\x36"), // U+1F600
                _ => out.extend_from_slice(b"OK"),
            }
        }
        out.extend_from_slice(b",2024-05-01 12:34:56\n");
    }
    out
}

fn bench(c: &mut Criterion) {
    let gbk = gbk_csv();
    let text = {
        let mut s = String::new();
        Decoder::new()
            .decode(&gbk, true, &mut s)
            .expect("generated GBK");
        s
    };
    let mut g = c.benchmark_group("gb18030");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(gbk.len() as u64));
    g.bench_function("encoding_rs whole", |b| {
        b.iter(|| {
            let mut d = encoding_rs::GB18030.new_decoder_without_bom_handling();
            let mut s = String::with_capacity(max_utf8_len(gbk.len()));
            let (r, _) = d.decode_to_string_without_replacement(&gbk, &mut s, true);
            assert_eq!(r, encoding_rs::DecoderResult::InputEmpty);
            s.len()
        })
    });
    g.bench_function("python-exact whole", |b| {
        b.iter(|| {
            let mut s = String::new();
            Decoder::new().decode(&gbk, true, &mut s).expect("valid");
            s.len()
        })
    });
    g.bench_function("encoding_rs 64KiB blocks", |b| {
        b.iter(|| {
            let mut d = encoding_rs::GB18030.new_decoder_without_bom_handling();
            let mut s = String::with_capacity(max_utf8_len(BLOCK));
            let mut n = 0;
            let blocks: Vec<&[u8]> = gbk.chunks(BLOCK).collect();
            for (i, block) in blocks.iter().enumerate() {
                s.clear();
                let last = i + 1 == blocks.len();
                let (r, _) = d.decode_to_string_without_replacement(block, &mut s, last);
                assert_eq!(r, encoding_rs::DecoderResult::InputEmpty);
                n += s.len();
            }
            n
        })
    });
    g.bench_function("python-exact 64KiB blocks", |b| {
        b.iter(|| {
            let mut d = Decoder::new();
            let mut s = String::new();
            let mut n = 0;
            let blocks: Vec<&[u8]> = gbk.chunks(BLOCK).collect();
            for (i, block) in blocks.iter().enumerate() {
                s.clear();
                d.decode(block, i + 1 == blocks.len(), &mut s)
                    .expect("valid");
                n += s.len();
            }
            n
        })
    });
    g.bench_function("python-exact DecodeReader to io::sink", |b| {
        b.iter(|| {
            let mut r = DecodeReader::new(gbk.as_slice(), TextEncoding::Gb(Codec::Gb18030));
            std::io::copy(&mut r, &mut std::io::sink()).expect("valid")
        })
    });
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("utf-8 check 64KiB blocks (same text as UTF-8)", |b| {
        b.iter(|| {
            let mut d = Utf8Decoder::new(true);
            let blocks: Vec<&[u8]> = text.as_bytes().chunks(BLOCK).collect();
            for (i, block) in blocks.iter().enumerate() {
                d.check(block, i + 1 == blocks.len()).expect("utf-8");
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
