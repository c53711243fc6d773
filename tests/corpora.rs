//! Fine-tuning corpora through the binary (issue 17): `--scrub` with a
//! custom pattern from the config file, chat shaping, `--session-gap`,
//! `--dedup-dialogues`, the statistics and drop counts in the report, the
//! sharegpt and parquet formats; `dialogues --shard` + `merge` and `run`
//! give the bytes of one `dialogues` with every option on; without the
//! options nothing changes (no `corpus` in the report); bad values are
//! usage errors (exit 2) naming the option.

mod common;
use common::*;

use serde_json::{json, Value};

const HEADER: &str = "坐席id,客户微信id,是否客服,消息内容,发送时间\n";

/// One row: agent, customer, role (是/否), content, time.
fn row(a: &str, c: &str, agent: bool, text: &str, t: &str) -> String {
    let q = if text.contains(',') || text.contains('\r') {
        format!("\"{text}\"")
    } else {
        text.to_string()
    };
    format!("{a},{c},{},{q},{t}\n", if agent { "是" } else { "否" })
}

/// Eight (agent, customer) groups, each exercising one option.
fn chats(d: &Dir) {
    let t = |m: u32| format!("2023-05-01 10:{m:02}:00");
    let mut s = String::from(HEADER);
    // A1/c1: an agent greeting first, a phone number and an email.
    s += &row("A1", "c1", true, "您好，请问有什么可以帮您", &t(0));
    s += &row(
        "A1",
        "c1",
        false,
        "我的电话13800138000，邮箱 a.b@example.com",
        &t(1),
    );
    s += &row("A1", "c1", true, "好的，已记录。", &t(2));
    // A1/c2: the customer only. A1/c3: the agent only.
    s += &row("A1", "c2", false, "在吗？", &t(3));
    s += &row("A1", "c3", true, "您好", &t(4));
    // A2/c1: an order number (custom pattern) and a message ending in \r.
    s += &row("A2", "c1", false, "订单号：2023051234567890没到\r", &t(5));
    s += &row("A2", "c1", true, "查询中。", &t(6));
    // A2/c2 and A2/c3: the same canned exchange.
    for c in ["c2", "c3"] {
        s += &row("A2", c, false, "你好？", &t(7));
        s += &row("A2", c, true, "您好！", &t(8));
    }
    // A3/c1: six alternating turns.
    for i in 1..=3 {
        s += &row("A3", "c1", false, &format!("问{i}？"), &t(10 + 2 * i));
        s += &row("A3", "c1", true, &format!("答{i}。"), &t(11 + 2 * i));
    }
    // A4/c1: two sessions a day apart; a row without a time follows the
    // row before it.
    s += &row("A4", "c1", false, "第一次？", "2023-05-01 10:00:00");
    s += &row("A4", "c1", true, "好的。", "2023-05-01 10:01:00");
    s += &row("A4", "c1", false, "补充？", "unknown");
    s += &row("A4", "c1", false, "又来了？", "2023-05-02 09:00:00");
    s += &row("A4", "c1", true, "欢迎。", "2023-05-02 09:01:00");
    d.write("in/chats.csv", s);
    d.write(
        "conf.toml",
        "[[scrub.patterns]]\nname = \"order\"\npattern = '订单号[:：]?(\\d{10,20})'\n",
    );
}

const ALL: &[&str] = &[
    "--config",
    "conf.toml",
    "--scrub",
    "all",
    "--system-prompt",
    "你是客服",
    "--start-with",
    "user",
    "--require-assistant",
    "--min-turns",
    "2",
    "--max-turns",
    "4",
    "--strip-cr",
    "--dedup-dialogues",
    "--session-gap",
    "30m",
    "--format",
    "jsonl,sharegpt,parquet",
];

fn dialogues(d: &Dir, out: &str, extra: &[&str]) -> Value {
    let report = format!("{out}.json");
    let mut args = vec!["dialogues", "in", "-o", out, "--val-size", "1", "-q"];
    args.extend(["--report", &report]);
    args.extend(extra);
    d.cmd(&args).expect_code(0);
    report_json(&d.join(&report))
}

