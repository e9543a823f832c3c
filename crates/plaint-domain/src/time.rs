//! Instants and durations as the domain sees them.
//!
//! A [`Timestamp`] is a UTC instant with millisecond resolution stored as `i64` milliseconds
//! since the Unix epoch. It serialises as that integer in binary formats (postcard: compact and
//! fast to decode) and as an RFC 3339 string in human-readable formats (JSON, TOML).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A UTC instant, millisecond resolution.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// Milliseconds in common units, to keep arithmetic readable.
pub const MS_PER_SECOND: i64 = 1_000;
pub const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
pub const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
pub const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

impl Timestamp {
    /// The epoch itself; useful as a "before everything" bound.
    pub const EPOCH: Timestamp = Timestamp(0);
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Timestamp(dt.timestamp_millis())
    }
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
    /// Parses RFC 3339 (`2026-11-25T08:00:00Z`, `2026-11-25T16:00:00+08:00`).
    pub fn parse_rfc3339(s: &str) -> Result<Self, chrono::ParseError> {
        Ok(Self::from_datetime(
            DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc),
        ))
    }
    pub const fn plus_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }
    pub const fn plus_hours(self, hours: i64) -> Self {
        self.plus_millis(hours.saturating_mul(MS_PER_HOUR))
    }
    /// `self - earlier` in milliseconds (negative when `earlier` is later).
    pub const fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(dt: DateTime<Utc>) -> Self {
        Self::from_datetime(dt)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_datetime().to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A [`Timestamp`] in 6 bytes with alignment 1, so the bytes around it in a packed record are
/// not padding and a record of several instants sheds 2 bytes for each (issue 13: the
/// projections hold about 35 instants a complaint, millions of them; 8 bytes in waves 9–12,
/// alignment 4 until the review of wave 12). It is the one compact timestamp type.
///
/// Lossless for every `i64` instant ([`PackedTimestamp::get`] gives back exactly what
/// [`PackedTimestamp::new`] took) and serialised exactly as the `Timestamp`, so a checkpoint's
/// bytes do not depend on it. The 6 bytes are a 48-bit two's-complement code, little-endian:
///
/// - every instant in `[INLINE_MIN, INLINE_MAX]` (about years −2490 … 6430, every real date) is
///   its own code;
/// - `i64::MAX` ([`Timestamp::MAX`]: saturated deadlines, casework's "no due") and `i64::MIN`
///   have a code of their own (`2^47 − 1` and `−2^47`);
/// - any other instant is kept in a process-wide, deduplicated, append-only escape table, and
///   the code `−2^47 + 1 + i` names its entry `i`. Such an instant reaches a projection only
///   through a policy whose `input_bounds` (default 1990–2100: `decide` refuses `now`,
///   `occurred_at`, `contact_at`, a supervision's `due_at` and recorded deadlines outside them)
///   were widened past year 6430 (or before −2490), a log written before issue 11 brought the
///   bounds, or a crafted log or checkpoint (the `checkpoint_state` fuzz target decodes
///   arbitrary `i64`s). Its cost is bounded by the distinct out-of-range instants the process
///   ever packs (about 40 bytes each: the value and its entry in the lookup map, never freed;
///   [`escaped_instants`] counts them); none for real data (`tests/escaped_instants.rs` of
///   plaint-projections pins 0 for its logs and fixtures). Deduplication keeps the code a
///   function of the instant, so the derived `Eq` and `Hash` on the code are the instant's.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct PackedTimestamp([u8; 6]);

/// The code of `i64::MIN`: the lowest 48-bit code.
const CODE_MIN: i64 = -(1 << 47);
/// The code of `i64::MAX`: the highest 48-bit code.
const CODE_MAX: i64 = (1 << 47) - 1;
/// The escape table's entries: its codes lie just above [`CODE_MIN`].
const ESCAPES_MAX: i64 = 1 << 32;
/// The lowest instant held as its own code.
pub const INLINE_MIN: i64 = CODE_MIN + 1 + ESCAPES_MAX;
/// The highest instant held as its own code.
pub const INLINE_MAX: i64 = CODE_MAX - 1;
// The escape codes lie between `i64::MIN`'s code and the inline range, which ends below
// `i64::MAX`'s code.
const _: () = assert!(CODE_MIN + ESCAPES_MAX < INLINE_MIN && INLINE_MAX < CODE_MAX);

/// How many out-of-range instants the process-wide escape table of [`PackedTimestamp`] holds
/// (about 40 bytes each, never freed). For benches, fuzzing and tests that show or pin it; 0 for
/// real data.
#[doc(hidden)]
pub fn escaped_instants() -> usize {
    escape::len()
}

impl PackedTimestamp {
    #[inline]
    pub fn new(t: Timestamp) -> PackedTimestamp {
        let code = match t.0 {
            ms @ INLINE_MIN..=INLINE_MAX => ms,
            i64::MAX => CODE_MAX,
            i64::MIN => CODE_MIN,
            ms => CODE_MIN + 1 + escape::index_of(ms),
        };
        let b = code.to_le_bytes();
        PackedTimestamp([b[0], b[1], b[2], b[3], b[4], b[5]])
    }
    #[inline]
    pub fn get(self) -> Timestamp {
        let b = self.0;
        // Sign-extend the 48-bit code: place it in the high bytes and shift back.
        let code = i64::from_le_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]) >> 16;
        Timestamp(match code {
            INLINE_MIN..=INLINE_MAX => code,
            CODE_MAX => i64::MAX,
            CODE_MIN => i64::MIN,
            _ => escape::value_at(code - CODE_MIN - 1),
        })
    }
}

