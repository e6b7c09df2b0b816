//! serde visitors that read MISP JSON straight into the borrowed model
//! structs ([`BorrowedEvent`] and its parts).
//!
//! No `serde_json::Value` tree is ever built: every object is walked once
//! by a hand-written [`Visitor`] that matches the field names MISP uses and
//! skips everything else with [`IgnoredAny`]. A string read from a slice
//! without escapes is borrowed (`visit_borrowed_str`); one read from a
//! stream, decoded or rewritten is owned. Scalars go through the
//! lenient readers below ([`Flag`], [`Uint`], [`Int`], [`Text`]) because
//! MISP writes most numbers and booleans as strings (`"distribution": "5"`,
//! `"to_ids": "1"`, `"timestamp": "1776729959"`).
//!
//! A document is walked by [`DocumentSeed`], which hands each finished
//! event to an [`Emitter`] as soon as its closing brace is read, so a
//! `{"response": [...]}` of any size is read element by element.
//!
//! Two kinds of problem are told apart:
//!
//! * a value of the wrong shape (`"distribution": "abc"`, an attribute
//!   list that is a string, bad JSON) is a serde error: serde_json adds
//!   the line and column and the rest of the document is abandoned;
//! * an event that is well-formed JSON but that MISP would refuse (no
//!   `info`, an invalid uuid) is refused on its own: the emitter receives
//!   an [`Error::Invalid`] for it and the next event of the document is
//!   read as usual.

use std::borrow::Cow;
use std::fmt;
use std::ops::ControlFlow;
use std::path::Path;

use serde::Deserialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor,
};

use crate::{
    AttributeType, BorrowedAttribute, BorrowedEvent, BorrowedObject, BorrowedOrgRef, Error,
};

/// MISP's default event distribution when a document gives none: the
/// shipped value of `MISP.default_event_distribution` ("This community
/// only").
pub(crate) const DEFAULT_EVENT_DISTRIBUTION: u8 = 1;

/// MISP's default attribute and object distribution: the shipped value of
/// `MISP.default_attribute_distribution`, `event` (5, inherit).
pub(crate) const DEFAULT_ATTRIBUTE_DISTRIBUTION: u8 = 5;

/// Highest distribution of an event (4, sharing group).
const MAX_EVENT_DISTRIBUTION: u8 = 4;

/// Highest distribution of an attribute or object (5, inherit).
const MAX_ATTRIBUTE_DISTRIBUTION: u8 = 5;

// ---------------------------------------------------------------------
// Lenient scalars
// ---------------------------------------------------------------------

/// A boolean as MISP writes it: `true`/`false`, `0`/`1`, `"0"`/`"1"`,
/// `"true"`/`"false"` (any case). `null` and `""` mean "not given".
struct Flag(Option<bool>);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Flag, D::Error> {
        deserializer.deserialize_any(FlagVisitor)
    }
}

struct FlagVisitor;

