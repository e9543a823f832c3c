//! The ticket projection: the current state of every complaint (issue 4, projection 1).
//!
//! Held compactly (repeated strings interned, rare data in one compact list) so a million tickets fit in memory;
//! [`Tickets::view`] builds the readable [`TicketView`]. Personal fields stay sealed and apart
//! (docs/domain.md §9): the view never holds them; [`Tickets::sealed_personal`] hands out the sealed
//! record to a caller that holds the key. The long description text stays in the stream (read a
//! ticket's history for it).

use crate::compact::{CompactCompensation, TextPool};
use crate::records::{check_complaint_id, RecordTable};
use crate::shared::ReceiptColumn;
use crate::util::{extend_exact, push_exact, ChunkedVec, FlagBits, Interner, OptSym, SmallId, Sym};
use crate::{ensure, InvalidState, Projection};
use plaint_domain::event::*;
use plaint_domain::ids::ComplaintId;
use plaint_domain::lifecycle::{HoldChange, Lifecycle};
use plaint_domain::sla::PackedDeadline;
use plaint_domain::state::Status;
use plaint_domain::time::{PackedTimestamp, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a ticket stands: the domain's own [`Status`], as `evolve` leaves it (the projection
/// folds the domain's [`Lifecycle`], never a transition of its own).
pub type TicketStatus = Status;

/// One holder of the ticket (dispatch or redispatch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub department: String,
    pub handler: Option<String>,
    pub at: Timestamp,
    /// The routing rule id, `manual` or `fallback`.
    pub routing: String,
    /// Why it was transferred (redispatch only).
    pub reason: Option<String>,
}

/// One response given to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseRecord {
    pub kind: ResponseKind,
    pub at: Timestamp,
    pub liable: Option<bool>,
    pub root_cause: Option<Stage>,
}

/// One escalation that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationRecord {
    pub level: EscalationLevel,
    pub at: Timestamp,
    /// The watchdog rule id, or `None` when a person escalated.
    pub watchdog_rule: Option<String>,
}

/// A stretch of time on hold; `until` is `None` while still on hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldPeriod {
    pub from: Timestamp,
    pub until: Option<Timestamp>,
    pub reason: HoldReason,
}

/// The revisit's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisitRecord {
    pub at: Timestamp,
    pub solved: bool,
    pub satisfied: bool,
    pub satisfaction_score: Option<u8>,
}

/// How the ticket was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedRecord {
    pub at: Timestamp,
    pub resolution: Resolution,
    pub root_cause: Option<Stage>,
    pub liable: bool,
    /// Closed after a final response without a revisit, for this reason (docs/domain.md
    /// R-LOOP-1).
    #[serde(default)]
    pub without_revisit: Option<CloseReason>,
}

/// A transfer of ownership (首问负责制, docs/domain.md R-OWN-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipTransfer {
    pub at: Timestamp,
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
}

/// The three checks (三核).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRecord {
    pub at: Timestamp,
    pub claim: CheckOutcome,
    pub evidence: CheckOutcome,
    pub history: CheckOutcome,
}

/// The readable current state of one complaint. Personal fields are not here (see
/// [`Tickets::sealed_personal`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketView {
    pub id: ComplaintId,
    pub status: TicketStatus,
    pub stream_version: u64,
    /// Global position of the last event applied to this ticket.
    pub last_position: u64,
    /// Business time of the last event.
    pub updated_at: Timestamp,
    pub channel: Channel,
    pub contact_at: Timestamp,
    /// Registration time (the Received event's `occurred_at`).
    pub received_at: Timestamp,
    pub customer_id: Option<String>,
    /// Pseudonymous matching key (survives erasure).
    pub match_key: Option<String>,
    /// Whether sealed personal fields exist for this ticket.
    pub has_personal: bool,
    pub waybill: Option<String>,
    pub claimed_amount: Option<Money>,
    pub evidence: Vec<EvidenceRef>,
    pub region: String,
    pub outlet: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub verification: Option<VerificationRecord>,
    pub rejection: Option<RejectionReason>,
    pub category: Option<Category>,
    pub severity: Option<Severity>,
    pub customer_tier: Option<CustomerTier>,
    pub flags: Flags,
    pub policy_version: Option<String>,
    /// Every deadline recorded for the ticket (classification, dispatch, final response).
    pub deadlines: Vec<ClockDeadline>,
    /// Department and handler history, in order; the last one holds the ticket now.
    pub assignments: Vec<Assignment>,
    pub responses: Vec<ResponseRecord>,
    pub compensations: Vec<Compensation>,
    pub escalations: Vec<EscalationRecord>,
    pub holds: Vec<HoldPeriod>,
    pub revisit: Option<RevisitRecord>,
    pub reopen_count: u32,
    /// Sum of the compensation granted (as `evolve` sums it).
    pub compensated: Money,
    /// Highest escalation level reached.
    pub escalation_level: Option<EscalationLevel>,
    /// This ticket was merged into that one.
    pub duplicate_of: Option<ComplaintId>,
    /// Tickets merged into this one.
    pub duplicates: Vec<ComplaintId>,
    /// This ticket repeats that earlier one.
    pub repeat_of: Option<ComplaintId>,
    /// Later tickets that repeat this one.
    pub repeated_by: Vec<ComplaintId>,
    pub closed: Option<ClosedRecord>,
    /// 首问负责制: who owns the ticket (docs/domain.md R-OWN), as the domain's
    /// `closed_loop::owner_after` folds it.
    pub owner: Option<String>,
    pub ownership_transfers: Vec<OwnershipTransfer>,
    /// Every revisit, in order (the first and the latest both; `revisit` is the latest).
    pub revisits: Vec<RevisitRecord>,
    /// Failed attempts to reach the customer for the revisit (R-LOOP-2).
    pub revisit_attempts: Vec<Timestamp>,
    /// 督办: supervisions opened on the ticket (R-SUP); they end with the ticket.
    pub supervisions: Vec<plaint_domain::state::SupervisionRecord>,
    /// Classified below the tier the policy suggested, with the reason (R-SEV-2).
    pub severity_override: Option<SeverityOverridden>,
}

impl TicketView {
    /// The department holding the ticket now.
    pub fn department(&self) -> Option<&str> {
        self.assignments.last().map(|a| a.department.as_str())
    }
}

