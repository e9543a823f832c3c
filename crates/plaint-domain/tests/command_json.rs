//! Issue 15: `Command`'s hand-written one-pass reading (src/command_de.rs) against serde's
//! derived reading of the same shape (kept here as `Derived`): generated commands, in any key
//! order, with unknown keys, read as the same command; malformed objects (a field dropped,
//! given twice, renamed, of another type, the tag misspelt, …) are refused alike.

mod lifecycle_support;

use lifecycle_support::*;
use plaint_domain::*;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;

/// The derived reading `Command` had before (`#[derive(Deserialize)]` on the same fields).
#[derive(Debug, Deserialize)]
struct Derived {
    command_id: CommandId,
    complaint_id: ComplaintId,
    actor: Actor,
    #[serde(default)]
    occurred_at: Option<Timestamp>,
    #[serde(flatten)]
    body: CommandBody,
}

fn derived(text: &str) -> Result<Command, serde_json::Error> {
    serde_json::from_str::<Derived>(text).map(|d| Command {
        command_id: d.command_id,
        complaint_id: d.complaint_id,
        actor: d.actor,
        occurred_at: d.occurred_at,
        body: d.body,
    })
}

fn one_pass(text: &str) -> Result<Command, serde_json::Error> {
    serde_json::from_str::<Command>(text)
}

/// Every kind of command, at least once.
fn bodies() -> Vec<CommandBody> {
    let mut all = one_of_each_command();
    let compensation = CompensationRequest {
        remedy: Remedy::Payment,
        amount: Money(12_000),
        insured: true,
        insured_amount: Some(Money(8_000)),
        full_value: None,
        actual_loss: Some(Money(9_000)),
        postage: None,
        total_loss: true,
        registered_letter: false,
        gross_negligence: false,
    };
    all.extend([
        CommandBody::ProposeCompensation(ProposeCompensation {
            compensation_id: "comp-1".to_owned(),
            compensation,
            note: "按保价赔付".to_owned(),
        }),
        CommandBody::ApproveCompensation(ApproveCompensation {
            compensation_id: "comp-1".to_owned(),
            role: ApproverRole::DepartmentHead,
        }),
        CommandBody::PayCompensation(PayCompensation {
            compensation_id: "comp-1".to_owned(),
            reference: "FIN-0001".to_owned(),
        }),
        CommandBody::RefuseCompensation(RefuseCompensation {
            compensation_id: "comp-1".to_owned(),
            reason: "超出上限".to_owned(),
        }),
        CommandBody::OpenIncident(OpenIncident {
            incident_id: "inc-1".to_owned(),
            title: "暴雨".to_owned(),
            cause: "中转延误".to_owned(),
            members: vec![IncidentMember {
                name: "王五".to_owned(),
                role: "lead".to_owned(),
            }],
        }),
        CommandBody::LinkIncident(LinkIncident {
            incident_id: "inc-1".to_owned(),
            lead: ComplaintId::new("CMP-LEAD").unwrap(),
            note: String::new(),
        }),
        CommandBody::ReportIncidentProgress(ReportIncidentProgress {
            text: "已恢复".to_owned(),
        }),
        CommandBody::RecordImprovement(RecordImprovement {
            action_id: "act-1".to_owned(),
            root_cause: Some(Stage::Hub),
            department: Department("hub".to_owned()),
            action: "加派人手".to_owned(),
        }),
        CommandBody::RecordDisputeEscalation(RecordDisputeEscalation {
            kind: DisputeKind::Media,
            note: "微博曝光".to_owned(),
        }),
        classify_because(Severity::Ordinary, "客户仅咨询"),
    ]);
    all
}

#[test]
fn every_command_kind_is_generated_and_named() {
    let names: std::collections::BTreeSet<&str> = bodies().iter().map(|b| b.name()).collect();
    let listed: std::collections::BTreeSet<&str> = COMMAND_NAMES.iter().copied().collect();
    assert_eq!(names, listed);
    for body in bodies() {
        assert_eq!(serde_json::to_value(&body).unwrap()["command"], body.name());
    }
}

fn command() -> impl Strategy<Value = Command> {
    (
        prop::sample::select(bodies()),
        "[a-z0-9-]{1,12}",
        "CMP-[0-9]{1,6}",
        "[a-z]{1,3}-[0-9]{1,3}",
        prop::option::of(-100_000i64..100_000),
    )
        .prop_map(|(body, command_id, complaint_id, actor, minutes)| Command {
            command_id: CommandId::new(command_id).unwrap(),
            complaint_id: ComplaintId::new(complaint_id).unwrap(),
            actor: Actor::person(actor).unwrap(),
            occurred_at: minutes.map(|m| t0().plus_millis(m * 60_000)),
            body,
        })
}

