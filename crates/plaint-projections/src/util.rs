//! Small shared pieces: a fast deterministic hasher for lookup maps, a string interner, the
//! calendar buckets reports group by, and summary statistics.
//!
//! Determinism: hash maps here are lookup indexes only. No output ever iterates one; what is
//! serialised or reported is a `Vec` in first-seen log order or a `BTreeMap`.

use crate::InvalidState;
use chrono::{Datelike, NaiveDate};
use plaint_domain::calendar::Calendar;
use plaint_domain::time::{Timestamp, MS_PER_DAY};
use plaint_domain::zone::BusinessZone;
use plaint_store::sharded::ShardedTable;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroU8;

/// The Fx hash (rustc's) with a final avalanche: a multiply-rotate hash, fast on short keys like
/// ids. Not DoS-resistant, which does not matter for keys taken from our own log.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8-byte chunk")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    /// A final avalanche (murmur3's fmix64): the multiply above leaves the low bits depending
    /// only on the low bits of the input, and hash tables index by the low bits. Without it,
    /// ids differing in their last characters crowd into few buckets.
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A lookup map with the Fx hash. Never iterate one into output.
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// An interned string: an index into an [`Interner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sym(pub u32);

/// Most distinct strings one interner holds (regions, departments, handlers, attribute values).
pub const INTERNER_LEN_MAX: usize = u32::MAX as usize;

/// Stores each distinct string once, in first-seen order (so serialised output is deterministic),
/// all in one byte arena: a symbol's string is `bytes[ends[i-1]..ends[i]]`. No heap box per
/// string (16 bytes of pointer and length plus an allocation each), and a lookup compares
/// against one contiguous buffer. Serialises exactly as the sequence of its strings (the layout
/// of the earlier `Vec<Box<str>>`).
#[derive(Debug, Default, Clone)]
pub struct Interner {
    /// Every string, concatenated (valid UTF-8: only whole `&str`s are appended).
    bytes: String,
    /// End offset of each string in `bytes`.
    ends: Vec<u32>,
    /// Lookup by content; holds only the numbers (the strings live once, above).
    index: IdIndex,
}

impl PartialEq for Interner {
    fn eq(&self, other: &Self) -> bool {
        self.ends == other.ends && self.bytes == other.bytes
    }
}

impl Interner {
    /// Bytes of heap held (the arena, the ends, the index's table): the breakdown's measure.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 4 + self.index.table.allocation_size()
    }
    /// The symbol for `s`, adding it when new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(sym) = self.find(s) {
            return sym;
        }
        self.push_new(s)
    }
    /// Appends `s` without looking it up (it must not be present).
    fn push_new(&mut self, s: &str) -> Sym {
        assert!(self.ends.len() < INTERNER_LEN_MAX, "interner full");
        let end = u32::try_from(self.bytes.len() + s.len()).expect("interned strings over 4 GiB");
        let i = self.ends.len() as u32;
        // Grow by an eighth, not double: a million match keys' worth of doubling slack is tens
        // of megabytes; an eighth still amortises the copies.
        if self.bytes.capacity() - self.bytes.len() < s.len() {
            self.bytes.reserve_exact(s.len().max(self.bytes.len() / 8).max(256));
        }
        if self.ends.capacity() == self.ends.len() {
            self.ends.reserve_exact((self.ends.len() / 8).max(16));
        }
        self.bytes.push_str(s);
        self.ends.push(end);
        let (bytes, ends) = (&self.bytes, &self.ends);
        self.index.insert(s, i, |j| slice_of(bytes, ends, j).as_bytes());
        Sym(i)
    }
    /// The symbol for `s` if it was ever interned.
    #[inline]
    pub fn find(&self, s: &str) -> Option<Sym> {
        self.index
            .get(s, |i| slice_of(&self.bytes, &self.ends, i).as_bytes())
            .map(Sym)
    }
    /// The string of a symbol this interner gave out.
    #[inline]
    pub fn resolve(&self, sym: Sym) -> &str {
        slice_of(&self.bytes, &self.ends, sym.0)
    }
    /// Rebuilds the lookup index after deserialisation, refusing what [`Interner::intern`]
    /// never writes: a string twice (two symbols of one name would split a report's group).
    pub fn rebuild_index(&mut self) -> Result<(), InvalidState> {
        self.index.clear();
        let (bytes, ends) = (&self.bytes, &self.ends);
        for i in 0..ends.len() as u32 {
            let s = slice_of(bytes, ends, i);
            let of = |j: u32| slice_of(bytes, ends, j).as_bytes();
            if let Some(j) = self.index.get(s, of) {
                return Err(InvalidState::new(format!(
                    "interned string {s:?} appears twice (symbols {j} and {i})"
                )));
            }
            self.index.insert(s, i, of);
        }
        Ok(())
    }
    /// `Ok` when `sym` is one of this interner's symbols; `what` names the field.
    pub fn check(&self, sym: Sym, what: &str) -> Result<(), InvalidState> {
        crate::ensure((sym.0 as usize) < self.ends.len(), || {
            format!(
                "{what} is symbol {} of an interner of {} strings",
                sym.0,
                self.ends.len()
            )
        })
    }
    /// Like [`Interner::check`], for an optional symbol (none is always valid).
    pub fn check_opt(&self, sym: impl Into<OptSym>, what: &str) -> Result<(), InvalidState> {
        sym.into().get().map_or(Ok(()), |s| self.check(s, what))
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Every string, in symbol order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.ends.len() as u32).map(|i| slice_of(&self.bytes, &self.ends, i))
    }
}

#[inline]
fn slice_of<'a>(bytes: &'a str, ends: &[u32], i: u32) -> &'a str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &bytes[start..ends[i] as usize]
}

