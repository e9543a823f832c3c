//! A hash table split into [`SHARDS`] tables by bits of the hash, so that no single growth
//! moves more than about 1/[`SHARDS`] of the entries.
//!
//! Why: a hash table doubles all at once, and for a long-running server that is one stop
//! proportional to everything held — wave 13's profile of `plaint serve` found the file log's
//! stream index doubling on the log's writer thread for 70 / 130 / 230 ms at 4.6 / 9.2 / 17.5 s
//! of a 20 s run (mostly the kernel zeroing the new table's pages), everyone waiting behind it,
//! and the projections' numbering (`IdIndex`) for ≈ 30 ms. Split in [`SHARDS`] tables, each
//! growth allocates, zeroes and moves 1/[`SHARDS`] of that; the total memory is the same (the
//! same load factor, per shard, plus the box of [`SHARDS`] empty tables), a lookup costs one
//! more shift and index and one more dependent load (through the box). The shards fill evenly
//! (the hashes are uniform), so their growths come close together in count: at n entries each
//! shard holds ≈ n/[`SHARDS`] ± √(n/[`SHARDS`]), so the [`SHARDS`] shards cross a growth point
//! spread over ≈ [`SHARDS`]·√(n/[`SHARDS`]) inserts — at n ≈ 230,000 (≈ 3,600 per shard) a
//! spread of σ ≈ 3,840 inserts, at its peak ≈ 0.0066 growths per insert. So a batch of more
//! than ≈ 150 new keys can expect more than one growth, and a full writer batch of new streams
//! (`WRITER_QUEUE_MAX` = 4,096) ≈ 27 of them (≈ 27 × 4 ms ≈ 100 ms): the bound is per growth, not
//! per batch.
//!
//! Chosen over incremental rehashing (two live tables, entries moved a few per insert): that
//! bounds each step tighter, but doubles every lookup while a move is under way and adds state
//! whose invariants (every entry in exactly one of the two) would need their own proofs; the
//! split keeps hashbrown's tables exactly as they are.
//!
//! The shard is chosen by bits [`SHARD_SHIFT`].. of the hash: not the top 7 bits (hashbrown's
//! tag, compared before the key — taking them would leave each shard's tags one bit of
//! entropy) and not the low bits (hashbrown's bucket index, for tables under 2^51 buckets).
//! Iteration visits the shards in order, each in its table's order: like a `HashMap`'s, an
//! arbitrary order no caller may rely on.

use hashbrown::HashTable;

/// Number of tables (a power of two).
pub const SHARDS: usize = 64;
/// The shard is `(hash >> SHARD_SHIFT) % SHARDS`: bits 51..57, below hashbrown's 7-bit tag.
pub const SHARD_SHIFT: u32 = 64 - 7 - SHARDS.trailing_zeros();

/// The shard of an entry whose hash is `hash`.
#[inline]
pub fn shard_of(hash: u64) -> usize {
    (hash >> SHARD_SHIFT) as usize & (SHARDS - 1)
}

/// A [`HashTable`] split in [`SHARDS`] (see the module docs). Like [`HashTable`] it holds no
/// hasher: every call passes the entry's hash, and inserting passes how to hash an entry
/// (for its shard's growth), which must agree with the hashes given.
#[derive(Clone)]
pub struct ShardedTable<T> {
    shards: Box<[HashTable<T>; SHARDS]>,
    len: usize,
}

impl<T> Default for ShardedTable<T> {
    fn default() -> Self {
        ShardedTable {
            shards: Box::new(std::array::from_fn(|_| HashTable::new())),
            len: 0,
        }
    }
}

impl<T> std::fmt::Debug for ShardedTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShardedTable({} entries)", self.len)
    }
}

impl<T> ShardedTable<T> {
    /// The entry hashed to `hash` for which `eq` holds.
    #[inline]
    pub fn find(&self, hash: u64, eq: impl FnMut(&T) -> bool) -> Option<&T> {
        self.shards[shard_of(hash)].find(hash, eq)
    }

