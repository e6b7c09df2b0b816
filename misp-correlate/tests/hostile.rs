//! Hostile inputs (issue "prove it"): each is handled in bounded time and
//! memory with a clear error or a correct result, and loses nothing else.
//!
//! No test asserts a duration: the bound is that the suite finishes, and
//! the assertions check that the answers are the right ones (a quadratic
//! or exponential path would not finish in CI's budget).

use std::sync::{Arc, RwLock};

use misp_core::AttributeType;
use misp_correlate::correlation::{
    AttributeInput, Config, Engine, EngineBuilder, EventInput, Id, Viewer,
};
use misp_correlate::warninglist::{
    Improvements, ListType, MatcherBuilder, ProblemKind, Query, ToIdsGate, Warninglist,
};

fn ty(name: &str) -> AttributeType {
    AttributeType::from_name(name).expect("known type")
}

/// A deterministic xorshift generator, so the suite needs no seed file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A lower-case alphanumeric word of `len` characters.
    fn word(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| char::from(ALPHABET[(self.next() % ALPHABET.len() as u64) as usize]))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// A 10 MB value.

const TEN_MB: usize = 10 * 1024 * 1024;
/// MISP refuses longer values ("would get truncated").
const MAX_STORED: usize = 65_535;

#[test]
fn oversized_values_are_refused_for_every_type() {
    // Every type refuses a 1 MB value with a message, or rewrites it to
    // something MISP can store (`boolean` saves any non-empty value as
    // `1`), never panics; 10 MB for the common families.
    let big = "a".repeat(1024 * 1024);
    for t in AttributeType::all() {
        match misp_core::normalize(t, &big) {
            Ok(saved) => assert!(saved.as_str().len() <= MAX_STORED, "{}", t.name()),
            Err(err) => assert!(!err.to_string().is_empty(), "{}: empty message", t.name()),
        }
    }
    let huge = "a".repeat(TEN_MB);
    for name in [
        "text",
        "url",
        "domain",
        "hostname",
        "md5",
        "ip-dst",
        "ssdeep",
        "email-src",
    ] {
        let err = misp_core::normalize(ty(name), &huge).expect_err("longer than MISP stores");
        if matches!(name, "text" | "url") {
            assert!(err.to_string().contains("too long"), "{name}: {err}");
        }
    }
    // The longest value MISP stores is stored whole.
    let longest = "a".repeat(MAX_STORED);
    let saved = misp_core::normalize(ty("text"), &longest).expect("fits");
    assert_eq!(saved.value1().len(), MAX_STORED);
}

#[test]
fn oversized_values_are_rejected_alone_and_checked() {
    let huge = format!("{}-end", "x".repeat(TEN_MB));
    let longest = "y".repeat(MAX_STORED);
    let mut builder = EngineBuilder::new();
    for (n, event) in ["e1", "e2"].into_iter().enumerate() {
        builder.add_event(&EventInput::new(event)).expect("event");
        for (m, value) in [huge.as_str(), longest.as_str()].into_iter().enumerate() {
            let id = Id::Num((n * 2 + m) as u64);
            builder
                .add(&AttributeInput::new(id, event, ty("text"), value))
                .expect("attribute");
        }
    }
    let built = builder.build().expect("build");
    // The two 10 MB values are refused with MISP's reason; the rest stays.
    assert_eq!(built.rejected.len(), 2);
    for r in &built.rejected {
        assert!(r.reason.contains("too long"), "{}", r.reason);
        assert_eq!(r.value.len(), huge.len());
    }
    assert_eq!(built.engine.summary().exact, 1);
    let found = built
        .engine
        .correlations_of(Id::Num(1), None)
        .expect("known attribute");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].key().len(), MAX_STORED);

    // A 10 MB value against every kind of warninglist.
    let mut substrings = Warninglist::new("substrings", ListType::Substring);
    substrings.push_entry("-end");
    let mut strings = Warninglist::new("strings", ListType::String);
    strings.push_entry("x");
    let mut hosts = Warninglist::new("hosts", ListType::Hostname);
    hosts.push_entry("example.com");
    let mut regexes = Warninglist::new("regexes", ListType::Regex);
    regexes.push_entry("/x+-end$/");
    let mut builder = MatcherBuilder::new();
    for list in [substrings, strings, hosts, regexes] {
        builder.add(list).expect("list");
    }
    let (matcher, problems) = builder.build().expect("matcher");
    assert!(problems.is_empty(), "{problems:?}");
    let hits = matcher.check(ty("text"), &huge);
    let names: Vec<&str> = hits.iter().map(|h| h.list_name).collect();
    assert_eq!(names, ["regexes", "substrings"]);
}

// ---------------------------------------------------------------------------
// One value shared by a million attributes.

const EVENTS: u64 = 1_000;
const PER_EVENT: u64 = 1_000;

