//! Reliability: bad inputs among good ones, faults on the output side,
//! interruption by signals. Every case runs the real binary under a
//! timeout and checks the exit code, that stderr names the culprit, that no
//! panic reaches the user, and that nothing half-written is left.

mod common;
use common::*;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A zip with the given (name, bytes) entries.
fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    for (name, data) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    buf.into_inner()
}

/// A minimal xlsx whose one sheet has the given sheetData XML.
fn xlsx_with_sheet(sheet_xml: &str) -> Vec<u8> {
    let ct = br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;
    let rels = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let wb = br#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let wbrels = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    zip_bytes(&[
        ("[Content_Types].xml", ct),
        ("_rels/.rels", rels),
        ("xl/workbook.xml", wb),
        ("xl/_rels/workbook.xml.rels", wbrels),
        ("xl/worksheets/sheet1.xml", sheet_xml.as_bytes()),
    ])
}

fn inline(r: &str, s: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{s}</t></is></c>"#)
}

/// An OLE2 compound file holding an `EncryptedPackage` stream: how Office
/// stores a password-protected xlsx (header + one directory sector).
fn encrypted_workbook() -> Vec<u8> {
    let mut v = vec![0u8; 512 * 3];
    v[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    v[0x18] = 0x3E; // minor version
    v[0x1A] = 0x03; // major version 3
    v[0x1C] = 0xFE;
    v[0x1D] = 0xFF; // little-endian
    v[0x1E] = 0x09; // 512-byte sectors
    for (i, name) in ["Root Entry", "EncryptionInfo", "EncryptedPackage"]
        .iter()
        .enumerate()
    {
        let at = 512 + i * 128;
        for (k, u) in name.encode_utf16().enumerate() {
            v[at + 2 * k..at + 2 * k + 2].copy_from_slice(&u.to_le_bytes());
        }
        v[at + 64] = (2 * name.encode_utf16().count() + 2) as u8;
        v[at + 66] = if i == 0 { 5 } else { 2 };
    }
    v
}

#[test]
fn bad_inputs_among_good_ones() {
    let d = Dir::new();
    d.copy_from_tests("fixtures/basic/input", "in");
    let good = std::fs::read(fixture("basic/input/chat_01.xlsx")).unwrap();
    d.write("in/bad_empty.xlsx", b"");
    d.write(
        "in/bad_random.xlsx",
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<_>>(),
    );
    d.write("in/bad_truncated.xlsx", &good[..good.len() / 2]);
    d.write(
        "in/bad_notabook.xlsx",
        zip_bytes(&[("hello.txt", b"hello")]),
    );
    d.write("in/bad_encrypted.xlsx", encrypted_workbook());
    d.write(
        "in/bad_nocolumn.xlsx",
        xlsx_with_sheet(&format!(
            "<worksheet><sheetData><row r=\"1\">{}{}</row></sheetData></worksheet>",
            inline("A1", "坐席id"),
            inline("B1", "别的")
        )),
    );
    // A cell error names its cell (regression: it named only the sheet).
    d.write(
        "in/bad_cell.xlsx",
        xlsx_with_sheet(&format!(
            "<worksheet><sheetData><row r=\"1\">{}{}{}{}</row><row r=\"2\">{}<c r=\"B2\"><v>x1</v></c></row></sheetData></worksheet>",
            inline("A1", "坐席id"),
            inline("B1", "客户微信id"),
            inline("C1", "是否客服"),
            inline("D1", "消息内容"),
            inline("A2", "A1"),
        )),
    );
    d.write("in/bad_encoding.csv", b"\xff\xfe\xff\xff,\x81\x30\n");
    d.write(
        "in/bad_ragged.csv",
        "坐席id,客户微信id,是否客服,消息内容\nA1,w1,否,你好\nA1,w1,否,你好,多余\n",
    );
    // Not bad: a sheet with only a header contributes its columns, no rows.
    d.write(
        "in/ok_header_only.xlsx",
        xlsx_with_sheet(&format!(
            "<worksheet><sheetData><row r=\"1\">{}{}{}{}</row></sheetData></worksheet>",
            inline("A1", "坐席id"),
            inline("B1", "客户微信id"),
            inline("C1", "是否客服"),
            inline("D1", "消息内容")
        )),
    );
    // Not bad: a sheet claiming the whole grid while holding two cells must
    // not cost rows x columns of memory (run under a 1 GiB address limit).
    d.write("in/ok_huge_dimension.xlsx", xlsx_with_sheet(&format!(
        "<worksheet><dimension ref=\"A1:XFD1048576\"/><sheetData><row r=\"1\">{}{}{}{}</row><row r=\"1048576\">{}{}{}{}</row></sheetData></worksheet>",
        inline("A1", "坐席id"), inline("B1", "客户微信id"), inline("C1", "是否客服"), inline("D1", "消息内容"),
        inline("A1048576", "A9"), inline("B1048576", "wxid_far"), inline("C1048576", "否"), inline("D1048576", "最后一行")
    )));
    let script = format!(
        "ulimit -v 1048576; exec {} extract in -o out -j 2 --report r.json",
        env!("CARGO_BIN_EXE_sheetsift")
    );
    let mut cmd = d.cmd(&[]);
    cmd.cmd = std::process::Command::new("bash");
    cmd.cmd.args(["-c", &script]).current_dir(d.path());
    let r = cmd.timeout(Duration::from_secs(60)).expect_code(3);
    for (file, why) in [
        ("bad_empty.xlsx", "empty file"),
        (
            "bad_random.xlsx",
            "not a readable xlsx workbook: not a zip container",
        ),
        ("bad_truncated.xlsx", "not a readable xlsx workbook"),
        (
            "bad_notabook.xlsx",
            "not a readable xlsx workbook: no workbook part",
        ),
        (
            "bad_encrypted.xlsx",
            "encrypted (password-protected) workbook",
        ),
        (
            "bad_nocolumn.xlsx",
            "missing column 客户微信id in sheet Sheet1",
        ),
        ("bad_encoding.csv", "cannot decode as gb18030"),
        (
            "bad_cell.xlsx",
            "not a readable xlsx workbook: sheet Sheet1: cell B2: bad number \"x1\"",
        ),
        ("bad_ragged.csv", "line 3: expected 4 fields, saw 5"),
    ] {
        assert!(
            r.stderr.contains(&format!("in/{file}: {why}")),
            "{file}: {why}\n{}",
            r.report(d.path())
        );
    }
    let rep = report_json(&d.join("r.json"));
    assert_eq!(
        rep["files_failed"].as_array().unwrap().len(),
        9,
        "{}",
        r.stderr
    );
    // The good files' rows are all there, in file order: the fixture's
    // three files, then the one far row.
    let got = dump_xlsx(&d.join("out/clean_data_0_13.xlsx"));
    let want = read_cells_csv(&fixture(
        "basic/expected_extract/clean_data_0_2.xlsx.cells.csv",
    ));
    assert_eq!(got.len(), want.len() + 1);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    assert_eq!(
        got.last().unwrap()[..4],
        ["s:A9", "s:wxid_far", "s:否", "s:最后一行"]
    );
}

#[test]
fn output_faults_fail_cleanly() {
    let d = Dir::new();
    d.cmd(&["samples", "-o", "in", "--files", "2", "--rows", "300", "-q"])
        .expect_code(0);
    // A read-only location (even root cannot write into /sys).
    let r = d
        .cmd(&["extract", "in", "-o", "/sys/sheetsift-test-out"])
        .expect_code(1);
    assert!(r.stderr.contains("/sys/sheetsift-test-out"), "{}", r.stderr);
    let r = d
        .cmd(&[
            "dialogues",
            "in",
            "-o",
            "/sys/sheetsift-test-out",
            "--val-size",
            "0.1",
        ])
        .expect_code(1);
    assert!(r.stderr.contains("/sys/sheetsift-test-out"), "{}", r.stderr);
    // The report itself unwritable: a usage error found before any work.
    let r = d
        .cmd(&["extract", "in", "-o", "ok", "-q", "--report", "/sys/r.json"])
        .expect_code(2);
    assert!(r.stderr.contains("/sys/r.json"), "{}", r.stderr);
    assert!(!d.join("ok").exists(), "created its output directory");
}

/// A full disk, made with RLIMIT_FSIZE (writes past it fail with EFBIG).
fn run_with_file_limit(d: &Dir, kib: u64, args: &str) -> Run {
    let script = format!(
        "trap '' XFSZ; ulimit -f {kib}; exec {} {args}",
        env!("CARGO_BIN_EXE_sheetsift")
    );
    let mut cmd = d.cmd(&[]);
    cmd.cmd = std::process::Command::new("bash");
    cmd.cmd.args(["-c", &script]).current_dir(d.path());
    cmd.timeout(Duration::from_secs(120)).run()
}

#[test]
fn disk_full_fails_cleanly() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "2", "--rows", "20000", "-q",
    ])
    .expect_code(0);
    let r = run_with_file_limit(
        &d,
        1024,
        "extract in -o x --chunk-size 1 --compression-level 1",
    );
    assert_eq!(r.code, 1, "{}", r.report(d.path()));
    assert!(
        r.stderr.contains("File too large") && r.stderr.contains("x/"),
        "{}",
        r.stderr
    );
    assert!(
        d.listing().iter().all(|f| !f.contains(".part")),
        "{:?}",
        d.listing()
    );
    let r = run_with_file_limit(&d, 512, "extract in -o c --format csv");
    assert_eq!(r.code, 1, "{}", r.report(d.path()));
    // The selection's lock file stays (an empty hidden file; flock is
    // released by the kernel): nothing else may.
    let left: Vec<_> = walk(&d.join("c"))
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let r = run_with_file_limit(&d, 256, "dialogues in -o dd --val-size 0.1");
    assert_eq!(r.code, 1, "{}", r.report(d.path()));
    assert!(r.stderr.contains("File too large"), "{}", r.stderr);
    assert!(walk(&d.join("dd")).is_empty(), "{:?}", walk(&d.join("dd")));
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

