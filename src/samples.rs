//! Synthetic chat spreadsheets (`sheetsift samples`) of the documented
//! schema, for trying the tool and for benchmarks.
//!
//! Each file holds interleaved dialogues between agents (`A0001`...) and
//! WeChat customers (`wxid_...`), in time order, with the columns
//! 坐席id, 客户微信id, 是否客服, 消息内容, 发送时间, 消息id. Like real exports
//! it contains system messages (and their full-width-comma look-alikes),
//! emoji, line breaks, pandas NA strings, empty and whitespace-only
//! content, and exact duplicate rows. Output is a pure function of the
//! arguments.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};

use crate::config::SamplesConfig;
use crate::error::{Error, Result};
use crate::fs::AtomicFile;
use crate::progress::Progress;

const CUSTOMER: &[&str] = &[
    "你好",
    "在吗",
    "请问这个还有货吗",
    "多少钱",
    "能便宜点吗",
    "什么时候发货",
    "快递到哪了",
    "我想退货",
    "这个是正品吗",
    "尺码偏大还是偏小",
    "可以开发票吗",
    "已经付款了",
    "地址写错了能改吗",
    "怎么还没到",
    "收到了，质量不错",
    "好的谢谢",
    "知道了",
    "麻烦快点",
    "我要投诉",
    "优惠券怎么用",
    "能不能包邮",
    "订单号是20230412",
    "我是老客户了",
    "退款什么时候到账",
    "好的吧",
    "嗯嗯",
    "？？",
    "谢谢！",
];
const AGENT: &[&str] = &[
    "您好，很高兴为您服务",
    "亲，有货的哦",
    "这款现在活动价199元",
    "今天下单明天发货",
    "亲亲，这边帮您查一下",
    "稍等，我问一下仓库",
    "正品保证，假一赔十",
    "尺码标准，按平时穿的选就可以",
    "可以的，下单备注一下",
    "已经为您修改好了",
    "退款一般1-3个工作日到账",
    "满99包邮哦",
    "感谢您的支持",
    "还有什么可以帮您的吗",
    "抱歉让您久等了",
    "好的，已为您登记",
    "这个是我们的专属优惠。",
    "收到～",
];
const EMOJI: &[&str] = &["😀", "👍", "🙏", "❤️", "🌹", "👨‍👩‍👧", "🇨🇳", "1️⃣", "👋🏻", "☺"];
const SYSTEM: &[&str] = &[
    "我通过了好友请求,现在你俩可以开始聊天了",
    "我通过了你的朋友验证请求,现在我们可以开始聊天了",
    "已通过你的朋友验证请求,现在可以开始聊天了",
    "[不支持此消息,请在手机上查看]",
    "[微信红包]",
    "不支持此消息，请在手机上查看",
];
const NA: &[&str] = &["NA", "null", "None", "nan", "#N/A", "", " ", "\t"];
const HEADER: [&str; 6] = [
    "坐席id",
    "客户微信id",
    "是否客服",
    "消息内容",
    "发送时间",
    "消息id",
];

/// splitmix64: tiny, fast, and good enough for synthetic data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// One generated row.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    agent: String,
    customer: String,
    is_agent: bool,
    content: String,
    /// Excel serial date-time.
    time: f64,
    id: u64,
}

fn customer_id(rng: &mut Rng) -> String {
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let s: String = (0..14)
        .map(|_| ALPHA[rng.below(ALPHA.len() as u64) as usize] as char)
        .collect();
    format!("wxid_{s}")
}