impl Serialize for Interner {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The struct of one field `strings` the earlier layout had, so checkpoints keep their bytes.
        use serde::ser::SerializeStruct;
        struct Strings<'a>(&'a Interner);
        impl Serialize for Strings<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter())
            }
        }
        let mut st = s.serialize_struct("Interner", 1)?;
        st.serialize_field("strings", &Strings(self))?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Interner {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Strings(Interner);
        impl<'de> Deserialize<'de> for Strings {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Strings;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a sequence of strings")
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Strings, A::Error> {
                        let mut out = Interner::default();
                        while let Some(s) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                            if u32::try_from(out.bytes.len() + s.len()).is_err() || out.ends.len() >= INTERNER_LEN_MAX {
                                return Err(serde::de::Error::custom("interned strings over 4 GiB"));
                            }
                            // Duplicates cannot come from `intern`: `rebuild_index` refuses them.
                            out.bytes.push_str(&s);
                            out.ends.push(out.bytes.len() as u32);
                        }
                        // No doubling slack: a loaded interner holds no more than a folded one
                        // (review of wave 12: the tickets' grew by 3.4 B a complaint on a load).
                        out.bytes.shrink_to_fit();
                        out.ends.shrink_to_fit();
                        Ok(Strings(out))
                    }
                }
                d.deserialize_seq(V)
            }
        }
        #[derive(Deserialize)]
        #[serde(rename = "Interner")]
        struct Layout {
            strings: Strings,
        }
        // The index is rebuilt, and duplicates refused, by `rebuild_index` (the projections'
        // `after_load`).
        Ok(Layout::deserialize(d)?.strings.0)
    }
}

/// Appends `x` to an exact-size boxed slice (a per-record list: 16 bytes in the record where a
/// `Vec` takes 24, and never any spare capacity). Serialises like a `Vec`.
pub fn push_exact<T>(list: &mut Box<[T]>, x: T) {
    let mut v = std::mem::take(list).into_vec();
    v.reserve_exact(1);
    v.push(x);
    *list = v.into_boxed_slice();
}

/// A list most records leave empty, in 8 bytes (a boxed exact slice, absent when empty) where
/// a `Box<[T]>` takes 16 (issue 13, wave 12: casework's disputes, the SLA record's
/// `Received.attributes`, which only some imported logs carry). A record that has one pays 16
/// bytes more on the heap (8 more in all than a `Box<[T]>`). Serialises exactly as the slice (an absent list as an empty one;
/// an empty one is read back absent, so equal lists are equal values).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::redundant_allocation)]
pub struct RareList<T>(Option<Box<Box<[T]>>>);

impl<T> Default for RareList<T> {
    fn default() -> Self {
        RareList(None)
    }
}

impl<T> RareList<T> {
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        self.0.as_deref().map_or(&[], |b| &b[..])
    }
    pub fn push(&mut self, x: T) {
        push_exact(self.0.get_or_insert_with(|| Box::new(Box::default())), x);
    }
}

impl<T> FromIterator<T> for RareList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let list: Box<[T]> = items.into_iter().collect();
        RareList((!list.is_empty()).then(|| Box::new(list)))
    }
}

impl<T> std::ops::Deref for RareList<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Serialize> Serialize for RareList<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for RareList<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Box::<[T]>::deserialize(d)?;
        Ok(RareList((!list.is_empty()).then(|| Box::new(list))))
    }
}

/// Appends `xs` to an exact-size boxed slice (see [`push_exact`]).
pub fn extend_exact<T>(list: &mut Box<[T]>, xs: impl ExactSizeIterator<Item = T>) {
    if xs.len() == 0 {
        return;
    }
    let mut v = std::mem::take(list).into_vec();
    v.reserve_exact(xs.len());
    v.extend(xs);
    *list = v.into_boxed_slice();
}

/// `Serialize`/`Deserialize` for a compact in-memory form of a public type: written as the
/// public value it converts to, read as one and converted back (both `From`s must be
/// lossless), so a checkpoint's bytes do not depend on the form held in memory.
macro_rules! serde_as {
    ($compact:ty, $public:ty) => {
        impl serde::Serialize for $compact {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$public>::from(*self).serialize(s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $compact {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$public as serde::Deserialize>::deserialize(d).map(<$compact>::from)
            }
        }
    };
}

/// A ticket's [`Flags`](plaint_domain::event::Flags) in the low four bits of one byte, where
/// the domain's struct of four `bool`s takes four (issue 13, wave 12). The high four bits are
/// the holder's own marks ([`FlagBits::mark`]): a record packs its other yes/no fields beside the
/// flags. Serialises exactly as `Flags` (the marks are not written: a record that has them
/// writes them as its own fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlagBits(u8);

impl FlagBits {
    const REPEAT: u8 = 1;
    const MEDIA: u8 = 1 << 1;
    const GROUP: u8 = 1 << 2;
    const REGULATOR: u8 = 1 << 3;
    /// The bits of [`Flags`](plaint_domain::event::Flags); the others are marks.
    const FLAGS: u8 = 0x0F;

    #[inline]
    pub fn flags(self) -> plaint_domain::event::Flags {
        plaint_domain::event::Flags {
            repeat: self.0 & Self::REPEAT != 0,
            media: self.0 & Self::MEDIA != 0,
            group: self.0 & Self::GROUP != 0,
            regulator: self.0 & Self::REGULATOR != 0,
        }
    }
    /// These bits with the flags replaced by `f` (the marks kept).
    #[inline]
    #[must_use]
    pub fn with_flags(self, f: plaint_domain::event::Flags) -> FlagBits {
        let bit = |on: bool, b: u8| if on { b } else { 0 };
        let flags = bit(f.repeat, Self::REPEAT)
            | bit(f.media, Self::MEDIA)
            | bit(f.group, Self::GROUP)
            | bit(f.regulator, Self::REGULATOR);
        FlagBits((self.0 & !Self::FLAGS) | flags)
    }
    /// Mark `n` (0..4), a yes/no of the holder's own.
    #[inline]
    pub fn mark(self, n: u8) -> bool {
        debug_assert!(n < 4);
        self.0 & (0x10 << n) != 0
    }
    /// These bits with mark `n` (0..4) set to `on`.
    #[inline]
    #[must_use]
    pub fn with_mark(self, n: u8, on: bool) -> FlagBits {
        assert!(n < 4, "mark {n} of four");
        if on {
            FlagBits(self.0 | (0x10 << n))
        } else {
            FlagBits(self.0 & !(0x10 << n))
        }
    }
}

impl From<plaint_domain::event::Flags> for FlagBits {
    #[inline]
    fn from(f: plaint_domain::event::Flags) -> FlagBits {
        FlagBits::default().with_flags(f)
    }
}

impl From<FlagBits> for plaint_domain::event::Flags {
    #[inline]
    fn from(b: FlagBits) -> plaint_domain::event::Flags {
        b.flags()
    }
}

serde_as!(FlagBits, plaint_domain::event::Flags);

/// An optional [`Sym`] in 4 bytes (`u32::MAX`, which no interner gives out, is none) where an
/// `Option<Sym>` takes 8. Serialises exactly as `Option<Sym>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptSym(u32);

impl OptSym {
    pub const NONE: OptSym = OptSym(u32::MAX);
    #[inline]
    pub fn get(self) -> Option<Sym> {
        (self.0 != u32::MAX).then_some(Sym(self.0))
    }
    #[inline]
    pub fn is_some(self) -> bool {
        self.0 != u32::MAX
    }
    #[inline]
    pub fn map<T>(self, f: impl FnOnce(Sym) -> T) -> Option<T> {
        self.get().map(f)
    }
}

impl Default for OptSym {
    fn default() -> Self {
        OptSym::NONE
    }
}

impl From<Option<Sym>> for OptSym {
    #[inline]
    fn from(s: Option<Sym>) -> Self {
        s.map_or(OptSym::NONE, |s| OptSym(s.0))
    }
}

impl From<Sym> for OptSym {
    #[inline]
    fn from(s: Sym) -> Self {
        OptSym(s.0)
    }
}

impl Serialize for OptSym {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

impl<'de> Deserialize<'de> for OptSym {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<Sym>::deserialize(d)? {
            Some(Sym(u32::MAX)) => Err(serde::de::Error::custom("symbol number out of range")),
            s => Ok(s.into()),
        }
    }
}

/// How instants are cut into report days, weeks and months: the business calendar's time zone
/// (docs/domain.md R-CAL-1), with its daylight-saving rules. The default is the domain's
/// default calendar's (`Calendar::china_mainland`: Asia/Shanghai, set in its data file and
/// nowhere else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buckets {
    pub zone: BusinessZone,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets::from_calendar(&Calendar::china_mainland())
    }
}

