//! Writes the seed inputs of every fuzz target into `DIR/<target>/` (default `fuzz/seeds`): real
//! segments and batches of a file log, encoded events of every type (current and older schema
//! versions), command lines, the first rows of the real data files, the policy files. The
//! fuzzer starts from these; `cargo fuzz cmin` then keeps what adds coverage (docs/fuzzing.md).
//!
//! `cargo run -p plaint-fuzz --example seed_corpus -- fuzz/seeds`

use plaint_domain::calendar::Calendar;
use plaint_domain::codec::{self, ClassifiedV1, ReceivedV1};
use plaint_domain::policy::{Policy, DEFAULT_POLICY_TOML};
use plaint_domain::{Command, EventData};
use plaint_projections::synth::{complaint_events, SynthConfig};
use plaint_store::file::anchor::Anchor;
use plaint_store::file::format;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    let p = d.join(name);
    std::fs::write(&p, bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/seeds".into()));
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");

    // The file log: the template's last segment under every mode of segment_recovery; its
    // header and batches for the decoder.
    let segment = plaint_fuzz::segment::template_last_segment();
    for mode in 0u8..32 {
        let mut input = vec![mode];
        match mode & 3 {
            1 => input.extend_from_slice(&segment[format::SEGMENT_HEADER_LEN..][..100.min(segment.len() - 64)]),
            2 => input.extend_from_slice(&segment[..segment.len().min(600)]),
            _ => input.extend_from_slice(&segment),
        }
        write(&dir, "segment_recovery", &format!("mode-{mode:02}"), &input);
    }
    // batch_decoder inputs: byte 0 is the mode (0 as is, 1 checksums fixed first).
    let decoder = |name: &str, bytes: &[u8]| {
        for mode in [0u8, 1] {
            let mut input = vec![mode];
            input.extend_from_slice(bytes);
            write(&dir, "batch_decoder", &format!("{name}-{mode}"), &input);
        }
    };
    decoder("segment-header", &segment[..format::SEGMENT_HEADER_LEN]);
    let mut at = format::SEGMENT_HEADER_LEN;
    let mut n = 0;
    while let Ok(b) = format::parse_batch(&segment[at..]) {
        let len = b.header.total_len();
        decoder(&format!("batch-{n}"), &segment[at..at + len]);
        if n == 0 {
            let body = &segment[at + format::BATCH_HEADER_LEN..];
            let r = if b.header.compact {
                format::parse_record_compact(body, b.header.first_position)
            } else {
                format::parse_record(body)
            }
            .expect("first record");
            decoder("record", &body[..r.len]);
            if b.header.compact {
                // The target decodes a lone compact record for position 1: its CRC says so.
                let mut alone = Vec::new();
                format::encode_record(&mut alone, &format::EventRef { position: 1, ..r.event });
                decoder("record-compact-alone", &alone);
            }
        }
        at += len;
        n += 1;
    }

    // Events of every type from the synthetic generator, at their current version, plus the
    // older versions the codec upcasts.
    let cfg = SynthConfig::default();
    let policy = Policy::default();
    let cal = Calendar::china_mainland();
    let mut seen = BTreeSet::new();
    let names: Vec<&str> = codec::CURRENT_VERSIONS.iter().map(|(n, _)| *n).collect();
    for k in 0..400 {
        for e in complaint_events(&cfg, &policy, &cal, k) {
            let (name, version, payload) = codec::encode(&e.data);
            if !seen.insert(name) {
                continue;
            }
            let t = names.iter().position(|n| *n == name).unwrap() as u8;
            let mut input = vec![t, version as u8];
            input.extend_from_slice(&payload);
            write(&dir, "event_codec", &format!("{name}-v{version}"), &input);
            let older = match &e.data {
                EventData::Received(r) => Some(
                    postcard::to_allocvec(&ReceivedV1 {
                        channel: r.channel,
                        contact_at: r.contact_at,
                        customer: r.customer.clone(),
                        waybill: r.waybill.clone(),
                        description: r.description.clone(),
                        claimed_amount: r.claimed_amount,
                        evidence: r.evidence.clone(),
                        region: r.region.clone(),
                    })
                    .unwrap(),
                ),
                EventData::Classified(c) => Some(
                    postcard::to_allocvec(&ClassifiedV1 {
                        category: c.category,
                        severity: c.severity,
                        customer_tier: c.customer_tier,
                        flags: c.flags,
                        deadlines: c.deadlines.clone(),
                        escalations: c.escalations.clone(),
                        policy_version: c.policy_version.clone(),
                    })
                    .unwrap(),
                ),
                _ => None,
            };
            if let Some(payload) = older {
                let mut input = vec![t, 1];
                input.extend_from_slice(&payload);
                write(&dir, "event_codec", &format!("{name}-v1"), &input);
            }
        }
    }

    // Command lines: the docs' examples and one command of every kind from imported history.
    let examples = [
        r#"{"command_id":"c1","complaint_id":"CMP-1","actor":"a","command":"receive","channel":"hotline","description":"d","region":"r"}"#,
        r#"{"command_id":"c2","complaint_id":"CMP-1","actor":"agent:li","occurred_at":"2026-01-05T09:00:00Z","command":"receive","channel":"counter","description":"包裹破损","region":"sh","customer":{"name":"张三","phone":"13800138000"},"waybill":"SF123","claimed_amount":{"fen":5000}}"#,
    ];
    for (i, line) in examples.iter().enumerate() {
        write(&dir, "command_json", &format!("example-{i}"), line.as_bytes());
    }

    // The real data files: their first rows, each mapping and policy mode.
    let head_lines = |path: &Path, lines: usize| -> Vec<u8> {
        let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut end = 0;
        for _ in 0..lines {
            match text[end..].iter().position(|&b| b == b'\n') {
                Some(i) => end += i + 1,
                None => return text,
            }
        }
        text[..end].to_vec()
    };
    let data = Path::new("/work/shared/data");
    let data = if data.exists() {
        data.to_path_buf()
    } else {
        repo.join("tests/data")
    };
    for (mode, file) in [(0u8, "baltimore311_sample.csv"), (1, "cfpb_2014_oct_nov.csv")] {
        let rows = head_lines(&data.join(file), 12);
        for policy_bit in [0u8, 2] {
            let mut input = vec![mode | policy_bit];
            input.extend_from_slice(&rows);
            write(&dir, "import_csv", &format!("{file}-{}", mode | policy_bit), &input);
        }
    }
    let json = std::fs::read(data.join("chicago_open311_with_notes.json")).expect("chicago_open311_with_notes.json");
    let requests: Vec<serde_json::Value> = serde_json::from_slice(&json).expect("Open311 JSON");
    let open311 = plaint_import::open311::Open311Mapping::from_toml_str(
        &std::fs::read_to_string(repo.join("examples/mappings/chicago_open311.toml")).unwrap(),
    )
    .unwrap();
    for (i, chunk) in requests.chunks(4).take(3).enumerate() {
        let text = serde_json::to_vec_pretty(chunk).unwrap();
        for mode in [0u8, 1] {
            let mut input = vec![mode];
            input.extend_from_slice(&text);
            write(&dir, "import_open311", &format!("chicago-{i}-{mode}"), &input);
        }
        // Commands planned from real rows: realistic lines for the command parser.
        if i == 0 {
            let mut input = vec![0u8];
            input.extend_from_slice(&text);
            let plan = plaint_import::open311::plan_open311_json(&open311, &text[..], None).unwrap();
            let mut kinds = BTreeSet::new();
            for c in plan.tickets.iter().flat_map(|t| &t.commands) {
                if kinds.insert(c.body.name()) {
                    let line = serde_json::to_string::<Command>(c).unwrap();
                    write(
                        &dir,
                        "command_json",
                        &format!("planned-{}", c.body.name()),
                        line.as_bytes(),
                    );
                }
            }
        }
    }

    write(&dir, "policy_toml", "default", DEFAULT_POLICY_TOML.as_bytes());
    // head_anchor inputs: byte 0 is the mode (0 as is, 1 CRC fixed first); a new log's anchor
    // and one of a log with events.
    let anchors = [
        ("empty", Anchor::empty()),
        (
            "head-1042",
            Anchor {
                head_position: 1042,
                chain: [7; 32],
                segment_first_position: 1000,
                batch_offset: 4096,
            },
        ),
    ];
    for (name, anchor) in anchors {
        for mode in [0u8, 1] {
            let mut input = vec![mode];
            input.extend_from_slice(&anchor.encode());
            write(&dir, "head_anchor", &format!("{name}-{mode}"), &input);
        }
    }
    // stream_index inputs: the template log's checkpoint, as is and with the CRC fix-up mode.
    let checkpoint = plaint_fuzz::segment::template_index_checkpoint();
    for mode in [0u8, 1] {
        let mut input = vec![mode];
        input.extend_from_slice(&checkpoint);
        write(&dir, "stream_index", &format!("template-{mode}"), &input);
    }
    write(
        &dir,
        "policy_toml",
        "import-examples",
        &std::fs::read(repo.join("examples/mappings/policy.toml")).unwrap(),
    );
    // checkpoint_state inputs: every projection's state after small synthetic logs.
    for (name, input) in plaint_fuzz::checkpoint::seeds() {
        write(&dir, "checkpoint_state", &name, &input);
    }
}
