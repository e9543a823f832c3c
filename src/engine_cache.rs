//! The command path's per-complaint bookkeeping: the state cache and the lock stripes.
//!
//! Both are keyed by complaint id and hashed with foldhash (seeded per process, not
//! cryptographic; issue 13, wave 7: before, the cache hashed with SipHash and the stripes with
//! BLAKE3). Why a fast hash is safe for each:
//!
//! - the **state cache** is only a shortcut: every append still carries the expected stream
//!   version, so neither a stale nor a missing entry can make a wrong write, and colliding
//!   ids (which a caller choosing complaint ids could only produce by guessing the process's
//!   random seed) would cost probes in a map bounded by [`STATE_CACHE_ENTRIES_MAX`], never a
//!   wrong state;
//! - a **lock stripe** only makes commands take turns: two complaints on one stripe wait for
//!   each other, which is slower, never wrong (different processes are kept apart by the
//!   store's expected-version check, not by these locks).

use super::STATE_CACHE_ENTRIES_MAX;
use hashbrown::HashMap;
use plaint_domain::state::ComplaintState;
use plaint_domain::ComplaintId;
use std::hash::BuildHasher;

/// Lock stripes for per-complaint turn-taking in [`crate::Engine::execute`].
const WRITE_STRIPES: usize = 256;

/// When the state cache is full, one entry in this many is dropped.
const EVICT_ONE_IN: usize = 8;

/// The state cache's table is made for this many entries, twice its bound (see [`StateCache`]).
const TABLE_ENTRIES: usize = 2 * STATE_CACHE_ENTRIES_MAX;

// An eviction drops at least one entry, and the table stays at most half full at the bound.
const _: () = assert!(STATE_CACHE_ENTRIES_MAX >= EVICT_ONE_IN);
const _: () = assert!(2 * STATE_CACHE_ENTRIES_MAX <= TABLE_ENTRIES);

type Hasher = foldhash::fast::RandomState;

/// The state of recently written complaints, as of this process's last append to each. Only a
/// shortcut: every append still carries the expected stream version, so a stale entry (another
/// process wrote) costs a conflict and a fresh read, never a wrong write.
///
/// Bounded: at most [`STATE_CACHE_ENTRIES_MAX`] entries. Each state is boxed, so the table holds
/// a key and a pointer per slot (32 bytes) and never a state (about 1 KiB). Its one allocation
/// is made whole by the first `put`, for twice the bound ([`TABLE_ENTRIES`]: 262,144 slots,
/// ≈ 8.3 MiB), so an engine that never writes (a read-only CLI engine, `copy`'s source) never
/// makes it, and the table never grows: at most half full, a table whose free slots run out
/// (the tombstones of `take`'s removals) is rehashed in place by hashbrown, not doubled (a table
/// sized for the bound alone doubled under take/put churn at the bound:
/// `the_cache_never_grows`). Its pages are touched as they are first used, but foldhash spreads
/// the keys over all of them: once a few thousand complaints were cached the whole ≈ 8 MiB is
/// resident. Before (issue 15, wave 9), the table held the states themselves and grew by
/// doubling: under `plaint serve`'s load every doubling moved every state into a fresh, larger
/// allocation (≈ 100 MiB of page zeroing and copying over a 38,400-complaint run; 26 % of the
/// engine's samples). At the bound the cache holds the ≈ 8.3 MiB table plus the boxed states
/// (≈ 1 KiB each, and their strings).
#[derive(Debug)]
pub(crate) struct StateCache {
    states: std::sync::Mutex<HashMap<ComplaintId, Box<ComplaintState>, Hasher>>,
}

impl Default for StateCache {
    fn default() -> StateCache {
        StateCache {
            states: std::sync::Mutex::new(HashMap::with_hasher(Hasher::default())),
        }
    }
}

