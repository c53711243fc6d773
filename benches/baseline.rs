//! What the two crates alone allow: single-thread calamine read (cells
//! reader) of every input, then single-thread rust_xlsxwriter
//! constant-memory write (zip level 1) of the rows read. `compare.sh` runs
//! it to compute issue 6's target, 1.5 x (read + write) / 2.
//!
//!     cargo bench --bench baseline -- FILE.xlsx...

use std::time::Instant;

use calamine::{open_workbook, DataRef, Reader, Xlsx};

enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a.ends_with(".xlsx"))
        .collect();
    if files.is_empty() {
        eprintln!("usage: cargo bench --bench baseline -- FILE.xlsx...");
        return;
    }
    let t = Instant::now();
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for p in &files {
        let mut wb: Xlsx<_> = open_workbook(p).expect("readable xlsx");
        for name in wb.sheet_names() {
            let mut r = wb.worksheet_cells_reader(&name).expect("sheet");
            let mut current = u32::MAX;
            while let Some(c) = r.next_cell().expect("cell") {
                let (row, col) = c.get_position();
                if row != current {
                    rows.push(Vec::new());
                    current = row;
                }
                let v = match c.get_value() {
                    DataRef::String(s) => Cell::Text(s.clone()),
                    DataRef::SharedString(s) => Cell::Text(s.to_string()),
                    DataRef::Float(f) => Cell::Number(*f),
                    DataRef::Int(i) => Cell::Number(*i as f64),
                    DataRef::DateTime(d) => Cell::Number(d.as_f64()),
                    _ => Cell::Empty,
                };
                let last = rows.last_mut().expect("pushed");
                while last.len() < col as usize {
                    last.push(Cell::Empty);
                }
                last.push(v);
            }
        }
    }
    let read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.set_tempdir(dir.path()).expect("tempdir");
    wb.set_zip_compression_level(1);
    let mut ws = wb.add_worksheet_with_constant_memory().expect("worksheet");
    let mut r = 0u32;
    for row in &rows {
        if r == 1_048_576 {
            ws = wb.add_worksheet_with_constant_memory().expect("worksheet");
            r = 0;
        }
        for (c, v) in row.iter().enumerate() {
            match v {
                Cell::Text(s) => ws.write_string(r, c as u16, s).map(|_| ()),
                Cell::Number(x) => ws.write_number(r, c as u16, *x).map(|_| ()),
                Cell::Empty => Ok(()),
            }
            .expect("write");
        }
        r += 1;
    }
    let cells = t.elapsed().as_secs_f64();
    wb.save(dir.path().join("out.xlsx")).expect("save");
    let write = t.elapsed().as_secs_f64();
    println!(
        "baseline rows={} read_s={read:.2} write_s={write:.2} save_s={:.2}",
        rows.len(),
        write - cells
    );
}
