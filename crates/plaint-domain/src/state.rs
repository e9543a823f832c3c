//! The complaint lifecycle state machine (docs/domain.md §2): [`decide`] turns a command into events
//! or a typed [`Rejection`]; [`evolve`] folds one event into a [`ComplaintState`].
//!
//! Both are pure: time (`now`), the policy, the business calendar and the customer key come in
//! through [`Context`]; nothing here reads the clock, a file or a random number generator.
//!
//! ## Statuses and transitions
//!
//! | status | reached by | commands accepted (besides `escalate` by a person and `record_dispute_escalation`, allowed on every open ticket) |
//! |---|---|---|
//! | `new` | nothing yet | `receive` |
//! | `received` | Received | `verify`, `reject`, `merge_as_duplicate`, `put_on_hold`, `respond(acknowledgement)`, `withdraw` |
//! | `verified` | Verified | `classify`, `reject`, `merge_as_duplicate`, `put_on_hold`, `respond(acknowledgement)`, `withdraw` |
//! | `classified` | Classified | `dispatch`, `put_on_hold`, `respond(acknowledgement)`, `withdraw` |
//! | `dispatched` | Dispatched, Resumed, Reopened | `redispatch`, `put_on_hold`, `respond(any kind)`, `compensate`, `withdraw` |
//! | `on_hold` | OnHold | `resume`, `respond(acknowledgement, progress, preliminary_plan)`, `compensate`, `withdraw` |
//! | `responded` | Responded(final) | `revisit`, `reopen`, `compensate`, `close` |
//! | `revisited` | Revisited (solved and satisfied) | `reopen`, `compensate`, `close` |
//! | `rejected` | Rejected | `close` (resolution `rejected`) |
//! | `merged` | MergedAsDuplicate | `close` (resolution `merged`) |
//! | `closed` | Closed (resolution `resolved`, `rejected`, `merged` or `withdrawn`) | nothing: every command is an [`Rejection::IllegalTransition`] |
//!
//! Choices made where docs/domain.md leaves room (each has a test in `tests/lifecycle_gwt.rs`):
//! - "Respond before dispatch" is illegal for `progress`, `preliminary_plan` and `final`; an
//!   `acknowledgement` (受理结果反馈) is allowed from receipt on, since the first-response clock
//!   (1 h for major tickets) runs before dispatch.
//! - A revisit that finds the problem unsolved or the customer unsatisfied emits `Revisited`
//!   **and** `Reopened` in one decision (the reopen is counted, the ticket returns to
//!   `dispatched` with its department). `reopen` exists for a complaint about the final response
//!   before or after a satisfied revisit.
//! - `close` is legal once a final response was given (with or without a revisit: a customer may
//!   be unreachable), and on rejected or merged tickets. The resolution follows from the status.
//! - The watchdog path (`escalate` with `rule_id`) yields an event only when the rung is planned
//!   for this ticket, due at `now` and not yet applied, and (for `ladder.*` rungs) no final
//!   response is standing; in every other case it yields no event (so it is safe to ask as
//!   often as one likes). Whether a breach or green-channel rung is still relevant is judged
//!   by `watchdog::due_escalations`, which sees the whole history.
//! - `withdraw` (the customer withdraws the complaint) closes the ticket with resolution
//!   `withdrawn` and no liability, from every open status before a final response stands
//!   (`received` … `dispatched`, `on_hold`). docs/domain.md §2 closes a ticket "with a recorded reason
//!   from the policy's list (… customer declined)" and the seeds name no withdrawal step, so:
//!   before a final response the customer's withdrawal is its own resolution (the ticket was
//!   never answered, so it is not `resolved`); once a final response stands (`responded`,
//!   `revisited`) the customer declining to go on is an ordinary `close` (resolved). Rejected
//!   and merged tickets close with their own resolution, so `withdraw` is illegal there.
//! - `classify` adds the `media` flag for a `media_lead` channel and `regulator` for a
//!   `regulator_referral`; a repeat link (named by `verify`, or found by the repeat rule at
//!   verification or classification, see [`decide_with`]) raises `repeat` (docs/domain.md §8).

use crate::calendar::Calendar;
use crate::command::*;
use crate::compensation;
use crate::event::*;
use crate::ids::{Actor, CommandId, ComplaintId};
use crate::lifecycle::{HoldChange, Lifecycle};
use crate::personal::{self, CustomerKey};
use crate::policy::{CalendarNeeds, Policy, UncoveredYear};
use crate::repeat::{self, Candidate, NoPriors, PriorComplaints, RepeatVerdict};
use crate::time::Timestamp;
use std::fmt;

#[path = "casework.rs"]
pub mod casework;

/// Longest description, in bytes.
pub const DESCRIPTION_LEN_MAX: usize = 64 * 1024;
/// Longest note, reason, response text or basis, in bytes.
pub const TEXT_LEN_MAX: usize = 16 * 1024;
/// Longest short field (region, outlet, handler, customer id, department, attribute), in bytes.
pub const SHORT_TEXT_LEN_MAX: usize = 256;
/// Longest normalised waybill number, in characters.
pub const WAYBILL_LEN_MAX: usize = 40;
/// Most evidence references on one complaint.
pub const EVIDENCE_COUNT_MAX: usize = 64;
/// Most free attributes on one complaint.
pub const ATTRIBUTES_COUNT_MAX: usize = 64;
/// Most recorded (imported) deadlines on one classification.
pub const RECORDED_DEADLINES_MAX: usize = 32;
/// Most events in one complaint's stream; a command that would exceed it is refused.
pub const EVENTS_PER_COMPLAINT_MAX: u64 = 10_000;
/// Most reopens of one ticket.
pub const REOPEN_COUNT_MAX: u32 = 100;
/// Most failed revisit attempts, ownership transfers or supervisions of one ticket (a storage
/// bound, like [`REOPEN_COUNT_MAX`]).
pub const LOOP_RECORDS_MAX: u32 = 100;
/// Most events one command appends (a revisit that reopens and escalates appends three).
pub const EVENTS_PER_COMMAND_MAX: u64 = 3;

/// Where a complaint is in its lifecycle (docs/domain.md §2). See the module documentation for the
/// transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No event yet.
    #[default]
    New,
    Received,
    Verified,
    Classified,
    /// Being handled by a department (also after Resumed and Reopened).
    Dispatched,
    OnHold,
    /// The final response was given; awaiting the revisit.
    Responded,
    /// Revisited: solved and satisfied; ready to close.
    Revisited,
    /// Verification found it invalid; only `close` remains.
    Rejected,
    /// Merged into another ticket; only `close` remains.
    Merged,
    /// Terminal.
    Closed,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::New,
        Status::Received,
        Status::Verified,
        Status::Classified,
        Status::Dispatched,
        Status::OnHold,
        Status::Responded,
        Status::Revisited,
        Status::Rejected,
        Status::Merged,
        Status::Closed,
    ];

    /// The snake_case name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Received => "received",
            Status::Verified => "verified",
            Status::Classified => "classified",
            Status::Dispatched => "dispatched",
            Status::OnHold => "on_hold",
            Status::Responded => "responded",
            Status::Revisited => "revisited",
            Status::Rejected => "rejected",
            Status::Merged => "merged",
            Status::Closed => "closed",
        }
    }

    /// Received and not closed.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::New | Status::Closed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pause in progress (docs/domain.md §2 OnHold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hold {
    pub since: Timestamp,
    pub reason: HoldReason,
    /// The status `Resumed` returns to.
    pub resume_to: Status,
}

pub use crate::closed_loop::RevisitOutcome;

/// A supervision (督办) opened on a ticket (docs/domain.md R-SUP). It ends with the ticket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SupervisionRecord {
    pub number: u32,
    pub opened_at: Timestamp,
    /// Who opened it (the supervisor).
    pub opened_by: String,
    pub due_at: Timestamp,
    pub escalate_to: EscalationLevel,
    pub note: String,
}

impl SupervisionRecord {
    /// The record of a `SupervisionOpened` by `actor` at `at`.
    pub fn of(at: Timestamp, actor: &Actor, o: &SupervisionOpened) -> SupervisionRecord {
        SupervisionRecord {
            number: o.number,
            opened_at: at,
            opened_by: actor.as_str().to_owned(),
            due_at: o.deadline.due_at,
            escalate_to: o.escalate_to,
            note: o.note.clone(),
        }
    }
}

