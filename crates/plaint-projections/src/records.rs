//! The record table every projection keeps (issue 11): one record per complaint, numbered in the
//! order the complaint's first `Received` appears in the log, with the complaint-id lookup and
//! the runner's hint check. A projection is a fold over its records plus its reports; the table
//! is the part they share, so numbering, lookup, reindexing after a checkpoint load and the
//! [`crate::Projection::record_ids`] contract live in one place.
//!
//! The complaint ids are a column of their own ([`IdColumn`]), not a field of each record
//! (issue 13, wave 8): every projection numbers complaints the same way, so the ids of a full
//! chunk are the same in every projection and in the runner's numbering, and
//! [`crate::runner::ProjectionSet`] makes them one allocation shared by all
//! ([`IdColumn::share_from`]). A million complaints hold their ids once, not six times.

use crate::util::{ChunkedVec, IdIndex, SmallId, CHUNK_LEN};
use crate::{ensure, InvalidState};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

/// The runner's id index (complaint id → record number), shared by the record tables of the
/// projections a [`crate::runner::ProjectionSet`] feeds (issue 13, wave 8): one lookup table per
/// set instead of one per projection. The set is its only writer.
pub type SharedIndex = Arc<RwLock<IdIndex>>;

/// What [`IdIndex::get`] compares against for a record number beyond a table: the bytes of no
/// `str` (0xFF is never UTF-8), so a numbering that runs ahead of a table finds nothing there.
const NOT_AN_ID: &[u8] = b"\xff";

/// A record table's id lookup (no `Clone`: a copy of a table gets an index of its own ids,
/// never another index's entries; see `Clone for RecordTable`).
#[derive(Debug)]
enum Lookup {
    /// The table's own index: a projection used alone, or just loaded and checked.
    Own(IdIndex),
    /// The set's numbering index ([`SharedIndex`]): it numbers every complaint of this table
    /// as the table does (and may know more), which [`RecordTable::push`] checks.
    Numbering(SharedIndex),
}

/// Reads the shared index. Poisoned only by a panic while the set's numbering was writing it:
/// that panic is passed on, never an index that may be half written.
pub(crate) fn read(ix: &SharedIndex) -> std::sync::RwLockReadGuard<'_, IdIndex> {
    ix.read().expect("the numbering index was not poisoned")
}

/// Writes the shared index (the set's numbering only).
pub(crate) fn write(ix: &SharedIndex) -> std::sync::RwLockWriteGuard<'_, IdIndex> {
    ix.write().expect("the numbering index was not poisoned")
}

/// Complaint ids in record order, in chunks of [`CHUNK_LEN`]. A full chunk never changes again,
/// so it can be shared (an `Arc`) between the tables that number complaints alike; only the
/// last, partial chunk is a table's own. Not serialised by itself: [`RecordTable`]'s
/// `Serialize` writes each id in front of its record (the layout records with an `id` first
/// field had).
#[derive(Debug, Clone, Default)]
pub struct IdColumn {
    full: Vec<Arc<[SmallId]>>,
    tail: Vec<SmallId>,
    /// Full chunks below this were already offered to [`IdColumn::share_from`] (they never
    /// change, so none is compared twice).
    offered: usize,
}

