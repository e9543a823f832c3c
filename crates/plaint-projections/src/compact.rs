//! Compact forms of the domain records a projection holds per ticket (issue 13, wave 10): the
//! same data in fewer bytes, serialised exactly as the domain record, so a checkpoint's bytes do
//! not change (format 6) and the domain's record is what every reader gets back.

use plaint_domain::event::{Compensation, CompensationRule, Money, Remedy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::sync::Arc;

/// Most distinct texts a [`TextPool`] keeps; a text beyond them gets an allocation of its own
/// (an `Arc<str>`: 16 bytes of header more than the `Box<str>` of wave 11, so a log citing more
/// than this many distinct legal bases or policy versions pays that for each compensation that
/// cites one of the texts beyond; review of wave 12).
const TEXT_POOL_MAX: usize = 4096;

/// The texts many compensations repeat (legal bases, policy versions), each held once: a
/// ticket projection's fold builds its compensations through one, and a loaded state's are
/// passed through one after the load (issue 13, wave 12). Bounded ([`TEXT_POOL_MAX`]), looked
/// up by hash; not part of any state's bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextPool {
    texts: HashSet<Arc<str>>,
}

impl TextPool {
    /// `s` as a shared text: the pool's when it holds it, else a new one (kept while there is
    /// room).
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(t) = self.texts.get(s) {
            return Arc::clone(t);
        }
        let t: Arc<str> = Arc::from(s);
        if self.texts.len() < TEXT_POOL_MAX {
            self.texts.insert(Arc::clone(&t));
        }
        t
    }

    /// `t` made the pool's text when the pool holds the same text (the other allocation is
    /// dropped), or kept into the pool while there is room: no copy either way.
    pub(crate) fn share(&mut self, t: &mut Arc<str>) {
        if let Some(shared) = self.texts.get(&**t) {
            if !Arc::ptr_eq(shared, t) {
                *t = Arc::clone(shared);
            }
        } else if self.texts.len() < TEXT_POOL_MAX {
            self.texts.insert(Arc::clone(t));
        }
    }
}
/// The optional amounts of a [`Compensation`], in the order of [`CompactCompensation::amounts`].
const AMOUNTS: usize = 5;

/// A [`Compensation`] in 88 bytes, not 144: its five `Option<Money>`s (16 bytes each) as five
/// amounts behind one presence byte, its two strings as `Arc<str>` (16 bytes, not 24; shared
/// between the compensations that cite the same legal basis and policy version when built
/// through a [`TextPool`], issue 13 wave 12). Built from
/// and given back as the domain's record ([`CompactCompensation::to_compensation`]), losslessly;
/// it (de)serialises as that record, field for field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompactCompensation {
    legal_basis: Arc<str>,
    policy_version: Arc<str>,
    granted: Money,
    /// `ceiling`, `actual_loss`, `postage`, `insured_amount`, `full_value`; an absent one is
    /// zero with its bit of `present` clear (invariant: no bit beyond the fifth is set).
    amounts: [Money; AMOUNTS],
    present: u8,
    remedy: Remedy,
    rule: CompensationRule,
}

impl From<Compensation> for CompactCompensation {
    /// Copies the record's two strings into an `Arc<str>` each (a new allocation: an `Arc`
    /// cannot take a `String`'s over). A loaded ticket projection shares them again in its
    /// `after_load` ([`CompactCompensation::share_texts`]).
    fn from(mut c: Compensation) -> Self {
        let legal_basis = Arc::from(std::mem::take(&mut c.legal_basis));
        let policy_version = Arc::from(std::mem::take(&mut c.policy_version));
        CompactCompensation::with_text(&c, legal_basis, policy_version)
    }
}

impl From<&Compensation> for CompactCompensation {
    fn from(c: &Compensation) -> Self {
        CompactCompensation::with_text(c, c.legal_basis.as_str().into(), c.policy_version.as_str().into())
    }
}

impl CompactCompensation {
    /// `c`, its two strings taken from `pool` (one allocation for all the compensations that
    /// cite the same text).
    pub(crate) fn pooled(c: &Compensation, pool: &mut TextPool) -> Self {
        let legal_basis = pool.get(&c.legal_basis);
        let policy_version = pool.get(&c.policy_version);
        CompactCompensation::with_text(c, legal_basis, policy_version)
    }

    /// Its two texts made `pool`'s (one allocation for all the compensations that cite the same
    /// text; what a loaded state's compensations go through, review of wave 12).
    pub(crate) fn share_texts(&mut self, pool: &mut TextPool) {
        pool.share(&mut self.legal_basis);
        pool.share(&mut self.policy_version);
    }

    /// `c`'s remedy, rule and amounts with its two strings as given (moved out of `c`, so not
    /// read from it here, or copied).
    fn with_text(c: &Compensation, legal_basis: Arc<str>, policy_version: Arc<str>) -> Self {
        let optional = [c.ceiling, c.actual_loss, c.postage, c.insured_amount, c.full_value];
        let mut amounts = [Money::ZERO; AMOUNTS];
        let mut present = 0u8;
        for (i, amount) in optional.into_iter().enumerate() {
            if let Some(m) = amount {
                amounts[i] = m;
                present |= 1 << i;
            }
        }
        CompactCompensation {
            legal_basis,
            policy_version,
            granted: c.granted,
            amounts,
            present,
            remedy: c.remedy,
            rule: c.rule,
        }
    }

    /// The `i`th optional amount (the order of [`CompactCompensation::amounts`]).
    fn amount(&self, i: usize) -> Option<Money> {
        debug_assert!(i < AMOUNTS);
        (self.present & (1 << i) != 0).then_some(self.amounts[i])
    }

