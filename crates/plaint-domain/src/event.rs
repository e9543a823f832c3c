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
    /// 回访: an attempt to reach the customer for the revisit failed (issue 17, the closed loop).
    RevisitAttempted(RevisitAttempted),
    /// 首问负责制: the ticket's ownership passed to another person (issue 17).
    OwnershipTransferred(OwnershipTransferred),
    /// 督办: a supervisor put the ticket under supervision with a deadline (issue 17).
    SupervisionOpened(SupervisionOpened),
    /// The ticket was classified below the tier the policy's severity rules suggest, with the
    /// recorded reason (issue 17). Follows the `Classified` of the same command.
    SeverityOverridden(SeverityOverridden),
    // Issue 17 (docs/domain.md R-COMP-5 … R-COMP-8, R-INC, R-IMP): appended at the end.
    CompensationProposed(CompensationProposed),
    CompensationApproved(CompensationApproved),
    CompensationPaid(CompensationPaid),
    CompensationRefused(CompensationRefused),
    IncidentOpened(IncidentOpened),
    IncidentLinked(IncidentLinked),
    IncidentProgressReported(IncidentProgressReported),
    ImprovementRecorded(ImprovementRecorded),
    /// An API token was issued (stream [`crate::access::TOKEN_STREAM`]); no complaint figure
    /// counts it.
    TokenIssued(crate::access::TokenIssued),
    /// An API token was revoked (stream [`crate::access::TOKEN_STREAM`]).
    TokenRevoked(crate::access::TokenRevoked),
    /// A complaint's personal fields were shown in clear (stream
    /// [`crate::access::REVEAL_STREAM`]): who saw whose data, when, why.
    PersonalDataRevealed(crate::access::PersonalDataRevealed),
    /// The dispute went beyond the complaint: litigation, media exposure or a regulator
    /// (纠纷升级, seeds/002; docs/domain.md R-DSP-1). Appended at the end.
    DisputeEscalated(DisputeEscalated),
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
            EventData::RevisitAttempted(_) => "RevisitAttempted",
            EventData::OwnershipTransferred(_) => "OwnershipTransferred",
            EventData::SupervisionOpened(_) => "SupervisionOpened",
            EventData::SeverityOverridden(_) => "SeverityOverridden",
            EventData::CompensationProposed(_) => "CompensationProposed",
            EventData::CompensationApproved(_) => "CompensationApproved",
            EventData::CompensationPaid(_) => "CompensationPaid",
            EventData::CompensationRefused(_) => "CompensationRefused",
            EventData::IncidentOpened(_) => "IncidentOpened",
            EventData::IncidentLinked(_) => "IncidentLinked",
            EventData::IncidentProgressReported(_) => "IncidentProgressReported",
            EventData::ImprovementRecorded(_) => "ImprovementRecorded",
            EventData::TokenIssued(_) => "TokenIssued",
            EventData::TokenRevoked(_) => "TokenRevoked",
            EventData::PersonalDataRevealed(_) => "PersonalDataRevealed",
            EventData::DisputeEscalated(_) => "DisputeEscalated",
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
    /// 督办: a supervision's deadline; the ticket must be closed by then (issue 17).
    Supervision,
    /// An approved compensation is paid by its stated deadline (docs/domain.md R-COMP-7).
    Payment,
    /// A major-incident group reports progress daily (docs/domain.md R-INC-2).
    IncidentReport,
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
            Clock::Supervision => "supervision",
            Clock::Payment => "payment",
            Clock::IncidentReport => "incident_report",
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
    /// Closed after a final response without a revisit since it, for this reason from the
    /// policy's list (`closed_loop.close_without_revisit`, docs/domain.md R-LOOP-1). `None`: a
    /// revisit was made (or no final response was given: rejected, merged, withdrawn). Schema
    /// v2; v1 payloads read as `None`.
    #[serde(default)]
    pub without_revisit: Option<CloseReason>,
}

/// Why a ticket was closed without a revisit (002: 回访 is one of the five steps; the policy
/// lists the reasons that may stand in for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The customer could not be reached after the policy's number of recorded attempts
    /// (`RevisitAttempted`) within the revisit window.
    CustomerUnreachable,
    /// The customer declined the revisit.
    CustomerDeclined,
}

