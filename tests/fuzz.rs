//! Property tests: random and mutated workbook bytes through the readers,
//! random cell text through cleaning and turn building. Nothing may panic
//! or hang; every input ends as rows or as a file error.

use std::io::Write;
use std::path::Path;

mod common;
use common::unzip;
use proptest::prelude::*;
use sheetsift::dialogue::build_turns;
use sheetsift::dialogue::emoji::remove_emoji;
use sheetsift::dialogue::turns::clean;
use sheetsift::read::{read_file, ReadOptions};
use sheetsift::value::Value;

fn opts() -> ReadOptions {
    sheetsift::config::default_read_options()
}

/// Read bytes as a file with this extension; any outcome but a panic is fine.
fn read_bytes(bytes: &[u8], ext: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("f.{ext}"));
    std::fs::write(&p, bytes).unwrap();
    let mut n = 0u64;
    match read_file(&p, &opts(), &mut |_, row| {
        n += row.len() as u64;
        true
    }) {
        Ok(book) => assert!(book
            .sheets
            .iter()
            .all(|s| s.required_idx.iter().all(|&i| i < s.columns.len()))),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel),
    )
    .unwrap()
}

fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    for (name, data) in entries {
        z.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    buf.into_inner()
}

/// One edit of a byte string: delete, insert, overwrite or duplicate a span.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Overwrite(usize, Vec<u8>),
    Duplicate(usize, usize),
}

fn apply(data: &mut Vec<u8>, e: &Edit) {
    if data.is_empty() {
        return;
    }
    let at = |x: usize| x % (data.len() + 1);
    match e {
        Edit::Delete(a, n) => {
            let a = at(*a).min(data.len());
            let b = (a + n).min(data.len());
            data.drain(a..b);
        }
        Edit::Insert(a, bytes) => {
            let a = at(*a);
            data.splice(a..a, bytes.iter().copied());
        }
        Edit::Overwrite(a, bytes) => {
            let a = at(*a);
            for (i, b) in bytes.iter().enumerate() {
                if let Some(x) = data.get_mut(a + i) {
                    *x = *b;
                }
            }
        }
        Edit::Duplicate(a, n) => {
            let a = at(*a).min(data.len());
            let b = (a + n).min(data.len());
            let span = data[a..b].to_vec();
            data.splice(b..b, span);
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    // Insertions lean on XML-ish bytes so the parser, not just the zip
    // layer, sees the damage.
    let xmlish = prop::collection::vec(
        prop::sample::select(b"<>/=\"' &;#x0123456789abcdefrtcvsi_:\xe4\xbd\xa0\xff\x00".to_vec()),
        0..24,
    );
    prop_oneof![
        (any::<usize>(), 0usize..64).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), xmlish.clone()).prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), xmlish).prop_map(|(a, b)| Edit::Overwrite(a, b)),
        (any::<usize>(), 0usize..200).prop_map(|(a, n)| Edit::Duplicate(a, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..3000), ext in prop::sample::select(vec!["xlsx", "xlsb", "xls", "ods", "csv"])) {
        read_bytes(&bytes, ext);
    }

    #[test]
    fn mutated_xlsx_parts_never_panic(entry in 0usize..16, edits in prop::collection::vec(edit(), 1..6)) {
        let mut entries = unzip(&fixture("multi_sheet/input/export_2023-05.xlsx"));
        let i = entry % entries.len();
        for e in &edits {
            apply(&mut entries[i].1, e);
        }
        read_bytes(&rezip(&entries), "xlsx");
    }

    #[test]
    fn mutated_container_bytes_never_panic(edits in prop::collection::vec(edit(), 1..4), ext in prop::sample::select(vec!["xlsx", "xlsb", "ods"])) {
        let mut bytes = fixture("basic/input/chat_02.xlsx");
        for e in &edits {
            apply(&mut bytes, e);
        }
        read_bytes(&bytes, ext);
    }

    #[test]
    fn mutated_csv_never_panics(edits in prop::collection::vec(edit(), 1..8)) {
        let mut bytes = fixture("csv_gbk/input/客服记录_gbk.csv");
        for e in &edits {
            apply(&mut bytes, e);
        }
        read_bytes(&bytes, "csv");
    }

    #[test]
    fn random_text_through_cleaning_and_turns(
        msgs in prop::collection::vec((prop::sample::select(vec!["是", "否", "N"]), text()), 0..12)
    ) {
        let messages: Vec<(Value, Value)> = msgs.iter().map(|(r, c)| (Value::text(r), Value::text(c))).collect();
        let (turns, skipped) = build_turns(&messages, "是");
        prop_assert!(skipped as usize <= messages.len());
        for t in &turns {
            prop_assert!(!t.text.contains('\n'));
            prop_assert!(t.text.starts_with("坐席:") || t.text.starts_with("客户:"));
        }
        for (_, c) in &msgs {
            let once = clean(c);
            let clean_of_selectors = !once.contains(['\u{FE0F}', '\u{FE0E}', '\n']);
            prop_assert!(clean_of_selectors, "{:?} -> {:?}", c, once);
            prop_assert!(remove_emoji(&once).chars().count() <= once.chars().count());
        }
    }
}