/// One holder, in 32 bytes (issue 13, wave 10; 40 before): the handler as an [`OptSym`], the time
/// packed, the rare reason behind a thin pointer. Serialises exactly as before (`Option<Sym>`,
/// `Timestamp`, `Option<Box<str>>`), so the checkpoint's bytes do not change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AssignmentRec {
    department: Sym,
    handler: OptSym,
    at: PackedTimestamp,
    routing: Sym,
    /// Boxed twice: 8 bytes where an `Option<Box<str>>` takes 16, and only a redispatch has one.
    #[allow(clippy::redundant_allocation)]
    reason: Option<Box<Box<str>>>,
}

/// Data most tickets have little or none of, as one compact list (one allocation, 32 bytes per
/// item) instead of a dozen mostly empty fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Extra {
    Evidence(Box<EvidenceRef>),
    Attribute(Sym, Sym),
    Rejection(RejectionReason),
    /// Boxed in its compact form (88 bytes, not the domain record's 144; issue 13, wave 10).
    Compensation(Box<CompactCompensation>),
    /// `rule`: the watchdog rule id, interned; `None` when a person escalated.
    Escalation {
        level: EscalationLevel,
        at: Timestamp,
        rule: Option<Sym>,
    },
    /// `until` is [`Timestamp::MAX`] while still on hold.
    Hold {
        from: Timestamp,
        until: Timestamp,
        reason: HoldReason,
    },
    DuplicateOf(SmallId),
    Duplicate(SmallId),
    RepeatOf(SmallId),
    RepeatedBy(SmallId),
    /// A revisit superseded by a later one (the latest is `TicketRec::revisit`).
    EarlierRevisit(RevisitRecord),
    RevisitAttempt(Timestamp),
    OwnershipTransfer(Box<OwnershipTransfer>),
    Supervision(Box<plaint_domain::state::SupervisionRecord>),
    SeverityOverride(Box<SeverityOverridden>),
}

/// Sealed personal fields, compactly (the key id interned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PersonalRec {
    key_id: Sym,
    nonce: [u8; 12],
    ciphertext: Box<[u8]>,
}

/// The per-ticket records whose time is packed ([`PackedTimestamp`]: alignment 1 since the
/// review of wave 12, 6 bytes since wave 13, so each is 9 or 10 bytes where the public record
/// is 16; issue 13, wave 9). Each serialises exactly as its public
/// record (same fields, same order), so the checkpoint's bytes do not change.
macro_rules! packed_record {
    ($packed:ident for $public:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        struct $packed {
            $($field: $ty,)*
        }

        impl From<$public> for $packed {
            fn from(r: $public) -> Self {
                $packed { $($field: r.$field.into(),)* }
            }
        }

        impl From<$packed> for $public {
            fn from(r: $packed) -> Self {
                $public { $($field: r.$field.into(),)* }
            }
        }
    };
}

// The response in 9 bytes, not 12 (issue 13: its time unaligned in wave 12, 6 bytes in 13).
packed_record!(ResponseRec for ResponseRecord { kind: ResponseKind, at: PackedTimestamp, liable: Option<bool>, root_cause: Option<Stage> });
packed_record!(VerificationRec for VerificationRecord { at: PackedTimestamp, claim: CheckOutcome, evidence: CheckOutcome, history: CheckOutcome });
packed_record!(RevisitRec for RevisitRecord { at: PackedTimestamp, solved: bool, satisfied: bool, satisfaction_score: Option<u8> });
packed_record!(ClosedRec for ClosedRecord {
    at: PackedTimestamp,
    resolution: Resolution,
    root_cause: Option<Stage>,
    liable: bool,
    without_revisit: Option<CloseReason>,
});

/// One ticket. Serialises through [`TicketWire`]: the checkpoint holds the fields format 7
/// always held, in its order, whatever this record packs in memory.
#[derive(Debug, Clone, PartialEq)]
struct TicketRec {
    /// Status, hold, reopens, escalation level, compensation total: the domain's fold.
    life: Lifecycle,
    category: Option<Category>,
    severity: Option<Severity>,
    customer_tier: Option<CustomerTier>,
    /// The flags, and beside them marks [`MARK_PERSONAL`] (sealed personal fields) and
    /// [`MARK_CLAIMED`] (`claimed` holds an amount): one byte where the flags, `has_personal`
    /// and an `Option<Money>`'s tag took 13 with their padding (issue 13, wave 12: 208 -> 192
    /// bytes a ticket).
    marks: FlagBits,
    stream_version: u64,
    last_position: u64,
    /// 6 bytes of alignment 1, not a `Timestamp`'s 8 of alignment 8: with the responses' and
    /// the three packed records' instants 2 bytes shorter, the record sheds 8 (issue 13, wave
    /// 13: 192 -> 184 bytes a ticket).
    updated_at: PackedTimestamp,
    region: Sym,
    policy_version: OptSym,
    match_key: OptSym,
    waybill: Option<Box<str>>,
    outlet: OptSym,
    customer_id: OptSym,
    /// The claimed amount in fen when [`MARK_CLAIMED`] is set, else 0.
    claimed: i64,
    verification: Option<VerificationRec>,
    revisit: Option<RevisitRec>,
    closed: Option<ClosedRec>,
    /// The current deadlines, 7 bytes each (the view gives them back as `ClockDeadline`s).
    deadlines: Box<[PackedDeadline]>,
    assignments: Box<[AssignmentRec]>,
    responses: Box<[ResponseRec]>,
    extras: Box<[Extra]>,
    /// The owner's interned name, [`NO_OWNER`] when none (a bare index fits in the record's
    /// padding where an `Option<Sym>` would add 8 bytes per ticket).
    owner: u32,
}

/// [`TicketRec::marks`]: the ticket has sealed personal fields.
const MARK_PERSONAL: u8 = 0;
/// [`TicketRec::marks`]: [`TicketRec::claimed`] holds a claimed amount.
const MARK_CLAIMED: u8 = 1;

/// A [`TicketRec`] as the checkpoint holds it (format 7): the field order and types of the
/// record before issue 13 wave 12 packed it, so the bytes are unchanged. Generic over the boxed
/// fields so that saving borrows them (`&Box<..>` serialises as the box) and loading owns them.
#[derive(Serialize, Deserialize)]
struct TicketWire<W, D, A, R, X> {
    life: Lifecycle,
    category: Option<Category>,
    severity: Option<Severity>,
    customer_tier: Option<CustomerTier>,
    flags: Flags,
    has_personal: bool,
    stream_version: u64,
    last_position: u64,
    updated_at: Timestamp,
    region: Sym,
    policy_version: OptSym,
    match_key: OptSym,
    waybill: W,
    outlet: OptSym,
    customer_id: OptSym,
    claimed_amount: Option<Money>,
    verification: Option<VerificationRec>,
    revisit: Option<RevisitRec>,
    closed: Option<ClosedRec>,
    deadlines: D,
    assignments: A,
    responses: R,
    extras: X,
    owner: u32,
}

