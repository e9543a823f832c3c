//! The event catalogue (docs/domain.md §2–§6). Every action on a complaint is one of these, immutable.
//!
//! An [`Event`] is metadata ([`EventMeta`]) plus data ([`EventData`]). In the log, the metadata
//! travels in the store's envelope and the data as a postcard payload of the variant's struct,
//! tagged by its stable [`EventData::type_name`] and schema version (see `codec`).
//!
//! Stable names: the `type_name` of every variant and the names of enum values below (snake_case
//! in JSON) are part of the on-disk and JSON contract. Never rename one; add a new version.

use crate::ids::{Actor, CommandId, ComplaintId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Metadata every event carries (docs/domain.md §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    pub complaint_id: ComplaintId,
    /// 1 for the first event of a complaint, contiguous after that.
    pub stream_version: u64,
    /// Global position in the log. Committed positions start at 1; `0` means "not committed
    /// yet" (an event just produced by `decide`).
    pub position: u64,
    /// Business time: when it happened (may be in the past for imported history).
    pub occurred_at: Timestamp,
    /// When it was recorded by plaint.
    pub recorded_at: Timestamp,
    pub actor: Actor,
    pub command_id: CommandId,
    /// Schema version of the data's type at the time it was written.
    pub schema_version: u16,
    /// The digest of the command that caused the event (issue 11: a command id reused with
    /// another body is refused). Set on the first event of each command by `decide`; `None` on
    /// the command's later events and on events written before digests were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_digest: Option<crate::command::CommandDigest>,
}

/// One immutable fact about one complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub meta: EventMeta,
    pub data: EventData,
}

/// What happened. One variant per event type of docs/domain.md §2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventData {
    Received(Received),
    Verified(Verified),
    Rejected(Rejected),
    MergedAsDuplicate(MergedAsDuplicate),
    Classified(Classified),
    Dispatched(Dispatched),
    Redispatched(Redispatched),
    OnHold(OnHold),
    Resumed(Resumed),
    Responded(Responded),
    Compensated(Compensated),
    Escalated(Escalated),
    Revisited(Revisited),
    Reopened(Reopened),
    Closed(Closed),
    /// A customer's personal data was erased (their keys destroyed). Not about one complaint:
    /// recorded in the stream [`ERASURE_STREAM`]; every complaint state and figure ignores it.
    CustomerErased(CustomerErased),
    /// An API token was issued (stream [`crate::access::TOKEN_STREAM`]); no complaint figure
    /// counts it.
    TokenIssued(crate::access::TokenIssued),
    /// An API token was revoked (stream [`crate::access::TOKEN_STREAM`]).
    TokenRevoked(crate::access::TokenRevoked),
    /// A complaint's personal fields were shown in clear (stream
    /// [`crate::access::REVEAL_STREAM`]): who saw whose data, when, why.
    PersonalDataRevealed(crate::access::PersonalDataRevealed),
}

impl EventData {
    /// The stable name of the event type, as stored in the log envelope.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventData::Received(_) => "Received",
            EventData::Verified(_) => "Verified",
            EventData::Rejected(_) => "Rejected",
            EventData::MergedAsDuplicate(_) => "MergedAsDuplicate",
            EventData::Classified(_) => "Classified",
            EventData::Dispatched(_) => "Dispatched",
            EventData::Redispatched(_) => "Redispatched",
            EventData::OnHold(_) => "OnHold",
            EventData::Resumed(_) => "Resumed",
            EventData::Responded(_) => "Responded",
            EventData::Compensated(_) => "Compensated",
            EventData::Escalated(_) => "Escalated",
            EventData::Revisited(_) => "Revisited",
            EventData::Reopened(_) => "Reopened",
            EventData::Closed(_) => "Closed",
            EventData::CustomerErased(_) => "CustomerErased",
            EventData::TokenIssued(_) => "TokenIssued",
            EventData::TokenRevoked(_) => "TokenRevoked",
            EventData::PersonalDataRevealed(_) => "PersonalDataRevealed",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Value types (docs/domain.md §3–§6)
// ---------------------------------------------------------------------------------------------

/// How the complaint reached us (docs/domain.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Hotline,
    Counter,
    SuggestionBox,
    MiniProgram,
    Wechat,
    Website,
    Email,
    Letter,
    VoiceMessage,
    SocialMedia,
    RegulatorReferral,
    MediaLead,
}

