//! The data model borrowed from the JSON it was read from.
//!
//! [`BorrowedEvent`], [`BorrowedObject`], [`BorrowedAttribute`] and
//! [`BorrowedOrgRef`] carry the same fields as their owned twins
//! ([`Event`], [`Object`], [`Attribute`], [`OrgRef`]), with every string a
//! [`Cow<str>`]: a string of the document without escapes is borrowed from
//! the document's bytes, and only a string that had to be decoded (an
//! escape such as `\n` or `\u00e9`), rewritten (an upper-case uuid, a
//! number read as text, `value1|value2`) or read from a stream is owned.
//! Reading a feed that way makes almost no allocation per attribute.
//!
//! [`json::stream_slice_borrowed`](crate::json::stream_slice_borrowed)
//! reads them from a slice and [`json::Document`](crate::json::Document)
//! keeps them together with the file they borrow from;
//! [`BorrowedEvent::into_event`] makes the owned [`Event`] (which is how
//! the owned readers of [`json`](crate::json) make theirs), and
//! [`Event::as_borrowed`] views an owned event in this form.

use std::borrow::Cow;

use crate::{Attribute, Event, Object, OrgRef, Tag};

/// An organisation reference, borrowed: see [`OrgRef`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BorrowedOrgRef<'a> {
    /// MISP's numeric id, when the document carries one.
    pub id: Option<u64>,
    /// The organisation uuid, when known.
    pub uuid: Option<Cow<'a, str>>,
    /// The organisation name, when known.
    pub name: Option<Cow<'a, str>>,
}

impl<'a> BorrowedOrgRef<'a> {
    /// The identity [`OrgRef::identity`] gives: the numeric id if known,
    /// else the uuid, else the name; `None` for an empty reference.
    pub fn identity(&self) -> Option<Cow<'a, str>> {
        if let Some(id) = self.id {
            return Some(Cow::Owned(id.to_string()));
        }
        self.uuid.clone().or_else(|| self.name.clone())
    }

    /// The owned reference.
    pub fn into_org_ref(self) -> OrgRef {
        OrgRef {
            id: self.id,
            uuid: self.uuid.map(Cow::into_owned),
            name: self.name.map(Cow::into_owned),
        }
    }
}

/// A MISP attribute, borrowed: see [`Attribute`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BorrowedAttribute<'a> {
    /// MISP's numeric id, when the document carries one.
    pub id: Option<u64>,
    /// The attribute uuid (lower case), when present.
    pub uuid: Option<Cow<'a, str>>,
    /// The type name as written.
    pub type_name: Cow<'a, str>,
    /// The category name as written, if any.
    pub category: Option<Cow<'a, str>>,
    /// The raw value (for composite types `value1|value2`).
    pub value: Cow<'a, str>,
    /// The IDS flag.
    pub to_ids: bool,
    /// Distribution 0-5 (5 = inherit from the event).
    pub distribution: u8,
    /// The sharing group, for distribution 4.
    pub sharing_group_id: Option<u64>,
    /// Whether correlation is disabled for this attribute.
    pub disable_correlation: bool,
    /// Soft-deleted.
    pub deleted: bool,
    /// Free-text comment.
    pub comment: Cow<'a, str>,
    /// Last modification, seconds since the epoch.
    pub timestamp: Option<i64>,
    /// `first_seen` as written.
    pub first_seen: Option<Cow<'a, str>>,
    /// `last_seen` as written.
    pub last_seen: Option<Cow<'a, str>>,
    /// The names of the attribute's tags.
    pub tags: Vec<Cow<'a, str>>,
}

impl BorrowedAttribute<'_> {
    /// The attribute's identity, as [`AttributeRef::key`](crate::AttributeRef::key)
    /// gives it: its uuid, or `<event uuid>:<position>` when it has none
    /// (`position` in [`BorrowedEvent::all_attributes`] order).
    pub fn key<'s>(&'s self, event_uuid: &str, position: usize) -> Cow<'s, str> {
        match &self.uuid {
            Some(u) if !u.is_empty() => Cow::Borrowed(u),
            _ => Cow::Owned(format!("{event_uuid}:{position}")),
        }
    }

    /// The owned attribute.
    pub fn into_attribute(self) -> Attribute {
        Attribute {
            id: self.id,
            uuid: self.uuid.map(Cow::into_owned),
            type_name: self.type_name.into_owned(),
            category: self.category.map(Cow::into_owned),
            value: self.value.into_owned(),
            to_ids: self.to_ids,
            distribution: self.distribution,
            sharing_group_id: self.sharing_group_id,
            disable_correlation: self.disable_correlation,
            deleted: self.deleted,
            comment: self.comment.into_owned(),
            timestamp: self.timestamp,
            first_seen: self.first_seen.map(Cow::into_owned),
            last_seen: self.last_seen.map(Cow::into_owned),
            tags: into_tags(self.tags),
        }
    }
}