impl Buckets {
    /// Days in the time zone of `calendar`.
    pub fn from_calendar(calendar: &Calendar) -> Buckets {
        Buckets {
            zone: calendar.time_zone(),
        }
    }
}

/// An ISO 8601 week, e.g. `2026-W48`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IsoWeek {
    pub year: i32,
    pub week: u32,
}

impl std::fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

impl std::str::FromStr for IsoWeek {
    type Err = String;
    /// Parses `2026-W48`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid ISO week {s:?} (want e.g. 2026-W48)");
        let (y, w) = s.split_once("-W").ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let week: u32 = w.parse().map_err(|_| bad())?;
        NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).ok_or_else(bad)?;
        Ok(IsoWeek { year, week })
    }
}

/// A calendar month, e.g. `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:02}", self.year, self.month)
    }
}

impl Month {
    /// The month before this one.
    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }
}

impl Buckets {
    /// Local day number (days since 1970-01-01 in local time). Saturates for instants no event
    /// time written as RFC 3339 reaches (a timestamp is any `i64` of milliseconds), never
    /// overflows.
    pub fn day(&self, t: Timestamp) -> i32 {
        let offset_s = self.zone.offset_at(t).local_minus_utc();
        let local = t.as_millis().saturating_add(i64::from(offset_s) * 1000);
        let day = local.div_euclid(MS_PER_DAY);
        i32::try_from(day).unwrap_or(if day < 0 { i32::MIN } else { i32::MAX })
    }
    /// The local calendar date of a day number, clamped to the dates a `NaiveDate` holds (about
    /// ±262,000 years: a day beyond is no event's, but must not panic a report; found by the
    /// `checkpoint_state` fuzz target).
    pub fn date_of_day(&self, day: i32) -> NaiveDate {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        let clamp = if day < 0 { NaiveDate::MIN } else { NaiveDate::MAX };
        epoch
            .checked_add_signed(chrono::Duration::days(i64::from(day)))
            .unwrap_or(clamp)
    }
    /// The day number of a local date.
    pub fn day_of_date(&self, date: NaiveDate) -> i32 {
        (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
    }
    pub fn week(&self, t: Timestamp) -> IsoWeek {
        week_of_date(self.date_of_day(self.day(t)))
    }
    pub fn month(&self, t: Timestamp) -> Month {
        let d = self.date_of_day(self.day(t));
        Month {
            year: d.year(),
            month: d.month(),
        }
    }
    /// The instant a local day starts.
    pub fn day_start(&self, day: i32) -> Timestamp {
        self.zone
            .instant(self.date_of_day(day).and_time(chrono::NaiveTime::MIN))
    }
    /// First and last local day of an ISO week.
    pub fn week_days(&self, w: IsoWeek) -> (i32, i32) {
        let monday = NaiveDate::from_isoywd_opt(w.year, w.week, chrono::Weekday::Mon).unwrap_or_default();
        let d = self.day_of_date(monday);
        (d, d + 6)
    }
}

/// The ISO week of a date.
pub fn week_of_date(d: NaiveDate) -> IsoWeek {
    let w = d.iso_week();
    IsoWeek {
        year: w.year(),
        week: w.week(),
    }
}

/// Mean, median and 90th percentile of durations, in milliseconds (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DurationStats {
    pub count: u64,
    pub mean_ms: Option<i64>,
    pub p50_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl DurationStats {
    /// Summarises `values` (sorted in place).
    pub fn from_values(values: &mut [i64]) -> DurationStats {
        if values.is_empty() {
            return DurationStats::default();
        }
        values.sort_unstable();
        let n = values.len();
        let sum: i128 = values.iter().map(|&v| v as i128).sum();
        DurationStats {
            count: n as u64,
            mean_ms: Some((sum / n as i128) as i64),
            p50_ms: Some(nearest_rank(values, 50)),
            p90_ms: Some(nearest_rank(values, 90)),
        }
    }
}

/// Nearest-rank percentile of sorted, non-empty values: the value at rank ceil(p/100 × n).
pub fn nearest_rank(sorted: &[i64], p: u32) -> i64 {
    assert!(!sorted.is_empty());
    let n = sorted.len();
    let rank = (p as usize * n).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// `num / den` or `None` when `den` is 0.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    if den == 0 {
        None
    } else {
        Some(num as f64 / den as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `insert` of an id already present is a caller's bug, caught in debug builds.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "already present")]
    fn id_index_insert_of_a_present_id_panics_in_debug() {
        let ids: [&[u8]; 2] = [b"a", b"a"];
        let mut index = IdIndex::default();
        index.insert("a", 0, |i| ids[i as usize]);
        index.insert("a", 1, |i| ids[i as usize]);
    }

    /// Issue 13, wave 12: `RareList` stands in for a `Box<[T]>` in checkpointed records.
    #[test]
    fn rare_lists_serialise_as_slices_in_8_bytes() {
        assert_eq!(std::mem::size_of::<RareList<u8>>(), 8);
        let mut l = RareList::<u16>::default();
        for n in 0..4u16 {
            let plain: Box<[u16]> = (0..n).map(|i| i * 300).collect();
            assert_eq!(&*l, &*plain);
            let bytes = postcard::to_allocvec(&l).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&plain).unwrap(), "{n} items");
            assert_eq!(postcard::from_bytes::<RareList<u16>>(&bytes).unwrap(), l, "{n} items");
            assert_eq!(
                (0..=n).map(|i| i * 300).collect::<RareList<u16>>().len(),
                usize::from(n) + 1
            );
            l.push(n * 300);
        }
        assert_eq!(
            std::iter::empty::<u16>().collect::<RareList<u16>>(),
            RareList::default()
        );
    }

