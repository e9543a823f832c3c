//! A hash table split into [`SHARDS`] tables by bits of the hash, so that no single growth
//! moves more than about 1/[`SHARDS`] of the entries.
//!
//! Why: a hash table doubles all at once, and for a long-running server that is one stop
//! proportional to everything held — wave 13's profile of `plaint serve` found the file log's
//! stream index doubling on the log's writer thread for 70 / 130 / 230 ms at 4.6 / 9.2 / 17.5 s
//! of a 20 s run (mostly the kernel zeroing the new table's pages), everyone waiting behind it,
//! and the projections' numbering (`IdIndex`) for ≈ 30 ms. Split in [`SHARDS`] tables, each
//! growth allocates, zeroes and moves 1/[`SHARDS`] of that; the total memory is the same (the
//! same load factor, per shard), a lookup costs one more shift and index. The shards fill
//! evenly (the hashes are uniform), so their growths come close together in count, but each
//! between other work: a writer batch or a group fold inserts far fewer entries than the spread
//! of the shards' sizes (√(n/[`SHARDS`]) each).
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
        self.len += 1;
        self.shards[shard_of(hash)]
            .insert_unique(hash, value, hasher)
            .into_mut()
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
                self.len += 1;
                e.insert(make()).into_mut()
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

    pub fn len(&self) -> usize {
        debug_assert_eq!(self.len, self.shards.iter().map(HashTable::len).sum::<usize>());
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, in an arbitrary order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.shards.iter().flat_map(HashTable::iter)
    }

    /// Bytes allocated by the shards' tables.
    pub fn allocation_size(&self) -> usize {
        self.shards.iter().map(HashTable::allocation_size).sum()
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

    #[test]
    fn the_shard_bits_are_neither_the_tag_nor_the_bucket_bits() {
        assert_eq!(SHARD_SHIFT, 51);
        assert_eq!(shard_of(u64::MAX << 57), 0, "hashbrown's 7-bit tag ignored");
        assert_eq!(shard_of((1 << 51) - 1), 0, "the bucket index's bits ignored");
        assert_eq!(shard_of(0b101 << 51), 0b101);
    }
}