/// A MISP object, borrowed: see [`Object`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BorrowedObject<'a> {
    /// MISP's numeric id, when the document carries one.
    pub id: Option<u64>,
    /// The object uuid (lower case), when present.
    pub uuid: Option<Cow<'a, str>>,
    /// The object template name.
    pub name: Cow<'a, str>,
    /// Distribution 0-5 (5 = inherit from the event).
    pub distribution: u8,
    /// The sharing group, for distribution 4.
    pub sharing_group_id: Option<u64>,
    /// Soft-deleted.
    pub deleted: bool,
    /// The object's attributes, in document order.
    pub attributes: Vec<BorrowedAttribute<'a>>,
}

impl BorrowedObject<'_> {
    /// The owned object.
    pub fn into_object(self) -> Object {
        Object {
            id: self.id,
            uuid: self.uuid.map(Cow::into_owned),
            name: self.name.into_owned(),
            distribution: self.distribution,
            sharing_group_id: self.sharing_group_id,
            deleted: self.deleted,
            attributes: self
                .attributes
                .into_iter()
                .map(BorrowedAttribute::into_attribute)
                .collect(),
        }
    }
}

/// A MISP event, borrowed: see [`Event`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BorrowedEvent<'a> {
    /// MISP's numeric id, when the document carries one.
    pub id: Option<u64>,
    /// The event uuid (lower case).
    pub uuid: Cow<'a, str>,
    /// The event title.
    pub info: Cow<'a, str>,
    /// The event date as written.
    pub date: Cow<'a, str>,
    /// Whether the event is published.
    pub published: bool,
    /// Distribution 0-4.
    pub distribution: u8,
    /// The sharing group, for distribution 4.
    pub sharing_group_id: Option<u64>,
    /// The owning (local) organisation.
    pub org: BorrowedOrgRef<'a>,
    /// The creating organisation.
    pub orgc: BorrowedOrgRef<'a>,
    /// Whether correlation is disabled for the whole event.
    pub disable_correlation: bool,
    /// Last modification, seconds since the epoch.
    pub timestamp: Option<i64>,
    /// The names of the event's tags.
    pub tags: Vec<Cow<'a, str>>,
    /// Attributes directly on the event, in document order.
    pub attributes: Vec<BorrowedAttribute<'a>>,
    /// Objects of the event, in document order.
    pub objects: Vec<BorrowedObject<'a>>,
}

/// Where an attribute of a [`BorrowedEvent`] sits, as
/// [`BorrowedEvent::all_attributes`] yields it.
#[derive(Debug, Clone, Copy)]
pub struct BorrowedAttributeRef<'e, 'a> {
    /// The attribute.
    pub attribute: &'e BorrowedAttribute<'a>,
    /// Its object and the object's index in [`BorrowedEvent::objects`],
    /// if it belongs to one.
    pub object: Option<(usize, &'e BorrowedObject<'a>)>,
    /// Its 0-based position in document order (event attributes first,
    /// then each object's attributes, objects in document order).
    pub position: usize,
}

impl<'e> BorrowedAttributeRef<'e, '_> {
    /// The attribute's identity: its uuid, or `<event uuid>:<position>`.
    pub fn key(&self, event: &BorrowedEvent<'_>) -> Cow<'e, str> {
        self.attribute.key(&event.uuid, self.position)
    }
}

impl<'a> BorrowedEvent<'a> {
    /// Every attribute of the event in document order (the order of
    /// [`Event::all_attributes`]).
    pub fn all_attributes(&self) -> impl Iterator<Item = BorrowedAttributeRef<'_, 'a>> {
        let direct = self.attributes.iter().map(|a| (a, None));
        let nested = self
            .objects
            .iter()
            .enumerate()
            .flat_map(|(n, o)| o.attributes.iter().map(move |a| (a, Some((n, o)))));
        direct
            .chain(nested)
            .enumerate()
            .map(|(position, (attribute, object))| BorrowedAttributeRef {
                attribute,
                object,
                position,
            })
    }

    /// Number of attributes, objects' attributes included.
    pub fn attribute_count(&self) -> usize {
        self.attributes.len()
            + self
                .objects
                .iter()
                .map(|o| o.attributes.len())
                .sum::<usize>()
    }

    /// The owned event.
    pub fn into_event(self) -> Event {
        Event {
            id: self.id,
            uuid: self.uuid.into_owned(),
            info: self.info.into_owned(),
            date: self.date.into_owned(),
            published: self.published,
            distribution: self.distribution,
            sharing_group_id: self.sharing_group_id,
            org: self.org.into_org_ref(),
            orgc: self.orgc.into_org_ref(),
            disable_correlation: self.disable_correlation,
            timestamp: self.timestamp,
            tags: into_tags(self.tags),
            attributes: self
                .attributes
                .into_iter()
                .map(BorrowedAttribute::into_attribute)
                .collect(),
            objects: self
                .objects
                .into_iter()
                .map(BorrowedObject::into_object)
                .collect(),
        }
    }