/// Text built from the pieces that stress the emoji tokenizer.
fn text() -> impl Strategy<Value = String> {
    let pieces = vec![
        "😀",
        "👍",
        "🏽",
        "\u{200D}",
        "\u{FE0F}",
        "\u{FE0E}",
        "🇺",
        "🇸",
        "🇨🇳",
        "1",
        "\u{20E3}",
        "#",
        "🏴",
        "\u{E0067}",
        "\u{E007F}",
        "👨\u{200D}👩\u{200D}👧",
        "🦰",
        "你好",
        "a",
        " ",
        "\n",
        "\r",
        "。",
        ";",
        "©",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..10).prop_map(|v| v.concat())
}

/// Every worksheet part of the fixtures and samples.
fn fixture_sheets() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for f in [
        "basic/input/chat_01.xlsx",
        "basic/input/chat_03.xlsx",
        "multi_sheet/input/export_2023-05.xlsx",
        "numeric_ids/input/mixed_ids.xlsx",
        "numeric_ids/input/numeric_with_gap.xlsx",
    ] {
        for (name, data) in unzip(&fixture(f)) {
            if name.contains("worksheets/sheet") {
                out.push(data);
            }
        }
    }
    out
}

const SHARED: [&str; 4] = ["坐席id", "你好", " ", "x"];

