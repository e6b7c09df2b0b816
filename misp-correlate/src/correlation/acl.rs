//! Access control: who may see which side of a correlation (contract §8).
//!
//! A [`Viewer`] is an organisation, the sharing groups it is authorised
//! for, and the site-admin flag. In [`AclMode::Default`] the engine
//! returns a correlation only if the viewer may see *both* attributes; in
//! [`AclMode::NoAcl`] everything is visible to everyone (MISP's `NoAcl`
//! engine). The rule for one attribute X, for a non-admin viewer, is all
//! of:
//!
//! 1. event: the viewer's org owns X's event (its local `org_id`), or the
//!    event's distribution is 1, 2 or 3, or it is 4 and the event's
//!    sharing group is authorised;
//! 2. object (if X has one): distribution 1, 2, 3 or 5, or 4 with an
//!    authorised group, or the viewer's org owns the event;
//! 3. attribute: distribution 1, 2, 3 or 5, or 4 with an authorised group,
//!    or the viewer's org owns the event.
//!
//! The state used is the live one: changing an event's distribution
//! changes what its correlations show at once (§9.7).

use super::id::Ident;

/// Whether the engine filters results by viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AclMode {
    /// Filter by the §8 rules (MISP's `Default` engine).
    #[default]
    Default,
    /// Show everything to everyone (MISP's `NoAcl` engine).
    NoAcl,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Viewer {
    /// The viewer's organisation, in the identities used for
    /// [`EventInput::org`](super::EventInput::org).
    pub org: Option<Ident>,
    /// The sharing groups the viewer is authorised for.
    pub sharing_groups: Vec<u64>,
    /// Site admins see everything.
    pub site_admin: bool,
}

impl Viewer {
    /// A site admin.
    pub fn site_admin() -> Viewer {
        Viewer {
            org: None,
            sharing_groups: Vec::new(),
            site_admin: true,
        }
    }

    /// A member of `org` with no sharing group.
    pub fn org(org: impl Into<Ident>) -> Viewer {
        Viewer {
            org: Some(org.into()),
            sharing_groups: Vec::new(),
            site_admin: false,
        }
    }

    /// The same viewer, authorised for `groups`.
    pub fn with_sharing_groups(mut self, groups: impl IntoIterator<Item = u64>) -> Viewer {
        self.sharing_groups = groups.into_iter().collect();
        self
    }
}

/// A viewer translated into the engine's internal numbering.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// Sees everything (site admin, NoAcl mode, or no viewer given).
    pub(crate) all: bool,
    pub(crate) org: Option<u32>,
    /// Internal sharing-group numbers, sorted.
    pub(crate) groups: Vec<u32>,
}

impl Resolved {
    pub(crate) fn everything() -> Resolved {
        Resolved {
            all: true,
            org: None,
            groups: Vec::new(),
        }
    }

    pub(crate) fn has_group(&self, sg: u32) -> bool {
        self.groups.binary_search(&sg).is_ok()
    }
}

/// Distribution levels visible to every local user.
pub(crate) fn open_level(d: u8, inherit_ok: bool) -> bool {
    matches!(d, 1..=3) || (inherit_ok && d == 5)
}
