//! The shared per-complaint record (issue 13, wave 11): what a complaint's first `Received` says
//! about it that never changes after — its business time of receipt, the customer's first
//! contact and the channel — held once per complaint for every projection of a
//! [`crate::runner::ProjectionSet`], not once in each.
//!
//! The set folds it once per event, with its numbering (the record at ordinal `i` is the
//! receipt of the `i`-th complaint numbered, before any projection applies the event), and the
//! projections that read it ([`ReceiptColumn`]) look it up by their record number, which is the
//! same ordinal (the set's invariant, checked at load). A projection used alone keeps a column
//! of its own, filled by its own fold of the same event. Nothing in it changes after `Received`,
//! so a projection behind the set (each keeps its own position) reads exactly what it would
//! have read at its own position.
//!
//! Checkpoint: the set's record is its own file (`receipts.checkpoint`, [`SHARED_NAME`]), the
//! sequence of `(complaint id, receipt)` in numbering order; the projections' states no longer
//! hold these fields (checkpoint format 7).

use crate::util::{ChunkedVec, SmallId};
use plaint_domain::event::{Channel, Event, Received};
use plaint_domain::time::{PackedTimestamp, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

/// The checkpoint name of the set's shared record.
pub const SHARED_NAME: &str = "receipts";

/// What a complaint's first `Received` fixes for good: 13 bytes (20 until the review of wave 12,
/// 17 until wave 13 made its two times 6 bytes each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    received_at: PackedTimestamp,
    contact_at: PackedTimestamp,
    channel: Channel,
}

impl Receipt {
    /// The receipt of complaint event `e`, whose data is `r`.
    pub fn of(e: &Event, r: &Received) -> Receipt {
        Receipt {
            received_at: e.meta.occurred_at.into(),
            contact_at: r.contact_at.into(),
            channel: r.channel,
        }
    }
    /// When the complaint was received (the `Received` event's business time).
    #[inline]
    pub fn received_at(&self) -> Timestamp {
        self.received_at.get()
    }
    /// When the customer first made contact.
    #[inline]
    pub fn contact_at(&self) -> Timestamp {
        self.contact_at.get()
    }
    #[inline]
    pub fn channel(&self) -> Channel {
        self.channel
    }
}

/// The set's receipts by ordinal, shared with the projections that read them. The set is its
/// only writer (append only: a receipt never changes once pushed).
pub type SharedReceipts = Arc<RwLock<ChunkedVec<Receipt>>>;

/// Reads the shared receipts. Poisoned only by a panic while the set pushed: passed on.
fn read(s: &SharedReceipts) -> std::sync::RwLockReadGuard<'_, ChunkedVec<Receipt>> {
    s.read().expect("the shared receipts were not poisoned")
}

/// Pushes the receipt of the next complaint the set numbers.
pub(crate) fn push(s: &SharedReceipts, r: Receipt) {
    s.write().expect("the shared receipts were not poisoned").push(r);
}

/// A deep copy (a copied set numbers on its own).
pub(crate) fn deep_copy(s: &SharedReceipts) -> SharedReceipts {
    Arc::new(RwLock::new(read(s).clone()))
}

/// A column of its own for a projection that leaves the set's record at record `i`: the set's
/// first `i` receipts (its own, checked as they were received) and `receipt`.
fn own_copy(s: &SharedReceipts, i: usize, receipt: Receipt) -> ChunkedVec<Receipt> {
    let set = read(s);
    assert!(
        i <= set.len(),
        "records before {i} were checked against the set's {}",
        set.len()
    );
    let mut own = ChunkedVec::default();
    for r in set.iter().take(i) {
        own.push(*r);
    }
    own.push(receipt);
    own
}

/// Where a projection reads its complaints' receipts. Never serialised: a set's checkpoint
/// holds them once, in its own file.
#[derive(Debug, Clone)]
pub enum ReceiptColumn {
    /// A projection used alone: its own fold pushes them.
    Own(ChunkedVec<Receipt>),
    /// A projection in a set: the set's record, which numbers complaints as the projection's
    /// records are numbered (a copy of the projection keeps reading it: it is append only).
    Set(SharedReceipts),
}

impl Default for ReceiptColumn {
    fn default() -> Self {
        ReceiptColumn::Own(ChunkedVec::default())
    }
}

