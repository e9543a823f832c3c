//! Commands: what a person or a system asks plaint to do to a complaint. `decide` turns a command
//! into events or a typed rejection. The JSON form of [`Command`] is the import format
//! (`docs/import-format.md`): one command per line.

use crate::event::*;
use crate::ids::{Actor, CommandId, ComplaintId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A command addressed to one complaint. Read from JSON in one pass by a hand-written
/// `Deserialize` (`command_de.rs`) that accepts what the derived reading of this shape would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Command {
    /// Idempotency key: a command retried with the same id appends nothing.
    pub command_id: CommandId,
    pub complaint_id: ComplaintId,
    pub actor: Actor,
    /// Business time of the action; `None` means "now" (the context's `now`). Imported history
    /// sets it in the past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<Timestamp>,
    #[serde(flatten)]
    pub body: CommandBody,
}

/// Length of a [`CommandDigest`], in bytes.
pub const COMMAND_DIGEST_LEN: usize = 16;

/// What a command asks, reduced to 16 bytes (issue 11, command-id reuse): a retry with the same
/// command id must carry the same digest, like an idempotency key reused with another request.
/// BLAKE3 (truncated) of the postcard encoding of the actor, the business time and the body
/// (`Command::digest`); the command id and the complaint id are not part of it (they are the
/// key). Recorded with the first event of the command (`EventMeta::command_digest`). Written as
/// 32 lowercase hex digits in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandDigest(pub [u8; COMMAND_DIGEST_LEN]);

impl fmt::Display for CommandDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CommandDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommandDigest({self})")
    }
}

impl CommandDigest {
    /// Parses 32 hex digits.
    pub fn parse_hex(s: &str) -> Option<CommandDigest> {
        if s.len() != 2 * COMMAND_DIGEST_LEN || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; COMMAND_DIGEST_LEN];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(CommandDigest(out))
    }
}

impl Serialize for CommandDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CommandDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CommandDigest::parse_hex(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a command digest (32 hex digits)")))
    }
}

impl Command {
    /// The digest of what this command asks (see [`CommandDigest`]).
    ///
    /// ```
    /// use plaint_domain::*;
    /// let cmd: Command = serde_json::from_str(r#"{"command_id":"c-1","complaint_id":"CMP-1",
    ///     "actor":"cs-1","command":"reopen","reason":"客户不满意"}"#).unwrap();
    /// let mut other = cmd.clone();
    /// other.command_id = CommandId::new("c-2").unwrap();
    /// assert_eq!(cmd.digest(), other.digest()); // the id is the key, not part of the body
    /// other.body = CommandBody::Reopen(Reopen { reason: "另一个原因".into() });
    /// assert_ne!(cmd.digest(), other.digest());
    /// ```
    pub fn digest(&self) -> CommandDigest {
        let fields = (&self.actor, &self.occurred_at, &self.body);
        let hash = postcard::serialize_with_flavor(&fields, HashingFlavor::default())
            .expect("a command always encodes with postcard");
        let mut out = [0u8; COMMAND_DIGEST_LEN];
        out.copy_from_slice(&hash.as_bytes()[..COMMAND_DIGEST_LEN]);
        CommandDigest(out)
    }
}

/// Feeds a command's postcard encoding to BLAKE3 as it is written, through a small buffer: the
/// same hash as BLAKE3 of the whole encoding (the digest is stored in the log), without
/// building the encoding in a `Vec` grown by reallocation (issue 13, wave 9:
/// `postcard::to_allocvec` was 3.7 of the digest's 4.0 % of `vs_cqrs`'s profile).
struct HashingFlavor {
    hasher: blake3::Hasher,
    buf: [u8; HASHING_BUF_BYTES],
    len: usize,
}

/// Gathers postcard's many short writes (a length, a tag, a field) into fewer `update` calls.
/// BLAKE3 still gets pieces of any length, not whole 1 KiB chunks (a write that does not fit
/// flushes what is buffered): harmless, it buffers its own chunks, so the size only sets how
/// often it is called.
const HASHING_BUF_BYTES: usize = 1024;