impl Channel {
    pub const ALL: [Channel; 12] = [
        Channel::Hotline,
        Channel::Counter,
        Channel::SuggestionBox,
        Channel::MiniProgram,
        Channel::Wechat,
        Channel::Website,
        Channel::Email,
        Channel::Letter,
        Channel::VoiceMessage,
        Channel::SocialMedia,
        Channel::RegulatorReferral,
        Channel::MediaLead,
    ];
    /// The snake_case name used in JSON, TOML and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Hotline => "hotline",
            Channel::Counter => "counter",
            Channel::SuggestionBox => "suggestion_box",
            Channel::MiniProgram => "mini_program",
            Channel::Wechat => "wechat",
            Channel::Website => "website",
            Channel::Email => "email",
            Channel::Letter => "letter",
            Channel::VoiceMessage => "voice_message",
            Channel::SocialMedia => "social_media",
            Channel::RegulatorReferral => "regulator_referral",
            Channel::MediaLead => "media_lead",
        }
    }
}

/// Complaint category (docs/domain.md §4), grouped item / service / tariff / other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    // item
    Delay,
    Loss,
    Damage,
    // service
    Delivery,
    StaffAttitude,
    Outlet,
    Information,
    Privacy,
    // tariff
    Fees,
    InsuredValue,
    Other,
}

impl Category {
    pub const ALL: [Category; 11] = [
        Category::Delay,
        Category::Loss,
        Category::Damage,
        Category::Delivery,
        Category::StaffAttitude,
        Category::Outlet,
        Category::Information,
        Category::Privacy,
        Category::Fees,
        Category::InsuredValue,
        Category::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Delay => "delay",
            Category::Loss => "loss",
            Category::Damage => "damage",
            Category::Delivery => "delivery",
            Category::StaffAttitude => "staff_attitude",
            Category::Outlet => "outlet",
            Category::Information => "information",
            Category::Privacy => "privacy",
            Category::Fees => "fees",
            Category::InsuredValue => "insured_value",
            Category::Other => "other",
        }
    }
    /// The document's grouping: `item`, `service`, `tariff` or `other`.
    pub fn group(self) -> &'static str {
        match self {
            Category::Delay | Category::Loss | Category::Damage => "item",
            Category::Delivery
            | Category::StaffAttitude
            | Category::Outlet
            | Category::Information
            | Category::Privacy => "service",
            Category::Fees | Category::InsuredValue => "tariff",
            Category::Other => "other",
        }
    }
}

/// Severity tier, 分级响应 (docs/domain.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Ordinary,
    Urgent,
    Major,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Ordinary, Severity::Urgent, Severity::Major];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ordinary => "ordinary",
            Severity::Urgent => "urgent",
            Severity::Major => "major",
        }
    }
}

/// Customer tier, 按客户价值分级 (docs/domain.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerTier {
    Vip,
    Standard,
    AtRisk,
}

impl CustomerTier {
    pub const ALL: [CustomerTier; 3] = [CustomerTier::Vip, CustomerTier::Standard, CustomerTier::AtRisk];
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerTier::Vip => "vip",
            CustomerTier::Standard => "standard",
            CustomerTier::AtRisk => "at_risk",
        }
    }
}

/// Flags raised on a ticket (docs/domain.md §4). `repeat` or `media` opens the green channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Flags {
    pub repeat: bool,
    pub media: bool,
    pub group: bool,
    pub regulator: bool,
}

impl Flags {
    /// The green channel (绿色通道) is open for repeat and media-exposed complaints.
    pub fn green_channel(&self) -> bool {
        self.repeat || self.media
    }
    /// Union of two flag sets.
    pub fn union(self, other: Flags) -> Flags {
        Flags {
            repeat: self.repeat || other.repeat,
            media: self.media || other.media,
            group: self.group || other.group,
            regulator: self.regulator || other.regulator,
        }
    }
}

/// A department name (docs/domain.md §5). Departments are configured in the policy; the defaults are
/// `sorting`, `transport`, `hub`, `outlet`, `delivery`, `operations`, `legal`, `pr`, `finance`,
/// `customer_service`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Department(pub String);

/// The stage of the postal chain a root cause lies in (docs/domain.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Collection,
    Sorting,
    Transport,
    Hub,
    Delivery,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Collection,
        Stage::Sorting,
        Stage::Transport,
        Stage::Hub,
        Stage::Delivery,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Collection => "collection",
            Stage::Sorting => "sorting",
            Stage::Transport => "transport",
            Stage::Hub => "hub",
            Stage::Delivery => "delivery",
        }
    }
}

/// Money in fen (分, 1/100 yuan). Integer arithmetic only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);
    pub fn fen(self) -> i64 {
        self.0
    }
}

