//! sheetsift's xlsx writer against rust_xlsxwriter itself: the same rows
//! written both ways must give the same package, member by member, byte
//! for byte once inflated — whatever the pieces and threads.

use std::path::Path;
use std::sync::Arc;

mod common;
use common::unzip;
use proptest::prelude::*;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
use sheetsift::value::{ColName, Value};
use sheetsift::write::{Sink, XlsxSink};

/// What rust_xlsxwriter's constant-memory worksheet writes for these rows
/// (how sheetsift wrote xlsx before it compressed on several threads).
fn reference(path: &Path, columns: &[String], rows: &[Vec<Value>]) {
    let mut book = Workbook::new();
    book.set_tempdir(path.parent().unwrap()).unwrap();
    let epoch = ExcelDateTime::from_ymd(2000, 1, 1).unwrap();
    book.set_properties(&DocProperties::new().set_creation_datetime(&epoch));
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let ws = book.add_worksheet_with_constant_memory().unwrap();
    for (c, name) in columns.iter().enumerate() {
        ws.write_string(0, c as u16, name).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Value::Empty => continue,
                Value::Text(s) => ws.write_string(r, c, s.as_ref()),
                Value::Int(i) => ws.write_number(r, c, *i as f64),
                // pandas' `to_excel` writes ±inf as the text `inf`/`-inf`
                // (rust_xlsxwriter would write `INF`).
                Value::Float(f) if f.is_infinite() => {
                    ws.write_string(r, c, if *f > 0.0 { "inf" } else { "-inf" })
                }
                Value::Float(f) => ws.write_number(r, c, *f),
                Value::Bool(b) => ws.write_boolean(r, c, *b),
                Value::DateTime(d) => ws.write_number_with_format(r, c, *d, &date),
                // As pandas writes them: a time as `str(time)`, a duration
                // as its days.
                Value::Time(_) => ws.write_string(r, c, v.to_text()),
                Value::Duration(us) => ws.write_number(r, c, *us as f64 / 1e6 / 86_400.0),
                // Beyond int64: sheetsift writes the digits, which
                // rust_xlsxwriter cannot (the rows here stay within 2^53).
                Value::BigInt(_) => unreachable!("not generated"),
            }
            .unwrap();
        }
    }
    book.save(path).unwrap();
}

fn ours(
    path: &Path,
    columns: &[String],
    rows: &[Vec<Value>],
    pool: Option<Arc<rayon::ThreadPool>>,
    piece: usize,
) {
    let mut sink = XlsxSink::create(path, 1, pool).unwrap().piece_rows(piece);
    let names: Vec<ColName> = columns.iter().map(|c| ColName::from(c.as_str())).collect();
    sink.header(&names).unwrap();
    // Some rows one by one, the rest handed over in one go.
    let (one, rest) = rows.split_at(rows.len() / 3);
    for r in one {
        sink.row(r).unwrap();
    }
    sink.rows(rest.to_vec()).unwrap();
    Box::new(sink).finish().unwrap();
}

fn same_package(columns: &[String], rows: &[Vec<Value>], threads: usize, piece: usize) {
    let dir = tempfile::tempdir().unwrap();
    let want = dir.path().join("want.xlsx");
    let got = dir.path().join("got.xlsx");
    reference(&want, columns, rows);
    let pool = (threads > 0).then(|| sheetsift::pool::thread_pool(threads).unwrap());
    ours(&got, columns, rows, pool, piece);
    let (want, got) = (
        unzip(&std::fs::read(&want).unwrap()),
        unzip(&std::fs::read(&got).unwrap()),
    );
    let names = |m: &[(String, Vec<u8>)]| m.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&got), names(&want));
    for ((name, w), (_, g)) in want.iter().zip(&got) {
        assert!(
            w == g,
            "{name} differs:\nwant {}\n got {}",
            String::from_utf8_lossy(w),
            String::from_utf8_lossy(g)
        );
    }
    // And no temporary is left beside the output.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

fn cols(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

#[test]
fn known_rows_match_rust_xlsxwriter() {
    let columns = cols(&["坐席id", "", " lead", "消息内容", "发送时间", "n"]);
    let rows = vec![
        vec![
            text("A1"),
            text("w<1>&"),
            Value::Bool(true),
            text("你好 _x0041_ \u{1}\r\n"),
            Value::DateTime(44986.00740740741),
            Value::Int(10074262),
        ],
        vec![],
        vec![Value::Empty, Value::Empty],
        vec![
            text(""),
            Value::Float(f64::NAN),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NEG_INFINITY),
            Value::Float(-0.0),
            Value::Float(1e-300),
        ],
        vec![
            Value::Time(34_200_000_000),
            Value::Time(45_000_500_000),
            Value::Duration(93_600_000_000),
            Value::Duration(-43_200_000_000),
        ],
        vec![Value::Bool(false), text("\t"), text("\u{FFFE}\u{FFFF}😀")],
        // Past column Z.
        (0..30).map(Value::Int).collect(),
    ];
    for (threads, piece) in [(0, 4096), (0, 1), (2, 1), (2, 2), (1, 3)] {
        same_package(&columns, &rows, threads, piece);
    }
    // Nothing but a header; and nothing at all.
    same_package(&columns, &[], 2, 1);
    same_package(&[], &[], 0, 1);
    // Dates only below the first row, none in the header.
    same_package(&cols(&["d"]), &[vec![], vec![Value::DateTime(1.5)]], 2, 1);
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Empty),
        "[a-z<>&_x0-9A-F \t\n\r\u{1}\u{1f}\u{FFFE}你好😀]{0,12}"
            .prop_map(|s| Value::Text(s.into())),
        // rust_xlsxwriter writes integers through f64; sheetsift writes an
        // integer beyond 2^53 with all its digits (src/write/sheetxml.rs
        // tests that), so the comparison stays within 2^53.
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        (0.0..3e6f64).prop_map(Value::DateTime),
        (0u64..86_400_000_000).prop_map(Value::Time),
        any::<i32>().prop_map(|s| Value::Duration(s as i64 * 1000)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn random_rows_match_rust_xlsxwriter(
        columns in prop::collection::vec("[a-z _x0-9]{0,6}", 0..5),
        rows in prop::collection::vec(prop::collection::vec(value(), 0..8), 0..40),
        threads in 0usize..3,
        piece in 1usize..9,
    ) {
        same_package(&columns, &rows, threads, piece);
    }
}