/// Hand-made sheets with what the fast path must either read exactly or
/// hand over: prefixes, comments, CDATA, entities, rich text, phonetic
/// runs, formulas, self-closing cells, rows without `r`, `row>` in text.
const TRICKY: &[&str] = &[
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t xml:space="preserve"> a&amp;b&#13;&#x1F600;</t></is></c></row><row><c t="n"><v>1.5</v></c><c/><c t="b"><v>1</v></c></row></sheetData></worksheet>"#,
    r#"<x:worksheet xmlns:x="urn:x"><x:sheetData><x:row r="2"><x:c r="C2" t="inlineStr"><x:is><x:r><x:rPr><x:b/></x:rPr><x:t>粗</x:t></x:r><x:r><x:t>体</x:t></x:r><x:rPh sb="0" eb="1"><x:t>ふりがな</x:t></x:rPh><x:phoneticPr fontId="1"/></x:is></x:c></x:row></x:sheetData></x:worksheet>"#,
    r#"<worksheet><sheetData><row r="1"><c r="A1"><f>SUM(B1:B2)</f><v>3</v></c><c r="B1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="C1" t="e"><v>#N/A</v></c><c r="D1"><f>1/0</f></c></row><!-- a comment --><row r="3"><c r="A3" t="inlineStr"><is><t>arrow&gt; row> grow></t></is></c></row></sheetData></worksheet>"#,
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[<raw>]]></t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>line1&#10;line2
line3</t></is></c></row></sheetData></worksheet>"#,
    "<worksheet><sheetData><row r=\"1\" spans=\"1:2\"><c r=\"A1\" t=\"inlineStr\"><is><t>crlf\r\nand cr\r</t></is></c><c r='B1' s = '3' t = 's'><v>1</v></c></row><row r=\"4\"/><row r=\"5\"><c r=\"A5\" t=\"d\"><v>2023-05-01T09:30:00</v></c></row></sheetData></worksheet>",
    r#"<worksheet><sheetData/></worksheet>"#,
    // Found by the mutation test: the end tag must match sheetData's name
    // exactly (the fast path once accepted `<//x:sheetData>`).
    r#"<x:worksheet xmlns:x="urn:x"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row><//x:sheetData></x:worksheet>"#,

    r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;unknown entity</t></is></c></row></sheetData></worksheet>"#,
    // A slash inside a name: `is/t` is not `<is>` (found by the proptest).
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is/t></is></c></row></sheetData></worksheet>"#,
    // Near misses of the one-pass common cell, each of which it must hand
    // to the general cell code (or read exactly as that code does): two
    // `<v>`s, `<v/>`, spaces, an unparsable or prefixed `r`, attributes
    // without a space between, a long attribute name, `>` in a value, a
    // cell past XFD, text with entities and CR.
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>3</v><v>1</v></c><c r="B1"><v/></c><c r="C1" ><v>2</v></c><c r="D1"><v>3</v ></c><c r="zz"><v>4</v></c><c x:r="G1" s="1"><v>5</v></c></row><row r="2"><c r="A2"t="s"><v>1</v></c><c averyveryverylongname="1" r="C2"><v>6</v></c><c r="D2" foo="a>b"><v>7</v></c><c r="E2"> <v>8</v></c><c r="F2"><v>a&amp;b&#10;c&#13;d&#x41;&lt;</v></c><c r="G2" t="str"><v>x&#13;&#10;y&#xD;z</v></c></row><row r="3"><c r="A3" s="x"><v>9</v></c><c r="B3" s="2"/><c/><c r="D3" t="b"><v>1</v></c></row></sheetData></worksheet>"#,
    // Inline strings in the one-pass common cell (`<is><t>..</t></is>`,
    // with or without xml:space="preserve") and their near misses: other
    // `<t>` attributes, two `<t>`s, a second `<is>` (it replaces the
    // first), `<is>` then `<v>`, `<t/>`, space before `</is>`, a `<tx>`,
    // CDATA, entities, CR, an unknown entity.
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>plain</t></is></c><c r="B1" t="inlineStr"><is><t xml:space="preserve"> sp </t></is></c><c r="C1" t="inlineStr"><is><t xml:space="default">d</t></is></c><c r="D1" t="inlineStr"><is><t>a</t><t>b</t></is></c><c r="E1" t="inlineStr"><is><t>x</t></is><is><t>y</t></is></c><c r="F1" t="inlineStr"><is><t>i</t></is><v>3</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t/></is></c><c r="B2" t="inlineStr"><is><t>x</t> </is></c><c r="C2" t="inlineStr"><is><tx>y</tx></is></c><c r="D2" t="inlineStr"><is><t ><![CDATA[c]]></t></is></c><c r="E2" t="inlineStr"><is><t><![CDATA[<c>]]></t></is></c><c r="F2" t="inlineStr"><is><t>a&amp;b&#13;c&gt;d</t></is></c><c r="G2" t="inlineStr"><is><t>x&#13;&#10;y&#xD;z&nbsp;</t></is></c><c r="H2" t="inlineStr"><is><t>r1
r2
r3</t></is></c><c r="I2" t="s"><is><t>shared?</t></is></c><c r="J2"><is><t>7</t></is></c></row></sheetData></worksheet>"#,
    r#"<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c><c r="XFE1"><v>2</v></c></row></sheetData></worksheet>"#,
    // A cell reference is compared with its row's number as written:
    // references into other rows, with the row's digits as a prefix,
    // with leading zeros either side, and rows numbered 0 or past nine
    // digits must still come out as the general reader reads them.
    // Shared-string indexes read straight from `<v>` (rows past the
    // header): two `<v>`s either way round, leading zeros, ten digits,
    // spaces, a sign, an empty `<v>`, text after the digits, a `<v>` with
    // an entity, a number type, and the header row (read as text).
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="s"><v>03</v></c></row><row r="2"><c r="A2" t="s"><v>1</v><v>2</v></c><c r="B2" t="s"><v>x</v><v>3</v></c><c r="D2" t="s"><v>003</v></c><c r="E2" t="s"><v>0000000001</v></c><c r="F2" t="s"><v> 1</v></c><c r="G2" t="s"><v>+1</v></c><c r="H2" t="s"><v></v></c><c r="J2" t="s"><v>&#49;</v></c><c r="K2" t="n"><v>2</v></c><c r="L2" t="s"><v>2</v ></c></row><row r="3"><c r="A3" t="s"><v>0</v></c><c r="B3" t="s"><v>2</v></c></row></sheetData></worksheet>"#,
    // ... and the ones that are errors (a sheet stops at its first).
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>3</v><v>x</v></c></row></sheetData></worksheet>"#,
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1x</v></c></row></sheetData></worksheet>"#,
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>4</v></c></row></sheetData></worksheet>"#,
    r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>4294967296</v></c></row></sheetData></worksheet>"#,
    r#"<worksheet><sheetData><row r="5"><c r="A5"><v>1</v></c><c r="B50"><v>2</v></c><c r="C05"><v>3</v></c><c r="D4"><v>4</v></c><c r="E5" t="s"><v>1</v></c></row><row r="07"><c r="A07"><v>5</v></c><c r="B7"><v>6</v></c><c r="C007"><v>6</v></c></row><row r="12"><c r="A1"><v>7</v></c><c r="B12"><v>8</v></c><c r="C123"><v>9</v></c><c r="D12 "><v>9</v></c><c r="e12"><v>9</v></c><c r="AA12"><v>9</v></c></row><row r="0"><c r="A0"><v>1</v></c></row><row r="1234567890"><c r="A1234567890"><v>1</v></c></row><row r="13"><c r="A13"/><c r="B13"/></row><row r="1048576"><c r="A1048576"><v>1</v></c><c r="B104857"><v>2</v></c><c r="C1048576"/></row></sheetData></worksheet>"#,
    r#"<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c><c r="A1048577"><v>3</v></c></row></sheetData></worksheet>"#,
];