    /// An owned copy of the event.
    pub fn to_event(&self) -> Event {
        self.clone().into_event()
    }
}

fn into_tags(names: Vec<Cow<'_, str>>) -> Vec<Tag> {
    names
        .into_iter()
        .map(|name| Tag {
            name: name.into_owned(),
        })
        .collect()
}

fn borrow_str(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s)
}

fn borrow_option(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

impl OrgRef {
    /// A borrowed view of the reference.
    pub fn as_borrowed(&self) -> BorrowedOrgRef<'_> {
        BorrowedOrgRef {
            id: self.id,
            uuid: borrow_option(&self.uuid),
            name: borrow_option(&self.name),
        }
    }
}

impl Attribute {
    /// A borrowed view of the attribute.
    pub fn as_borrowed(&self) -> BorrowedAttribute<'_> {
        BorrowedAttribute {
            id: self.id,
            uuid: borrow_option(&self.uuid),
            type_name: borrow_str(&self.type_name),
            category: borrow_option(&self.category),
            value: borrow_str(&self.value),
            to_ids: self.to_ids,
            distribution: self.distribution,
            sharing_group_id: self.sharing_group_id,
            disable_correlation: self.disable_correlation,
            deleted: self.deleted,
            comment: borrow_str(&self.comment),
            timestamp: self.timestamp,
            first_seen: borrow_option(&self.first_seen),
            last_seen: borrow_option(&self.last_seen),
            tags: self.tags.iter().map(|t| borrow_str(&t.name)).collect(),
        }
    }
}

impl Object {
    /// A borrowed view of the object.
    pub fn as_borrowed(&self) -> BorrowedObject<'_> {
        BorrowedObject {
            id: self.id,
            uuid: borrow_option(&self.uuid),
            name: borrow_str(&self.name),
            distribution: self.distribution,
            sharing_group_id: self.sharing_group_id,
            deleted: self.deleted,
            attributes: self.attributes.iter().map(Attribute::as_borrowed).collect(),
        }
    }
}

impl Event {
    /// A borrowed view of the event (its strings are borrowed; the lists
    /// of attributes, objects and tags are built anew).
    pub fn as_borrowed(&self) -> BorrowedEvent<'_> {
        BorrowedEvent {
            id: self.id,
            uuid: borrow_str(&self.uuid),
            info: borrow_str(&self.info),
            date: borrow_str(&self.date),
            published: self.published,
            distribution: self.distribution,
            sharing_group_id: self.sharing_group_id,
            org: self.org.as_borrowed(),
            orgc: self.orgc.as_borrowed(),
            disable_correlation: self.disable_correlation,
            timestamp: self.timestamp,
            tags: self.tags.iter().map(|t| borrow_str(&t.name)).collect(),
            attributes: self.attributes.iter().map(Attribute::as_borrowed).collect(),
            objects: self.objects.iter().map(Object::as_borrowed).collect(),
        }
    }
}

impl From<BorrowedEvent<'_>> for Event {
    fn from(event: BorrowedEvent<'_>) -> Event {
        event.into_event()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrow_then_into_event_is_the_same_event() {
        let event = Event {
            uuid: "5a4cb19a-f550-437f-bd29-48ed950d210f".into(),
            info: "x".into(),
            org: OrgRef {
                id: Some(3),
                uuid: None,
                name: Some("o".into()),
            },
            tags: vec![Tag {
                name: "tlp:clear".into(),
            }],
            attributes: vec![Attribute {
                type_name: "ip-dst".into(),
                value: "192.0.2.1".into(),
                ..Attribute::default()
            }],
            objects: vec![Object {
                name: "file".into(),
                attributes: vec![Attribute {
                    uuid: Some("u".into()),
                    type_name: "md5".into(),
                    ..Attribute::default()
                }],
                ..Object::default()
            }],
            ..Event::default()
        };
        let borrowed = event.as_borrowed();
        assert_eq!(borrowed.attribute_count(), 2);
        assert_eq!(borrowed.org.identity().as_deref(), Some("3"));
        let keys: Vec<_> = borrowed
            .all_attributes()
            .map(|a| (a.key(&borrowed).into_owned(), a.object.map(|(n, _)| n)))
            .collect();
        assert_eq!(
            keys,
            [
                ("5a4cb19a-f550-437f-bd29-48ed950d210f:0".to_owned(), None),
                ("u".to_owned(), Some(0)),
            ]
        );
        let owned_keys: Vec<_> = event.all_attributes().map(|a| a.key(&event)).collect();
        assert_eq!(owned_keys[0], keys[0].0);
        assert_eq!(borrowed.to_event(), event);
        assert_eq!(Event::from(borrowed), event);
    }
}