    /// Issue 13, wave 12: `FlagBits` stands in for the domain's `Flags` in checkpointed records,
    /// so it must write the same bytes and read back the same flags, whatever marks it carries.
    #[test]
    fn flag_bits_serialise_as_flags_and_keep_their_marks() {
        use plaint_domain::event::Flags;
        assert_eq!(std::mem::size_of::<FlagBits>(), 1);
        for n in 0u8..16 {
            let f = Flags {
                repeat: n & 1 != 0,
                media: n & 2 != 0,
                group: n & 4 != 0,
                regulator: n & 8 != 0,
            };
            for marks in 0u8..16 {
                let mut b = FlagBits::from(f);
                for m in 0..4 {
                    b = b.with_mark(m, marks & (1 << m) != 0);
                }
                assert_eq!(b.flags(), f, "flags {n} marks {marks}");
                for m in 0..4 {
                    assert_eq!(b.mark(m), marks & (1 << m) != 0, "flags {n} mark {m} of {marks}");
                }
                let other = Flags { repeat: !f.repeat, ..f };
                let changed = b.with_flags(other);
                assert_eq!(changed.flags(), other);
                assert_eq!(
                    (0..4).map(|m| changed.mark(m)).collect::<Vec<_>>(),
                    (0..4).map(|m| b.mark(m)).collect::<Vec<_>>()
                );
                let bytes = postcard::to_allocvec(&b).unwrap();
                assert_eq!(bytes, postcard::to_allocvec(&f).unwrap());
                assert_eq!(postcard::from_bytes::<FlagBits>(&bytes).unwrap(), FlagBits::from(f));
            }
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v = vec![5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
        let s = DurationStats::from_values(&mut v);
        assert_eq!(s.count, 10);
        assert_eq!(s.mean_ms, Some(5));
        assert_eq!(s.p50_ms, Some(5));
        assert_eq!(s.p90_ms, Some(9));
    }

    #[test]
    fn buckets_use_local_time() {
        let b = Buckets::default();
        // 2026-11-29T20:00Z is Monday 2026-11-30 04:00 in UTC+8: ISO week 49, not 48.
        let t = Timestamp::parse_rfc3339("2026-11-29T20:00:00Z").unwrap();
        assert_eq!(b.week(t), IsoWeek { year: 2026, week: 49 });
        assert_eq!(b.month(t), Month { year: 2026, month: 11 });
        assert_eq!("2026-W49".parse::<IsoWeek>().unwrap(), IsoWeek { year: 2026, week: 49 });
        let (first, last) = b.week_days(IsoWeek { year: 2026, week: 49 });
        assert_eq!(b.day(t), first);
        assert_eq!(last - first, 6);
        assert_eq!(
            b.day_start(first),
            Timestamp::parse_rfc3339("2026-11-29T16:00:00Z").unwrap()
        );
    }

    #[test]
    fn buckets_follow_daylight_saving() {
        let b = Buckets {
            zone: BusinessZone::parse("America/New_York").unwrap(),
        };
        let t = |s| Timestamp::parse_rfc3339(s).unwrap();
        // Sunday 2 November 2014 01:30 EST (after the change) is still 2 November; its week
        // (ISO 2014-W44) ends at Monday 3 November 00:00 EST.
        assert_eq!(
            b.date_of_day(b.day(t("2014-11-02T23:30:00-05:00"))).to_string(),
            "2014-11-02"
        );
        assert_eq!(b.week(t("2014-11-02T23:30:00-05:00")), IsoWeek { year: 2014, week: 44 });
        assert_eq!(b.week(t("2014-11-03T00:00:00-05:00")), IsoWeek { year: 2014, week: 45 });
        let (first, last) = b.week_days(IsoWeek { year: 2014, week: 44 });
        assert_eq!(b.day_start(first), t("2014-10-27T00:00:00-04:00"));
        assert_eq!(b.day_start(last + 1), t("2014-11-03T00:00:00-05:00"));
    }

    #[test]
    fn chunked_vec_serialises_like_a_vec() {
        let v: Vec<u32> = (0..(CHUNK_LEN as u32 * 2 + 7)).collect();
        let mut c = ChunkedVec::default();
        for &x in &v {
            c.push(x);
        }
        assert_eq!(c.len(), v.len());
        assert_eq!(c[CHUNK_LEN], CHUNK_LEN as u32);
        assert_eq!(c.get(v.len()), None);
        let bytes = postcard::to_allocvec(&c).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&v).unwrap());
        let back: ChunkedVec<u32> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, c);
        // Issue 13, wave 12: casework finds the latest matching item from the end, mutably,
        // across chunks (`comps.iter_mut().rev().find(..)`).
        let mut c = back;
        let last_even = c.iter_mut().rev().find(|x| **x % 2 == 0).unwrap();
        assert_eq!(*last_even, v.len() as u32 - 1);
        *last_even = u32::MAX;
        for x in c.iter_mut().take(CHUNK_LEN + 1) {
            *x += 1;
        }
        let want: Vec<u32> = v
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                if i == v.len() - 1 {
                    u32::MAX
                } else if i <= CHUNK_LEN {
                    x + 1
                } else {
                    x
                }
            })
            .collect();
        assert_eq!(c.iter().copied().collect::<Vec<_>>(), want);
    }

    #[test]
    fn small_ids_round_trip_inline_and_on_the_heap() {
        for s in [
            "",
            "CMP-00000001",
            "CMP-2026-000123",
            "CMP-2026-0001234",
            "an-id-that-is-longer-than-twenty-two-bytes",
        ] {
            let id = SmallId::new(s);
            assert_eq!(id.as_str(), s);
            assert_eq!(id.is_inline(), s.len() <= SMALL_ID_INLINE_MAX);
            let bytes = postcard::to_allocvec(&id).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&s.to_string()).unwrap());
            assert_eq!(postcard::from_bytes::<SmallId>(&bytes).unwrap(), id);
        }
    }

    #[test]
    fn interner_keeps_first_seen_order() {
        let mut i = Interner::default();
        let a = i.intern("north");
        let b = i.intern("south");
        assert_eq!(i.intern("north"), a);
        assert_ne!(a, b);
        assert_eq!(i.resolve(b), "south");
        let bytes = postcard::to_allocvec(&i).unwrap();
        let mut back: Interner = postcard::from_bytes(&bytes).unwrap();
        back.rebuild_index().unwrap();
        assert_eq!(back.find("south"), Some(b));
        assert_eq!(back, i);
    }

    #[test]
    fn compact_fields_serialise_like_the_plain_ones() {
        for o in [None, Some(Sym(0)), Some(Sym(7))] {
            let c = OptSym::from(o);
            assert_eq!(c.get(), o);
            let bytes = postcard::to_allocvec(&c).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&o).unwrap());
            assert_eq!(postcard::from_bytes::<OptSym>(&bytes).unwrap(), c);
        }
        let bad = postcard::to_allocvec(&Some(Sym(u32::MAX))).unwrap();
        assert!(postcard::from_bytes::<OptSym>(&bad).is_err());
        let mut b: Box<[u32]> = Box::default();
        push_exact(&mut b, 1);
        extend_exact(&mut b, [2, 3].into_iter());
        extend_exact(&mut b, std::iter::empty::<u32>());
        assert_eq!(&*b, &[1, 2, 3]);
        assert_eq!(
            postcard::to_allocvec(&b).unwrap(),
            postcard::to_allocvec(&vec![1u32, 2, 3]).unwrap()
        );
        assert_eq!(
            postcard::from_bytes::<Box<[u32]>>(&postcard::to_allocvec(&b).unwrap()).unwrap(),
            b
        );
    }

    #[test]
    fn interner_serialises_as_the_sequence_of_its_strings() {
        // The checkpoint layout of the earlier `Vec<Box<str>>` interner: same bytes.
        let mut i = Interner::default();
        for s in ["", "north", "南区", "north-east"] {
            i.intern(s);
        }
        assert_eq!(i.resolve(Sym(0)), "");
        assert_eq!(i.resolve(Sym(2)), "南区");
        let plain: Vec<Box<str>> = i.iter().map(Into::into).collect();
        assert_eq!(plain.len(), 4);
        let bytes = postcard::to_allocvec(&i).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&plain).unwrap());
        let mut back: Interner = postcard::from_bytes(&bytes).unwrap();
        back.rebuild_index().unwrap();
        assert_eq!(back.find("南区"), Some(Sym(2)));
        assert_eq!(back.find("north-east"), Some(Sym(3)));
        assert_eq!(back.find("nor"), None);
    }
}

