//! Warninglist hits of whole MISP events.
//!
//! [`Matcher::check_event`] checks every attribute of an
//! [`Event`](misp_core::Event) the way MISP's event view does: on the value
//! as MISP stores it (normalised), skipping deleted attributes and values
//! MISP would refuse to save (those are rejected before any check);
//! [`Matcher::check_borrowed_event`] does the same for an event borrowed
//! from its document. The result owns its strings, so it outlives the
//! event.

use misp_core::{AttributeType, BorrowedEvent, Event, normalize_ref};

use super::{Hit, Matcher, Query, ToIdsGate};

/// One hit, owning its strings.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OwnedHit {
    /// The list's `name` field.
    pub list: String,
    /// The list's type (`string`, `hostname`, …).
    pub list_type: &'static str,
    /// The entry (or value) that matched.
    #[serde(rename = "match")]
    pub matched: String,
    /// The part of the value that matched.
    pub value: String,
}

impl From<&Hit<'_>> for OwnedHit {
    fn from(hit: &Hit<'_>) -> OwnedHit {
        OwnedHit {
            list: hit.list_name.to_owned(),
            list_type: hit.list_type.as_str(),
            matched: hit.matched.to_string(),
            value: hit.value.to_owned(),
        }
    }
}

/// The hits of one attribute.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AttributeWarnings {
    /// The attribute identity (uuid, or `<event uuid>:<position>`).
    pub attribute: String,
    /// The attribute type.
    #[serde(rename = "type")]
    pub ty: &'static str,
    /// The value as MISP stores it, the one that was checked.
    pub value: String,
    /// The hits, sorted by list name.
    pub hits: Vec<OwnedHit>,
}

/// The warninglist hits of one event: per attribute with hits, and per
/// list the number of attributes it flagged.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EventWarnings {
    /// Attributes with at least one hit, in document order.
    pub attributes: Vec<AttributeWarnings>,
    /// List name → number of attributes of the event it flagged, sorted by
    /// list name.
    pub lists: std::collections::BTreeMap<String, usize>,
}

impl EventWarnings {
    /// Whether no attribute of the event hit a list.
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }
}

impl Matcher {
    /// Checks every attribute of `event` (objects' attributes included)
    /// and gathers the hits per attribute and per list.
    pub fn check_event(&self, event: &Event, gate: ToIdsGate) -> EventWarnings {
        self.check_borrowed_event(&event.as_borrowed(), gate)
    }