    /// The entry hashed to `hash` for which `eq` holds, for changing (its key must not change).
    #[inline]
    pub fn find_mut(&mut self, hash: u64, eq: impl FnMut(&T) -> bool) -> Option<&mut T> {
        self.shards[shard_of(hash)].find_mut(hash, eq)
    }

    /// Adds `value` (hashed to `hash`; no equal entry may be present) and returns it for
    /// changing. `hasher` rehashes the entries of the shard when it grows.
    #[inline]
    pub fn insert_unique(&mut self, hash: u64, value: T, hasher: impl Fn(&T) -> u64) -> &mut T {
        // Counted after the insert: a growth runs `hasher`, which may panic.
        let e = self.shards[shard_of(hash)]
            .insert_unique(hash, value, hasher)
            .into_mut();
        self.len += 1;
        e
    }

    /// The entry hashed to `hash` for which `eq` holds, added as `make()` when there is none
    /// (one probe either way). `hasher` rehashes the entries of the shard when it grows.
    #[inline]
    pub fn find_or_insert_with(
        &mut self,
        hash: u64,
        eq: impl FnMut(&T) -> bool,
        make: impl FnOnce() -> T,
        hasher: impl Fn(&T) -> u64,
    ) -> &mut T {
        match self.shards[shard_of(hash)].entry(hash, eq, hasher) {
            hashbrown::hash_table::Entry::Occupied(e) => e.into_mut(),
            hashbrown::hash_table::Entry::Vacant(e) => {
                // Counted after `make()`, which may panic.
                let v = make();
                self.len += 1;
                e.insert(v).into_mut()
            }
        }
    }

    /// Removes and returns the entry hashed to `hash` for which `eq` holds.
    pub fn remove(&mut self, hash: u64, eq: impl FnMut(&T) -> bool) -> Option<T> {
        let entry = self.shards[shard_of(hash)].find_entry(hash, eq).ok()?;
        self.len -= 1;
        Some(entry.remove().0)
    }

    /// Removes every entry (the shards keep their memory, like [`HashTable::clear`]).
    pub fn clear(&mut self) {
        self.shards.iter_mut().for_each(HashTable::clear);
        self.len = 0;
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        debug_assert_eq!(self.len, self.shards.iter().map(HashTable::len).sum::<usize>());
        self.len
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, in an arbitrary order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.shards.iter().flat_map(HashTable::iter)
    }

    /// Bytes allocated: the box of [`SHARDS`] tables and the shards' own allocations.
    pub fn allocation_size(&self) -> usize {
        std::mem::size_of::<[HashTable<T>; SHARDS]>()
            + self.shards.iter().map(HashTable::allocation_size).sum::<usize>()
    }

