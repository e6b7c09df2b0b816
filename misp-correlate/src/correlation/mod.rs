//! The correlation engine: MISP's attribute correlation, exact, CIDR and
//! ssdeep, with exclusions, the over-correlation limit and access control,
//! built in bulk and maintained incrementally.
//!
//! The normative behaviour is `correlation-contract.md`; section numbers
//! (§n) below refer to it.
//!
//! # Overview of types
//!
//! * [`EngineBuilder`] builds an [`Engine`] from many attributes at once,
//!   in parallel ([`Engine::from_events`] does it for MISP JSON events).
//!   It gives a [`Built`]: the engine and the [`Rejected`] attributes.
//! * [`Engine`] is the live engine. It answers queries (`&self`) and takes
//!   changes (`&mut self`): add, update and remove events, objects and
//!   attributes; toggle correlation of an event or attribute; add and
//!   remove exclusions; change the limit; switch advanced correlation.
//! * Input without JSON: [`EventInput`], [`ObjectInput`],
//!   [`AttributeInput`] (raw values; the engine runs MISP's save
//!   pipeline), named by caller-chosen [`Id`]s (numbers or strings).
//! * Results: [`Correlation`] (two [`AttributeView`]s, a key, a
//!   [`CorrelationKind`], an ssdeep score), [`RelatedEvent`],
//!   [`OverCorrelating`], [`TopKey`], [`PostingView`], [`Summary`].
//! * Access control: [`Viewer`] and [`AclMode`].
//!
//! # Example
//!
//! ```
//! use misp_core::AttributeType;
//! use misp_correlate::correlation::{AttributeInput, Config, Engine, EventInput, Id, Viewer};
//!
//! let ty = |n| AttributeType::from_name(n).unwrap();
//! let mut engine = Engine::new(Config { advanced: true, ..Config::default() }).unwrap();
//! engine.add_event(&EventInput::new("e1")).unwrap();
//! engine.add_event(&EventInput { distribution: 0, org: Some(Id::Str("org-b")), ..EventInput::new("e2") }).unwrap();
//! engine.add_attribute(&AttributeInput::new("a", "e1", ty("filename|md5"),
//!     "invoice.exe|d41d8cd98f00b204e9800998ecf8427e")).unwrap();
//! engine.add_attribute(&AttributeInput::new("b", "e2", ty("md5"),
//!     "d41d8cd98f00b204e9800998ecf8427e")).unwrap();
//! engine.add_attribute(&AttributeInput::new("c", "e1", ty("ip-dst"), "10.0.0.0/8")).unwrap();
//! engine.add_attribute(&AttributeInput::new("d", "e2", ty("ip-src"), "10.1.2.3")).unwrap();
//!
//! // The hash half of `a` correlates with `b`; the network `c` with `d`.
//! assert_eq!(engine.summary().exact, 1);
//! assert_eq!(engine.summary().cidr, 1);
//! let seen = engine.correlations_of(Id::Str("a"), None).unwrap();
//! assert_eq!(seen[0].b().id(), Id::Str("b"));
//!
//! // e2 is "your organisation only": org-a does not see its side.
//! let other = Viewer::org("org-a");
//! assert!(engine.correlations_of(Id::Str("a"), Some(&other)).unwrap().is_empty());
//! assert_eq!(engine.correlations_of(Id::Str("a"), Some(&Viewer::org("org-b"))).unwrap().len(), 1);
//! ```
//!
//! # What correlates
//!
//! * **Eligibility** (§3): not deleted, correlation enabled on the
//!   attribute and its event, the event exists, the object (if any)
//!   exists and is not deleted, the type is not one of MISP's twelve
//!   non-correlating types. Ineligible attributes are stored (they come
//!   back when the condition changes) but not indexed.
//! * **Keys** (§4): value1, and value2 when non-empty (`"0"` is a key)
//!   and the type is not `ip-src|port`, `ip-dst|port` or `hostname|port`;
//!   an excluded value is not a key. Keys are compared by
//!   [`match_key`]: trailing spaces removed, Unicode lower case. Two
//!   halves with the same match key give one key.
//! * **Exclusions** (§5): [`Exclusions`] semantics, case-sensitive on the
//!   normalised value; retroactive in both directions.
//! * **Exact correlation and the limit** (§6): for a key k with attribute
//!   set A(k), k is over-correlating iff `max_a |others(a)| > limit`,
//!   which is `|A(k)| - (smallest per-event count)`; otherwise every
//!   cross-event pair of A(k) is a correlation.
//! * **CIDR** (§7.1, advanced only): IP attributes are `ip-src`, `ip-dst`,
//!   `ip-src|port`, `ip-dst|port` holding one address and `domain|ip`
//!   (its value2); CIDR attributes are `ip-src`/`ip-dst` holding a
//!   network. A pair (address inside network, different events) is a
//!   correlation keyed by the network's match key unless the network's
//!   key or the address's key is over-correlating, each judged on its
//!   *extended* set (a network's set includes the addresses inside it, an
//!   address's set the networks containing it).
//! * **ssdeep** (§7.2, advanced only): `ssdeep` attributes with different
//!   match keys in different events whose `fuzzy_compare` score reaches
//!   the threshold (default 40). An attribute with more than `limit` such
//!   partners gets none.
//! * **Access control** (§8): see [`Viewer`]; in mode
//!   [`AclMode::Default`] a correlation is returned only if both sides
//!   are visible; [`AclMode::NoAcl`] shows all.
//!
//! # Choices where the contract is silent
//!
//! * An address or network takes part in CIDR correlation only through a
//!   key: an excluded IP value (or network) has no CIDR correlations
//!   either, as MISP's excluded value1 disables CIDR matching. A key is
//!   an *IP key* (a *CIDR key*) while at least one IP (CIDR) attribute
//!   carries it; other attributes with the same key (a `text` holding
//!   `10.0.0.0/8`) belong to A(k) but do not make CIDR pairs.
//! * An update whose new value MISP would refuse is refused as a whole;
//!   the attribute keeps its previous state.
//! * An attribute referring to an event or object that was not (yet)
//!   added is held and ineligible until it is added (§3 "its event
//!   exists"). Removing an event removes its attributes; removing an
//!   object only makes its attributes ineligible.
//! * A second attribute with an identity already used is rejected
//!   ("duplicate attribute id") in bulk and an error incrementally; a
//!   repeated event in [`Engine::from_events`] is ignored with all its
//!   attributes reported.
//! * [`Engine::top_keys`] counts exact and CIDR correlations per key;
//!   ssdeep correlations have no single key and are not ranked.
//! * An ssdeep correlation's key is `a`'s value; `b`'s value is `b`'s.
//!
//! # Deviations from MISP (contract §9)
//!
//! 1. Over-correlation of one key does not drop the attribute's
//!    correlations on its other key (MISP returns early on the first
//!    over-correlating value and discards the rest, quirks 1 and 2).
//! 2. A value2 of `"0"` is a key (PHP's `empty("0")` skips it).
//! 3. Results are order-independent: bulk build, incremental changes in
//!    any order, and reopened snapshots give the same result. MISP's
//!    incremental and full re-correlation disagree, and which values it
//!    blocks depends on processing order; here the over-correlation test
//!    is a function of the current attribute set, recomputed whenever
//!    asked, so a value is unblocked (and its older pairs back-filled) as
//!    soon as it drops to the limit.
//! 4. Adding or removing an exclusion is retroactive, exactly as if the
//!    corpus had been built with the new set; there is no "clean up" step
//!    and no pair is ever listed twice (MISP's `correlateValue` inserts
//!    both orientations).
//! 5. `domain|ip` addresses take part in CIDR correlation in both
//!    directions (MISP only matches them when the network is saved later
//!    and the same IP also exists in an `ip-*` attribute); IPv6 containment
//!    is computed on integers, so there are no textual-prefix false
//!    negatives (`2001:db8::1:0:0:5` lies in `2001:db8:0:0:1::/80`).
//! 6. ssdeep correlations are a function of the current attributes and
//!    survive any rebuild (MISP's full recorrelation mostly loses them).
//! 7. Access control applies the own-organisation bypass at the event,
//!    object and attribute levels (MISP's later fix, PR #10940), and reads
//!    the live event/object/attribute state instead of per-row snapshots.
//! 8. Match keys use Unicode lower-casing, not MySQL's
//!    `utf8mb3_unicode_ci` collation: `é` and `e` are different keys, as
//!    are `ß` and `ss`.
//!
//! # Memory and speed
//!
//! Pairs are never stored. Each distinct string is interned once in a
//! sharded arena (hex hashes of the MISP hash lengths as packed binary);
//! each key keeps a sorted posting of 32-bit attribute slots (inline up
//! to four); an attribute costs a 24-byte record plus its identity.
//! Addresses and networks are integers in the containment index. Keys
//! with long postings keep per-event counts, so the limit test never
//! scans them. Bulk building normalises and interns in parallel on the
//! rayon pool while the caller is still adding. See
//! `benches/benches/correlation.rs` for measured figures.

mod acl;
mod attr_ids;
mod builder;
mod counts;
mod engine;
mod exclusion;
mod fuzzy;
mod id;
mod input;
mod intern;
mod net;
mod paged;
mod posting;
pub(crate) mod query;
pub(crate) mod state;

pub use acl::{AclMode, Viewer};
pub use builder::{Built, CHUNK, EngineBuilder};
pub use engine::{Config, Engine};
pub use exclusion::{Exclusions, match_key};
pub use id::{Id, Ident};
pub use input::{AttributeInput, EventInput, ObjectInput, Rejected};
pub use query::{
    AttributeView, Correlation, CorrelationKind, OverCorrelating, PostingView, RelatedEvent,
    Summary, TopKey,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}

    #[test]
    fn public_types_are_thread_safe() {
        assert_send_sync::<Engine>();
        assert_send_sync::<EngineBuilder>();
        assert_send_sync::<Built>();
        assert_send_sync::<Viewer>();
        assert_send_sync::<Rejected>();
        assert_send_sync::<Exclusions>();
    }
}