/// The entries of `cmd`'s JSON object, keys sorted (so the tag sits among the body's fields).
fn entries(cmd: &Command) -> Vec<(String, Value)> {
    let Value::Object(object) = serde_json::to_value(cmd).unwrap() else {
        panic!("a command is an object")
    };
    object.into_iter().collect()
}

/// A JSON object written from its entries as they are (a key may be given twice).
fn object_text(entries: &[(String, Value)]) -> String {
    let fields: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// Any small JSON value, with the strings a command holds among them.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (0u64..300).prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        prop::sample::select(vec![
            "receive",
            "close",
            "hotline",
            "hub",
            "ordinary",
            "payment",
            "supervisor",
            "CMP-1",
            "c-1",
            "a-1",
            "2026-11-25T09:00:00+08:00",
            "",
            "fax",
            "Receive",
        ])
        .prop_map(Value::from),
        "[a-z_]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,8}", inner), 0..3).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// One way to spoil (or keep good) a command object.
#[derive(Debug, Clone)]
enum Mutation {
    Drop(usize),
    /// The entry again (the same value or another) right after it, or at the end.
    Twice(usize, Option<Value>, bool),
    Replace(usize, Value),
    Rename(usize, String),
    Insert(usize, String, Value),
    /// A key of an object value given twice inside it.
    NestedTwice(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "command",
            "command_id",
            "complaint_id",
            "actor",
            "occurred_at",
            "channel",
            "region",
            "description",
            "customer",
            "note",
            "reason",
            "severity",
            "kind",
            "level",
            "to",
            "x",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,10}",
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Drop),
        (any::<usize>(), prop::option::of(value()), any::<bool>()).prop_map(|(i, v, end)| Mutation::Twice(i, v, end)),
        (any::<usize>(), value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (any::<usize>(), key.clone()).prop_map(|(i, k)| Mutation::Rename(i, k)),
        (any::<usize>(), key, value()).prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
        any::<usize>().prop_map(Mutation::NestedTwice),
    ]
}

/// `entries` after `m`, as text.
fn mutated(mut entries: Vec<(String, Value)>, m: &Mutation) -> String {
    let n = entries.len();
    match m.clone() {
        Mutation::Drop(i) => {
            entries.remove(i % n);
        }
        Mutation::Twice(i, v, at_end) => {
            let (k, old) = entries[i % n].clone();
            let at = if at_end { n } else { i % n + 1 };
            entries.insert(at, (k, v.unwrap_or(old)));
        }
        Mutation::Replace(i, v) => entries[i % n].1 = v,
        Mutation::Rename(i, k) => entries[i % n].0 = k,
        Mutation::Insert(i, k, v) => entries.insert(i % (n + 1), (k, v)),
        Mutation::NestedTwice(i) => {
            let (k, v) = entries[i % n].clone();
            if let Value::Object(inner) = v {
                if let Some((ik, iv)) = inner.iter().next() {
                    let mut fields: Vec<String> = inner
                        .iter()
                        .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                        .collect();
                    fields.push(format!("{}:{iv}", Value::String(ik.clone())));
                    let mut text: Vec<String> = entries
                        .iter()
                        .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                        .collect();
                    text[i % n] = format!("{}:{{{}}}", Value::String(k), fields.join(","));
                    return format!("{{{}}}", text.join(","));
                }
            }
        }
    }
    object_text(&entries)
}

