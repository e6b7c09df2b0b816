//! Property: any event, written as MISP JSON in any of the spellings MISP
//! and PyMISP use (numbers as strings or numbers, booleans as `true`,
//! `1` or `"1"`, every wrapper), reads back as the same event.

use misp_core::json;
use misp_core::{Attribute, Event, Object, OrgRef, Tag};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// How a document spells numbers, booleans and the wrapper.
#[derive(Debug, Clone, Copy)]
struct Spelling {
    numbers_as_strings: bool,
    /// 0: true/false, 1: 0/1, 2: "0"/"1".
    booleans: u8,
    /// 0: [{"Event"}], 1: {"response": [{"Event"}]}, 2: [bare], 3: {"response": [bare]}.
    wrapper: u8,
}

impl Spelling {
    fn number(self, n: i64) -> Value {
        if self.numbers_as_strings {
            json!(n.to_string())
        } else {
            json!(n)
        }
    }

    fn boolean(self, b: bool) -> Value {
        match self.booleans {
            0 => json!(b),
            1 => json!(u8::from(b)),
            _ => json!(if b { "1" } else { "0" }),
        }
    }
}

fn uuid() -> impl Strategy<Value = String> {
    any::<u128>().prop_map(|n| {
        let h = format!("{n:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9.:/|-]{0,20}",
        any::<String>(),
        Just("\"quoted\" \\ back\\slash \u{1F600} 日本".to_owned()),
    ]
}

fn tags() -> impl Strategy<Value = Vec<Tag>> {
    prop::collection::vec(text().prop_map(|name| Tag { name }), 0..3)
}

prop_compose! {
    fn attribute()(
        uuid in prop::option::of(uuid()),
        id in prop::option::of(1..1_000_000u64),
        type_name in prop::sample::select(vec!["ip-dst", "domain", "url", "md5", "text", "domain|ip", "not-a-type"]),
        category in prop::option::of(prop::sample::select(vec!["Network activity", "Payload delivery", "Other"])),
        value in text(),
        to_ids in any::<bool>(),
        distribution in 0..=5u8,
        sharing_group_id in prop::option::of(1..100u64),
        disable_correlation in any::<bool>(),
        deleted in any::<bool>(),
        comment in text(),
        timestamp in prop::option::of(0..2_000_000_000i64),
        first_seen in prop::option::of("2026-0[1-9]-1[0-9]T00:00:00Z"),
        tags in tags(),
    ) -> Attribute {
        Attribute {
            id, uuid, type_name: type_name.to_owned(), category: category.map(str::to_owned), value, to_ids,
            distribution,
            sharing_group_id: sharing_group_id.filter(|_| distribution == 4),
            disable_correlation, deleted, comment, timestamp, first_seen, last_seen: None, tags,
        }
    }
}

prop_compose! {
    fn object()(
        uuid in prop::option::of(uuid()),
        name in "[a-z-]{1,12}",
        distribution in 0..=5u8,
        deleted in any::<bool>(),
        attributes in prop::collection::vec(attribute(), 0..4),
    ) -> Object {
        Object { id: None, uuid, name, distribution, sharing_group_id: None, deleted, attributes }
    }
}

prop_compose! {
    fn event()(
        uuid in uuid(),
        id in prop::option::of(1..1_000_000u64),
        info in "[A-Za-z0-9 ]{0,10}[A-Za-z]",
        date in "20[0-9]{2}-0[1-9]-[12][0-9]",
        published in any::<bool>(),
        distribution in 0..=4u8,
        sharing_group_id in prop::option::of(1..100u64),
        org_id in prop::option::of(1..100u64),
        orgc_name in prop::option::of("[A-Za-z]{1,10}"),
        disable_correlation in any::<bool>(),
        timestamp in prop::option::of(0..2_000_000_000i64),
        tags in tags(),
        attributes in prop::collection::vec(attribute(), 0..6),
        objects in prop::collection::vec(object(), 0..3),
    ) -> Event {
        Event {
            id, uuid, info, date, published, distribution,
            sharing_group_id: sharing_group_id.filter(|_| distribution == 4),
            org: OrgRef { id: org_id, uuid: None, name: None },
            orgc: OrgRef { id: None, uuid: None, name: orgc_name },
            disable_correlation, timestamp, tags, attributes, objects,
        }
    }
}

fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"name": t.name, "colour": "#FFFFFF"}))
            .collect(),
    )
}

