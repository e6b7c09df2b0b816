//! The MISP data model: events, objects and attributes as MISP JSON
//! carries them.
//!
//! These are plain owned structs. Values are kept *raw* (as the document
//! gives them); [`normalize`](crate::normalize) turns a raw value into
//! the value MISP stores. Fields MISP JSON may omit are `Option`s or take
//! MISP's defaults.

/// An organisation reference (`Org`, `Orgc`, or a bare `org_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgRef {
    /// MISP's numeric id, when the document carries one.
    pub id: Option<u64>,
    /// The organisation uuid, when known.
    pub uuid: Option<String>,
    /// The organisation name, when known.
    pub name: Option<String>,
}

impl OrgRef {
    /// A stable identity for access control: the numeric id if known,
    /// else the uuid, else the name; `None` for an empty reference.
    pub fn identity(&self) -> Option<String> {
        if let Some(id) = self.id {
            return Some(id.to_string());
        }
        self.uuid.clone().or_else(|| self.name.clone())
    }
}

/// A tag attached to an event or attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tag {
    /// The tag name (`tlp:clear`, …).
    pub name: String,
}

/// A MISP event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    /// MISP's numeric id, when the document carries one.
    pub id: Option<u64>,
    /// The event uuid (the identity used by this project).
    pub uuid: String,
    /// The event title.
    pub info: String,
    /// The event date as written (`YYYY-MM-DD`).
    pub date: String,
    /// Whether the event is published.
    pub published: bool,
    /// Distribution 0-4 (0 your org, 1 community, 2 connected, 3 all,
    /// 4 sharing group).
    pub distribution: u8,
    /// The sharing group, for distribution 4.
    pub sharing_group_id: Option<u64>,
    /// The owning (local) organisation.
    pub org: OrgRef,
    /// The creating organisation.
    pub orgc: OrgRef,
    /// Whether correlation is disabled for the whole event.
    pub disable_correlation: bool,
    /// Last modification, seconds since the epoch.
    pub timestamp: Option<i64>,
    /// Event tags.
    pub tags: Vec<Tag>,
    /// Attributes directly on the event, in document order.
    pub attributes: Vec<Attribute>,
    /// Objects of the event, in document order.
    pub objects: Vec<Object>,
}

/// A MISP object: a named group of attributes inside an event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object {
    /// MISP's numeric id, when the document carries one.
    pub id: Option<u64>,
    /// The object uuid, when present.
    pub uuid: Option<String>,
    /// The object template name (`file`, `domain-ip`, …).
    pub name: String,
    /// Distribution 0-5 (5 = inherit from the event).
    pub distribution: u8,
    /// The sharing group, for distribution 4.
    pub sharing_group_id: Option<u64>,
    /// Soft-deleted.
    pub deleted: bool,
    /// The object's attributes, in document order.
    pub attributes: Vec<Attribute>,
}

/// A MISP attribute, with its value as the document gives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attribute {
    /// MISP's numeric id, when the document carries one.
    pub id: Option<u64>,
    /// The attribute uuid, when present.
    pub uuid: Option<String>,
    /// The type name as written (validated against the registry when the
    /// attribute is normalised: an unknown name is a rejection).
    pub type_name: String,
    /// The category name as written, if any.
    pub category: Option<String>,
    /// The raw value (for composite types `value1|value2`).
    pub value: String,
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
    pub comment: String,
    /// Last modification, seconds since the epoch.
    pub timestamp: Option<i64>,
    /// `first_seen` as written.
    pub first_seen: Option<String>,
    /// `last_seen` as written.
    pub last_seen: Option<String>,
    /// Attribute tags.
    pub tags: Vec<Tag>,
}

/// Where an attribute sits in its event.
#[derive(Debug, Clone, Copy)]
pub struct AttributeRef<'a> {
    /// The attribute.
    pub attribute: &'a Attribute,
    /// Its object, if it belongs to one.
    pub object: Option<&'a Object>,
    /// Its 0-based position in document order (event attributes first,
    /// then each object's attributes, objects in document order).
    pub position: usize,
}

impl AttributeRef<'_> {
    /// The attribute's identity: its uuid, or `<event uuid>:<position>`
    /// when it has none (correlation contract §1).
    pub fn key(&self, event: &Event) -> String {
        match &self.attribute.uuid {
            Some(u) if !u.is_empty() => u.clone(),
            _ => format!("{}:{}", event.uuid, self.position),
        }
    }
}

impl Event {
    /// Every attribute of the event in document order: event attributes
    /// first, then each object's attributes.
    pub fn all_attributes(&self) -> impl Iterator<Item = AttributeRef<'_>> {
        let direct = self.attributes.iter().map(|a| (a, None));
        let nested = self
            .objects
            .iter()
            .flat_map(|o| o.attributes.iter().map(move |a| (a, Some(o))));
        direct
            .chain(nested)
            .enumerate()
            .map(|(position, (attribute, object))| AttributeRef {
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
}