    /// [`check_event`](Matcher::check_event) for an event borrowed from
    /// its document (as [`misp_core::json::Document`] reads them).
    pub fn check_borrowed_event(
        &self,
        event: &BorrowedEvent<'_>,
        gate: ToIdsGate,
    ) -> EventWarnings {
        let mut out = EventWarnings::default();
        for at in event.all_attributes() {
            let attribute = at.attribute;
            if attribute.deleted {
                continue;
            }
            let Some(ty) = AttributeType::from_name(&attribute.type_name) else {
                continue;
            };
            let Ok(stored) = normalize_ref(ty, &attribute.value) else {
                continue;
            };
            let mut hits = Vec::new();
            let query = Query::new(ty, stored.as_str()).with_to_ids(attribute.to_ids);
            self.check_into(query, gate, &mut hits);
            if hits.is_empty() {
                continue;
            }
            for hit in &hits {
                *out.lists.entry(hit.list_name.to_owned()).or_insert(0) += 1;
            }
            out.attributes.push(AttributeWarnings {
                attribute: at.key(event).into_owned(),
                ty: ty.name(),
                value: stored.as_str().to_owned(),
                hits: hits.iter().map(OwnedHit::from).collect(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use misp_core::{Attribute, Event};

    use super::*;
    use crate::warninglist::{ListType, MatcherBuilder, Warninglist};

    fn attribute(uuid: &str, ty: &str, value: &str) -> Attribute {
        Attribute {
            uuid: Some(uuid.into()),
            type_name: ty.into(),
            value: value.into(),
            distribution: 5,
            ..Attribute::default()
        }
    }

    #[test]
    fn checks_stored_values_and_counts_per_list() {
        let mut private = Warninglist::new("RFC 1918", ListType::Cidr);
        private.push_entry("10.0.0.0/8");
        let mut domains = Warninglist::new("Known domains", ListType::Hostname);
        domains.push_entry("example.com");
        let mut builder = MatcherBuilder::new();
        builder.add(private).unwrap();
        builder.add(domains).unwrap();
        let (matcher, _) = builder.build().unwrap();

        let mut deleted = attribute("d", "ip-dst", "10.9.9.9");
        deleted.deleted = true;
        let event = Event {
            uuid: "e".into(),
            attributes: vec![
                attribute("a", "ip-dst", "10.1.2.3"),
                // Refanged and lower-cased before the check, as MISP stores it.
                attribute("b", "domain", "WWW.EXAMPLE[.]COM"),
                attribute("c", "ip-dst", "192.0.2.1"),
                attribute("x", "ip-dst", "not an ip"),
                deleted,
            ],
            ..Event::default()
        };
        let warnings = matcher.check_event(&event, ToIdsGate::Off);
        let flagged: Vec<_> = warnings
            .attributes
            .iter()
            .map(|a| a.attribute.as_str())
            .collect();
        assert_eq!(flagged, ["a", "b"]);
        assert_eq!(warnings.attributes[1].value, "www.example.com");
        assert_eq!(warnings.attributes[1].hits[0].matched, "example.com");
        assert_eq!(warnings.attributes[0].hits[0].matched, "10.0.0.0/8");
        assert_eq!(warnings.lists.get("RFC 1918"), Some(&1));
        assert_eq!(warnings.lists.get("Known domains"), Some(&1));

        // With the to_ids gate on, attributes without the flag get no hits.
        assert!(matcher.check_event(&event, ToIdsGate::On).is_empty());
    }

    #[test]
    fn a_borrowed_event_read_from_json_gives_the_owned_events_warnings() {
        let mut domains = Warninglist::new("Known domains", ListType::Hostname);
        domains.push_entry("example.com");
        let mut builder = MatcherBuilder::new();
        builder.add(domains).unwrap();
        let (matcher, _) = builder.build().unwrap();

        // An object's attribute without a uuid is named by its position;
        // the escaped value is decoded into an owned string.
        let json = br#"{"Event": {"uuid": "5a4cb19a-f550-437f-bd29-48ed950d210f", "info": "x",
            "Attribute": [{"uuid": "a", "type": "domain", "value": "www.example.com", "to_ids": false}],
            "Object": [{"name": "domain-ip", "Attribute": [
                {"type": "hostname", "value": "mail.example\u002ecom", "to_ids": true}]}]}}"#;
        let document = misp_core::json::Document::parse(json.to_vec(), "e.json");
        let borrowed = document.events()[0].as_ref().unwrap();
        let owned = borrowed.to_event();
        for gate in [ToIdsGate::Off, ToIdsGate::On] {
            let from_borrowed = matcher.check_borrowed_event(borrowed, gate);
            let from_owned = matcher.check_event(&owned, gate);
            assert_eq!(from_borrowed.lists, from_owned.lists);
            let keys = |w: &EventWarnings| {
                w.attributes
                    .iter()
                    .map(|a| (a.attribute.clone(), a.value.clone(), a.hits.len()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(keys(&from_borrowed), keys(&from_owned));
        }
        let all = matcher.check_borrowed_event(borrowed, ToIdsGate::Off);
        assert_eq!(all.attributes.len(), 2);
        assert_eq!(
            all.attributes[1].attribute,
            "5a4cb19a-f550-437f-bd29-48ed950d210f:1"
        );
        assert_eq!(all.attributes[1].value, "mail.example.com");
        assert_eq!(
            matcher
                .check_borrowed_event(borrowed, ToIdsGate::On)
                .attributes
                .len(),
            1
        );
    }
}