    /// The domain's record, as it was built from.
    pub(crate) fn to_compensation(&self) -> Compensation {
        let CompensationRef {
            remedy,
            rule,
            legal_basis,
            ceiling,
            granted,
            actual_loss,
            postage,
            insured_amount,
            full_value,
            policy_version,
        } = self.borrowed();
        Compensation {
            remedy,
            rule,
            ceiling,
            granted,
            legal_basis: legal_basis.to_owned(),
            actual_loss,
            postage,
            insured_amount,
            full_value,
            policy_version: policy_version.to_owned(),
        }
    }

    /// The domain's record, its strings borrowed.
    fn borrowed(&self) -> CompensationRef<'_> {
        debug_assert!(self.present < 1 << AMOUNTS);
        CompensationRef {
            remedy: self.remedy,
            rule: self.rule,
            legal_basis: &self.legal_basis,
            ceiling: self.amount(0),
            granted: self.granted,
            actual_loss: self.amount(1),
            postage: self.amount(2),
            insured_amount: self.amount(3),
            full_value: self.amount(4),
            policy_version: &self.policy_version,
        }
    }

    /// Its two strings (the memory breakdown counts each shared allocation once).
    #[cfg(test)]
    pub(crate) fn texts(&self) -> [&Arc<str>; 2] {
        [&self.legal_basis, &self.policy_version]
    }
}

/// A [`Compensation`] borrowed from a [`CompactCompensation`], to serialise it without copying
/// its strings: the domain record's name and fields in its order (a format-6 checkpoint's bytes;
/// the byte-equality test below guards the order).
#[derive(Serialize)]
#[serde(rename = "Compensation")]
struct CompensationRef<'a> {
    remedy: Remedy,
    rule: CompensationRule,
    legal_basis: &'a str,
    ceiling: Option<Money>,
    granted: Money,
    actual_loss: Option<Money>,
    postage: Option<Money>,
    insured_amount: Option<Money>,
    full_value: Option<Money>,
    policy_version: &'a str,
}

impl Serialize for CompactCompensation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.borrowed().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CompactCompensation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Compensation::deserialize(deserializer).map(CompactCompensation::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every combination of present amounts, with amounts that tell the five apart (and the
    /// extremes, and a present zero, which must not read as absent).
    fn every_shape() -> impl Iterator<Item = Compensation> {
        (0u8..1 << AMOUNTS).map(|present| {
            let amount = |i: u8, m: i64| (present & (1 << i) != 0).then_some(Money(m));
            Compensation {
                remedy: Remedy::Payment,
                rule: CompensationRule::InsuredPartialLoss,
                legal_basis: format!("Postal Law art. 47 ({present})"),
                ceiling: amount(0, i64::MAX),
                granted: Money(1_234),
                actual_loss: amount(1, 0),
                postage: amount(2, i64::MIN),
                insured_amount: amount(3, 30_000),
                full_value: amount(4, 45_000),
                policy_version: "2026.2".to_string(),
            }
        })
    }

    #[test]
    fn a_compact_compensation_is_the_domain_record_in_88_bytes() {
        assert_eq!(std::mem::size_of::<Compensation>(), 144);
        assert!(
            std::mem::size_of::<CompactCompensation>() <= 88,
            "{}",
            std::mem::size_of::<CompactCompensation>()
        );
        for c in every_shape() {
            let compact = CompactCompensation::from(&c);
            assert_eq!(compact.to_compensation(), c);
            assert_eq!(CompactCompensation::pooled(&c, &mut TextPool::default()), compact);
            assert_eq!(CompactCompensation::from(c.clone()), compact);
            // The same bytes as the domain record (checkpoint format 6 unchanged), both ways.
            let bytes = postcard::to_allocvec(&c).unwrap();
            assert_eq!(postcard::to_allocvec(&compact).unwrap(), bytes);
            assert_eq!(postcard::from_bytes::<CompactCompensation>(&bytes).unwrap(), compact);
            assert_eq!(
                serde_json::to_string(&compact).unwrap(),
                serde_json::to_string(&c).unwrap()
            );
        }
    }

    /// Issue 13, wave 12: compensations citing the same texts share one allocation of each;
    /// the pool stays bounded and a text beyond it is still the text.
    #[test]
    fn pooled_compensations_share_their_texts_and_the_pool_is_bounded() {
        let mut pool = TextPool::default();
        let shapes: Vec<Compensation> = every_shape().collect();
        let a = CompactCompensation::pooled(&shapes[3], &mut pool);
        let b = CompactCompensation::pooled(&shapes[3], &mut pool);
        let other = CompactCompensation::pooled(&shapes[4], &mut pool);
        assert!(Arc::ptr_eq(a.texts()[0], b.texts()[0]), "legal basis shared");
        assert!(Arc::ptr_eq(a.texts()[1], other.texts()[1]), "policy version shared");
        assert!(
            !Arc::ptr_eq(a.texts()[0], other.texts()[0]),
            "other legal basis, other text"
        );
        for i in 0..2 * TEXT_POOL_MAX {
            let text = format!("basis {i}");
            assert_eq!(&*pool.get(&text), text);
        }
        assert_eq!(pool.texts.len(), TEXT_POOL_MAX);
        // Review of wave 12: texts well past the first 64 are still shared.
        let late = "basis 1000".to_string();
        assert!(Arc::ptr_eq(&pool.get(&late), &pool.get(&late)), "text {late} shared");
        let mut copy: Arc<str> = Arc::from(late.as_str());
        pool.share(&mut copy);
        assert!(Arc::ptr_eq(&copy, &pool.get(&late)), "a decoded copy made the pool's");
        assert_eq!(&*pool.get("beyond"), "beyond");
        assert_eq!(pool.texts.len(), TEXT_POOL_MAX);
    }
}
