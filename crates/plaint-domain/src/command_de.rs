//! Reading a [`Command`] (the import format, docs/import-format.md) in one pass.
//!
//! The command's body is an internally tagged enum flattened into the command object
//! (`{"command_id":…,"command":"receive","channel":…}`). serde's derived reading of that shape
//! buffers the whole object into its private `Content` tree twice over (once for `flatten`,
//! once for the tag) and then decodes the body from the tree: a heap node per key and value
//! before the typed decode starts (issue 15: the command read of `POST /v1/commands`).
//!
//! This reading takes the common fields (`command_id`, `complaint_id`, `actor`,
//! `occurred_at`) as they come and, once the tag `command` is read, hands the rest of the
//! object straight to the derived reading of the variant's own struct ([`crate::command::Receive`], …), which
//! decodes each field from the input as it comes. Body fields given before the tag are kept in
//! a small buffer ([`Buffered`]) and handed over first: any key order reads, only the usual one
//! (the tag before the body's fields, as [`Command`]'s `Serialize` writes it) reads without one.
//!
//! It accepts what the derived reading accepts, as the same command, and refuses what it
//! refuses (`tests/command_json.rs`, a property test against the derived reading kept there),
//! with one deliberate exception: the derived reading also took the variant's *index* as the
//! tag (`"command": 0` for `receive`); the tag is a command name (the import format, and the
//! CLI's slow reading that names the field, never took a number).

use crate::command::{Command, CommandBody};
use crate::ids::{Actor, CommandId, ComplaintId};
use crate::time::Timestamp;
use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::value::{StrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Command, D::Error> {
        d.deserialize_map(CommandVisitor)
    }
}

struct CommandVisitor;

impl<'de> Visitor<'de> for CommandVisitor {
    type Value = Command;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a command object (docs/import-format.md)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Command, A::Error> {
        let mut head = Head::default();
        let mut early: Vec<(String, Buffered)> = Vec::new();
        let tag = loop {
            let Some(Key(key)) = map.next_key::<Key<'de>>()? else {
                return Err(de::Error::missing_field("command"));
            };
            if head.read(&key, &mut map)? == Read::Taken {
                continue;
            }
            if key == "command" {
                break map.next_value::<Key<'de>>()?.0;
            }
            early.push((key.into_owned(), map.next_value()?));
        };
        let fields = BodyFields {
            early: early.into_iter(),
            pending: None,
            map: &mut map,
            head: &mut head,
        };
        let body = CommandBody::read_named(&tag, fields)?;
        head.finish(body)
    }
}

/// A JSON object key (or the tag's value): borrowed from the input unless it holds escapes.
/// Also what `plaint import`'s duplicate-key scan reads keys with (`plaint::JsonKey`).
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

/// Whether [`Head::read`] took the key's value.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Taken,
    NotCommon,
}

/// The common fields as read so far.
#[derive(Default)]
struct Head {
    command_id: Option<CommandId>,
    complaint_id: Option<ComplaintId>,
    actor: Option<Actor>,
    occurred_at: Option<Option<Timestamp>>,
}

impl Head {
    /// Reads the value of `key` from `map` when `key` is a common field other than the tag.
    fn read<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<Read, A::Error> {
        match key {
            "command_id" => put(&mut self.command_id, "command_id", map)?,
            "complaint_id" => put(&mut self.complaint_id, "complaint_id", map)?,
            "actor" => put(&mut self.actor, "actor", map)?,
            "occurred_at" => put(&mut self.occurred_at, "occurred_at", map)?,
            _ => return Ok(Read::NotCommon),
        }
        Ok(Read::Taken)
    }

    fn finish<E: de::Error>(self, body: CommandBody) -> Result<Command, E> {
        Ok(Command {
            command_id: self.command_id.ok_or_else(|| E::missing_field("command_id"))?,
            complaint_id: self.complaint_id.ok_or_else(|| E::missing_field("complaint_id"))?,
            actor: self.actor.ok_or_else(|| E::missing_field("actor"))?,
            occurred_at: self.occurred_at.flatten(),
            body,
        })
    }
}