/// The escape table of [`PackedTimestamp`]: the out-of-range instants packed so far, each once.
mod escape {
    use super::ESCAPES_MAX;
    use std::collections::HashMap;
    use std::sync::{OnceLock, PoisonError, RwLock};

    #[derive(Default)]
    struct Table {
        values: Vec<i64>,
        /// Value → entry. (An `u32` entry would save nothing: `(i64, u32)` is 16 bytes too.)
        index: HashMap<i64, i64>,
    }

    fn table() -> &'static RwLock<Table> {
        static TABLE: OnceLock<RwLock<Table>> = OnceLock::new();
        TABLE.get_or_init(RwLock::default)
    }

    /// The entry of `ms`, added if it is new. The table only grows and each step leaves it
    /// whole (the value is pushed before it is indexed), so a poisoned lock is still sound.
    #[cold]
    #[inline(never)]
    pub(super) fn index_of(ms: i64) -> i64 {
        if let Some(&i) = table().read().unwrap_or_else(PoisonError::into_inner).index.get(&ms) {
            return i;
        }
        let mut t = table().write().unwrap_or_else(PoisonError::into_inner);
        // Again under the write lock: another thread may have added it since the read.
        if let Some(&i) = t.index.get(&ms) {
            return i;
        }
        let i = t.values.len() as i64;
        assert!(i < ESCAPES_MAX, "more than 2^32 distinct out-of-range instants packed");
        t.values.push(ms);
        t.index.insert(ms, i);
        i
    }

    /// The entries so far.
    pub(super) fn len() -> usize {
        table().read().unwrap_or_else(PoisonError::into_inner).values.len()
    }

    /// The instant of entry `i`. Only [`index_of`] makes codes (the bytes are private), so
    /// the entry exists.
    #[cold]
    #[inline(never)]
    pub(super) fn value_at(i: i64) -> i64 {
        let t = table().read().unwrap_or_else(PoisonError::into_inner);
        let value = usize::try_from(i).ok().and_then(|i| t.values.get(i));
        *value.expect("a packed timestamp's escape code names an entry of the table")
    }
}

impl From<Timestamp> for PackedTimestamp {
    fn from(t: Timestamp) -> Self {
        PackedTimestamp::new(t)
    }
}

impl From<PackedTimestamp> for Timestamp {
    fn from(t: PackedTimestamp) -> Self {
        t.get()
    }
}

impl fmt::Debug for PackedTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for PackedTimestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PackedTimestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Timestamp::deserialize(d).map(PackedTimestamp::new)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Timestamp::parse_rfc3339(&s).map_err(|e| {
                serde::de::Error::custom(format!(
                    "invalid timestamp {s:?} (want RFC 3339, e.g. 2026-11-25T08:00:00+08:00): {e}"
                ))
            })
        } else {
            Ok(Timestamp(i64::deserialize(d)?))
        }
    }
}

#[cfg(test)]
mod packed_tests {
    use super::*;
    use proptest::prelude::*;

    /// The instants the code treats apart: the range's edges and their neighbours, the two
    /// sentinels and theirs, the escape codes' edges, and ordinary ones.
    const EDGES: [i64; 18] = [
        i64::MIN,
        i64::MIN + 1,
        i64::MAX,
        i64::MAX - 1,
        INLINE_MIN,
        INLINE_MIN - 1,
        INLINE_MAX,
        INLINE_MAX + 1,
        CODE_MIN,
        CODE_MIN + 1,
        CODE_MAX,
        CODE_MIN + ESCAPES_MAX,
        -1,
        0,
        1,
        1_796_000_000_123,
        u32::MAX as i64,
        -62_135_596_800_000, // 0001-01-01
    ];

