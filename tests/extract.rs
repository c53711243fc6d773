//! `sheetsift extract` behaviour: filter reasons, chunk naming and
//! selection, overflow sheets, CSV output, encodings, bad files among good
//! ones, --resume, the report, exit codes.

mod common;
use common::*;

const HEADER: &str = "坐席id,客户微信id,是否客服,消息内容,发送时间,消息id\n";

fn csv_file(d: &Dir, rel: &str, contents: &[&str]) {
    let mut s = String::from(HEADER);
    for (i, c) in contents.iter().enumerate() {
        s.push_str(&format!(
            "A1,wxid_{i},否,\"{c}\",2023-05-01 10:00:{:02},{}\n",
            i % 60,
            100 + i
        ));
    }
    d.write(rel, s);
}

#[test]
fn rows_are_dropped_by_reason() {
    let d = Dir::new();
    let contents = [
        "你好",
        "",
        "NA",
        "[微信红包]",
        "微信红包",
        "我通过了好友请求,现在你俩可以开始聊天了",
        "不支持此消息，请在手机上查看", // full-width comma: not a system message
        "对方说：不支持此消息,请在手机上查看",
    ];
    csv_file(&d, "in/a.csv", &contents);
    d.cmd(&["extract", "in", "-o", "sub", "-q", "--report", "sub.json"])
        .expect_code(0);
    let r = report_json(&d.join("sub.json"));
    assert_eq!(r["rows_read"], 8);
    assert_eq!(r["rows_dropped"]["missing"], 2);
    assert_eq!(r["rows_dropped"]["system"], 4);
    assert_eq!(r["rows_kept"], 2);

    d.cmd(&[
        "extract",
        "in",
        "-o",
        "exact",
        "-q",
        "--match",
        "exact",
        "--report",
        "exact.json",
    ])
    .expect_code(0);
    let r = report_json(&d.join("exact.json"));
    assert_eq!(
        r["rows_dropped"]["system"], 2,
        "exact match drops only whole-content phrases"
    );

    d.write("phrases.txt", "你好\r\n\n");
    d.cmd(&[
        "extract",
        "in",
        "-o",
        "own",
        "-q",
        "--system-messages",
        "phrases.txt",
        "--report",
        "own.json",
    ])
    .expect_code(0);
    let r = report_json(&d.join("own.json"));
    assert_eq!(
        r["rows_dropped"]["system"], 1,
        "--system-messages replaces the built-in phrases"
    );
    assert_eq!(r["rows_kept"], 5);
    assert_eq!(dump_xlsx(&d.join("own/clean_data_0_0.xlsx")).len(), 1 + 5);
}

#[test]
fn chunks_are_named_by_global_file_numbers_and_selected() {
    let d = Dir::new();
    for i in 0..7 {
        csv_file(&d, &format!("in/f{i}.csv"), &["你好", "在吗"]);
    }
    d.cmd(&["extract", "in", "-o", "all", "--chunk-size", "3", "-q"])
        .expect_code(0);
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(d.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".xlsx"))
            .collect();

        v.sort();
        v
    };
    assert_eq!(
        names("all"),
        [
            "clean_data_0_2.xlsx",
            "clean_data_3_5.xlsx",
            "clean_data_6_6.xlsx"
        ]
    );

    d.cmd(&[
        "extract",
        "in",
        "-o",
        "range",
        "--chunk-size",
        "3",
        "--chunks",
        "1..3",
        "--prefix",
        "part",
        "-q",
    ])
    .expect_code(0);
    assert_eq!(names("range"), ["part_3_5.xlsx", "part_6_6.xlsx"]);

    d.cmd(&[
        "extract",
        "in",
        "-o",
        "s0",
        "--chunk-size",
        "3",
        "--shard",
        "0/2",
        "-q",
    ])
    .expect_code(0);
    d.cmd(&[
        "extract",
        "in",
        "-o",
        "s1",
        "--chunk-size",
        "3",
        "--shard",
        "1/2",
        "-q",
    ])
    .expect_code(0);
    assert_eq!(names("s0"), ["clean_data_0_2.xlsx", "clean_data_6_6.xlsx"]);
    assert_eq!(names("s1"), ["clean_data_3_5.xlsx"]);
    for (s, f) in [
        ("s0", "clean_data_0_2.xlsx"),
        ("s0", "clean_data_6_6.xlsx"),
        ("s1", "clean_data_3_5.xlsx"),
    ] {
        assert_same_bytes(&d.join(&format!("{s}/{f}")), &d.join(&format!("all/{f}")));
    }
    let r = d
        .cmd(&["extract", "in", "-o", "bad", "--shard", "2/2"])
        .expect_code(2);
    assert!(r.stderr.contains("--shard"), "{}", r.stderr);
    let r = d
        .cmd(&["extract", "in", "-o", "bad", "--chunks", "5..2"])
        .expect_code(2);
    assert!(r.stderr.contains("--chunks"), "{}", r.stderr);
}

