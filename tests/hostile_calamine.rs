//! Hostile xls and ods files (read through calamine, in a limited child
//! process: src/read/isolate.rs). Each test builds its file at test time,
//! puts it beside good files, and runs the real binary under an
//! address-space limit and a timeout: the hostile file must become that
//! file's named error (exit 3) in seconds, with peak RSS under 1 GiB, and
//! the good files' chunk must be written.
//!
//! Before the child process, each of these aborted the whole run (exit 134,
//! no report, the good files lost) or spun forever.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::Dir;
use proptest::prelude::*;

const AS_LIMIT: u64 = 4_000_000_000;

fn seed_xls() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/xls_types/input/a_types.xls"),
    )
    .unwrap()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Every BIFF8 DIMENSIONS record (type 0x0200, 14 bytes) claims rows up to
/// 2^31 and 256 columns: calamine reserves its cell vector from it.
fn xls_with_huge_dimensions() -> Vec<u8> {
    let mut b = seed_xls();
    let pat = [0x00, 0x02, 0x0E, 0x00];
    let at: Vec<usize> = b.windows(4).enumerate().filter(|(_, w)| *w == pat).map(|(i, _)| i).collect();
    assert!(!at.is_empty(), "the seed has DIMENSIONS records");
    for i in at {
        b[i + 8..i + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        b[i + 14..i + 16].copy_from_slice(&0xffu16.to_le_bytes());
    }
    b
}

/// The OLE directory's sector chain points back at itself.
fn xls_with_looping_sector_chain() -> Vec<u8> {
    let mut b = seed_xls();
    let shift = u16::from_le_bytes([b[30], b[31]]) as usize;
    let sector = 1usize << shift;
    let dir_start = u32_at(&b, 48) as usize;
    let first_fat = u32_at(&b, 76) as usize;
    let fat = (first_fat + 1) * sector;
    b[fat + 4 * dir_start..fat + 4 * dir_start + 4].copy_from_slice(&(dir_start as u32).to_le_bytes());
    b
}

/// An ods of `table` (the inside of one `<table:table>`); `close: false`
/// leaves the table and the document unclosed.
fn ods(table: &str, close: bool) -> Vec<u8> {
    let mut content = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="S">"#,
    );
    content.push_str(table);
    if close {
        content.push_str("</table:table></office:spreadsheet></office:body></office:document-content>");
    }
    ods_zip(content.as_bytes())
}

/// The ods package around a `content.xml`.
fn ods_zip(content: &[u8]) -> Vec<u8> {
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("mimetype", stored).unwrap();
    z.write_all(b"application/vnd.oasis.opendocument.spreadsheet").unwrap();
    z.start_file("META-INF/manifest.xml", deflated).unwrap();
    z.write_all(manifest.as_bytes()).unwrap();
    z.start_file("content.xml", deflated).unwrap();
    z.write_all(content).unwrap();
    z.finish().unwrap().into_inner()
}

fn ods_cell(text: &str) -> String {
    format!(r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#)
}

fn ods_row(cells: &[&str]) -> String {
    let cells: String = cells.iter().map(|c| ods_cell(c)).collect();
    format!("<table:table-row>{cells}</table:table-row>")
}

fn ods_rows() -> String {
    ods_row(&["坐席id", "客户微信id", "是否客服", "消息内容"]) + &ods_row(&["a1", "c1", "1", "你好"])
}

/// Runs `extract in -o out` with the hostile file as `in/b.*` between two
/// good ones, and checks the promise.
fn assert_named_file_error(dir: &Dir, hostile: &str, reason: &str, max_secs: u64) {
    let out = dir
        .cmd(&["extract", "in", "-o", "out"])
        .run_limited(AS_LIMIT, Duration::from_secs(60));
    let r = &out.run;
    assert_eq!(r.code, 3, "exit 3 expected\n{}", r.report(dir.path()));
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains(hostile) && l.starts_with("error"))
        .unwrap_or_else(|| panic!("no error line naming {hostile}\n{}", r.report(dir.path())));
    assert!(line.contains(reason), "the error says {reason:?}: {line}");
    assert!(out.peak_rss_mib < 1024, "peak RSS {} MiB", out.peak_rss_mib);
    assert!(
        out.elapsed < Duration::from_secs(max_secs),
        "took {:?}",
        out.elapsed
    );
    assert!(
        r.stdout.contains("1 processed, 1 failed") || r.stderr.contains("1 processed, 1 failed") || r.stdout.contains("2 processed, 1 failed") || r.stderr.contains("2 processed, 1 failed"),
        "the good files were processed\n{}",
        r.report(dir.path())
    );
    let chunks: Vec<String> = dir.listing().into_iter().filter(|p| p.starts_with("out/clean_data_")).collect();
    assert_eq!(chunks.len(), 1, "the good files' chunk is written: {chunks:?}");
}

#[test]
fn xls_declaring_a_huge_range_is_a_memory_limit_error_not_an_abort() {
    let dir = Dir::new();
    dir.write("in/a.xls", seed_xls());
    dir.write("in/b.xls", xls_with_huge_dimensions());
    assert_named_file_error(&dir, "in/b.xls", "MiB of memory", 20);
}

#[test]
fn xls_whose_sector_chain_loops_is_a_memory_limit_error_not_an_abort() {
    let dir = Dir::new();
    dir.write("in/a.xls", seed_xls());
    dir.write("in/b.xls", xls_with_looping_sector_chain());
    assert_named_file_error(&dir, "in/b.xls", "MiB of memory", 20);
}

