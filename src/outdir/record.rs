//! Manifest v2: what one `extract` selection wrote, precisely enough to
//! prove later that a chunk output is what a fresh run would write.
//!
//! Per chunk it records the output's size and SHA-256 and a fingerprint of
//! everything the chunk's bytes depend on: the tool version, the options
//! that shape the output (and the compression level, which changes the
//! bytes but not the values), the chunk's file numbers and, per file, its
//! path, size and modification time in nanoseconds. `--resume` skips a
//! chunk only when that fingerprint is today's and the file still has the
//! recorded size and hash; anything else is redone.
//!
//! The first key, `sheetsift_manifest`, is the format version: it tells a
//! v2 manifest from a v1 one (which has no hashes) and lets
//! [`looks_like_manifest`] recognise a manifest from its first bytes.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::manifest::OutputOptions;

/// The manifest format this module writes.
pub const VERSION: u32 = 2;

/// One input file as the fingerprints see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Written lossily when not UTF-8 ([`crate::fs::path_text`]).
    #[serde(serialize_with = "crate::fs::path_text::serialize")]
    pub path: PathBuf,
    pub size: u64,
    /// Nanoseconds since the epoch: a file rewritten within one second
    /// with the same size is still a change.
    pub mtime_ns: i64,
}

/// The global input list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    pub count: usize,
    /// SHA-256 of every file's (path, size, mtime) in the global order:
    /// shards of one run see one list, so one fingerprint.
    pub fingerprint: String,
    pub files: Vec<InputFile>,
}

/// One chunk of the selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkRecord {
    pub index: usize,
    pub first_file: usize,
    pub last_file: usize,
    /// `written`, `failed`, `no readable file`.
    pub status: String,
    /// File name in the manifest's directory (none when not written).
    pub output: Option<String>,
    pub rows: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// [`chunk_fingerprint`] of what the output was made from.
    pub fingerprint: String,
}

impl ChunkRecord {
    /// Written, with an output, a size and a hash.
    pub fn is_written(&self) -> bool {
        self.status == "written"
            && self.output.is_some()
            && self.size.is_some()
            && self.sha256.is_some()
    }
}

/// `manifest*.json`, version 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`VERSION`]; first, so the file announces itself.
    pub sheetsift_manifest: u32,
    pub tool: String,
    /// `A..B` of `--chunks`, as given.
    pub chunks_selected: Option<String>,
    /// `K/N` of `--shard`.
    pub shard: Option<String>,
    pub options: OutputOptions,
    pub compression_level: u8,
    /// Chunks of the whole run (all selections together).
    pub chunk_count: usize,
    pub inputs: Inputs,
    pub chunks: Vec<ChunkRecord>,
}

impl Manifest {
    /// `(K, N)` of a shard manifest.
    pub fn shard_of(&self) -> Option<(usize, usize)> {
        let (k, n) = self.shard.as_deref()?.split_once('/')?;
        Some((k.parse().ok()?, n.parse().ok()?))
    }
}

/// A manifest as found on disk: this format, or the first one (no sizes,
/// no hashes), which can be recognised but not verified.
#[derive(Debug, Clone)]
pub enum AnyManifest {
    V2(Box<Manifest>),
    V1(Box<crate::manifest::Manifest>),
}

/// Parse a manifest's text.
pub fn parse(text: &str) -> Result<AnyManifest, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match value.get("sheetsift_manifest").and_then(|v| v.as_u64()) {
        Some(2) => serde_json::from_value(value)
            .map(|m| AnyManifest::V2(Box::new(m)))
            .map_err(|e| e.to_string()),
        Some(v) => Err(format!(
            "manifest format {v} is newer than this sheetsift ({VERSION})"
        )),
        None if value
            .get("tool")
            .and_then(|t| t.as_str())
            .is_some_and(|t| t.starts_with("sheetsift")) =>
        {
            serde_json::from_value(value)
                .map(|m| AnyManifest::V1(Box::new(m)))
                .map_err(|e| e.to_string())
        }
        None => Err("not a sheetsift manifest".into()),
    }
}

/// Read and parse a manifest file.
pub fn read(path: &Path) -> Result<AnyManifest, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse(&text)
}

/// Whether the first bytes of a file are a sheetsift manifest's (either
/// version): enough for discovery to call its directory an output
/// directory without parsing a manifest of 100,000 inputs.
pub fn looks_like_manifest(head: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&head[..head.len().min(256)]);
    let compact: String = head.chars().filter(|c| !c.is_whitespace()).collect();
    compact.starts_with("{\"sheetsift_manifest\":") || compact.starts_with("{\"tool\":\"sheetsift")
}