/// Everything `decide` needs to know about one complaint, folded from its events.
/// Serialisable so that frameworks that snapshot aggregates (cqrs-es) can store it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ComplaintState {
    pub id: Option<ComplaintId>,
    /// Stream version of the last event folded in (0: none).
    pub version: u64,
    pub status: Status,
    /// The command ids already applied, in order (idempotency). Stored as they are: cloning an
    /// id costs less than hashing it, and comparing a handful of short strings is cheap.
    applied: Vec<CommandId>,
    /// The digest recorded for each of `applied` (same index; `None`: recorded before digests
    /// existed). Issue 11: a retry must ask the same.
    #[serde(default)]
    applied_digests: Vec<Option<CommandDigest>>,
    /// The stream version and event type (index in `codec::CURRENT_VERSIONS`) of each of
    /// `applied`'s first event, to name the original command in a `command_id_reused` rejection.
    #[serde(default)]
    applied_first: Vec<(u64, u8)>,
    pub channel: Option<Channel>,
    /// Registration time (`occurred_at` of Received).
    pub received_at: Option<Timestamp>,
    pub contact_at: Option<Timestamp>,
    pub customer_id: Option<String>,
    pub match_key: Option<String>,
    pub waybill: Option<String>,
    /// Kept for routing at dispatch.
    pub description: String,
    pub category: Option<Category>,
    pub severity: Option<Severity>,
    pub customer_tier: Option<CustomerTier>,
    /// Union of the flags raised by verification and classification.
    pub flags: Flags,
    pub repeat_of: Option<ComplaintId>,
    /// The open ticket this one duplicates (flagged at verification, docs/domain.md §8).
    #[serde(default)]
    pub duplicate_of: Option<ComplaintId>,
    pub merged_into: Option<ComplaintId>,
    pub rejection: Option<RejectionReason>,
    pub department: Option<Department>,
    pub handler: Option<String>,
    pub routing: Option<RoutingDecision>,
    /// Policy version the classification deadlines were computed with.
    pub policy_version: Option<String>,
    /// Where the deadlines come from (set by `Classified`): with `Recorded`, dispatch and the
    /// final response add no policy deadlines.
    #[serde(default)]
    pub deadline_source: DeadlineSource,
    /// Every deadline recorded so far (classification, dispatch, final response), in order.
    pub deadlines: Vec<ClockDeadline>,
    /// Some recorded deadline was computed weekends-only in a year without calendar data
    /// (`calendar_covered: false` on Classified, Dispatched or Responded; issue 11).
    #[serde(default)]
    pub calendar_uncovered: bool,
    pub escalations_planned: Vec<EscalationDue>,
    /// Watchdog rule ids already escalated (each at most once).
    pub escalations_applied: Vec<String>,
    /// Highest escalation level reached.
    pub escalation_level: Option<EscalationLevel>,
    pub escalation_count: u32,
    pub hold: Option<Hold>,
    /// Total time spent on completed holds, in milliseconds.
    pub held_ms: i64,
    pub first_response_at: Option<Timestamp>,
    /// Set by the standing final response; cleared by a reopen.
    pub final_response_at: Option<Timestamp>,
    pub final_liable: Option<bool>,
    pub final_root_cause: Option<Stage>,
    /// Sum of granted compensation.
    pub compensated: Money,
    /// Granted compensation per remedy: what the per-ticket ceiling counts (docs/domain.md §6).
    #[serde(default)]
    pub granted: compensation::GrantedTotals,
    pub last_revisit: Option<RevisitOutcome>,
    pub reopen_count: u32,
    pub redispatch_count: u32,
    pub resolution: Option<Resolution>,
    pub closed_at: Option<Timestamp>,
    /// Business time of the last event.
    pub last_occurred_at: Option<Timestamp>,
    /// 首问负责制: the owner, the first person who acted on the ticket unless ownership was
    /// transferred since (docs/domain.md R-OWN).
    #[serde(default)]
    pub owner: Option<String>,
    /// Ownership transfers so far.
    #[serde(default)]
    pub ownership_transfers: u32,
    /// Every revisit counted (docs/domain.md R-LOOP-4).
    #[serde(default)]
    pub revisits: crate::closed_loop::RevisitTally,
    /// Failed revisit attempts since the standing final response (R-LOOP-2).
    #[serde(default)]
    pub revisit_attempts: Vec<Timestamp>,
    /// Supervisions opened (督办, R-SUP).
    #[serde(default)]
    pub supervisions: Vec<SupervisionRecord>,
    /// Why it was closed without a revisit after its final response (R-LOOP-1).
    #[serde(default)]
    pub closed_without_revisit: Option<CloseReason>,
    /// The tier the policy's severity rules suggested, when the classification went below it.
    #[serde(default)]
    pub severity_overridden: Option<Severity>,
    /// Issue 17: compensation lifecycle, incident group, improvement actions (`casework`).
    #[serde(default)]
    pub casework: casework::Casework,
    /// The dispute escalations recorded (纠纷升级: litigation, media, regulator; R-DSP-1).
    #[serde(default)]
    pub disputes: Vec<DisputeKind>,
}

impl ComplaintState {
    /// The state of a complaint with no events.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds a complaint's events, in stream order.
    pub fn from_events(events: &[Event]) -> Self {
        let mut s = Self::new();
        for e in events {
            evolve(&mut s, e);
        }
        s
    }

    /// Whether an event caused by this command id was already folded in.
    pub fn has_applied(&self, command_id: &CommandId) -> bool {
        self.applied.iter().any(|c| c == command_id)
    }

    /// Issue 11: `Ok` when `cmd` (whose id was applied) asks what the original command asked, or
    /// when the original recorded no digest; [`Rejection::CommandIdReused`] otherwise.
    pub fn check_retry(&self, cmd: &Command) -> Result<(), Rejection> {
        let Some(i) = self.applied.iter().position(|c| *c == cmd.command_id) else {
            return Ok(());
        };
        let Some(Some(original)) = self.applied_digests.get(i).copied() else {
            return Ok(());
        };
        let digest = cmd.digest();
        if digest == original {
            return Ok(());
        }
        let (stream_version, type_index) = self.applied_first.get(i).copied().unwrap_or((0, u8::MAX));
        let original_event = crate::codec::CURRENT_VERSIONS
            .get(usize::from(type_index))
            .map_or("an event", |(name, _)| *name);
        Err(Rejection::CommandIdReused {
            complaint: cmd.complaint_id.clone(),
            command_id: cmd.command_id.clone(),
            command: cmd.body.name(),
            original_stream_version: stream_version,
            original_event,
        })
    }

    /// How many commands produced this state's events.
    pub fn applied_count(&self) -> usize {
        self.applied.len()
    }

    /// Whether the standing final response was given (status responded or revisited, or closed
    /// after one).
    pub fn final_response_given(&self) -> bool {
        self.final_response_at.is_some()
    }

    /// The recorded deadline of a clock, if any (the latest recorded for it).
    pub fn deadline(&self, clock: Clock) -> Option<ClockDeadline> {
        self.deadlines.iter().rev().find(|d| d.clock == clock).copied()
    }
}

/// What `decide` needs besides the state and the command.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The recording time (and, for the watchdog, the instant escalations are judged at).
    pub now: Timestamp,
    pub policy: &'a Policy,
    pub calendar: &'a Calendar,
    /// The customer's key, needed when a `receive` carries personal fields (docs/domain.md §9).
    pub customer_key: Option<&'a CustomerKey>,
    /// The store's key of the match-key hash (`personal::match_key`), from the vault.
    pub match_secret: &'a personal::MatchSecret,
}

/// Why a command was refused. Nothing is written when `decide` returns one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The command is not allowed in the complaint's current status (docs/domain.md §2).
    #[error("complaint {complaint}: cannot {command} while the complaint is {status}")]
    IllegalTransition {
        complaint: ComplaintId,
        status: Status,
        command: &'static str,
    },
    /// A field of the command is invalid.
    #[error("complaint {complaint}: {command}: invalid {field}: {reason}")]
    Invalid {
        complaint: ComplaintId,
        command: &'static str,
        field: &'static str,
        reason: String,
    },
    /// The command names another complaint than the state it was decided against.
    #[error("command {command_id} is addressed to complaint {command_complaint}, not to complaint {complaint}")]
    WrongComplaint {
        complaint: ComplaintId,
        command_complaint: ComplaintId,
        command_id: CommandId,
    },
    /// Personal fields were given but the context has no customer key to seal them with.
    #[error("complaint {complaint}: personal fields given but no customer key to seal them with (docs/domain.md §9)")]
    MissingCustomerKey { complaint: ComplaintId },
    /// The department is not one of the policy's.
    #[error("complaint {complaint}: unknown department {department:?} (policy {policy_version})")]
    UnknownDepartment {
        complaint: ComplaintId,
        department: String,
        policy_version: String,
    },
    /// The amount asked, added to what the ticket was already granted, is above the ceiling of
    /// the applicable rule (docs/domain.md §6: the ceiling bounds the sum per ticket).
    #[error("complaint {complaint}: compensation of {requested_fen} fen is above the ceiling of {ceiling_fen} fen for the ticket ({rule:?}): {already_granted_fen} fen already granted, {headroom_fen} fen headroom left")]
    CompensationAboveCeiling {
        complaint: ComplaintId,
        requested_fen: i64,
        ceiling_fen: i64,
        rule: CompensationRule,
        /// What earlier grants counted against this ceiling.
        already_granted_fen: i64,
        /// What may still be granted under this ceiling.
        headroom_fen: i64,
    },
    /// The compensation request was refused for another reason (missing inputs, …).
    #[error("complaint {complaint}: compensation refused: {reason}")]
    Compensation { complaint: ComplaintId, reason: String },
    /// A deadline needs a year the business calendar has no holiday data for, and the policy
    /// (`calendar.uncovered_year = "refuse"`) refuses weekends-only arithmetic (issue 11).
    #[error("complaint {complaint}: {command}: the deadlines need the business calendar of {year}, which calendar {calendar:?} does not cover; add {add}, or set calendar.uncovered_year = \"weekends_only\" in the policy to record weekends-only deadlines")]
    CalendarNotCovered {
        complaint: ComplaintId,
        command: &'static str,
        year: i32,
        calendar: String,
        /// The calendar data to add.
        add: String,
    },
    /// A command id already applied to this complaint came again with another body (issue 11):
    /// an idempotency key reused for a different request. Nothing is written.
    #[error("complaint {complaint}: command_id_reused: command id {command_id} was already used for another command (its first event: {original_event} at stream version {original_stream_version}); this {command} command asks something else: use a new command id, or retry with exactly the original command")]
    CommandIdReused {
        complaint: ComplaintId,
        command_id: CommandId,
        /// The name of the command that reused the id.
        command: &'static str,
        original_stream_version: u64,
        /// The type of the original command's first event.
        original_event: &'static str,
    },
    /// The stream is full.
    #[error("complaint {complaint}: {version} events recorded, at most {max} are allowed")]
    TooManyEvents {
        complaint: ComplaintId,
        version: u64,
        max: u64,
    },
    /// 002 closed loop (docs/domain.md R-LOOP-1): a ticket with a final response closes after a
    /// revisit, or with one of the policy's reasons and what that reason needs.
    #[error("complaint {complaint}: close: the loop is not closed: {detail}")]
    LoopNotClosed { complaint: ComplaintId, detail: String },
    /// docs/domain.md R-SEV-2: classified below the tier the policy's severity rules suggest
    /// without a recorded `severity_reason`.
    #[error("complaint {complaint}: classify: severity {classified} is below the suggested {suggested} (policy severity rules {rules}); give a severity_reason to classify below the suggestion")]
    SeverityBelowSuggestion {
        complaint: ComplaintId,
        suggested: &'static str,
        classified: &'static str,
        /// The ids of the rules suggesting it, comma-separated.
        rules: String,
    },
}