impl Default for HashingFlavor {
    fn default() -> HashingFlavor {
        HashingFlavor {
            hasher: blake3::Hasher::new(),
            buf: [0; HASHING_BUF_BYTES],
            len: 0,
        }
    }
}

impl HashingFlavor {
    fn flush(&mut self) {
        self.hasher.update(&self.buf[..self.len]);
        self.len = 0;
    }
}

impl postcard::ser_flavors::Flavor for HashingFlavor {
    type Output = blake3::Hash;

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        if self.len + data.len() > HASHING_BUF_BYTES {
            self.flush();
        }
        if data.len() > HASHING_BUF_BYTES {
            self.hasher.update(data);
        } else {
            self.buf[self.len..self.len + data.len()].copy_from_slice(data);
            self.len += data.len();
        }
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.try_extend(&[data])
    }

    fn finalize(mut self) -> postcard::Result<blake3::Hash> {
        self.flush();
        Ok(self.hasher.finalize())
    }
}

/// What the command asks for, one variant per lifecycle action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum CommandBody {
    Receive(Receive),
    Verify(Verify),
    Reject(Reject),
    MergeAsDuplicate(MergeAsDuplicate),
    Classify(Classify),
    Dispatch(Dispatch),
    Redispatch(Redispatch),
    PutOnHold(PutOnHold),
    Resume(Resume),
    Respond(Respond),
    Compensate(Compensate),
    Escalate(Escalate),
    Revisit(Revisit),
    Reopen(Reopen),
    Close(Close),
    Withdraw(Withdraw),
    RecordRevisitAttempt(RecordRevisitAttempt),
    TransferOwnership(TransferOwnership),
    OpenSupervision(OpenSupervision),
    // Issue 17: appended at the end.
    ProposeCompensation(ProposeCompensation),
    ApproveCompensation(ApproveCompensation),
    PayCompensation(PayCompensation),
    RefuseCompensation(RefuseCompensation),
    OpenIncident(OpenIncident),
    LinkIncident(LinkIncident),
    ReportIncidentProgress(ReportIncidentProgress),
    RecordImprovement(RecordImprovement),
    RecordDisputeEscalation(RecordDisputeEscalation),
}

/// The command names (the tag `command`, serde's snake_case of each variant) written once:
/// [`CommandBody::name`], [`COMMAND_NAMES`] and the one-pass reading of a body by its name
/// (`command_de.rs`) come from this list.
macro_rules! command_names {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// The names of the commands, the values of the tag `command`, in [`CommandBody`]'s
        /// order.
        pub const COMMAND_NAMES: &[&str] = &[$($name),*];

        impl CommandBody {
            /// The stable snake_case name of the command.
            pub fn name(&self) -> &'static str {
                match self {
                    $(CommandBody::$variant(_) => $name,)*
                }
            }

            /// The body of the command named `name`, read by its struct's derived reading from
            /// `fields` (a map of the body's fields); an unknown name is refused listing the
            /// known ones.
            pub(crate) fn read_named<'de, F: serde::Deserializer<'de>>(
                name: &str,
                fields: F,
            ) -> Result<CommandBody, F::Error> {
                match name {
                    $($name => Ok(CommandBody::$variant($variant::deserialize(fields)?)),)*
                    _ => Err(serde::de::Error::unknown_variant(name, COMMAND_NAMES)),
                }
            }
        }
    };
}

command_names! {
    Receive => "receive",
    Verify => "verify",
    Reject => "reject",
    MergeAsDuplicate => "merge_as_duplicate",
    Classify => "classify",
    Dispatch => "dispatch",
    Redispatch => "redispatch",
    PutOnHold => "put_on_hold",
    Resume => "resume",
    Respond => "respond",
    Compensate => "compensate",
    Escalate => "escalate",
    Revisit => "revisit",
    Reopen => "reopen",
    Close => "close",
    Withdraw => "withdraw",
    RecordRevisitAttempt => "record_revisit_attempt",
    TransferOwnership => "transfer_ownership",
    OpenSupervision => "open_supervision",
    ProposeCompensation => "propose_compensation",
    ApproveCompensation => "approve_compensation",
    PayCompensation => "pay_compensation",
    RefuseCompensation => "refuse_compensation",
    OpenIncident => "open_incident",
    LinkIncident => "link_incident",
    ReportIncidentProgress => "report_incident_progress",
    RecordImprovement => "record_improvement",
    RecordDisputeEscalation => "record_dispute_escalation",
}

