//! The zip container of an xlsx, written by hand because its biggest
//! member arrives already deflated: a worksheet is compressed in pieces on
//! several threads (each piece a raw deflate stream ended by a sync flush,
//! as pigz does), and the pieces, one empty final block and the CRC-32s
//! combined make one valid member. Zip64 fields are used exactly where a
//! size or an offset needs them.

use std::io::{self, Write};

use flate2::{Compress, Compression, FlushCompress, Status};

/// In a 32-bit size or offset field: "the value is in the zip64 field".
const ZIP32_MAX: u64 = 0xFFFF_FFFF;
/// DOS date 1980-01-01, time 00:00 (what rust_xlsxwriter writes).
const DOS_DATE: u16 = (1 << 5) | 1;
/// A raw deflate block that ends the stream: final, fixed codes, no data.
pub const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// Raw-deflate `data` and end with a sync flush, so that the output can be
/// followed by more deflate data: appended to `out`.
pub fn deflate_piece(data: &[u8], level: u32, out: &mut Vec<u8>) {
    let mut c = Compress::new(Compression::new(level), false);
    out.reserve(data.len() / 3 + 64);
    loop {
        let consumed = c.total_in() as usize;
        let status = c
            .compress_vec(&data[consumed..], out, FlushCompress::Sync)
            .expect("deflate of in-memory data cannot fail");
        // Done when all input is taken and the flush had room to finish.
        if c.total_in() as usize == data.len() && out.len() < out.capacity() {
            debug_assert!(matches!(status, Status::Ok | Status::BufError));
            break;
        }
        out.reserve(out.capacity().max(4096));
    }
}

/// One member, as the central directory lists it.
struct Entry {
    name: String,
    crc: u32,
    compressed: u64,
    size: u64,
    offset: u64,
}

/// A zip file being written member after member to `W`.
pub struct ZipOut<W: Write> {
    out: W,
    at: u64,
    entries: Vec<Entry>,
    /// Sizes and offsets above this use zip64 fields (lowered by tests).
    zip64_above: u64,
}

impl<W: Write> ZipOut<W> {
    pub fn new(out: W) -> ZipOut<W> {
        ZipOut {
            out,
            at: 0,
            entries: Vec::new(),
            zip64_above: ZIP32_MAX - 1,
        }
    }

