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
    let at: Vec<usize> = b
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == pat)
        .map(|(i, _)| i)
        .collect();
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
    b[fat + 4 * dir_start..fat + 4 * dir_start + 4]
        .copy_from_slice(&(dir_start as u32).to_le_bytes());
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
        content.push_str(
            "</table:table></office:spreadsheet></office:body></office:document-content>",
        );
    }
    ods_zip(content.as_bytes())
}

/// The ods package around a `content.xml`.
fn ods_zip(content: &[u8]) -> Vec<u8> {
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("mimetype", stored).unwrap();
    z.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    z.start_file("META-INF/manifest.xml", deflated).unwrap();
    z.write_all(manifest.as_bytes()).unwrap();
    z.start_file("content.xml", deflated).unwrap();
    z.write_all(content).unwrap();
    z.finish().unwrap().into_inner()
}

fn ods_cell(text: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
    )
}

fn ods_row(cells: &[&str]) -> String {
    let cells: String = cells.iter().map(|c| ods_cell(c)).collect();
    format!("<table:table-row>{cells}</table:table-row>")
}

fn ods_rows() -> String {
    ods_row(&["坐席id", "客户微信id", "是否客服", "消息内容"])
        + &ods_row(&["a1", "c1", "1", "你好"])
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
        r.stdout.contains("1 processed, 1 failed")
            || r.stderr.contains("1 processed, 1 failed")
            || r.stdout.contains("2 processed, 1 failed")
            || r.stderr.contains("2 processed, 1 failed"),
        "the good files were processed\n{}",
        r.report(dir.path())
    );
    let chunks: Vec<String> = dir
        .listing()
        .into_iter()
        .filter(|p| p.starts_with("out/clean_data_"))
        .collect();
    assert_eq!(
        chunks.len(),
        1,
        "the good files' chunk is written: {chunks:?}"
    );
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
    // The CPU limit (4 s) ends it; on a machine so busy that the child gets
    // little CPU, the wall-clock watchdog may come first: either is right.
    assert_named_file_error(&dir, "in/b.ods", "the ods reader", 60);
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
            assert!(
                sent.elapsed() < Duration::from_secs(2),
                "still running 2 s after signal {signal}"
            );
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
    let ps = std::process::Command::new("pgrep")
        .args([
            "-f",
            &format!("__read-cells ods {}", dir.join("in").display()),
        ])
        .output();
    if let Ok(ps) = ps {
        assert!(
            ps.stdout.is_empty(),
            "a reader child is still running: {}",
            String::from_utf8_lossy(&ps.stdout)
        );
    }
}

// ------------------------------------------------------------------ xlsb
// A minimal xlsb written record by record (MS-XLSB): a workbook with one
// sheet, an optional shared-strings part, cells as BrtCellSt / BrtCellReal.

