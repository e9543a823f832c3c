//! The record table every projection keeps (issue 11): one record per complaint, numbered in the
//! order the complaint's first `Received` appears in the log, with the complaint-id lookup and
//! the runner's hint check. A projection is a fold over its records plus its reports; the table
//! is the part they share, so numbering, lookup, reindexing after a checkpoint load and the
//! [`crate::Projection::record_id`] contract live in one place.

use crate::util::{ChunkedVec, IdIndex, SmallId};
use crate::{ensure, InvalidState};
use serde::{Deserialize, Serialize};

/// A per-complaint record: it knows its complaint id.
pub trait Record {
    fn id(&self) -> &SmallId;
}

/// Records in first-receipt order with an id index (never serialised: rebuilt by
/// [`RecordTable::reindex`] after a load). Serialises exactly as the sequence of records.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordTable<R> {
    recs: ChunkedVec<R>,
    #[serde(skip)]
    index: IdIndex,
}

impl<R> Default for RecordTable<R> {
    fn default() -> Self {
        RecordTable {
            recs: ChunkedVec::default(),
            index: IdIndex::default(),
        }
    }
}

impl<R: PartialEq> PartialEq for RecordTable<R> {
    fn eq(&self, other: &Self) -> bool {
        self.recs == other.recs
    }
}

impl<R: Record> RecordTable<R> {
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
    /// The record number of complaint `id`.
    #[inline]
    pub fn find(&self, id: &str) -> Option<u32> {
        self.index.get(id, |i| self.recs[i as usize].id().as_bytes())
    }
    /// The record number of complaint `id`, trying the runner's hint first (a wrong hint costs
    /// a lookup, never correctness).
    #[inline]
    pub fn locate(&self, id: &str, hint: Option<u32>) -> Option<u32> {
        if let Some(h) = hint {
            if self
                .recs
                .get(h as usize)
                .is_some_and(|r| r.id().as_bytes() == id.as_bytes())
            {
                return Some(h);
            }
        }
        self.find(id)
    }
    /// Appends the record of a complaint not in the table yet; returns its number.
    pub fn push(&mut self, rec: R) -> u32 {
        assert!(self.recs.len() < u32::MAX as usize, "record count over u32");
        let i = self.recs.len() as u32;
        self.recs.push(rec);
        let recs = &self.recs;
        let id = recs[i as usize].id().as_str();
        self.index.insert(id, i, |j| recs[j as usize].id().as_bytes());
        i
    }
    /// Rebuilds the id index (after the records were deserialised), refusing what
    /// [`RecordTable::push`] never makes: an id that is not a complaint id, or one id twice.
    pub fn reindex(&mut self) -> Result<(), InvalidState> {
        self.index.clear();
        let recs = &self.recs;
        ensure(recs.len() <= u32::MAX as usize, || {
            format!("{} records, over u32", recs.len())
        })?;
        for (i, r) in recs.iter().enumerate() {
            let id = r.id().as_str();
            check_complaint_id(r.id()).map_err(|e| e.within(format_args!("record {i}")))?;
            let of = |j: u32| recs[j as usize].id().as_bytes();
            if let Some(j) = self.index.get(id, of) {
                return Err(InvalidState::new(format!(
                    "records {j} and {i} have the same id {id:?}"
                )));
            }
            self.index.insert(id, i as u32, of);
        }
        Ok(())
    }
    /// Runs `check` on every record; a fault names the record's number and id.
    pub fn check_each(&self, mut check: impl FnMut(&R) -> Result<(), InvalidState>) -> Result<(), InvalidState> {
        for (i, r) in self.recs.iter().enumerate() {
            check(r).map_err(|e| e.within(format_args!("record {i} ({:?})", r.id())))?;
        }
        Ok(())
    }
    /// `Ok` when `i` numbers a record of this table; `what` names the reference.
    pub fn check_number(&self, i: u32, what: &str) -> Result<(), InvalidState> {
        ensure((i as usize) < self.recs.len(), || {
            format!("{what} is record {i} of a table of {}", self.recs.len())
        })
    }
    /// The complaint id of record `i`, as bytes ([`crate::Projection::record_id`]).
    pub fn id_bytes(&self, i: usize) -> &[u8] {
        self.recs[i].id().as_bytes()
    }
}

/// `Ok` when `id` is a valid complaint id (what every record and link was made from; reports
/// turn it back into one).
pub fn check_complaint_id(id: &SmallId) -> Result<(), InvalidState> {
    plaint_domain::ids::ComplaintId::new(id.as_str())
        .map(|_| ())
        .map_err(|e| InvalidState::new(format!("{id:?} is not a complaint id: {e}")))
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
    struct R(SmallId, u32);
    impl Record for R {
        fn id(&self) -> &SmallId {
            &self.0
        }
    }

    #[test]
    fn records_are_found_by_id_and_hint_and_serialise_as_the_plain_sequence() {
        let mut t = RecordTable::default();
        assert_eq!(t.push(R(SmallId::new("A"), 1)), 0);
        assert_eq!(t.push(R(SmallId::new("B"), 2)), 1);
        assert_eq!(t.find("B"), Some(1));
        assert_eq!(t.locate("B", Some(0)), Some(1), "a wrong hint falls back to the lookup");
        assert_eq!(t.locate("A", Some(0)), Some(0));
        assert_eq!(t.find("C"), None);
        let bytes = postcard::to_allocvec(&t).unwrap();
        let plain: Vec<R> = t.iter().cloned().collect();
        assert_eq!(bytes, postcard::to_allocvec(&plain).unwrap());
        let mut back: RecordTable<R> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.find("B"), None, "the index is not serialised");
        back.reindex().unwrap();
        assert_eq!(back.find("B"), Some(1));
        assert_eq!(back, t);
        assert_eq!(back.id_bytes(0), b"A");
    }
}
