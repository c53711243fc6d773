//! Memory flat in file size: `extract` holds a bounded part of a file's
//! kept rows and spills the rest to a temporary file until the file has
//! been read without error. Spilled or not, the outputs are the same
//! bytes; a file failing after its rows spilled adds nothing; and the peak
//! resident set stays under 256 MiB on two files of a million rows.
//!
//! `SHEETSIFT_FILE_SPILL_BYTES` (test-only) sets the in-memory budget, so
//! small files spill too.

mod common;
use common::*;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

const SPILL_ENV: &str = "SHEETSIFT_FILE_SPILL_BYTES";

/// The output files of a run (chunk tables), by name.
fn outputs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".xlsx") || n.ends_with(".csv"))
        .collect();
    v.sort();
    v
}

/// Every output of `got` is byte for byte the one of `want`, in order
/// (the names may differ: a chunk's name has its last file's number), and
/// both have as many outputs (at least one).
fn assert_same_outputs(got: &Path, want: &Path) {
    let (g, w) = (outputs(got), outputs(want));
    assert!(!w.is_empty(), "no output in {}", want.display());
    assert_eq!(g.len(), w.len(), "{g:?} vs {w:?}");
    for (g, w) in g.iter().zip(&w) {
        assert_same_bytes(&got.join(g), &want.join(w));
    }
}

/// `extract IN -o OUT ARGS`, with the spill budget `spill` when given.
fn extract(d: &Dir, input: &str, out: &str, args: &[&str], spill: Option<&str>) -> Cmd {
    let mut a = vec!["extract", input, "-o", out, "-q"];
    a.extend(args);
    let mut c = d.cmd(&a);
    if let Some(b) = spill {
        c = c.env(SPILL_ENV, b);
    }
    c
}

#[test]
fn spilled_rows_write_the_same_bytes() {
    let d = Dir::new();
    let s = ["--seed", "3", "-q"];
    let gen = |out: &str, extra: &[&str]| {
        let mut a = vec!["samples", "-o", out];
        a.extend(extra);
        a.extend(s);
        d.cmd(&a).expect_code(0);
    };
    gen("shared", &["--files", "3", "--rows", "3000"]);
    gen(
        "inline",
        &["--files", "3", "--rows", "3000", "--inline-strings"],
    );
    gen("csv", &["--files", "3", "--rows", "3000", "--csv"]);
    // One sheet big enough for the parallel parser (one file, -j 2).
    gen("big", &["--files", "1", "--rows", "60000"]);
    for input in ["shared", "inline", "csv", "big"] {
        for format in ["xlsx", "csv"] {
            let base = format!("{input}-{format}");
            let args = ["--table-format", format, "-j", "2", "--chunk-size", "2"];
            extract(&d, input, &base, &args, None).expect_code(0);
            // Every row through the spill; then a budget that leaves each
            // sheet's last rows in memory after spilled ones.
            for budget in ["1", "20000"] {
                let out = format!("{base}-{budget}");
                extract(&d, input, &out, &args, Some(budget)).expect_code(0);
                assert_same_outputs(&d.join(&out), &d.join(&base));
            }
        }
    }
}

/// The knob is real: a file of 300,000 rows held in memory costs far more
/// than the same file spilled row by row (so the tests above did spill).
#[test]
fn the_spill_budget_bounds_what_a_file_holds() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "1", "--rows", "300000", "-q",
    ])
    .expect_code(0);
    let rss = |out: &str, budget: &str| {
        let l = d
            .cmd(&["extract", "in", "-o", out, "-j", "1", "-q"])
            .env(SPILL_ENV, budget)
            .run_limited(16 << 30, Duration::from_secs(60));
        assert_eq!(l.run.code, 0, "{}", l.run.report(d.path()));
        l.peak_rss_mib
    };
    let held = rss("held", &(8u64 << 30).to_string());
    let spilled = rss("spilled", "1");
    eprintln!("300,000 rows: held {held} MiB, spilled {spilled} MiB");
    assert!(
        spilled + 20 < held,
        "held {held} MiB, spilled {spilled} MiB: the budget is not applied"
    );
    assert_same_outputs(&d.join("spilled"), &d.join("held"));
}

/// A chat sheet's header: the documented columns and a numeric-text one.
const HEADER: [&str; 5] = ["坐席id", "客户微信id", "是否客服", "消息内容", "工号"];

