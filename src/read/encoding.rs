//! CSV text encodings: the labels `--encoding` takes, and decoding a file
//! as the reference does (UTF-8 when the whole file is valid UTF-8, BOM
//! dropped, else GB18030 exactly as CPython's codec).

use super::gb18030::{self, Codec, Decoder};
use crate::error::FileErrorKind;

/// A CSV text encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// GB18030 or GBK exactly as CPython's codecs decode them (not the
    /// WHATWG mapping encoding_rs implements: see [`gb18030`]).
    Gb(Codec),
    Other(&'static encoding_rs::Encoding),
}

impl Encoding {
    /// From a label such as `utf-8`, `utf-8-sig`, `gb18030`, `gbk`, `big5`.
    pub fn from_label(label: &str) -> Option<Encoding> {
        let l = label.trim().to_ascii_lowercase();
        if matches!(
            l.as_str(),
            "utf-8" | "utf8" | "utf-8-sig" | "utf_8" | "utf_8_sig"
        ) {
            return Some(Encoding::Utf8);
        }
        match l.replace('_', "-").as_str() {
            "gb18030" | "gb18030-2000" => return Some(Encoding::Gb(Codec::Gb18030)),
            "gbk" | "cp936" | "936" | "ms936" => return Some(Encoding::Gb(Codec::Gbk)),
            _ => {}
        }
        encoding_rs::Encoding::for_label(l.as_bytes()).map(|e| {
            if e == encoding_rs::UTF_8 {
                Encoding::Utf8
            } else {
                Encoding::Other(e)
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb(c) => c.name(),
            Encoding::Other(e) => e.name(),
        }
    }
}

/// Decode CSV bytes: the forced encoding, or UTF-8 when the whole input is
/// valid UTF-8, else GB18030. A leading UTF-8 BOM is dropped. Malformed
/// input in the chosen encoding is an error naming the first bad byte.
pub fn decode(bytes: &[u8], forced: Option<Encoding>) -> Result<String, FileErrorKind> {
    let utf8 = |b: &[u8]| -> Result<String, FileErrorKind> {
        let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|e| FileErrorKind::Encoding {
                encoding: "UTF-8",
                offset: e.valid_up_to(),
            })
    };
    let other = |enc: &'static encoding_rs::Encoding, b: &[u8]| -> Result<String, FileErrorKind> {
        let mut decoder = enc.new_decoder_without_bom_handling();
        let mut out = String::with_capacity(b.len() * 3 / 2 + 16);
        let cap = decoder
            .max_utf8_buffer_length_without_replacement(b.len())
            .unwrap_or(b.len() * 4);
        out.reserve(cap);
        let (res, read) = decoder.decode_to_string_without_replacement(b, &mut out, true);
        match res {
            encoding_rs::DecoderResult::InputEmpty => Ok(out),
            _ => Err(FileErrorKind::Encoding {
                encoding: enc.name(),
                offset: read,
            }),
        }
    };
    let gb = |codec: Codec, b: &[u8]| -> Result<String, FileErrorKind> {
        let mut out = String::with_capacity(gb18030::max_utf8_len(b.len()));
        Decoder::with_codec(codec)
            .decode(b, true, &mut out)
            .map(|()| out)
            .map_err(|e| FileErrorKind::Encoding {
                encoding: codec.name(),
                offset: e.offset as usize,
            })
    };
    match forced {
        Some(Encoding::Utf8) => utf8(bytes),
        Some(Encoding::Gb(codec)) => gb(codec, bytes),
        Some(Encoding::Other(enc)) => other(enc, bytes),
        None => match utf8(bytes) {
            Ok(s) => Ok(s),
            Err(_) => gb(Codec::Gb18030, bytes),
        },
    }
}
