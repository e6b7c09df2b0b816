//! The correlation engine against a naive model (contract §6-§8).
//!
//! The model keeps only the final state (events, objects, attributes,
//! exclusions, settings) and recomputes every correlation from scratch
//! with the contract's definitions, literally: nested loops, sets, no
//! counters. Random operation sequences over a small alphabet (so values
//! collide, halves coincide, networks contain addresses) are applied to
//! an [`Engine`]; afterwards the engine, a bulk build of the final state
//! and the model must agree on every correlation, every over-correlating
//! key with its count, and every event's related events. Access control
//! is checked per viewer: nothing invisible is returned, and nothing
//! visible is missing.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use misp_core::{AttributeType, normalize};
use misp_correlate::Error;
use misp_correlate::correlation::{
    AclMode, AttributeInput, Config, Correlation, CorrelationKind, Engine, EngineBuilder,
    EventInput, Id, ObjectInput, Viewer,
};
use misp_correlate::ssdeep::{SsdeepHash, fuzzy_compare};
use proptest::prelude::*;

// ----- the alphabet ------------------------------------------------------

const EVENTS: &[&str] = &["e0", "e1", "e2"];
const OBJECTS: &[&str] = &["o0", "o1", "o2"];
/// Attribute identities: `aK` are string identities, `nK` numeric ones
/// (the number K), so both kinds of index are exercised.
const ATTRS: &[&str] = &[
    "a0", "n1", "a2", "n3", "a4", "n5", "a6", "n7", "a8", "n9", "a10", "n11", "n12", "n13", "a14",
    "a15",
];

/// The engine identity of a test attribute name.
fn aid(name: &str) -> Id<'_> {
    match name.strip_prefix('n').and_then(|k| k.parse().ok()) {
        Some(k) => Id::Num(k),
        None => Id::Str(name),
    }
}

/// The test attribute name of an engine identity.
fn name_of(id: Id<'_>) -> String {
    match id {
        Id::Num(k) => format!("n{k}"),
        Id::Str(s) => s.to_owned(),
    }
}
const ORGS: &[&str] = &["org0", "org1"];

const MD5_1: &str = "d41d8cd98f00b204e9800998ecf8427e";
const MD5_2: &str = "0cc175b9c0f1b6a831c399e269772661";

fn values_for(ty: &str) -> &'static [&'static str] {
    match ty {
        "text" => &["a", "A", "a ", "0", "10.0.0.1", "Foo", "foo", "é", "É"],
        "filename" => &["a", "x.exe", "X.EXE", "foo"],
        "md5" => &[MD5_1, MD5_2],
        "filename|md5" => &[
            "a|d41d8cd98f00b204e9800998ecf8427e",
            "x.exe|0cc175b9c0f1b6a831c399e269772661",
            "a|0cc175b9c0f1b6a831c399e269772661",
        ],
        "regkey|value" => &["a|0", "b|a", "A|0", "a|A"],
        "ip-src" | "ip-dst" => &[
            "10.0.0.1",
            "10.0.0.2",
            "10.0.0.0/8",
            "10.0.0.0/24",
            "10.1.2.3/8",
            "2001:db8::1",
            "2001:db8::/32",
            "::ffff:10.0.0.1",
            "0.0.0.0/0",
            "10.0.0.1",
            "10.0.0.0/8",
        ],
        "ip-dst|port" => &[
            "10.0.0.1|80",
            "10.0.0.2|443",
            "2001:db8::1|80",
            "10.0.0.1|443",
        ],
        "domain|ip" => &[
            "x.com|10.0.0.1",
            "y.com|2001:db8::1",
            "x.com|10.0.0.2",
            "10.0.0.1|10.0.0.1",
        ],
        "comment" => &["a", "10.0.0.1"],
        "ssdeep" => &[
            "96:ABCDEFGxyz:",
            "96:ABCDEFGuvw:",
            "96:qABCDEFGxyz:",
            "96:abcdefgxyz:",
            "3:ABCDEFGHIJ:KLMNOPQRST",
        ],
        _ => &["a"],
    }
}

/// Types, weighted by repetition.
const TYPES: &[&str] = &[
    "text",
    "text",
    "filename",
    "md5",
    "filename|md5",
    "regkey|value",
    "ip-src",
    "ip-src",
    "ip-dst",
    "ip-dst",
    "ip-dst|port",
    "domain|ip",
    "comment",
    "ssdeep",
    "ssdeep",
    "ssdeep",
];

const EXCLUSIONS: &[&str] = &[
    "a",
    "%a",
    "a%",
    "%0%",
    "10.0.0.%",
    "%",
    "Foo",
    "x.exe",
    "10.0.0.0/8",
    "%.com",
    "0",
    "10.0.0.1",
    "%cc%",
];