impl ReceiptColumn {
    /// The projection received a new complaint, record `i`: kept when the column is its own.
    /// In a set, the set pushed it already, before the projection applied the event; that is
    /// checked (13 bytes per new complaint): a projection fed otherwise (a copy taken out of a
    /// set, folding on its own) whose record `i` is not the set's goes back to a column of its
    /// own, as its record table goes back to an index of its own, so it never reads another
    /// complaint's receipt. Records before `i` were checked alike when they were received (or
    /// at load), so the set's first `i` receipts are its own.
    #[inline]
    pub(crate) fn receive(&mut self, i: usize, e: &Event, r: &Received) {
        let receipt = Receipt::of(e, r);
        match self {
            ReceiptColumn::Own(v) => {
                debug_assert_eq!(v.len(), i, "one receipt per record");
                v.push(receipt);
            }
            ReceiptColumn::Set(s) => {
                if read(s).get(i) != Some(&receipt) {
                    *self = ReceiptColumn::Own(own_copy(s, i, receipt));
                }
            }
        }
    }
    /// The receipt of record `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Receipt {
        match self {
            ReceiptColumn::Own(v) => v[i],
            ReceiptColumn::Set(s) => read(s)[i],
        }
    }
    /// Every receipt, in record order, handed to `f` at once (one lock for a whole report).
    pub fn with<T>(&self, f: impl FnOnce(&ChunkedVec<Receipt>) -> T) -> T {
        match self {
            ReceiptColumn::Own(v) => f(v),
            ReceiptColumn::Set(s) => f(&read(s)),
        }
    }
    /// Reads the set's record `s` from now on.
    pub(crate) fn use_set(&mut self, s: &SharedReceipts) {
        *self = ReceiptColumn::Set(Arc::clone(s));
    }
    /// Whether this column is the set's record `s`.
    pub fn reads(&self, s: &SharedReceipts) -> bool {
        matches!(self, ReceiptColumn::Set(mine) if Arc::ptr_eq(mine, s))
    }
    /// Bytes this column holds of its own (0 when it is the set's; the breakdown test).
    #[cfg(test)]
    pub(crate) fn own_bytes(&self) -> usize {
        match self {
            ReceiptColumn::Own(v) => v.len() * size_of::<Receipt>(),
            ReceiptColumn::Set(_) => 0,
        }
    }
}

/// The shared record as its checkpoint holds it: `(id, receipt)` in numbering order.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedState {
    entries: Vec<(SmallId, Receipt)>,
}

impl SharedState {
    /// The record of `ids` and `receipts` (as many of each).
    pub(crate) fn of<'a>(ids: impl Iterator<Item = &'a SmallId>, receipts: &SharedReceipts) -> SharedState {
        let receipts = read(receipts);
        let mut ids = ids;
        // An id is taken per receipt: one left over is an id without a receipt.
        let entries: Vec<(SmallId, Receipt)> = receipts.iter().map_while(|r| Some((ids.next()?.clone(), *r))).collect();
        assert!(
            entries.len() == receipts.len() && ids.next().is_none(),
            "one receipt per numbered complaint"
        );
        SharedState { entries }
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The ids and the receipts, in numbering order.
    pub(crate) fn into_parts(self) -> (Vec<SmallId>, ChunkedVec<Receipt>) {
        let mut receipts = ChunkedVec::default();
        let ids = self
            .entries
            .into_iter()
            .map(|(id, r)| {
                receipts.push(r);
                id
            })
            .collect();
        (ids, receipts)
    }
}

/// Decodes the shared record a checkpoint file at `path` held, and checks it: every id once
/// (the numbering never numbers a complaint twice). A fault is damage of the named file.
pub fn decode_state(path: &std::path::Path, bytes: &[u8]) -> Result<SharedState, crate::checkpoint::CheckpointError> {
    use crate::checkpoint::CheckpointError;
    let state: SharedState = crate::checkpoint::decode_whole(path, bytes)?;
    let corrupt = |detail| CheckpointError::Corrupt {
        path: path.to_owned(),
        detail,
    };
    let mut seen = std::collections::HashSet::with_capacity(state.len());
    if let Some((i, (id, _))) = state
        .entries
        .iter()
        .enumerate()
        .find(|(_, (id, _))| !seen.insert(id.as_str()))
    {
        return Err(corrupt(format!(
            "the shared record numbers complaint {:?} twice (again at {i})",
            id.as_str()
        )));
    }
    Ok(state)
}