/// An index from complaint id to a record number that stores only the number: the id itself
/// lives once, in the record, and lookups compare against it through `id_of`. Split in
/// shards ([`ShardedTable`]) so that a growth moves a 64th of the ids, not all of them at once:
/// wave 13's profile of `plaint serve` found the numbering's doubling stopping `serve-group`
/// ≈ 30 ms (its rehash reads every id, through two boxes for ids over
/// [`SMALL_ID_INLINE_MAX`] bytes). Nothing iterates it, so its order feeds no checkpoint.
#[derive(Default, Clone)]
pub struct IdIndex {
    table: ShardedTable<u32>,
}

impl std::fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdIndex({} ids)", self.table.len())
    }
}

#[inline]
pub(crate) fn hash_id(id: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(id);
    h.finish()
}

impl IdIndex {
    /// The record number of `id`.
    #[inline]
    pub fn get<'a>(&self, id: &str, id_of: impl Fn(u32) -> &'a [u8]) -> Option<u32> {
        self.table
            .find(hash_id(id.as_bytes()), |&i| id_of(i) == id.as_bytes())
            .copied()
    }
    /// Adds `id` → `i`; `id` must not be present.
    #[inline]
    pub fn insert<'a>(&mut self, id: &str, i: u32, id_of: impl Fn(u32) -> &'a [u8]) {
        debug_assert!(
            self.get(id, &id_of).is_none(),
            "IdIndex::insert: {id:?} already present"
        );
        self.table
            .insert_unique(hash_id(id.as_bytes()), i, |&j| hash_id(id_of(j)));
    }
    pub fn clear(&mut self) {
        self.table.clear();
    }
    pub fn len(&self) -> usize {
        self.table.len()
    }
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