impl Serialize for TicketRec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TicketWire {
            life: self.life,
            category: self.category,
            severity: self.severity,
            customer_tier: self.customer_tier,
            flags: self.flags(),
            has_personal: self.has_personal(),
            stream_version: self.stream_version,
            last_position: self.last_position,
            updated_at: self.updated_at.get(),
            region: self.region,
            policy_version: self.policy_version,
            match_key: self.match_key,
            waybill: &self.waybill,
            outlet: self.outlet,
            customer_id: self.customer_id,
            claimed_amount: self.claimed_amount(),
            verification: self.verification,
            revisit: self.revisit,
            closed: self.closed,
            deadlines: &self.deadlines,
            assignments: &self.assignments,
            responses: &self.responses,
            extras: &self.extras,
            owner: self.owner,
        }
        .serialize(s)
    }
}

type OwnedWire =
    TicketWire<Option<Box<str>>, Box<[PackedDeadline]>, Box<[AssignmentRec]>, Box<[ResponseRec]>, Box<[Extra]>>;

impl<'de> Deserialize<'de> for TicketRec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = OwnedWire::deserialize(d)?;
        let mut t = TicketRec {
            life: w.life,
            category: w.category,
            severity: w.severity,
            customer_tier: w.customer_tier,
            marks: FlagBits::from(w.flags),
            stream_version: w.stream_version,
            last_position: w.last_position,
            updated_at: PackedTimestamp::new(w.updated_at),
            region: w.region,
            policy_version: w.policy_version,
            match_key: w.match_key,
            waybill: w.waybill,
            outlet: w.outlet,
            customer_id: w.customer_id,
            claimed: 0,
            verification: w.verification,
            revisit: w.revisit,
            closed: w.closed,
            deadlines: w.deadlines,
            assignments: w.assignments,
            responses: w.responses,
            extras: w.extras,
            owner: w.owner,
        };
        t.set_has_personal(w.has_personal);
        t.set_claimed_amount(w.claimed_amount);
        Ok(t)
    }
}

/// `TicketRec::owner` of a ticket no person acted on yet.
const NO_OWNER: u32 = u32::MAX;

impl TicketRec {
    fn flags(&self) -> Flags {
        self.marks.flags()
    }
    fn add_flags(&mut self, f: Flags) {
        self.marks = self.marks.with_flags(self.flags().union(f));
    }
    fn has_personal(&self) -> bool {
        self.marks.mark(MARK_PERSONAL)
    }
    fn set_has_personal(&mut self, on: bool) {
        self.marks = self.marks.with_mark(MARK_PERSONAL, on);
    }
    fn claimed_amount(&self) -> Option<Money> {
        self.marks.mark(MARK_CLAIMED).then_some(Money(self.claimed))
    }
    fn set_claimed_amount(&mut self, amount: Option<Money>) {
        self.marks = self.marks.with_mark(MARK_CLAIMED, amount.is_some());
        self.claimed = amount.map_or(0, Money::fen);
    }
    fn add(&mut self, x: Extra) {
        push_exact(&mut self.extras, x);
    }
}

/// The ticket projection. Tickets are kept in the order their first event appears in the log,
/// so the serialised state is the same however the log was read.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Tickets {
    tickets: RecordTable<TicketRec>,
    /// Sealed personal fields, apart from the ticket data; parallel to `tickets`.
    personal: ChunkedVec<Option<PersonalRec>>,
    strings: Interner,
    /// Events whose complaint had no Received event before them (reported, never a panic).
    orphan_events: u64,
    /// The compensations' repeated texts, held once (issue 13, wave 12). Not in the state's
    /// bytes: [`Projection::after_load`] passes a loaded state's compensations through it.
    #[serde(skip)]
    texts: TextPool,
    /// Each ticket's time of receipt, first contact and channel: the set's shared record
    /// (issue 13, wave 11), or a column of its own when used alone. Not in the state's bytes.
    #[serde(skip)]
    receipts: ReceiptColumn,
}

impl PartialEq for Tickets {
    fn eq(&self, other: &Self) -> bool {
        self.tickets == other.tickets
            && self.personal == other.personal
            && self.strings == other.strings
            && self.orphan_events == other.orphan_events
    }
}