/// The one exception (src/command_de.rs): the derived reading took a variant's index as the tag.
fn numeric_tag(text: &str) -> bool {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    object.get("command").is_some_and(Value::is_number)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Generated commands, their keys in any order, with or without unknown keys: the one-pass
    /// reading gives the command, as the derived reading does.
    #[test]
    fn generated_commands_read_alike_in_any_key_order(
        cmd in command(),
        order in Just(()).prop_perturb(|_, mut rng| rng.next_u64()),
        unknown in prop::option::of(("[a-z]{1,6}_x", value())),
    ) {
        let mut fields = entries(&cmd);
        // A permutation drawn from `order` (Fisher-Yates on a small generator).
        let mut state = order | 1;
        for i in (1..fields.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            fields.swap(i, (state % (i as u64 + 1)) as usize);
        }
        if let Some((k, v)) = unknown {
            fields.insert(fields.len() / 2, (k, v));
        }
        let text = object_text(&fields);
        prop_assert_eq!(one_pass(&text).ok(), Some(cmd.clone()), "{}", text);
        prop_assert_eq!(derived(&text).ok(), Some(cmd), "{}", text);
        // The usual order (`Serialize`'s: the tag before the body's fields) as well.
        let usual = serde_json::to_string(&one_pass(&text).unwrap()).unwrap();
        prop_assert_eq!(one_pass(&usual).ok(), derived(&usual).ok(), "{}", usual);
    }

    /// A spoilt command object is refused by both readings, or read by both as the same command.
    #[test]
    fn malformed_objects_are_refused_alike(cmd in command(), tag_first in any::<bool>(), m in mutation()) {
        let mut fields = entries(&cmd);
        if tag_first {
            let at = fields.iter().position(|(k, _)| k == "command").unwrap();
            let tag = fields.remove(at);
            fields.insert(0, tag);
        }
        let text = mutated(fields, &m);
        let (new, old) = (one_pass(&text), derived(&text));
        if numeric_tag(&text) {
            prop_assert!(new.is_err(), "{}", text);
        } else {
            prop_assert_eq!(new.as_ref().ok(), old.as_ref().ok(), "{}\nnew: {:?}\nderived: {:?}", text, new.as_ref().err(), old.as_ref().err());
        }
    }
}

/// The exception, checked both ways: the derived reading takes `"command": 0` as `receive`
/// (so `Derived` above really is serde's reading), the one-pass reading refuses it.
#[test]
fn a_numeric_tag_is_refused() {
    let text = r#"{"command_id":"c1","complaint_id":"CMP-1","actor":"a","command":0,"channel":"hotline","description":"d","region":"r"}"#;
    assert_eq!(derived(text).unwrap().body.name(), "receive");
    let e = one_pass(text).unwrap_err().to_string();
    assert!(e.contains("invalid type: integer `0`, expected a string"), "{e}");
}