fn attribute_json(a: &Attribute, s: Spelling) -> Value {
    let mut m = Map::new();
    if let Some(id) = a.id {
        m.insert("id".into(), s.number(id as i64));
    }
    if let Some(uuid) = &a.uuid {
        m.insert("uuid".into(), json!(uuid));
    }
    m.insert("type".into(), json!(a.type_name));
    if let Some(category) = &a.category {
        m.insert("category".into(), json!(category));
    }
    m.insert("value".into(), json!(a.value));
    m.insert("to_ids".into(), s.boolean(a.to_ids));
    m.insert("distribution".into(), s.number(i64::from(a.distribution)));
    m.insert(
        "sharing_group_id".into(),
        s.number(a.sharing_group_id.unwrap_or(0) as i64),
    );
    m.insert(
        "disable_correlation".into(),
        s.boolean(a.disable_correlation),
    );
    m.insert("deleted".into(), s.boolean(a.deleted));
    m.insert("comment".into(), json!(a.comment));
    if let Some(t) = a.timestamp {
        m.insert("timestamp".into(), s.number(t));
    }
    m.insert("first_seen".into(), json!(a.first_seen));
    m.insert(
        "ShadowAttribute".into(),
        json!([{"type": "ip-dst", "value": "192.0.2.1"}]),
    );
    m.insert("Tag".into(), tags_json(&a.tags));
    Value::Object(m)
}

fn event_json(e: &Event, s: Spelling) -> Value {
    let mut m = Map::new();
    if let Some(id) = e.id {
        m.insert("id".into(), s.number(id as i64));
    }
    m.insert("uuid".into(), json!(e.uuid));
    m.insert("info".into(), json!(e.info));
    m.insert("date".into(), json!(e.date));
    m.insert("published".into(), s.boolean(e.published));
    m.insert("distribution".into(), s.number(i64::from(e.distribution)));
    m.insert(
        "sharing_group_id".into(),
        s.number(e.sharing_group_id.unwrap_or(0) as i64),
    );
    if let Some(org_id) = e.org.id {
        m.insert("org_id".into(), s.number(org_id as i64));
    }
    if let Some(name) = &e.orgc.name {
        m.insert("Orgc".into(), json!({"name": name}));
    }
    m.insert(
        "disable_correlation".into(),
        s.boolean(e.disable_correlation),
    );
    if let Some(t) = e.timestamp {
        m.insert("timestamp".into(), s.number(t));
    }
    m.insert("threat_level_id".into(), json!("4"));
    m.insert(
        "Galaxy".into(),
        json!([{"GalaxyCluster": [{"value": "x"}]}]),
    );
    m.insert("Tag".into(), tags_json(&e.tags));
    m.insert(
        "Attribute".into(),
        e.attributes.iter().map(|a| attribute_json(a, s)).collect(),
    );
    let objects: Vec<Value> = e
        .objects
        .iter()
        .map(|o| {
            let mut om = Map::new();
            if let Some(uuid) = &o.uuid {
                om.insert("uuid".into(), json!(uuid));
            }
            om.insert("name".into(), json!(o.name));
            om.insert("distribution".into(), s.number(i64::from(o.distribution)));
            om.insert("deleted".into(), s.boolean(o.deleted));
            om.insert(
                "Attribute".into(),
                o.attributes.iter().map(|a| attribute_json(a, s)).collect(),
            );
            Value::Object(om)
        })
        .collect();
    m.insert("Object".into(), Value::Array(objects));
    Value::Object(m)
}

fn document(events: &[Event], s: Spelling) -> Value {
    let bare: Vec<Value> = events.iter().map(|e| event_json(e, s)).collect();
    let wrapped: Vec<Value> = bare.iter().map(|e| json!({"Event": e})).collect();
    match s.wrapper {
        0 => Value::Array(wrapped),
        1 => json!({"response": wrapped}),
        2 => Value::Array(bare),
        _ => json!({"response": bare}),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn events_read_back_as_written(
        events in prop::collection::vec(event(), 0..4),
        numbers_as_strings in any::<bool>(),
        booleans in 0..3u8,
        wrapper in 0..4u8,
        pretty in any::<bool>(),
    ) {
        let spelling = Spelling { numbers_as_strings, booleans, wrapper };
        let doc = document(&events, spelling);
        let bytes = if pretty { serde_json::to_vec_pretty(&doc).unwrap() } else { serde_json::to_vec(&doc).unwrap() };
        let read = json::parse_events(&bytes).unwrap();
        prop_assert_eq!(read, events);
    }
}