    /// The instant back, the code a function of the instant (equal codes for equal instants,
    /// different for different ones), and serialised (postcard and JSON) exactly as the
    /// `Timestamp`.
    fn check(ms: i64, other: i64) -> Result<(), TestCaseError> {
        let t = Timestamp::from_millis(ms);
        let p = PackedTimestamp::new(t);
        prop_assert_eq!(p.get().as_millis(), ms);
        prop_assert_eq!(PackedTimestamp::new(t), p);
        let q = PackedTimestamp::new(Timestamp::from_millis(other));
        prop_assert_eq!(p == q, ms == other, "{} against {}", ms, other);
        let bytes = postcard::to_allocvec(&p).unwrap();
        prop_assert_eq!(&bytes, &postcard::to_allocvec(&t).unwrap());
        prop_assert_eq!(postcard::from_bytes::<PackedTimestamp>(&bytes).unwrap(), p);
        if t.to_datetime().timestamp_millis() == ms {
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(&json, &serde_json::to_string(&t).unwrap());
            // JSON reads what RFC 3339 can say (years 0000–9999), as the `Timestamp` does.
            let back = serde_json::from_str::<Timestamp>(&json).ok().map(PackedTimestamp::new);
            prop_assert_eq!(serde_json::from_str::<PackedTimestamp>(&json).ok(), back);
        }
        Ok(())
    }

    /// Issue 13, wave 13: 6 bytes with alignment 1 (8 in waves 9–12), every edge kept.
    #[test]
    fn packed_timestamps_are_6_bytes_and_keep_every_edge() {
        assert_eq!(std::mem::size_of::<PackedTimestamp>(), 6);
        assert_eq!(std::mem::align_of::<PackedTimestamp>(), 1);
        assert_eq!(PackedTimestamp::default().get(), Timestamp::default());
        for a in EDGES {
            for b in EDGES {
                check(a, b).unwrap();
            }
        }
        // Real dates are their own code (the low 6 bytes of the instant, so no escape entry):
        // years -2400 and 6400. (Not `escaped_instants()` unchanged: the tests of this binary
        // run in parallel, and some add entries.)
        for (y, m, d) in [(-2400, 1, 1), (6400, 12, 31)] {
            let day = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let ms = day
                .and_hms_milli_opt(23, 59, 59, 999)
                .unwrap()
                .and_utc()
                .timestamp_millis();
            assert!((INLINE_MIN..=INLINE_MAX).contains(&ms), "{day}");
            let p = PackedTimestamp::new(Timestamp::from_millis(ms));
            assert_eq!(p.0, ms.to_le_bytes()[..6], "{day}");
        }
    }

    /// Review of wave 13: the escape table under contention. Eight threads, released together,
    /// pack the same 1,000 out-of-range instants (four forwards, four backwards, so threads
    /// meet on the same instant at once): every thread gets the same code for an instant, and
    /// different instants get different codes — one entry each, however the threads race.
    #[test]
    fn threads_packing_the_same_escaped_instants_agree_on_their_codes() {
        const THREADS: usize = 8;
        // Out of range and used by no other test of this binary (the proptest draws random
        // `i64`s: a collision would only make an instant already known).
        let instants: Vec<i64> = (0..1_000).map(|i| INLINE_MAX + 1_000_003 + 7 * i).collect();
        let barrier = std::sync::Barrier::new(THREADS);
        let codes: Vec<Vec<[u8; 6]>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|k| {
                    let (instants, barrier) = (&instants, &barrier);
                    s.spawn(move || {
                        let order: Vec<usize> = if k % 2 == 0 {
                            (0..instants.len()).collect()
                        } else {
                            (0..instants.len()).rev().collect()
                        };
                        let mut codes = vec![[0u8; 6]; instants.len()];
                        barrier.wait();
                        for i in order {
                            codes[i] = PackedTimestamp::new(Timestamp::from_millis(instants[i])).0;
                        }
                        codes
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (k, thread) in codes.iter().enumerate() {
            assert_eq!(thread, &codes[0], "thread {k} got other codes than thread 0");
        }
        let distinct: std::collections::HashSet<[u8; 6]> = codes[0].iter().copied().collect();
        assert_eq!(distinct.len(), instants.len(), "one code per instant");
        for (i, &ms) in instants.iter().enumerate() {
            assert_eq!(PackedTimestamp(codes[0][i]).get().as_millis(), ms);
        }
    }

    proptest! {
        /// Every `i64` instant: random ones anywhere, random ones near the edges.
        #[test]
        fn packed_timestamps_keep_every_instant_and_serialise_as_timestamps(
            a in any::<i64>(),
            b in any::<i64>(),
            edge in proptest::sample::select(EDGES.to_vec()),
            near in -3i64..=3,
        ) {
            let e = edge.saturating_add(near);
            check(a, b)?;
            check(e, a)?;
            check(e, edge)?;
            check(a, a)?;
        }
    }
}
