//! `--report-html FILE`: one self-contained page of the run. Checked as
//! text (nothing fetched from anywhere, every file name escaped, a chart
//! bar per bucket of the JSON report's distributions) and as a person
//! would see it: opened in headless Chromium (tests/engine/chromium.sh,
//! which installs the Debian package when missing), screenshotted, and the
//! screenshot decoded to check the page and its charts were painted, with
//! no console error.

mod common;
use common::*;

use serde_json::Value;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

/// The chart bars' fill (`.bar` in src/report/html.rs): a colour nothing
/// else on the page uses, so its pixels in the screenshot are the charts.
const BAR_RGB: [u8; 3] = [0x2a, 0x9d, 0x8f];

/// Three sample files, a copy under a name full of markup, one under a
/// name that is not UTF-8, and a CSV without the columns (a failed file).
fn inputs(d: &Dir) {
    d.cmd(&["samples", "-o", "in", "--files", "3", "--rows", "200", "-q"])
        .expect_code(0);
    let first = d.join("in/chat_0001.xlsx");
    std::fs::copy(&first, d.join("in/a<b>&\"c'.xlsx")).unwrap();
    let raw = d.join("in").join(OsStr::from_bytes(b"z\xff.xlsx"));
    std::fs::copy(&first, raw).unwrap();
    d.write("in/bad.csv", "x,y\n1,2\n");
}

fn run_page(d: &Dir) -> (String, Value) {
    let r = d
        .cmd(&[
            "run",
            "in",
            "-o",
            "out",
            "-q",
            "--val-size",
            "0.1",
            "--report",
            "r.json",
            "--report-html",
            "r.html",
        ])
        .expect_code(3);
    assert!(r.stderr.contains("in/bad.csv"), "{}", r.stderr);
    let html = std::fs::read_to_string(d.join("r.html")).expect("the page is UTF-8");
    let json: Value = serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
    (html, json)
}

#[test]
fn page_is_self_contained_escaped_and_charts_every_bucket() {
    let d = Dir::new();
    inputs(&d);
    let (html, json) = run_page(&d);
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..100]);
    for banned in [
        "http://", "https://", "<script", "<link", "<img", "<iframe", "src=", "url(", "@import",
    ] {
        assert!(!html.contains(banned), "the page references {banned:?}");
    }
    // No temporary left beside it: written atomically.
    let beside: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");

    // File names and reasons escaped; the non-UTF-8 name shown lossily.
    assert!(
        html.contains("in/a&lt;b&gt;&amp;&quot;c&#39;.xlsx"),
        "markup name not escaped"
    );
    assert!(!html.contains("a<b>"), "raw markup from a file name");
    assert!(html.contains("in/z\u{fffd}.xlsx"), "non-UTF-8 name missing");
    assert!(
        html.contains("missing column"),
        "failed file's reason missing"
    );

    // The run's numbers.
    assert!(html.contains(">partial</span>"), "outcome badge");
    for key in ["rows_read", "rows_kept"] {
        let n = json[key].as_u64().unwrap();
        assert!(
            html.contains(&format!("<td class=\"n\">{n}</td>")),
            "{key} {n}"
        );
    }
    for o in json["outputs"].as_array().unwrap() {
        let (p, b) = (o["path"].as_str().unwrap(), o["bytes"].as_u64().unwrap());
        assert!(
            html.contains(&format!("{p}</td><td class=\"n\">{b}</td>")),
            "output {p} {b}"
        );
    }
    // A per-file row with its drops by reason: 6 inputs, one failed.
    let files = &html[html.find("<h2>Files</h2>").unwrap()..];
    let files = &files[..files.find("</table>").unwrap()];
    assert_eq!(files.matches("<tr><td class=\"n\">").count(), 5, "{files}");
    assert_eq!(
        files
            .matches("<tr class=\"failed\"><td class=\"n\">")
            .count(),
        1,
        "{files}"
    );

    // The distributions: in the JSON, and a bar per bucket in the page,
    // each with its exact count.
    let dist = &json["dialogues"]["distributions"];
    let mut bars = 0;
    for (key, x_label, unit) in [
        ("turns_per_dialogue", "turns per dialogue", "dialogues"),
        ("chars_per_turn", "characters per turn", "turns"),
    ] {
        let buckets = dist[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key}: {json}"));
        assert!(buckets.len() >= 2, "{key}: {buckets:?}");
        let total: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
        if key == "turns_per_dialogue" {
            assert_eq!(total, json["dialogues"]["dialogues"].as_u64().unwrap());
        }
        for b in buckets {
            let (min, max, count) = (
                b["min"].as_u64().unwrap(),
                b["max"].as_u64().unwrap(),
                b["count"].as_u64().unwrap(),
            );
            let range = if min == max {
                min.to_string()
            } else {
                format!("{min}–{max}")
            };
            let title = format!("<title>{range} {x_label}: {count} {unit}</title>");
            assert!(html.contains(&title), "no bar {title}");
        }
        bars += buckets.len();
    }
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 2);
    assert_eq!(html.matches("<rect class=\"bar\"").count(), bars);

    render(&d, Path::new("r.html"), true);
}

