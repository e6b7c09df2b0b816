//! Helpers shared by the warninglist integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

use misp_correlate::warninglist::{
    Hit, Improvements, ListType, Matcher, MatcherBuilder, Warninglist,
};

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The full misp-warninglists set: `$MISP_WARNINGLISTS`, else
/// `shared/data/misp-warninglists` next to the workspace root or one of
/// its ancestors (`../shared/data` in CI; worktrees sit deeper). Panics
/// when it is missing: these tests must not pass silently without data.
pub fn shared_warninglists() -> PathBuf {
    if let Some(path) = std::env::var_os("MISP_WARNINGLISTS") {
        return PathBuf::from(path);
    }
    let root = workspace_root();
    for dir in root.ancestors().skip(1) {
        let candidate = dir.join("shared/data/misp-warninglists");
        if candidate.join("lists").is_dir() {
            return candidate;
        }
    }
    panic!(
        "the misp-warninglists data set is missing: expected ../shared/data/misp-warninglists \
         relative to {} (or set MISP_WARNINGLISTS)",
        root.display()
    );
}

/// The small committed sample of real lists.
pub fn testdata_warninglists() -> PathBuf {
    workspace_root().join("testdata/warninglists")
}

/// One list of `list_type` with `entries`, applying to every type.
pub fn list(name: &str, list_type: ListType, entries: &[&str]) -> Warninglist {
    let mut list = Warninglist::new(name, list_type);
    for entry in entries {
        list.push_entry(entry);
    }
    list
}

/// A matcher over `lists`.
pub fn matcher(lists: Vec<Warninglist>, improvements: Improvements) -> Matcher {
    let mut builder = MatcherBuilder::new();
    builder.improvements(improvements);
    for list in lists {
        builder.add(list).expect("unique names");
    }
    builder.build().expect("build").0
}

/// `(list name, match, value part)` of each hit.
pub fn triples(hits: &[Hit<'_>]) -> Vec<(String, String, String)> {
    hits.iter()
        .map(|h| {
            (
                h.list_name.to_owned(),
                h.matched.to_string(),
                h.value.to_owned(),
            )
        })
        .collect()
}