#[test]
fn fast_path_agrees_with_the_general_reader_on_known_sheets() {
    let mut sheets = fixture_sheets();
    sheets.extend(TRICKY.iter().map(|s| s.as_bytes().to_vec()));
    for (i, xml) in sheets.iter().enumerate() {
        let fast = sheetsift::read::sheet_cells_for_tests(xml, &SHARED, true);
        let slow = sheetsift::read::sheet_cells_for_tests(xml, &SHARED, false);
        assert_eq!(
            fast,
            slow,
            "sheet {i}: {}",
            String::from_utf8_lossy(&xml[..xml.len().min(300)])
        );
    }
}

/// The parallel reader (blocks of rows parsed at once, the rest serially
/// from the first row a block cannot take) reads what the serial one
/// reads, whatever the block size: cuts fall between rows, inside rows and
/// inside CDATA, comments and rows without `r`.
#[test]
fn parallel_reader_agrees_with_the_serial_one_on_known_sheets() {
    let mut sheets = fixture_sheets();
    sheets.extend(TRICKY.iter().map(|s| s.as_bytes().to_vec()));
    for (i, xml) in sheets.iter().enumerate() {
        let serial = sheetsift::read::sheet_cells_for_tests(xml, &SHARED, true);
        for block in [1, 7, 64, 300, 4096, 1 << 20] {
            for threads in [1, 3] {
                let par =
                    sheetsift::read::sheet_cells_parallel_for_tests(xml, &SHARED, threads, block);
                assert_eq!(
                    par,
                    serial,
                    "sheet {i}, block {block}, {threads} threads: {}",
                    String::from_utf8_lossy(&xml[..xml.len().min(300)])
                );
            }
        }
    }
}

/// Known sheet number `which` (wrapping) with `edits` applied.
fn mutated(which: usize, edits: &[Edit]) -> Vec<u8> {
    let mut sheets = fixture_sheets();
    sheets.extend(TRICKY.iter().map(|s| s.as_bytes().to_vec()));
    let mut xml = sheets[which % sheets.len()].clone();
    for e in edits {
        apply(&mut xml, e);
    }
    xml
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The same on damaged sheets, errors included.
    #[test]
    fn parallel_reader_agrees_on_mutated_sheets(which in 0usize..64, edits in prop::collection::vec(edit(), 1..6), block in 1usize..400) {
        let xml = mutated(which, &edits);
        let serial = sheetsift::read::sheet_cells_for_tests(&xml, &SHARED, true);
        let par = sheetsift::read::sheet_cells_parallel_for_tests(&xml, &SHARED, 2, block);
        prop_assert_eq!(par, serial, "block {} xml {:?}", block, String::from_utf8_lossy(&xml));
    }

    /// On damaged sheets too: whatever the fast path reads, it reads as the
    /// general reader does, and it fails where the general reader fails.
    #[test]
    fn fast_path_agrees_on_mutated_sheets(which in 0usize..64, edits in prop::collection::vec(edit(), 1..6)) {
        let xml = mutated(which, &edits);
        let fast = sheetsift::read::sheet_cells_for_tests(&xml, &SHARED, true);
        let slow = sheetsift::read::sheet_cells_for_tests(&xml, &SHARED, false);
        match (&fast, &slow) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "fast {:?}\nslow {:?}\nxml {:?}", fast, slow, String::from_utf8_lossy(&xml)),
        }
    }
}