impl Tickets {
    /// Number of tickets.
    pub fn len(&self) -> usize {
        self.tickets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }
    /// Events seen for a complaint before its Received event (a damaged or foreign log).
    pub fn orphan_events(&self) -> u64 {
        self.orphan_events
    }
    /// The current state of one ticket.
    pub fn view(&self, id: &ComplaintId) -> Option<TicketView> {
        let i = self.find(id.as_str())?;
        Some(self.view_at(i as usize))
    }
    /// Every ticket id, in the order they were first received.
    pub fn ids(&self) -> impl Iterator<Item = ComplaintId> + '_ {
        self.tickets.ids().iter().map(SmallId::to_complaint_id)
    }
    /// The ids of the tickets not closed, in the order they were first received, without
    /// building their views (what the SLA watchdog checks).
    pub fn open_ids(&self) -> impl Iterator<Item = ComplaintId> + '_ {
        self.tickets
            .iter_with_ids()
            .filter(|(_, t)| !matches!(t.life.status, TicketStatus::Closed))
            .map(|(id, _)| id.to_complaint_id())
    }
    /// Every ticket's view, in the order they were first received.
    pub fn views(&self) -> impl Iterator<Item = TicketView> + '_ {
        (0..self.tickets.len()).map(|i| self.view_at(i))
    }
    /// The sealed personal fields of a ticket, for a caller holding the customer key.
    pub fn sealed_personal(&self, id: &ComplaintId) -> Option<SealedPersonal> {
        let i = self.find(id.as_str())?;
        self.personal[i as usize].as_ref().map(|p| SealedPersonal {
            key_id: self.strings.resolve(p.key_id).to_owned(),
            nonce: p.nonce,
            ciphertext: p.ciphertext.to_vec(),
        })
    }

    fn find(&self, id: &str) -> Option<u32> {
        self.tickets.find(id)
    }

    #[inline]
    fn locate(&self, id: &str, hint: Option<u32>) -> Option<u32> {
        self.tickets.locate(id, hint)
    }

    fn view_at(&self, i: usize) -> TicketView {
        let t = &self.tickets[i];
        let receipt = self.receipts.get(i);
        let s = &self.strings;
        let (mut evidence, mut attributes, mut rejection, mut compensations) = (vec![], BTreeMap::new(), None, vec![]);
        let (mut escalations, mut holds, mut duplicate_of, mut duplicates) = (vec![], vec![], None, vec![]);
        let (mut repeat_of, mut repeated_by) = (None, vec![]);
        let (mut ownership_transfers, mut revisits, mut revisit_attempts) = (vec![], vec![], vec![]);
        let (mut supervisions, mut severity_override) = (vec![], None);
        for x in &t.extras {
            match x {
                Extra::Evidence(e) => evidence.push(EvidenceRef::clone(e)),
                Extra::Attribute(k, v) => {
                    attributes.insert(s.resolve(*k).to_owned(), s.resolve(*v).to_owned());
                }
                Extra::Rejection(r) => rejection = Some(*r),
                Extra::Compensation(c) => compensations.push(c.to_compensation()),
                Extra::Escalation { level, at, rule } => escalations.push(EscalationRecord {
                    level: *level,
                    at: *at,
                    watchdog_rule: rule.map(|r| s.resolve(r).to_owned()),
                }),
                Extra::Hold { from, until, reason } => holds.push(HoldPeriod {
                    from: *from,
                    until: (*until != Timestamp::MAX).then_some(*until),
                    reason: *reason,
                }),
                Extra::DuplicateOf(id) => duplicate_of = Some(id.to_complaint_id()),
                Extra::Duplicate(id) => duplicates.push(id.to_complaint_id()),
                Extra::RepeatOf(id) => repeat_of = Some(id.to_complaint_id()),
                Extra::RepeatedBy(id) => repeated_by.push(id.to_complaint_id()),
                Extra::EarlierRevisit(r) => revisits.push(*r),
                Extra::RevisitAttempt(at) => revisit_attempts.push(*at),
                Extra::OwnershipTransfer(o) => ownership_transfers.push(OwnershipTransfer::clone(o)),
                Extra::Supervision(r) => supervisions.push(plaint_domain::state::SupervisionRecord::clone(r)),
                Extra::SeverityOverride(o) => severity_override = Some(SeverityOverridden::clone(o)),
            }
        }
        revisits.extend(t.revisit.map(RevisitRecord::from));
        TicketView {
            id: self.tickets.id(i).to_complaint_id(),
            status: t.life.status,
            stream_version: t.stream_version,
            last_position: t.last_position,
            updated_at: t.updated_at.get(),
            channel: receipt.channel(),
            contact_at: receipt.contact_at(),
            received_at: receipt.received_at(),
            customer_id: t.customer_id.map(|c| s.resolve(c).to_owned()),
            match_key: t.match_key.map(|k| s.resolve(k).to_owned()),
            has_personal: t.has_personal(),
            waybill: t.waybill.as_deref().map(str::to_owned),
            claimed_amount: t.claimed_amount(),
            evidence,
            region: s.resolve(t.region).to_owned(),
            outlet: t.outlet.map(|o| s.resolve(o).to_owned()),
            attributes,
            verification: t.verification.map(Into::into),
            rejection,
            category: t.category,
            severity: t.severity,
            customer_tier: t.customer_tier,
            flags: t.flags(),
            policy_version: t.policy_version.map(|p| s.resolve(p).to_owned()),
            deadlines: t.deadlines.iter().map(PackedDeadline::get).collect(),
            assignments: t
                .assignments
                .iter()
                .map(|a| Assignment {
                    department: s.resolve(a.department).to_owned(),
                    handler: a.handler.map(|h| s.resolve(h).to_owned()),
                    at: a.at.get(),
                    routing: s.resolve(a.routing).to_owned(),
                    reason: a.reason.as_deref().map(|r| r.to_string()),
                })
                .collect(),
            responses: t.responses.iter().map(|&r| r.into()).collect(),
            compensations,
            escalations,
            holds,
            revisit: t.revisit.map(Into::into),
            reopen_count: t.life.reopen_count,
            compensated: t.life.compensated,
            escalation_level: t.life.escalation_level,
            duplicate_of,
            duplicates,
            repeat_of,
            repeated_by,
            closed: t.closed.map(Into::into),
            owner: (t.owner != NO_OWNER).then(|| s.resolve(Sym(t.owner)).to_owned()),
            ownership_transfers,
            revisits,
            revisit_attempts,
            supervisions,
            severity_override,
        }
    }

    fn routing_sym(&mut self, routing: &RoutingDecision) -> Sym {
        match routing {
            RoutingDecision::Rule { rule_id, .. } => self.strings.intern(rule_id),
            RoutingDecision::Manual => self.strings.intern("manual"),
            RoutingDecision::Fallback => self.strings.intern("fallback"),
        }
    }

    fn receive(&mut self, e: &Event, r: &Received) {
        let strings = &mut self.strings;
        let mut life = Lifecycle::NEW;
        life.apply(&e.data);
        let mut rec = TicketRec {
            life,
            category: None,
            severity: None,
            customer_tier: None,
            marks: FlagBits::default(),
            stream_version: e.meta.stream_version,
            last_position: e.meta.position,
            updated_at: PackedTimestamp::new(e.meta.occurred_at),
            region: strings.intern(&r.region),
            policy_version: OptSym::NONE,
            match_key: r.customer.match_key.as_deref().map(|k| strings.intern(k)).into(),
            waybill: r.waybill.as_deref().map(Into::into),
            outlet: r.outlet.as_deref().map(|o| strings.intern(o)).into(),
            customer_id: r.customer.customer_id.as_deref().map(|c| strings.intern(c)).into(),
            claimed: 0,
            verification: None,
            revisit: None,
            closed: None,
            deadlines: Box::default(),
            assignments: Box::default(),
            responses: Box::default(),
            extras: Box::default(),
            owner: plaint_domain::closed_loop::owner_after(false, &e.meta.actor, &e.data)
                .map_or(NO_OWNER, |o| strings.intern(&o).0),
        };
        rec.set_has_personal(r.customer.personal.is_some());
        rec.set_claimed_amount(r.claimed_amount);
        for e in &r.evidence {
            rec.add(Extra::Evidence(Box::new(e.clone())));
        }
        for (k, v) in &r.attributes {
            let (k, v) = (strings.intern(k), strings.intern(v));
            rec.add(Extra::Attribute(k, v));
        }
        let i = self.tickets.push(e.meta.complaint_id.as_str(), rec);
        self.receipts.receive(i as usize, e, r);
        let personal = r.customer.personal.as_ref().map(|p| PersonalRec {
            key_id: self.strings.intern(&p.key_id),
            nonce: p.nonce,
            ciphertext: p.ciphertext.as_slice().into(),
        });
        self.personal.push(personal);
    }

    fn link(&mut self, from: usize, to: &ComplaintId, duplicate: bool) {
        let from_id = self.tickets.id(from).clone();
        if let Some(j) = self.find(to.as_str()) {
            let x = if duplicate {
                Extra::Duplicate(from_id)
            } else {
                Extra::RepeatedBy(from_id)
            };
            let t = &mut self.tickets[j as usize];
            if !t.extras.contains(&x) {
                t.add(x);
            }
        }
    }
}