/// Reads the next value of `map` into the empty `slot` (a field given twice is refused).
fn put<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// The body's fields as a map: those buffered before the tag, then the rest of the command
/// object, read as they come, with the common fields after the tag taken into the head.
struct BodyFields<'a, A> {
    early: std::vec::IntoIter<(String, Buffered)>,
    /// The value of the buffered key handed out last.
    pending: Option<Buffered>,
    map: &'a mut A,
    head: &'a mut Head,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for BodyFields<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        if let Some((key, value)) = self.early.next() {
            self.pending = Some(value);
            return seed.deserialize(StringDeserializer::new(key)).map(Some);
        }
        loop {
            let Some(Key(key)) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            if self.head.read(&key, self.map)? == Read::Taken {
                continue;
            }
            if key == "command" {
                return Err(de::Error::duplicate_field("command"));
            }
            return match key {
                Cow::Borrowed(key) => seed.deserialize(BorrowedStrDeserializer::new(key)),
                Cow::Owned(key) => seed.deserialize(StrDeserializer::new(&key)),
            }
            .map(Some);
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some(value) => seed.deserialize(value.into_deserializer()),
            None => self.map.next_value_seed(seed),
        }
    }
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for BodyFields<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// A value of a body field given before the tag, kept as read (every entry of every map, in
/// order, so a key given twice inside it is seen twice, as the derived reading saw it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Buffered {
    Unit,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    Seq(Vec<Buffered>),
    Map(Vec<(Buffered, Buffered)>),
}

impl<'de> Deserialize<'de> for Buffered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Buffered, D::Error> {
        d.deserialize_any(BufferedVisitor)
    }
}

struct BufferedVisitor;

impl<'de> Visitor<'de> for BufferedVisitor {
    type Value = Buffered;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Buffered, E> {
        Ok(Buffered::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Buffered, E> {
        Ok(Buffered::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Buffered, E> {
        Ok(Buffered::U64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Buffered, E> {
        Ok(Buffered::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Buffered, E> {
        Ok(Buffered::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Buffered, E> {
        Ok(Buffered::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Buffered, E> {
        Ok(Buffered::Unit)
    }
    fn visit_none<E>(self) -> Result<Buffered, E> {
        Ok(Buffered::Unit)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Buffered, D::Error> {
        Buffered::deserialize(d)
    }
    fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<Buffered, S::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Buffered::Seq(items))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Buffered, M::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Buffered::Map(entries))
    }
}

/// A [`Buffered`] value read back, with the error type of the input it came from.
pub(crate) struct BufferedDeserializer<E> {
    value: Buffered,
    error: PhantomData<E>,
}

impl<'de, E: de::Error> IntoDeserializer<'de, E> for Buffered {
    type Deserializer = BufferedDeserializer<E>;

    fn into_deserializer(self) -> BufferedDeserializer<E> {
        BufferedDeserializer {
            value: self,
            error: PhantomData,
        }
    }
}

impl<'de, E: de::Error> Deserializer<'de> for BufferedDeserializer<E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Buffered::Unit => visitor.visit_unit(),
            Buffered::Bool(v) => visitor.visit_bool(v),
            Buffered::U64(v) => visitor.visit_u64(v),
            Buffered::I64(v) => visitor.visit_i64(v),
            Buffered::F64(v) => visitor.visit_f64(v),
            Buffered::Str(v) => visitor.visit_string(v),
            Buffered::Seq(items) => SeqDeserializer::new(items.into_iter()).deserialize_any(visitor),
            Buffered::Map(entries) => MapDeserializer::new(entries.into_iter()).deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Buffered::Unit => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        match self.value {
            // `"hotline"`, or `{"variant": value}`, as a JSON reader takes an enum.
            Buffered::Str(v) => visitor.visit_enum(v.into_deserializer()),
            Buffered::Map(entries) if entries.len() == 1 => {
                MapAccessDeserializer::new(MapDeserializer::new(entries.into_iter()))
                    .deserialize_enum(name, variants, visitor)
            }
            other => Err(de::Error::invalid_type(
                unexpected(&other),
                &"a variant name or a one-key map",
            )),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

fn unexpected(value: &Buffered) -> de::Unexpected<'_> {
    match value {
        Buffered::Unit => de::Unexpected::Unit,
        Buffered::Bool(v) => de::Unexpected::Bool(*v),
        Buffered::U64(v) => de::Unexpected::Unsigned(*v),
        Buffered::I64(v) => de::Unexpected::Signed(*v),
        Buffered::F64(v) => de::Unexpected::Float(*v),
        Buffered::Str(v) => de::Unexpected::Str(v),
        Buffered::Seq(_) => de::Unexpected::Seq,
        Buffered::Map(_) => de::Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    use crate::command::COMMAND_NAMES;

    #[test]
    fn each_name_once_and_none_a_common_field() {
        let mut sorted = COMMAND_NAMES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), COMMAND_NAMES.len(), "a name given twice");
        for name in COMMAND_NAMES {
            let common = ["command_id", "complaint_id", "actor", "occurred_at", "command"];
            assert!(!common.contains(name), "{name}");
        }
    }
}