impl CloseReason {
    pub const ALL: [CloseReason; 2] = [CloseReason::CustomerUnreachable, CloseReason::CustomerDeclined];
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::CustomerUnreachable => "customer_unreachable",
            CloseReason::CustomerDeclined => "customer_declined",
        }
    }
}

/// A failed attempt to reach the customer for the revisit (docs/domain.md R-LOOP-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisitAttempted {
    /// Attempts since the standing final response, this one included.
    pub attempt: u32,
    /// How it was tried (phone, SMS, …) and what happened.
    pub note: String,
}

/// 首问负责制: ownership of the ticket passed from `from` to `to` (docs/domain.md R-OWN-2). The
/// first owner is the first person who acted on the ticket (R-OWN-1); no event records that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipTransferred {
    /// The owner before (`None`: no person had acted on the ticket yet).
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
}

/// 督办: a supervision opened on a ticket (docs/domain.md R-SUP). Its deadline is a clock
/// (`supervision`, satisfied by the ticket's closing); the watchdog escalates to `escalate_to`
/// when it passes unmet (rule id `supervision.<number>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionOpened {
    /// 1 for the ticket's first supervision, counting up.
    pub number: u32,
    /// The clock `supervision` with its due time (never paused).
    pub deadline: ClockDeadline,
    /// The level the watchdog escalates to when the deadline passes (policy
    /// `supervision.overdue_level`, recorded).
    pub escalate_to: EscalationLevel,
    pub note: String,
    pub policy_version: String,
}

impl SupervisionOpened {
    /// The watchdog rule id of this supervision's overdue escalation.
    pub fn rule_id(&self) -> String {
        format!("{}{}", crate::policy::RULE_SUPERVISION_PREFIX, self.number)
    }
}

/// The ticket was classified below the tier the policy's severity rules suggest; the reason is
/// recorded (docs/domain.md R-SEV-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityOverridden {
    pub suggested: Severity,
    pub classified: Severity,
    /// The ids of the policy's severity rules that suggested `suggested`.
    pub rules: Vec<String>,
    pub reason: String,
    pub policy_version: String,
}

// ---------------------------------------------------------------------------------------------
// Issue 17: compensation lifecycle, major incidents, improvement actions (docs/domain.md
// R-COMP-5 … R-COMP-8, R-INC-1 … R-INC-3, R-IMP-1)
// ---------------------------------------------------------------------------------------------

/// Who may approve a compensation (docs/domain.md R-COMP-6): the policy names the least role
/// for each amount band; a higher role may always approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApproverRole {
    Supervisor,
    DepartmentHead,
    CenterDirector,
}

impl ApproverRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ApproverRole::Supervisor => "supervisor",
            ApproverRole::DepartmentHead => "department_head",
            ApproverRole::CenterDirector => "center_director",
        }
    }
}

/// A compensation was proposed (R-COMP-5): the ceiling computed as for a grant, the amount
/// reserved against the per-ticket ceiling until it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationProposed {
    /// The proposal's id within the ticket (given by the command, unique per ticket).
    pub compensation_id: String,
    /// Remedy, rule, basis, ceiling and the amount proposed (`granted`).
    pub compensation: Compensation,
    pub note: String,
}

/// A proposed compensation was approved (R-COMP-6) and the payment deadline stated (R-COMP-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationApproved {
    pub compensation_id: String,
    /// The role the approver acted in.
    pub role: ApproverRole,
    /// The least role the policy requires for this amount.
    pub required_role: ApproverRole,
    pub amount: Money,
    /// When the payment is due (the `payment` clock, recorded with the policy version).
    pub payment_due_at: Timestamp,
    /// The deadline the `payment` clock runs to now: the earliest due time of every approved,
    /// unpaid compensation of the ticket (this one included).
    pub deadlines: Vec<ClockDeadline>,
    /// What the customer is told (seeds/001: 明确赔偿标准和支付时限): the standard, the amount
    /// and the payment deadline in the office's time zone.
    pub customer_notice: String,
    pub policy_version: String,
    /// The level the watchdog escalates to when this compensation is still unpaid past
    /// `payment_due_at` (policy `compensation_lifecycle.overdue_level`, recorded; rule id
    /// `payment.<compensation_id>`). `None` in events written before schema v2 (no escalation).
    #[serde(default)]
    pub overdue_level: Option<EscalationLevel>,
}