impl Projection for Tickets {
    const NAME: &'static str = "tickets";

    fn apply_hinted(&mut self, e: &Event, hint: Option<u32>) {
        // An erasure is about a customer, not a ticket: no view changes, nothing is orphaned.
        if let EventData::CustomerErased(_) = &e.data {
            return;
        }
        // Access control (tokens, reveals) is about people using the system, not a ticket.
        if let EventData::TokenIssued(_) | EventData::TokenRevoked(_) | EventData::PersonalDataRevealed(_) = &e.data {
            return;
        }
        if let EventData::Received(r) = &e.data {
            if self.locate(e.meta.complaint_id.as_str(), hint).is_none() {
                self.receive(e, r);
                return;
            }
        }
        let Some(i) = self.locate(e.meta.complaint_id.as_str(), hint) else {
            self.orphan_events += 1;
            return;
        };
        let i = i as usize;
        let at = e.meta.occurred_at;
        let mut link: Option<(ComplaintId, bool)> = None;
        // 首问负责制: the domain's rule of who owns the ticket after this event.
        let has_owner = self.tickets[i].owner != NO_OWNER;
        if let Some(o) = plaint_domain::closed_loop::owner_after(has_owner, &e.meta.actor, &e.data) {
            let sym = self.strings.intern(&o);
            self.tickets[i].owner = sym.0;
        }
        let texts = &mut self.texts;
        let t = &mut self.tickets[i];
        let step = t.life.apply(&e.data);
        match step.hold {
            HoldChange::None => {}
            HoldChange::Started { reason, .. } => t.add(Extra::Hold {
                from: at,
                until: Timestamp::MAX,
                reason,
            }),
            HoldChange::Resumed { .. } | HoldChange::EndedByClose => {
                let last_hold = t.extras.iter_mut().rev().find(|x| matches!(x, Extra::Hold { .. }));
                if let Some(Extra::Hold { until, .. }) = last_hold {
                    if *until == Timestamp::MAX {
                        *until = at;
                    }
                }
            }
        }
        // Exact capacities: a million tickets' worth of doubling slack is real memory.
        if step.deadlines_replace {
            t.deadlines = Box::default();
        }
        extend_exact(&mut t.deadlines, step.deadlines.iter().map(PackedDeadline::new));
        if let Some(c) = step.compensation {
            t.add(Extra::Compensation(Box::new(CompactCompensation::pooled(c, texts))));
        }
        match &e.data {
            EventData::Received(_)
            | EventData::CustomerErased(_)
            | EventData::TokenIssued(_)
            | EventData::TokenRevoked(_)
            | EventData::PersonalDataRevealed(_)
            | EventData::OnHold(_)
            | EventData::Resumed(_)
            | EventData::Compensated(_)
            | EventData::Reopened(_) => {}
            // Issue 17: the casework projection (`casework.rs`) keeps these.
            EventData::CompensationProposed(_)
            | EventData::CompensationApproved(_)
            | EventData::CompensationPaid(_)
            | EventData::CompensationRefused(_)
            | EventData::IncidentOpened(_)
            | EventData::IncidentLinked(_)
            | EventData::IncidentProgressReported(_)
            | EventData::ImprovementRecorded(_)
            | EventData::DisputeEscalated(_) => {}
            EventData::Verified(v) => {
                t.add_flags(v.flags);
                t.verification = Some(VerificationRec {
                    at: at.into(),
                    claim: v.claim,
                    evidence: v.evidence,
                    history: v.history,
                });
                if let Some(of) = &v.repeat_of {
                    t.add(Extra::RepeatOf(SmallId::new(of.as_str())));
                    link = Some((of.clone(), false));
                }
            }
            EventData::Rejected(x) => t.add(Extra::Rejection(x.reason)),
            EventData::MergedAsDuplicate(m) => {
                t.add(Extra::DuplicateOf(SmallId::new(m.into.as_str())));
                link = Some((m.into.clone(), true));
            }
            EventData::Classified(c) => {
                let pv = self.strings.intern(&c.policy_version);
                let t = &mut self.tickets[i];
                t.category = Some(c.category);
                t.severity = Some(c.severity);
                t.customer_tier = Some(c.customer_tier);
                t.add_flags(c.flags);
                t.policy_version = pv.into();
                // A repeat the domain found once the category was known (docs/domain.md R-REP).
                if let Some(of) = &c.repeat_of {
                    t.add(Extra::RepeatOf(SmallId::new(of.as_str())));
                    link = Some((of.clone(), false));
                }
            }
            EventData::Dispatched(d) => {
                let rec = AssignmentRec {
                    department: self.strings.intern(&d.department.0),
                    handler: d.handler.as_deref().map(|h| self.strings.intern(h)).into(),
                    at: PackedTimestamp::new(at),
                    routing: self.routing_sym(&d.routing),
                    reason: None,
                };
                let t = &mut self.tickets[i];
                push_exact(&mut t.assignments, rec);
            }
            EventData::Redispatched(d) => {
                let rec = AssignmentRec {
                    department: self.strings.intern(&d.to.0),
                    handler: d.handler.as_deref().map(|h| self.strings.intern(h)).into(),
                    at: PackedTimestamp::new(at),
                    routing: self.routing_sym(&d.routing),
                    reason: Some(Box::new(d.reason.as_str().into())),
                };
                let t = &mut self.tickets[i];
                push_exact(&mut t.assignments, rec);
            }
            EventData::Responded(r) => {
                push_exact(
                    &mut t.responses,
                    ResponseRec {
                        kind: r.kind,
                        at: at.into(),
                        liable: r.liable,
                        root_cause: r.root_cause,
                    },
                );
            }
            EventData::Escalated(x) => {
                let rule = match &x.trigger {
                    EscalationTrigger::Person => None,
                    EscalationTrigger::Watchdog { rule_id, .. } => Some(self.strings.intern(rule_id)),
                };
                self.tickets[i].add(Extra::Escalation {
                    level: x.level,
                    at,
                    rule,
                });
            }
            EventData::Revisited(v) => {
                if let Some(earlier) = t.revisit {
                    t.add(Extra::EarlierRevisit(earlier.into()));
                }
                t.revisit = Some(RevisitRec {
                    at: at.into(),
                    solved: v.solved,
                    satisfied: v.satisfied,
                    satisfaction_score: v.satisfaction_score,
                });
            }
            EventData::Closed(c) => {
                t.closed = Some(ClosedRec {
                    at: at.into(),
                    resolution: c.resolution,
                    root_cause: c.root_cause,
                    liable: c.liable,
                    without_revisit: c.without_revisit,
                });
            }
            EventData::RevisitAttempted(_) => t.add(Extra::RevisitAttempt(at)),
            EventData::OwnershipTransferred(o) => t.add(Extra::OwnershipTransfer(Box::new(OwnershipTransfer {
                at,
                from: o.from.clone(),
                to: o.to.clone(),
                reason: o.reason.clone(),
            }))),
            EventData::SupervisionOpened(o) => t.add(Extra::Supervision(Box::new(
                plaint_domain::state::SupervisionRecord::of(at, &e.meta.actor, o),
            ))),
            EventData::SeverityOverridden(o) => t.add(Extra::SeverityOverride(Box::new(o.clone()))),
        }
        let t = &mut self.tickets[i];
        t.stream_version = e.meta.stream_version;
        t.last_position = e.meta.position;
        t.updated_at = PackedTimestamp::new(at);
        if let Some((to, dup)) = link {
            self.link(i, &to, dup);
        }
    }

