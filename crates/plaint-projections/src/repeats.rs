//! The repeat projection (issue 4, projection 3; docs/domain.md §8): complaints indexed by customer
//! (the pseudonymous match key of the normalised phone, and the customer id) and by waybill; the
//! repeat and duplicate links the log records; the repeat rate; and the lookup the domain's
//! repeat rule reads earlier complaints through (it implements `repeat::PriorComplaints`).
//!
//! This projection never judges: the rule (same customer + same waybill or category within the
//! window; open + same waybill → duplicate) is the domain's `repeat::judge`, run by `decide_with`
//! at verification and classification, and its verdicts are recorded in `Verified` and
//! `Classified`. The report folds those recorded links (`repeat::recorded_links`).

use crate::records::RecordTable;
use crate::shared::ReceiptColumn;
use crate::util::{ratio, Interner, MultiIndex, OptSym, Sym, SymIndex};
use crate::{ensure, InvalidState, Projection};
use plaint_domain::event::*;
use plaint_domain::ids::ComplaintId;
use plaint_domain::repeat::{normalise_waybill, recorded_links, CustomerRef, PriorComplaint, PriorComplaints};
use plaint_domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Version of the JSON shape of [`RepeatReport`].
pub const REPEAT_REPORT_SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RepeatRec {
    match_key: OptSym,
    customer_id: OptSym,
    waybill: Option<Box<str>>,
    category: Option<Category>,
    /// Closed, rejected or merged: no longer open.
    ended: bool,
    /// Repeat and duplicate links; most tickets have none (kept out of line).
    links: Option<Box<Links>>,
    reopen_count: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Links {
    /// The recorded repeat link (the first one stands).
    repeat_of: Option<ComplaintId>,
    /// Merged into this ticket.
    duplicate_of: Option<ComplaintId>,
    /// Flagged by the history check as a duplicate of this open ticket.
    flagged_duplicate_of: Option<ComplaintId>,
}

impl RepeatRec {
    fn links(&self) -> &Links {
        static NONE: Links = Links {
            repeat_of: None,
            duplicate_of: None,
            flagged_duplicate_of: None,
        };
        self.links.as_deref().unwrap_or(&NONE)
    }

    fn links_mut(&mut self) -> &mut Links {
        self.links.get_or_insert_with(Default::default)
    }
}

/// One repeat or duplicate link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatLink {
    pub id: ComplaintId,
    pub of: ComplaintId,
    pub received_at: Timestamp,
}

/// Repeat figures for tickets received in `[from, to)` (JSON shape versioned by
/// `schema_version`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatReport {
    pub schema_version: u32,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Tickets received in the period (merged duplicates included).
    pub received: u64,
    /// Tickets the history check marked as repeating an earlier one.
    pub repeats: u64,
    /// Tickets merged into an open one.
    pub duplicates: u64,
    /// Tickets the history check flagged as duplicating an open ticket (same customer and
    /// waybill), merged or not.
    pub flagged_duplicates: u64,
    /// Tickets reopened after an unsatisfied revisit (they count towards the repeat rate).
    pub reopened: u64,
    /// (repeats + reopened) / received (docs/domain.md §8).
    pub repeat_rate: Option<f64>,
    pub repeat_links: Vec<RepeatLink>,
    /// Merged tickets and the ticket each was merged into.
    pub duplicate_links: Vec<RepeatLink>,
    /// Flagged duplicates and the open ticket each duplicates.
    pub flagged_duplicate_links: Vec<RepeatLink>,
}

/// The repeat projection. Records in first-seen log order; the lookup indexes are rebuilt on load.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Repeats {
    recs: RecordTable<RepeatRec>,
    strings: Interner,
    /// By match key or customer id (both symbols of `strings`).
    #[serde(skip)]
    by_customer: SymIndex,
    /// By normalised waybill (the records hold it normalised).
    #[serde(skip)]
    by_waybill: MultiIndex,
    /// Each ticket's time of receipt: the set's shared record (issue 13, wave 11), or a column
    /// of its own when used alone. Not in the state's bytes.
    #[serde(skip)]
    receipts: ReceiptColumn,
}

impl PartialEq for Repeats {
    fn eq(&self, other: &Self) -> bool {
        self.recs == other.recs && self.strings == other.strings
    }
}

