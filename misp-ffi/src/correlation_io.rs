//! What crosses the boundary for the correlation engine: identities and
//! viewers as small C structs, events/objects/attributes as JSON objects,
//! results as JSON rows.
//!
//! The JSON inputs mirror the library's input structs field for field;
//! an absent field takes the library's default (`EventInput::new`,
//! `ObjectInput::new`, `AttributeInput::new`):
//!
//! * event: `{"id", "org", "distribution": 1, "sharing_group",
//!   "disable_correlation": false}`;
//! * object: `{"id", "event", "distribution": 5, "sharing_group",
//!   "deleted": false}`;
//! * attribute: `{"id", "event", "object", "type", "value",
//!   "distribution": 5, "sharing_group", "disable_correlation": false,
//!   "deleted": false}`.
//!
//! Identities (`id`, `event`, `object`, `org`) are JSON numbers or
//! strings; `7` and `"7"` are different identities, as in the library.
//! Unknown fields are refused, so that a misspelt field is not silently
//! ignored.

use std::borrow::Cow;
use std::ffi::c_char;

use misp_correlate::correlation::{
    AttributeInput, Correlation, EventInput, Id, Ident, ObjectInput, Viewer,
};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{FfiError, misp_result};
use crate::handle;

/// How a `misp_id` names something: by number or by string.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum misp_id_kind {
    /// A numeric identity (`num`), such as a MISP database id.
    MISP_ID_NUM = 0,
    /// A string identity (`str`, `str_len`), such as a uuid.
    MISP_ID_STR = 1,
}

/// The identity of an event, object, attribute or organisation.
///
/// `kind` is a `misp_id_kind`: with `MISP_ID_NUM` only `num` is read, with
/// `MISP_ID_STR` only `str` (UTF-8, `str_len` bytes, not NUL-terminated).
/// A number and a string are different identities even when they read the
/// same (`7` and `"7"`). Attributes loaded from MISP JSON are named by
/// their uuid, or `<event uuid>:<n>` without one; events by their uuid.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct misp_id {
    /// `MISP_ID_NUM` or `MISP_ID_STR`.
    pub kind: u32,
    /// The number, for `MISP_ID_NUM`.
    pub num: u64,
    /// The string, for `MISP_ID_STR`.
    pub str: *const c_char,
    /// The string's length in bytes.
    pub str_len: usize,
}

/// Who is asking, for the queries that apply access control.
///
/// `org` is the viewer's organisation (the identity used for the events'
/// `org`), or NULL for none. `sharing_groups` lists the sharing groups the
/// viewer is authorised for (`sharing_groups_len` numbers; may be NULL
/// when the length is 0). A `site_admin` sees everything, as does every
/// viewer of an engine built without access control.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct misp_viewer {
    /// The viewer's organisation, or NULL.
    pub org: *const misp_id,
    /// The authorised sharing groups.
    pub sharing_groups: *const u64,
    /// The number of sharing groups.
    pub sharing_groups_len: usize,
    /// Whether the viewer is a site admin.
    pub site_admin: bool,
}

/// Borrows identity `ptr` as an [`Id`].
///
/// # Safety
///
/// `ptr` must be NULL or point to a valid `misp_id` whose string (for
/// `MISP_ID_STR`) is valid for `str_len` bytes, all for `'a`.
pub(crate) unsafe fn id_arg<'a>(ptr: *const misp_id, argument: &str) -> Result<Id<'a>, FfiError> {
    // SAFETY: the contract covers `ptr` (a `misp_id` is plain data).
    let id = unsafe { handle::plain_ref(ptr, argument) }?;
    match id.kind {
        k if k == misp_id_kind::MISP_ID_NUM as u32 => Ok(Id::Num(id.num)),
        k if k == misp_id_kind::MISP_ID_STR as u32 => {
            // SAFETY: the contract covers the string.
            let s = unsafe { handle::str_arg(id.str, id.str_len, &format!("{argument}.str")) }?;
            Ok(Id::Str(s))
        }
        other => Err(FfiError::invalid(format!(
            "`{argument}.kind` is {other}, not MISP_ID_NUM (0) or MISP_ID_STR (1)"
        ))),
    }
}

/// Copies viewer `ptr` into a library [`Viewer`].
///
/// # Safety
///
/// `ptr` must be NULL or point to a valid `misp_viewer` whose `org` (if
/// not NULL) satisfies [`id_arg`] and whose `sharing_groups` (if not NULL)
/// is valid for `sharing_groups_len` numbers.
pub(crate) unsafe fn viewer_arg(ptr: *const misp_viewer) -> Result<Viewer, FfiError> {
    // SAFETY: the contract covers `ptr`.
    let viewer = unsafe { handle::plain_ref(ptr, "viewer") }?;
    let org = if viewer.org.is_null() {
        None
    } else {
        // SAFETY: the contract covers `org`.
        Some(unsafe { id_arg(viewer.org, "viewer.org") }?.to_ident())
    };
    let sharing_groups = if viewer.sharing_groups_len == 0 {
        Vec::new()
    } else {
        // SAFETY: the contract covers the sharing groups.
        unsafe {
            handle::slice_arg(
                viewer.sharing_groups,
                viewer.sharing_groups_len,
                "viewer.sharing_groups",
            )
        }?
        .to_vec()
    };
    Ok(Viewer {
        org,
        sharing_groups,
        site_admin: viewer.site_admin,
    })
}