/// A reference to a piece of evidence held elsewhere (photo store, document system).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub kind: EvidenceKind,
    /// Opaque reference understood by the evidence store (URI, file id).
    pub reference: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    WaybillPhoto,
    DamagePhoto,
    Receipt,
    Recording,
    Other,
}

/// Personal fields of a customer after sealing (docs/domain.md §9): encrypted under the customer's
/// own key, so destroying that key erases them while every event still replays.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SealedPersonal {
    /// Which customer key sealed it (the key store looks the key up by this id).
    pub key_id: String,
    pub nonce: [u8; 12],
    /// ChaCha20-Poly1305 ciphertext of the postcard-encoded `PersonalData`.
    pub ciphertext: Vec<u8>,
}

/// Personal information in clear: exists only in commands and in authorised reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct PersonalData {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// The customer as recorded in the log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CustomerRecord {
    /// The back office's own customer id, if known (not personal information by itself).
    pub customer_id: Option<String>,
    /// Pseudonymous matching key: a hash of the normalised phone number (or of the customer id
    /// when there is no phone). Survives erasure, so repeat figures never change after it.
    pub match_key: Option<String>,
    pub personal: Option<SealedPersonal>,
}

// ---------------------------------------------------------------------------------------------
// Deadlines (docs/domain.md §7 audit rule: computed when classified, recorded in the event)
// ---------------------------------------------------------------------------------------------

/// The SLA clocks of docs/domain.md §7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Registration within N working days of contact (counter: within 1 hour).
    Registration,
    /// First response (acknowledgement).
    FirstResponse,
    /// Final resolution (the final response).
    Resolution,
    /// Major tickets: preliminary plan.
    PreliminaryPlan,
    /// Major tickets: a progress update every N hours until closed.
    ProgressUpdate,
    /// Investigation started after dispatch.
    Investigation,
    /// Preliminary solution after dispatch.
    PreliminarySolution,
    /// Green channel: supervisor intervention.
    GreenChannel,
    /// Revisit after the final response.
    Revisit,
    /// Express Delivery Interim Regulations art. 28: result to the customer within 7 days.
    RegulatoryResult,
    /// Regulator referral: the company replies within 15 days.
    RegulatorReply,
}

impl Clock {
    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Registration => "registration",
            Clock::FirstResponse => "first_response",
            Clock::Resolution => "resolution",
            Clock::PreliminaryPlan => "preliminary_plan",
            Clock::ProgressUpdate => "progress_update",
            Clock::Investigation => "investigation",
            Clock::PreliminarySolution => "preliminary_solution",
            Clock::GreenChannel => "green_channel",
            Clock::Revisit => "revisit",
            Clock::RegulatoryResult => "regulatory_result",
            Clock::RegulatorReply => "regulator_reply",
        }
    }
}

/// One clock's deadline as computed at the time (with the policy version in the event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClockDeadline {
    pub clock: Clock,
    pub due_at: Timestamp,
    /// Whether time on hold extends this deadline (docs/domain.md §7: resolution pauses, first
    /// response never does).
    pub pausable: bool,
}

/// Where a ticket's deadlines come from (docs/domain.md §7 audit rule; issue 8: nothing is guessed
/// silently for imported history).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineSource {
    /// The engine's policy computes the deadlines at classification, dispatch and final response,
    /// and plans the watchdog escalations (a live ticket).
    #[default]
    Policy,
    /// Imported history: exactly the deadlines the legacy system recorded (possibly none); no
    /// watchdog escalations, and dispatch and the final response add no policy deadlines.
    Recorded,
}

/// Escalation levels (docs/domain.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationLevel {
    Supervisor,
    DepartmentHead,
    CenterDirector,
    ExternalMediation,
}

impl EscalationLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationLevel::Supervisor => "supervisor",
            EscalationLevel::DepartmentHead => "department_head",
            EscalationLevel::CenterDirector => "center_director",
            EscalationLevel::ExternalMediation => "external_mediation",
        }
    }
}

/// A planned watchdog escalation, recorded when the ticket is classified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EscalationDue {
    /// Stable id of the ladder rung or breach rule, e.g. `ladder.supervisor`, `breach.resolution`,
    /// `green_channel`. The watchdog appends each id at most once per ticket.
    pub rule_id: String,
    pub level: EscalationLevel,
    pub due_at: Timestamp,
}

// ---------------------------------------------------------------------------------------------
// Event data, one struct per event type
// ---------------------------------------------------------------------------------------------

