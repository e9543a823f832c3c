//! Compact forms of the domain records a projection holds per ticket (issue 13, wave 10): the
//! same data in fewer bytes, serialised exactly as the domain record, so a checkpoint's bytes do
//! not change (format 6) and the domain's record is what every reader gets back.

use plaint_domain::event::{Compensation, CompensationRule, Money, Remedy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The optional amounts of a [`Compensation`], in the order of [`CompactCompensation::amounts`].
const AMOUNTS: usize = 5;

/// A [`Compensation`] in 88 bytes, not 144: its five `Option<Money>`s (16 bytes each) as five
/// amounts behind one presence byte, its two strings as `Box<str>` (16 bytes, not 24). Built from
/// and given back as the domain's record ([`CompactCompensation::to_compensation`]), losslessly;
/// it (de)serialises as that record, field for field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompactCompensation {
    legal_basis: Box<str>,
    policy_version: Box<str>,
    granted: Money,
    /// `ceiling`, `actual_loss`, `postage`, `insured_amount`, `full_value`; an absent one is
    /// zero with its bit of `present` clear (invariant: no bit beyond the fifth is set).
    amounts: [Money; AMOUNTS],
    present: u8,
    remedy: Remedy,
    rule: CompensationRule,
}

impl From<Compensation> for CompactCompensation {
    /// Takes the record's two strings over (`String::into_boxed_str`: no copy when their
    /// capacity is their length, as a decoded string's is).
    fn from(mut c: Compensation) -> Self {
        let legal_basis = std::mem::take(&mut c.legal_basis).into_boxed_str();
        let policy_version = std::mem::take(&mut c.policy_version).into_boxed_str();
        CompactCompensation::with_text(&c, legal_basis, policy_version)
    }
}

impl From<&Compensation> for CompactCompensation {
    fn from(c: &Compensation) -> Self {
        CompactCompensation::with_text(c, c.legal_basis.as_str().into(), c.policy_version.as_str().into())
    }
}

impl CompactCompensation {
    /// `c`'s remedy, rule and amounts with its two strings as given (moved out of `c`, so not
    /// read from it here, or copied).
    fn with_text(c: &Compensation, legal_basis: Box<str>, policy_version: Box<str>) -> Self {
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

    /// Heap bytes of its two strings (the memory breakdown's).
    #[cfg(test)]
    pub(crate) fn text_len(&self) -> usize {
        self.legal_basis.len() + self.policy_version.len()
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
}