/// Longest id kept inline (without a heap allocation) by [`SmallId`]: 15 bytes hold the
/// domain's example `CMP-2026-000123` and the synthetic `CMP-00000001`.
pub const SMALL_ID_INLINE_MAX: usize = 15;

/// A complaint id stored in place when short (all practical ids are): no heap allocation and no
/// pointer to chase when an index compares it, which is what a rebuild spends its time on.
/// Serialises as the plain string. 16 bytes (issue 13, wave 7; 24 before). A projection set
/// holds each complaint's once (wave 8: the shared `records::IdColumn`); the ticket extras'
/// links hold more.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SmallId(IdRepr);

/// [`SmallId`]'s layout. `len1` is the inline length plus one: never zero, and that spare zero
/// is what tells the long (boxed) variant apart without a tag byte, keeping the id in 16 bytes
/// (`small_id_is_16_bytes`). A long id's box of a box costs one more pointer hop, only for ids
/// over [`SMALL_ID_INLINE_MAX`] bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
enum IdRepr {
    Inline(NonZeroU8, [u8; SMALL_ID_INLINE_MAX]),
    Heap(Box<Box<str>>),
}

impl SmallId {
    pub fn new(s: &str) -> SmallId {
        if s.len() <= SMALL_ID_INLINE_MAX {
            let mut buf = [0u8; SMALL_ID_INLINE_MAX];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            let len1 = NonZeroU8::new(s.len() as u8 + 1).expect("a length under 255, plus one");
            SmallId(IdRepr::Inline(len1, buf))
        } else {
            SmallId(IdRepr::Heap(Box::new(s.into())))
        }
    }
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            IdRepr::Inline(len1, buf) => &buf[..len1.get() as usize - 1],
            IdRepr::Heap(s) => s.as_bytes(),
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("SmallId holds UTF-8 from a &str")
    }
    /// The complaint id (validated when it was first read from the log).
    pub fn to_complaint_id(&self) -> plaint_domain::ids::ComplaintId {
        plaint_domain::ids::ComplaintId::new(self.as_str()).expect("stored ids are valid complaint ids")
    }
    #[cfg(test)]
    fn is_inline(&self) -> bool {
        matches!(self.0, IdRepr::Inline(..))
    }
}

impl std::fmt::Debug for SmallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Serialize for SmallId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SmallId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(SmallId::new(&s))
    }
}

/// A multi-map from a byte key (e.g. a waybill number) to record numbers that stores only the
/// numbers: the key lives in the record, looked up through `key_of`. One 4-byte entry per
/// distinct key: the record itself when the key has one, else (bit [`SYM_INDEX_LIST`] set) a
/// list of its records. A flat table of one entry per record under the key's hash degraded to
/// a scan of every record under a key per insert, and a rehash quadratic in them when the
/// table grew (one waybill behind hundreds of thousands of complaints: `serve_load`'s 20 s
/// run stalled 3.7 s in `reserve_rehash`).
#[derive(Default, Clone)]
pub struct MultiIndex {
    table: hashbrown::HashTable<u32>,
    /// Sorted, distinct record numbers of the keys with more than one.
    lists: Vec<Vec<u32>>,
}

impl std::fmt::Debug for MultiIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MultiIndex({} keys, {} lists)", self.table.len(), self.lists.len())
    }
}

/// The record whose key names `slot`'s entry: the record itself, or its list's first.
#[inline]
fn multi_index_record(lists: &[Vec<u32>], slot: u32) -> u32 {
    if slot & SYM_INDEX_LIST == 0 {
        slot
    } else {
        lists[(slot & !SYM_INDEX_LIST) as usize][0]
    }
}

impl MultiIndex {
    /// Bytes of heap held: the breakdown's measure.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.allocation_size()
            + self.lists.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.lists.iter().map(|l| l.capacity() * 4).sum::<usize>()
    }
    /// Adds record `i` under `key` (several records may share a key; a record already under it
    /// is not added twice).
    pub fn insert<'a>(&mut self, key: &[u8], i: u32, key_of: impl Fn(u32) -> &'a [u8]) {
        assert!(i < SYM_INDEX_LIST, "record number {i} out of the index's range");
        let lists = &mut self.lists;
        let hash = hash_id(key);
        let found = self
            .table
            .find_mut(hash, |&slot| key_of(multi_index_record(lists, slot)) == key);
        let Some(slot) = found else {
            let lists = &self.lists;
            self.table
                .insert_unique(hash, i, |&slot| hash_id(key_of(multi_index_record(lists, slot))));
            return;
        };
        if *slot & SYM_INDEX_LIST == 0 {
            if *slot != i {
                let list = u32::try_from(lists.len()).expect("fewer than 2^31 lists");
                assert!(list < SYM_INDEX_LIST);
                lists.push(if *slot < i { vec![*slot, i] } else { vec![i, *slot] });
                *slot = list | SYM_INDEX_LIST;
            }
            return;
        }
        let list = &mut lists[(*slot & !SYM_INDEX_LIST) as usize];
        // Records arrive in order: appending is the usual case.
        if list.last().is_some_and(|&last| last < i) {
            list.push(i);
        } else if let Err(at) = list.binary_search(&i) {
            list.insert(at, i);
        }
    }
    /// Every record under `key`, in record order.
    pub fn get<'a>(&self, key: &[u8], key_of: impl Fn(u32) -> &'a [u8]) -> Vec<u32> {
        let lists = &self.lists;
        match self
            .table
            .find(hash_id(key), |&slot| key_of(multi_index_record(lists, slot)) == key)
        {
            None => Vec::new(),
            Some(&slot) if slot & SYM_INDEX_LIST == 0 => vec![slot],
            Some(&slot) => lists[(slot & !SYM_INDEX_LIST) as usize].clone(),
        }
    }
    pub fn clear(&mut self) {
        self.table.clear();
        self.lists.clear();
    }
}