#[test]
fn shard_auto_takes_the_cluster_index() {
    let d = Dir::new();
    for i in 0..4 {
        csv_file(&d, &format!("in/f{i}.csv"), &["你好"]);
    }
    d.cmd(&[
        "extract",
        "in",
        "-o",
        "k",
        "--chunk-size",
        "1",
        "--shard",
        "auto/3",
        "-q",
    ])
    .env("JOB_COMPLETION_INDEX", "1")
    .expect_code(0);
    assert!(d.join("k/clean_data_1_1.xlsx").exists());
    assert!(!d.join("k/clean_data_0_0.xlsx").exists());
    d.cmd(&[
        "extract",
        "in",
        "-o",
        "s",
        "--chunk-size",
        "1",
        "--shard",
        "auto/3",
        "-q",
    ])
    .env("SLURM_ARRAY_TASK_ID", "0")
    .expect_code(0);
    assert!(d.join("s/clean_data_0_0.xlsx").exists() && d.join("s/clean_data_3_3.xlsx").exists());
    let r = d
        .cmd(&["extract", "in", "-o", "n", "--shard", "auto/3"])
        .expect_code(2);
    assert!(r.stderr.contains("JOB_COMPLETION_INDEX"), "{}", r.stderr);
}

#[test]
fn csv_output_and_encodings() {
    let d = Dir::new();
    d.copy_from_tests("fixtures/csv_gbk/input", "in");
    d.cmd(&["extract", "in", "-o", "out", "--format", "csv", "-q"])
        .expect_code(0);
    let mut r = csv::Reader::from_path(d.join("out/clean_data_0_2.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "坐席id",
            "客户微信id",
            "是否客服",
            "消息内容",
            "发送时间",
            "消息id"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 100);
    assert_eq!(
        &rows[0][3], "𠀀𠀁是生僻字😀",
        "GB18030 four-byte sequences decode"
    );
    assert_eq!(&rows[0][5], "10032248");

    // Forcing UTF-8 on a GBK file: that file fails, by name, the others go on.
    let r = d
        .cmd(&["extract", "in", "-o", "forced", "--encoding", "utf-8", "-q"])
        .expect_code(3);
    assert!(
        r.stderr.contains("客服记录_gbk.csv") && r.stderr.contains("cannot decode as UTF-8"),
        "{}",
        r.stderr
    );
    assert!(d.join("forced/clean_data_0_2.xlsx").exists());
    let r = d
        .cmd(&["extract", "in", "-o", "x", "--encoding", "klingon"])
        .expect_code(2);
    assert!(r.stderr.contains("klingon"));
}

#[test]
fn a_bad_file_among_good_ones_is_reported_and_the_rest_completes() {
    let d = Dir::new();
    d.copy_from_tests("fixtures/basic/input", "in");
    d.write("in/bad.xlsx", b"this is not a zip archive at all");
    d.write("in/empty.xlsx", b"");
    d.write(
        "in/ragged.csv",
        format!("{HEADER}A1,wxid_1,否,你好,2023,1,EXTRA\n"),
    );
    let r = d
        .cmd(&["extract", "in", "-o", "out", "--report", "r.json"])
        .expect_code(3);
    assert!(
        r.stderr
            .contains("in/bad.xlsx: not a readable xlsx workbook"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("in/empty.xlsx: empty file"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("in/ragged.csv: line 2: expected 6 fields, saw 7"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("finished with 3 failed files"),
        "{}",
        r.stderr
    );
    // bad, chat_01..03, empty, ragged: one chunk of six files.
    let want = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/basic/expected_extract/clean_data_0_2.xlsx.cells.csv");
    assert_cells(&d.join("out/clean_data_0_5.xlsx"), &want);
    let rep = report_json(&d.join("r.json"));
    assert_eq!(rep["files_failed"].as_array().unwrap().len(), 3);
    assert_eq!(rep["exit_code"], 3);
    assert_eq!(rep["verdict"], "finished with 3 failed files");
    assert!(
        d.listing().iter().all(|f| !f.contains(".part")),
        "{:?}",
        d.listing()
    );
}

#[test]
fn a_chunk_whose_files_all_failed_writes_nothing() {
    let d = Dir::new();
    d.write("in/a_bad.xlsx", b"junk");
    csv_file(&d, "in/b_ok.csv", &["你好"]);
    let r = d
        .cmd(&["extract", "in", "-o", "out", "--chunk-size", "1"])
        .expect_code(3);
    assert!(!d.join("out/clean_data_0_0.xlsx").exists());
    assert!(d.join("out/clean_data_1_1.xlsx").exists());
    assert!(r.stderr.contains("no readable file"), "{}", r.stderr);
}

#[test]
fn resume_skips_finished_chunks() {
    let d = Dir::new();
    for i in 0..3 {
        csv_file(&d, &format!("in/f{i}.csv"), &["你好"]);
    }
    d.cmd(&[
        "extract",
        "in",
        "-o",
        "out",
        "--chunk-size",
        "1",
        "--chunks",
        "0..2",
        "-q",
    ])
    .expect_code(0);
    let before = std::fs::metadata(d.join("out/clean_data_0_0.xlsx"))
        .unwrap()
        .modified()
        .unwrap();
    d.cmd(&[
        "extract",
        "in",
        "-o",
        "out",
        "--chunk-size",
        "1",
        "--resume",
        "--report",
        "r.json",
        "-q",
    ])
    .expect_code(0);
    let after = std::fs::metadata(d.join("out/clean_data_0_0.xlsx"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "a finished chunk is not rewritten");
    assert!(d.join("out/clean_data_2_2.xlsx").exists());
    let r = report_json(&d.join("r.json"));
    let statuses: Vec<&str> = r["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["skipped", "skipped", "written"]);
}

#[test]
fn a_too_long_cell_fails_its_chunk_in_xlsx_and_is_kept_whole_in_csv() {
    let d = Dir::new();
    let long = "长".repeat(40_000);
    csv_file(&d, "in/a.csv", &["你好", &long]);
    csv_file(&d, "in/b.csv", &["在吗"]);
    let r = d
        .cmd(&["extract", "in", "-o", "x", "--chunk-size", "1"])
        .expect_code(3);
    assert!(
        r.stderr.contains("in/a.csv: sheet csv row 3 column 消息内容: text of 40000 UTF-16 units is over the xlsx cell limit")
            && r.stderr.contains("--table-format csv"),
        "{}",
        r.stderr
    );
    assert!(!d.join("x/clean_data_0_0.xlsx").exists());
    assert!(d.join("x/clean_data_1_1.xlsx").exists());
    d.cmd(&["extract", "in", "-o", "c", "--format", "csv", "-q"])
        .expect_code(0);
    let text = std::fs::read_to_string(d.join("c/clean_data_0_1.csv")).unwrap();
    assert!(text.contains(&long));
}

#[test]
fn usage_and_output_errors() {
    let d = Dir::new();
    csv_file(&d, "in/a.csv", &["你好"]);
    d.cmd(&["extract", "in", "-o", "x", "--no-such-flag"])
        .expect_code(2);
    let r = d.cmd(&["extract", "missing-dir", "-o", "x"]).expect_code(2);
    assert!(
        r.stderr.contains("input not found: missing-dir"),
        "{}",
        r.stderr
    );
    d.write("afile", "x");
    let r = d.cmd(&["extract", "in", "-o", "afile"]).expect_code(1);
    assert!(
        r.stderr
            .contains("afile: output path exists and is not a directory"),
        "{}",
        r.stderr
    );
    let r = d
        .cmd(&["extract", "in", "-o", "x", "--chunk-size", "0"])
        .expect_code(2);
    assert!(r.stderr.contains("--chunk-size"));
    d.write("bad.toml", "[columns]\nagnet = 'x'\n");
    let r = d
        .cmd(&["extract", "in", "-o", "x", "--config", "bad.toml"])
        .expect_code(2);
    assert!(
        r.stderr.contains("bad.toml") && r.stderr.contains("agnet"),
        "{}",
        r.stderr
    );
}

#[test]
fn config_file_renames_columns() {
    let d = Dir::new();
    d.write(
        "in/a.csv",
        "agent,cust,role,text\nA1,w1,Y,你好\nA1,w1,N,[微信红包]\n",
    );
    d.write(
        "c.toml",
        "[columns]\nagent = 'agent'\ncustomer = 'cust'\nrole = 'role'\ncontent = 'text'\nagent_value = 'Y'\n",
    );
    d.cmd(&[
        "extract", "in", "-o", "x", "--config", "c.toml", "--report", "r.json", "-q",
    ])
    .expect_code(0);
    assert_eq!(report_json(&d.join("r.json"))["rows_kept"], 1);
    // Without the config the required columns are missing: a file error.
    let r = d.cmd(&["extract", "in", "-o", "y"]).expect_code(3);
    assert!(
        r.stderr.contains("missing column 坐席id in sheet csv"),
        "{}",
        r.stderr
    );
}

/// More than 1,048,575 data rows continue on Sheet2 with the header
/// repeated; nothing is dropped. The input is generated here, not in git.
#[test]
fn overflow_continues_on_a_new_sheet() {
    use std::io::Write;
    let d = Dir::new();
    let rows = 1_048_575 + 25;
    let mut f = std::io::BufWriter::new(std::fs::File::create(d.join("big.csv")).unwrap());
    f.write_all("坐席id,客户微信id,是否客服,消息内容\n".as_bytes())
        .unwrap();
    for i in 0..rows {
        writeln!(f, "A1,w{},否,m{i}", i % 100).unwrap();
    }
    drop(f);
    d.cmd(&["extract", "big.csv", "-o", "out", "-q"])
        .expect_code(0);
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(d.join("out/clean_data_0_0.xlsx")).unwrap();
    assert_eq!(wb.sheet_names(), ["Sheet1", "Sheet2"]);
    let s1 = wb.worksheet_range("Sheet1").unwrap();
    assert_eq!(s1.height(), 1_048_576);
    let s2 = wb.worksheet_range("Sheet2").unwrap();
    assert_eq!(s2.height(), 26);
    assert_eq!(s2.get((0, 3)), Some(&Data::String("消息内容".into())));
    assert_eq!(s2.get((1, 3)), Some(&Data::String("m1048575".into())));
    assert_eq!(
        s2.get((25, 3)),
        Some(&Data::String(format!("m{}", rows - 1)))
    );
}

/// extract streams a chunk under the first file's header; a later file
/// with a new column makes it redo the chunk through a table. Both paths
/// must give the bytes `run --keep-clean` (always the table path) gives.
#[test]
fn a_new_column_in_a_later_file_widens_the_header() {
    let d = Dir::new();
    csv_file(&d, "in/a.csv", &["你好", "在吗"]);
    d.write(
        "in/b.csv",
        "坐席id,备注,客户微信id,是否客服,消息内容\nA2,vip,w9,是,您好\n",
    );
    csv_file(&d, "in/c.csv", &["第三个"]);
    d.cmd(&["extract", "in", "-o", "x", "-q"]).expect_code(0);
    let got = dump_xlsx(&d.join("x/clean_data_0_2.xlsx"));
    assert_eq!(
        got[0],
        [
            "s:坐席id",
            "s:客户微信id",
            "s:是否客服",
            "s:消息内容",
            "s:发送时间",
            "s:消息id",
            "s:备注"
        ]
    );
    assert_eq!(got.len(), 1 + 4);
    assert_eq!(got[3], ["s:A2", "s:w9", "s:是", "s:您好", "", "", "s:vip"]);
    // Every row lacks some column, so stage 2 has no dialogue (exit 1); the
    // kept stage-1 table is complete all the same.
    let r = d
        .cmd(&[
            "run",
            "in",
            "-o",
            "r",
            "--keep-clean",
            "k",
            "--val-size",
            "0.5",
        ])
        .expect_code(1);
    assert!(r.stderr.contains("no dialogues"), "{}", r.stderr);

    assert_same_bytes(
        &d.join("x/clean_data_0_2.xlsx"),
        &d.join("k/clean_data_0_2.xlsx"),
    );
}