/// Whether the transition table (docs/domain.md §2) accepts `cmd` only on a complaint that has
/// no event yet (a `receive`). An engine may decide such a command on an empty state without
/// reading the stream first: its append expects stream version 0, which the store refuses when
/// the stream holds events (the engine then reads the stream and decides again).
///
/// ```
/// use plaint_domain::state::opens_complaint;
/// use plaint_domain::Command;
/// let receive: Command = serde_json::from_str(r#"{"command_id": "c-1", "complaint_id": "CMP-1",
///     "actor": "cs-001", "command": "receive", "channel": "hotline", "region": "上海",
///     "description": "未收到包裹", "customer": {"name": "张三", "phone": "13800138000"}}"#).unwrap();
/// assert!(opens_complaint(&receive));
/// let verify: Command = serde_json::from_str(r#"{"command_id": "c-2", "complaint_id": "CMP-1",
///     "actor": "cs-001", "command": "verify",
///     "claim": "passed", "evidence": "passed", "history": "passed"}"#).unwrap();
/// assert!(!opens_complaint(&verify));
/// ```
pub fn opens_complaint(cmd: &Command) -> bool {
    matches!(cmd.body, CommandBody::Receive(_))
}

/// Refuses a command that addresses one of the log's system streams
/// ([`crate::ids::RESERVED_STREAMS`]: API tokens, reveals, erasures) as its complaint, or names
/// one as a complaint it refers to (`repeat_of`, `into`, `lead`): those streams hold no
/// complaint. [`decide_with`] asks it first; an engine asks it before it reads the stream, so
/// nothing of a system stream is ever read, returned or written for a command.
pub fn refuse_reserved(cmd: &Command) -> Result<(), Rejection> {
    let refuse = |field: &'static str, id: &ComplaintId| Rejection::Invalid {
        complaint: cmd.complaint_id.clone(),
        command: cmd.body.name(),
        field,
        reason: format!(
            "{:?} is a reserved system stream of the log (it holds no complaint); use another complaint id",
            id.as_str()
        ),
    };
    if cmd.complaint_id.is_reserved() {
        return Err(refuse("complaint_id", &cmd.complaint_id));
    }
    let referred = match &cmd.body {
        CommandBody::Verify(v) => v.repeat_of.as_ref().map(|id| ("repeat_of", id)),
        CommandBody::MergeAsDuplicate(m) => Some(("into", &m.into)),
        CommandBody::LinkIncident(l) => Some(("lead", &l.lead)),
        _ => None,
    };
    match referred {
        Some((field, id)) if id.is_reserved() => Err(refuse(field, id)),
        _ => Ok(()),
    }
}

/// Decides what a command does to a complaint: the events to append, or why not.
///
/// Produced events carry `stream_version` `state.version + 1 ..`, `position` 0 (not committed),
/// `occurred_at` = the command's business time or `ctx.now`, `recorded_at` = `ctx.now`, the
/// command's actor and id, and the current schema version of their type; the first carries the
/// command's digest ([`Command::digest`]). A command whose id was already applied yields
/// `Ok(vec![])` when it asks what the original asked (idempotent retry), and
/// [`Rejection::CommandIdReused`] when it asks something else.
///
/// ```
/// use plaint_domain::calendar::Calendar;
/// use plaint_domain::policy::Policy;
/// use plaint_domain::state::{decide, evolve, ComplaintState, Context, Rejection, Status};
/// use plaint_domain::*;
///
/// let (policy, calendar) = (Policy::default(), Calendar::china_mainland());
/// let now = Timestamp::parse_rfc3339("2026-11-25T09:00:00+08:00").unwrap();
/// let match_secret = plaint_domain::personal::MatchSecret::from_bytes([7; 32]);
/// let ctx = Context { now, policy: &policy, calendar: &calendar, customer_key: None, match_secret: &match_secret };
/// let receive = Command {
///     command_id: CommandId::new("intake-1").unwrap(),
///     complaint_id: ComplaintId::new("CMP-2026-000001").unwrap(),
///     actor: Actor::person("agent-7").unwrap(),
///     occurred_at: None,
///     body: CommandBody::Receive(Receive {
///         channel: Channel::Hotline,
///         contact_at: None,
///         customer: CustomerInput { customer_id: Some("C-1".into()), ..Default::default() },
///         waybill: Some("EMS 1234 5678 CN".into()),
///         description: "包裹延误".into(),
///         claimed_amount: None,
///         evidence: vec![],
///         region: "北京".into(),
///         outlet: None,
///         attributes: Default::default(),
///     }),
/// };
/// let mut state = ComplaintState::new();
/// let events = decide(&state, &receive, &ctx).unwrap();
/// assert_eq!(events[0].meta.stream_version, 1);
/// for e in &events {
///     evolve(&mut state, e);
/// }
/// assert_eq!(state.status, Status::Received);
/// // A retry of the same command appends nothing.
/// assert!(decide(&state, &receive, &ctx).unwrap().is_empty());
/// // Closing now is an illegal transition that names complaint, status and command.
/// let close = Command {
///     command_id: CommandId::new("close-1").unwrap(),
///     body: CommandBody::Close(Close { root_cause: None, liable: None, note: String::new(), without_revisit: None }),
///     ..receive.clone()
/// };
/// let err = decide(&state, &close, &ctx).unwrap_err();
/// assert!(matches!(err, Rejection::IllegalTransition { status: Status::Received, command: "close", .. }));
/// assert_eq!(err.to_string(), "complaint CMP-2026-000001: cannot close while the complaint is received");
/// ```
///
/// `decide` knows no earlier complaints: the repeat rule (docs/domain.md §8) judges every complaint
/// new. An adapter that keeps an index of complaints calls [`decide_with`].
pub fn decide(state: &ComplaintState, cmd: &Command, ctx: &Context) -> Result<Vec<Event>, Rejection> {
    decide_with(state, cmd, ctx, &NoPriors)
}

/// [`decide`], with the earlier complaints the repeat rule (docs/domain.md §8, `repeat`) reads through
/// the `priors` port. It judges at verification (a duplicate of an open ticket is recorded as
/// `Verified.duplicate_of`, a repeat as `Verified.repeat_of` unless the command names one) and
/// again at classification, once the category is known (a repeat not recorded before is recorded
/// as `Classified.repeat_of` and opens the green channel). Other commands never ask the port.
pub fn decide_with(
    state: &ComplaintState,
    cmd: &Command,
    ctx: &Context,
    priors: &dyn PriorComplaints,
) -> Result<Vec<Event>, Rejection> {
    decide_ahead(state, cmd, ctx, priors, None)
}

/// [`decide_with`] of a command prepared ahead ([`crate::prepare::prepare`]): the same
/// decision, the same events byte for byte, with the state-free part (the digest, the sealing
/// of a `receive`'s personal fields when `ctx` names the key it was sealed under) taken from
/// the preparation instead of done again.
pub fn decide_prepared(
    state: &ComplaintState,
    prepared: &crate::prepare::PreparedCommand,
    ctx: &Context,
    priors: &dyn PriorComplaints,
) -> Result<Vec<Event>, Rejection> {
    decide_ahead(state, prepared.command(), ctx, priors, Some(prepared.ahead()))
}

