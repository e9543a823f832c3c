//! Target `event_codec`: `plaint_domain::codec::decode` with upcasting.
//!
//! Input: byte 0 picks the event type (of the 15 stable names, or an unknown name), byte 1 the
//! schema version (0 to 3: older, current and unknown versions), the rest is the payload.
//! Property: whatever decodes (from any version) encodes as the current version and decodes
//! back to the same value; nothing panics.

use plaint_domain::codec::{self, CURRENT_VERSIONS};

pub fn event_codec(data: &[u8]) {
    let [t, v, payload @ ..] = data else { return };
    let type_name = CURRENT_VERSIONS
        .get(*t as usize % (CURRENT_VERSIONS.len() + 1))
        .map_or("NoSuchEvent", |(name, _)| *name);
    let version = u16::from(*v % 4);
    match codec::decode(type_name, version, payload) {
        Ok(event) => {
            let (name, current, bytes) = codec::encode(&event);
            assert_eq!(name, type_name, "decode keeps the type");
            assert_eq!(Some(current), codec::schema_version(name));
            let again = codec::decode(name, current, &bytes)
                .unwrap_or_else(|e| panic!("{name} v{current}: re-encoded payload does not decode: {e}"));
            assert_eq!(again, event, "{name}: decode(encode(x)) == x");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