impl PartialEq for IdColumn {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl IdColumn {
    pub fn len(&self) -> usize {
        self.full.len() * CHUNK_LEN + self.tail.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of full (shareable) chunks (tests, the bench's census).
    #[doc(hidden)]
    pub fn full_chunks(&self) -> usize {
        self.full.len()
    }
    pub fn push(&mut self, id: SmallId) {
        if self.tail.capacity() == 0 {
            self.tail.reserve_exact(CHUNK_LEN);
        }
        self.tail.push(id);
        if self.tail.len() == CHUNK_LEN {
            let chunk: Arc<[SmallId]> = Arc::from(std::mem::take(&mut self.tail));
            self.full.push(chunk);
        }
    }
    #[inline]
    pub fn get(&self, i: usize) -> Option<&SmallId> {
        match self.full.get(i / CHUNK_LEN) {
            Some(c) => Some(&c[i % CHUNK_LEN]),
            None => self.tail.get(i - self.full.len() * CHUNK_LEN),
        }
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &SmallId> + '_ {
        self.full.iter().flat_map(|c| c.iter()).chain(self.tail.iter())
    }
    pub fn clear(&mut self) {
        *self = IdColumn::default();
    }
    /// Makes each full chunk of this column that holds the same ids as `from`'s chunk at the
    /// same place that very allocation (dropping this column's copy). Chunks that differ stay
    /// as they are; a table whose numbering disagrees is refused elsewhere (the runner's
    /// prefix check), never repaired here.
    pub fn share_from(&mut self, from: &IdColumn) {
        let upto = self.full.len().min(from.full.len());
        for k in self.offered..upto {
            let (mine, theirs) = (&mut self.full[k], &from.full[k]);
            if !Arc::ptr_eq(mine, theirs) && mine[..] == theirs[..] {
                *mine = Arc::clone(theirs);
            }
        }
        self.offered = self.offered.max(upto);
    }
    /// Whether this column's ids are the first ids of `other` (the same ids at the same
    /// places). A shared chunk is equal without a look at its ids.
    pub fn is_prefix_of(&self, other: &IdColumn) -> bool {
        let at = self.full.len() * CHUNK_LEN;
        self.len() <= other.len()
            && self
                .full
                .iter()
                .zip(&other.full)
                .all(|(a, b)| Arc::ptr_eq(a, b) || a[..] == b[..])
            && self
                .tail
                .iter()
                .enumerate()
                .all(|(j, id)| other.get(at + j) == Some(id))
    }
    /// Whether full chunk `k` is the same allocation as `other`'s (tests, the bench's census).
    #[doc(hidden)]
    pub fn shares_chunk(&self, other: &IdColumn, k: usize) -> bool {
        matches!((self.full.get(k), other.full.get(k)), (Some(a), Some(b)) if Arc::ptr_eq(a, b))
    }
}

impl IdIndex {
    /// An index numbering the ids of `ids` by their place (ids that are all different: a
    /// numbering's, or a table's pushed or checked ones).
    pub fn from_column(ids: &IdColumn) -> IdIndex {
        let mut ix = IdIndex::default();
        for (i, id) in ids.iter().enumerate() {
            ix.insert(id.as_str(), i as u32, |j| ids[j as usize].as_bytes());
        }
        ix
    }
}

impl std::ops::Index<usize> for IdColumn {
    type Output = SmallId;
    #[inline]
    fn index(&self, i: usize) -> &SmallId {
        self.get(i).expect("record number within the id column")
    }
}

/// Records in first-receipt order, each with its complaint id (in the [`IdColumn`]), and an id
/// index (never serialised: rebuilt by [`RecordTable::reindex`] after a load). Serialises
/// exactly as the sequence of `(id, record)` pairs — in postcard the bytes of a record whose
/// first field is the id, which is what every projection wrote before the column (checkpoint
/// format unchanged).
#[derive(Debug)]
pub struct RecordTable<R> {
    ids: IdColumn,
    recs: ChunkedVec<R>,
    index: Lookup,
}

/// Where a record table looks complaints up ([`RecordTable::use_numbering`]'s answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookups {
    /// In the set's numbering index.
    Numbering,
    /// In an index of its own ids (the numbering does not number its records alike).
    Own,
}

impl<R: Clone> Clone for RecordTable<R> {
    /// A copy is on its own: an index of exactly its ids (a numbering's index knows complaints
    /// beyond the table, whose numbers a rehash of a copied index would look up in vain), and it
    /// never writes through, or relies on, another set's numbering.
    fn clone(&self) -> Self {
        let index = match &self.index {
            Lookup::Own(ix) => ix.clone(),
            Lookup::Numbering(_) => self.own_index(),
        };
        RecordTable {
            ids: self.ids.clone(),
            recs: self.recs.clone(),
            index: Lookup::Own(index),
        }
    }
}

impl<R> Default for RecordTable<R> {
    fn default() -> Self {
        RecordTable {
            ids: IdColumn::default(),
            recs: ChunkedVec::default(),
            index: Lookup::Own(IdIndex::default()),
        }
    }
}

impl<R: PartialEq> PartialEq for RecordTable<R> {
    fn eq(&self, other: &Self) -> bool {
        self.ids == other.ids && self.recs == other.recs
    }
}

impl<R: Serialize> Serialize for RecordTable<R> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.recs.len()))?;
        for (id, r) in self.ids.iter().zip(self.recs.iter()) {
            seq.serialize_element(&(id, r))?;
        }
        seq.end()
    }
}