fn message(rng: &mut Rng, is_agent: bool) -> String {
    if rng.chance(25) {
        return rng.pick(SYSTEM).to_string();
    }
    if rng.chance(15) {
        return rng.pick(NA).to_string();
    }
    let mut s = rng
        .pick(if is_agent { AGENT } else { CUSTOMER })
        .to_string();
    // Most real messages are unique (an order number, an amount, a size):
    // the shared-strings table of a real export is about as large as the
    // text itself, not a few hundred phrases.
    if rng.chance(700) {
        let detail = match rng.below(5) {
            0 => format!("订单号{:010}", rng.below(10_000_000_000)),
            1 => format!("¥{}.{:02}", 1 + rng.below(2000), rng.below(100)),
            2 => format!(
                "{}{}{}码",
                rng.pick(&["黑色", "白色", "灰色", "藏青", "米色"]),
                rng.pick(&["外套", "卫衣", "长裤", "衬衫", "运动鞋"]),
                36 + rng.below(10)
            ),
            3 => format!(
                "{}月{}日{}点前",
                1 + rng.below(12),
                1 + rng.below(28),
                9 + rng.below(12)
            ),
            _ => format!("第{}件", 1 + rng.below(99)),
        };
        s.push_str(&detail);
    }
    if rng.chance(60) {
        s.push_str(rng.pick(EMOJI));
    }
    if rng.chance(20) {
        let at = s.char_indices().nth(1).map_or(s.len(), |(i, _)| i);
        s.insert(at, '\n');
    }
    s
}

/// The dialogues' rows of one file, before sorting and duplicates.
fn file_rows_without_dups(rng: &mut Rng, rows: usize, file_no: usize) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::with_capacity(rows + rows / 50);
    let day0 = 44_986.0 + (file_no as f64) * 7.0; // 2023-03-01 + a week per file
    let mut id = 10_000_000 + file_no as u64 * 1_000_000;
    while out.len() < rows {
        let agent = format!("A{:04}", 1 + rng.below(40));
        let customer = customer_id(rng);
        let len = 2 + rng.below(18) as usize;
        let mut t = day0 + rng.below(7 * 86_400) as f64 / 86_400.0;
        let mut is_agent = rng.chance(300);
        for _ in 0..len.min(rows - out.len()) {
            if rng.chance(450) {
                is_agent = !is_agent;
            }
            t += (5 + rng.below(300)) as f64 / 86_400.0;
            id += 1;
            out.push(Row {
                agent: agent.clone(),
                customer: customer.clone(),
                is_agent,
                content: message(rng, is_agent),
                time: t,
                id,
            });
        }
    }
    out
}

/// The rows of one file, in time order.
fn file_rows(rng: &mut Rng, rows: usize, file_no: usize) -> Vec<Row> {
    let mut out = file_rows_without_dups(rng, rows, file_no);
    out.sort_by(|a, b| a.time.total_cmp(&b.time));
    // Exact duplicates, as exports repeat rows: each row is followed by a
    // copy of itself 0.5% of the time. Built into a new vector: inserting
    // in place moved the rest of the vector each time, quadratic (2M rows
    // took minutes).
    let mut with_dups: Vec<Row> = Vec::with_capacity(out.len() + out.len() / 100);
    for row in out {
        let dup = rng.chance(5).then(|| row.clone());
        with_dups.push(row);
        with_dups.extend(dup);
    }
    with_dups.truncate(rows);
    with_dups
}

fn write_xlsx(out: std::fs::File, path: &Path, rows: &[Row], inline_strings: bool) -> Result<()> {
    let err = |e: rust_xlsxwriter::XlsxError| Error::output(path, e.to_string());
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    if let Some(dir) = path.parent() {
        book.set_tempdir(dir).map_err(err)?;
    }
    book.set_zip_compression_level(1);
    let epoch = rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1).map_err(err)?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&epoch));
    // Excel, WPS and the export tools write text to a shared-strings table
    // (xl/sharedStrings.xml) and cells that point into it: benchmarks and
    // tests should read files shaped like that. rust_xlsxwriter's low-memory
    // mode writes shared strings and still streams the rows to disk; its
    // constant-memory mode writes each text inline (`--inline-strings`).
    let ws = if inline_strings {
        book.add_worksheet_with_constant_memory()
    } else {
        book.add_worksheet_with_low_memory()
    }
    .map_err(err)?;
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).map_err(err)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let n = i as u32 + 1;
        ws.write_string(n, 0, &r.agent).map_err(err)?;
        ws.write_string(n, 1, &r.customer).map_err(err)?;
        ws.write_string(n, 2, if r.is_agent { "是" } else { "否" })
            .map_err(err)?;
        if !r.content.is_empty() {
            ws.write_string(n, 3, &r.content).map_err(err)?;
        }
        ws.write_number_with_format(n, 4, r.time, &date)
            .map_err(err)?;
        ws.write_number(n, 5, r.id as f64).map_err(err)?;
    }
    let mut w = std::io::BufWriter::new(out);
    book.save_to_writer(&mut w).map_err(err)?;
    std::io::Write::flush(&mut w).map_err(|e| Error::io(path, e))
}