fn decide_ahead(
    state: &ComplaintState,
    cmd: &Command,
    ctx: &Context,
    priors: &dyn PriorComplaints,
    ahead: Option<&crate::prepare::Ahead>,
) -> Result<Vec<Event>, Rejection> {
    refuse_reserved(cmd)?;
    if let Some(id) = &state.id {
        if *id != cmd.complaint_id {
            return Err(Rejection::WrongComplaint {
                complaint: id.clone(),
                command_complaint: cmd.complaint_id.clone(),
                command_id: cmd.command_id.clone(),
            });
        }
    }
    if state.has_applied(&cmd.command_id) {
        // A retry: the same body appends nothing; another body under the same id is refused.
        state.check_retry(cmd)?;
        return Ok(Vec::new());
    }
    let digest = ahead.map_or_else(|| cmd.digest(), |ahead| ahead.digest());
    let d = Decider {
        state,
        cmd,
        ctx,
        at: cmd.occurred_at.unwrap_or(ctx.now),
        priors,
        ahead,
    };
    if !d.allowed() {
        return Err(d.illegal());
    }
    // Three events at most per command.
    if state.version + EVENTS_PER_COMMAND_MAX > EVENTS_PER_COMPLAINT_MAX {
        return Err(Rejection::TooManyEvents {
            complaint: cmd.complaint_id.clone(),
            version: state.version,
            max: EVENTS_PER_COMPLAINT_MAX,
        });
    }
    d.check_time()?;
    let data = d.decide()?;
    debug_assert!(data.len() as u64 <= EVENTS_PER_COMMAND_MAX);
    let schema = |t: &'static str| crate::codec::schema_version(t).expect("every event type has a schema version");
    Ok(data
        .into_iter()
        .enumerate()
        .map(|(i, data)| Event {
            meta: EventMeta {
                complaint_id: cmd.complaint_id.clone(),
                stream_version: state.version + 1 + i as u64,
                position: 0,
                occurred_at: d.at,
                recorded_at: ctx.now,
                actor: cmd.actor.clone(),
                command_id: cmd.command_id.clone(),
                schema_version: schema(data.type_name()),
                command_digest: (i == 0).then_some(digest),
            },
            data,
        })
        .collect())
}

struct Decider<'s, 'c, 'x, 'p> {
    state: &'s ComplaintState,
    cmd: &'c Command,
    ctx: &'x Context<'p>,
    at: Timestamp,
    priors: &'x dyn PriorComplaints,
    /// What was prepared ahead of the decision, if anything.
    ahead: Option<&'x crate::prepare::Ahead>,
}

impl Decider<'_, '_, '_, '_> {
    /// The repeat rule's verdict on this complaint with the category it has or is given.
    fn repeat_verdict(&self, category: Option<Category>) -> RepeatVerdict {
        match Candidate::from_state(self.state, category) {
            Some(c) => repeat::judge_with(&c, self.priors, self.ctx.policy),
            None => RepeatVerdict::New,
        }
    }

    fn complaint(&self) -> ComplaintId {
        self.cmd.complaint_id.clone()
    }

    fn illegal(&self) -> Rejection {
        Rejection::IllegalTransition {
            complaint: self.complaint(),
            status: self.state.status,
            command: self.cmd.body.name(),
        }
    }

    fn invalid(&self, field: &'static str, reason: impl Into<String>) -> Rejection {
        Rejection::Invalid {
            complaint: self.complaint(),
            command: self.cmd.body.name(),
            field,
            reason: reason.into(),
        }
    }

    fn text(&self, field: &'static str, s: &str, max: usize) -> Result<(), Rejection> {
        if s.len() > max {
            return Err(self.invalid(field, format!("{} bytes long; at most {max} are allowed", s.len())));
        }
        Ok(())
    }

    fn short(&self, field: &'static str, s: Option<&str>) -> Result<(), Rejection> {
        match s {
            Some(s) if s.trim().is_empty() => Err(self.invalid(field, "is empty (omit it instead)")),
            Some(s) => self.text(field, s, SHORT_TEXT_LEN_MAX),
            None => Ok(()),
        }
    }

    /// docs/domain.md §2: the transition table (see the module documentation).
    fn allowed(&self) -> bool {
        use Status as S;
        let s = self.state.status;
        if let Some(allowed) = self.casework_allowed() {
            return allowed;
        }
        if opens_complaint(self.cmd) {
            return s == S::New;
        }
        match &self.cmd.body {
            CommandBody::Receive(_) => unreachable!("a receive opens a complaint (opens_complaint)"),
            CommandBody::Verify(_) => s == S::Received,
            CommandBody::Reject(_) | CommandBody::MergeAsDuplicate(_) => matches!(s, S::Received | S::Verified),
            CommandBody::Classify(_) => s == S::Verified,
            CommandBody::Dispatch(_) => s == S::Classified,
            CommandBody::Redispatch(_) => s == S::Dispatched,
            CommandBody::PutOnHold(_) => matches!(s, S::Received | S::Verified | S::Classified | S::Dispatched),
            CommandBody::Resume(_) => s == S::OnHold,
            CommandBody::Respond(r) => match r.kind {
                ResponseKind::Acknowledgement => {
                    matches!(s, S::Received | S::Verified | S::Classified | S::Dispatched | S::OnHold)
                }
                ResponseKind::Progress | ResponseKind::PreliminaryPlan => matches!(s, S::Dispatched | S::OnHold),
                ResponseKind::Final => s == S::Dispatched,
            },
            CommandBody::Compensate(_) => matches!(s, S::Dispatched | S::OnHold | S::Responded | S::Revisited),
            CommandBody::Escalate(_) => s.is_open(),
            CommandBody::Revisit(_) => s == S::Responded,
            CommandBody::Reopen(_) => matches!(s, S::Responded | S::Revisited),
            CommandBody::Close(_) => matches!(s, S::Responded | S::Revisited | S::Rejected | S::Merged),
            CommandBody::Withdraw(_) => {
                matches!(s, S::Received | S::Verified | S::Classified | S::Dispatched | S::OnHold)
            }
            CommandBody::RecordRevisitAttempt(_) => s == S::Responded,
            CommandBody::TransferOwnership(_) => s.is_open(),
            CommandBody::OpenSupervision(_) => s.is_open() && !matches!(s, S::Rejected | S::Merged),
            // Issue 17's commands: `casework_allowed` above.
            _ => false,
        }
    }

    /// Business time must be consistent: not after the recording time, and nothing happens
    /// before the complaint was received.
    fn check_time(&self) -> Result<(), Rejection> {
        // Implausible instants first (issue 11): a recording time (`now`, the CLI's `--now`) or
        // a business time outside the policy's bounds is refused before anything else.
        self.plausible("now", self.ctx.now)?;
        if let Some(at) = self.cmd.occurred_at {
            self.plausible("occurred_at", at)?;
        }
        if self.at > self.ctx.now {
            return Err(self.invalid(
                "occurred_at",
                format!("{} is after the recording time {}", self.at, self.ctx.now),
            ));
        }
        if let Some(received_at) = self.state.received_at {
            if self.at < received_at {
                return Err(self.invalid(
                    "occurred_at",
                    format!("{} is before the complaint was received ({received_at})", self.at),
                ));
            }
        }
        Ok(())
    }