/// The manifest as written: pretty JSON and a final newline.
/// (Paths are written as text, [`crate::fs::path_text`], so this does not
/// fail; an error is still returned rather than an empty manifest.)
pub fn to_json(m: &Manifest) -> serde_json::Result<String> {
    serde_json::to_string_pretty(m).map(|s| s + "\n")
}

/// Size and modification time of each input, in the global order.
/// `metadata` follows symlinks, as reading does (a symlinked input is read
/// like a file); a link that cannot be followed (dangling, looping) is
/// listed by discovery and fails when read, so it is recorded by the
/// link's own size and time.
pub fn input_files(paths: &[PathBuf]) -> io::Result<Vec<InputFile>> {
    paths
        .iter()
        .map(|p| {
            let meta = std::fs::metadata(p).or_else(|e| {
                std::fs::symlink_metadata(p)
                    .ok()
                    .filter(|m| m.file_type().is_symlink())
                    .ok_or(e)
            })?;
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
            Ok(InputFile {
                path: p.clone(),
                size: meta.len(),
                mtime_ns,
            })
        })
        .collect()
}

/// Feed a hasher with length-prefixed fields, so that no two different
/// field lists hash the same bytes (`ab`+`c` vs `a`+`bc`).
struct Fields(Sha256);

impl Fields {
    fn new(domain: &str) -> Fields {
        let mut f = Fields(Sha256::new());
        f.bytes(domain.as_bytes());
        f
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.update((b.len() as u64).to_le_bytes());
        self.0.update(b);
    }
    fn u64(&mut self, v: u64) {
        self.0.update(v.to_le_bytes());
    }
    fn file(&mut self, f: &InputFile) {
        self.bytes(f.path.as_os_str().as_encoded_bytes());
        self.u64(f.size);
        self.u64(f.mtime_ns as u64);
    }
    fn hex(self) -> String {
        hex(&self.0.finalize())
    }
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Fingerprint of the whole input list.
pub fn inputs_fingerprint(files: &[InputFile]) -> String {
    let mut f = Fields::new("sheetsift inputs v2");
    f.u64(files.len() as u64);
    for file in files {
        f.file(file);
    }
    f.hex()
}

/// Describe the global input list.
pub fn inputs(files: Vec<InputFile>) -> Inputs {
    Inputs {
        count: files.len(),
        fingerprint: inputs_fingerprint(&files),
        files,
    }
}

/// Everything a chunk's bytes depend on. `files` are the chunk's own
/// files (global numbers `first..=last`).
pub fn chunk_fingerprint(
    tool: &str,
    options: &OutputOptions,
    compression_level: u8,
    first: usize,
    last: usize,
    files: &[InputFile],
) -> String {
    let mut f = Fields::new("sheetsift chunk v2");
    f.bytes(tool.as_bytes());
    // Field order is the struct's: the same options give the same JSON.
    f.bytes(
        serde_json::to_string(options)
            .unwrap_or_default()
            .as_bytes(),
    );
    f.u64(compression_level as u64);
    f.u64(first as u64);
    f.u64(last as u64);
    f.u64(files.len() as u64);
    for file in files {
        f.file(file);
    }
    f.hex()
}

/// A writer that hashes and counts what goes through it: an output's
/// record without reading the file back.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// The inner writer, the byte count and the hex SHA-256.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.len, hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Size and hex SHA-256 of what a reader yields.
pub fn hash_reader(mut r: impl Read) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((len, hex(&hasher.finalize())))
}