impl<'de, R: Deserialize<'de>> Deserialize<'de> for RecordTable<R> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<R>(std::marker::PhantomData<R>);
        impl<'de, R: Deserialize<'de>> serde::de::Visitor<'de> for V<R> {
            type Value = RecordTable<R>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of (complaint id, record)")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = RecordTable::default();
                while let Some((id, r)) = seq.next_element::<(SmallId, R)>()? {
                    out.ids.push(id);
                    out.recs.push(r);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

impl<R> RecordTable<R> {
    pub fn len(&self) -> usize {
        self.recs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }
    pub fn get(&self, i: usize) -> Option<&R> {
        self.recs.get(i)
    }
    /// The records in first-receipt order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &R> + '_ {
        self.recs.iter()
    }
    /// The records in first-receipt order, to change in place (not their ids).
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut R> + '_ {
        self.recs.iter_mut()
    }
    /// The records with their complaint ids, in first-receipt order.
    pub fn iter_with_ids(&self) -> impl Iterator<Item = (&SmallId, &R)> + '_ {
        self.ids.iter().zip(self.recs.iter())
    }
    /// The complaint id of record `i`.
    #[inline]
    pub fn id(&self, i: usize) -> &SmallId {
        &self.ids[i]
    }
    /// The id column ([`crate::Projection::record_ids`]).
    pub fn ids(&self) -> &IdColumn {
        &self.ids
    }
    /// Shares the full chunks of ids this table has in common with `from` (the runner's
    /// numbering): see [`IdColumn::share_from`].
    pub fn share_ids_from(&mut self, from: &IdColumn) {
        self.ids.share_from(from);
    }
    /// The record number of complaint `id`.
    #[inline]
    pub fn find(&self, id: &str) -> Option<u32> {
        let ids = &self.ids;
        let of = |i: u32| ids.get(i as usize).map_or(NOT_AN_ID, SmallId::as_bytes);
        match &self.index {
            Lookup::Own(ix) => ix.get(id, of),
            Lookup::Numbering(ix) => read(ix).get(id, of),
        }
    }
    /// Looks complaints up in the set's numbering (`index`, which numbers the ids of
    /// `numbered`) from now on, dropping this table's own index — when this table's ids are the
    /// first ids of the numbering. Otherwise the table keeps (or goes back to) an index of its
    /// own. Says which it does.
    pub(crate) fn use_numbering(&mut self, index: &SharedIndex, numbered: &IdColumn) -> Lookups {
        let covered = read(index).len() == numbered.len() && self.ids.is_prefix_of(numbered);
        if !covered {
            if let Lookup::Numbering(_) = self.index {
                self.index = Lookup::Own(self.own_index());
            }
            return Lookups::Own;
        }
        self.index = Lookup::Numbering(Arc::clone(index));
        debug_assert!(
            self.ids
                .iter()
                .enumerate()
                .all(|(i, id)| self.find(id.as_str()) == Some(i as u32)),
            "the numbering finds every record of the table under its number"
        );
        Lookups::Numbering
    }
    /// Whether lookups go through `numbering` (tests, the set's checks).
    pub(crate) fn uses_numbering(&self, numbering: &SharedIndex) -> bool {
        matches!(&self.index, Lookup::Numbering(ix) if Arc::ptr_eq(ix, numbering))
    }
    /// The record number of complaint `id`, trying the runner's hint first (a wrong hint costs
    /// a lookup, never correctness).
    #[inline]
    pub fn locate(&self, id: &str, hint: Option<u32>) -> Option<u32> {
        if let Some(h) = hint {
            if self.ids.get(h as usize).is_some_and(|r| r.as_bytes() == id.as_bytes()) {
                return Some(h);
            }
        }
        self.find(id)
    }
    /// Appends the record of complaint `id`, not in the table yet; returns its number.
    pub fn push(&mut self, id: &str, rec: R) -> u32 {
        assert!(self.recs.len() < u32::MAX as usize, "record count over u32");
        debug_assert!(self.find(id).is_none(), "complaint {id:?} pushed twice");
        let i = self.recs.len() as u32;
        self.ids.push(SmallId::new(id));
        self.recs.push(rec);
        assert_eq!(self.ids.len(), self.recs.len(), "one id per record");
        // Fed by a set, the numbering has the complaint already, under the same number; a table
        // fed otherwise (a caller folding a set's projection on its own) goes back to its own
        // index, so a lookup never depends on the caller's discipline. Inside a set that would
        // be a broken invariant: the set's `apply` asserts (debug) that it never happens.
        let ids = &self.ids;
        let numbered_alike = match &mut self.index {
            Lookup::Own(ix) => {
                ix.insert(id, i, |j| ids[j as usize].as_bytes());
                true
            }
            Lookup::Numbering(ix) => {
                let of = |j: u32| ids.get(j as usize).map_or(NOT_AN_ID, SmallId::as_bytes);
                read(ix).get(id, of) == Some(i)
            }
        };
        if !numbered_alike {
            self.index = Lookup::Own(self.own_index());
        }
        i
    }
    /// An index of this table's ids alone.
    fn own_index(&self) -> IdIndex {
        IdIndex::from_column(&self.ids)
    }
    /// Rebuilds the id index (after the records were deserialised), refusing what
    /// [`RecordTable::push`] never makes: an id that is not a complaint id, or one id twice.
    pub fn reindex(&mut self) -> Result<(), InvalidState> {
        let mut index = IdIndex::default();
        let ids = &self.ids;
        ensure(ids.len() == self.recs.len(), || {
            format!("{} ids for {} records", ids.len(), self.recs.len())
        })?;
        ensure(ids.len() <= u32::MAX as usize, || {
            format!("{} records, over u32", ids.len())
        })?;
        for (i, sid) in ids.iter().enumerate() {
            let id = sid.as_str();
            check_complaint_id(sid).map_err(|e| e.within(format_args!("record {i}")))?;
            let of = |j: u32| ids[j as usize].as_bytes();
            if let Some(j) = index.get(id, of) {
                return Err(InvalidState::new(format!(
                    "records {j} and {i} have the same id {id:?}"
                )));
            }
            index.insert(id, i as u32, of);
        }
        self.index = Lookup::Own(index);
        Ok(())
    }
    /// Runs `check` on every record; a fault names the record's number and id.
    pub fn check_each(&self, mut check: impl FnMut(&R) -> Result<(), InvalidState>) -> Result<(), InvalidState> {
        for (i, (id, r)) in self.iter_with_ids().enumerate() {
            check(r).map_err(|e| e.within(format_args!("record {i} ({id:?})")))?;
        }
        Ok(())
    }
    /// `Ok` when `i` numbers a record of this table; `what` names the reference.
    pub fn check_number(&self, i: u32, what: &str) -> Result<(), InvalidState> {
        ensure((i as usize) < self.recs.len(), || {
            format!("{what} is record {i} of a table of {}", self.recs.len())
        })
    }
    /// A copy with record `i`'s id replaced (crafted checkpoints for the load checks).
    #[cfg(test)]
    pub(crate) fn with_id(&self, i: usize, id: SmallId) -> Self
    where
        R: Clone,
    {
        let mut out = RecordTable::default();
        for (j, (old, r)) in self.iter_with_ids().enumerate() {
            out.ids.push(if j == i { id.clone() } else { old.clone() });
            out.recs.push(r.clone());
        }
        out
    }
}

