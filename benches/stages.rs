//! Criterion benches of each stage on generated data (`sheetsift samples`):
//! read one file, filter, write one chunk, emoji removal, turn building,
//! the split permutation.
//!
//!     cargo bench --bench stages

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sheetsift::config::SamplesConfig;
use sheetsift::dialogue::build_turns;
use sheetsift::dialogue::emoji::remove_emoji;
use sheetsift::dialogue::split::permutation;
use sheetsift::filter::{MatchMode, RowFilter, DEFAULT_SYSTEM_MESSAGES};
use sheetsift::read::{read_file, ReadOptions, Sheet};
use sheetsift::table::Table;
use sheetsift::value::Value;
use sheetsift::write::TableFormat;

const ROWS: usize = 20_000;

fn opts() -> ReadOptions {
    sheetsift::config::default_read_options()
}

/// One generated 20,000-row xlsx in a temporary directory: text in a
/// shared-strings table as Excel writes it, or inline.
fn sample(dir: &Path, inline_strings: bool) -> PathBuf {
    let args = SamplesConfig {
        out: dir.to_path_buf(),
        files: 1,
        rows: ROWS,
        seed: 1,
        csv: false,
        inline_strings,
        quiet: true,
    };
    sheetsift::cmd::samples::run(&args).unwrap();
    dir.join("chat_0001.xlsx")
}

fn read_all(path: &Path) -> Vec<Sheet> {
    read_file(path, &opts(), &mut |_, _| true).unwrap().sheets
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path(), false);
    let inline_dir = tempfile::tempdir().unwrap();
    let inline_path = sample(inline_dir.path(), true);
    let sheets = read_all(&path);
    let rows: Vec<Vec<Value>> = sheets[0].rows.clone();
    let content = sheets[0].required_idx[3];

    let mut g = c.benchmark_group("stage1");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("read one 20k-row xlsx (shared strings)", |b| {
        b.iter(|| read_all(&path))
    });
    g.bench_function("read one 20k-row xlsx (inline strings)", |b| {
        b.iter(|| read_all(&inline_path))
    });
    let filter = RowFilter::new(
        DEFAULT_SYSTEM_MESSAGES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        MatchMode::Substring,
    );
    g.bench_function("filter 20k rows", |b| {
        b.iter(|| {
            rows.iter()
                .filter(|r| filter.check(r.get(content)).is_none())
                .count()
        })
    });
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    g.bench_function("write one 20k-row chunk (xlsx, level 1)", |b| {
        b.iter_batched(
            || {
                let mut t = Table::new(&out, 64 << 20);
                t.push_sheet(sheets[0].clone()).unwrap();
                t
            },
            |mut t| {
                sheetsift::stage1::write_table(
                    &mut t,
                    &out.join("c.xlsx"),
                    TableFormat::Xlsx,
                    1,
                    None,
                )
                .unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let messages: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get(content).map(Value::to_text))
        .collect();
    let mut g = c.benchmark_group("stage2");
    g.throughput(Throughput::Elements(messages.len() as u64));
    g.bench_function("emoji removal, 20k messages", |b| {
        b.iter(|| {
            messages
                .iter()
                .map(|m| remove_emoji(m).len())
                .sum::<usize>()
        })
    });
    let dialogues: Vec<Vec<(Value, Value)>> = rows
        .chunks(12)
        .map(|c| {
            c.iter()
                .map(|r| {
                    (
                        r[2].clone(),
                        r.get(content).cloned().unwrap_or(Value::Empty),
                    )
                })
                .collect()
        })
        .collect();
    g.bench_function("turn building, 20k messages", |b| {
        b.iter(|| {
            dialogues
                .iter()
                .map(|d| build_turns(d, "是").0.len())
                .sum::<usize>()
        })
    });
    g.throughput(Throughput::Elements(70_000));
    g.bench_function("permutation of 70,000", |b| {
        b.iter(|| permutation(70_000, 1))
    });
    g.finish();
}

criterion_group! {
    name = stages;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(stages);
