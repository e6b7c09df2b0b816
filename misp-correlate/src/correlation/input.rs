//! What the engine is fed: events, objects and attributes, without JSON.

use misp_core::AttributeType;

use super::id::{Id, Ident};

/// An event (contract §1), as far as correlation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventInput<'a> {
    /// The event's identity (its uuid when loaded from MISP JSON).
    pub id: Id<'a>,
    /// The local owner organisation (MISP's `org_id`), used by access
    /// control; `None` if unknown (then no viewer owns the event).
    pub org: Option<Id<'a>>,
    /// Distribution 0-4.
    pub distribution: u8,
    /// The sharing group, for distribution 4.
    pub sharing_group: Option<u64>,
    /// Whether correlation is disabled for the whole event.
    pub disable_correlation: bool,
}

impl<'a> EventInput<'a> {
    /// An event with distribution 1 ("this community"), no owner and
    /// correlation enabled.
    pub fn new(id: impl Into<Id<'a>>) -> Self {
        EventInput {
            id: id.into(),
            org: None,
            distribution: 1,
            sharing_group: None,
            disable_correlation: false,
        }
    }
}

/// An object (contract §1): its existence and deletion decide the
/// eligibility of its attributes; its distribution takes part in access
/// control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInput<'a> {
    /// The object's identity.
    pub id: Id<'a>,
    /// Its event.
    pub event: Id<'a>,
    /// Distribution 0-5 (5 = inherit).
    pub distribution: u8,
    /// The sharing group, for distribution 4.
    pub sharing_group: Option<u64>,
    /// Soft-deleted.
    pub deleted: bool,
}

impl<'a> ObjectInput<'a> {
    /// A live object with distribution 5 (inherit).
    pub fn new(id: impl Into<Id<'a>>, event: impl Into<Id<'a>>) -> Self {
        ObjectInput {
            id: id.into(),
            event: event.into(),
            distribution: 5,
            sharing_group: None,
            deleted: false,
        }
    }
}

/// An attribute (contract §1) with its *raw* value: the engine runs
/// MISP's save pipeline ([`misp_core::normalize`]) on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeInput<'a> {
    /// The attribute's identity (uuid, or `<event uuid>:<n>`, or a number).
    pub id: Id<'a>,
    /// Its event.
    pub event: Id<'a>,
    /// Its object, if any.
    pub object: Option<Id<'a>>,
    /// The type.
    pub ty: AttributeType,
    /// The raw value (`value1|value2` for composite types).
    pub value: &'a str,
    /// Distribution 0-5 (5 = inherit).
    pub distribution: u8,
    /// The sharing group, for distribution 4.
    pub sharing_group: Option<u64>,
    /// Whether correlation is disabled for this attribute.
    pub disable_correlation: bool,
    /// Soft-deleted.
    pub deleted: bool,
}

impl<'a> AttributeInput<'a> {
    /// A live, correlating attribute with distribution 5 (inherit) and
    /// no object.
    pub fn new(
        id: impl Into<Id<'a>>,
        event: impl Into<Id<'a>>,
        ty: AttributeType,
        value: &'a str,
    ) -> Self {
        AttributeInput {
            id: id.into(),
            event: event.into(),
            object: None,
            ty,
            value,
            distribution: 5,
            sharing_group: None,
            disable_correlation: false,
            deleted: false,
        }
    }
}

/// An attribute that was refused and never indexed, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The attribute's identity.
    pub attribute: Ident,
    /// Its event.
    pub event: Ident,
    /// The type name as given.
    pub ty: String,
    /// The value as given.
    pub value: String,
    /// Why: MISP's validation message, "unknown attribute type …", or
    /// "duplicate attribute id".
    pub reason: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "attribute {} of event {} ({} {:?}): {}",
            self.attribute, self.event, self.ty, self.value, self.reason
        )
    }
}