    fn decide(&self) -> Result<Vec<EventData>, Rejection> {
        let one = |d: EventData| Ok(vec![d]);
        if let Some(decided) = self.casework() {
            return decided.map(|d| vec![d]);
        }
        match &self.cmd.body {
            CommandBody::Receive(r) => one(EventData::Received(self.receive(r)?)),
            CommandBody::Verify(v) => {
                self.text("note", &v.note, TEXT_LEN_MAX)?;
                if v.repeat_of.as_ref() == Some(&self.cmd.complaint_id) {
                    return Err(self.invalid("repeat_of", "a complaint cannot repeat itself"));
                }
                // docs/domain.md §8: the history check. The command may name the earlier complaint;
                // otherwise the rule judges. A repeat raises the `repeat` flag (and so the green
                // channel); a duplicate of an open ticket is flagged for merging.
                let (judged_repeat, duplicate_of) = match self.repeat_verdict(self.state.category) {
                    RepeatVerdict::Repeat { of } => (Some(of), None),
                    RepeatVerdict::Duplicate { of } => (None, Some(of)),
                    RepeatVerdict::New => (None, None),
                };
                let repeat_of = v.repeat_of.clone().or(judged_repeat);
                let mut flags = v.flags;
                flags.repeat |= repeat_of.is_some();
                one(EventData::Verified(Verified {
                    claim: v.claim,
                    evidence: v.evidence,
                    history: v.history,
                    repeat_of,
                    duplicate_of,
                    flags,
                    note: v.note.clone(),
                }))
            }
            CommandBody::Reject(r) => {
                self.text("note", &r.note, TEXT_LEN_MAX)?;
                one(EventData::Rejected(Rejected {
                    reason: r.reason,
                    note: r.note.clone(),
                }))
            }
            CommandBody::MergeAsDuplicate(m) => {
                self.text("note", &m.note, TEXT_LEN_MAX)?;
                if m.into == self.cmd.complaint_id {
                    return Err(self.invalid("into", "a complaint cannot be merged into itself"));
                }
                one(EventData::MergedAsDuplicate(MergedAsDuplicate {
                    into: m.into.clone(),
                    note: m.note.clone(),
                }))
            }
            CommandBody::Classify(c) => {
                let classified = self.classify(c)?;
                let overridden = self.severity_override(c, &classified)?;
                let mut out = vec![EventData::Classified(classified)];
                out.extend(overridden.map(EventData::SeverityOverridden));
                Ok(out)
            }
            CommandBody::Dispatch(d) => one(EventData::Dispatched(self.dispatch(d)?)),
            CommandBody::Redispatch(r) => {
                self.text("reason", &r.reason, TEXT_LEN_MAX)?;
                self.short("handler", r.handler.as_deref())?;
                self.known_department(&r.to)?;
                let from = self
                    .state
                    .department
                    .clone()
                    .unwrap_or_else(|| Department(String::new()));
                if from == r.to {
                    return Err(self.invalid("to", format!("the complaint is already with {:?}", r.to.0)));
                }
                one(EventData::Redispatched(Redispatched {
                    from,
                    to: r.to.clone(),
                    handler: r.handler.clone(),
                    routing: RoutingDecision::Manual,
                    reason: r.reason.clone(),
                }))
            }
            CommandBody::PutOnHold(h) => {
                self.text("note", &h.note, TEXT_LEN_MAX)?;
                one(EventData::OnHold(OnHold {
                    reason: h.reason,
                    note: h.note.clone(),
                }))
            }
            CommandBody::Resume(r) => {
                self.text("note", &r.note, TEXT_LEN_MAX)?;
                one(EventData::Resumed(Resumed { note: r.note.clone() }))
            }
            CommandBody::Respond(r) => one(EventData::Responded(self.respond(r)?)),
            CommandBody::Compensate(c) => one(EventData::Compensated(Compensated {
                compensation: self.compensation(&c.compensation)?,
            })),
            CommandBody::Escalate(e) => Ok(self.escalate(e)?.map(EventData::Escalated).into_iter().collect()),
            CommandBody::Revisit(r) => self.revisit(r),
            CommandBody::Reopen(r) => {
                self.text("reason", &r.reason, TEXT_LEN_MAX)?;
                one(EventData::Reopened(self.reopened(r.reason.clone())?))
            }
            CommandBody::Close(c) => one(EventData::Closed(self.close(c)?)),
            CommandBody::Withdraw(w) => {
                self.text("note", &w.note, TEXT_LEN_MAX)?;
                self.check_nothing_outstanding()?;
                one(EventData::Closed(Closed {
                    resolution: Resolution::Withdrawn,
                    root_cause: None,
                    liable: false,
                    note: w.note.clone(),
                    without_revisit: None,
                }))
            }
            CommandBody::RecordRevisitAttempt(a) => {
                self.text("note", &a.note, TEXT_LEN_MAX)?;
                let attempt = self.bounded("note", "revisit attempts", self.state.revisit_attempts.len())?;
                one(EventData::RevisitAttempted(RevisitAttempted {
                    attempt,
                    note: a.note.clone(),
                }))
            }
            CommandBody::TransferOwnership(t) => one(EventData::OwnershipTransferred(self.transfer(t)?)),
            CommandBody::OpenSupervision(o) => one(EventData::SupervisionOpened(self.supervise(o)?)),
            // Issue 17's commands were decided by `casework` above.
            _ => Err(self.illegal()),
        }
    }

    /// The number of the next record of a kind bounded by [`LOOP_RECORDS_MAX`].
    fn bounded(&self, field: &'static str, what: &str, so_far: usize) -> Result<u32, Rejection> {
        let n = u32::try_from(so_far).unwrap_or(u32::MAX);
        if n >= LOOP_RECORDS_MAX {
            return Err(self.invalid(
                field,
                format!("{n} {what} recorded already; at most {LOOP_RECORDS_MAX}"),
            ));
        }
        Ok(n + 1)
    }

    /// docs/domain.md R-OWN-2: ownership passes to a named person, with a reason.
    fn transfer(&self, t: &TransferOwnership) -> Result<OwnershipTransferred, Rejection> {
        if t.to.trim().is_empty() {
            return Err(self.invalid("to", "is empty"));
        }
        self.short("to", Some(&t.to))?;
        if t.to == Actor::SYSTEM {
            return Err(self.invalid("to", "the system cannot own a ticket; name a person"));
        }
        if t.reason.trim().is_empty() {
            return Err(self.invalid("reason", "is empty: a transfer of ownership records why"));
        }
        self.text("reason", &t.reason, TEXT_LEN_MAX)?;
        // The owner as it stands before this command (the actor becomes the owner first when
        // the ticket had none, R-OWN-1).
        let from = self.state.owner.clone().or_else(|| match &self.cmd.actor {
            Actor::Person(p) => Some(p.clone()),
            Actor::System => None,
        });
        if from.as_deref() == Some(t.to.as_str()) {
            return Err(self.invalid("to", format!("{:?} already owns the ticket", t.to)));
        }
        self.bounded("to", "ownership transfers", self.state.ownership_transfers as usize)?;
        Ok(OwnershipTransferred {
            from,
            to: t.to.clone(),
            reason: t.reason.clone(),
        })
    }

    /// docs/domain.md R-SUP: a supervision with a deadline after now and within the policy's
    /// `supervision.deadline_max`, and a note.
    fn supervise(&self, o: &OpenSupervision) -> Result<SupervisionOpened, Rejection> {
        if o.note.trim().is_empty() {
            return Err(self.invalid("note", "is empty: a supervision records what is asked"));
        }
        self.text("note", &o.note, TEXT_LEN_MAX)?;
        self.plausible("due_at", o.due_at)?;
        if o.due_at <= self.at {
            return Err(self.invalid(
                "due_at",
                format!("{} is not after the supervision's opening {}", o.due_at, self.at),
            ));
        }
        let max = self.ctx.policy.supervision.deadline_max;
        let latest = max.after(self.ctx.calendar, self.at);
        if o.due_at > latest {
            return Err(self.invalid(
                "due_at",
                format!(
                    "{} is more than {max} after the opening {} (policy supervision.deadline_max)",
                    o.due_at, self.at
                ),
            ));
        }
        let number = self.bounded("due_at", "supervisions", self.state.supervisions.len())?;
        Ok(SupervisionOpened {
            number,
            deadline: ClockDeadline {
                clock: Clock::Supervision,
                due_at: o.due_at,
                pausable: false,
            },
            escalate_to: self.ctx.policy.supervision.overdue_level,
            note: o.note.clone(),
            policy_version: self.ctx.policy.version.clone(),
        })
    }

    /// docs/domain.md R-SEV-2: below the policy's suggestion needs a recorded reason. Imported
    /// history (`deadline_source: recorded`) records the legacy system's tier as it was.
    fn severity_override(
        &self,
        c: &Classify,
        classified: &Classified,
    ) -> Result<Option<SeverityOverridden>, Rejection> {
        let reason = c.severity_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = &c.severity_reason {
            self.text("severity_reason", r, TEXT_LEN_MAX)?;
        }
        let suggestion =
            self.ctx
                .policy
                .suggest_severity(classified.category, classified.flags, &self.state.description);
        let Some(suggestion) = suggestion.filter(|s| s.severity > classified.severity) else {
            return Ok(None);
        };
        match reason {
            Some(reason) => Ok(Some(SeverityOverridden {
                suggested: suggestion.severity,
                classified: classified.severity,
                rules: suggestion.rules,
                reason: reason.to_owned(),
                policy_version: self.ctx.policy.version.clone(),
            })),
            None if c.deadline_source == DeadlineSource::Recorded => Ok(None),
            None => Err(Rejection::SeverityBelowSuggestion {
                complaint: self.complaint(),
                suggested: suggestion.severity.as_str(),
                classified: classified.severity.as_str(),
                rules: suggestion.rules.join(", "),
            }),
        }
    }