    fn receipts(&self) -> Option<&ReceiptColumn> {
        Some(&self.receipts)
    }

    fn receipts_mut(&mut self) -> Option<&mut ReceiptColumn> {
        Some(&mut self.receipts)
    }

    fn id_table(&self) -> &dyn crate::records::IdTable {
        &self.tickets
    }

    fn id_table_mut(&mut self) -> &mut dyn crate::records::IdTable {
        &mut self.tickets
    }

    fn after_load(&mut self) -> Result<(), InvalidState> {
        self.strings.rebuild_index()?;
        self.tickets.reindex()?;
        ensure(self.personal.len() == self.tickets.len(), || {
            format!(
                "{} sealed personal entries for {} tickets (one each)",
                self.personal.len(),
                self.tickets.len()
            )
        })?;
        // The decoded compensations hold their texts each: share them again (review of wave 12).
        let texts = &mut self.texts;
        for t in self.tickets.iter_mut() {
            for x in t.extras.iter_mut() {
                if let Extra::Compensation(c) = x {
                    c.share_texts(texts);
                }
            }
        }
        let s = &self.strings;
        let mut i = 0;
        self.tickets.check_each(|t| {
            let personal = self.personal[i].as_ref();
            i += 1;
            t.check(s, personal)
        })
    }
}

impl TicketRec {
    /// Every symbol and complaint id of the record resolves (see [`Projection::after_load`]).
    fn check(&self, s: &Interner, personal: Option<&PersonalRec>) -> Result<(), InvalidState> {
        s.check(self.region, "region")?;
        s.check_opt(self.policy_version, "policy version")?;
        s.check_opt(self.match_key, "match key")?;
        s.check_opt(self.outlet, "outlet")?;
        s.check_opt(self.customer_id, "customer id")?;
        if self.owner != NO_OWNER {
            s.check(Sym(self.owner), "owner")?;
        }
        ensure(self.has_personal() == personal.is_some(), || {
            format!(
                "has_personal {} but a sealed entry {}",
                self.has_personal(),
                personal.is_some()
            )
        })?;
        if let Some(p) = personal {
            s.check(p.key_id, "personal key id")?;
        }
        for a in &self.assignments {
            s.check(a.department, "assignment department")?;
            s.check_opt(a.handler, "assignment handler")?;
            s.check(a.routing, "assignment routing")?;
        }
        self.extras.iter().try_for_each(|x| x.check(s))
    }
}