/// Interrupt a command once `ready` holds (or after `max_wait`), then check
/// it stops within 2 s with the signal's exit code.
fn interrupt(
    d: &Dir,
    args: &[&str],
    sig: &str,
    code: i32,
    ready: impl Fn() -> bool,
    max_wait: Duration,
) -> String {
    let mut child = d.cmd(args).spawn();
    let started = Instant::now();
    while !ready() && started.elapsed() < max_wait {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "{args:?} finished before it could be interrupted"
    );
    signal(child.id(), sig);
    let sent = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "no exit 10 s after SIG{sig}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = sent.elapsed();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(status.code(), Some(code), "{stderr}");
    assert!(
        took < Duration::from_secs(2),
        "took {took:?} to stop after SIG{sig}"
    );
    assert!(
        stderr.contains(&format!("interrupted by SIG{sig}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        d.listing().iter().all(|f| !f.contains(".part")),
        "temporaries left: {:?}",
        d.listing()
    );
    stderr
}

#[test]
fn interrupted_extract_leaves_only_complete_outputs_and_resumes() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "8", "--rows", "40000", "-q",
    ])
    .expect_code(0);
    d.cmd(&["extract", "in", "-o", "full", "--chunk-size", "2", "-q"])
        .expect_code(0);
    let outputs = [
        "clean_data_0_1.xlsx",
        "clean_data_2_3.xlsx",
        "clean_data_4_5.xlsx",
        "clean_data_6_7.xlsx",
    ];
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let out = format!("part{sig}");
        let first = d.join(&format!("{out}/{}", outputs[0]));
        interrupt(
            &d,
            &["extract", "in", "-o", &out, "--chunk-size", "2", "-q"],
            sig,
            code,
            || first.exists(),
            Duration::from_secs(30),
        );
        // Whatever was finished is complete and correct.
        let done: Vec<_> = outputs
            .iter()
            .filter(|f| d.join(&format!("{out}/{f}")).exists())
            .collect();
        assert!(!done.is_empty() && done.len() < outputs.len(), "{done:?}");
        for f in &done {
            assert_same_bytes(
                &d.join(&format!("{out}/{f}")),
                &d.join(&format!("full/{f}")),
            );
        }
        d.cmd(&[
            "extract",
            "in",
            "-o",
            &out,
            "--chunk-size",
            "2",
            "--resume",
            "-q",
        ])
        .expect_code(0);
        for f in outputs {
            assert_same_bytes(
                &d.join(&format!("{out}/{f}")),
                &d.join(&format!("full/{f}")),
            );
        }
    }
}

#[test]
fn interrupted_dialogues_leaves_nothing_and_reruns_identically() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "10", "--rows", "40000", "-q",
    ])
    .expect_code(0);
    // Five of each file (2,000,000 rows): the run must still be working
    // when the signal comes 600 ms in, however fast it has become.
    add_copies(&d.join("in"), 4);
    d.cmd(&["dialogues", "in", "-o", "full", "--val-size", "0.1", "-q"])
        .expect_code(0);
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let out = format!("part{sig}");
        interrupt(
            &d,
            &["dialogues", "in", "-o", &out, "--val-size", "0.1", "-q"],
            sig,
            code,
            || false,
            Duration::from_millis(600),
        );
        assert!(walk(&d.join(&out)).is_empty(), "{:?}", walk(&d.join(&out)));
        d.cmd(&["dialogues", "in", "-o", &out, "--val-size", "0.1", "-q"])
            .expect_code(0);
        assert_same_corpus(&d.join(&out), &d.join("full"));
    }
}