    /// docs/domain.md §3: intake. Seals personal fields (§9), computes the matching key, normalises
    /// the waybill.
    fn receive(&self, r: &Receive) -> Result<Received, Rejection> {
        if r.description.trim().is_empty() {
            return Err(self.invalid("description", "is empty"));
        }
        self.text("description", &r.description, DESCRIPTION_LEN_MAX)?;
        if r.region.trim().is_empty() {
            return Err(self.invalid("region", "is empty"));
        }
        self.short("region", Some(&r.region))?;
        self.short("outlet", r.outlet.as_deref())?;
        self.short("customer.customer_id", r.customer.customer_id.as_deref())?;
        self.short("customer.name", r.customer.name.as_deref())?;
        self.short("customer.phone", r.customer.phone.as_deref())?;
        self.text(
            "customer.address",
            r.customer.address.as_deref().unwrap_or(""),
            TEXT_LEN_MAX,
        )?;
        if r.evidence.len() > EVIDENCE_COUNT_MAX {
            return Err(self.invalid(
                "evidence",
                format!(
                    "{} references; at most {EVIDENCE_COUNT_MAX} are allowed",
                    r.evidence.len()
                ),
            ));
        }
        for e in &r.evidence {
            self.text("evidence.reference", &e.reference, TEXT_LEN_MAX)?;
        }
        if r.attributes.len() > ATTRIBUTES_COUNT_MAX {
            return Err(self.invalid(
                "attributes",
                format!(
                    "{} attributes; at most {ATTRIBUTES_COUNT_MAX} are allowed",
                    r.attributes.len()
                ),
            ));
        }
        for (k, v) in &r.attributes {
            self.short("attributes (key)", Some(k))?;
            self.text("attributes (value)", v, SHORT_TEXT_LEN_MAX)?;
        }
        if let Some(m) = r.claimed_amount {
            if m.0 < 0 {
                return Err(self.invalid("claimed_amount", format!("{} fen is negative", m.0)));
            }
        }
        let contact_at = r.contact_at.unwrap_or(self.at);
        self.plausible("contact_at", contact_at)?;
        if contact_at > self.at {
            return Err(self.invalid(
                "contact_at",
                format!("{contact_at} is after the registration time {}", self.at),
            ));
        }
        let waybill = match r.waybill.as_deref() {
            None => None,
            Some(w) => normalise_waybill(w).map_err(|reason| self.invalid("waybill", reason))?,
        };
        let c = &r.customer;
        let personal = if c.has_personal_fields() {
            let Some(key) = self.ctx.customer_key else {
                return Err(Rejection::MissingCustomerKey {
                    complaint: self.complaint(),
                });
            };
            // Sealed ahead under this very key (`prepare`): the same bytes; else sealed now.
            match self.ahead.and_then(|ahead| ahead.sealed_under(key)) {
                Some(sealed) => {
                    debug_assert_eq!(sealed.key_id, key.id);
                    Some(sealed.clone())
                }
                None => personal::seal_customer(self.cmd.complaint_id.as_str(), self.cmd.command_id.as_str(), c, key)
                    .map_err(|e| self.invalid("customer", e.to_string()))?,
            }
        } else {
            None
        };
        Ok(Received {
            channel: r.channel,
            contact_at,
            customer: CustomerRecord {
                customer_id: c.customer_id.clone(),
                match_key: personal::match_key(self.ctx.match_secret, c.customer_id.as_deref(), c.phone.as_deref()),
                personal,
            },
            waybill,
            description: r.description.clone(),
            claimed_amount: r.claimed_amount,
            evidence: r.evidence.clone(),
            region: r.region.clone(),
            outlet: r.outlet.clone(),
            attributes: r.attributes.clone(),
        })
    }

    /// docs/domain.md §4 and §7 (audit rule): deadlines of every clock that runs from receipt,
    /// computed now from the policy and the calendar and recorded with the policy version.
    /// Imported history ([`DeadlineSource::Recorded`], issue 8: nothing guessed silently) records
    /// exactly the legacy system's deadlines, possibly none, and plans no watchdog escalations.
    fn classify(&self, c: &Classify) -> Result<Classified, Rejection> {
        let channel = self.state.channel.unwrap_or(Channel::Hotline);
        // docs/domain.md §8: judged again now the category is known (same customer, same category,
        // another waybill or channel), unless a link was recorded at verification.
        let repeat_of = if self.state.repeat_of.is_none() && self.state.duplicate_of.is_none() {
            match self.repeat_verdict(Some(c.category)) {
                RepeatVerdict::Repeat { of } => Some(of),
                RepeatVerdict::Duplicate { .. } | RepeatVerdict::New => None,
            }
        } else {
            None
        };
        let mut flags = self.state.flags.union(c.flags);
        flags.repeat |= repeat_of.is_some();
        flags.media |= channel == Channel::MediaLead;
        flags.regulator |= channel == Channel::RegulatorReferral;
        let received_at = self.state.received_at.unwrap_or(self.at);
        let contact_at = self.state.contact_at.unwrap_or(received_at);
        let mut needs = CalendarNeeds::default();
        let (computed, escalations) = self.ctx.policy.classify_deadlines_noting(
            self.ctx.calendar,
            &mut needs,
            c.severity,
            flags,
            channel,
            contact_at,
            received_at,
        );
        let recorded = c.deadline_source == DeadlineSource::Recorded;
        let escalations = if recorded { Vec::new() } else { escalations };
        // Recorded deadlines are the legacy system's: no calendar arithmetic is kept.
        let mut calendar_covered = true;
        let deadlines = if c.recorded_deadlines.is_empty() && !recorded {
            calendar_covered = self.calendar_covered(needs)?;
            computed
        } else {
            for d in &c.recorded_deadlines {
                self.plausible("recorded_deadlines.due_at", d.due_at)?;
            }
            if c.recorded_deadlines.len() > RECORDED_DEADLINES_MAX {
                return Err(self.invalid(
                    "recorded_deadlines",
                    format!(
                        "{} deadlines; at most {RECORDED_DEADLINES_MAX} are allowed",
                        c.recorded_deadlines.len()
                    ),
                ));
            }
            c.recorded_deadlines.clone()
        };
        Ok(Classified {
            category: c.category,
            severity: c.severity,
            customer_tier: c.customer_tier,
            flags,
            deadlines,
            escalations,
            policy_version: self.ctx.policy.version.clone(),
            deadline_source: c.deadline_source,
            repeat_of,
            calendar_covered,
        })
    }

    /// Issue 11: a deadline whose working-time arithmetic needed a year without calendar data
    /// is refused (naming the year and the file to add), or, when the policy allows
    /// weekends-only arithmetic, recorded as not covered (`Ok(false)`).
    fn calendar_covered(&self, needs: CalendarNeeds) -> Result<bool, Rejection> {
        let Some(year) = needs.uncovered_year else {
            return Ok(true);
        };
        match self.ctx.policy.calendar.uncovered_year {
            UncoveredYear::WeekendsOnly => Ok(false),
            UncoveredYear::Refuse => Err(Rejection::CalendarNotCovered {
                complaint: self.complaint(),
                command: self.cmd.body.name(),
                year,
                calendar: self.ctx.calendar.name().to_owned(),
                add: self.ctx.calendar.data_file_for(year),
            }),
        }
    }

    /// Issue 11: an instant outside the policy's plausible bounds is implausible input.
    fn plausible(&self, field: &'static str, t: Timestamp) -> Result<(), Rejection> {
        self.ctx
            .policy
            .input_bounds
            .check(t)
            .map_err(|reason| self.invalid(field, reason))
    }

    /// Whether the policy adds deadlines to this ticket (not for imported history classified
    /// with [`DeadlineSource::Recorded`]).
    fn policy_deadlines(&self) -> bool {
        self.state.deadline_source == DeadlineSource::Policy
    }

    fn known_department(&self, d: &Department) -> Result<(), Rejection> {
        if !self.ctx.policy.is_department(d) {
            return Err(Rejection::UnknownDepartment {
                complaint: self.complaint(),
                department: d.0.clone(),
                policy_version: self.ctx.policy.version.clone(),
            });
        }
        Ok(())
    }

    /// docs/domain.md §5: the routing table decides unless a person names the department; the
    /// matched rule is recorded.
    fn dispatch(&self, d: &Dispatch) -> Result<Dispatched, Rejection> {
        self.short("handler", d.handler.as_deref())?;
        let (department, routing) = match &d.department {
            Some(dep) => {
                self.known_department(dep)?;
                (dep.clone(), RoutingDecision::Manual)
            }
            None => {
                let category = self.state.category.unwrap_or(Category::Other);
                self.ctx.policy.route(category, &self.state.description)
            }
        };
        let severity = self.state.severity.unwrap_or(Severity::Ordinary);
        let mut needs = CalendarNeeds::default();
        let deadlines = if self.policy_deadlines() {
            self.ctx
                .policy
                .dispatch_deadlines_noting(self.ctx.calendar, &mut needs, severity, self.at)
        } else {
            Vec::new()
        };
        Ok(Dispatched {
            department,
            handler: d.handler.clone(),
            routing,
            deadlines,
            policy_version: self.ctx.policy.version.clone(),
            calendar_covered: self.calendar_covered(needs)?,
        })
    }

    /// docs/domain.md §2 responses; §6 compensation riding on the final response.
    fn respond(&self, r: &Respond) -> Result<Responded, Rejection> {
        self.text("text", &r.text, TEXT_LEN_MAX)?;
        self.text("basis", r.basis.as_deref().unwrap_or(""), TEXT_LEN_MAX)?;
        let is_final = r.kind == ResponseKind::Final;
        if !is_final {
            if r.compensation.is_some() {
                return Err(self.invalid(
                    "compensation",
                    "only a final response carries compensation; use compensate",
                ));
            }
            if r.liable.is_some() || r.root_cause.is_some() {
                return Err(self.invalid("liable", "liability and root cause belong to the final response"));
            }
        }
        let compensation = match &r.compensation {
            Some(req) => Some(self.compensation(req)?),
            None => None,
        };
        let mut needs = CalendarNeeds::default();
        let deadlines = if is_final && self.policy_deadlines() {
            let severity = self.state.severity.unwrap_or(Severity::Ordinary);
            self.ctx
                .policy
                .final_response_deadlines_noting(self.ctx.calendar, &mut needs, severity, self.at)
        } else {
            Vec::new()
        };
        let calendar_covered = self.calendar_covered(needs)?;
        Ok(Responded {
            kind: r.kind,
            text: r.text.clone(),
            basis: r.basis.clone(),
            liable: r.liable,
            root_cause: r.root_cause,
            compensation,
            deadlines,
            calendar_covered,
        })
    }