impl Extra {
    fn check(&self, s: &Interner) -> Result<(), InvalidState> {
        match self {
            Extra::Attribute(k, v) => {
                s.check(*k, "attribute key")?;
                s.check(*v, "attribute value")
            }
            Extra::Escalation { rule, .. } => s.check_opt(*rule, "escalation rule"),
            Extra::DuplicateOf(id) | Extra::Duplicate(id) | Extra::RepeatOf(id) | Extra::RepeatedBy(id) => {
                check_complaint_id(id)
            }
            Extra::Evidence(_)
            | Extra::Rejection(_)
            | Extra::Compensation(_)
            | Extra::Hold { .. }
            | Extra::EarlierRevisit(_)
            | Extra::RevisitAttempt(_)
            | Extra::OwnershipTransfer(_)
            | Extra::Supervision(_)
            | Extra::SeverityOverride(_) => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) fn record_size() -> usize {
    std::mem::size_of::<TicketRec>()
}

#[cfg(test)]
pub(crate) fn deadline_size() -> usize {
    std::mem::size_of::<PackedDeadline>()
}

#[cfg(test)]
pub(crate) fn extra_size() -> usize {
    std::mem::size_of::<Extra>()
}

#[cfg(test)]
pub(crate) fn assignment_size() -> usize {
    std::mem::size_of::<AssignmentRec>()
}

#[cfg(test)]
impl Tickets {
    /// Heap bytes by field group, requested sizes (the memory table of docs/PERFORMANCE.md,
    /// issue 13 wave 9; `record_sizes::bytes_by_field_group`).
    pub(crate) fn bytes_by_group(&self) -> Vec<(&'static str, usize)> {
        use std::mem::size_of;
        let recs = || self.tickets.iter();
        let boxed_extra = |x: &Extra| match x {
            Extra::Evidence(e) => size_of::<EvidenceRef>() + e.reference.len(),
            Extra::Compensation(_) => size_of::<CompactCompensation>(),
            Extra::OwnershipTransfer(_) => size_of::<OwnershipTransfer>(),
            Extra::Supervision(_) => size_of::<plaint_domain::state::SupervisionRecord>(),
            Extra::SeverityOverride(_) => size_of::<SeverityOverridden>(),
            _ => 0,
        };
        let boxed = |of: &dyn Fn(&Extra) -> bool| -> usize {
            recs()
                .flat_map(|t| t.extras.iter())
                .filter(|x| of(x))
                .map(boxed_extra)
                .sum()
        };
        let personal = |p: &Option<PersonalRec>| p.as_ref().map_or(0, |p| p.ciphertext.len());
        vec![
            ("strings (interner)", self.strings.heap_bytes()),
            ("ticket record", self.len() * size_of::<TicketRec>()),
            ("own receipts (0 in a set)", self.receipts.own_bytes()),
            ("  of it: lifecycle", self.len() * size_of::<Lifecycle>()),
            (
                "  of it: verification+revisit+closed",
                self.len()
                    * (size_of::<Option<VerificationRec>>()
                        + size_of::<Option<RevisitRec>>()
                        + size_of::<Option<ClosedRec>>()),
            ),
            (
                "deadlines",
                recs().map(|t| t.deadlines.len()).sum::<usize>() * size_of::<PackedDeadline>(),
            ),
            (
                "assignments",
                recs()
                    .map(|t| {
                        t.assignments.len() * size_of::<AssignmentRec>()
                            + t.assignments
                                .iter()
                                .map(|a| a.reason.as_ref().map_or(0, |r| size_of::<Box<str>>() + r.len()))
                                .sum::<usize>()
                    })
                    .sum(),
            ),
            (
                "responses",
                recs().map(|t| t.responses.len()).sum::<usize>() * size_of::<ResponseRec>(),
            ),
            (
                "extras list",
                recs().map(|t| t.extras.len()).sum::<usize>() * size_of::<Extra>(),
            ),
            ("extras boxed", boxed(&|_| true)),
            ("  of it: compensation", boxed(&|x| matches!(x, Extra::Compensation(_)))),
            ("compensation texts (each allocation once)", {
                let mut seen = std::collections::HashSet::new();
                recs()
                    .flat_map(|t| t.extras.iter())
                    .filter_map(|x| match x {
                        Extra::Compensation(c) => Some(c.texts()),
                        _ => None,
                    })
                    .flatten()
                    .filter(|t| seen.insert(std::sync::Arc::as_ptr(t) as *const u8 as usize))
                    .map(|t| 2 * size_of::<usize>() + t.len())
                    .sum()
            }),
            (
                "waybill",
                recs().map(|t| t.waybill.as_ref().map_or(0, |w| w.len())).sum(),
            ),
            ("personal slots", self.personal.len() * size_of::<Option<PersonalRec>>()),
            ("personal ciphertext", self.personal.iter().map(personal).sum()),
        ]
    }
}

#[cfg(test)]
mod load_checks {
    use super::*;
    use crate::checkpoint::crafted::{assert_refused, changed, sound};

    /// Issue 13, wave 12: the record packs the flags, `has_personal` and the claimed amount's
    /// presence into one byte (`marks`); each must read back as set, through a checkpoint too,
    /// with a zero amount told apart from none and the marks independent of each other.
    #[test]
    fn the_packed_marks_read_back_through_a_checkpoint() {
        let good: Tickets = sound();
        let flags = Flags {
            repeat: true,
            media: false,
            group: true,
            regulator: true,
        };
        for amount in [
            None,
            Some(Money(0)),
            Some(Money(1)),
            Some(Money(i64::MIN)),
            Some(Money(i64::MAX)),
        ] {
            for personal in [false, true] {
                let t = changed(&good, |t| {
                    let r = &mut t.tickets[0];
                    r.set_claimed_amount(amount);
                    r.set_has_personal(personal);
                    r.add_flags(flags);
                });
                let r = &t.tickets[0];
                assert_eq!(
                    (r.claimed_amount(), r.has_personal(), r.flags()),
                    (amount, personal, flags)
                );
                let bytes = postcard::to_allocvec(&t).unwrap();
                let back: Tickets = postcard::from_bytes(&bytes).unwrap();
                let r = &back.tickets[0];
                assert_eq!(
                    (r.claimed_amount(), r.has_personal(), r.flags()),
                    (amount, personal, flags),
                    "read back"
                );
            }
        }
    }

    /// Review of wave 12: a loaded state's compensations share their texts as a folded one's
    /// do (one allocation per distinct legal basis or policy version), through a checkpoint
    /// file and the load's `after_load`; and the loaded state folds on sharing them.
    #[test]
    fn a_loaded_states_compensations_share_their_texts() {
        use crate::checkpoint::{load, save};
        fn distinct_allocations(t: &Tickets) -> (usize, usize) {
            let texts: Vec<&std::sync::Arc<str>> = t
                .tickets
                .iter()
                .flat_map(|t| t.extras.iter())
                .filter_map(|x| match x {
                    Extra::Compensation(c) => Some(c.texts()),
                    _ => None,
                })
                .flatten()
                .collect();
            let pointers: std::collections::HashSet<*const u8> =
                texts.iter().map(|t| std::sync::Arc::as_ptr(t) as *const u8).collect();
            let distinct: std::collections::HashSet<&str> = texts.iter().map(|t| &***t).collect();
            (pointers.len(), distinct.len())
        }
        let good: Tickets = crate::checkpoint::crafted::built();
        let (folded, distinct) = distinct_allocations(&good);
        assert!(
            distinct >= 2 && folded == distinct,
            "{folded} allocations, {distinct} texts"
        );
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), 7, &good).unwrap();
        let (_, back) = load::<Tickets>(dir.path()).unwrap().unwrap();
        assert!(back == good);
        assert_eq!(
            distinct_allocations(&back),
            (distinct, distinct),
            "loaded: one allocation per text"
        );
        // Two compensations citing the same text hold the same allocation.
        let mut by_text: std::collections::HashMap<&str, &std::sync::Arc<str>> = Default::default();
        for x in back.tickets.iter().flat_map(|t| t.extras.iter()) {
            if let Extra::Compensation(c) = x {
                for t in c.texts() {
                    assert!(std::sync::Arc::ptr_eq(by_text.entry(&**t).or_insert(t), t));
                }
            }
        }
    }