/// 受理: the complaint was received and registered (docs/domain.md §3). `meta.occurred_at` is the
/// registration time; `contact_at` is when the customer reached out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub channel: Channel,
    pub contact_at: Timestamp,
    pub customer: CustomerRecord,
    /// Normalised waybill (tracking) number.
    pub waybill: Option<String>,
    /// Free text, usually Chinese, often long.
    pub description: String,
    pub claimed_amount: Option<Money>,
    pub evidence: Vec<EvidenceRef>,
    pub region: String,
    pub outlet: Option<String>,
    /// Extra attributes carried from a legacy system or an intake form (e.g. an imported
    /// `timely_response` verdict); reports can group by them.
    pub attributes: BTreeMap<String, String>,
}

/// The outcome of one of the three checks (三核).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed,
    NotApplicable,
}

/// 三核: claim, evidence, history checked (docs/domain.md §1, 000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    pub claim: CheckOutcome,
    pub evidence: CheckOutcome,
    pub history: CheckOutcome,
    /// Set when the history check found an earlier complaint this one repeats (docs/domain.md §8).
    pub repeat_of: Option<ComplaintId>,
    /// Set when the history check found an earlier ticket of the same customer about the same
    /// waybill still open: this one duplicates it and may be merged into it (docs/domain.md §2, §8;
    /// schema v2, a v1 payload reads as `None`).
    #[serde(default)]
    pub duplicate_of: Option<ComplaintId>,
    pub flags: Flags,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    NoClaim,
    NoRelationship,
    Abusive,
    Other,
}

/// Verification found the complaint invalid; it still closes with a recorded reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub reason: RejectionReason,
    pub note: String,
}

/// Verification found an open complaint about the same thing from the same customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedAsDuplicate {
    /// The surviving ticket.
    pub into: ComplaintId,
    pub note: String,
}

/// 分类: category, severity tier, customer tier, flags, and the deadlines that now apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classified {
    pub category: Category,
    pub severity: Severity,
    pub customer_tier: CustomerTier,
    pub flags: Flags,
    /// The deadlines of every clock that runs from receipt, computed from the policy and the
    /// business calendar at classification (docs/domain.md §7 audit rule).
    pub deadlines: Vec<ClockDeadline>,
    /// The watchdog escalations planned for this ticket.
    pub escalations: Vec<EscalationDue>,
    /// The policy version the deadlines were computed with.
    pub policy_version: String,
    /// Whether `deadlines` were computed from the policy or are the legacy system's recorded
    /// ones (schema v2; a v1 payload reads as `policy`).
    #[serde(default)]
    pub deadline_source: DeadlineSource,
    /// Set when, once the category was known, the repeat rule found an earlier complaint this
    /// one repeats and verification had recorded none (docs/domain.md R-REP; schema v3, older payloads
    /// read as `None`). The `repeat` flag in `flags` is raised with it.
    #[serde(default)]
    pub repeat_of: Option<ComplaintId>,
    /// `false` when the working-time arithmetic of `deadlines` or `escalations` needed a year
    /// without calendar data and the policy (`calendar.uncovered_year = "weekends_only"`) let it
    /// count weekends only (issue 11). Schema v3; older payloads read as `true`.
    #[serde(default = "covered")]
    pub calendar_covered: bool,
}

/// The value of `calendar_covered` for data written before the field existed.
fn covered() -> bool {
    true
}

/// Why a ticket went where it went (docs/domain.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum RoutingDecision {
    /// A rule of the policy's routing table matched.
    Rule {
        rule_id: String,
        /// The keyword or category that matched.
        matched: String,
    },
    /// A person chose the department.
    Manual,
    /// No rule matched; the policy's fallback department was used.
    Fallback,
}

/// 派单: routed to the responsible department and handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatched {
    pub department: Department,
    pub handler: Option<String>,
    pub routing: RoutingDecision,
    /// Clocks that run from dispatch (investigation, preliminary solution).
    pub deadlines: Vec<ClockDeadline>,
    pub policy_version: String,
    /// `false` when `deadlines` were computed weekends-only in a year without calendar data
    /// (see [`Classified::calendar_covered`]). Schema v2; v1 payloads read as `true`.
    #[serde(default = "covered")]
    pub calendar_covered: bool,
}

/// Transfer to another department; who held it before is kept in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redispatched {
    pub from: Department,
    pub to: Department,
    pub handler: Option<String>,
    pub routing: RoutingDecision,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    AwaitingEvidence,
    CustomerUnreachable,
    Other,
}

/// Waiting for the customer: the resolution clock pauses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnHold {
    pub reason: HoldReason,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resumed {
    pub note: String,
}