/// The customer as given at intake, personal fields in clear. `decide` seals the personal
/// fields with the customer key from the context (docs/domain.md §9).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CustomerInput {
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

impl CustomerInput {
    /// Whether the customer gives any personal field (name, phone, address): the one rule for
    /// when a `receive` is sealed under a customer key (docs/domain.md §9).
    pub fn has_personal_fields(&self) -> bool {
        self.name.is_some() || self.phone.is_some() || self.address.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receive {
    pub channel: Channel,
    /// When the customer reached out; defaults to the command's business time.
    #[serde(default)]
    pub contact_at: Option<Timestamp>,
    #[serde(default)]
    pub customer: CustomerInput,
    #[serde(default)]
    pub waybill: Option<String>,
    pub description: String,
    #[serde(default)]
    pub claimed_amount: Option<Money>,
    #[serde(default)]
    pub evidence: Vec<EvidenceRef>,
    pub region: String,
    #[serde(default)]
    pub outlet: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verify {
    pub claim: CheckOutcome,
    pub evidence: CheckOutcome,
    pub history: CheckOutcome,
    #[serde(default)]
    pub repeat_of: Option<ComplaintId>,
    #[serde(default)]
    pub flags: Flags,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    pub reason: RejectionReason,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeAsDuplicate {
    pub into: ComplaintId,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classify {
    pub category: Category,
    pub severity: Severity,
    #[serde(default = "default_customer_tier")]
    pub customer_tier: CustomerTier,
    #[serde(default)]
    pub flags: Flags,
    /// Imported history only: deadlines recorded by the legacy system (e.g. a due-date column),
    /// used instead of computing them from the policy. Each is recorded as given.
    #[serde(default)]
    pub recorded_deadlines: Vec<ClockDeadline>,
    /// `policy` (default): the policy computes the deadlines unless `recorded_deadlines` are
    /// given. `recorded` (imported history): exactly `recorded_deadlines` (possibly none), no
    /// watchdog escalations, and no policy deadlines at dispatch or final response.
    #[serde(default)]
    pub deadline_source: DeadlineSource,
    /// Why the ticket is classified below the tier the policy's severity rules suggest
    /// (docs/domain.md R-SEV-2); required then, recorded in `SeverityOverridden`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_reason: Option<String>,
}

fn default_customer_tier() -> CustomerTier {
    CustomerTier::Standard
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    /// `None`: the policy's routing table decides (and the matched rule is recorded).
    #[serde(default)]
    pub department: Option<Department>,
    #[serde(default)]
    pub handler: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redispatch {
    pub to: Department,
    #[serde(default)]
    pub handler: Option<String>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutOnHold {
    pub reason: HoldReason,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Respond {
    pub kind: ResponseKind,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub basis: Option<String>,
    #[serde(default)]
    pub liable: Option<bool>,
    #[serde(default)]
    pub root_cause: Option<Stage>,
    /// Compensation riding on a final response.
    #[serde(default)]
    pub compensation: Option<CompensationRequest>,
}

/// What the handler asks to grant; `decide` computes the ceiling from the policy's rules of
/// docs/domain.md §6 and refuses a grant above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationRequest {
    pub remedy: Remedy,
    /// Amount asked to grant (for `payment`; 0 for non-monetary remedies).
    #[serde(default)]
    pub amount: Money,
    #[serde(default)]
    pub insured: bool,
    #[serde(default)]
    pub insured_amount: Option<Money>,
    #[serde(default)]
    pub full_value: Option<Money>,
    #[serde(default)]
    pub actual_loss: Option<Money>,
    #[serde(default)]
    pub postage: Option<Money>,
    /// Total loss (lost or destroyed) versus partial damage or shortage.
    #[serde(default)]
    pub total_loss: bool,
    #[serde(default)]
    pub registered_letter: bool,
    /// Intent or gross negligence: the cap does not apply.
    #[serde(default)]
    pub gross_negligence: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compensate {
    pub compensation: CompensationRequest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalate {
    pub level: EscalationLevel,
    #[serde(default)]
    pub reason: String,
    /// Set by the SLA watchdog: the id of the planned escalation (`EscalationDue::rule_id`)
    /// that fell due. `decide` checks it is planned for this ticket and due at `now`, and
    /// appends it at most once per ticket however often it is asked. `None`: a person escalates.
    #[serde(default)]
    pub rule_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revisit {
    pub solved: bool,
    pub satisfied: bool,
    #[serde(default)]
    pub satisfaction_score: Option<u8>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reopen {
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Close {
    #[serde(default)]
    pub root_cause: Option<Stage>,
    #[serde(default)]
    pub liable: Option<bool>,
    #[serde(default)]
    pub note: String,
    /// Closing after a final response with no revisit since it needs one of the policy's
    /// reasons (docs/domain.md R-LOOP-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without_revisit: Option<CloseReason>,
}

/// A failed attempt to reach the customer for the revisit (docs/domain.md R-LOOP-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRevisitAttempt {
    /// How it was tried and what happened (e.g. `phone, no answer`).
    #[serde(default)]
    pub note: String,
}

/// 首问负责制: pass ownership of the ticket to another person, with a reason (R-OWN-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOwnership {
    /// The staff id of the new owner.
    pub to: String,
    pub reason: String,
}

/// 督办: put the ticket under supervision until `due_at` (R-SUP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSupervision {
    /// The ticket must be closed by then.
    pub due_at: Timestamp,
    pub note: String,
}

/// The customer withdraws the complaint (撤回投诉) before a final response: the ticket closes
/// with resolution `withdrawn`, no liability found. After a final response the customer's
/// decision not to go on is an ordinary `close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdraw {
    /// What the customer said, or how the withdrawal reached us.
    #[serde(default)]
    pub note: String,
}

/// Proposes a compensation (docs/domain.md R-COMP-5): checked against the per-ticket ceiling
/// like a grant, then waits for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposeCompensation {
    /// Unique per ticket; later commands name it.
    pub compensation_id: String,
    pub compensation: CompensationRequest,
    #[serde(default)]
    pub note: String,
}

/// Approves a proposed compensation in a role (R-COMP-6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproveCompensation {
    pub compensation_id: String,
    /// The role the approver acts in; the policy names the least role per amount.
    pub role: ApproverRole,
}

/// Records the payment of an approved compensation (R-COMP-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayCompensation {
    pub compensation_id: String,
    /// The finance system's reference.
    pub reference: String,
}

/// Refuses a proposed compensation with a reason (R-COMP-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefuseCompensation {
    pub compensation_id: String,
    pub reason: String,
}

/// Forms a major-incident group (专项小组) on this ticket (R-INC-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIncident {
    pub incident_id: String,
    pub title: String,
    pub cause: String,
    pub members: Vec<IncidentMember>,
}

/// Links this ticket to an incident held by another ticket (R-INC-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkIncident {
    pub incident_id: String,
    pub lead: ComplaintId,
    #[serde(default)]
    pub note: String,
}

/// The incident group's daily progress report (R-INC-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportIncidentProgress {
    pub text: String,
}

/// Records an improvement action against the ticket's root cause (R-IMP-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordImprovement {
    pub action_id: String,
    /// Defaults to the root cause of the final response.
    #[serde(default)]
    pub root_cause: Option<Stage>,
    /// The department that carries it out (one of the policy's).
    pub department: Department,
    pub action: String,
}

/// Records that the complaint's dispute went beyond it: litigation, media exposure or a
/// regulator (纠纷升级, docs/domain.md R-DSP-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDisputeEscalation {
    pub kind: DisputeKind,
    /// Where and how (court and case number, outlet, the regulator's reference); required.
    pub note: String,
}
