//! The weekly HTML report of demo data opened in a real browser (headless Chromium): the DOM
//! Chromium builds holds every chart with the expected number of marks, and a screenshot of the
//! page is the expected size and not blank; printed to PDF it gives A4 pages.
//!
//! Chromium is found as `$PLAINT_CHROMIUM`, `chromium`, `chromium-browser` or `google-chrome`.
//! Without it the test says so in one line and passes, except under `CI=true` where it fails
//! (`.ci/run` installs the Debian package `chromium`). With `PLAINT_WRITE_SCREENSHOT=1` the
//! screenshot is also written to `docs/img/weekly-report.png` (the README's picture).

mod common;
use common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

const NOW: &str = "2026-09-20T12:00:00Z";
const WEEK: &str = "2026-W38";
const WIDTH: u32 = 1024;
const HEIGHT: u32 = 2400;

fn chromium() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("PLAINT_CHROMIUM") {
        candidates.push(p.into());
    }
    candidates.extend(["chromium", "chromium-browser", "google-chrome"].map(PathBuf::from));
    candidates.into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Chromium headless with a fresh profile and nothing that reaches the network on its own.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// The marks (`class="mark"`) inside the figure `data-chart="NAME"` of a serialised DOM.
fn marks(dom: &str, chart: &str) -> usize {
    let start = dom
        .find(&format!("data-chart=\"{chart}\""))
        .unwrap_or_else(|| panic!("chart {chart} missing from the DOM"));
    let end = start + dom[start..].find("</figure>").expect("figure closed");
    dom[start..end].matches("class=\"mark\"").count()
}

/// A decoded 8-bit RGB or RGBA PNG: width, height, pixels as RGB.
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let (mut pos, mut idat, mut header) = (8, Vec::new(), None);
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = &bytes[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                header = Some((
                    u32::from_be_bytes(data[0..4].try_into().unwrap()),
                    u32::from_be_bytes(data[4..8].try_into().unwrap()),
                    data[8],
                    data[9],
                    data[12],
                ))
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        pos += 12 + len;
    }
    let (w, h, depth, colour, interlace) = header.expect("IHDR");
    assert_eq!((depth, interlace), (8, 0), "8-bit, not interlaced");
    let bpp = match colour {
        2 => 3,
        6 => 4,
        other => panic!("PNG colour type {other}"),
    };
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(idat.as_slice())
        .read_to_end(&mut raw)
        .expect("IDAT inflates");
    let stride = w as usize * bpp;
    assert_eq!(raw.len(), h as usize * (stride + 1), "image data size");
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity((w * h) as usize);
    for row in raw.chunks(stride + 1) {
        let (filter, line) = (row[0], &row[1..]);
        let mut cur = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= bpp { cur[i - bpp] as i16 } else { 0 };
            let b = prev[i] as i16;
            let c = if i >= bpp { prev[i - bpp] as i16 } else { 0 };
            let predictor = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("PNG filter {other}"),
            };
            cur[i] = line[i].wrapping_add(predictor as u8);
        }
        pixels.extend(cur.chunks(bpp).map(|p| [p[0], p[1], p[2]]));
        prev = cur;
    }
    (w, h, pixels)
}

#[test]
fn weekly_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "Chromium not found under CI=true (.ci/run installs the Debian package `chromium`)"
        );
        println!("skipped: Chromium not found (install the Debian package `chromium` or set PLAINT_CHROMIUM)");
        return;
    };
    let env = Env::new();
    env.plaint(&["demo", "--complaints", "80", "--seed", "2"])
        .assert()
        .success();
    let json = env
        .plaint(&["report", "weekly", "--week", WEEK, "--now", NOW, "--format", "json"])
        .output()
        .unwrap();
    assert!(json.status.success(), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let s = &doc["sections"];
    let page = env.path("weekly.html");
    env.plaint(&[
        "report", "weekly", "--week", WEEK, "--now", NOW, "--format", "html", "--out",
    ])
    .arg(&page)
    .assert()
    .success();
    let url = format!("file://{}", page.display());

    // The DOM Chromium built from the page.
    let dom = headless(&browser, &env.path("profile-dom"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "chromium --dump-dom: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8(dom.stdout).unwrap();
    assert!(
        dom.contains("<title>Weekly complaint report 2026-W38</title>"),
        "{}",
        &dom[..dom.len().min(400)]
    );
    let len = |k: &str| s[k].as_object().unwrap().len();
    let grid = &s["heat_map"];
    let expected = [
        ("daily-intake", 7),
        ("category-mix", len("by_category")),
        ("channel-mix", len("by_channel")),
        ("on-time", len("on_time")),
        (
            "heat-map",
            grid["regions"].as_array().unwrap().len() * grid["categories"].as_array().unwrap().len(),
        ),
        ("repeat-customers", s["top_repeat_customers"].as_array().unwrap().len()),
    ];
    for (chart, n) in expected {
        assert_eq!(marks(&dom, chart), n, "marks of chart {chart}");
        assert!(
            dom.contains(&format!("data-chart=\"{chart}\" data-marks=\"{n}\"")),
            "{chart}"
        );
    }
    assert_eq!(expected[1].1, 7, "demo seed 2: 7 categories in week 38");
    assert_eq!(
        expected[4].1,
        8 * 10,
        "demo seed 2: 8 regions × 10 categories in September"
    );
    assert!(dom.contains("id=\"alerts\""), "alerts section");

    // A screenshot: the window's size, and a page with ink on it (not blank), bars in their blue.
    let png_path = env.path("weekly.png");
    let shot = headless(&browser, &env.path("profile-shot"))
        .arg(format!("--screenshot={}", png_path.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "chromium --screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png_path).expect("screenshot written");
    let (w, h, pixels) = decode_png(&bytes);
    assert_eq!((w, h), (WIDTH, HEIGHT), "screenshot size");
    let ink = pixels.iter().filter(|p| p.iter().any(|&c| c < 200)).count();
    let share = ink as f64 / pixels.len() as f64;
    assert!(share > 0.02, "the page is blank ({:.3} % ink)", share * 100.0);
    let blue = pixels.iter().filter(|p| **p == [0x09, 0x69, 0xda]).count();
    assert!(blue > 10_000, "bar charts drawn ({blue} bar-blue pixels)");

    // Printed: A4 pages (595 × 842 pt), a handful of them.
    let pdf_path = env.path("weekly.pdf");
    let print = headless(&browser, &env.path("profile-pdf"))
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf_path.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        print.status.success(),
        "chromium --print-to-pdf: {}",
        String::from_utf8_lossy(&print.stderr)
    );
    let pdf = std::fs::read(&pdf_path).expect("PDF written");
    let text = String::from_utf8_lossy(&pdf);
    let boxes: Vec<&str> = text
        .match_indices("/MediaBox [")
        .map(|(i, _)| &text[i + 11..i + 11 + text[i + 11..].find(']').unwrap()])
        .collect();
    assert!((1..=4).contains(&boxes.len()), "pages: {boxes:?}");
    for b in &boxes {
        let v: Vec<f64> = b.split_whitespace().map(|x| x.parse().unwrap()).collect();
        assert!(
            (v[2] - 595.0).abs() < 1.0 && (v[3] - 842.0).abs() < 1.0,
            "an A4 page: {b}"
        );
    }
    if std::env::var("PLAINT_WRITE_SCREENSHOT").is_ok_and(|v| v == "1") {
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/img/weekly-report.png");
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, &bytes).unwrap();
        println!("wrote {}", target.display());
    }
}