#[test]
fn ods_with_cells_far_apart_is_a_memory_limit_error_not_an_abort() {
    // 9,990 empty rows, then a cell 9,990 columns right: a dense range of
    // about 10^8 cells (just under calamine's own cell limit).
    let far = format!(
        r#"<table:table-row table:number-rows-repeated="9990"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="9990"/>{}</table:table-row>"#,
        ods_cell("x")
    );
    let dir = Dir::new();
    dir.write("in/a.ods", ods(&ods_rows(), true));
    let hostile = ods(&(ods_rows() + &far), true);
    assert!(hostile.len() < 2048, "a 1-2 KB file: {}", hostile.len());
    dir.write("in/b.ods", hostile);
    assert_named_file_error(&dir, "in/b.ods", "MiB of memory", 20);
}

#[test]
fn ods_whose_table_never_closes_is_a_cpu_limit_error_not_a_hang() {
    let dir = Dir::new();
    dir.write("in/a.ods", ods(&ods_rows(), true));
    let hostile = ods(&ods_rows(), false);
    assert!(hostile.len() < 1024, "a 1 KB file: {}", hostile.len());
    dir.write("in/b.ods", hostile);
    assert_named_file_error(&dir, "in/b.ods", "s of CPU time", 20);
}

#[test]
fn a_signal_during_an_endless_ods_read_ends_the_run_within_two_seconds() {
    let dir = Dir::new();
    dir.write("in/a.ods", ods(&ods_rows(), true));
    dir.write("in/b.ods", ods(&ods_rows(), false));
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let _ = std::fs::remove_dir_all(dir.join("out"));
        let mut child = dir.cmd(&["extract", "in", "-o", "out", "-j", "1"]).spawn();
        std::thread::sleep(Duration::from_millis(700));
        let sent = std::time::Instant::now();
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(sent.elapsed() < Duration::from_secs(2), "still running 2 s after signal {signal}");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(code), "signal {signal}");
        let left: Vec<String> = dir
            .listing()
            .into_iter()
            .filter(|p| p.starts_with("out/") && !p.ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "no temporaries left: {left:?}");
    }
    // No reader child outlives the run.
    std::thread::sleep(Duration::from_millis(100));
    let ps = std::process::Command::new("pgrep").args(["-f", &format!("__read-cells ods {}", dir.join("in").display())]).output();
    if let Ok(ps) = ps {
        assert!(ps.stdout.is_empty(), "a reader child is still running: {}", String::from_utf8_lossy(&ps.stdout));
    }
}

/// Mutations of a valid file: byte overwrites at random offsets, then an
/// optional truncation.
fn mutate(seed: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut b = seed.to_vec();
    for &(at, byte) in edits {
        let i = at % b.len();
        b[i] = byte;
    }
    if let Some(cut) = cut {
        b.truncate(cut % b.len().max(1));
    }
    b
}

/// A run over mutated files must finish with 0 or 3, never abort, hang or
/// panic, and every good file must be read.
fn run_mutants(ext: &str, seed: &[u8], mutants: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let dir = Dir::new();
    dir.write(&format!("in/0good.{ext}"), seed);
    for (i, m) in mutants.iter().enumerate() {
        dir.write(&format!("in/m{i}.{ext}"), m);
    }
    let out = dir
        .cmd(&["extract", "in", "-o", "out", "-q"])
        .run_limited(AS_LIMIT, Duration::from_secs(120));
    let r = &out.run;
    prop_assert!(r.code == 0 || r.code == 3, "exit {}\n{}", r.code, r.report(dir.path()));
    prop_assert!(!r.stderr.contains("error: in/0good"), "the good file failed\n{}", r.report(dir.path()));
    prop_assert!(out.peak_rss_mib < 1024, "peak RSS {} MiB", out.peak_rss_mib);
    Ok(())
}

fn mutant() -> impl Strategy<Value = (Vec<(usize, u8)>, Option<usize>)> {
    (
        prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        prop::option::weighted(0.2, any::<usize>()),
    )
}

fn xml_mutant() -> impl Strategy<Value = (Vec<(usize, u8)>, Option<usize>)> {
    let byte = prop::sample::select(b"<>/\"=9-0 :tx".to_vec());
    (
        prop::collection::vec((any::<usize>(), byte), 1..6),
        prop::option::weighted(0.2, any::<usize>()),
    )
}

proptest! {
    // Bounded for CI: each case is one run over 6 mutants.
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_xls_files_never_take_the_run_down(ms in prop::collection::vec(mutant(), 6)) {
        let seed = seed_xls();
        let mutants: Vec<Vec<u8>> = ms.iter().map(|(e, c)| mutate(&seed, e, *c)).collect();
        run_mutants("xls", &seed, &mutants)?;
    }

    #[test]
    fn mutated_ods_files_never_take_the_run_down(ms in prop::collection::vec(xml_mutant(), 6)) {
        // The XML is mutated (with the bytes that matter to a parser),
        // then zipped: flipping bytes of the deflated package would mostly
        // test the CRC check.
        let table = ods_rows() + r#"<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="2" office:value-type="float" office:value="1.5"/><table:table-cell office:value-type="time" office:time-value="PT09H30M00S"/></table:table-row>"#;
        let seed = ods(&table, true);
        let content = zip::ZipArchive::new(std::io::Cursor::new(&seed)).unwrap().by_name("content.xml").map(|mut f| { let mut v = Vec::new(); std::io::Read::read_to_end(&mut f, &mut v).unwrap(); v }).unwrap();
        let mutants: Vec<Vec<u8>> = ms.iter().map(|(e, c)| ods_zip(&mutate(&content, e, *c))).collect();
        run_mutants("ods", &seed, &mutants)?;
    }
}