/// A workbook of two chat sheets: in the first, column 工号 is all numeric
/// text ("0012"), which pandas turns into numbers; in the second, one
/// value is not numeric, so the column stays text.
fn numeric_text_book(path: &Path, rows: u32) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, blocker) in [("a", None), ("b", Some(rows / 2))] {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        for (c, h) in HEADER.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for i in 1..=rows {
            let id = if blocker == Some(i) {
                "A12".to_string()
            } else {
                format!("{:04}", i % 300)
            };
            let role = if i % 2 == 0 { "是" } else { "否" };
            let cells = [
                format!("agent{}", i % 7),
                format!("wx{}", i % 11),
                role.to_string(),
                format!("消息 {i}"),
                id,
            ];
            for (c, v) in cells.iter().enumerate() {
                ws.write_string(i, c as u16, v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn spilled_rows_get_pandas_numeric_conversion() {
    let d = Dir::new();
    std::fs::create_dir_all(d.join("in")).unwrap();
    numeric_text_book(&d.join("in/a.xlsx"), 2000);
    numeric_text_book(&d.join("in/b.xlsx"), 500);
    for format in ["xlsx", "csv"] {
        let base = format!("mem-{format}");
        let args = ["--table-format", format];
        extract(&d, "in", &base, &args, None).expect_code(0);
        for budget in ["1", "3000"] {
            let out = format!("spill-{format}-{budget}");
            extract(&d, "in", &out, &args, Some(budget)).expect_code(0);
            assert_same_outputs(&d.join(&out), &d.join(&base));
        }
    }
    // The case is what it says: sheet a's column is numbers, sheet b's text.
    let name = &outputs(&d.join("mem-xlsx"))[0];
    let rows = dump_xlsx(&d.join("mem-xlsx").join(name));
    let col = rows[0].iter().position(|h| h.contains("工号")).unwrap();
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[col].as_str()).collect();
    assert!(
        ids[0].starts_with("n:") && ids[0].contains("1"),
        "{:?}",
        &ids[..3]
    );
    assert!(ids[1999].starts_with("n:"), "{}", ids[1999]);
    assert!(ids[2000].starts_with("s:0001"), "{}", ids[2000]);
    assert!(ids.contains(&"s:A12"));
}

/// An xlsx whose one sheet has `rows` good chat rows and then a cell
/// beyond column XFD: the file fails after all its rows were read.
fn fails_after_rows(rows: u32) -> Vec<u8> {
    let cell = |r: u32, col: &str, s: &str| {
        format!(r#"<c r="{col}{r}" t="inlineStr"><is><t>{s}</t></is></c>"#)
    };
    let mut data = String::from("<row r=\"1\">");
    for (h, col) in HEADER.iter().zip(["A", "B", "C", "D", "E"]) {
        data += &cell(1, col, h);
    }
    data += "</row>";
    for r in 2..rows + 2 {
        data += &format!("<row r=\"{r}\">");
        data += &cell(r, "A", "agent1");
        data += &cell(r, "B", "wx1");
        data += &cell(r, "C", "是");
        data += &cell(r, "D", &format!("坏文件的消息 {r}"));
        data += &cell(r, "E", "0012");
        data += "</row>";
    }
    let bad = rows + 2;
    data += &format!("<row r=\"{bad}\">{}</row>", cell(bad, "XFE", "far"));
    let sheet = format!(
        r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{data}</sheetData></worksheet>"#
    );
    let ct = br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;
    let rels = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let wb = br#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let wbrels = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    for (name, bytes) in [
        ("[Content_Types].xml", &ct[..]),
        ("_rels/.rels", &rels[..]),
        ("xl/workbook.xml", &wb[..]),
        ("xl/_rels/workbook.xml.rels", &wbrels[..]),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ] {
        z.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    buf.into_inner()
}

#[test]
fn a_file_failing_after_its_rows_spilled_adds_nothing() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "good", "--files", "2", "--rows", "2000", "-q",
    ])
    .expect_code(0);
    copy_tree(&d.join("good"), &d.join("with_bad"));
    // Between the two good files in the one chunk.
    d.write("with_bad/chat_0001b.xlsx", fails_after_rows(3000));
    for format in ["xlsx", "csv"] {
        let args = ["--table-format", format];
        let want = format!("want-{format}");
        extract(&d, "good", &want, &args, None).expect_code(0);
        for budget in [None, Some("1")] {
            let out = format!("got-{format}-{}", budget.unwrap_or("mem"));
            let mut a = vec!["--report", "r.json"];
            a.extend(args);
            let r = extract(&d, "with_bad", &out, &a, budget).expect_code(3);
            assert!(
                r.stderr.contains("chat_0001b.xlsx") && r.stderr.contains("XFE"),
                "{}",
                r.stderr
            );
            let report = report_json(&d.join("r.json"));
            let failed = report["files_failed"].as_array().unwrap();
            assert_eq!(failed.len(), 1, "{report}");
            assert!(failed[0].to_string().contains("chat_0001b.xlsx"));
            assert_same_outputs(&d.join(&out), &d.join(&want));
        }
    }
}

/// The issue's scale: `extract -j 2` on two files of 1,000,000 rows stays
/// under 256 MiB resident (it held ~650 MB when a file's rows were kept
/// whole until it was read).
#[test]
fn two_million_row_files_extract_under_256_mib() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "2", "--rows", "1000000", "--seed", "1", "-q",
    ])
    .timeout(Duration::from_secs(60))
    .expect_code(0);
    let l = d
        .cmd(&["extract", "in", "-o", "out", "-j", "2", "-q"])
        .run_limited(16 << 30, Duration::from_secs(60));
    assert_eq!(l.run.code, 0, "{}", l.run.report(d.path()));
    eprintln!(
        "extract -j 2, 2 x 1,000,000 rows: {} MiB peak, {:?}",
        l.peak_rss_mib, l.elapsed
    );
    assert!(
        l.peak_rss_mib <= 256,
        "peak RSS {} MiB over 256 MiB ({:?})",
        l.peak_rss_mib,
        l.elapsed
    );
    let name = &outputs(&d.join("out"))[0];
    let m = report_json(&d.join("out/manifest.json"));
    let rows: u64 = m["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rows"].as_u64().unwrap_or(0))
        .sum();
    assert!(rows > 1_500_000, "{name}: {rows} rows written");
}