/// `Ok` when `id` is a valid complaint id (what every record and link was made from; reports
/// turn it back into one).
pub fn check_complaint_id(id: &SmallId) -> Result<(), InvalidState> {
    plaint_domain::ids::ComplaintId::new(id.as_str())
        .map(|_| ())
        .map_err(|e| InvalidState::new(format!("{id:?} is not a complaint id: {e}")))
}

/// What a projection set needs of a projection's record table, whatever its record type
/// ([`crate::Projection::id_table`]): the ids, their sharing and their lookups.
#[doc(hidden)]
pub trait IdTable {
    /// [`RecordTable::ids`].
    fn ids(&self) -> &IdColumn;
    /// [`RecordTable::share_ids_from`].
    fn share_ids_from(&mut self, from: &IdColumn);
    /// [`RecordTable::use_numbering`].
    fn use_numbering(&mut self, index: &SharedIndex, numbered: &IdColumn) -> Lookups;
    /// [`RecordTable::uses_numbering`].
    fn uses_numbering(&self, numbering: &SharedIndex) -> bool;
}

impl<R> IdTable for RecordTable<R> {
    fn ids(&self) -> &IdColumn {
        RecordTable::ids(self)
    }
    fn share_ids_from(&mut self, from: &IdColumn) {
        RecordTable::share_ids_from(self, from)
    }
    fn use_numbering(&mut self, index: &SharedIndex, numbered: &IdColumn) -> Lookups {
        RecordTable::use_numbering(self, index, numbered)
    }
    fn uses_numbering(&self, numbering: &SharedIndex) -> bool {
        RecordTable::uses_numbering(self, numbering)
    }
}