/// An approved compensation was paid (R-COMP-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationPaid {
    pub compensation_id: String,
    pub amount: Money,
    /// The payment's reference in the finance system.
    pub reference: String,
    /// The deadline this payment had, and how late it came (0: on time).
    pub due_at: Timestamp,
    pub late_ms: i64,
    /// Every approved compensation of the ticket is paid now.
    pub settled: bool,
    /// When others remain unpaid: the `payment` clock's new deadline (their earliest).
    pub deadlines: Vec<ClockDeadline>,
}

/// A proposed compensation was refused, with the reason (R-COMP-8); its reservation against
/// the ceiling is released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationRefused {
    pub compensation_id: String,
    pub amount: Money,
    pub reason: String,
}

/// A named member of a major-incident group, with the role the policy lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IncidentMember {
    pub name: String,
    pub role: String,
}

/// 专项小组: a major-incident group was formed on this (lead) ticket (R-INC-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentOpened {
    /// The incident's id, which the other tickets of the incident link to.
    pub incident_id: String,
    pub title: String,
    /// The one cause behind the incident's complaints.
    pub cause: String,
    pub members: Vec<IncidentMember>,
    /// The first daily progress report (the `incident_report` clock).
    pub deadlines: Vec<ClockDeadline>,
    pub policy_version: String,
    /// The level the watchdog escalates to when a daily report is missed (policy
    /// `incident.overdue_level`, recorded; rule id `incident_report.<incident_id>.<n>`, the n-th
    /// deadline, 0 the one recorded here). `None` in events written before schema v2.
    #[serde(default)]
    pub overdue_level: Option<EscalationLevel>,
}

/// This ticket is one of the complaints of an incident (several complaints, one cause: R-INC-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentLinked {
    pub incident_id: String,
    /// The ticket that holds the incident group.
    pub lead: crate::ids::ComplaintId,
    pub note: String,
}

/// The incident group's daily progress report (R-INC-2; seeds/000 每日向客户通报进展).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentProgressReported {
    pub incident_id: String,
    pub text: String,
    /// The report this one fulfils was due then; `late_ms` after it (0: on time).
    pub due_at: Timestamp,
    pub late_ms: i64,
    /// Daily reports missed entirely before this one.
    pub missed: u32,
    /// The next report's deadline.
    pub deadlines: Vec<ClockDeadline>,
}

/// 改进: an improvement action recorded against a ticket's root cause (R-IMP-1; seeds/002 the
/// fifth step of the closed loop, and 问题改进贡献率).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImprovementRecorded {
    /// The action's id (unique per ticket).
    pub action_id: String,
    /// The ticket's category the action addresses.
    pub category: Category,
    pub root_cause: Option<Stage>,
    /// The department that carries it out.
    pub department: Department,
    pub action: String,
}

/// How a complaint's dispute went beyond the complaint (纠纷升级, seeds/002: 从投诉升级为诉讼、
/// 舆情的比例; seeds/002 市场监管部门的介入).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeKind {
    /// The customer went to court (诉讼).
    Litigation,
    /// The complaint became a media or public-opinion matter (舆情, 媒体曝光).
    Media,
    /// The customer appealed to the regulator (监管部门申诉).
    Regulator,
}

impl DisputeKind {
    pub const ALL: [DisputeKind; 3] = [DisputeKind::Litigation, DisputeKind::Media, DisputeKind::Regulator];

    pub fn as_str(self) -> &'static str {
        match self {
            DisputeKind::Litigation => "litigation",
            DisputeKind::Media => "media",
            DisputeKind::Regulator => "regulator",
        }
    }
}

/// The dispute of a complaint escalated beyond it (docs/domain.md R-DSP-1): counted in the
/// assessment's dispute-escalation rate (纠纷升级率) and the monthly analysis's high-risk figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeEscalated {
    pub kind: DisputeKind,
    /// Where and how (court and case number, outlet, regulator's reference).
    pub note: String,
}