/// Size and hex SHA-256 of a file (for a just-written temporary, read back
/// from the page cache; for `--resume` and `dialogues`, the check).
pub fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    hash_reader(File::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> OutputOptions {
        OutputOptions {
            chunk_size: 2,
            prefix: "clean_data".into(),
            format: "xlsx".into(),
            columns: ["a".into(), "b".into(), "c".into(), "d".into()],
            sheet: None,
            encoding: None,
            match_mode: "substring".into(),
            system_messages: vec!["x".into()],
        }
    }

    fn file(p: &str, size: u64, mtime_ns: i64) -> InputFile {
        InputFile {
            path: p.into(),
            size,
            mtime_ns,
        }
    }

    #[test]
    fn sha256_of_known_strings() {
        // FIPS 180-2 test vectors.
        assert_eq!(
            hash_reader(&b"abc"[..]).unwrap(),
            (
                3,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into()
            )
        );
        assert_eq!(
            hash_reader(&b""[..]).unwrap().1,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn the_hashing_writer_agrees_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        let mut w = HashingWriter::new(File::create(&p).unwrap());
        for i in 0..1000u32 {
            w.write_all(format!("row {i}\n").as_bytes()).unwrap();
        }
        let (f, len, sha) = w.finish();
        drop(f);
        assert_eq!(hash_file(&p).unwrap(), (len, sha));
    }

    #[test]
    fn a_chunk_fingerprint_changes_with_anything_its_bytes_depend_on() {
        let files = [file("in/a.xlsx", 10, 1), file("in/b.xlsx", 20, 2)];
        let base = chunk_fingerprint("sheetsift 0.1.0", &opts(), 3, 0, 1, &files);
        assert_eq!(
            base,
            chunk_fingerprint("sheetsift 0.1.0", &opts(), 3, 0, 1, &files),
            "deterministic"
        );
        let mut other = opts();
        other.match_mode = "exact".into();
        let changed = [
            chunk_fingerprint("sheetsift 0.2.0", &opts(), 3, 0, 1, &files),
            chunk_fingerprint("sheetsift 0.1.0", &other, 3, 0, 1, &files),
            chunk_fingerprint("sheetsift 0.1.0", &opts(), 6, 0, 1, &files),
            chunk_fingerprint("sheetsift 0.1.0", &opts(), 3, 1, 2, &files),
            chunk_fingerprint(
                "sheetsift 0.1.0",
                &opts(),
                3,
                0,
                1,
                &[file("in/a.xlsx", 10, 1), file("in/b.xlsx", 20, 3)],
            ),
            chunk_fingerprint(
                "sheetsift 0.1.0",
                &opts(),
                3,
                0,
                1,
                &[file("in/a.xlsx", 10, 1), file("in/b.xlsx", 21, 2)],
            ),
            chunk_fingerprint(
                "sheetsift 0.1.0",
                &opts(),
                3,
                0,
                1,
                &[file("in/a.xlsx", 10, 1), file("in/c.xlsx", 20, 2)],
            ),
        ];
        for (i, c) in changed.iter().enumerate() {
            assert_ne!(&base, c, "change {i} kept the fingerprint");
        }
        // Length prefixes: moving a byte between two paths is a change.
        assert_ne!(
            inputs_fingerprint(&[file("ab", 1, 1), file("c", 1, 1)]),
            inputs_fingerprint(&[file("a", 1, 1), file("bc", 1, 1)])
        );
    }

    #[test]
    fn manifests_round_trip_and_announce_themselves() {
        let files = vec![file("in/a.xlsx", 10, 1_700_000_000_123_456_789)];
        let m = Manifest {
            sheetsift_manifest: VERSION,
            tool: "sheetsift 0.1.0".into(),
            chunks_selected: None,
            shard: Some("1/3".into()),
            options: opts(),
            compression_level: 3,
            chunk_count: 1,
            inputs: inputs(files.clone()),
            chunks: vec![ChunkRecord {
                index: 0,
                first_file: 0,
                last_file: 0,
                status: "written".into(),
                output: Some("clean_data_0_0.xlsx".into()),
                rows: 5,
                size: Some(123),
                sha256: Some("00".repeat(32)),
                fingerprint: chunk_fingerprint("sheetsift 0.1.0", &opts(), 3, 0, 0, &files),
            }],
        };
        let json = to_json(&m).unwrap();
        assert!(looks_like_manifest(json.as_bytes()), "{json}");
        match parse(&json).unwrap() {
            AnyManifest::V2(back) => assert_eq!(*back, m),
            other => panic!("{other:?}"),
        }
        assert_eq!(m.shard_of(), Some((1, 3)));
        assert!(m.chunks[0].is_written());
    }

    #[test]
    fn a_v1_manifest_is_recognised_and_anything_else_is_not() {
        let v1 = r#"{
  "tool": "sheetsift 0.1.0",
  "chunks_selected": null,
  "shard": null,
  "options": {"chunk_size": 25, "prefix": "clean_data", "format": "xlsx",
    "columns": ["a","b","c","d"], "sheet": null, "encoding": null,
    "match": "substring", "system_messages": []},
  "inputs": {"count": 0, "fingerprint": "cbf29ce484222325", "files": []},
  "chunks": []
}"#;
        assert!(looks_like_manifest(v1.as_bytes()));
        assert!(matches!(parse(v1), Ok(AnyManifest::V1(_))));
        assert!(!looks_like_manifest(br#"{"name": "manifest of my app"}"#));
        assert!(parse(r#"{"name": "x"}"#).is_err());
        assert!(parse(r#"{"sheetsift_manifest": 3}"#)
            .unwrap_err()
            .contains("newer"));
        assert!(parse("not json").is_err());
    }

    #[test]
    fn input_files_record_nanosecond_mtimes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "x,y\n").unwrap();
        let t = std::time::UNIX_EPOCH + std::time::Duration::new(1_000_000_000, 123_456_789);
        File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(t)
            .unwrap();
        let got = input_files(std::slice::from_ref(&p)).unwrap();
        assert_eq!(
            got,
            [file(p.to_str().unwrap(), 4, 1_000_000_000_123_456_789)]
        );
        assert!(input_files(&[dir.path().join("gone")]).is_err());
    }
}