#[test]
fn failed_run_page_says_why_and_report_html_is_checked_first() {
    let d = Dir::new();
    d.write("in/bad.csv", "x,y\n1,2\n");
    // A run that stops: the page still says what ran and why it stopped.
    let r = d
        .cmd(&[
            "dialogues",
            "in<&>",
            "-o",
            "out",
            "-q",
            "--report-html",
            "f.html",
        ])
        .run();
    assert!(r.code == 1 || r.code == 2, "{}", r.description);
    let html = std::fs::read_to_string(d.join("f.html")).expect("a page for a failed run");
    assert!(html.contains("class=\"err\""), "{html}");
    assert!(html.contains("in&lt;&amp;&gt;"), "{html}");
    assert!(!html.contains("<svg class=\"chart\""));
    // Refused before any work: a page that could not be written, and a
    // dry run (which writes nothing).
    let r = d
        .cmd(&[
            "run",
            "in",
            "-o",
            "out",
            "-q",
            "--report-html",
            "no/such/dir/r.html",
        ])
        .expect_code(2);
    assert!(
        r.stderr.contains("--report-html no/such/dir/r.html"),
        "{}",
        r.stderr
    );
    assert!(!d.join("out").exists());
    let r = d
        .cmd(&[
            "run",
            "in",
            "-o",
            "out",
            "--dry-run",
            "--report-html",
            "p.html",
        ])
        .expect_code(2);
    assert!(r.stderr.contains("--report-html"), "{}", r.stderr);
    assert!(!d.join("p.html").exists());
}

/// Open `page` (relative to `d`) in headless Chromium; check the
/// screenshot is a painted page (many colours), with the charts' bars on
/// the first screen when `charts`, the DOM has the charts, and no console
/// message or failed load was logged.
fn render(d: &Dir, page: &Path, charts: bool) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engine/chromium.sh");
    let out = d.join("chromium");
    std::fs::create_dir_all(&out).unwrap();
    let o = Command::new("bash")
        .arg(&script)
        .arg(d.path().join(page))
        .arg(&out)
        .output()
        .expect("run chromium.sh");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium.sh failed:\n{stderr}");
    let shot = out.join("shot.png");
    if !shot.exists() {
        // chromium.sh printed the loud SKIPPED banner (and fails instead
        // under SHEETSIFT_REQUIRE_ENGINES=1).
        eprintln!("{stderr}\nreport_html: SKIPPED the rendering check");
        return;
    }
    let img = decode_png(&std::fs::read(&shot).unwrap());
    assert_eq!((img.width, img.height), (1200, 1600));
    let mut colours = std::collections::HashSet::new();
    let mut bar_px = 0usize;
    let mut white = 0usize;
    for px in img.rgb.chunks_exact(3) {
        colours.insert([px[0], px[1], px[2]]);
        if px == BAR_RGB {
            bar_px += 1;
        }
        if px == [255, 255, 255] {
            white += 1;
        }
    }
    let total = img.rgb.len() / 3;
    eprintln!(
        "screenshot: {} distinct colours, {bar_px} chart-bar pixels, {:.1}% white",
        colours.len(),
        100.0 * white as f64 / total as f64
    );
    assert!(
        colours.len() > 16,
        "blank screenshot: {} colours",
        colours.len()
    );
    assert!(white < total * 99 / 100, "screenshot nearly all white");
    if charts {
        assert!(
            bar_px > 2_000,
            "chart bars not painted: {bar_px} pixels of the bar colour"
        );
    }
    let dom = std::fs::read_to_string(out.join("dom.html")).unwrap();
    assert!(
        dom.contains("<h1>sheetsift"),
        "DOM not the page:\n{}",
        &dom[..dom.len().min(500)]
    );
    if charts {
        assert_eq!(
            dom.matches("<svg class=\"chart\"").count(),
            2,
            "charts missing from the DOM"
        );
    }
    let log = std::fs::read_to_string(out.join("console.log")).unwrap();
    for bad in ["CONSOLE", "Uncaught", "Failed to load", "net::ERR_"] {
        let hit: Vec<&str> = log.lines().filter(|l| l.contains(bad)).collect();
        assert!(hit.is_empty(), "console: {hit:?}");
    }
}

struct Image {
    width: usize,
    height: usize,
    /// 8-bit RGB, row by row.
    rgb: Vec<u8>,
}

/// Enough of PNG for Chromium's screenshots: 8-bit RGB or RGBA, not
/// interlaced (anything else fails loudly).
fn decode_png(b: &[u8]) -> Image {
    use std::io::Read;
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut pos, mut idat) = (8, Vec::new());
    let (mut width, mut height, mut channels) = (0usize, 0usize, 0usize);
    while pos + 8 <= b.len() {
        let len = u32::from_be_bytes(b[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &b[pos + 4..pos + 8];
        let data = &b[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("PNG colour type {t}"),
                };
                assert_eq!(data[12], 0, "interlaced PNG");
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = width * channels;
    assert_eq!(raw.len(), height * (stride + 1), "PNG data size");
    let mut prev = vec![0u8; stride];
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let (filter, src) = (line[0], &line[1..]);
        let mut cur = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= channels {
                cur[i - channels] as i16
            } else {
                0
            };
            let up = prev[i] as i16;
            let c = if i >= channels {
                prev[i - channels] as i16
            } else {
                0
            };
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => up,
                3 => (a + up) / 2,
                4 => {
                    let p = a + up - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - up).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        up
                    } else {
                        c
                    }
                }
                f => panic!("PNG filter {f}"),
            };
            cur[i] = src[i].wrapping_add(pred as u8);
        }
        for px in cur.chunks_exact(channels) {
            rgb.extend_from_slice(&px[..3]);
        }
        prev = cur;
    }
    Image { width, height, rgb }
}
