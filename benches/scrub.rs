//! Throughput of the PII scrubber (`--scrub all` plus one custom pattern)
//! on chat-like messages: typical customer-service lines of which about 1
//! in 100 holds personal data, lines without any digit or trigger letter,
//! and the positive lines of the labelled set (every line has data); and
//! the typical lines once more without the custom pattern.
//!
//!     cargo bench --bench scrub

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sheetsift::dialogue::scrub::{CustomPattern, Kinds, ScrubConfig, Scrubber};

/// Customer-service lines as they come: mostly Chinese, with prices,
/// dates, counts and a little ASCII, but no personal data.
const TYPICAL: &[&str] = &[
    "你好",
    "在吗",
    "请问这个还有货吗",
    "多少钱",
    "能便宜点吗",
    "什么时候发货",
    "快递到哪了",
    "我想退货",
    "尺码偏大还是偏小",
    "可以开发票吗",
    "已经付款了",
    "地址写错了能改吗",
    "收到了，质量不错👍",
    "好的谢谢",
    "优惠券怎么用",
    "订单号是20230412",
    "退款什么时候到账",
    "您好，很高兴为您服务",
    "亲，有货的哦",
    "这款现在活动价199元",
    "今天下单明天发货",
    "亲亲，这边帮您查一下",
    "退款一般1-3个工作日到账",
    "满99包邮哦",
    "感谢您的支持",
    "还有什么可以帮您的吗",
    "抱歉让您久等了",
    "这个是我们的专属优惠。",
    "我买的是XL码，能换成L吗",
    "5月1日之前能到吗？",
    "ok",
    "[微信红包]",
    "我通过了你的朋友验证请求,现在我们可以开始聊天了",
    "亲，我们这边是顺丰包邮的，一般两到三天就能到，偏远地区可能会慢一点哦",
];

/// Lines with personal data, one of which goes in every 100 typical ones.
const WITH_PII: &[&str] = &[
    "我的手机号是13800138000，麻烦尽快联系我",
    "加我微信 lily2023 备注买家",
    "邮箱zhangsan@qq.com，发票发这里",
    "身份证号11010519491231002X",
];

fn scrubber() -> Scrubber {
    Scrubber::new(&ScrubConfig {
        kinds: Kinds::ALL,
        custom: vec![CustomPattern {
            name: "order".into(),
            pattern: r"订单(?:号|编号)[:：]?\s*(\d{10,20})".into(),
        }],
    })
    .unwrap()
}

fn lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i % 100 == 99 {
                WITH_PII[i / 100 % WITH_PII.len()].to_string()
            } else {
                // A fixed, varied order (the product with a prime stride).
                TYPICAL[(i * 7919) % TYPICAL.len()].to_string()
            }
        })
        .collect()
}

fn run(sc: &Scrubber, lines: &[String]) -> u64 {
    let mut n = 0;
    for l in lines {
        let (out, counts) = sc.scrub(l);
        n += out.len() as u64 + counts.total();
    }
    n
}

fn benches(c: &mut Criterion) {
    let sc = scrubber();
    let typical = lines(20_000);
    let plain: Vec<String> = typical
        .iter()
        .filter(|l| !l.bytes().any(|b| b.is_ascii_alphanumeric() || b == b'@'))
        .cloned()
        .collect();
    let labelled = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pii_labelled.tsv"),
    )
    .unwrap();
    let positives: Vec<String> = labelled
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .filter(|(t, w)| t != w)
        .map(|(t, _)| t.to_string())
        .collect();

    let mut g = c.benchmark_group("scrub");
    for (name, set) in [
        ("typical chat, 1% with PII", &typical),
        ("no trigger byte at all", &plain),
        ("labelled positives (all PII)", &positives),
    ] {
        let bytes: usize = set.iter().map(String::len).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(name, |b| b.iter(|| run(&sc, set)));
    }
    // The custom pattern's prefilter runs on every message: its share.
    let builtin = Scrubber::new(&ScrubConfig {
        kinds: "phone,idcard,email,url,wechat,bankcard".parse().unwrap(),
        custom: vec![],
    })
    .unwrap();
    let bytes: usize = typical.iter().map(String::len).sum();
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("typical chat, built-in kinds only", |b| {
        b.iter(|| run(&builtin, &typical))
    });
    g.finish();
}

criterion_group! {
    name = scrub;
    config = Criterion::default().sample_size(20);
    targets = benches
}
criterion_main!(scrub);