fn write_csv(out: std::fs::File, path: &Path, rows: &[Row]) -> Result<()> {
    let cerr = |e: csv::Error| Error::output(path, e.to_string());
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(out));
    w.write_record(HEADER).map_err(cerr)?;
    for r in rows {
        let time = crate::value::DateTimeParts::from_serial(r.time).to_python_str();
        w.write_record([
            r.agent.as_str(),
            r.customer.as_str(),
            if r.is_agent { "是" } else { "否" },
            r.content.as_str(),
            time.as_str(),
            r.id.to_string().as_str(),
        ])
        .map_err(cerr)?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

/// `sheetsift samples`.
pub fn write_samples(a: &SamplesConfig) -> Result<()> {
    crate::fs::ensure_dir(&a.out)?;
    let mut progress = Progress::new(a.files as u64, "files", a.quiet);
    progress.set_prefix("samples");
    // Each file is a pure function of (seed, file number): generate them in
    // parallel, in input order through the ordered pool.
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = crate::pool::thread_pool(jobs)?;
    let (seed, rows_per_file, csv, out) = (a.seed, a.rows, a.csv, a.out.clone());
    let inline_strings = a.inline_strings;
    let results = crate::pool::ordered_map(
        pool,
        (0..a.files).collect(),
        2 * jobs,
        move |f: usize| -> Result<usize> {
            crate::interrupt::check()?;
            let mut rng =
                Rng(seed.wrapping_mul(0x1000_0000_01b3) ^ (f as u64).wrapping_mul(0x9e37_79b9));
            let rows = file_rows(&mut rng, rows_per_file, f);
            let ext = if csv { "csv" } else { "xlsx" };
            let dest = out.join(format!("chat_{:04}.{ext}", f + 1));
            let file = AtomicFile::new(&dest)?;
            if csv {
                write_csv(file.try_clone()?, file.tmp_path(), &rows)?;
            } else {
                write_xlsx(file.try_clone()?, file.tmp_path(), &rows, inline_strings)?;
            }
            file.commit()?;
            Ok(rows.len())
        },
    );
    for r in results {
        let n = r.map_err(|crate::pool::PoolError::Panicked(m)| Error::Panicked {
            what: "sample generation",
            msg: m,
        })??;
        progress.inc(n as u64);
    }
    progress.finish();

    if !a.quiet {
        crate::progress::eprint_line(&format!(
            "wrote {} file(s) of {} rows to {}",
            a.files,
            a.rows,
            a.out.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The duplicates as they were first placed (an insert after the row,
    /// then skipping the copy): the new single pass must give the same rows.
    fn with_dups_by_insert(mut out: Vec<Row>, rng: &mut Rng, rows: usize) -> Vec<Row> {
        let mut i = 0;
        while i < out.len() {
            if rng.chance(5) {
                let dup = out[i].clone();
                out.insert(i + 1, dup);
                i += 1;
            }
            i += 1;
        }
        out.truncate(rows);
        out
    }

    #[test]
    fn duplicates_are_placed_as_before_in_one_pass() {
        for (seed, rows) in [(1u64, 1000usize), (7, 5000), (11, 333)] {
            // file_rows draws the duplicates last: replay it up to there.
            let got = file_rows(&mut Rng(seed), rows, 0);
            let mut rng = Rng(seed);
            let mut base = file_rows_without_dups(&mut rng, rows, 0);
            base.sort_by(|a, b| a.time.total_cmp(&b.time));
            let want = with_dups_by_insert(base, &mut rng, rows);
            assert_eq!(got, want, "seed {seed}, {rows} rows");
            assert!(
                got.windows(2).any(|w| w[0] == w[1]),
                "some duplicates drawn"
            );
        }
    }
}