/// A multi-map from a symbol to record numbers: one 8-byte `(symbol, slot)` entry per distinct
/// symbol, the slot being the record itself when the symbol has one (the common case: a customer
/// seen once), else an index into a side table of sorted record lists. A `HashMap<Sym, Vec<u32>>`
/// costs a map entry and a heap list per key, about 50 bytes for a customer seen once; a flat
/// table of `(symbol, record)` pairs under the symbol's hash degrades to a linear probe per
/// insert for a symbol with many records (one caller's phone behind thousands of complaints).
#[derive(Default, Clone)]
pub struct SymIndex {
    table: hashbrown::HashTable<(u32, u32)>,
    /// Sorted, distinct record numbers of the symbols with more than one.
    lists: Vec<Vec<u32>>,
    entries: usize,
}

/// A slot with this bit set names a list in [`SymIndex::lists`]; record numbers stay below it
/// (asserted on insert).
const SYM_INDEX_LIST: u32 = 1 << 31;

/// Most records a [`SymIndex`] or [`MultiIndex`] can name (record numbers below 2^31).
pub const INDEX_RECORDS_MAX: usize = SYM_INDEX_LIST as usize;

/// Refuses to index `len` records when more than `max` ([`INDEX_RECORDS_MAX`] - 1 at a load,
/// leaving room for the next record): a decoded checkpoint that large fails to load (rebuilt
/// from the log) instead of reaching the indexes' insert assertion and panicking. `max` is a parameter so a test can reach it.
pub fn check_indexable(len: usize, max: usize, what: &str) -> Result<(), InvalidState> {
    if len > max {
        return Err(InvalidState::new(format!(
            "{what}: {len} records, more than the {max} its indexes can name"
        )));
    }
    Ok(())
}

impl std::fmt::Debug for SymIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SymIndex({} entries)", self.entries)
    }
}

#[inline]
fn hash_sym(sym: Sym) -> u64 {
    let mut h = FxHasher::default();
    h.write_u32(sym.0);
    h.finish()
}

impl SymIndex {
    /// Bytes of heap held (the table, the lists): the breakdown's measure.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.allocation_size()
            + self.lists.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.lists.iter().map(|l| l.capacity() * 4).sum::<usize>()
    }
    /// Adds record `i` under `sym` unless it is there already.
    pub fn insert(&mut self, sym: Sym, i: u32) {
        assert!(i < SYM_INDEX_LIST, "record number {i} out of the index's range");
        let hash = hash_sym(sym);
        let Some(entry) = self.table.find_mut(hash, |&(s, _)| s == sym.0) else {
            self.table.insert_unique(hash, (sym.0, i), |&(s, _)| hash_sym(Sym(s)));
            self.entries += 1;
            return;
        };
        let slot = entry.1;
        if slot & SYM_INDEX_LIST == 0 {
            if slot != i {
                let list = u32::try_from(self.lists.len()).expect("fewer than 2^31 lists");
                assert!(list < SYM_INDEX_LIST);
                self.lists.push(if slot < i { vec![slot, i] } else { vec![i, slot] });
                entry.1 = list | SYM_INDEX_LIST;
                self.entries += 1;
            }
            return;
        }
        let list = &mut self.lists[(slot & !SYM_INDEX_LIST) as usize];
        // Records arrive mostly in order: appending is the usual case.
        if list.last().is_some_and(|&last| last < i) {
            list.push(i);
            self.entries += 1;
        } else if let Err(at) = list.binary_search(&i) {
            list.insert(at, i);
            self.entries += 1;
        }
    }
    /// Appends every record under `sym` to `out` (in increasing order).
    pub fn extend_into(&self, sym: Sym, out: &mut Vec<u32>) {
        if let Some(&(_, slot)) = self.table.find(hash_sym(sym), |&(s, _)| s == sym.0) {
            if slot & SYM_INDEX_LIST == 0 {
                out.push(slot);
            } else {
                out.extend_from_slice(&self.lists[(slot & !SYM_INDEX_LIST) as usize]);
            }
        }
    }
    pub fn clear(&mut self) {
        self.table.clear();
        self.lists.clear();
        self.entries = 0;
    }
    /// The number of (symbol, record) pairs.
    pub fn len(&self) -> usize {
        self.entries
    }
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }
}

/// Records per chunk of a [`ChunkedVec`]: the last chunk's unused slots (fewer than this many)
/// are the only slack, a few hundred kilobytes at most per table; 16,384 left up to 14 % of a
/// 100,000-record table unused. Fuzzing builds (`--cfg fuzzing`) use 4, so that the states a
/// fuzzer makes fill chunks and reach the sharing of full chunks of ids.
pub const CHUNK_LEN: usize = if cfg!(fuzzing) { 4 } else { 1 << 10 };

/// A growable array in fixed-size chunks: growing never copies what is there (no transient
/// second copy of a large array, no doubling slack), which bounds a rebuild's peak memory.
/// Serialises exactly like a `Vec<T>` (a sequence).
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkedVec<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> ChunkedVec<T> {
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK_LEN => c.push(value),
            _ => {
                let mut c = Vec::with_capacity(CHUNK_LEN);
                c.push(value);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK_LEN)?.get(i % CHUNK_LEN)
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut T> + '_ {
        self.chunks.iter_mut().flat_map(|c| c.iter_mut())
    }
    /// Items' room allocated (the memory breakdown's measure).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum()
    }
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }
}

impl<T> std::ops::Index<usize> for ChunkedVec<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK_LEN][i % CHUNK_LEN]
    }
}

impl<T> std::ops::IndexMut<usize> for ChunkedVec<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK_LEN][i % CHUNK_LEN]
    }
}