impl<'de> Visitor<'de> for FlagVisitor {
    type Value = Flag;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean (true, false, 0, 1, \"0\" or \"1\")")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
        Ok(Flag(Some(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
        match v {
            0 => Ok(Flag(Some(false))),
            1 => Ok(Flag(Some(true))),
            _ => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
        if v.is_empty() {
            Ok(Flag(None))
        } else if v == "1" || v.eq_ignore_ascii_case("true") {
            Ok(Flag(Some(true)))
        } else if v == "0" || v.eq_ignore_ascii_case("false") {
            Ok(Flag(Some(false)))
        } else {
            Err(E::invalid_value(Unexpected::Str(v), &self))
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Flag, E> {
        Ok(Flag(None))
    }
}

/// An unsigned integer as a JSON number or a string of digits. `null` and
/// `""` mean "not given".
struct Uint(Option<u64>);

impl<'de> Deserialize<'de> for Uint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Uint, D::Error> {
        deserializer.deserialize_any(UintVisitor)
    }
}

struct UintVisitor;

impl<'de> Visitor<'de> for UintVisitor {
    type Value = Uint;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an unsigned integer or a string of digits")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Uint, E> {
        Ok(Uint(Some(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Uint, E> {
        u64::try_from(v)
            .map(|u| Uint(Some(u)))
            .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Uint, E> {
        Err(E::invalid_value(Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Uint, E> {
        if v.is_empty() {
            return Ok(Uint(None));
        }
        if !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(Unexpected::Str(v), &self));
        }
        v.parse::<u64>()
            .map(|u| Uint(Some(u)))
            .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Uint, E> {
        Ok(Uint(None))
    }
}

/// A signed integer (a timestamp) as a JSON number or a string of
/// digits with an optional leading `-`. `null` and `""` mean "not given".
struct Int(Option<i64>);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Int, D::Error> {
        deserializer.deserialize_any(IntVisitor)
    }
}

struct IntVisitor;

impl<'de> Visitor<'de> for IntVisitor {
    type Value = Int;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string of digits")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
        i64::try_from(v)
            .map(|i| Int(Some(i)))
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
        Ok(Int(Some(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
        Err(E::invalid_value(Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Int, E> {
        if v.is_empty() {
            return Ok(Int(None));
        }
        let digits = v.strip_prefix('-').unwrap_or(v);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(Unexpected::Str(v), &self));
        }
        v.parse::<i64>()
            .map(|i| Int(Some(i)))
            .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Int, E> {
        Ok(Int(None))
    }
}

/// A text field: a JSON string, or a number written as MISP's PHP would
/// print it. `null` means "not given". A string without escapes is
/// borrowed from the document when the document is a slice.
struct Text<'de>(Option<Cow<'de, str>>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'de>, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Borrowed(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v.to_owned()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v))))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Text<'de>, E> {
        Ok(Text(None))
    }
}

/// Reads a distribution level and checks it is at most `max`.
fn next_distribution<'de, A: MapAccess<'de>>(map: &mut A, max: u8) -> Result<Option<u8>, A::Error> {
    match map.next_value::<Uint>()?.0 {
        None => Ok(None),
        Some(level) if level <= u64::from(max) => Ok(Some(level as u8)),
        Some(level) => Err(de::Error::custom(format_args!(
            "distribution {level} is out of range (MISP accepts 0 to {max})"
        ))),
    }
}

/// Reads a `sharing_group_id`; MISP writes 0 for "none".
fn next_sharing_group<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<u64>, A::Error> {
    Ok(map.next_value::<Uint>()?.0.filter(|&id| id != 0))
}

/// Lower-cases an uuid as MISP does when it saves one; an empty uuid is
/// no uuid.
fn uuid_field(text: Text<'_>) -> Option<Cow<'_, str>> {
    text.0.filter(|u| !u.is_empty()).map(|u| {
        if u.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(u.to_ascii_lowercase())
        } else {
            u
        }
    })
}

// ---------------------------------------------------------------------
// Field names
// ---------------------------------------------------------------------

/// Declares a field-name enum whose deserialiser matches the listed JSON
/// keys and maps every other key to `Other`, without allocating.
macro_rules! field_names {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $key:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum $name {
            $($variant,)*
            Other,
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                struct KeyVisitor;

                impl<'de> Visitor<'de> for KeyVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a field name")
                    }

                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok(match v {
                            $($key => $name::$variant,)*
                            _ => $name::Other,
                        })
                    }
                }

                deserializer.deserialize_identifier(KeyVisitor)
            }
        }
    };
}

field_names! {
    /// Keys of an event object, plus the two wrapper keys a document may
    /// use at the level of an event.
    EventKey {
        Wrapper => "Event",
        Response => "response",
        Id => "id",
        Uuid => "uuid",
        Info => "info",
        Date => "date",
        Published => "published",
        Distribution => "distribution",
        SharingGroupId => "sharing_group_id",
        SharingGroup => "SharingGroup",
        OrgId => "org_id",
        OrgcId => "orgc_id",
        Org => "Org",
        Orgc => "Orgc",
        DisableCorrelation => "disable_correlation",
        Timestamp => "timestamp",
        Tag => "Tag",
        Attribute => "Attribute",
        Object => "Object",
    }
}

field_names! {
    /// Keys of an object (a MISP object, not a JSON object).
    ObjectKey {
        Id => "id",
        Uuid => "uuid",
        Name => "name",
        Distribution => "distribution",
        SharingGroupId => "sharing_group_id",
        Deleted => "deleted",
        Attribute => "Attribute",
    }
}

field_names! {
    /// Keys of an attribute.
    AttributeKey {
        Id => "id",
        Uuid => "uuid",
        Type => "type",
        Category => "category",
        Value => "value",
        Value1 => "value1",
        Value2 => "value2",
        ToIds => "to_ids",
        Distribution => "distribution",
        SharingGroupId => "sharing_group_id",
        DisableCorrelation => "disable_correlation",
        Deleted => "deleted",
        Comment => "comment",
        Timestamp => "timestamp",
        FirstSeen => "first_seen",
        LastSeen => "last_seen",
        Tag => "Tag",
    }
}

field_names! {
    /// Keys of `Org`, `Orgc`, `SharingGroup` and `Tag` objects.
    RefKey {
        Id => "id",
        Uuid => "uuid",
        Name => "name",
    }
}

// ---------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------

/// A model struct read from one JSON element of a list.
trait Element<'de>: Sized {
    /// The serde reader of one element; `None` means "skip it".
    type Reader: Deserialize<'de>;

    fn from_reader(reader: Self::Reader) -> Option<Self>;
}

/// Appends the elements of a JSON list to a vector. `null` is an empty
/// list and a single object is a list of one (XML-converted MISP JSON
/// writes one-element lists that way).
struct ExtendSeed<'v, T>(&'v mut Vec<T>);

impl<'de, T: Element<'de>> DeserializeSeed<'de> for ExtendSeed<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: Element<'de>> Visitor<'de> for ExtendSeed<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(reader) = seq.next_element::<T::Reader>()? {
            self.0.extend(T::from_reader(reader));
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let reader = T::Reader::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.0.extend(T::from_reader(reader));
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

// ---------------------------------------------------------------------
// Tags and organisation references
// ---------------------------------------------------------------------

/// One element of a `Tag` list: `{"name": ...}` (other keys ignored) or a
/// bare string. A tag without a name (MISP also accepts `{"id": 5}` on
/// input) has nothing to keep and is skipped.
struct TagReader<'de>(Option<Cow<'de, str>>);

/// A tag is its name.
impl<'de> Element<'de> for Cow<'de, str> {
    type Reader = TagReader<'de>;

    fn from_reader(reader: TagReader<'de>) -> Option<Cow<'de, str>> {
        reader.0
    }
}

impl<'de> Deserialize<'de> for TagReader<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TagReader<'de>, D::Error> {
        deserializer.deserialize_any(TagVisitor)
    }
}

struct TagVisitor;

impl<'de> Visitor<'de> for TagVisitor {
    type Value = TagReader<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tag object")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<TagReader<'de>, E> {
        Ok(TagReader(Some(Cow::Borrowed(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TagReader<'de>, E> {
        Ok(TagReader(Some(Cow::Owned(v.to_owned()))))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TagReader<'de>, A::Error> {
        let mut name = None;
        while let Some(key) = map.next_key::<RefKey>()? {
            match key {
                RefKey::Name => name = map.next_value::<Text>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(TagReader(name))
    }
}

/// An `Org`, `Orgc` or `SharingGroup` object: id, uuid and name. `null`
/// is an empty reference.
struct RefReader<'de>(BorrowedOrgRef<'de>);

impl<'de> Deserialize<'de> for RefReader<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RefReader<'de>, D::Error> {
        deserializer.deserialize_any(RefVisitor)
    }
}

struct RefVisitor;

impl<'de> Visitor<'de> for RefVisitor {
    type Value = RefReader<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an organisation object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RefReader<'de>, A::Error> {
        let mut org = BorrowedOrgRef::default();
        while let Some(key) = map.next_key::<RefKey>()? {
            match key {
                RefKey::Id => org.id = map.next_value::<Uint>()?.0,
                RefKey::Uuid => org.uuid = uuid_field(map.next_value()?),
                RefKey::Name => org.name = map.next_value::<Text>()?.0,
                RefKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(RefReader(org))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RefReader<'de>, E> {
        Ok(RefReader(BorrowedOrgRef::default()))
    }
}

// ---------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------

/// One attribute, with MISP's save-time defaults applied.
struct AttributeReader<'de>(BorrowedAttribute<'de>);

impl<'de> Element<'de> for BorrowedAttribute<'de> {
    type Reader = AttributeReader<'de>;

    fn from_reader(reader: AttributeReader<'de>) -> Option<BorrowedAttribute<'de>> {
        Some(reader.0)
    }
}

impl<'de> Deserialize<'de> for AttributeReader<'de> {
    fn deserialize<D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<AttributeReader<'de>, D::Error> {
        deserializer.deserialize_map(AttributeVisitor)
    }
}

struct AttributeVisitor;

impl<'de> Visitor<'de> for AttributeVisitor {
    type Value = AttributeReader<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttributeReader<'de>, A::Error> {
        let mut attribute = BorrowedAttribute::default();
        let mut value = None;
        let mut value1 = None;
        let mut value2 = None;
        let mut to_ids = None;
        let mut distribution = None;
        let mut disable_correlation = None;
        while let Some(key) = map.next_key::<AttributeKey>()? {
            match key {
                AttributeKey::Id => attribute.id = map.next_value::<Uint>()?.0,
                AttributeKey::Uuid => attribute.uuid = uuid_field(map.next_value()?),
                AttributeKey::Type => {
                    attribute.type_name = map.next_value::<Text>()?.0.unwrap_or_default();
                }
                AttributeKey::Category => {
                    attribute.category = map.next_value::<Text>()?.0.filter(|c| !c.is_empty());
                }
                AttributeKey::Value => value = map.next_value::<Text>()?.0,
                AttributeKey::Value1 => value1 = map.next_value::<Text>()?.0,
                AttributeKey::Value2 => value2 = map.next_value::<Text>()?.0,
                AttributeKey::ToIds => to_ids = map.next_value::<Flag>()?.0,
                AttributeKey::Distribution => {
                    distribution = next_distribution(&mut map, MAX_ATTRIBUTE_DISTRIBUTION)?;
                }
                AttributeKey::SharingGroupId => {
                    attribute.sharing_group_id = next_sharing_group(&mut map)?
                }
                AttributeKey::DisableCorrelation => {
                    disable_correlation = map.next_value::<Flag>()?.0
                }
                AttributeKey::Deleted => {
                    attribute.deleted = map.next_value::<Flag>()?.0.unwrap_or(false)
                }
                AttributeKey::Comment => {
                    attribute.comment = map.next_value::<Text>()?.0.unwrap_or_default()
                }
                AttributeKey::Timestamp => attribute.timestamp = map.next_value::<Int>()?.0,
                AttributeKey::FirstSeen => {
                    attribute.first_seen = map.next_value::<Text>()?.0.filter(|s| !s.is_empty())
                }
                AttributeKey::LastSeen => {
                    attribute.last_seen = map.next_value::<Text>()?.0.filter(|s| !s.is_empty())
                }
                AttributeKey::Tag => map.next_value_seed(ExtendSeed(&mut attribute.tags))?,
                AttributeKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        // MISP builds `value` from value1/value2 when only those are given.
        attribute.value = match value {
            Some(v) if !v.is_empty() => v,
            _ => match (value1, value2) {
                (Some(v1), Some(v2)) if !v2.is_empty() => Cow::Owned(format!("{v1}|{v2}")),
                (Some(v1), _) => v1,
                (None, _) => Cow::Borrowed(""),
            },
        };
        attribute.distribution = distribution.unwrap_or(DEFAULT_ATTRIBUTE_DISTRIBUTION);
        if attribute.distribution != 4 {
            attribute.sharing_group_id = None;
        }
        attribute.to_ids = match to_ids {
            Some(flag) => flag,
            None => AttributeType::from_name(&attribute.type_name)
                .is_some_and(AttributeType::default_to_ids),
        };
        attribute.disable_correlation = disable_correlation.unwrap_or_else(|| {
            attribute.type_name == "attachment" && is_image_name(&attribute.value)
        });
        Ok(AttributeReader(attribute))
    }
}

/// MISP disables correlation on attachments it takes for images (by file
/// extension) unless the attribute says otherwise.
fn is_image_name(name: &str) -> bool {
    let Some((_, extension)) = name.rsplit_once('.') else {
        return false;
    };
    ["jpg", "jpeg", "png", "gif", "webp"]
        .iter()
        .any(|image| extension.eq_ignore_ascii_case(image))
}

// ---------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------

/// One MISP object with its attributes.
struct ObjectReader<'de>(BorrowedObject<'de>);

impl<'de> Element<'de> for BorrowedObject<'de> {
    type Reader = ObjectReader<'de>;

    fn from_reader(reader: ObjectReader<'de>) -> Option<BorrowedObject<'de>> {
        Some(reader.0)
    }
}

impl<'de> Deserialize<'de> for ObjectReader<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ObjectReader<'de>, D::Error> {
        deserializer.deserialize_map(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = ObjectReader<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ObjectReader<'de>, A::Error> {
        let mut object = BorrowedObject::default();
        let mut distribution = None;
        while let Some(key) = map.next_key::<ObjectKey>()? {
            match key {
                ObjectKey::Id => object.id = map.next_value::<Uint>()?.0,
                ObjectKey::Uuid => object.uuid = uuid_field(map.next_value()?),
                ObjectKey::Name => object.name = map.next_value::<Text>()?.0.unwrap_or_default(),
                ObjectKey::Distribution => {
                    distribution = next_distribution(&mut map, MAX_ATTRIBUTE_DISTRIBUTION)?;
                }
                ObjectKey::SharingGroupId => {
                    object.sharing_group_id = next_sharing_group(&mut map)?
                }
                ObjectKey::Deleted => object.deleted = map.next_value::<Flag>()?.0.unwrap_or(false),
                ObjectKey::Attribute => map.next_value_seed(ExtendSeed(&mut object.attributes))?,
                ObjectKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        object.distribution = distribution.unwrap_or(DEFAULT_ATTRIBUTE_DISTRIBUTION);
        if object.distribution != 4 {
            object.sharing_group_id = None;
        }
        Ok(ObjectReader(object))
    }
}

// ---------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------

/// The fields of an event as read, before MISP's defaults and checks.
#[derive(Default)]
struct EventFields<'de> {
    id: Option<u64>,
    uuid: Option<Cow<'de, str>>,
    info: Option<Cow<'de, str>>,
    date: Option<Cow<'de, str>>,
    published: Option<bool>,
    distribution: Option<u8>,
    sharing_group_id: Option<u64>,
    sharing_group: BorrowedOrgRef<'de>,
    org: BorrowedOrgRef<'de>,
    orgc: BorrowedOrgRef<'de>,
    org_id: Option<u64>,
    orgc_id: Option<u64>,
    disable_correlation: Option<bool>,
    timestamp: Option<i64>,
    tags: Vec<Cow<'de, str>>,
    attributes: Vec<BorrowedAttribute<'de>>,
    objects: Vec<BorrowedObject<'de>>,
}

impl<'de> EventFields<'de> {
    /// Reads the value of `key` (an event field) from `map`.
    fn read_field<A: MapAccess<'de>>(
        &mut self,
        key: EventKey,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match key {
            EventKey::Id => self.id = map.next_value::<Uint>()?.0,
            EventKey::Uuid => self.uuid = uuid_field(map.next_value()?),
            EventKey::Info => self.info = map.next_value::<Text>()?.0,
            EventKey::Date => self.date = map.next_value::<Text>()?.0,
            EventKey::Published => self.published = map.next_value::<Flag>()?.0,
            EventKey::Distribution => {
                self.distribution = next_distribution(map, MAX_EVENT_DISTRIBUTION)?;
            }
            EventKey::SharingGroupId => self.sharing_group_id = next_sharing_group(map)?,
            EventKey::SharingGroup => self.sharing_group = map.next_value::<RefReader>()?.0,
            EventKey::OrgId => self.org_id = map.next_value::<Uint>()?.0,
            EventKey::OrgcId => self.orgc_id = map.next_value::<Uint>()?.0,
            EventKey::Org => self.org = map.next_value::<RefReader>()?.0,
            EventKey::Orgc => self.orgc = map.next_value::<RefReader>()?.0,
            EventKey::DisableCorrelation => self.disable_correlation = map.next_value::<Flag>()?.0,
            EventKey::Timestamp => self.timestamp = map.next_value::<Int>()?.0,
            EventKey::Tag => map.next_value_seed(ExtendSeed(&mut self.tags))?,
            EventKey::Attribute => map.next_value_seed(ExtendSeed(&mut self.attributes))?,
            EventKey::Object => map.next_value_seed(ExtendSeed(&mut self.objects))?,
            EventKey::Wrapper | EventKey::Response | EventKey::Other => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    /// Applies MISP's defaults and checks; `Err` is why MISP would refuse
    /// the event. `index` is the event's 0-based position in its document
    /// (it enters the identity of an event that has no uuid).
    fn finish(self, index: usize) -> Result<BorrowedEvent<'de>, String> {
        if let Some(uuid) = &self.uuid {
            if !is_uuid(uuid) {
                return Err(format!(
                    "event uuid {uuid:?} is not a valid UUID (MISP: \"Please provide a valid RFC 4122 UUID\")"
                ));
            }
        }
        let info = match self.info {
            Some(info) if !info.trim().is_empty() => info,
            _ => {
                return Err(match &self.uuid {
                    Some(uuid) => format!("event {uuid} has no info (MISP refuses an event with an empty info)"),
                    None => "not a MISP event: no \"info\" field (MISP refuses an event with an empty info)".to_owned(),
                });
            }
        };
        let distribution = self.distribution.unwrap_or(DEFAULT_EVENT_DISTRIBUTION);
        let sharing_group_id = match distribution {
            4 => self.sharing_group_id.or(self.sharing_group.id),
            _ => None,
        };
        let mut org = self.org;
        org.id = org.id.or(self.org_id);
        let mut orgc = self.orgc;
        orgc.id = orgc.id.or(self.orgc_id);
        let mut event = BorrowedEvent {
            id: self.id,
            uuid: self.uuid.unwrap_or_default(),
            info,
            date: self.date.unwrap_or_default(),
            published: self.published.unwrap_or(false),
            distribution,
            sharing_group_id,
            org,
            orgc,
            disable_correlation: self.disable_correlation.unwrap_or(false),
            timestamp: self.timestamp,
            tags: self.tags,
            attributes: self.attributes,
            objects: self.objects,
        };
        if event.uuid.is_empty() {
            event.uuid = Cow::Owned(content_uuid(&event, index));
        }
        Ok(event)
    }
}

/// Whether `s` has the 8-4-4-4-12 hexadecimal shape of a UUID.
pub(crate) fn is_uuid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A deterministic identity for an event that has no uuid: a version-8
/// (RFC 9562 "custom") UUID from a 128-bit FNV-1a hash of the event's
/// info, date, creator, its position in its document, and its attributes'
/// types, categories and values. MISP would draw a random uuid on save;
/// a derived one keeps loading reproducible.
fn content_uuid(event: &BorrowedEvent<'_>, index: usize) -> String {
    let mut hash = Fnv128::new();
    hash.write_field(event.info.as_bytes());
    hash.write_field(event.date.as_bytes());
    hash.write_field(event.orgc.name.as_deref().unwrap_or("").as_bytes());
    hash.write_field(&(index as u64).to_le_bytes());
    for object in &event.objects {
        hash.write_field(object.name.as_bytes());
    }
    for a in event.all_attributes() {
        hash.write_field(a.attribute.type_name.as_bytes());
        hash.write_field(a.attribute.category.as_deref().unwrap_or("").as_bytes());
        hash.write_field(a.attribute.value.as_bytes());
    }
    let mut bytes = hash.finish().to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// 128-bit FNV-1a: small, stable across platforms and Rust versions.
struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    fn new() -> Fnv128 {
        Fnv128(Self::OFFSET)
    }

    /// Hashes `bytes` followed by its length, so that field boundaries
    /// count.
    fn write_field(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().chain(&(bytes.len() as u64).to_le_bytes()) {
            self.0 ^= u128::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn finish(&self) -> u128 {
        self.0
    }
}

/// Reads one bare event object (the value of an `"Event"` key).
struct EventSeed;

impl<'de> DeserializeSeed<'de> for EventSeed {
    type Value = EventFields<'de>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<EventFields<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EventSeed {
    type Value = EventFields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventFields<'de>, A::Error> {
        let mut fields = EventFields::default();
        while let Some(key) = map.next_key::<EventKey>()? {
            fields.read_field(key, &mut map)?;
        }
        Ok(fields)
    }
}

// ---------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------

/// Receives the events of a document as they are read.
pub(crate) struct Emitter<'s, 'de> {
    /// The document's file, for error messages.
    source: &'s Path,
    /// Events (accepted or refused) seen so far in the document.
    count: usize,
    sink: &'s mut dyn FnMut(crate::Result<BorrowedEvent<'de>>) -> ControlFlow<()>,
    /// Set when the sink asked to stop.
    stopped: bool,
}

impl<'s, 'de> Emitter<'s, 'de> {
    pub(crate) fn new(
        source: &'s Path,
        sink: &'s mut dyn FnMut(crate::Result<BorrowedEvent<'de>>) -> ControlFlow<()>,
    ) -> Self {
        Emitter {
            source,
            count: 0,
            sink,
            stopped: false,
        }
    }

    /// Whether the sink asked to stop (the parse error that follows is
    /// not a problem of the document).
    pub(crate) fn stopped(&self) -> bool {
        self.stopped
    }

    /// Passes an error that ended the document (malformed JSON, a read
    /// error) to the sink.
    pub(crate) fn send_error(&mut self, error: Error) {
        // Stopping after the last item changes nothing.
        let _ = (self.sink)(Err(error));
    }

    fn emit<E: de::Error>(&mut self, fields: EventFields<'de>) -> Result<(), E> {
        let index = self.count;
        self.count += 1;
        let item = fields.finish(index).map_err(|message| Error::Invalid {
            path: self.source.to_path_buf(),
            message: format!("event {} of the document refused: {message}", index + 1),
        });
        match (self.sink)(item) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => {
                self.stopped = true;
                Err(E::custom("stopped by the caller"))
            }
        }
    }
}