/// The messages a reader shows (`serde_json` appends the position, which differs: the derived
/// reading reports body errors at the end of the object, this one where the fault is).
#[test]
fn errors_read_as_the_derived_reading_wrote_them() {
    let good = r#"{"command_id":"c1","complaint_id":"CMP-1","actor":"a","command":"receive","channel":"hotline","description":"d","region":"r"}"#;
    let cases = [
        good.replace(r#","region":"r""#, ""),
        good.replace("hotline", "fax"),
        good.replace(r#""receive""#, r#""teleport""#),
        good.replace(r#""command":"receive","#, ""),
        good.replace(r#""actor":"a","#, ""),
        good.replace(r#""actor":"a""#, r#""actor":"a","actor":"b""#),
        good.replace(r#""region":"r""#, r#""region":"r","region":"s""#),
        good.replace(r#""region":"r""#, r#""region":5"#),
    ];
    let message = |e: serde_json::Error| {
        let text = e.to_string();
        text.split(" at line ").next().unwrap().to_owned()
    };
    for text in &cases {
        let (new, old) = (one_pass(text).unwrap_err(), derived(text).unwrap_err());
        assert_eq!(message(new), message(old), "{text}");
    }
}

/// A receive whose description is `len` bytes long.
fn long_receive(len: usize) -> CommandBody {
    let mut body = bodies()
        .into_iter()
        .find(|b| matches!(b, CommandBody::Receive(_)))
        .expect("a receive among the bodies");
    if let CommandBody::Receive(r) = &mut body {
        r.description = "x".repeat(len);
    }
    body
}

/// BLAKE3 of the whole postcard encoding of what the digest covers, cut to the digest's length.
fn whole_buffer_digest(cmd: &Command) -> Vec<u8> {
    let bytes = postcard::to_allocvec(&(&cmd.actor, &cmd.occurred_at, &cmd.body)).unwrap();
    blake3::hash(&bytes).as_bytes()[..cmd.digest().0.len()].to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The digest (stored on a command's first event, compared on a retry) is BLAKE3 of the
    /// postcard encoding of its actor, time and body: the streamed hashing gives what hashing
    /// the whole encoding gives, for every kind of command and across its buffer's edges.
    #[test]
    fn the_digest_is_blake3_of_the_whole_encoding(cmd in command(), len in 0usize..3_000) {
        prop_assert_eq!(cmd.digest().0.to_vec(), whole_buffer_digest(&cmd));
        let long = Command { body: long_receive(len), ..cmd };
        prop_assert_eq!(long.digest().0.to_vec(), whole_buffer_digest(&long));
    }
}

/// The command of `bodies()`'s `i`-th body in the fixed-answer test: persons and the system act
/// in turn, at fixed times or none.
fn fixed_command(i: usize, body: CommandBody) -> Command {
    let actor = match i % 3 {
        0 => Actor::person("cs-1").unwrap(),
        1 => Actor::System,
        _ => Actor::person("王工").unwrap(),
    };
    let occurred_at = (i % 4 != 3).then(|| t0().plus_millis(i as i64 * 60_000));
    Command {
        command_id: CommandId::new(format!("c-{i}")).unwrap(),
        complaint_id: ComplaintId::new(COMPLAINT).unwrap(),
        actor,
        occurred_at,
        body,
    }
}

/// The digests stored on the log for `bodies()` (every kind, a merge, a receive with personal
/// data) as `fixed_command` makes them, written when they were first computed (issue 15,
/// wave 9). A digest is stored on a command's first event and compared on a retry: a serde or
/// postcard upgrade, or a change to a command's fields, that changed it would refuse every
/// retry of an already-stored command as `CommandIdReused` (a changed fixture in `bodies()` or
/// `lifecycle_support` also shows here: rewrite only that line, knowingly).
const DIGESTS: &[(&str, &str)] = &[
    ("receive", "d803eea59bb5d8496f79b688185978c1"),
    ("verify", "42c64cd3fa96db0085f98aa230de9573"),
    ("reject", "3d2e9f4b95601ed236e94b0d78d866f7"),
    ("merge_as_duplicate", "c0d08783efc302d3d0ecc04e4153709d"),
    ("classify", "ecff4b598c009e86cafcb3deadf75ed7"),
    ("dispatch", "490a657ac22b914d02d321e3e33cc6f4"),
    ("redispatch", "dde82b45cfebe0c252fdddb6f226dd79"),
    ("put_on_hold", "7c6e1c3db34a9980637799a0e1fbd706"),
    ("resume", "567a6c224ec93ad31440a310372ffc2d"),
    ("respond", "9fba45c5793d2984e67d12be50b00490"),
    ("respond", "ff55ef8c5e08f1b19bbbb36f967df79e"),
    ("respond", "7c54c441fdf95ebbfcffd608b33e0f30"),
    ("respond", "f075ee3f65e93a3c502241b61f398b63"),
    ("compensate", "12e217903227ad316d68d36ce19a877d"),
    ("escalate", "92d1bc04f488467b5f47e3d899419cfc"),
    ("escalate", "2f7efb9af0c95b715e22b078820ac35f"),
    ("revisit", "61c2c9939d5f84ee7eea8e6eb7253ff2"),
    ("reopen", "c82b4395f4af145901aa48bc1bc7c7d0"),
    ("close", "dd3b2594527e8af1f9d88fec0ea3d3ec"),
    ("withdraw", "bacd8ca17c4963b4cde85929a6b63dc3"),
    ("record_revisit_attempt", "50b61d1456ae5ae4877fd2e12fb8ff04"),
    ("transfer_ownership", "375baa16e76bdf4b1df05008313efd5d"),
    ("open_supervision", "891ad877bbf03aab86732e5f0381d70f"),
    ("propose_compensation", "949d1b255be60d8f3ff387043d6e3bab"),
    ("approve_compensation", "bddacfc09cac1ef332f22f3f36eed55d"),
    ("pay_compensation", "59472345c8edcb06f8cc3d335f96f227"),
    ("refuse_compensation", "0beede66eae41df935a1e63adab166ff"),
    ("open_incident", "97521cce194f2890dcd04210b8cdf55d"),
    ("link_incident", "9eeaa6c426ce696c23fda22db3dc5c98"),
    ("report_incident_progress", "45c71f47825594a9e23c5ecf02a02fa3"),
    ("record_improvement", "07325e5256b868715954850721ba404c"),
    ("record_dispute_escalation", "909afdf294e63053e756fbd7f03add46"),
    ("classify", "dce15db1faf028ce9b3bb9322fca5c57"),
];

#[test]
fn digests_are_the_fixed_answers() {
    let got: Vec<(&str, String)> = bodies()
        .into_iter()
        .enumerate()
        .map(|(i, body)| (body.name(), fixed_command(i, body).digest().to_string()))
        .collect();
    let want: Vec<(&str, String)> = DIGESTS.iter().map(|&(n, h)| (n, h.to_owned())).collect();
    assert_eq!(got, want);
}