    /// The largest shard's entry count: what one growth moves at most (for tests and
    /// benchmarks of the split).
    pub fn largest_shard(&self) -> usize {
        self.shards.iter().map(HashTable::len).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::hash::BuildHasher;

    /// A fixed-seed foldhash, as the stream index hashes.
    fn hash(k: u16) -> u64 {
        foldhash::fast::FixedState::with_seed(7).hash_one(k)
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
        Get(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Keys from a small range so that removes and lookups hit present keys often.
        prop_oneof![
            (0u16..2000, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            (0u16..2000).prop_map(Op::Remove),
            (0u16..2000).prop_map(Op::Get),
        ]
    }

    fn get(t: &ShardedTable<(u16, u32)>, k: u16) -> Option<u32> {
        t.find(hash(k), |e| e.0 == k).map(|e| e.1)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The split table answers exactly like a plain `HashMap` under any sequence of
        /// inserts (an existing key's value replaced in place), removes and lookups.
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec(op(), 0..3000)) {
            let mut plain: HashMap<u16, u32> = HashMap::new();
            let mut split: ShardedTable<(u16, u32)> = ShardedTable::default();
            for op in ops {
                match op {
                    Op::Insert(k, v) if v % 2 == 0 => {
                        split.find_or_insert_with(hash(k), |e| e.0 == k, || (k, v), |e| hash(e.0)).1 = v;
                        plain.insert(k, v);
                    }
                    Op::Insert(k, v) => {
                        match split.find_mut(hash(k), |e| e.0 == k) {
                            Some(e) => e.1 = v,
                            None => {
                                split.insert_unique(hash(k), (k, v), |e| hash(e.0));
                            }
                        }
                        plain.insert(k, v);
                    }
                    Op::Remove(k) => {
                        let removed = split.remove(hash(k), |e| e.0 == k).map(|e| e.1);
                        prop_assert_eq!(removed, plain.remove(&k));
                    }
                    Op::Get(k) => prop_assert_eq!(get(&split, k), plain.get(&k).copied()),
                }
                prop_assert_eq!(split.len(), plain.len());
            }
            let mut all: Vec<(u16, u32)> = split.iter().copied().collect();
            all.sort_unstable();
            let mut want: Vec<(u16, u32)> = plain.into_iter().collect();
            want.sort_unstable();
            prop_assert_eq!(all, want);
        }
    }

    #[test]
    fn the_shards_fill_evenly_so_no_growth_moves_much_more_than_a_share() {
        let mut t: ShardedTable<(u16, u32)> = ShardedTable::default();
        for k in 0..u16::MAX {
            t.insert_unique(hash(k), (k, 0), |e| hash(e.0));
        }
        let share = t.len() / SHARDS;
        assert!(
            t.largest_shard() < share + share / 4,
            "largest shard {} for a share of {share}",
            t.largest_shard()
        );
        t.clear();
        assert!(t.is_empty() && t.iter().next().is_none());
    }

    /// The shard bits leave hashbrown's 7-bit tag its full entropy: a lookup of an absent key
    /// compares keys only on a chance tag match (≈ 0.11 comparisons per lookup as written;
    /// 7.13 with the shard taken from the top bits, `hash >> 58`: deterministic, fixed seed).
    #[test]
    fn an_absent_key_is_rarely_compared_so_the_tag_bits_are_not_the_shard_bits() {
        let hash = |k: u32| foldhash::fast::FixedState::with_seed(7).hash_one(k);
        let mut t: ShardedTable<u32> = ShardedTable::default();
        for k in 0..200_000u32 {
            t.insert_unique(hash(k), k, |&e| hash(e));
        }
        let calls = std::cell::Cell::new(0u64);
        let lookups = 100_000u32;
        for k in 200_000..200_000 + lookups {
            let found = t.find(hash(k), |&e| {
                calls.set(calls.get() + 1);
                e == k
            });
            assert!(found.is_none());
        }
        let per_lookup = calls.get() as f64 / f64::from(lookups);
        assert!(per_lookup < 0.2, "{per_lookup} key comparisons per absent lookup");
    }

    /// A panic in `make` or in the hasher (run by a shard's growth) leaves the count equal to
    /// the entries held.
    #[test]
    fn a_panicking_make_or_hasher_leaves_len_alone() {
        use std::panic::{catch_unwind, AssertUnwindSafe};
        let mut t: ShardedTable<(u16, u32)> = ShardedTable::default();
        let r = catch_unwind(AssertUnwindSafe(|| {
            t.find_or_insert_with(hash(1), |e| e.0 == 1, || panic!("make"), |e| hash(e.0));
        }));
        assert!(r.is_err());
        assert_eq!(t.len(), t.iter().count());
        // An empty shard grows on its first insert: a panicking hasher is run then (or at a
        // later growth); insert until it is.
        let mut panicked = false;
        for k in 0..10_000u16 {
            let r = catch_unwind(AssertUnwindSafe(|| {
                t.insert_unique(hash(k), (k, 0), |_| panic!("hasher"));
            }));
            assert_eq!(t.len(), t.iter().count(), "after key {k}");
            if r.is_err() {
                panicked = true;
                break;
            }
        }
        assert!(panicked, "no growth ran the hasher");
    }

    /// The size counts the box of empty tables a new table holds.
    #[test]
    fn an_empty_table_counts_its_box_of_tables() {
        let t: ShardedTable<u32> = ShardedTable::default();
        assert_eq!(t.allocation_size(), SHARDS * std::mem::size_of::<HashTable<u32>>());
    }
}
