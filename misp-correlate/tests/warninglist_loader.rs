//! Loading lists from disk: bad entries are reported and never stop a
//! list; bad files are errors naming the file and never stop the others.

mod warninglist_support;

use std::fs;
use std::path::{Path, PathBuf};

use misp_core::AttributeType;
use misp_correlate::Error;
use misp_correlate::warninglist::{self, Improvements, ListType, ProblemKind, Query, ToIdsGate};
use warninglist_support::testdata_warninglists;

/// A fresh directory tree of list files, removed on drop.
struct Tree(PathBuf);

impl Tree {
    fn new(name: &str) -> Tree {
        let dir = std::env::temp_dir().join(format!("misp-wl-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        Tree(dir)
    }

    fn list(&self, slug: &str, json: &str) -> PathBuf {
        let dir = self.0.join("lists").join(slug);
        fs::create_dir_all(&dir).expect("create list dir");
        let path = dir.join("list.json");
        fs::write(&path, json).expect("write list");
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn ty(name: &str) -> AttributeType {
    AttributeType::from_name(name).expect("known type")
}

fn error_path(error: &Error) -> Option<&Path> {
    match error {
        Error::Warninglist { path, .. } | Error::Io { path, .. } => Some(path),
        _ => None,
    }
}

#[test]
fn bad_entries_are_reported_and_the_rest_still_match() {
    let tree = Tree::new("entries");
    let cidr = tree.list(
        "cidr",
        r#"{"name": "C", "type": "cidr", "matching_attributes": ["ip-dst"],
            "list": ["10.0.0.0/8", "300.1.1.1", "10.0.0.5/8", "1.2.3.0/24", "2001:db8::/129", "not an ip"]}"#,
    );
    let regex = tree.list(
        "regex",
        r##"{"name": "R", "type": "regex", "list": ["/(?<=a)b/", "/abc/g", "^x$", "/ok/", "/(unclosed/", "#OK2#i"]}"##,
    );
    tree.list(
        "host",
        r#"{"name": "H", "type": "hostname", "list": ["...", ".example.com"]}"#,
    );
    let loaded = warninglist::load(tree.path(), Improvements::MISP).expect("load");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);

    let problems: Vec<(String, String, String)> = loaded
        .problems
        .iter()
        .map(|p| {
            let file = p
                .file
                .as_ref()
                .expect("file")
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (
                p.list.clone(),
                p.entry.clone(),
                format!("{file}: {}", p.kind),
            )
        })
        .collect();
    let entries: Vec<(&str, &str)> = problems
        .iter()
        .map(|(l, e, _)| (l.as_str(), e.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            ("C", "300.1.1.1"),
            ("C", "10.0.0.5/8"),
            ("C", "2001:db8::/129"),
            ("C", "not an ip"),
            ("H", "..."),
            ("R", "/(?<=a)b/"),
            ("R", "/abc/g"),
            ("R", "^x$"),
            ("R", "/(unclosed/"),
        ]
    );
    for problem in &loaded.problems {
        let file = problem.file.as_deref().expect("file");
        match problem.list.as_str() {
            "C" => assert_eq!(file, cidr),
            "R" => assert_eq!(file, regex),
            _ => {}
        }
        let text = problem.to_string();
        assert!(text.contains(&format!("{:?}", problem.entry)), "{text}");
    }
    let kind = |entry: &str| {
        loaded
            .problems
            .iter()
            .find(|p| p.entry == entry)
            .map(|p| p.kind.clone())
    };
    assert!(
        matches!(kind("10.0.0.5/8"), Some(ProblemKind::InvalidCidr(why)) if why.contains("host bits"))
    );
    assert_eq!(
        kind("/abc/g"),
        Some(ProblemKind::InvalidRegex("unknown modifier 'g'".into()))
    );
    assert_eq!(
        kind("^x$"),
        Some(ProblemKind::InvalidRegex(
            "no ending delimiter '^' found".into()
        ))
    );
    assert!(
        matches!(kind("/(?<=a)b/"), Some(ProblemKind::InvalidRegex(why)) if why.starts_with("regex crate:"))
    );
    assert_eq!(kind("..."), Some(ProblemKind::EmptyHostname));

    let matcher = &loaded.matcher;
    let stats = matcher.stats();
    assert_eq!(stats.total, 14);
    assert_eq!(stats.unusable, 9);
    assert_eq!(stats.loaded, 5);
    let c = matcher
        .list(matcher.list_id("C").expect("C"))
        .expect("info");
    assert_eq!((c.stats().loaded, c.stats().unusable), (2, 4));

    // The usable entries still match.
    assert_eq!(matcher.check(ty("ip-dst"), "10.9.9.9").len(), 1);
    assert_eq!(matcher.check(ty("ip-dst"), "1.2.3.4").len(), 1);
    assert!(
        matcher
            .check(ty("ip-dst"), "10.0.0.5")
            .iter()
            .all(|h| h.matched.to_string() == "10.0.0.0/8")
    );
    let hits = matcher.check(ty("text"), "look, ok");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].matched.to_string(), "/ok/");
    assert_eq!(
        matcher.check(ty("text"), "Ok2")[0].matched.to_string(),
        "#OK2#i"
    );
    assert!(matcher.check(ty("text"), "abc").is_empty());
    assert_eq!(
        matcher.check(ty("domain"), "a.example.com")[0]
            .matched
            .to_string(),
        "example.com"
    );
}

