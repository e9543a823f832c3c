//! Personal information (docs/domain.md §3 phone normalisation, §9 sealing and masking).

use plaint_domain::event::PersonalData;
use plaint_domain::personal::*;

static MS: plaint_domain::personal::MatchSecret = plaint_domain::personal::MatchSecret::from_bytes([7; 32]);

fn key(id: &str, byte: u8) -> CustomerKey {
    CustomerKey {
        id: id.to_owned(),
        secret: [byte; 32],
    }
}

fn alice() -> PersonalData {
    PersonalData {
        name: Some("张三".to_owned()),
        phone: Some("+86 138-0013-8000".to_owned()),
        address: Some("北京市西城区金融大街甲3号".to_owned()),
    }
}

/// §3: "Phone numbers are normalised before any matching (`+86 138-0013-8000` = `13800138000`)".
#[test]
fn s3_phone_normalisation_cases() {
    let cases = [
        ("+86 138-0013-8000", Some("13800138000")),
        ("13800138000", Some("13800138000")),
        ("138 0013 8000", Some("13800138000")),
        ("0086 13800138000", Some("13800138000")),
        ("8613800138000", Some("13800138000")),
        ("(+86)138.0013.8000", Some("13800138000")),
        ("１３８００１３８０００", Some("13800138000")), // full-width digits
        ("010-6655 8899", Some("01066558899")),          // landline keeps its area code
        ("86-10-12345678", Some("861012345678")),        // not a mobile number: country code stays
        ("", None),
        ("n/a", None),
        ("123456789012345678901", None), // 21 digits: too long
    ];
    for (raw, want) in cases {
        assert_eq!(normalise_phone(raw).as_deref(), want, "normalise_phone({raw:?})");
    }
}

/// §8/§9: the matching key is the same for every spelling of one phone, differs between
/// phones, prefers the phone over the customer id, and never contains the number in clear.
#[test]
fn s9_match_key_is_pseudonymous_and_normalised() {
    let a = match_key(&MS, None, Some("+86 138-0013-8000")).expect("phone gives a key");
    assert_eq!(Some(a.clone()), match_key(&MS, None, Some("13800138000")));
    assert_eq!(Some(a.clone()), match_key(&MS, Some("C-9"), Some("0086-138-0013-8000")));
    assert_ne!(Some(a.clone()), match_key(&MS, None, Some("13800138001")));
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!a.contains("13800138000"));
    // No usable phone: the customer id decides, domain-separated from phones.
    let by_id = match_key(&MS, Some("13800138000"), Some("none")).expect("id gives a key");
    assert_ne!(
        by_id, a,
        "an id equal to a phone's digits must not collide with that phone"
    );
    assert_eq!(match_key(&MS, Some(" "), None), None);
    assert_eq!(match_key(&MS, None, None), None);
}

/// §9: sealed personal fields open with the right key and only with it.
#[test]
fn s9_seal_unseal_round_trip() {
    let k = key("cust-1/k1", 7);
    let sealed = seal(&alice(), &k, [3; 12]);
    assert_eq!(sealed.key_id, "cust-1/k1");
    assert_eq!(sealed.nonce, [3; 12]);
    let plain_bytes = "北京市西城区".as_bytes();
    assert!(
        !sealed.ciphertext.windows(plain_bytes.len()).any(|w| w == plain_bytes),
        "the address must not appear in clear"
    );
    assert_eq!(unseal(&sealed, &k), Ok(alice()));
}

#[test]
fn s9_wrong_key_fails() {
    let k = key("cust-1/k1", 7);
    let sealed = seal(&alice(), &k, [3; 12]);
    // Same id, other secret (e.g. a key destroyed and re-created): authentication fails.
    assert_eq!(
        unseal(&sealed, &key("cust-1/k1", 8)),
        Err(PersonalError::Authentication {
            key_id: "cust-1/k1".to_owned()
        })
    );
    // Another customer's key: refused by id before any decryption.
    assert!(matches!(
        unseal(&sealed, &key("cust-2/k1", 7)),
        Err(PersonalError::WrongKeyId { .. })
    ));
    // Altered ciphertext fails authentication.
    let mut altered = sealed.clone();
    altered.ciphertext[0] ^= 1;
    assert!(matches!(
        unseal(&altered, &k),
        Err(PersonalError::Authentication { .. })
    ));
    // The key id is bound as associated data: relabelling the sealed data does not help.
    let mut relabelled = sealed;
    relabelled.key_id = "cust-2/k1".to_owned();
    assert!(matches!(
        unseal(&relabelled, &key("cust-2/k1", 7)),
        Err(PersonalError::Authentication { .. })
    ));
}