/// One BIFF12 record: type and length as 7-bit varints, then the data.
fn record(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    if typ < 0x80 {
        out.push(typ as u8);
    } else {
        out.push((typ & 0x7F) as u8 | 0x80);
        out.push((typ >> 7) as u8);
    }
    let mut len = data.len();
    loop {
        let b = (len & 0x7F) as u8;
        len >>= 7;
        if len == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend_from_slice(data);
}

fn wide(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let mut v = (units.len() as u32).to_le_bytes().to_vec();
    for u in units {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

fn xlsb_workbook() -> Vec<u8> {
    let mut wb = Vec::new();
    let mut sh = Vec::new();
    sh.extend_from_slice(&0u32.to_le_bytes()); // visible
    sh.extend_from_slice(&1u32.to_le_bytes()); // tab id
    sh.extend(wide("rId1"));
    sh.extend(wide("Sheet1"));
    record(&mut wb, 0x009C, &sh); // BrtBundleSh
    record(&mut wb, 0x0090, &[]); // BrtEndBundleShs
    record(&mut wb, 0x009D, &[]); // BrtCalcProp: the end of the names
    wb
}

fn xlsb_sheet(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut s = Vec::new();
    record(&mut s, 0x0081, &[]); // BrtBeginSheet
    let mut dim = Vec::new();
    for v in [0u32, rows.len() as u32, 0, 3] {
        dim.extend_from_slice(&v.to_le_bytes());
    }
    record(&mut s, 0x0094, &dim); // BrtWsDim
    record(&mut s, 0x0091, &[]); // BrtBeginSheetData
    for (r, row) in rows.iter().enumerate() {
        let mut hdr = (r as u32).to_le_bytes().to_vec();
        hdr.extend_from_slice(&[0u8; 13]);
        record(&mut s, 0x0000, &hdr); // BrtRowHdr
        for (c, text) in row.iter().enumerate() {
            let mut cell = (c as u32).to_le_bytes().to_vec();
            cell.extend_from_slice(&[0u8; 4]); // style, flags
            match text.parse::<f64>() {
                Ok(x) => {
                    cell.extend_from_slice(&x.to_le_bytes());
                    record(&mut s, 0x0005, &cell); // BrtCellReal
                }
                Err(_) => {
                    cell.extend(wide(text));
                    record(&mut s, 0x0006, &cell); // BrtCellSt
                }
            }
        }
    }
    record(&mut s, 0x0092, &[]); // BrtEndSheetData
    s
}

/// Writes a part's bytes as they are made.
type WritePart<'a> = &'a dyn Fn(&mut dyn Write);

/// The package; `shared_strings` writes `xl/sharedStrings.bin` through a
/// streaming callback so a test never holds a big part in memory.
fn xlsb(sheet: &[u8], shared_strings: Option<WritePart<'_>>) -> Vec<u8> {
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.bin"/></Relationships>"#;
    let types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>"#;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opt = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    z.start_file("[Content_Types].xml", opt).unwrap();
    z.write_all(types.as_bytes()).unwrap();
    z.start_file("xl/_rels/workbook.bin.rels", opt).unwrap();
    z.write_all(rels.as_bytes()).unwrap();
    z.start_file("xl/workbook.bin", opt).unwrap();
    z.write_all(&xlsb_workbook()).unwrap();
    z.start_file("xl/worksheets/sheet1.bin", opt).unwrap();
    z.write_all(sheet).unwrap();
    if let Some(write) = shared_strings {
        // Level 9: deflate's best ratio (about 1000:1 on one repeated unit).
        z.start_file("xl/sharedStrings.bin", opt.compression_level(Some(9)))
            .unwrap();
        write(&mut z);
    }
    z.finish().unwrap().into_inner()
}

fn xlsb_good() -> Vec<u8> {
    xlsb(
        &xlsb_sheet(&[
            vec!["坐席id", "客户微信id", "是否客服", "消息内容"],
            vec!["A1", "w1", "否", "在吗"],
            vec!["A1", "w1", "是", "您好"],
        ]),
        None,
    )
}

#[test]
fn a_minimal_xlsb_is_read() {
    // The builder is right: the good file reads, with its two rows.
    let dir = Dir::new();
    dir.write("in/a.xlsb", xlsb_good());
    let r = dir.cmd(&["extract", "in", "-o", "out"]).expect_code(0);
    assert!(
        r.stderr.contains("2 kept") || r.stdout.contains("2 kept"),
        "{}",
        r.stderr
    );
}

#[test]
fn xlsb_whose_shared_strings_unpack_to_gigabytes_is_a_memory_limit_error() {
    // 12 shared strings of 96 M characters each (192 MB records of one
    // repeated UTF-16 unit): 1.1 GB of strings once decoded, from a file
    // of a few MB.
    const CHARS: usize = 96 << 20;
    const ITEMS: u32 = 12;
    let bomb = |w: &mut dyn Write| {
        let mut head = Vec::new();
        let mut sst = ITEMS.to_le_bytes().to_vec();
        sst.extend_from_slice(&ITEMS.to_le_bytes());
        record(&mut head, 0x009F, &sst); // BrtBeginSst
        w.write_all(&head).unwrap();
        let block = b"A\0".repeat(1 << 20);
        for _ in 0..ITEMS {
            // BrtSSTItem: type, length varint, flags, cch, then the units.
            let len = 1 + 4 + 2 * CHARS;
            let mut rec = vec![0x13u8];
            let mut l = len;
            while l >= 0x80 {
                rec.push((l & 0x7F) as u8 | 0x80);
                l >>= 7;
            }
            rec.push(l as u8);
            rec.push(0);
            rec.extend_from_slice(&(CHARS as u32).to_le_bytes());
            w.write_all(&rec).unwrap();
            for _ in 0..(2 * CHARS) / block.len() {
                w.write_all(&block).unwrap();
            }
        }
    };
    let hostile = xlsb(
        &xlsb_sheet(&[vec!["坐席id", "客户微信id", "是否客服", "消息内容"]]),
        Some(&bomb),
    );
    assert!(hostile.len() < 8 << 20, "a few MB: {}", hostile.len());
    let dir = Dir::new();
    dir.write("in/a.xlsb", xlsb_good());
    dir.write("in/b.xlsb", hostile);
    assert_named_file_error(&dir, "in/b.xlsb", "MiB of memory", 30);
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
    prop_assert!(
        r.code == 0 || r.code == 3,
        "exit {}\n{}",
        r.code,
        r.report(dir.path())
    );
    prop_assert!(
        !r.stderr.contains("error: in/0good"),
        "the good file failed\n{}",
        r.report(dir.path())
    );
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
    fn mutated_xlsb_files_never_take_the_run_down(ms in prop::collection::vec(mutant(), 6)) {
        // The sheet's records are mutated, then packaged (the package's
        // CRC would catch most flips of the zipped bytes).
        let sheet = xlsb_sheet(&[
            vec!["坐席id", "客户微信id", "是否客服", "消息内容"],
            vec!["A1", "w1", "否", "在吗"],
            vec!["A1", "w1", "是", "1.5"],
        ]);
        let seed = xlsb(&sheet, None);
        let mutants: Vec<Vec<u8>> = ms.iter().map(|(e, c)| xlsb(&mutate(&sheet, e, *c), None)).collect();
        run_mutants("xlsb", &seed, &mutants)?;
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