#[test]
fn bad_files_are_errors_naming_them_and_the_rest_load() {
    let tree = Tree::new("files");
    tree.list("good", r#"{"name": "Good", "list": ["x"]}"#);
    let unknown = tree.list("unknown", r#"{"name": "U", "type": "regexp", "list": []}"#);
    let garbage = tree.list("garbage", "this is not JSON");
    let nameless = tree.list("nameless", r#"{"type": "string", "list": ["x"]}"#);
    let listless = tree.list("listless", r#"{"name": "L"}"#);
    let duplicate = tree.list("zz-duplicate", r#"{"name": "Good", "list": ["y"]}"#);
    fs::write(tree.path().join("schema.json"), "{}").expect("ignored file");

    let loaded = warninglist::load(tree.path(), Improvements::MISP).expect("load");
    let mut failed: Vec<&Path> = loaded.errors.iter().filter_map(error_path).collect();
    failed.sort();
    let mut expected = vec![
        unknown.as_path(),
        garbage.as_path(),
        nameless.as_path(),
        listless.as_path(),
        duplicate.as_path(),
    ];
    expected.sort();
    assert_eq!(failed, expected);
    let messages: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("unknown type \"regexp\"")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("already loaded")),
        "{messages:?}"
    );

    let matcher = &loaded.matcher;
    assert_eq!(matcher.list_count(), 1);
    let hits = matcher.check(ty("text"), "x");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].list_name, "Good");
    assert!(
        matcher.check(ty("text"), "y").is_empty(),
        "the duplicate was not loaded"
    );
}

#[test]
fn single_files_and_missing_paths() {
    let tree = Tree::new("single");
    let file = tree.list(
        "one",
        r#"{"name": "One", "type": "cidr", "list": ["192.0.2.0/24"]}"#,
    );
    let loaded = warninglist::load(&file, Improvements::MISP).expect("load");
    assert_eq!(loaded.matcher.list_count(), 1);
    assert_eq!(loaded.matcher.check(ty("ip-src"), "192.0.2.7").len(), 1);

    let missing = tree.path().join("nope");
    assert!(matches!(
        warninglist::load(&missing, Improvements::MISP),
        Err(Error::Io { .. })
    ));
    let empty = Tree::new("empty");
    let err = warninglist::load(empty.path(), Improvements::MISP).expect_err("no list.json");
    assert!(err.to_string().contains("no list.json"), "{err}");
}

#[test]
fn custom_shape_unknown_types_and_all() {
    let tree = Tree::new("custom");
    tree.list(
        "custom",
        r#"{"name": "Custom", "type": "string", "matching_attributes": ["no-such-type", "md5"],
            "list": {"abc": "a comment", "0": "dropped", "def": null}}"#,
    );
    tree.list(
        "all",
        r#"{"name": "All", "type": "substring", "matching_attributes": ["ALL"], "list": ["zz"]}"#,
    );
    let loaded = warninglist::load(tree.path(), Improvements::MISP).expect("load");
    assert!(loaded.errors.is_empty());
    assert_eq!(loaded.problems.len(), 1);
    assert_eq!(loaded.problems[0].kind, ProblemKind::UnknownAttributeType);
    assert_eq!(loaded.problems[0].entry, "no-such-type");
    assert!(
        loaded.problems[0]
            .to_string()
            .contains("matching attribute \"no-such-type\"")
    );

    let matcher = &loaded.matcher;
    let stats = matcher.stats();
    assert_eq!(
        (stats.total, stats.loaded, stats.dropped, stats.unusable),
        (4, 3, 1, 0)
    );
    let names = |q: Query<'_>| -> Vec<String> {
        matcher
            .check_query(q, ToIdsGate::Off)
            .iter()
            .map(|h| h.list_name.to_owned())
            .collect()
    };
    // The unknown name still gates, by exact comparison.
    assert_eq!(names(Query::new("no-such-type", "abc")), ["Custom"]);
    assert_eq!(names(Query::new(ty("md5"), "def")), ["Custom"]);
    assert!(names(Query::new(ty("sha1"), "abc")).is_empty());
    // "ALL" in matching_attributes applies to every type, known or not.
    assert_eq!(names(Query::new(ty("sha1"), "xzzx")), ["All"]);
    assert_eq!(names(Query::new("whatever", "xzzx")), ["All"]);
    assert_eq!(names(Query::new("no-such-type", "abczz")), ["All"]);
    let info = matcher
        .list(matcher.list_id("Custom").expect("id"))
        .expect("info");
    assert_eq!(info.list_type(), ListType::String);
    assert_eq!(info.matching_attributes(), ["no-such-type", "md5"]);
}

#[test]
fn the_committed_sample_loads_cleanly() {
    let loaded = warninglist::load(&testdata_warninglists(), Improvements::MISP).expect("load");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.matcher.list_count(), 14);
    assert_eq!(
        loaded.problems.len(),
        33,
        "only the /g phone-number patterns"
    );
    let stats = loaded.matcher.stats();
    assert_eq!(stats.loaded + stats.dropped + stats.unusable, stats.total);
    let types: std::collections::BTreeSet<ListType> =
        loaded.matcher.lists().map(|l| l.list_type()).collect();
    assert_eq!(types.len(), 5, "every list type is covered");
}