fn one_value_engine(limit: Option<u32>) -> Engine {
    let mut builder = EngineBuilder::with_config(Config {
        limit,
        ..Config::default()
    });
    let events: Vec<String> = (0..EVENTS).map(|e| format!("event-{e}")).collect();
    for event in &events {
        builder
            .add_event(&EventInput::new(event.as_str()))
            .expect("event");
    }
    for (e, event) in events.iter().enumerate() {
        for n in 0..PER_EVENT {
            let id = e as u64 * PER_EVENT + n;
            builder
                .add(&AttributeInput::new(
                    Id::Num(id),
                    event.as_str(),
                    ty("ip-dst"),
                    "8.8.8.8",
                ))
                .expect("attribute");
        }
    }
    let built = builder.build().expect("build");
    assert!(built.rejected.is_empty());
    built.engine
}

#[test]
fn a_million_attributes_sharing_one_value() {
    let n = EVENTS * PER_EVENT;
    let mut engine = one_value_engine(Some(20));
    let summary = engine.summary();
    assert_eq!(summary.attributes, n);
    assert_eq!(summary.exact, 0, "the value is over the limit");
    assert_eq!(summary.over_correlating, 1);
    let over = engine.over_correlating();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0].key, "8.8.8.8");
    assert!(engine.is_over_correlating("8.8.8.8"));
    assert!(
        engine
            .correlations_of(Id::Num(0), None)
            .expect("known")
            .is_empty()
    );
    assert_eq!(
        engine
            .related_events(Id::Str("event-0"), None)
            .expect("known")
            .len(),
        0
    );

    // Incremental changes on the giant posting stay cheap and exact.
    engine
        .add_attribute(&AttributeInput::new(
            Id::Num(n),
            "event-0",
            ty("ip-src"),
            "8.8.8.8",
        ))
        .expect("add");
    engine.remove_attribute(Id::Num(n)).expect("remove");

    // Without a limit every cross-event pair counts, computed without
    // enumerating the 499.5 billion pairs.
    engine.set_limit(None);
    let pairs = n * (n - 1) / 2 - EVENTS * (PER_EVENT * (PER_EVENT - 1) / 2);
    assert_eq!(engine.summary().exact, pairs);
    assert!(!engine.is_over_correlating("8.8.8.8"));
    // Pair streams are lazy: taking a few costs a few.
    let first: Vec<_> = engine.correlations().take(3).collect();
    assert_eq!(first.len(), 3);
    for c in &first {
        assert_ne!(c.a().event(), c.b().event());
        assert_eq!(c.key(), "8.8.8.8");
    }
    // One attribute's correlations: every attribute of the other events.
    let of_one = engine.correlations_of(Id::Num(0), None).expect("known");
    assert_eq!(of_one.len() as u64, n - PER_EVENT);
    // Related events count pairs per key, not by enumerating them.
    let related = engine
        .related_events(Id::Str("event-0"), Some(&Viewer::site_admin()))
        .expect("known");
    assert_eq!(related.len() as u64, EVENTS - 1);
    assert!(
        related
            .iter()
            .all(|r| r.correlations == PER_EVENT * PER_EVENT)
    );
}

// ---------------------------------------------------------------------------
// Large and pathological warninglists.

#[test]
fn substring_list_of_100k_entries() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let entries: Vec<String> = (0..100_000)
        .map(|_| {
            let len = 10 + (rng.next() % 6) as usize;
            rng.word(len)
        })
        .collect();
    let mut list = Warninglist::new("many substrings", ListType::Substring);
    for e in &entries {
        list.push_entry(e);
    }
    let mut builder = MatcherBuilder::new();
    builder.add(list).expect("list");
    let (matcher, problems) = builder.build().expect("matcher");
    assert!(problems.is_empty());

    // Every entry is found inside a longer value; the model is a scan of the
    // list, which the matcher must agree with on values that contain none.
    for (i, e) in entries.iter().enumerate().step_by(97) {
        let value = format!("https://host.test/{}{e}{}", "-".repeat(i % 7), "?q=1");
        let hits = matcher.check(ty("url"), &value);
        assert_eq!(hits.len(), 1, "{value}");
        assert_eq!(hits[0].list_name, "many substrings");
    }
    // Upper-case letters and punctuation occur in no entry.
    for n in 0..1_000 {
        let value = format!("NO-MATCH-{n}-{}", "Z".repeat(n % 40));
        let expected = entries.iter().any(|e| value.contains(e.as_str()));
        assert!(!expected);
        assert!(matcher.check(ty("text"), &value).is_empty(), "{value}");
    }
}

