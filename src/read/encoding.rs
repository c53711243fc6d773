//! CSV text encodings: the labels `--encoding` takes, and decoding a file
//! as the reference does (UTF-8 when the whole file is valid UTF-8, BOM
//! dropped, else GB18030 exactly as CPython's codec).
//!
//! A file is decoded as a stream ([`open_text`]): the detection pass reads
//! the file once in blocks (is it all UTF-8?), then the chosen decoder runs
//! block by block under the CSV parser, so a CSV costs its parsed fields
//! in memory, not its bytes plus its text.

use std::io::{Read, Seek, SeekFrom};

use super::gb18030::{self, Codec, DecodeError, DecodeReader, Decoder, TextEncoding, Utf8Decoder};
use crate::error::FileErrorKind;
use crate::progress::ByteCount;

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
            Err(_) => {
                let mut not_utf8 = Utf8Decoder::new(true);
                let why = not_utf8.check(bytes, true).err();
                gb(Codec::Gb18030, bytes).map_err(|e| match (e, why) {
                    (FileErrorKind::Encoding { offset, .. }, Some(u)) => {
                        let mut d = Decoder::new();
                        let reason = d
                            .decode(bytes, true, &mut String::new())
                            .err()
                            .map_or("illegal multibyte sequence", |g| g.reason.as_str());
                        FileErrorKind::Undecodable {
                            utf8: u.offset,
                            utf8_reason: u.reason.as_str(),
                            gb18030: offset as u64,
                            gb18030_reason: reason,
                        }
                    }
                    (e, _) => e,
                })
            }
        },
    }
}

/// Bytes of decoded text read at a time by the streamed decoders.
const BLOCK: usize = 64 << 10;

/// Where a streamed decode of a CSV stands: which encoding was chosen and,
/// when it was the reference's fallback, why UTF-8 was not.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub forced: Option<Encoding>,
    /// The auto rule fell back to GB18030 at this UTF-8 error.
    pub not_utf8: Option<DecodeError>,
}

impl Chosen {
    /// The file error for a decode error of the chosen decoder: the
    /// encoding and the absolute byte offset; after the fallback, both
    /// encodings tried, each with its first bad byte (CPython's reason).
    pub fn error(&self, e: &DecodeError) -> FileErrorKind {
        match (&self.forced, &self.not_utf8) {
            (None, Some(u)) => FileErrorKind::Undecodable {
                utf8: u.offset,
                utf8_reason: u.reason.as_str(),
                gb18030: e.offset,
                gb18030_reason: e.reason.as_str(),
            },
            (forced, _) => FileErrorKind::Encoding {
                encoding: forced.map_or(e.codec, |f| f.name()),
                offset: e.offset as usize,
            },
        }
    }
}

/// The decode error carried by an I/O error of [`open_text`]'s reader.
pub fn decode_error(e: &std::io::Error) -> Option<&DecodeError> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<DecodeError>())
}

/// Decode `file` as a stream, as the reference decides: the forced
/// encoding, else UTF-8 (one BOM dropped) when the whole file is UTF-8,
/// else GB18030. The detection reads the file once in blocks and rewinds;
/// the reader returned decodes block by block. An undecodable byte is an
/// `InvalidData` error carrying the [`DecodeError`] ([`decode_error`]).
pub fn open_text(
    mut file: std::fs::File,
    forced: Option<Encoding>,
) -> Result<(Box<dyn Read + Send>, Chosen), FileErrorKind> {
    // The decoding pass is counted for the progress bar (the file's
    // encoded bytes, as the decoder pulls them); the detection pass is not.
    let text = |enc: TextEncoding, file| -> Box<dyn Read + Send> {
        Box::new(DecodeReader::new(ByteCount::new(file), enc))
    };
    let mut chosen = Chosen {
        forced,
        not_utf8: None,
    };
    let reader = match forced {
        Some(Encoding::Utf8) => text(TextEncoding::Utf8Sig, file),
        Some(Encoding::Gb(codec)) => text(TextEncoding::Gb(codec), file),
        Some(Encoding::Other(enc)) => Box::new(OtherReader::new(ByteCount::new(file), enc)),
        None => {
            let mut check = Utf8Decoder::new(false);
            let mut block = vec![0; BLOCK];
            loop {
                let n = match file.read(&mut block) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    r => r.map_err(FileErrorKind::open)?,
                };
                if let Err(e) = check.check(&block[..n], n == 0) {
                    chosen.not_utf8 = Some(e);
                    break;
                }
                if n == 0 {
                    break;
                }
            }
            file.seek(SeekFrom::Start(0)).map_err(FileErrorKind::open)?;
            if chosen.not_utf8.is_some() {
                text(TextEncoding::Gb(Codec::Gb18030), file)
            } else {
                text(TextEncoding::Utf8Sig, file)
            }
        }
    };
    Ok((reader, chosen))
}

/// A forced encoding of encoding_rs (`--encoding big5`, ...) decoded as a
/// stream, like [`DecodeReader`] does for the CPython-exact codecs.
struct OtherReader<R> {
    inner: R,
    enc: &'static encoding_rs::Encoding,
    decoder: encoding_rs::Decoder,
    block: Vec<u8>,
    text: String,
    pos: usize,
    fed: u64,
    done: bool,
}

impl<R: Read> OtherReader<R> {
    fn new(inner: R, enc: &'static encoding_rs::Encoding) -> Self {
        OtherReader {
            inner,
            enc,
            decoder: enc.new_decoder_without_bom_handling(),
            block: vec![0; BLOCK],
            text: String::new(),
            pos: 0,
            fed: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for OtherReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.text.len() && !self.done {
            let n = loop {
                match self.inner.read(&mut self.block) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    r => break r?,
                }
            };
            self.done = n == 0;
            self.text.clear();
            self.pos = 0;
            let mut used = 0;
            loop {
                let input = &self.block[used..n];
                let cap = self
                    .decoder
                    .max_utf8_buffer_length_without_replacement(input.len())
                    .unwrap_or(input.len() * 4 + 16);
                self.text.reserve(cap);
                let (res, read) = self.decoder.decode_to_string_without_replacement(
                    input,
                    &mut self.text,
                    self.done,
                );
                used += read;
                match res {
                    encoding_rs::DecoderResult::InputEmpty => break,
                    encoding_rs::DecoderResult::OutputFull => continue,
                    encoding_rs::DecoderResult::Malformed(bad, after) => {
                        self.done = true;
                        let at = used.saturating_sub(bad as usize + after as usize);
                        let offset = self.fed + at as u64;
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            DecodeError {
                                codec: self.enc.name(),
                                offset,
                                end: offset + u64::from(bad.max(1)),
                                byte: self.block.get(at).copied().unwrap_or(0),
                                reason: gb18030::Reason::Illegal,
                            },
                        ));
                    }
                }
            }
            self.fed += n as u64;
        }
        let rest = &self.text.as_bytes()[self.pos..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}