    /// Use zip64 fields for every size and offset above `n` (tests).
    #[doc(hidden)]
    pub fn zip64_above(mut self, n: u64) -> Self {
        self.zip64_above = n;
        self
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)?;
        self.at += b.len() as u64;
        Ok(())
    }

    /// Write the local header of a member whose deflated data (of
    /// `compressed` bytes) follows through [`ZipOut::data`].
    pub fn begin(&mut self, name: &str, crc: u32, compressed: u64, size: u64) -> io::Result<()> {
        let big = compressed > self.zip64_above || size > self.zip64_above;
        let mut h = Vec::with_capacity(64 + name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&(if big { 45u16 } else { 20 }).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // flags
        h.extend_from_slice(&8u16.to_le_bytes()); // deflate
        h.extend_from_slice(&0u16.to_le_bytes()); // time
        h.extend_from_slice(&DOS_DATE.to_le_bytes());
        h.extend_from_slice(&crc.to_le_bytes());
        let (c32, s32) = if big {
            (u32::MAX, u32::MAX)
        } else {
            (compressed as u32, size as u32)
        };
        h.extend_from_slice(&c32.to_le_bytes());
        h.extend_from_slice(&s32.to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&(if big { 20u16 } else { 0 }).to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        if big {
            h.extend_from_slice(&1u16.to_le_bytes());
            h.extend_from_slice(&16u16.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&compressed.to_le_bytes());
        }
        let offset = self.at;
        self.put(&h)?;
        self.entries.push(Entry {
            name: name.to_string(),
            crc,
            compressed,
            size,
            offset,
        });
        Ok(())
    }

    /// Deflated bytes of the member begun last.
    pub fn data(&mut self, b: &[u8]) -> io::Result<()> {
        self.put(b)
    }

    /// Append deflated bytes of the member begun last through `f`, which
    /// writes them to the output and returns how many it wrote.
    pub fn copy_with(&mut self, f: impl FnOnce(&mut W) -> io::Result<u64>) -> io::Result<u64> {
        let n = f(&mut self.out)?;
        self.at += n;
        Ok(n)
    }

    /// A whole member from its uncompressed bytes.
    pub fn member(&mut self, name: &str, content: &[u8], level: u32) -> io::Result<()> {
        let mut deflated = Vec::new();
        deflate_piece(content, level, &mut deflated);
        deflated.extend_from_slice(&FINAL_BLOCK);
        self.begin(
            name,
            crc32fast::hash(content),
            deflated.len() as u64,
            content.len() as u64,
        )?;
        self.data(&deflated)
    }

    /// Write the central directory and hand the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        let cd_start = self.at;
        let entries = std::mem::take(&mut self.entries);
        for e in &entries {
            let mut extra = Vec::new();
            let field = |v: u64, extra: &mut Vec<u8>| {
                if v > self.zip64_above {
                    extra.extend_from_slice(&v.to_le_bytes());
                    u32::MAX
                } else {
                    v as u32
                }
            };
            let s32 = field(e.size, &mut extra);
            let c32 = field(e.compressed, &mut extra);
            let o32 = field(e.offset, &mut extra);
            let big = !extra.is_empty();
            let mut h = Vec::with_capacity(80 + e.name.len());
            h.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            // Made by: Unix, spec 4.5 / 2.0.
            h.extend_from_slice(&(if big { 0x032Du16 } else { 0x0314 }).to_le_bytes());
            h.extend_from_slice(&(if big { 45u16 } else { 20 }).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&8u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&DOS_DATE.to_le_bytes());
            h.extend_from_slice(&e.crc.to_le_bytes());
            h.extend_from_slice(&c32.to_le_bytes());
            h.extend_from_slice(&s32.to_le_bytes());
            h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            let extra_len = if big { 4 + extra.len() } else { 0 };
            h.extend_from_slice(&(extra_len as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // comment
            h.extend_from_slice(&0u16.to_le_bytes()); // disk
            h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            h.extend_from_slice(&(0o100600u32 << 16).to_le_bytes()); // -rw-------
            h.extend_from_slice(&o32.to_le_bytes());
            h.extend_from_slice(e.name.as_bytes());
            if big {
                h.extend_from_slice(&1u16.to_le_bytes());
                h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
                h.extend_from_slice(&extra);
            }
            self.put(&h)?;
        }
        let cd_size = self.at - cd_start;
        let n = entries.len() as u64;
        let big = cd_start > self.zip64_above || cd_size > self.zip64_above || n >= 0xFFFF;
        let mut t = Vec::with_capacity(100);
        if big {
            let eocd64 = self.at;
            t.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
            t.extend_from_slice(&44u64.to_le_bytes());
            t.extend_from_slice(&0x032Du16.to_le_bytes());
            t.extend_from_slice(&45u16.to_le_bytes());
            t.extend_from_slice(&0u32.to_le_bytes());
            t.extend_from_slice(&0u32.to_le_bytes());
            t.extend_from_slice(&n.to_le_bytes());
            t.extend_from_slice(&n.to_le_bytes());
            t.extend_from_slice(&cd_size.to_le_bytes());
            t.extend_from_slice(&cd_start.to_le_bytes());
            t.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
            t.extend_from_slice(&0u32.to_le_bytes());
            t.extend_from_slice(&eocd64.to_le_bytes());
            t.extend_from_slice(&1u32.to_le_bytes());
        }
        let n16 = if big { u16::MAX } else { n as u16 };
        t.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        t.extend_from_slice(&0u16.to_le_bytes());
        t.extend_from_slice(&0u16.to_le_bytes());
        t.extend_from_slice(&n16.to_le_bytes());
        t.extend_from_slice(&n16.to_le_bytes());
        t.extend_from_slice(&(if big { u32::MAX } else { cd_size as u32 }).to_le_bytes());
        t.extend_from_slice(&(if big { u32::MAX } else { cd_start as u32 }).to_le_bytes());
        t.extend_from_slice(&0u16.to_le_bytes());
        self.put(&t)?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn roundtrip(zip64_above: u64) {
        let body: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("<row r=\"{i}\"/>").into_bytes())
            .collect();
        // The big member in three separately deflated pieces.
        let cuts = [0, 1, 77_777, body.len()];
        let mut deflated = Vec::new();
        let mut crc = crc32fast::Hasher::new();
        for w in cuts.windows(2) {
            let mut piece = crc32fast::Hasher::new();
            piece.update(&body[w[0]..w[1]]);
            crc.combine(&piece);
            deflate_piece(&body[w[0]..w[1]], 1, &mut deflated);
        }
        deflated.extend_from_slice(&FINAL_BLOCK);
        let mut z = ZipOut::new(Vec::new()).zip64_above(zip64_above);
        z.member("a.xml", b"<a/>", 6).unwrap();
        z.begin(
            "big.xml",
            crc.finalize(),
            deflated.len() as u64,
            body.len() as u64,
        )
        .unwrap();
        z.copy_with(|out| io::copy(&mut &deflated[..], out))
            .unwrap();
        z.member("empty", b"", 1).unwrap();
        let bytes = z.finish().unwrap();
        let mut a = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let names: Vec<String> = a.file_names().map(|n| n.unwrap().to_string()).collect();
        assert_eq!(names.len(), 3);
        let mut read = |name: &str| {
            let mut s = Vec::new();
            a.by_name(name).unwrap().read_to_end(&mut s).unwrap();
            s
        };
        assert_eq!(read("a.xml"), b"<a/>");
        assert_eq!(read("big.xml"), body);
        assert_eq!(read("empty"), b"");
    }

    #[test]
    fn pieces_make_one_member() {
        roundtrip(ZIP32_MAX - 1);
    }

    #[test]
    fn zip64_fields_read_back() {
        roundtrip(0);
    }
}