impl Repeats {
    pub fn len(&self) -> usize {
        self.recs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    fn waybill_of(&self, i: u32) -> &[u8] {
        self.recs[i as usize].waybill.as_deref().unwrap_or("").as_bytes()
    }

    fn find(&self, id: &str) -> Option<u32> {
        self.recs.find(id)
    }

    /// The record of `id`, trying the runner's hint first.
    #[inline]
    fn locate(&self, id: &str, hint: Option<u32>) -> Option<u32> {
        self.recs.locate(id, hint)
    }

    fn prior(&self, i: u32) -> PriorComplaint {
        let r = &self.recs[i as usize];
        PriorComplaint {
            id: self.recs.id(i as usize).to_complaint_id(),
            customer: CustomerRef::new(
                r.match_key.map(|k| self.strings.resolve(k)),
                r.customer_id.map(|k| self.strings.resolve(k)),
            ),
            waybill: r.waybill.as_deref().map(str::to_owned),
            category: r.category,
            received_at: self.receipts.get(i as usize).received_at(),
            open: !r.ended,
        }
    }

    /// Earlier complaints of the customer with this match key or customer id (either may be
    /// `None`), in the order received, without double counting.
    pub fn by_customer(&self, match_key: Option<&str>, customer_id: Option<&str>) -> Vec<PriorComplaint> {
        let mut hits: Vec<u32> = Vec::new();
        for key in [match_key, customer_id].into_iter().flatten() {
            if let Some(sym) = self.strings.find(key) {
                self.by_customer.extend_into(sym, &mut hits);
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter().map(|i| self.prior(i)).collect()
    }

    /// Complaints about this waybill (compared normalised: no spaces or dashes, upper case), in
    /// the order received.
    pub fn by_waybill(&self, waybill: &str) -> Vec<PriorComplaint> {
        let key = normalise_waybill(waybill);
        self.by_waybill
            .get(key.as_bytes(), |i| self.waybill_of(i))
            .into_iter()
            .map(|i| self.prior(i))
            .collect()
    }

    /// The chain of repeats from `id` back to the first complaint (`id` first).
    pub fn chain(&self, id: &ComplaintId) -> Vec<ComplaintId> {
        let mut out = vec![id.clone()];
        let mut cur = id.clone();
        while let Some(i) = self.find(cur.as_str()) {
            let Some(next) = self.recs[i as usize].links().repeat_of.clone() else {
                break;
            };
            if out.contains(&next) {
                break; // a cycle cannot come from the domain; stop rather than loop
            }
            out.push(next.clone());
            cur = next;
        }
        out
    }

    /// Repeat figures for tickets received in `[from, to)`.
    pub fn report(&self, from: Timestamp, to: Timestamp) -> RepeatReport {
        let mut rep = RepeatReport {
            schema_version: REPEAT_REPORT_SCHEMA_VERSION,
            from,
            to,
            received: 0,
            repeats: 0,
            duplicates: 0,
            flagged_duplicates: 0,
            reopened: 0,
            repeat_rate: None,
            repeat_links: Vec::new(),
            duplicate_links: Vec::new(),
            flagged_duplicate_links: Vec::new(),
        };
        let received = self
            .recs
            .iter_with_ids()
            .enumerate()
            .map(|(i, (id, r))| (id, r, self.receipts.get(i).received_at()))
            .filter(|&(_, _, at)| at >= from && at < to);
        for (id, r, received_at) in received {
            rep.received += 1;
            let links = r.links();
            if let Some(of) = &links.repeat_of {
                rep.repeats += 1;
                rep.repeat_links.push(RepeatLink {
                    id: id.to_complaint_id(),
                    of: of.clone(),
                    received_at,
                });
            }
            if let Some(of) = &links.duplicate_of {
                rep.duplicates += 1;
                rep.duplicate_links.push(RepeatLink {
                    id: id.to_complaint_id(),
                    of: of.clone(),
                    received_at,
                });
            }
            if let Some(of) = &links.flagged_duplicate_of {
                rep.flagged_duplicates += 1;
                rep.flagged_duplicate_links.push(RepeatLink {
                    id: id.to_complaint_id(),
                    of: of.clone(),
                    received_at,
                });
            }
            if r.reopen_count > 0 {
                rep.reopened += 1;
            }
        }
        rep.repeat_rate = ratio(rep.repeats + rep.reopened, rep.received);
        rep
    }

    fn add_to_customer(&mut self, sym: Sym, i: u32) {
        self.by_customer.insert(sym, i);
    }
}

impl Projection for Repeats {
    const NAME: &'static str = "repeats";

    fn apply_hinted(&mut self, e: &Event, hint: Option<u32>) {
        if let EventData::Received(r) = &e.data {
            if self.locate(e.meta.complaint_id.as_str(), hint).is_some() {
                return;
            }
            let match_key = r.customer.match_key.as_deref().map(|k| self.strings.intern(k));
            let customer_id = r.customer.customer_id.as_deref().map(|k| self.strings.intern(k));
            let rec = RepeatRec {
                match_key: match_key.into(),
                customer_id: customer_id.into(),
                waybill: r.waybill.as_deref().map(|w| normalise_waybill(w).into()),
                category: None,
                ended: false,
                links: None,
                reopen_count: 0,
            };
            let i = self.recs.push(e.meta.complaint_id.as_str(), rec);
            self.receipts.receive(i as usize, e, r);
            for sym in [match_key, customer_id].into_iter().flatten() {
                self.add_to_customer(sym, i);
            }
            if let Some(w) = &self.recs[i as usize].waybill {
                let recs = &self.recs;
                self.by_waybill.insert(w.as_bytes(), i, |j| {
                    recs[j as usize].waybill.as_deref().unwrap_or("").as_bytes()
                });
            }
            return;
        }
        let Some(i) = self.locate(e.meta.complaint_id.as_str(), hint) else {
            return;
        };
        let rec = &mut self.recs[i as usize];
        // The verdicts the domain recorded (docs/domain.md §8); the first repeat link stands.
        let (repeat_of, flagged_duplicate_of) = recorded_links(&e.data);
        if let (None, Some(of)) = (&rec.links().repeat_of, repeat_of) {
            rec.links_mut().repeat_of = Some(of.clone());
        }
        if let Some(of) = flagged_duplicate_of {
            rec.links_mut().flagged_duplicate_of = Some(of.clone());
        }
        match &e.data {
            EventData::Classified(c) => rec.category = Some(c.category),
            EventData::MergedAsDuplicate(m) => {
                rec.links_mut().duplicate_of = Some(m.into.clone());
                rec.ended = true;
            }
            EventData::Rejected(_) | EventData::Closed(_) => rec.ended = true,
            EventData::Reopened(r) => rec.reopen_count = r.reopen_count.max(rec.reopen_count + 1),
            _ => {}
        }
    }

    fn id_table(&self) -> &dyn crate::records::IdTable {
        &self.recs
    }

    fn id_table_mut(&mut self) -> &mut dyn crate::records::IdTable {
        &mut self.recs
    }

    fn receipts(&self) -> Option<&ReceiptColumn> {
        Some(&self.receipts)
    }

    fn receipts_mut(&mut self) -> Option<&mut ReceiptColumn> {
        Some(&mut self.receipts)
    }

    fn after_load(&mut self) -> Result<(), InvalidState> {
        // Record numbers go into the indexes as `u32` below 2^31: a loaded table leaves room
        // for the next record (numbered `len`), so one of 2^31 records or more is refused here
        // (the checkpoint fails to load) rather than by the indexes' assertion (a panic) at the
        // load or at the next receive.
        self.after_load_with(crate::util::INDEX_RECORDS_MAX - 1)
    }
}

impl Repeats {
    /// [`Projection::after_load`] with the most records the indexes take at a load (`max`: a
    /// test cannot reach the real bound).
    fn after_load_with(&mut self, max: usize) -> Result<(), InvalidState> {
        self.strings.rebuild_index()?;
        self.by_customer.clear();
        self.by_waybill.clear();
        // Every id a complaint id, none twice, the id index rebuilt.
        self.recs.reindex()?;
        self.recs.check_each(|r| self.check_record(r))?;
        crate::util::check_indexable(self.recs.len(), max, "repeats")?;
        for i in 0..self.recs.len() {
            let r = &self.recs[i];
            let (mk, cid, wb) = (r.match_key.get(), r.customer_id.get(), r.waybill.is_some());
            for sym in [mk, cid].into_iter().flatten() {
                self.add_to_customer(sym, i as u32);
            }
            if wb {
                let recs = &self.recs;
                let key = recs[i].waybill.as_deref().unwrap_or("").as_bytes();
                self.by_waybill.insert(key, i as u32, |j| {
                    recs[j as usize].waybill.as_deref().unwrap_or("").as_bytes()
                });
            }
        }
        Ok(())
    }
}

impl Repeats {
    /// The record's symbols resolve and its waybill is normalised (see
    /// [`Projection::after_load`]; the id is checked by [`RecordTable::reindex`]); links are
    /// `ComplaintId`s, checked as they deserialise.
    fn check_record(&self, r: &RepeatRec) -> Result<(), InvalidState> {
        self.strings.check_opt(r.match_key, "match key")?;
        self.strings.check_opt(r.customer_id, "customer id")?;
        // The waybill index is looked up with normalised waybills: a record holding another
        // spelling would never be found.
        r.waybill.as_deref().map_or(Ok(()), |w| {
            ensure(normalise_waybill(w) == w, || format!("waybill {w:?} is not normalised"))
        })
    }
}

/// The port of the domain's repeat rule: the complaints this projection knows of a customer.
impl PriorComplaints for Repeats {
    fn of_customer(&self, customer: &CustomerRef) -> Vec<PriorComplaint> {
        self.by_customer(customer.match_key.as_deref(), customer.customer_id.as_deref())
    }
}

#[cfg(test)]
pub(crate) fn record_size() -> usize {
    std::mem::size_of::<RepeatRec>()
}

#[cfg(test)]
impl Repeats {
    /// Heap bytes by field group (see `Tickets::bytes_by_group`).
    pub(crate) fn bytes_by_group(&self) -> Vec<(&'static str, usize)> {
        use std::mem::size_of;
        let recs = || self.recs.iter();
        vec![
            ("strings (interner)", self.strings.heap_bytes()),
            ("index by customer", self.by_customer.heap_bytes()),
            ("index by waybill", self.by_waybill.heap_bytes()),
            ("repeat record", self.recs.len() * size_of::<RepeatRec>()),
            (
                "links",
                recs().filter(|r| r.links.is_some()).count() * size_of::<Links>(),
            ),
            (
                "waybill",
                recs().map(|r| r.waybill.as_ref().map_or(0, |w| w.len())).sum(),
            ),
        ]
    }
}

#[cfg(test)]
mod load_checks {
    use super::*;
    use crate::checkpoint::crafted::{assert_refused, changed, sound};

    /// Wave 14 review: a table with more records than the indexes take is a load error naming
    /// the table (fails with the `check_indexable` call removed from `after_load_with`); at the
    /// bound it loads.
    #[test]
    fn more_records_than_the_indexes_take_is_a_load_error() {
        let good: Repeats = sound();
        let n = good.len();
        assert!(n >= 3);
        let e = good.clone().after_load_with(n - 1).unwrap_err();
        assert!(e.to_string().contains(&format!("repeats: {n} records")), "{e}");
        good.clone().after_load_with(n).unwrap();
    }

    #[test]
    fn crafted_states_are_refused_at_load_not_at_query_time() {
        let good: Repeats = sound();
        let beyond = Sym(good.strings.len() as u32);
        let keyed = (0..good.len()).find(|&i| good.recs[i].match_key.is_some()).unwrap();

        assert_refused(
            &changed(&good, |r| r.recs[keyed].match_key = beyond.into()),
            "match key is symbol",
        );
        assert_refused(
            &changed(&good, |r| r.recs[0].customer_id = beyond.into()),
            "customer id is symbol",
        );
        let dup = good.recs.id(0).clone();
        assert_refused(
            &changed(&good, |r| r.recs = r.recs.with_id(1, dup.clone())),
            "the same id",
        );
        assert_refused(
            &changed(&good, |r| r.recs = r.recs.with_id(2, crate::util::SmallId::new("a b"))),
            "is not a complaint id",
        );
        // A waybill in another spelling than the index's would never be found by it.
        assert_refused(
            &changed(&good, |r| r.recs[3].waybill = Some("sf-1 2".into())),
            "not normalised",
        );
        assert_refused(
            &changed(&good, |r| r.strings = crate::util::crafted::with_duplicate(&r.strings)),
            "appears twice",
        );
    }
}