fn ty(name: &str) -> AttributeType {
    AttributeType::from_name(name).unwrap_or_else(|| panic!("{name} is a MISP type"))
}

// ----- operations --------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct EvState {
    org: Option<&'static str>,
    distribution: u8,
    sg: Option<u64>,
    disable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ObjState {
    event: &'static str,
    distribution: u8,
    sg: Option<u64>,
    deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AtState {
    event: &'static str,
    object: Option<&'static str>,
    ty: &'static str,
    value: &'static str,
    distribution: u8,
    sg: Option<u64>,
    disable: bool,
    deleted: bool,
}

#[derive(Debug, Clone)]
enum Op {
    AddEvent(&'static str, EvState),
    UpdateEvent(&'static str, EvState),
    RemoveEvent(&'static str),
    ToggleEvent(&'static str, bool),
    AddObject(&'static str, ObjState),
    UpdateObject(&'static str, ObjState),
    RemoveObject(&'static str),
    AddAttr(&'static str, AtState),
    UpdateAttr(&'static str, AtState),
    RemoveAttr(&'static str),
    ToggleAttr(&'static str, bool),
    AddExclusion(&'static str),
    RemoveExclusion(&'static str),
    SetLimit(Option<u32>),
    SetAdvanced(bool),
}

fn pick<T: Clone + std::fmt::Debug + 'static>(xs: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(xs)
}

fn sg() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![Just(None), Just(Some(1)), Just(Some(2))]
}

fn ev_state() -> impl Strategy<Value = EvState> {
    (
        prop_oneof![Just(None), pick(ORGS).prop_map(Some)],
        0u8..5,
        sg(),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(org, distribution, sg, disable)| EvState {
            org,
            distribution,
            sg,
            disable,
        })
}

fn obj_state() -> impl Strategy<Value = ObjState> {
    (pick(EVENTS), 0u8..6, sg(), prop::bool::weighted(0.15)).prop_map(
        |(event, distribution, sg, deleted)| ObjState {
            event,
            distribution,
            sg,
            deleted,
        },
    )
}

fn at_state() -> impl Strategy<Value = AtState> {
    (
        pick(EVENTS),
        prop::option::weighted(0.15, pick(OBJECTS)),
        pick(TYPES),
        any::<prop::sample::Index>(),
        0u8..6,
        sg(),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |(event, object, ty, vi, distribution, sg, disable, deleted)| {
                let values = values_for(ty);
                AtState {
                    event,
                    object,
                    ty,
                    value: values[vi.index(values.len())],
                    distribution,
                    sg,
                    disable,
                    deleted,
                }
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (pick(EVENTS), ev_state()).prop_map(|(e, s)| Op::AddEvent(e, s)),
        1 => (pick(EVENTS), ev_state()).prop_map(|(e, s)| Op::UpdateEvent(e, s)),
        1 => pick(EVENTS).prop_map(Op::RemoveEvent),
        1 => (pick(EVENTS), prop::bool::weighted(0.7)).prop_map(|(e, b)| Op::ToggleEvent(e, b)),
        1 => (pick(OBJECTS), obj_state()).prop_map(|(o, s)| Op::AddObject(o, s)),
        1 => (pick(OBJECTS), obj_state()).prop_map(|(o, s)| Op::UpdateObject(o, s)),
        1 => pick(OBJECTS).prop_map(Op::RemoveObject),
        10 => (pick(ATTRS), at_state()).prop_map(|(a, s)| Op::AddAttr(a, s)),
        4 => (pick(ATTRS), at_state()).prop_map(|(a, s)| Op::UpdateAttr(a, s)),
        2 => pick(ATTRS).prop_map(Op::RemoveAttr),
        1 => (pick(ATTRS), prop::bool::weighted(0.7)).prop_map(|(a, b)| Op::ToggleAttr(a, b)),
        1 => pick(EXCLUSIONS).prop_map(Op::AddExclusion),
        2 => pick(EXCLUSIONS).prop_map(Op::RemoveExclusion),
        1 => prop_oneof![Just(None), (0u32..4).prop_map(Some)].prop_map(Op::SetLimit),
        1 => any::<bool>().prop_map(Op::SetAdvanced),
    ]
}

// ----- the model ---------------------------------------------------------

#[derive(Debug, Clone)]
struct Model {
    limit: Option<u32>,
    advanced: bool,
    exclusions: Vec<&'static str>,
    events: BTreeMap<&'static str, EvState>,
    objects: BTreeMap<&'static str, ObjState>,
    attrs: BTreeMap<&'static str, AtState>,
}

impl Model {
    fn new(limit: Option<u32>, advanced: bool) -> Model {
        Model {
            limit,
            advanced,
            exclusions: Vec::new(),
            events: BTreeMap::new(),
            objects: BTreeMap::new(),
            attrs: BTreeMap::new(),
        }
    }
}

fn event_input(id: &'static str, s: &EvState) -> EventInput<'static> {
    EventInput {
        id: Id::Str(id),
        org: s.org.map(Id::Str),
        distribution: s.distribution,
        sharing_group: s.sg,
        disable_correlation: s.disable,
    }
}

fn object_input(id: &'static str, s: &ObjState) -> ObjectInput<'static> {
    ObjectInput {
        id: Id::Str(id),
        event: Id::Str(s.event),
        distribution: s.distribution,
        sharing_group: s.sg,
        deleted: s.deleted,
    }
}

fn attr_input(id: &'static str, s: &AtState) -> AttributeInput<'static> {
    AttributeInput {
        id: aid(id),
        event: Id::Str(s.event),
        object: s.object.map(Id::Str),
        ty: ty(s.ty),
        value: s.value,
        distribution: s.distribution,
        sharing_group: s.sg,
        disable_correlation: s.disable,
        deleted: s.deleted,
    }
}

fn valid(s: &AtState) -> bool {
    normalize(ty(s.ty), s.value).is_ok()
}

/// Applies `op` to both; the engine must accept exactly what the model
/// considers valid.
fn apply(engine: &mut Engine, m: &mut Model, op: &Op) {
    match op {
        Op::AddEvent(e, s) => {
            let r = engine.add_event(&event_input(e, s));
            assert_eq!(r.is_ok(), !m.events.contains_key(e), "{op:?}: {r:?}");
            m.events.entry(e).or_insert_with(|| s.clone());
        }
        Op::UpdateEvent(e, s) => {
            let r = engine.update_event(&event_input(e, s));
            assert_eq!(r.is_ok(), m.events.contains_key(e), "{op:?}: {r:?}");
            if let Some(x) = m.events.get_mut(e) {
                *x = s.clone();
            }
        }
        Op::RemoveEvent(e) => {
            let r = engine.remove_event(Id::Str(e));
            assert_eq!(r.is_ok(), m.events.contains_key(e), "{op:?}: {r:?}");
            if m.events.remove(e).is_some() {
                m.attrs.retain(|_, a| a.event != *e);
                m.objects.retain(|_, o| o.event != *e);
            }
        }
        Op::ToggleEvent(e, on) => {
            let r = engine.set_event_correlation(Id::Str(e), *on);
            assert_eq!(r.is_ok(), m.events.contains_key(e), "{op:?}: {r:?}");
            if let Some(x) = m.events.get_mut(e) {
                x.disable = !on;
            }
        }
        Op::AddObject(o, s) => {
            let r = engine.add_object(&object_input(o, s));
            assert_eq!(r.is_ok(), !m.objects.contains_key(o), "{op:?}: {r:?}");
            m.objects.entry(o).or_insert_with(|| s.clone());
        }
        Op::UpdateObject(o, s) => {
            let r = engine.update_object(&object_input(o, s));
            assert_eq!(r.is_ok(), m.objects.contains_key(o), "{op:?}: {r:?}");
            if let Some(x) = m.objects.get_mut(o) {
                *x = s.clone();
            }
        }
        Op::RemoveObject(o) => {
            let r = engine.remove_object(Id::Str(o));
            assert_eq!(r.is_ok(), m.objects.contains_key(o), "{op:?}: {r:?}");
            m.objects.remove(o);
        }
        Op::AddAttr(a, s) => {
            let r = engine.add_attribute(&attr_input(a, s));
            let ok = !m.attrs.contains_key(a) && valid(s);
            assert_eq!(r.is_ok(), ok, "{op:?}: {r:?}");
            if let Err(Error::Rejected(rej)) = &r {
                assert!(!valid(s));
                assert_eq!(rej.value, s.value);
            }
            if ok {
                m.attrs.insert(a, s.clone());
            }
        }
        Op::UpdateAttr(a, s) => {
            let r = engine.update_attribute(&attr_input(a, s));
            let ok = m.attrs.contains_key(a) && valid(s);
            assert_eq!(r.is_ok(), ok, "{op:?}: {r:?}");
            if ok {
                m.attrs.insert(a, s.clone());
            }
        }
        Op::RemoveAttr(a) => {
            let r = engine.remove_attribute(aid(a));
            assert_eq!(r.is_ok(), m.attrs.remove(a).is_some(), "{op:?}: {r:?}");
        }
        Op::ToggleAttr(a, on) => {
            let r = engine.set_attribute_correlation(aid(a), *on);
            assert_eq!(r.is_ok(), m.attrs.contains_key(a), "{op:?}: {r:?}");
            if let Some(x) = m.attrs.get_mut(a) {
                x.disable = !on;
            }
        }
        Op::AddExclusion(p) => {
            let added = engine.add_exclusion(p);
            assert_eq!(added, !m.exclusions.contains(p));
            if added {
                m.exclusions.push(p);
            }
        }
        Op::RemoveExclusion(p) => {
            let removed = engine.remove_exclusion(p);
            assert_eq!(removed, m.exclusions.contains(p));
            m.exclusions.retain(|x| x != p);
        }
        Op::SetLimit(l) => {
            engine.set_limit(*l);
            m.limit = *l;
        }
        Op::SetAdvanced(b) => {
            engine.set_advanced(*b);
            m.advanced = *b;
        }
    }
}

/// §5, written independently of the engine.
fn excluded(patterns: &[&str], v: &str) -> bool {
    patterns.iter().any(|p| {
        if p.is_empty() {
            false
        } else if p.len() >= 2 && p.starts_with('%') && p.ends_with('%') {
            v.contains(&p[1..p.len() - 1])
        } else if *p == "%" {
            true
        } else if let Some(s) = p.strip_prefix('%') {
            v.ends_with(s)
        } else if let Some(s) = p.strip_suffix('%') {
            v.starts_with(s)
        } else {
            v == *p
        }
    })
}

fn mk(v: &str) -> String {
    v.trim_end_matches(' ').to_lowercase()
}

type Pair = (CorrelationKind, String, String, String, Option<u32>);

fn pair(kind: CorrelationKind, key: String, a: &str, b: &str) -> Pair {
    let (x, y) = if a < b { (a, b) } else { (b, a) };
    (kind, key, x.to_owned(), y.to_owned(), None)
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    pairs: BTreeSet<Pair>,
    over: BTreeMap<String, u64>,
}

struct Derived {
    keys: BTreeMap<&'static str, BTreeSet<String>>,
    ips: Vec<(&'static str, String, IpAddr)>,
    nets: Vec<(&'static str, String, IpNet)>,
    ssdeep: Vec<(&'static str, String, SsdeepHash)>,
}

fn derive(m: &Model) -> Derived {
    let mut d = Derived {
        keys: BTreeMap::new(),
        ips: Vec::new(),
        nets: Vec::new(),
        ssdeep: Vec::new(),
    };
    for (&id, a) in &m.attrs {
        let t = ty(a.ty);
        let Ok(nv) = normalize(t, a.value) else {
            continue;
        };
        let Some(ev) = m.events.get(a.event) else {
            continue;
        };
        let object_ok = a
            .object
            .is_none_or(|o| m.objects.get(o).is_some_and(|o| !o.deleted));
        if a.deleted || a.disable || !t.correlates() || ev.disable || !object_ok {
            continue;
        }
        let mut keys = BTreeSet::new();
        let v1 = nv.value1();
        if !excluded(&m.exclusions, v1) {
            keys.insert(mk(v1));
        }
        if let Some(v2) = nv.value2() {
            if !v2.is_empty() && t.value2_correlates() && !excluded(&m.exclusions, v2) {
                keys.insert(mk(v2));
            }
        }
        let ip_half = match a.ty {
            "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" => Some(v1),
            "domain|ip" => nv.value2(),
            _ => None,
        };
        if let Some(h) = ip_half {
            if let Ok(addr) = IpAddr::from_str(h) {
                if keys.contains(&mk(h)) {
                    d.ips.push((id, mk(h), addr));
                }
            }
        }
        if matches!(a.ty, "ip-src" | "ip-dst") && keys.contains(&mk(v1)) {
            if let Ok(net) = IpNet::from_str(v1) {
                d.nets.push((id, mk(v1), net));
            }
        }
        if a.ty == "ssdeep" && keys.contains(&mk(v1)) {
            if let Ok(h) = SsdeepHash::parse(v1) {
                d.ssdeep.push((id, mk(v1), h));
            }
        }
        d.keys.insert(id, keys);
    }
    d
}

fn expected(m: &Model) -> Expected {
    let d = derive(m);
    let event = |a: &str| m.attrs.get(a).map_or("", |x| x.event);
    let mut postings: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (&a, ks) in &d.keys {
        for k in ks {
            postings.entry(k.clone()).or_default().insert(a);
        }
    }
    // Extended sets (§7.1).
    let set_of = |k: &str| -> BTreeSet<&str> {
        let mut s: BTreeSet<&str> = postings.get(k).cloned().unwrap_or_default();
        if m.advanced {
            if d.nets.iter().any(|(_, nk, _)| nk == k) {
                if let Ok(net) = IpNet::from_str(k) {
                    s.extend(
                        d.ips
                            .iter()
                            .filter(|(_, _, ip)| net.contains(ip))
                            .map(|(a, _, _)| *a),
                    );
                }
            } else if d.ips.iter().any(|(_, ik, _)| ik == k) {
                if let Ok(ip) = IpAddr::from_str(k) {
                    s.extend(
                        d.nets
                            .iter()
                            .filter(|(_, _, n)| n.contains(&ip))
                            .map(|(a, _, _)| *a),
                    );
                }
            }
        }
        s
    };
    let over = |k: &str| -> Option<u64> {
        let s = set_of(k);
        let worst = s
            .iter()
            .map(|a| s.iter().filter(|b| event(b) != event(a)).count())
            .max()
            .unwrap_or(0);
        match m.limit {
            Some(l) if worst as u64 > u64::from(l) => Some(s.len() as u64),
            _ => None,
        }
    };
    let mut out = Expected::default();
    for (k, members) in &postings {
        if let Some(n) = over(k) {
            out.over.insert(k.clone(), n);
            continue;
        }
        for a in members {
            for b in members {
                if a < b && event(a) != event(b) {
                    out.pairs
                        .insert(pair(CorrelationKind::Exact, k.clone(), a, b));
                }
            }
        }
    }
    if m.advanced {
        for (i, ik, ip) in &d.ips {
            for (c, ck, net) in &d.nets {
                if net.contains(ip)
                    && event(i) != event(c)
                    && over(ik).is_none()
                    && over(ck).is_none()
                {
                    out.pairs
                        .insert(pair(CorrelationKind::Cidr, ck.clone(), i, c));
                }
            }
        }
        // §7.2: partners, per-attribute over-correlation, pairs.
        let partners = |a: &(&str, String, SsdeepHash)| -> Vec<(&str, u32)> {
            d.ssdeep
                .iter()
                .filter(|b| event(b.0) != event(a.0) && b.1 != a.1)
                .map(|b| (b.0, fuzzy_compare(&a.2, &b.2)))
                .filter(|(_, score)| *score >= 40)
                .collect()
        };
        let fuzzy_over = |a: &(&str, String, SsdeepHash)| {
            m.limit
                .is_some_and(|l| partners(a).len() as u64 > u64::from(l))
        };
        for a in &d.ssdeep {
            for (b, score) in partners(a) {
                let Some(bb) = d.ssdeep.iter().find(|x| x.0 == b) else {
                    continue;
                };
                if a.0 < b && !fuzzy_over(a) && !fuzzy_over(bb) {
                    let mut p = pair(CorrelationKind::Ssdeep, String::new(), a.0, b);
                    p.4 = Some(score);
                    out.pairs.insert(p);
                }
            }
        }
    }
    out
}

fn as_pair(c: &Correlation<'_>) -> Pair {
    let (a, b) = (name_of(c.a().id()), name_of(c.b().id()));
    let key = if c.kind() == CorrelationKind::Ssdeep {
        String::new()
    } else {
        c.key().into_owned()
    };
    let mut p = pair(c.kind(), key, &a, &b);
    p.4 = c.score();
    p
}

fn observed(engine: &Engine) -> Expected {
    let mut out = Expected::default();
    let mut n = 0;
    for c in engine.correlations() {
        n += 1;
        assert!(out.pairs.insert(as_pair(&c)), "listed twice: {c:?}");
    }
    let s = engine.summary();
    assert_eq!(s.correlations(), n, "summary {s:?} vs stream");
    // The pieces of the stream, joined in order, are the stream.
    let whole: Vec<_> = engine.correlations().map(|c| corr_data(&c)).collect();
    for parts in [0, 1, 2, 3, 7, engine.attribute_count() + 2] {
        let joined: Vec<_> = (0..parts.max(1))
            .flat_map(|p| engine.correlations_part(p, parts))
            .map(|c| corr_data(&c))
            .collect();
        assert_eq!(joined, whole, "{parts} parts");
        assert_eq!(engine.correlations_part(parts.max(1), parts).count(), 0);
    }
    assert_eq!(s.over_correlating as usize, engine.over_correlating().len());
    for o in engine.over_correlating() {
        out.over.insert(o.key.into_owned(), o.count);
    }
    out
}

/// The visibility rule of §8, written independently.
fn visible(m: &Model, v: &Viewer, a: &str) -> bool {
    if v.site_admin {
        return true;
    }
    let Some(at) = m.attrs.get(a) else {
        return false;
    };
    let Some(ev) = m.events.get(at.event) else {
        return false;
    };
    let own = matches!((&v.org, ev.org), (Some(o), Some(e)) if o.to_string() == e);
    let sg_ok =
        |d: u8, sg: Option<u64>| d == 4 && sg.is_some_and(|g| v.sharing_groups.contains(&g));
    let ev_ok = own || matches!(ev.distribution, 1..=3) || sg_ok(ev.distribution, ev.sg);
    let obj_ok = match at.object {
        None => true,
        Some(o) => match m.objects.get(o) {
            None => false,
            Some(o) => own || matches!(o.distribution, 1..=3 | 5) || sg_ok(o.distribution, o.sg),
        },
    };
    let at_ok = own || matches!(at.distribution, 1..=3 | 5) || sg_ok(at.distribution, at.sg);
    ev_ok && obj_ok && at_ok
}

fn viewers() -> Vec<Viewer> {
    vec![
        Viewer::site_admin(),
        Viewer::org("org0"),
        Viewer::org("org1").with_sharing_groups([1]),
        Viewer::org("nobody").with_sharing_groups([2]),
        Viewer::default(),
    ]
}

fn bulk(m: &Model, order_seed: usize) -> Engine {
    let mut b = EngineBuilder::with_config(Config {
        limit: m.limit,
        advanced: m.advanced,
        ..Config::default()
    });
    for p in &m.exclusions {
        b.exclusion(p);
    }
    // Attributes before or after their events and objects: order must
    // not matter.
    let attrs: Vec<_> = m.attrs.iter().collect();
    let (first, second) = attrs.split_at(order_seed % (attrs.len() + 1));
    for (id, a) in second {
        b.add(&attr_input(id, a)).unwrap();
    }
    for (id, e) in &m.events {
        b.add_event(&event_input(id, e)).unwrap();
    }
    for (id, o) in &m.objects {
        b.add_object(&object_input(id, o)).unwrap();
    }
    for (id, a) in first.iter().rev() {
        b.add(&attr_input(id, a)).unwrap();
    }
    let built = b.build().unwrap();
    assert!(built.rejected.is_empty(), "{:?}", built.rejected);
    built.engine
}

fn check(engine: &Engine, m: &Model) {
    let want = expected(m);
    let got = observed(engine);
    assert_eq!(got.pairs, want.pairs, "correlations");
    assert_eq!(got.over, want.over, "over-correlating keys");

    // Per attribute and per viewer.
    for &a in m.attrs.keys() {
        let mine: BTreeSet<Pair> = want
            .pairs
            .iter()
            .filter(|p| p.2 == a || p.3 == a)
            .cloned()
            .collect();
        let all: BTreeSet<Pair> = engine
            .correlations_of(aid(a), None)
            .unwrap()
            .iter()
            .map(as_pair)
            .collect();
        assert_eq!(all, mine, "correlations of {a}");
        for v in viewers() {
            let seen: Vec<Correlation<'_>> = engine.correlations_of(aid(a), Some(&v)).unwrap();
            for c in &seen {
                assert_eq!(c.a().id(), aid(a));
                let (x, y) = (name_of(c.a().id()), name_of(c.b().id()));
                assert!(visible(m, &v, &x) && visible(m, &v, &y), "{v:?} sees {c:?}");
            }
            let seen: BTreeSet<Pair> = seen.iter().map(as_pair).collect();
            let should: BTreeSet<Pair> = mine
                .iter()
                .filter(|p| visible(m, &v, &p.2) && visible(m, &v, &p.3))
                .cloned()
                .collect();
            assert_eq!(seen, should, "correlations of {a} for {v:?}");
        }
    }
    // Related events, for everyone and per viewer; the stream per viewer.
    for v in std::iter::once(None).chain(viewers().into_iter().map(Some)) {
        let sees = |p: &Pair| {
            v.as_ref()
                .is_none_or(|v| visible(m, v, &p.2) && visible(m, v, &p.3))
        };
        for &e in m.events.keys() {
            let mut want_rel: BTreeMap<String, u64> = BTreeMap::new();
            for p in want.pairs.iter().filter(|p| sees(p)) {
                let (ea, eb) = (m.attrs[p.2.as_str()].event, m.attrs[p.3.as_str()].event);
                if ea == e {
                    *want_rel.entry(eb.to_owned()).or_default() += 1;
                }
                if eb == e {
                    *want_rel.entry(ea.to_owned()).or_default() += 1;
                }
            }
            let got_rel: BTreeMap<String, u64> = engine
                .related_events(Id::Str(e), v.as_ref())
                .unwrap()
                .into_iter()
                .map(|r| (r.event.to_string(), r.correlations))
                .collect();
            assert_eq!(got_rel, want_rel, "related events of {e} for {v:?}");
        }
        if let Some(v) = &v {
            let seen: BTreeSet<Pair> = engine.correlations_for(v).map(|c| as_pair(&c)).collect();
            let should: BTreeSet<Pair> = want.pairs.iter().filter(|p| sees(p)).cloned().collect();
            assert_eq!(seen, should, "all correlations for {v:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_model(
        setup in prop::collection::vec(ev_state(), EVENTS.len()),
        attrs in prop::collection::vec(at_state(), 8..=ATTRS.len()),
        ops in prop::collection::vec(op(), 0..30),
        limit in prop_oneof![2 => Just(None), 1 => Just(Some(0)), 5 => (1u32..5).prop_map(Some)],
        advanced in prop::bool::weighted(0.7),
        order in any::<usize>(),
    ) {
        let mut engine = Engine::new(Config { limit, advanced, ..Config::default() }).unwrap();
        let mut m = Model::new(limit, advanced);
        let setup = EVENTS.iter().zip(setup).map(|(e, s)| Op::AddEvent(e, s));
        let attrs = ATTRS.iter().zip(attrs).map(|(a, s)| Op::AddAttr(a, s));
        for op in setup.chain(attrs).chain(ops) {
            let op = &op;
            apply(&mut engine, &mut m, op);
        }
        check(&engine, &m);
        let b = bulk(&m, order);
        check(&b, &m);
        prop_assert_eq!(b.summary(), engine.summary());
    }

    #[test]
    fn no_acl_shows_everything(
        setup in prop::collection::vec(ev_state(), EVENTS.len()),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut engine = Engine::new(Config { mode: AclMode::NoAcl, advanced: true, ..Config::default() }).unwrap();
        let mut m = Model::new(Some(20), true);
        let setup = EVENTS.iter().zip(setup).map(|(e, s)| Op::AddEvent(e, s));
        for op in setup.chain(ops) {
            let op = &op;
            apply(&mut engine, &mut m, op);
        }
        for &a in m.attrs.keys() {
            let all = engine.correlations_of(aid(a), None).unwrap().len();
            for v in viewers() {
                prop_assert_eq!(engine.correlations_of(aid(a), Some(&v)).unwrap().len(), all);
            }
        }
    }
}

// ----- snapshots -----------------------------------------------------------

use misp_correlate::snapshot::EngineSnapshot;

/// A correlation as comparable data, in the order it was returned.
fn corr_data(c: &Correlation<'_>) -> (CorrelationKind, String, String, String, Option<u32>) {
    (
        c.kind(),
        c.key().into_owned(),
        c.a().id().to_string(),
        c.b().id().to_string(),
        c.score(),
    )
}

/// Every value of the alphabet, as `posting_of` would be asked.
fn all_values() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = TYPES
        .iter()
        .flat_map(|t| values_for(t).iter().copied())
        .collect();
    v.extend(["nothing-like-this", ""]);
    v
}

/// The snapshot of `engine` answers every query exactly as `engine` does,
/// in the same order.
fn check_snapshot(engine: &Engine, snap: &EngineSnapshot) {
    assert_eq!(snap.summary(), engine.summary());
    assert_eq!(snap.attribute_count(), engine.attribute_count());
    assert_eq!(snap.config(), engine.config());
    assert_eq!(snap.exclusions(), engine.exclusions());
    let stream = |it: &mut dyn Iterator<Item = Correlation<'_>>| {
        it.map(|c| corr_data(&c)).collect::<Vec<_>>()
    };
    assert_eq!(
        stream(&mut snap.correlations()),
        stream(&mut engine.correlations())
    );
    for parts in [2, 5] {
        for part in 0..=parts {
            assert_eq!(
                stream(&mut snap.correlations_part(part, parts)),
                stream(&mut engine.correlations_part(part, parts)),
                "part {part} of {parts}"
            );
        }
    }
    assert_eq!(snap.over_correlating(), engine.over_correlating());
    for n in [0, 1, 3, 100] {
        assert_eq!(snap.top_keys(n), engine.top_keys(n));
    }
    let mut ids: Vec<Id<'_>> = ATTRS.iter().map(|a| aid(a)).collect();
    ids.extend([Id::Num(999), Id::Str("missing"), Id::Num(1)]);
    for &id in &ids {
        let (x, y) = (snap.attribute(id), engine.attribute(id));
        assert_eq!(x.is_some(), y.is_some());
        if let (Some(x), Some(y)) = (x, y) {
            assert_eq!(
                (
                    x.id(),
                    x.event(),
                    x.object(),
                    x.ty(),
                    x.value1(),
                    x.value2(),
                    x.is_eligible(),
                    x.keys()
                ),
                (
                    y.id(),
                    y.event(),
                    y.object(),
                    y.ty(),
                    y.value1(),
                    y.value2(),
                    y.is_eligible(),
                    y.keys()
                )
            );
        }
        for v in std::iter::once(None).chain(viewers().into_iter().map(Some)) {
            let a = snap
                .correlations_of(id, v.as_ref())
                .map(|l| l.iter().map(corr_data).collect::<Vec<_>>());
            let b = engine
                .correlations_of(id, v.as_ref())
                .map(|l| l.iter().map(corr_data).collect::<Vec<_>>());
            assert_eq!(a.ok(), b.ok(), "correlations of {id} for {v:?}");
        }
    }
    for v in std::iter::once(None).chain(viewers().into_iter().map(Some)) {
        for e in EVENTS.iter().map(|e| Id::Str(e)).chain([Id::Str("nope")]) {
            assert_eq!(
                snap.related_events(e, v.as_ref()).ok(),
                engine.related_events(e, v.as_ref()).ok(),
                "related events of {e} for {v:?}"
            );
        }
        if let Some(v) = &v {
            assert_eq!(
                stream(&mut snap.correlations_for(v)),
                stream(&mut engine.correlations_for(v))
            );
        }
    }
    for value in all_values() {
        let (x, y) = (snap.posting_of(value), engine.posting_of(value));
        assert_eq!(x.is_some(), y.is_some(), "posting of {value:?}");
        if let (Some(x), Some(y)) = (x, y) {
            assert_eq!(x.key(), y.key());
            assert_eq!(x.len(), y.len());
            let ids = |p: &misp_correlate::correlation::PostingView<'_>| {
                p.attributes()
                    .map(|a| a.id().to_string())
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(&x), ids(&y));
            assert_eq!(x.events(), y.events());
            assert_eq!(x.is_over_correlating(), y.is_over_correlating());
        }
        assert_eq!(
            snap.is_over_correlating(value),
            engine.is_over_correlating(value)
        );
    }
}

/// Correlations as a set (engines with different internal numbering may
/// list ties in another order).
fn corr_set(engine: &Engine) -> BTreeSet<(CorrelationKind, String, String, String, Option<u32>)> {
    engine
        .correlations()
        .map(|c| {
            let mut d = corr_data(&c);
            if d.2 > d.3 && d.0 != CorrelationKind::Cidr {
                std::mem::swap(&mut d.2, &mut d.3);
                d.1 = if d.0 == CorrelationKind::Ssdeep {
                    String::new()
                } else {
                    d.1
                };
            }
            if d.0 == CorrelationKind::Ssdeep {
                d.1 = String::new();
            }
            d
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Save, open, compare every query; then decode the snapshot into an
    /// engine, apply more changes to it and to the original, and compare
    /// both with the model.
    #[test]
    fn snapshot_answers_like_the_engine(
        setup in prop::collection::vec(ev_state(), EVENTS.len()),
        attrs in prop::collection::vec(at_state(), 8..=ATTRS.len()),
        ops in prop::collection::vec(op(), 0..30),
        later in prop::collection::vec(op(), 0..15),
        limit in prop_oneof![2 => Just(None), 1 => Just(Some(0)), 5 => (1u32..5).prop_map(Some)],
        advanced in prop::bool::weighted(0.7),
        no_acl in prop::bool::weighted(0.2),
    ) {
        let mode = if no_acl { AclMode::NoAcl } else { AclMode::Default };
        let mut engine = Engine::new(Config { limit, advanced, mode, ..Config::default() }).unwrap();
        let mut m = Model::new(limit, advanced);
        let setup = EVENTS.iter().zip(setup).map(|(e, s)| Op::AddEvent(e, s));
        let attrs = ATTRS.iter().zip(attrs).map(|(a, s)| Op::AddAttr(a, s));
        for op in setup.chain(attrs).chain(ops) {
            apply(&mut engine, &mut m, &op);
        }
        let bytes = EngineSnapshot::engine_to_bytes(&engine).unwrap();
        let snap = EngineSnapshot::from_bytes(bytes, "model.snap").unwrap();
        snap.verify().unwrap();
        check_snapshot(&engine, &snap);

        // Updates after open: decoded into an engine, which takes them.
        let mut updated = snap.to_engine().unwrap();
        prop_assert_eq!(corr_set(&updated), corr_set(&engine));
        let mut m2 = m.clone();
        for op in &later {
            apply(&mut engine, &mut m, op);
            apply(&mut updated, &mut m2, op);
        }
        if mode == AclMode::Default {
            check(&updated, &m2);
        }
        prop_assert_eq!(updated.summary(), engine.summary());
        prop_assert_eq!(corr_set(&updated), corr_set(&engine));
        // And saved again.
        let again = EngineSnapshot::from_bytes(EngineSnapshot::engine_to_bytes(&updated).unwrap(), "again.snap").unwrap();
        check_snapshot(&updated, &again);
    }
}