/// Kinds of response (docs/domain.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseKind {
    Acknowledgement,
    Progress,
    PreliminaryPlan,
    Final,
}

impl ResponseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseKind::Acknowledgement => "acknowledgement",
            ResponseKind::Progress => "progress",
            ResponseKind::PreliminaryPlan => "preliminary_plan",
            ResponseKind::Final => "final",
        }
    }
}

/// 反馈 / 答复.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responded {
    pub kind: ResponseKind,
    pub text: String,
    /// Final responses: the basis of the decision (rule, law, finding).
    pub basis: Option<String>,
    /// Final responses: was the company found liable (有效投诉, docs/domain.md §8)?
    pub liable: Option<bool>,
    /// Final responses: the stage the root cause lies in, when known.
    pub root_cause: Option<Stage>,
    /// Compensation riding on the final response (docs/domain.md §6).
    pub compensation: Option<Compensation>,
    /// Clocks that start now (final: the revisit).
    pub deadlines: Vec<ClockDeadline>,
    /// `false` when `deadlines` were computed weekends-only in a year without calendar data
    /// (see [`Classified::calendar_covered`]). Schema v2; v1 payloads read as `true`.
    #[serde(default = "covered")]
    pub calendar_covered: bool,
}

/// Remedies (docs/domain.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    Payment,
    Reshipment,
    PostageRefund,
    PostageWaiver,
    Coupon,
    ExtendedService,
}

/// Which compensation rule produced the ceiling (docs/domain.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompensationRule {
    /// Insured item lost or destroyed: the insured amount.
    InsuredTotalLoss,
    /// Insured item partly damaged or short: actual loss × insured ÷ full value.
    InsuredPartialLoss,
    /// Uninsured item: actual loss capped at N × postage.
    UninsuredCapped,
    /// Registered letter: fixed N × postage.
    RegisteredLetter,
    /// Intent or gross negligence: the cap does not apply; actual loss.
    GrossNegligence,
    /// A non-monetary remedy, no ceiling.
    NonMonetary,
}

/// A compensation decision with its audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Compensation {
    pub remedy: Remedy,
    pub rule: CompensationRule,
    /// The legal or policy basis, e.g. "Postal Law art. 47".
    pub legal_basis: String,
    /// The computed ceiling, when the rule has one.
    pub ceiling: Option<Money>,
    /// The amount granted (never above the ceiling).
    pub granted: Money,
    /// The inputs the ceiling was computed from, for audit.
    pub actual_loss: Option<Money>,
    pub postage: Option<Money>,
    pub insured_amount: Option<Money>,
    pub full_value: Option<Money>,
    pub policy_version: String,
}

/// Compensation granted on its own (not riding on the final response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compensated {
    pub compensation: Compensation,
}

/// Who or what escalated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum EscalationTrigger {
    /// A person escalated by hand.
    Person,
    /// The SLA watchdog, because a planned escalation (see [`EscalationDue`]) fell due.
    Watchdog { rule_id: String, due_at: Timestamp },
}

/// 升级 / 督办.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalated {
    pub level: EscalationLevel,
    pub trigger: EscalationTrigger,
    pub reason: String,
}

/// 回访: the follow-up after the final response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revisited {
    pub solved: bool,
    pub satisfied: bool,
    /// 1 (very dissatisfied) … 5 (very satisfied), when asked.
    pub satisfaction_score: Option<u8>,
    pub note: String,
}

/// The revisit found the problem unsolved or the customer unsatisfied: back to handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reopened {
    pub reason: String,
    /// How many times this ticket has been reopened, this one included.
    pub reopen_count: u32,
}

/// How a ticket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Resolved,
    Rejected,
    Merged,
    Withdrawn,
}

/// The stream holding [`CustomerErased`] events (a valid complaint id no intake uses).
pub const ERASURE_STREAM: &str = "vault-erasures";

/// 个人信息删除 (PIPL art. 47): a customer's keys were destroyed, so their sealed personal
/// fields can never be read again. Who asked is the event's actor, when its times; the match
/// key is not recorded (the key ids name the owner already).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerErased {
    /// The keys destroyed, as recorded in the sealed personal fields of the customer's events.
    pub key_ids: Vec<String>,
    /// The legal basis of the erasure (e.g. `PIPL art. 47 request 2026-118`).
    pub legal_basis: String,
}

/// 结案 / 归档.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    pub resolution: Resolution,
    pub root_cause: Option<Stage>,
    /// 有效投诉: the company was found liable.
    pub liable: bool,
    pub note: String,
}