#[test]
fn pathological_regex_entries_are_linear_or_refused() {
    let mut list = Warninglist::new("regexes", ListType::Regex);
    // Catastrophic backtracking in PCRE; linear in a finite automaton.
    list.push_entry("/(a+)+$/");
    list.push_entry("/(a|aa)*b/");
    list.push_entry("/(x+x+)+y/");
    // Compiles to far more states than any sane entry: refused by size.
    list.push_entry("/((((a{100}){100}){100}){100})/");
    list.push_entry("/^evil\\.example$/");
    let mut builder = MatcherBuilder::new();
    builder.add(list).expect("list");
    let (matcher, problems) = builder.build().expect("matcher");
    // The oversized entry is reported, with its list and text; the others stay.
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].list, "regexes");
    assert!(problems[0].entry.contains("a{100}"), "{problems:?}");
    assert!(matches!(problems[0].kind, ProblemKind::InvalidRegex(_)));

    let attack = format!("{}c", "a".repeat(100_000));
    assert!(matcher.check(ty("text"), &attack).is_empty());
    let xs = format!("{}z", "x".repeat(100_000));
    assert!(matcher.check(ty("text"), &xs).is_empty());
    assert_eq!(matcher.check(ty("text"), &"a".repeat(100_000)).len(), 1);
    assert_eq!(matcher.check(ty("domain"), "evil.example").len(), 1);
    // A batch of hostile values, checked in parallel, gives the same.
    let values = [attack.as_str(), xs.as_str(), "evil.example", "aaab"];
    let queries: Vec<Query<'_>> = values.iter().map(|v| Query::new(ty("text"), v)).collect();
    let batch = matcher.check_batch(&queries, ToIdsGate::Off);
    let counts: Vec<usize> = batch.iter().map(<[_]>::len).collect();
    assert_eq!(counts, [0, 0, 1, 1]);
}

#[test]
fn a_list_of_only_unusable_entries_is_kept_and_reported() {
    let mut list = Warninglist::new("broken", ListType::Cidr);
    list.push_entry("not a network");
    list.push_entry("300.1.2.3/8");
    let mut good = Warninglist::new("good", ListType::Cidr);
    good.push_entry("10.0.0.0/8");
    let mut builder = MatcherBuilder::new();
    builder.improvements(Improvements::MISP);
    builder.add(list).expect("broken list is still a list");
    builder.add(good).expect("list");
    let (matcher, problems) = builder.build().expect("matcher");
    assert_eq!(problems.len(), 2);
    assert!(problems.iter().all(|p| p.list == "broken"));
    assert!(matcher.list_id("broken").is_some());
    assert_eq!(matcher.check(ty("ip-dst"), "10.1.2.3").len(), 1);
}

// ---------------------------------------------------------------------------
// Concurrent readers during incremental updates.

/// The changes the writer applies, one per step.
fn step(engine: &mut Engine, n: u64) {
    let event = format!("event-{}", n % 8);
    match n % 5 {
        // Add an attribute sharing a value with others.
        0..=2 => engine
            .add_attribute(&AttributeInput::new(
                Id::Num(n),
                event.as_str(),
                ty("domain"),
                &format!("shared-{}.example", n % 6),
            ))
            .expect("add"),
        // Remove an earlier one (the id may be gone already).
        3 => {
            let _ = engine.remove_attribute(Id::Num(n / 2));
        }
        // Toggle correlation on an earlier attribute.
        _ => {
            let _ = engine.set_attribute_correlation(Id::Num(n / 3), n % 2 == 0);
        }
    }
}

fn fresh_engine() -> Engine {
    let mut engine = Engine::new(Config::default()).expect("engine");
    for e in 0..8 {
        engine
            .add_event(&EventInput::new(format!("event-{e}").as_str()))
            .expect("event");
    }
    engine
}

/// What a reader records of one state.
fn observe(engine: &Engine) -> (u64, u64, usize) {
    let summary = engine.summary();
    let of_zero = engine
        .correlations_of(Id::Num(0), None)
        .map(|c| c.len())
        .unwrap_or(usize::MAX);
    (summary.exact, summary.eligible, of_zero)
}

#[test]
fn concurrent_readers_see_whole_updates() {
    const STEPS: u64 = 400;
    // The expected observation after each step, from a sequential replay.
    let mut replay = fresh_engine();
    let mut expected = vec![observe(&replay)];
    for n in 0..STEPS {
        step(&mut replay, n);
        expected.push(observe(&replay));
    }

    let shared = Arc::new(RwLock::new((0u64, fresh_engine())));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let shared = Arc::clone(&shared);
            let expected = expected.clone();
            std::thread::spawn(move || {
                let mut seen = 0u64;
                let mut checks = 0u64;
                while seen < STEPS {
                    let guard = shared.read().expect("lock");
                    let (version, engine) = &*guard;
                    assert!(*version >= seen, "versions never go back");
                    seen = *version;
                    assert_eq!(
                        observe(engine),
                        expected[seen as usize],
                        "a reader saw a state no sequence of whole updates gives (version {seen})"
                    );
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    for n in 0..STEPS {
        let mut guard = shared.write().expect("lock");
        step(&mut guard.1, n);
        guard.0 = n + 1;
    }
    for r in readers {
        assert!(r.join().expect("reader") > 0);
    }
    let guard = shared.read().expect("lock");
    assert_eq!(observe(&guard.1), expected[STEPS as usize]);
}