    /// docs/domain.md §6: the ceiling by rule, computed by the policy, bounds the sum of what the
    /// ticket is granted (the remedies the policy counts); a grant above the headroom left is
    /// refused.
    fn compensation(&self, req: &CompensationRequest) -> Result<Compensation, Rejection> {
        compensation::compute_for_ticket(self.ctx.policy, req, &self.state.granted).map_err(|e| match e {
            compensation::CompensationError::AboveCeiling {
                rule,
                granted,
                ceiling,
                already_granted,
                ..
            } => Rejection::CompensationAboveCeiling {
                complaint: self.complaint(),
                requested_fen: granted,
                ceiling_fen: ceiling,
                rule,
                already_granted_fen: already_granted,
                headroom_fen: (ceiling - already_granted).max(0),
            },
            other => Rejection::Compensation {
                complaint: self.complaint(),
                reason: other.to_string(),
            },
        })
    }

    /// docs/domain.md §2 and §7: by a person, always; by the watchdog, exactly once per planned rung
    /// and only when it is due.
    fn escalate(&self, e: &Escalate) -> Result<Option<Escalated>, Rejection> {
        self.text("reason", &e.reason, TEXT_LEN_MAX)?;
        let Some(rule_id) = &e.rule_id else {
            return Ok(Some(Escalated {
                level: e.level,
                trigger: EscalationTrigger::Person,
                reason: e.reason.clone(),
            }));
        };
        let s = self.state;
        let Some(due) = s.escalations_planned.iter().find(|d| d.rule_id == *rule_id) else {
            return Ok(None);
        };
        // The ladder escalates unresolved tickets only (the same test as `watchdog`: no final
        // response since the last reopen). Whether a breach or green-channel rung is still
        // relevant is the watchdog's judgement (`watchdog::due_escalations`, which sees the
        // whole history); `decide` keeps to what makes it exactly-once and never early.
        let resolved_ladder = rule_id.starts_with(crate::policy::RULE_LADDER_PREFIX) && s.final_response_given();
        // A paid compensation or a report made is no longer overdue (R-COMP-9, R-INC-4).
        let met_casework = s.casework.rung_pending(rule_id) == Some(false);
        if resolved_ladder
            || met_casework
            || due.due_at > self.ctx.now
            || s.escalations_applied.iter().any(|r| r == rule_id)
        {
            return Ok(None);
        }
        if due.level != e.level {
            return Err(self.invalid(
                "level",
                format!(
                    "rule {rule_id} plans {}, the command asks {}",
                    due.level.as_str(),
                    e.level.as_str()
                ),
            ));
        }
        Ok(Some(Escalated {
            level: due.level,
            trigger: EscalationTrigger::Watchdog {
                rule_id: rule_id.clone(),
                due_at: due.due_at,
            },
            reason: e.reason.clone(),
        }))
    }

    /// docs/domain.md §2 revisit: unsolved or unsatisfied reopens the ticket in the same decision.
    fn revisit(&self, r: &Revisit) -> Result<Vec<EventData>, Rejection> {
        self.text("note", &r.note, TEXT_LEN_MAX)?;
        if let Some(score) = r.satisfaction_score {
            if !(1..=5).contains(&score) {
                return Err(self.invalid("satisfaction_score", format!("{score} is outside 1..=5")));
            }
        }
        let mut out = vec![EventData::Revisited(Revisited {
            solved: r.solved,
            satisfied: r.satisfied,
            satisfaction_score: r.satisfaction_score,
            note: r.note.clone(),
        })];
        if !(r.solved && r.satisfied) {
            let why = match (r.solved, r.satisfied) {
                (false, false) => "revisit: unsolved and unsatisfied",
                (false, true) => "revisit: unsolved",
                _ => "revisit: unsatisfied",
            };
            out.push(EventData::Reopened(self.reopened(why.to_owned())?));
            // R-LOOP-3: from the policy's n-th unsatisfied revisit on, escalate too.
            let cl = &self.ctx.policy.closed_loop;
            let nth = self.state.revisits.unsatisfied.saturating_add(1);
            if cl.unsatisfied_revisit == crate::policy::UnsatisfiedRevisit::ReopenAndEscalate
                && u32::from(nth) >= cl.escalate_from
            {
                let level = match self.state.escalation_level {
                    Some(current) if current >= cl.escalate_to => next_level(current),
                    _ => cl.escalate_to,
                };
                out.push(EventData::Escalated(Escalated {
                    level,
                    trigger: EscalationTrigger::Person,
                    reason: format!(
                        "unsatisfied revisit no. {nth} (policy closed_loop.escalate_from = {})",
                        cl.escalate_from
                    ),
                }));
            }
        }
        Ok(out)
    }

    fn reopened(&self, reason: String) -> Result<Reopened, Rejection> {
        if self.state.reopen_count >= REOPEN_COUNT_MAX {
            return Err(self.invalid(
                "reopen",
                format!(
                    "reopened {} times already; at most {REOPEN_COUNT_MAX}",
                    self.state.reopen_count
                ),
            ));
        }
        Ok(Reopened {
            reason,
            reopen_count: self.state.reopen_count + 1,
        })
    }

    /// docs/domain.md R-LOOP-1 (002: 受理-处理-反馈-回访-改进 缺一不可): after a final response, a
    /// ticket closes once revisited, or with one of the policy's reasons: `customer_unreachable`
    /// after the policy's number of failed attempts within the revisit window,
    /// `customer_declined`. Imported history (`deadline_source: recorded`) closes as the legacy
    /// system closed it.
    fn check_loop(&self, c: &Close) -> Result<(), Rejection> {
        let s = self.state;
        let fail = |detail: String| {
            Err(Rejection::LoopNotClosed {
                complaint: self.complaint(),
                detail,
            })
        };
        if s.status != Status::Responded {
            if let Some(r) = c.without_revisit {
                let why = if s.status == Status::Revisited {
                    "the ticket was revisited"
                } else {
                    "the ticket has no final response"
                };
                return Err(self.invalid("without_revisit", format!("{} given but {why}; omit it", r.as_str())));
            }
            return Ok(());
        }
        let cl = &self.ctx.policy.closed_loop;
        let allowed: Vec<&str> = cl.close_without_revisit.iter().map(|r| r.as_str()).collect();
        let Some(reason) = c.without_revisit else {
            if s.deadline_source == DeadlineSource::Recorded {
                return Ok(());
            }
            return fail(if allowed.is_empty() {
                "no revisit since the final response; revisit the customer first (the policy lists no reason to close without one)".to_owned()
            } else {
                format!(
                    "no revisit since the final response; revisit the customer first, or give without_revisit = one of {} (policy closed_loop.close_without_revisit)",
                    allowed.join(", ")
                )
            });
        };
        if !cl.close_without_revisit.contains(&reason) {
            return fail(format!(
                "{} is not a reason the policy accepts for closing without a revisit (closed_loop.close_without_revisit: {})",
                reason.as_str(),
                if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }
            ));
        }
        if reason == CloseReason::CustomerUnreachable {
            let window_end = s.deadline(Clock::Revisit).map(|d| d.due_at);
            let within = s
                .revisit_attempts
                .iter()
                .filter(|t| window_end.is_none_or(|end| **t <= end))
                .count();
            let needed = cl.unreachable_attempts as usize;
            if within < needed {
                let window = match window_end {
                    Some(end) => format!(" within the revisit window (until {end})"),
                    None => String::new(),
                };
                return fail(format!(
                    "customer_unreachable needs {needed} failed revisit attempts recorded{window}, {within} recorded (policy closed_loop.unreachable_attempts; record each with record_revisit_attempt)"
                ));
            }
        }
        Ok(())
    }

    /// docs/domain.md §2: close after the final response (resolved), or a rejected/merged ticket.
    fn close(&self, c: &Close) -> Result<Closed, Rejection> {
        self.text("note", &c.note, TEXT_LEN_MAX)?;
        self.check_loop(c)?;
        self.check_nothing_outstanding()?;
        let resolution = match self.state.status {
            Status::Rejected => Resolution::Rejected,
            Status::Merged => Resolution::Merged,
            _ => Resolution::Resolved,
        };
        if resolution != Resolution::Resolved && c.liable == Some(true) {
            return Err(self.invalid(
                "liable",
                format!("a {} complaint cannot be found liable", self.state.status),
            ));
        }
        Ok(Closed {
            resolution,
            root_cause: c.root_cause.or(self.state.final_root_cause),
            liable: c.liable.or(self.state.final_liable).unwrap_or(false),
            note: c.note.clone(),
            without_revisit: c.without_revisit,
        })
    }
}