impl StateCache {
    /// Takes the state of `id` out of the cache, with the cache's own key (put back under it,
    /// the id is not copied).
    pub(crate) fn take(&self, id: &ComplaintId) -> Option<(ComplaintId, Box<ComplaintState>)> {
        self.lock().remove_entry(id)
    }

    /// Keeps `state` for `id`; the first `put` makes the whole table. When the cache is full, an
    /// arbitrary eighth of it is taken out in one pass over the table (a dropped state only
    /// costs its complaint's next command a read of the stream): an insert at the bound costs a
    /// share of that pass, not a scan each. The evicted states (≈ 12,500 boxes and their
    /// strings) are freed after the lock is let go, not while every worker waits on it.
    /// (Before, each insert at the bound dropped the entry `keys().next()` found: a scan from
    /// the table's first slot, which under churn walked ever further into the emptied front.)
    pub(crate) fn put(&self, id: ComplaintId, state: Box<ComplaintState>) {
        let mut states = self.lock();
        if states.capacity() == 0 {
            states.reserve(TABLE_ENTRIES);
        }
        let evicted = if states.len() >= STATE_CACHE_ENTRIES_MAX && !states.contains_key(&id) {
            evict_an_eighth(&mut states)
        } else {
            Vec::new()
        };
        states.insert(id, state);
        debug_assert!(states.len() <= STATE_CACHE_ENTRIES_MAX);
        drop(states);
        drop(evicted);
    }

    /// Drops the states of `ids`.
    pub(crate) fn forget<'a>(&self, ids: impl IntoIterator<Item = &'a ComplaintId>) {
        let mut states = self.lock();
        for id in ids {
            states.remove(id);
        }
    }

    /// How many states the table holds without growing.
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.lock().capacity()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ComplaintId, Box<ComplaintState>, Hasher>> {
        self.states.lock().expect("state cache lock")
    }
}

/// Takes one entry in [`EVICT_ONE_IN`] out of `states`, for the caller to free after unlocking.
/// (The map is hashbrown's, std's own underneath, for `extract_if`: std's needs Rust 1.88 and
/// the workspace's MSRV is 1.85.)
fn evict_an_eighth(
    states: &mut HashMap<ComplaintId, Box<ComplaintState>, Hasher>,
) -> Vec<(ComplaintId, Box<ComplaintState>)> {
    let before = states.len();
    let mut seen = 0usize;
    let evicted: Vec<_> = states
        .extract_if(|_, _| {
            seen += 1;
            seen % EVICT_ONE_IN == 0
        })
        .collect();
    debug_assert_eq!(evicted.len(), before / EVICT_ONE_IN);
    evicted
}

/// Per-complaint turn-taking for [`crate::Engine::execute`]: one lock per stripe, a complaint's
/// stripe picked by a hash of its id.
#[derive(Debug)]
pub(crate) struct Stripes {
    locks: Vec<tokio::sync::Mutex<()>>,
    hasher: Hasher,
}

impl Default for Stripes {
    fn default() -> Stripes {
        Stripes {
            locks: (0..WRITE_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            hasher: Hasher::default(),
        }
    }
}

impl Stripes {
    /// The lock that commands on `id` take turns on.
    pub(crate) fn of(&self, id: &ComplaintId) -> &tokio::sync::Mutex<()> {
        &self.locks[self.index(id)]
    }

    /// The stripe of `id`: the hash's high bits (multiply-shift), so every bit of it counts.
    fn index(&self, id: &ComplaintId) -> usize {
        let h = self.hasher.hash_one(id.as_str());
        let i = ((u128::from(h) * self.locks.len() as u128) >> 64) as usize;
        debug_assert!(i < self.locks.len());
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: usize) -> ComplaintId {
        ComplaintId::new(format!("CMP-2026-{n:06}")).unwrap()
    }