    #[test]
    fn crafted_states_are_refused_at_load_not_at_query_time() {
        let good: Tickets = sound();
        let id = good.ids().next().unwrap();
        let beyond = Sym(good.strings.len() as u32);

        // Before the check, this state loaded and the view panicked on the region.
        let region = changed(&good, |t| t.tickets[0].region = beyond);
        assert!(std::panic::catch_unwind(|| region.view(&id)).is_err());
        assert_refused(&region, "region is symbol");
        assert_refused(&changed(&good, |t| t.tickets[1].owner = beyond.0), "owner is symbol");
        assert_refused(
            &changed(&good, |t| t.tickets[2].outlet = beyond.into()),
            "outlet is symbol",
        );
        let with_assignment = (0..good.len())
            .find(|&i| !good.tickets[i].assignments.is_empty())
            .unwrap();
        assert_refused(
            &changed(&good, |t| t.tickets[with_assignment].assignments[0].department = beyond),
            "assignment department",
        );
        assert_refused(
            &changed(&good, |t| {
                t.tickets[with_assignment].assignments[0].handler = beyond.into()
            }),
            "assignment handler",
        );
        assert_refused(
            &changed(&good, |t| t.tickets[3].add(Extra::Attribute(Sym(0), beyond))),
            "attribute value",
        );
        assert_refused(
            &changed(&good, |t| {
                t.tickets[3].add(Extra::RepeatOf(SmallId::new("no spaces allowed")))
            }),
            "is not a complaint id",
        );
        let dup = good.tickets.id(0).clone();
        assert_refused(
            &changed(&good, |t| t.tickets = t.tickets.with_id(1, dup.clone())),
            "the same id",
        );
        assert_refused(
            &changed(&good, |t| t.tickets = t.tickets.with_id(4, SmallId::new(""))),
            "is not a complaint id",
        );
        assert_refused(&changed(&good, |t| t.personal.push(None)), "sealed personal entries");
        let sealed = (0..good.len()).find(|&i| good.personal[i].is_some()).unwrap();
        assert_refused(
            &changed(&good, |t| t.tickets[sealed].set_has_personal(false)),
            "has_personal",
        );
        assert_refused(
            &changed(&good, |t| t.personal[sealed].as_mut().unwrap().key_id = beyond),
            "personal key id",
        );
        assert_refused(
            &changed(&good, |t| t.strings = crate::util::crafted::with_duplicate(&t.strings)),
            "appears twice",
        );
    }

    /// The assignment as it was before issue 13 (wave 10), field for field: the layout a
    /// format-6 checkpoint's bytes were written from.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "AssignmentRec")]
    struct OldAssignmentRec {
        department: Sym,
        handler: Option<Sym>,
        at: Timestamp,
        routing: Sym,
        reason: Option<Box<str>>,
    }

    impl OldAssignmentRec {
        fn packed(&self) -> AssignmentRec {
            AssignmentRec {
                department: self.department,
                handler: self.handler.into(),
                at: PackedTimestamp::new(self.at),
                routing: self.routing,
                reason: self.reason.clone().map(Box::new),
            }
        }
    }

    /// Handler none and some, reason none and some, the extreme times; every field a different
    /// value, so two fields swapped change the bytes.
    fn old_assignments() -> impl Iterator<Item = OldAssignmentRec> {
        let handlers = [None, Some(Sym(7)), Some(Sym(u32::MAX - 1))];
        let reasons = [None, Some("wrong office".into()), Some("".into())];
        let times = [i64::MIN, -1, 0, 1_764_633_600_000, i64::MAX];
        handlers.into_iter().flat_map(move |handler| {
            reasons.clone().into_iter().flat_map(move |reason: Option<Box<str>>| {
                times.into_iter().map(move |ms| OldAssignmentRec {
                    department: Sym(3),
                    handler,
                    at: Timestamp::from_millis(ms),
                    routing: Sym(1_000_000),
                    reason: reason.clone(),
                })
            })
        })
    }

    #[test]
    fn an_assignment_serialises_as_the_old_layout_both_ways() {
        for old in old_assignments() {
            let new = old.packed();
            let bytes = postcard::to_allocvec(&old).unwrap();
            assert_eq!(postcard::to_allocvec(&new).unwrap(), bytes, "{old:?}");
            assert_eq!(postcard::from_bytes::<AssignmentRec>(&bytes).unwrap(), new);
            let new_bytes = postcard::to_allocvec(&new).unwrap();
            assert_eq!(postcard::from_bytes::<OldAssignmentRec>(&new_bytes).unwrap(), old);
            let json = serde_json::to_string(&old).unwrap();
            assert_eq!(serde_json::to_string(&new).unwrap(), json, "{old:?}");
            // JSON's RFC 3339 times do not reach every i64, so compare what each layout reads.
            match serde_json::from_str::<OldAssignmentRec>(&json) {
                Ok(back) => assert_eq!(serde_json::from_str::<AssignmentRec>(&json).unwrap(), back.packed()),
                Err(_) => assert!(serde_json::from_str::<AssignmentRec>(&json).is_err(), "{json}"),
            }
        }
    }

    /// Bytes an old-layout state could hold but the packed one cannot (a handler `u32::MAX`,
    /// which is the packed handler's none) are refused by decoding, as the state's.
    #[test]
    fn an_old_layout_handler_u32_max_is_refused_by_decoding() {
        let good: Tickets = sound();
        let (i, a) = (0..good.len())
            .find_map(|i| good.tickets[i].assignments.first().map(|a| (i, a)))
            .unwrap();
        let old = OldAssignmentRec {
            department: a.department,
            handler: a.handler.get(),
            at: a.at.get(),
            routing: a.routing,
            reason: a.reason.as_deref().cloned(),
        };
        let state = postcard::to_allocvec(&good).unwrap();
        let from = postcard::to_allocvec(&old).unwrap();
        let at = state.windows(from.len()).position(|w| w == from).unwrap();
        assert_eq!(
            state[at + 1..].windows(from.len()).position(|w| w == from),
            None,
            "ticket {i}'s first assignment's bytes appear once"
        );
        let with_handler = |h: u32| {
            let to = postcard::to_allocvec(&OldAssignmentRec {
                handler: Some(Sym(h)),
                ..old.clone()
            })
            .unwrap();
            [&state[..at], &to[..], &state[at + from.len()..]].concat()
        };
        let path = std::path::Path::new("tickets.checkpoint");
        match crate::checkpoint::decode_state::<Tickets>(path, &with_handler(u32::MAX)) {
            Err(crate::checkpoint::CheckpointError::State { .. }) => {}
            Err(e) => panic!("refused, but not as the state's: {e}"),
            Ok(_) => panic!("a handler u32::MAX loaded"),
        }
        // The splice is sound: one symbol less (as many bytes) decodes, and is then refused by
        // the load check as out of this interner's range.
        match crate::checkpoint::decode_state::<Tickets>(path, &with_handler(u32::MAX - 1)) {
            Err(crate::checkpoint::CheckpointError::Corrupt { detail, .. }) => {
                assert!(detail.contains("assignment handler"), "{detail}");
            }
            Err(e) => panic!("refused, but not by the load check: {e}"),
            Ok(_) => panic!("a handler u32::MAX - 1 loaded"),
        }
        // The splice itself is sound: the unchanged bytes decode.
        let same = [&state[..at], &from[..], &state[at + from.len()..]].concat();
        crate::checkpoint::decode_state::<Tickets>(path, &same).unwrap();
    }
}
