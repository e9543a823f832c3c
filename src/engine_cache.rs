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
use plaint_domain::state::ComplaintState;
use plaint_domain::ComplaintId;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Lock stripes for per-complaint turn-taking in [`crate::Engine::execute`].
const WRITE_STRIPES: usize = 256;

type Hasher = foldhash::fast::RandomState;

/// The state of recently written complaints, as of this process's last append to each. Only a
/// shortcut: every append still carries the expected stream version, so a stale entry (another
/// process wrote) costs a conflict and a fresh read, never a wrong write. At most
/// [`STATE_CACHE_ENTRIES_MAX`] entries.
#[derive(Debug, Default)]
pub(crate) struct StateCache {
    states: std::sync::Mutex<HashMap<ComplaintId, ComplaintState, Hasher>>,
}

impl StateCache {
    /// Takes the state of `id` out of the cache, with the cache's own key (put back under it,
    /// the id is not copied).
    pub(crate) fn take(&self, id: &ComplaintId) -> Option<(ComplaintId, ComplaintState)> {
        self.lock().remove_entry(id)
    }

    /// Keeps `state` for `id`; drops an arbitrary entry when the cache is full.
    pub(crate) fn put(&self, id: ComplaintId, state: ComplaintState) {
        let mut states = self.lock();
        if states.len() >= STATE_CACHE_ENTRIES_MAX && !states.contains_key(&id) {
            if let Some(victim) = states.keys().next().cloned() {
                states.remove(&victim);
            }
        }
        states.insert(id, state);
        debug_assert!(states.len() <= STATE_CACHE_ENTRIES_MAX);
    }

    /// Drops the states of `ids`.
    pub(crate) fn forget<'a>(&self, ids: impl IntoIterator<Item = &'a ComplaintId>) {
        let mut states = self.lock();
        for id in ids {
            states.remove(id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ComplaintId, ComplaintState, Hasher>> {
        self.states.lock().expect("state cache lock")
    }
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
        cache.put(id(1), ComplaintState::new());
        let (key, _) = cache.take(&id(1)).expect("cached");
        assert_eq!(key, id(1));
        assert!(cache.take(&id(1)).is_none(), "taken out, not copied");
        for n in 0..STATE_CACHE_ENTRIES_MAX + 10 {
            cache.put(id(n), ComplaintState::new());
        }
        assert_eq!(cache.lock().len(), STATE_CACHE_ENTRIES_MAX);
        cache.forget([&id(STATE_CACHE_ENTRIES_MAX + 9)]);
        assert!(cache.take(&id(STATE_CACHE_ENTRIES_MAX + 9)).is_none());
    }
}