/// Reads a whole MISP JSON document: `{"Event": {...}}`,
/// `{"response": [...]}` (elements wrapped or bare), a bare event object,
/// or a list of any of these.
pub(crate) struct DocumentSeed<'e, 's, 'de>(pub(crate) &'e mut Emitter<'s, 'de>);

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a MISP event document (an object or a list of events)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(DocumentSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Until a wrapper key shows up, the object may be a bare event:
        // its fields are kept and dropped if a wrapper key is seen.
        let mut bare = EventFields::default();
        let mut wrapped = false;
        while let Some(key) = map.next_key::<EventKey>()? {
            match key {
                EventKey::Wrapper => {
                    wrapped = true;
                    let fields = map.next_value_seed(EventSeed)?;
                    self.0.emit(fields)?;
                }
                EventKey::Response => {
                    wrapped = true;
                    map.next_value_seed(DocumentSeed(&mut *self.0))?;
                }
                _ => bare.read_field(key, &mut map)?,
            }
        }
        if !wrapped {
            self.0.emit(bare)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("01d7d459-91ef-5fa0-8bf8-1e682f4c5c93"));
        assert!(is_uuid("01D7D459-91EF-5FA0-8BF8-1E682F4C5C93"));
        assert!(!is_uuid("01d7d459-91ef-5fa0-8bf8-1e682f4c5c9"));
        assert!(!is_uuid("01d7d459x91ef-5fa0-8bf8-1e682f4c5c93"));
        assert!(!is_uuid("g1d7d459-91ef-5fa0-8bf8-1e682f4c5c93"));
        assert!(!is_uuid("a"));
    }

    #[test]
    fn content_uuid_is_a_version_8_uuid_and_depends_on_content() {
        let mut event = BorrowedEvent {
            info: "x".into(),
            ..BorrowedEvent::default()
        };
        let first = content_uuid(&event, 0);
        assert!(is_uuid(&first));
        assert_eq!(&first[14..15], "8");
        assert!(matches!(&first[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(first, content_uuid(&event, 0));
        assert_ne!(first, content_uuid(&event, 1));
        event.info = "y".into();
        assert_ne!(first, content_uuid(&event, 0));
    }

    #[test]
    fn image_names() {
        assert!(is_image_name("a.PNG"));
        assert!(is_image_name("x.tar.jpeg"));
        assert!(!is_image_name("png"));
        assert!(!is_image_name("a.exe"));
    }
}