impl<R> std::ops::Index<usize> for RecordTable<R> {
    type Output = R;
    #[inline]
    fn index(&self, i: usize) -> &R {
        &self.recs[i]
    }
}

impl<R> std::ops::IndexMut<usize> for RecordTable<R> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut R {
        &mut self.recs[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Old(SmallId, u32);

    #[test]
    fn records_are_found_by_id_and_hint_and_serialise_as_records_with_their_id_first() {
        let mut t = RecordTable::default();
        assert_eq!(t.push("A", 1u32), 0);
        assert_eq!(t.push("B", 2), 1);
        assert_eq!(t.find("B"), Some(1));
        assert_eq!(t.locate("B", Some(0)), Some(1), "a wrong hint falls back to the lookup");
        assert_eq!(t.locate("A", Some(0)), Some(0));
        assert_eq!(t.locate("B", Some(9)), Some(1), "a hint beyond the table too");
        assert_eq!(t.find("C"), None);
        // The bytes of the records before the id column (an `id` first field): format unchanged.
        let bytes = postcard::to_allocvec(&t).unwrap();
        let old = vec![Old(SmallId::new("A"), 1), Old(SmallId::new("B"), 2)];
        assert_eq!(bytes, postcard::to_allocvec(&old).unwrap());
        let mut back: RecordTable<u32> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.find("B"), None, "the index is not serialised");
        back.reindex().unwrap();
        assert_eq!(back.find("B"), Some(1));
        assert_eq!(back, t);
        assert_eq!(back.id(0).as_str(), "A");
    }

    #[test]
    fn a_table_looks_up_in_a_numbering_that_runs_ahead_and_falls_back_to_its_own_index() {
        let numbering: SharedIndex = SharedIndex::default();
        let mut ids = IdColumn::default();
        for id in ["A", "B", "C"] {
            ids.push(SmallId::new(id));
        }
        *write(&numbering) = IdIndex::from_column(&ids);
        let mut t = RecordTable::default();
        assert_eq!(t.use_numbering(&numbering, &ids), Lookups::Numbering);
        assert_eq!(t.push("A", 1u32), 0);
        assert_eq!(t.push("B", 2), 1);
        assert!(t.uses_numbering(&numbering), "numbered alike: the set's index serves");
        assert_eq!(t.find("B"), Some(1));
        assert_eq!(t.find("C"), None, "numbered, but beyond the table");
        assert_eq!(t.locate("C", Some(2)), None);
        let copy = t.clone();
        assert!(!copy.uses_numbering(&numbering), "a copy has its own index");
        assert_eq!((copy.find("B"), copy.find("C")), (Some(1), None));
        // Fed what the numbering numbers otherwise: back to an index of its own, still right.
        assert_eq!(t.push("D", 4), 2);
        assert!(!t.uses_numbering(&numbering));
        assert_eq!((t.find("D"), t.find("C"), t.find("A")), (Some(2), None, Some(0)));
        assert_eq!(t.push("E", 5), 3);
        assert_eq!(t.find("E"), Some(3));
    }