    #[test]
    fn complaint_ids_spread_over_the_stripes() {
        let stripes = Stripes::default();
        let mut used = vec![0usize; WRITE_STRIPES];
        for n in 0..WRITE_STRIPES * 64 {
            let i = stripes.index(&id(n));
            assert_eq!(i, stripes.index(&id(n)), "one complaint, one stripe");
            used[i] += 1;
        }
        // 64 ids per stripe on average; a hash that used few of its bits would leave many empty
        // and crowd others.
        assert!(used.iter().all(|&u| (16..=160).contains(&u)), "{used:?}");
    }

    #[test]
    fn the_cache_gives_back_its_key_and_stays_bounded() {
        let cache = StateCache::default();
        cache.put(id(1), Box::new(ComplaintState::new()));
        let (key, _) = cache.take(&id(1)).expect("cached");
        assert_eq!(key, id(1));
        assert!(cache.take(&id(1)).is_none(), "taken out, not copied");
        for n in 0..STATE_CACHE_ENTRIES_MAX + 10 {
            cache.put(id(n), Box::new(ComplaintState::new()));
        }
        let len = cache.lock().len();
        assert!(len <= STATE_CACHE_ENTRIES_MAX, "bounded: {len}");
        assert!(
            len >= STATE_CACHE_ENTRIES_MAX - STATE_CACHE_ENTRIES_MAX / EVICT_ONE_IN,
            "an eighth dropped: {len}"
        );
        // The entry put at the bound (id(MAX)) survives its own put's eviction; so does the last.
        for n in [STATE_CACHE_ENTRIES_MAX, STATE_CACHE_ENTRIES_MAX + 9] {
            let (key, state) = cache.take(&id(n)).expect("the put at and after the bound kept");
            cache.put(key, state);
        }
        cache.forget([&id(STATE_CACHE_ENTRIES_MAX + 9)]);
        assert!(cache.take(&id(STATE_CACHE_ENTRIES_MAX + 9)).is_none());
    }

    #[test]
    fn the_cache_never_grows() {
        let cache = StateCache::default();
        assert_eq!(cache.capacity(), 0, "no table until the first put");
        cache.put(id(0), Box::new(ComplaintState::new()));
        let made = cache.capacity();
        assert!(made >= TABLE_ENTRIES, "made whole by the first put: {made}");
        for n in 1..STATE_CACHE_ENTRIES_MAX + 1_000 {
            cache.put(id(n), Box::new(ComplaintState::new()));
        }
        // Commands on cached complaints at the bound: each takes its state out and puts it
        // back (a removal and an insert), and as many new complaints evict old ones.
        for n in 0..2 * STATE_CACHE_ENTRIES_MAX {
            let n = if n % 2 == 0 {
                STATE_CACHE_ENTRIES_MAX + 1_000 + n
            } else {
                n % STATE_CACHE_ENTRIES_MAX
            };
            let (key, state) = cache
                .take(&id(n))
                .unwrap_or_else(|| (id(n), Box::new(ComplaintState::new())));
            cache.put(key, state);
            // `capacity` is the entries plus the free slots left: a doubled table would show
            // about twice what was made.
            assert!(
                cache.capacity() <= made,
                "grew at entry {n}: {} > {made}",
                cache.capacity()
            );
        }
        assert!(cache.lock().len() <= STATE_CACHE_ENTRIES_MAX);
    }

    #[test]
    fn a_put_at_the_bound_keeps_its_own_state() {
        let cache = StateCache::default();
        let mut next = 0;
        // 48 evictions, each by a put of a new complaint into the full cache: an eviction that
        // could take the entry being put would take it about one time in eight.
        for _ in 0..48 {
            while cache.lock().len() < STATE_CACHE_ENTRIES_MAX {
                cache.put(id(next), Box::new(ComplaintState::new()));
                next += 1;
            }
            cache.put(id(next), Box::new(ComplaintState::new()));
            assert!(cache.lock().len() < STATE_CACHE_ENTRIES_MAX, "evicted");
            assert!(cache.lock().contains_key(&id(next)), "the state just put, at {next}");
            next += 1;
        }
    }
}