/// Normalises a waybill (tracking) number: drops spaces and dashes, upper-cases ASCII letters.
/// `Ok(None)` for an empty value; an error text for anything but ASCII letters and digits, or
/// more than [`WAYBILL_LEN_MAX`] characters.
///
/// ```
/// use plaint_domain::state::normalise_waybill;
/// assert_eq!(normalise_waybill(" ems 1234-5678 cn"), Ok(Some("EMS12345678CN".to_owned())));
/// assert_eq!(normalise_waybill("  "), Ok(None));
/// assert!(normalise_waybill("12#4").is_err());
/// ```
pub fn normalise_waybill(raw: &str) -> Result<Option<String>, String> {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_whitespace() || c == '-' {
            continue;
        }
        if !c.is_ascii_alphanumeric() {
            return Err(format!(
                "{raw:?} contains {c:?}; only letters, digits, spaces and dashes are allowed"
            ));
        }
        out.push(c.to_ascii_uppercase());
    }
    if out.len() > WAYBILL_LEN_MAX {
        return Err(format!(
            "{raw:?} has {} characters; at most {WAYBILL_LEN_MAX} are allowed",
            out.len()
        ));
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// Folds one event into the state. Events are facts: `evolve` never refuses one and never
/// panics on the events of one complaint; it trusts `decide` (or the import) to have checked
/// them. Folding another complaint's event is a caller bug (a debug assertion).
pub fn evolve(state: &mut ComplaintState, event: &Event) {
    let meta = &event.meta;
    if state.id.is_none() {
        state.id = Some(meta.complaint_id.clone());
    }
    debug_assert_eq!(
        state.id.as_ref(),
        Some(&meta.complaint_id),
        "event of another complaint"
    );
    state.version = meta.stream_version;
    // The events of one command are consecutive (a revisit that reopens yields two).
    if state.applied.last() != Some(&meta.command_id) {
        state.applied.push(meta.command_id.clone());
        state.applied_digests.push(meta.command_digest);
        let type_name = event.data.type_name();
        let type_index = crate::codec::CURRENT_VERSIONS
            .iter()
            .position(|(name, _)| *name == type_name)
            .map_or(u8::MAX, |i| i as u8);
        state.applied_first.push((meta.stream_version, type_index));
    }
    let at = meta.occurred_at;
    state.last_occurred_at = Some(at);
    if let Some(owner) = crate::closed_loop::owner_after(state.owner.is_some(), &meta.actor, &event.data) {
        state.owner = Some(owner);
    }
    // Status, hold, reopen count, escalation level, compensation total and recorded deadlines:
    // decided once, in `lifecycle`, the fold every projection uses too.
    let mut lifecycle = Lifecycle {
        status: state.status,
        resume_to: state.hold.map(|h| h.resume_to),
        escalation_level: state.escalation_level,
        reopen_count: state.reopen_count,
        compensated: state.compensated,
    };
    let step = lifecycle.apply(&event.data);
    state.status = lifecycle.status;
    state.escalation_level = lifecycle.escalation_level;
    state.reopen_count = lifecycle.reopen_count;
    state.compensated = lifecycle.compensated;
    if let Some(c) = step.compensation {
        state.granted.record(c);
    }
    match step.hold {
        HoldChange::None => {}
        HoldChange::Started { reason, resume_to } => {
            state.hold = Some(Hold {
                since: at,
                reason,
                resume_to,
            })
        }
        HoldChange::Resumed { .. } => {
            if let Some(h) = state.hold.take() {
                state.held_ms = state.held_ms.saturating_add(at.millis_since(h.since).max(0));
            }
        }
        HoldChange::EndedByClose => state.hold = None,
    }
    if step.deadlines_replace {
        state.deadlines.clear();
        state.deadlines.extend_from_slice(step.deadlines);
    } else {
        state.deadlines.extend_from_slice(step.deadlines);
    }
    match &event.data {
        EventData::Received(r) => {
            state.channel = Some(r.channel);
            state.received_at = Some(at);
            state.contact_at = Some(r.contact_at);
            state.customer_id.clone_from(&r.customer.customer_id);
            state.match_key.clone_from(&r.customer.match_key);
            state.waybill.clone_from(&r.waybill);
            state.description.clone_from(&r.description);
        }
        EventData::Verified(v) => {
            state.flags = state.flags.union(v.flags);
            if v.repeat_of.is_some() {
                state.repeat_of.clone_from(&v.repeat_of);
            }
            if v.duplicate_of.is_some() {
                state.duplicate_of.clone_from(&v.duplicate_of);
            }
        }
        EventData::Rejected(r) => {
            state.rejection = Some(r.reason);
        }
        EventData::MergedAsDuplicate(m) => {
            state.merged_into = Some(m.into.clone());
        }
        EventData::Classified(c) => {
            state.category = Some(c.category);
            state.severity = Some(c.severity);
            state.customer_tier = Some(c.customer_tier);
            state.flags = state.flags.union(c.flags);
            // A supervision opened before the classification keeps its planned escalation.
            state
                .escalations_planned
                .retain(|d| crate::policy::rule_outlives_classification(&d.rule_id));
            state.escalations_planned.extend(c.escalations.iter().cloned());
            state.policy_version = Some(c.policy_version.clone());
            state.deadline_source = c.deadline_source;
            if c.repeat_of.is_some() {
                state.repeat_of.clone_from(&c.repeat_of);
            }
            state.calendar_uncovered |= !c.calendar_covered;
        }
        EventData::Dispatched(d) => {
            state.department = Some(d.department.clone());
            state.handler.clone_from(&d.handler);
            state.routing = Some(d.routing.clone());
            state.calendar_uncovered |= !d.calendar_covered;
        }
        EventData::Redispatched(r) => {
            state.department = Some(r.to.clone());
            state.handler.clone_from(&r.handler);
            state.routing = Some(r.routing.clone());
            state.redispatch_count = state.redispatch_count.saturating_add(1);
        }
        EventData::OnHold(_) | EventData::Resumed(_) | EventData::Compensated(_) => {}
        EventData::Responded(r) => {
            if state.first_response_at.is_none() {
                state.first_response_at = Some(at);
            }
            state.calendar_uncovered |= !r.calendar_covered;
            if step.final_response {
                state.revisit_attempts.clear();
                state.final_response_at = Some(at);
                state.final_liable = r.liable;
                state.final_root_cause = r.root_cause;
            }
        }
        EventData::Escalated(e) => {
            state.escalation_count = state.escalation_count.saturating_add(1);
            if let EscalationTrigger::Watchdog { rule_id, .. } = &e.trigger {
                if !state.escalations_applied.iter().any(|r| r == rule_id) {
                    state.escalations_applied.push(rule_id.clone());
                }
            }
        }
        EventData::Revisited(r) => {
            state.last_revisit = Some(RevisitOutcome::from(r));
            state.revisits.record(r);
        }
        EventData::Reopened(_) => {
            state.final_response_at = None;
            state.final_liable = None;
            state.final_root_cause = None;
        }
        EventData::Closed(c) => {
            state.resolution = Some(c.resolution);
            state.closed_at = Some(at);
            state.closed_without_revisit = c.without_revisit;
        }
        // Not about a complaint (recorded in the erasure stream): changes no state.
        EventData::CustomerErased(_) => {}
        EventData::RevisitAttempted(_) => state.revisit_attempts.push(at),
        EventData::OwnershipTransferred(_) => {
            state.ownership_transfers = state.ownership_transfers.saturating_add(1);
        }
        EventData::SupervisionOpened(o) => {
            state.supervisions.push(SupervisionRecord::of(at, &meta.actor, o));
            state.escalations_planned.push(EscalationDue {
                rule_id: o.rule_id(),
                level: o.escalate_to,
                due_at: o.deadline.due_at,
            });
        }
        EventData::SeverityOverridden(o) => state.severity_overridden = Some(o.suggested),
        // Issue 17: folded by `casework`.
        EventData::CompensationProposed(p) => {
            state.granted.record(&p.compensation);
            state.casework.fold(&event.data);
        }
        EventData::CompensationRefused(r) => {
            if let Some(c) = state.casework.case(&r.compensation_id) {
                // The reservation is released (docs/domain.md R-COMP-8).
                state.granted.add(c.remedy, Money(-r.amount.0));
            }
            state.casework.fold(&event.data);
        }
        EventData::CompensationApproved(_)
        | EventData::CompensationPaid(_)
        | EventData::IncidentOpened(_)
        | EventData::IncidentLinked(_)
        | EventData::IncidentProgressReported(_)
        | EventData::ImprovementRecorded(_) => {
            state.casework.fold(&event.data);
            // R-COMP-9, R-INC-4: an unpaid payment or a missed report escalates.
            if let Some(rung) = state.casework.planned_escalation(&event.data) {
                state.escalations_planned.push(rung);
            }
        }
        EventData::DisputeEscalated(d) => state.disputes.push(d.kind),
        // Access control (tokens, reveals; their own streams): changes no complaint state.
        EventData::TokenIssued(_) | EventData::TokenRevoked(_) | EventData::PersonalDataRevealed(_) => {}
    }
}

/// The escalation level above `level` (the top stays the top).
fn next_level(level: EscalationLevel) -> EscalationLevel {
    match level {
        EscalationLevel::Supervisor => EscalationLevel::DepartmentHead,
        EscalationLevel::DepartmentHead => EscalationLevel::CenterDirector,
        EscalationLevel::CenterDirector | EscalationLevel::ExternalMediation => EscalationLevel::ExternalMediation,
    }
}