    #[test]
    fn a_table_is_pointed_at_a_numbering_only_when_its_ids_are_the_numbering_s_first() {
        let numbering: SharedIndex = SharedIndex::default();
        let ids = column(0..CHUNK_LEN + 3);
        *write(&numbering) = IdIndex::from_column(&ids);
        let table = |range: std::ops::Range<usize>| {
            let mut t = RecordTable::default();
            for i in range {
                t.push(&format!("C-{i}"), i as u32);
            }
            t
        };
        let mut prefix = table(0..CHUNK_LEN + 1);
        assert_eq!(prefix.use_numbering(&numbering, &ids), Lookups::Numbering);
        assert!(prefix.uses_numbering(&numbering));
        // Same length, other ids; a table longer than the numbering; a different tail id.
        let mut shifted = table(1..CHUNK_LEN + 2);
        let mut longer = table(0..CHUNK_LEN + 4);
        let mut other_tail = table(0..CHUNK_LEN);
        other_tail.push("C-99999", 0);
        for t in [&mut shifted, &mut longer, &mut other_tail] {
            assert_eq!(t.use_numbering(&numbering, &ids), Lookups::Own);
            assert!(!t.uses_numbering(&numbering));
        }
        assert_eq!(shifted.find("C-1"), Some(0), "its own index still answers");
        assert_eq!(other_tail.find("C-99999"), Some(CHUNK_LEN as u32));
        // An index that does not number the column handed with it is not used either.
        let mut empty = RecordTable::<u32>::default();
        assert_eq!(empty.use_numbering(&numbering, &column(0..2)), Lookups::Own);
    }

    #[test]
    fn a_copy_of_a_table_on_a_numbering_that_runs_ahead_grows_on_its_own() {
        // The set's numbering knows many complaints the table has not seen (the engine folds
        // repeats ahead of tickets). A copy of the table must not take over the numbering's
        // entries: growing the copy's index would rehash numbers beyond the copy's ids.
        let numbering: SharedIndex = SharedIndex::default();
        let ids = column(0..3 * CHUNK_LEN);
        *write(&numbering) = IdIndex::from_column(&ids);
        let mut t = RecordTable::<u32>::default();
        assert_eq!(t.use_numbering(&numbering, &ids), Lookups::Numbering);
        let mut copy = t.clone();
        assert!(!copy.uses_numbering(&numbering));
        for i in 0..3 * CHUNK_LEN {
            assert_eq!(copy.push(&format!("C-{i}"), 0), i as u32);
        }
        assert_eq!(
            copy.find(&format!("C-{}", 3 * CHUNK_LEN - 1)),
            Some(3 * CHUNK_LEN as u32 - 1)
        );
        assert_eq!(t.find("C-0"), None, "the original saw nothing");
    }

    fn column(ids: std::ops::Range<usize>) -> IdColumn {
        let mut c = IdColumn::default();
        for i in ids {
            c.push(SmallId::new(&format!("C-{i}")));
        }
        c
    }

    #[test]
    fn full_chunks_of_equal_ids_become_one_allocation_and_others_stay_apart() {
        let n = CHUNK_LEN * 3 + 5;
        let numbering = column(0..n);
        let mut same = column(0..n);
        // A table that has seen less: a prefix, two full chunks.
        let mut shorter = column(0..CHUNK_LEN * 2 + 1);
        // A table whose second chunk differs (what a damaged checkpoint could hold).
        let mut other = column(0..n);
        other.full[1] = column(CHUNK_LEN * 7..CHUNK_LEN * 8).full[0].clone();
        let other_before = other.clone();
        for c in [&mut same, &mut shorter, &mut other] {
            assert!(!c.shares_chunk(&numbering, 0));
            c.share_from(&numbering);
        }
        assert!((0..3).all(|k| same.shares_chunk(&numbering, k)));
        assert_eq!(same, numbering, "sharing changes no id");
        assert!(shorter.shares_chunk(&numbering, 0) && shorter.shares_chunk(&numbering, 1));
        assert_eq!(shorter.len(), CHUNK_LEN * 2 + 1);
        assert!(other.shares_chunk(&numbering, 0) && other.shares_chunk(&numbering, 2));
        assert!(
            !other.shares_chunk(&numbering, 1),
            "a chunk that differs is not replaced"
        );
        assert_eq!(other, other_before);
        // Growing on: the tail fills into a chunk of its own, shared on the next offer.
        let mut grown = numbering.clone();
        let mut mine = numbering.clone();
        for i in n..CHUNK_LEN * 4 {
            grown.push(SmallId::new(&format!("C-{i}")));
            mine.push(SmallId::new(&format!("C-{i}")));
        }
        assert!(!mine.shares_chunk(&grown, 3));
        mine.share_from(&grown);
        assert!(mine.shares_chunk(&grown, 3));
        assert_eq!(
            mine.get(CHUNK_LEN * 4 - 1).unwrap().as_str(),
            format!("C-{}", CHUNK_LEN * 4 - 1)
        );
        assert_eq!(mine.get(CHUNK_LEN * 4), None);
    }
}
