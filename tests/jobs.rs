//! `-j N` is the number of threads that compute: a run starts no pool
//! beyond its own N workers. Every thread sheetsift starts is named
//! `sheetsift-...`, so a thread that carries the bare program name is one
//! it did not name: rayon's global pool, sized to every core of the
//! machine whatever `-j` says. (`run` rendered its dialogues there, and
//! the corpus options shaped the corpus there: `run -j 1` had three
//! threads computing on a two-core machine.)

mod common;
use common::*;

use std::collections::BTreeMap;
use std::time::Duration;

/// Run `sheetsift ARGS` and watch its threads until it exits: every
/// thread seen (id -> name), and the most `sheetsift-worker-*` threads
/// alive at one time.
fn threads_of(d: &Dir, args: &[&str]) -> (BTreeMap<u32, String>, usize) {
    let mut child = d.cmd(args).spawn();
    let pid = child.id();
    let mut seen = BTreeMap::new();
    let mut most_workers = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let mut workers = 0;
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for t in tasks.flatten() {
                let Ok(tid) = t.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                let Ok(name) = std::fs::read_to_string(t.path().join("comm")) else {
                    continue; // ended meanwhile
                };
                let name = name.trim_end().to_string();
                workers += name.starts_with("sheetsift-worke") as usize;
                seen.insert(tid, name);
            }
        }
        most_workers = most_workers.max(workers);
        std::thread::sleep(Duration::from_millis(1));
    };
    let out = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "sheetsift {args:?}: {status}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.remove(&pid);
    (seen, most_workers)
}

/// Threads other than the main one that sheetsift did not name.
fn unnamed(seen: &BTreeMap<u32, String>) -> Vec<String> {
    seen.iter()
        .filter(|(_, name)| !name.starts_with("sheetsift-"))
        .map(|(tid, name)| format!("{tid} {name}"))
        .collect()
}

/// Three files of 60,000 rows: a run of a few hundred milliseconds, and
/// rayon's global threads, once started, live until the process exits.
fn samples(d: &Dir) {
    d.cmd(&[
        "samples", "-o", "in", "--files", "3", "--rows", "60000", "--seed", "5", "-q",
    ])
    .run();
}

#[test]
fn run_computes_on_its_own_workers_only() {
    let d = Dir::new();
    samples(&d);
    for jobs in ["1", "2"] {
        let out = format!("out{jobs}");
        let (seen, workers) = threads_of(&d, &["run", "in", "-o", &out, "-j", jobs, "-q"]);
        assert_eq!(
            unnamed(&seen),
            Vec::<String>::new(),
            "run -j {jobs}: {seen:?}"
        );
        assert!(
            workers <= jobs.parse().unwrap(),
            "run -j {jobs}: {workers} workers alive at once: {seen:?}"
        );
    }
}

#[test]
fn corpus_options_shape_on_the_runs_workers() {
    let d = Dir::new();
    samples(&d);
    d.cmd(&["extract", "in", "-o", "clean", "-q"]).run();
    let (seen, workers) = threads_of(
        &d,
        &[
            "dialogues",
            "clean",
            "-o",
            "corpus",
            "-j",
            "1",
            "-q",
            "--system-prompt",
            "You are a support agent.",
        ],
    );
    assert_eq!(unnamed(&seen), Vec::<String>::new(), "{seen:?}");
    assert!(workers <= 1, "{workers} workers alive at once: {seen:?}");
}