impl<T: Serialize> Serialize for ChunkedVec<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len))?;
        for v in self.iter() {
            seq.serialize_element(v)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ChunkedVec<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = ChunkedVec<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = ChunkedVec::default();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

/// Crafted interners for the projections' load checks.
#[cfg(test)]
pub(crate) mod crafted {
    use super::Interner;

    /// `strings` with its first string once more at the end (what `intern` never makes).
    pub(crate) fn with_duplicate(strings: &Interner) -> Interner {
        let mut all: Vec<&str> = strings.iter().collect();
        all.push(all[0]);
        postcard::from_bytes(&postcard::to_allocvec(&all).unwrap()).unwrap()
    }
}

#[cfg(test)]
mod bucket_tests {
    use super::*;

    /// Any timestamp (an `i64` of milliseconds, from a checkpoint or a binary event) has a day, a
    /// week and a month, clamped at the ends of the calendar, without a panic.
    #[test]
    fn every_instant_has_a_day_week_and_month() {
        let b = Buckets::default();
        for ms in [
            i64::MIN,
            -8_210_298_412_800_001,
            -1,
            0,
            1_798_675_200_000,
            8_210_298_412_800_000,
            i64::MAX,
        ] {
            let t = Timestamp::from_millis(ms);
            let day = b.day(t);
            let _ = (b.week(t), b.month(t), b.date_of_day(day));
        }
        assert_eq!(b.date_of_day(i32::MAX), NaiveDate::MAX);
        assert_eq!(b.date_of_day(i32::MIN), NaiveDate::MIN);
        let t = Timestamp::parse_rfc3339("2026-12-31T23:30:00+08:00").unwrap();
        assert_eq!(b.date_of_day(b.day(t)), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
    }
}

#[cfg(test)]
mod index_bound_tests {
    use super::{check_indexable, INDEX_RECORDS_MAX};

    /// A decoded checkpoint with more records than the indexes can name (2^31) panicked in
    /// `SymIndex::insert`'s assertion during the load instead of failing it. The bound cannot be
    /// reached in a test, so the check takes its limit: one over it is a load error naming the
    /// table, one at it loads. (Fails with the check's comparison turned to `len > max + 1`.)
    #[test]
    fn more_records_than_the_indexes_name_is_a_load_error() {
        assert!(check_indexable(2, 2, "repeats").is_ok());
        let e = check_indexable(3, 2, "repeats").unwrap_err();
        assert!(e.to_string().contains("repeats: 3 records"), "{e}");
        assert_eq!(INDEX_RECORDS_MAX, 1 << 31);
        assert!(check_indexable(INDEX_RECORDS_MAX, INDEX_RECORDS_MAX, "at the bound").is_ok());
    }
}

#[cfg(test)]
mod sym_index_tests {
    use super::{Sym, SymIndex};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    proptest! {
        /// The index answers what a map of sets answers, whatever the order and repetition of
        /// the inserts (one symbol with many records included).
        #[test]
        fn answers_like_a_map_of_sets(inserts in proptest::collection::vec((0u32..6, 0u32..40), 0..300)) {
            let mut index = SymIndex::default();
            let mut model: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
            for (sym, record) in inserts {
                index.insert(Sym(sym), record);
                model.entry(sym).or_default().insert(record);
            }
            prop_assert_eq!(index.len(), model.values().map(BTreeSet::len).sum::<usize>());
            for sym in 0..7 {
                let mut got = Vec::new();
                index.extend_into(Sym(sym), &mut got);
                let want: Vec<u32> = model.get(&sym).map(|s| s.iter().copied().collect()).unwrap_or_default();
                prop_assert_eq!(got, want);
            }
        }
    }

    /// Thousands of records under one symbol (one phone behind every complaint of a load test)
    /// stay one table entry and one sorted list.
    #[test]
    fn one_symbol_with_many_records_is_one_entry() {
        let mut index = SymIndex::default();
        for i in (0..10_000).rev() {
            index.insert(Sym(7), i);
            index.insert(Sym(7), i);
        }
        assert_eq!(index.len(), 10_000);
        assert_eq!(index.table.len(), 1);
        let mut got = Vec::new();
        index.extend_into(Sym(7), &mut got);
        assert_eq!(got, (0..10_000).collect::<Vec<u32>>());
    }
}

#[cfg(test)]
mod multi_index_tests {
    use super::MultiIndex;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// `SF1` and `SF1\0`, the empty key and `\0` hash alike (`FxHasher` pads the last chunk
    /// with zeros and does not mix in the length): only the comparison of the keys themselves
    /// keeps their records apart.
    const KEYS: [&[u8]; 8] = [
        b"SF1234567890",
        b"SF1234567891",
        b"EMS0001",
        b"",
        b"YT-9",
        b"SF1",
        b"SF1\0",
        b"\0",
    ];

    proptest! {
        /// The index answers what a map of sets answers, whatever the order and repetition of
        /// the inserts (one key with many records, the empty key, keys of several lengths).
        #[test]
        fn answers_like_a_map_of_sets(
            keys in proptest::collection::vec(0usize..KEYS.len(), 1..200),
            order in proptest::collection::vec(any::<prop::sample::Index>(), 0..400),
        ) {
            let key_of = |j: u32| KEYS[keys[j as usize]];
            let mut index = MultiIndex::default();
            let mut model: BTreeMap<&[u8], BTreeSet<u32>> = BTreeMap::new();
            for pick in order {
                let record = pick.index(keys.len()) as u32;
                index.insert(key_of(record), record, key_of);
                model.entry(key_of(record)).or_default().insert(record);
            }
            for key in KEYS.iter().copied().chain([b"absent".as_slice()]) {
                let want: Vec<u32> = model.get(key).map(|s| s.iter().copied().collect()).unwrap_or_default();
                prop_assert_eq!(index.get(key, key_of), want);
            }
            // Cleared, it holds nothing (no list left behind), and fills again alike.
            index.clear();
            prop_assert!(index.table.is_empty() && index.lists.is_empty());
            for record in model.values().flatten().copied() {
                index.insert(key_of(record), record, key_of);
            }
            for (key, records) in &model {
                prop_assert_eq!(index.get(key, key_of), records.iter().copied().collect::<Vec<u32>>());
            }
        }
    }

    /// A hundred thousand records under one key (one waybill behind every complaint of a load
    /// test) stay one table entry and one sorted list: no insert scans the others.
    #[test]
    fn one_key_with_many_records_is_one_entry() {
        let key_of = |_: u32| b"SF1234567890".as_slice();
        let mut index = MultiIndex::default();
        for i in 0..100_000 {
            index.insert(key_of(i), i, key_of);
        }
        assert_eq!(index.table.len(), 1);
        assert_eq!(index.lists.len(), 1);
        assert_eq!(index.get(b"SF1234567890", key_of), (0..100_000).collect::<Vec<u32>>());
        assert!(index.get(b"SF0", key_of).is_empty());
    }
}