/// An identity in JSON input: a number or a string.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum IdIn<'a> {
    Num(u64),
    Str(#[serde(borrow)] Cow<'a, str>),
}

impl IdIn<'_> {
    fn as_id(&self) -> Id<'_> {
        match self {
            IdIn::Num(n) => Id::Num(*n),
            IdIn::Str(s) => Id::Str(s),
        }
    }
}

/// An event as JSON input.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventIn<'a> {
    #[serde(borrow)]
    id: IdIn<'a>,
    #[serde(borrow, default)]
    org: Option<IdIn<'a>>,
    distribution: Option<u8>,
    sharing_group: Option<u64>,
    disable_correlation: Option<bool>,
}

impl EventIn<'_> {
    /// The library input: its defaults, overridden by the given fields.
    pub(crate) fn input(&self) -> EventInput<'_> {
        let mut input = EventInput::new(self.id.as_id());
        input.org = self.org.as_ref().map(IdIn::as_id);
        input.distribution = self.distribution.unwrap_or(input.distribution);
        input.sharing_group = self.sharing_group.or(input.sharing_group);
        input.disable_correlation = self
            .disable_correlation
            .unwrap_or(input.disable_correlation);
        input
    }
}

/// An object as JSON input.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectIn<'a> {
    #[serde(borrow)]
    id: IdIn<'a>,
    #[serde(borrow)]
    event: IdIn<'a>,
    distribution: Option<u8>,
    sharing_group: Option<u64>,
    deleted: Option<bool>,
}

impl ObjectIn<'_> {
    /// The library input: its defaults, overridden by the given fields.
    pub(crate) fn input(&self) -> ObjectInput<'_> {
        let mut input = ObjectInput::new(self.id.as_id(), self.event.as_id());
        input.distribution = self.distribution.unwrap_or(input.distribution);
        input.sharing_group = self.sharing_group.or(input.sharing_group);
        input.deleted = self.deleted.unwrap_or(input.deleted);
        input
    }
}

/// An attribute as JSON input.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttributeIn<'a> {
    #[serde(borrow)]
    id: IdIn<'a>,
    #[serde(borrow)]
    event: IdIn<'a>,
    #[serde(borrow, default)]
    object: Option<IdIn<'a>>,
    #[serde(rename = "type", borrow)]
    type_name: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
    distribution: Option<u8>,
    sharing_group: Option<u64>,
    disable_correlation: Option<bool>,
    deleted: Option<bool>,
}

impl AttributeIn<'_> {
    /// The library input: its defaults, overridden by the given fields.
    ///
    /// Fails with `MISP_ERR_UNKNOWN_TYPE` for a type MISP does not know.
    pub(crate) fn input(&self) -> Result<AttributeInput<'_>, FfiError> {
        let ty = crate::normalize::attribute_type(&self.type_name)?;
        let mut input = AttributeInput::new(self.id.as_id(), self.event.as_id(), ty, &self.value);
        input.object = self.object.as_ref().map(IdIn::as_id);
        input.distribution = self.distribution.unwrap_or(input.distribution);
        input.sharing_group = self.sharing_group.or(input.sharing_group);
        input.disable_correlation = self
            .disable_correlation
            .unwrap_or(input.disable_correlation);
        input.deleted = self.deleted.unwrap_or(input.deleted);
        Ok(input)
    }
}

/// Parses JSON input `what` (an event, object or attribute), failing with
/// `MISP_ERR_JSON` and the position.
pub(crate) fn parse_input<'a, T: Deserialize<'a>>(
    json: &'a [u8],
    what: &str,
) -> Result<T, FfiError> {
    serde_json::from_slice(json)
        .map_err(|e| FfiError::new(misp_result::MISP_ERR_JSON, format!("{what} JSON: {e}")))
}

/// An identity in JSON output: a number or a string.
pub(crate) struct IdOut<'a>(pub(crate) Id<'a>);

impl Serialize for IdOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Id::Num(n) => serializer.serialize_u64(n),
            Id::Str(s) => serializer.serialize_str(s),
        }
    }
}

/// An owned identity in JSON output.
pub(crate) struct IdentOut<'a>(pub(crate) &'a Ident);

impl Serialize for IdentOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        IdOut(self.0.as_id()).serialize(serializer)
    }
}

/// One side of a correlation: `{"event", "attribute"}`.
#[derive(Serialize)]
struct SideRow<'e> {
    event: IdOut<'e>,
    attribute: IdOut<'e>,
}

/// A correlation as JSON: `{"kind", "key", "a", "b", "score"?}`.
#[derive(Serialize)]
pub(crate) struct PairRow<'e> {
    kind: &'static str,
    key: Cow<'e, str>,
    a: SideRow<'e>,
    b: SideRow<'e>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<u32>,
}

impl<'e> From<&Correlation<'e>> for PairRow<'e> {
    fn from(c: &Correlation<'e>) -> PairRow<'e> {
        let (a, b) = (c.a(), c.b());
        PairRow {
            kind: c.kind().as_str(),
            key: c.key(),
            a: SideRow {
                event: IdOut(a.event()),
                attribute: IdOut(a.id()),
            },
            b: SideRow {
                event: IdOut(b.event()),
                attribute: IdOut(b.id()),
            },
            score: c.score(),
        }
    }
}