/// The derived nonce depends on the key, the context and the plaintext.
#[test]
fn s9_derived_nonce_never_repeats_for_other_content() {
    let k = key("k", 1);
    let n1 = derive_nonce(&alice(), &k, &["CMP-1", "cmd-1"]);
    assert_eq!(n1, derive_nonce(&alice(), &k, &["CMP-1", "cmd-1"]));
    assert_ne!(n1, derive_nonce(&alice(), &k, &["CMP-1", "cmd-2"]));
    assert_ne!(n1, derive_nonce(&alice(), &key("k", 2), &["CMP-1", "cmd-1"]));
    let mut other = alice();
    other.name = Some("李四".to_owned());
    assert_ne!(n1, derive_nonce(&other, &k, &["CMP-1", "cmd-1"]));
    // Context parts are length-prefixed: ["ab","c"] and ["a","bc"] differ.
    assert_ne!(
        derive_nonce(&alice(), &k, &["ab", "c"]),
        derive_nonce(&alice(), &k, &["a", "bc"])
    );
}

#[test]
fn s9_masking_for_reports() {
    assert_eq!(mask_phone("13800138000"), "138****8000");
    assert_eq!(mask_phone("+86 138-0013-8000"), "138****8000");
    assert_eq!(mask_phone("12345"), "***45");
    assert_eq!(mask_phone("no phone"), "***");
    assert_eq!(mask_name("张三"), "张*");
    assert_eq!(mask_name("欧阳娜娜"), "欧***");
    assert_eq!(mask_name("王"), "*");
    assert_eq!(mask_name("  "), "");
    assert_eq!(mask_address("北京市西城区金融大街甲3号"), "北京市西城区****");
    assert_eq!(mask_address("北京"), "****");
}

#[test]
fn customer_key_debug_hides_the_secret() {
    let shown = format!("{:?}", key("k-1", 0xAB));
    assert!(shown.contains("k-1"));
    assert!(!shown.contains("171"), "secret bytes must not be printed: {shown}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Ways people write one mainland mobile number.
    fn spelled(digits: &str, style: u8) -> String {
        let (a, b, c) = (&digits[..3], &digits[3..7], &digits[7..]);
        match style % 6 {
            0 => digits.to_owned(),
            1 => format!("+86 {a}-{b}-{c}"),
            2 => format!("{a} {b} {c}"),
            3 => format!("0086{digits}"),
            4 => format!("(+86) {a}.{b}.{c}"),
            _ => format!("86-{digits}"),
        }
    }

    proptest! {
        /// §3: every spelling of a number normalises to the same digits and the same match key.
        #[test]
        fn s3_spellings_of_one_mobile_number_match(rest in "[3-9][0-9]{9}", style in any::<u8>()) {
            let digits = format!("1{rest}");
            let written = spelled(&digits, style);
            prop_assert_eq!(normalise_phone(&written), Some(digits.clone()));
            prop_assert_eq!(match_key(&MS, None, Some(&written)), match_key(&MS, None, Some(&digits)));
            prop_assert_eq!(mask_phone(&written), format!("{}****{}", &digits[..3], &digits[7..]));
        }

        /// Normalisation is idempotent and never panics on any input.
        #[test]
        fn normalise_phone_is_idempotent(raw in "\\PC{0,30}") {
            if let Some(n) = normalise_phone(&raw) {
                prop_assert!(n.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(normalise_phone(&n), Some(n.clone()));
            }
            let _ = mask_phone(&raw);
            let _ = mask_name(&raw);
            let _ = mask_address(&raw);
        }

        /// §9: seal/unseal round-trips any personal data; another secret never opens it.
        #[test]
        fn s9_seal_round_trips(name in prop::option::of("\\PC{0,12}"), phone in prop::option::of("[0-9 +-]{0,16}"),
                               address in prop::option::of("\\PC{0,40}"), secret in any::<[u8; 32]>(), nonce in any::<[u8; 12]>()) {
            let data = PersonalData { name, phone, address };
            let k = CustomerKey { id: "k".to_owned(), secret };
            let sealed = seal(&data, &k, nonce);
            prop_assert_eq!(unseal(&sealed, &k), Ok(data));
            let mut other = secret;
            other[0] ^= 0x80;
            let wrong = CustomerKey { id: "k".to_owned(), secret: other };
            prop_assert!(unseal(&sealed, &wrong).is_err());
        }
    }
}