/// Every line of both sets of a JSON-lines corpus, sorted.
fn lines(d: &Dir, dir: &str) -> Vec<Value> {
    let mut v: Vec<Value> = ["train", "val"]
        .iter()
        .flat_map(|s| {
            std::fs::read_to_string(d.join(&format!("{dir}/{s}.jsonl")))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect();
    v.sort_by_key(|x| x.to_string());
    v
}

fn chat(turns: &[&str]) -> Value {
    let mut m = vec![json!({"role": "system", "content": "你是客服"})];
    for (i, t) in turns.iter().enumerate() {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        m.push(json!({"role": role, "content": t}));
    }
    json!({ "messages": m })
}

#[test]
fn every_option_shapes_the_corpus_and_counts_each_drop() {
    let d = Dir::new();
    chats(&d);
    let r = dialogues(&d, "out", ALL);
    let mut want = vec![
        chat(&["我的电话<PHONE>，邮箱 <EMAIL>", "好的，已记录"]),
        chat(&["订单号：<ORDER>没到", "查询中"]),
        chat(&["你好", "您好"]),
        chat(&["问1", "答1", "问2", "答2"]),
        chat(&["问3", "答3"]),
        chat(&["第一次", "好的", "补充"]),
        chat(&["又来了", "欢迎"]),
    ];
    want.sort_by_key(|x| x.to_string());
    assert_eq!(lines(&d, "out/jsonl"), want);
    let c = &r["dialogues"]["corpus"];
    assert_eq!(r["dialogues"]["dialogues"], 7, "{r:#}");
    assert_eq!(c["dialogues_in"], 9, "A4/c1 is two sessions: {c:#}");
    assert_eq!(c["windows_added"], 1);
    assert_eq!(
        c["dropped"],
        json!({"no_user_turn": 1, "no_assistant": 1, "too_few_turns": 0, "duplicate": 1})
    );
    assert_eq!(c["leading_agent_turns_dropped"], 2, "A1/c1's and A1/c3's");
    assert_eq!(c["carriage_returns_stripped"], 1);
    assert_eq!(c["placeholders"], 3);
    assert_eq!(
        c["scrubbed"],
        json!([
            ["phone", 1],
            ["idcard", 0],
            ["email", 1],
            ["url", 0],
            ["wechat", 0],
            ["bankcard", 0],
            ["order", 1]
        ])
    );
    assert_eq!(
        c["turns_per_dialogue"],
        json!({"min": 2, "median": 2, "p95": 4, "max": 4})
    );
    assert_eq!(c["share_starting_with_user"], 1.0);
    assert_eq!(c["share_with_assistant"], 1.0);
    // The txt corpora carry the same dialogues, scrubbed, without \r.
    let txt = std::fs::read_to_string(d.join("out/std/train.txt")).unwrap()
        + &std::fs::read_to_string(d.join("out/std/val.txt")).unwrap();
    assert!(
        txt.contains("客户:我的电话<PHONE>，邮箱 <EMAIL>\n"),
        "{txt}"
    );
    assert!(!txt.contains('\r') && !txt.contains("13800138000"));
    assert_eq!(txt.matches("\n\n").count(), 7);
    // sharegpt: human/gpt with the system column, described by its
    // dataset_info.json.
    let sg = lines(&d, "out/sharegpt");
    assert_eq!(sg.len(), 7);
    assert!(sg.iter().all(|l| l["system"] == "你是客服"
        && l["conversations"][0]["from"] == "human"
        && l["conversations"][1]["from"] == "gpt"));
    let info = report_json(&d.join("out/sharegpt/dataset_info.json"));
    assert_eq!(info["sheetsift_train"]["file_name"], "train.jsonl");
    assert_eq!(info["sheetsift_train"]["formatting"], "sharegpt");
    assert_eq!(info["sheetsift_val"]["columns"]["system"], "system");
    for s in ["train", "val"] {
        let p = std::fs::read(d.join(&format!("out/parquet/{s}.parquet"))).unwrap();
        assert!(p.starts_with(b"PAR1") && p.ends_with(b"PAR1"), "{s}");
    }
}

#[test]
fn each_option_alone() {
    let d = Dir::new();
    chats(&d);
    // No option: no statistics, A4/c1 one dialogue, the \r kept.
    let r = dialogues(&d, "plain", &[]);
    assert!(r["dialogues"].get("corpus").is_none(), "{r:#}");
    assert_eq!(r["dialogues"]["dialogues"], 8);
    let txt = std::fs::read_to_string(d.join("plain/std/train.txt")).unwrap()
        + &std::fs::read_to_string(d.join("plain/std/val.txt")).unwrap();
    assert!(txt.contains("13800138000") && txt.contains('\r'));
    // --min-turns 3: only the groups of 3 turns or more stay.
    let r = dialogues(&d, "min", &["--min-turns", "3"]);
    assert_eq!(r["dialogues"]["dialogues"], 3, "{r:#}");
    assert_eq!(r["dialogues"]["corpus"]["dropped"]["too_few_turns"], 5);
    // --end-with assistant: A1/c2 has no agent turn.
    let r = dialogues(&d, "end", &["--end-with", "assistant"]);
    assert_eq!(r["dialogues"]["dialogues"], 7, "{r:#}");
    assert_eq!(r["dialogues"]["corpus"]["dropped"]["no_assistant"], 1);
    assert_eq!(r["dialogues"]["corpus"]["trailing_user_turns_dropped"], 1);
    // --dedup-dialogues: A2/c3 repeats A2/c2.
    let r = dialogues(&d, "dedup", &["--dedup-dialogues"]);
    assert_eq!(r["dialogues"]["dialogues"], 7);
    assert_eq!(r["dialogues"]["corpus"]["dropped"]["duplicate"], 1);
    // --session-gap: more dialogues only where times are far apart.
    let r = dialogues(&d, "gap", &["--session-gap", "1h"]);
    assert_eq!(r["dialogues"]["dialogues"], 9);
    let r = dialogues(&d, "gap2", &["--session-gap", "2d"]);
    assert_eq!(r["dialogues"]["dialogues"], 8);
    // --scrub phone only leaves the email.
    dialogues(&d, "phone", &["--scrub", "phone", "--format", "jsonl"]);
    let all = lines(&d, "phone/jsonl");
    let s = serde_json::to_string(&all).unwrap();
    assert!(
        s.contains("<PHONE>") && s.contains("a.b@example.com"),
        "{s}"
    );
    // --stats alone: statistics, the bytes of the plain run.
    let r = dialogues(&d, "stats", &["--stats"]);
    assert_eq!(r["dialogues"]["corpus"]["dialogues"], 8);
    assert_eq!(r["dialogues"]["corpus"]["share_starting_with_user"], 0.75);
    for f in [
        "std/train.txt",
        "std/val.txt",
        "mmi/train.txt",
        "mmi/val.txt",
    ] {
        assert_same_bytes(
            &d.join(&format!("stats/{f}")),
            &d.join(&format!("plain/{f}")),
        );
    }
}

#[test]
fn bad_values_are_usage_errors_naming_the_option() {
    let d = Dir::new();
    chats(&d);
    d.write(
        "bad.toml",
        "[[scrub.patterns]]\nname = \"order\"\npattern = '订单号('\n",
    );
    for (args, says) in [
        (vec!["--scrub", "phone,ssn"], "ssn"),
        (vec!["--scrub", "custom"], "[[scrub.patterns]]"),
        (
            vec!["--config", "bad.toml", "--scrub", "all"],
            "scrub pattern order",
        ),
        (vec!["--session-gap", "30x"], "--session-gap"),
        (vec!["--session-gap", "0s"], "--session-gap"),
        (vec!["--max-turns", "0"], "--max-turns"),
        (vec!["--format", "alpaca"], "alpaca"),
        (vec!["--start-with", "agent"], "--start-with"),
    ] {
        let mut a = vec!["dialogues", "in", "-o", "o", "-q"];
        a.extend(&args);
        let r = d.cmd(&a).expect_code(2);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert!(!d.join("o").exists(), "{args:?}: nothing written");
    }
    // Shaping belongs to the merge; the session gap to the shards.
    let r = d
        .cmd(&[
            "dialogues",
            "in",
            "-o",
            "s",
            "--shard",
            "0/2",
            "--scrub",
            "all",
            "-q",
        ])
        .expect_code(2);
    assert!(r.stderr.contains("merge"), "{}", r.stderr);
    let r = d
        .cmd(&["merge", "s", "--session-gap", "30m", "-q"])
        .expect_code(2);
    assert!(r.stderr.contains("--session-gap"), "{}", r.stderr);
}

const OUTPUTS: [&str; 11] = [
    "std/train.txt",
    "std/val.txt",
    "mmi/train.txt",
    "mmi/val.txt",
    "jsonl/train.jsonl",
    "jsonl/val.jsonl",
    "sharegpt/train.jsonl",
    "sharegpt/val.jsonl",
    "sharegpt/dataset_info.json",
    "parquet/train.parquet",
    "parquet/val.parquet",
];

/// Options of the corpus write (given to `merge`), and of grouping.
const SHAPE: &[&str] = &[
    "--config",
    "conf.toml",
    "--scrub",
    "all",
    "--system-prompt",
    "你是客服",
    "--start-with",
    "user",
    "--require-assistant",
    "--min-turns",
    "2",
    "--max-turns",
    "6",
    "--strip-cr",
    "--dedup-dialogues",
    "--format",
    "jsonl,sharegpt,parquet",
    "--val-size",
    "0.2",
];

#[test]
fn shards_and_merge_and_run_equal_one_dialogues_with_every_option() {
    let d = Dir::new();
    d.write(
        "conf.toml",
        "[[scrub.patterns]]\nname = \"order\"\npattern = '订单号[:：]?(\\d{10,20})'\n",
    );
    d.cmd(&[
        "samples", "-o", "raw", "--files", "5", "--rows", "600", "--seed", "7", "-q",
    ])
    .expect_code(0);
    d.cmd(&["extract", "raw", "-o", "clean", "--chunk-size", "1", "-q"])
        .expect_code(0);
    let gap = ["--session-gap", "5m"];
    let mut one = vec![
        "dialogues",
        "clean",
        "-o",
        "one",
        "-q",
        "--report",
        "one.json",
    ];
    one.extend(SHAPE);
    one.extend(gap);
    d.cmd(&one).expect_code(0);
    let r = report_json(&d.join("one.json"));
    let c = &r["dialogues"]["corpus"];
    assert!(
        c["dialogues_in"].as_u64() > r["dialogues"]["dialogues"].as_u64(),
        "{c:#}"
    );
    assert!(
        c["scrubbed"][6][1].as_u64().unwrap() > 0,
        "samples carry order numbers: {c:#}"
    );
    for k in 0..3 {
        let spec = format!("{k}/3");
        let mut a = vec!["dialogues", "clean", "-o", "sh", "--shard", &spec, "-q"];
        a.extend(gap);
        d.cmd(&a).expect_code(0);
    }
    let mut m = vec!["merge", "sh", "-q"];
    m.extend(SHAPE);
    d.cmd(&m).expect_code(0);
    let mut run = vec!["run", "raw", "-o", "run", "--chunk-size", "1", "-q"];
    run.extend(SHAPE);
    run.extend(gap);
    d.cmd(&run).expect_code(0);
    for f in OUTPUTS {
        assert_same_bytes(&d.join(&format!("sh/{f}")), &d.join(&format!("one/{f}")));
        assert_same_bytes(&d.join(&format!("run/{f}")), &d.join(&format!("one/{f}")));
    }
}

#[test]
fn shards_of_different_session_gaps_are_refused() {
    let d = Dir::new();
    chats(&d);
    d.write(
        "in/more.csv",
        format!(
            "{HEADER}{}",
            row("B1", "c9", false, "你好？", "2023-05-01 10:00:00")
        ),
    );
    d.cmd(&[
        "dialogues",
        "in",
        "-o",
        "s",
        "--shard",
        "0/2",
        "--session-gap",
        "30m",
        "-q",
    ])
    .expect_code(0);
    d.cmd(&["dialogues", "in", "-o", "s", "--shard", "1/2", "-q"])
        .expect_code(0);
    let r = d.cmd(&["merge", "s", "--val-size", "1", "-q"]).run();
    assert_eq!(r.code, 2, "{}", r.report(d.path()));
    assert!(
        r.stderr.contains("part-") && r.stderr.contains("--session-gap 1800s"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_spilled_corpus_is_shaped_to_the_same_bytes() {
    let d = Dir::new();
    d.write(
        "conf.toml",
        "[[scrub.patterns]]\nname = \"order\"\npattern = '订单号[:：]?(\\d{10,20})'\n",
    );
    d.cmd(&[
        "samples", "-o", "raw", "--files", "2", "--rows", "3000", "-q",
    ])
    .expect_code(0);
    for (out, limit) in [("mem", "1G"), ("spill", "64K")] {
        let mut a = vec!["run", "raw", "-o", out, "--memory-limit", limit, "-q"];
        a.extend(SHAPE);
        a.extend(["--report", out]);
        let rep = format!("{out}.json");
        *a.last_mut().unwrap() = &rep;
        d.cmd(&a).expect_code(0);
    }
    let r = report_json(&d.join("spill.json"));
    assert_eq!(r["dialogues"]["spilled_to_disk"], true, "{r:#}");
    for f in OUTPUTS {
        assert_same_bytes(&d.join(&format!("spill/{f}")), &d.join(&format!("mem/{f}")));
    }
}

/// Every option from the config file's `[dialogues]` gives the bytes of
/// the same flags.
#[test]
fn the_config_file_sets_every_option() {
    let d = Dir::new();
    chats(&d);
    d.write(
        "all.toml",
        concat!(
            "[dialogues]\n",
            "scrub = \"all\"\n",
            "system_prompt = \"你是客服\"\n",
            "start_with = \"user\"\n",
            "require_assistant = true\n",
            "min_turns = 2\n",
            "max_turns = 4\n",
            "strip_cr = true\n",
            "dedup_dialogues = true\n",
            "session_gap = \"30m\"\n",
            "time_column = \"发送时间\"\n",
            "format = \"jsonl,sharegpt,parquet\"\n",
            "[[scrub.patterns]]\n",
            "name = \"order\"\n",
            "pattern = '订单号[:：]?(\\d{10,20})'\n",
        ),
    );
    dialogues(&d, "flags", ALL);
    let r = dialogues(&d, "file", &["--config", "all.toml"]);
    assert_eq!(r["dialogues"]["dialogues"], 7, "{r:#}");
    for f in OUTPUTS {
        assert_same_bytes(
            &d.join(&format!("file/{f}")),
            &d.join(&format!("flags/{f}")),
        );
    }
    // --time-col names another column; absent, a note says nothing split.
    let r = dialogues(&d, "nocol", &["--session-gap", "30m", "--time-col", "时间"]);
    assert_eq!(r["dialogues"]["dialogues"], 8);
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("no time column") && notes.contains("时间"),
        "{notes}"
    );
}

/// Hostile shapes for the corpus options, under the hostile-input limits:
/// one (agent, customer) group of 100,000 messages cut into sessions and
/// 2-turn windows, and send-time cells of 200 KB that parse as nothing.
#[test]
fn a_giant_group_and_huge_time_cells_stay_bounded() {
    let d = Dir::new();
    let mut s = String::from(HEADER);
    for i in 0..100_000u32 {
        // Two hours between every 1000th message and the next.
        let secs = i + (i / 1000) * 7200;
        let (h, m, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
        let (day, h) = (1 + h / 24, h % 24);
        s += &row(
            "A1",
            "c1",
            i % 2 == 1,
            &format!("消息{i}电话1380013{:04}？", i % 10_000),
            &format!("2023-05-{day:02} {h:02}:{m:02}:{sec:02}"),
        );
    }
    d.write("giant/g.csv", s);
    let l = d
        .cmd(&[
            "dialogues",
            "giant",
            "-o",
            "o",
            "--val-size",
            "0.1",
            "--start-with",
            "user",
            "--end-with",
            "assistant",
            "--max-turns",
            "2",
            "--scrub",
            "phone",
            "--session-gap",
            "30m",
            "--dedup-dialogues",
            "--format",
            "parquet",
            "--report",
            "g.json",
            "-q",
        ])
        .run_limited(4_000_000_000, std::time::Duration::from_secs(30));
    assert_eq!(l.run.code, 0, "{}", l.run.report(d.path()));
    assert!(l.peak_rss_mib < 1024, "{} MiB", l.peak_rss_mib);
    assert!(l.elapsed.as_secs() < 10, "{:?}", l.elapsed);
    let c = report_json(&d.join("g.json"))["dialogues"]["corpus"].clone();
    assert_eq!(c["dialogues_in"], 100, "{c:#}");
    assert_eq!(c["dialogues"], 50_000);
    assert_eq!(c["placeholders"], 100_000);

    let mut s = String::from(HEADER);
    let huge = format!("2023-05-01 {}", "9".repeat(200_000));
    for i in 0..20 {
        s += &row("A1", &format!("c{}", i % 3), false, "你好？", &huge);
    }
    d.write("bigtime/b.csv", s);
    let l = d
        .cmd(&[
            "dialogues",
            "bigtime",
            "-o",
            "b",
            "--val-size",
            "1",
            "--session-gap",
            "1s",
            "-q",
        ])
        .run_limited(4_000_000_000, std::time::Duration::from_secs(30));
    assert_eq!(l.run.code, 0, "{}", l.run.report(d.path()));
    assert!(
        l.peak_rss_mib < 1024 && l.elapsed.as_secs() < 5,
        "{} MiB {:?}",
        l.peak_rss_mib,
        l.elapsed
    );
}
