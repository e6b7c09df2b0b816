//! Hostile MISP JSON: every input is handled in bounded time and memory,
//! with a clear error (naming the file and the position) or a correct
//! result, and a bad file or event never loses the rest of a feed.

use std::fs;
use std::path::{Path, PathBuf};

use misp_core::json::{self, Inputs, LoadSummary, ParallelInputs};
use misp_core::{Error, Event};

/// A fresh empty directory under the target directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hostile-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn uuid(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

fn event_doc(uuid: &str, info: &str, value: &str) -> String {
    format!(
        r#"{{"Event": {{"uuid": "{uuid}", "info": "{info}", "Attribute": [{{"type": "domain", "value": "{value}"}}]}}}}"#
    )
}

/// Loads `paths` every way the crate offers and checks that they agree;
/// returns the items as the sequential reader gives them.
fn load_all_ways(paths: &[&Path]) -> Vec<Result<Event, Error>> {
    let show = |items: &[Result<Event, Error>]| -> Vec<String> {
        items.iter().map(|i| format!("{i:?}")).collect()
    };
    let sequential: Vec<_> = json::load(paths).collect();
    let parallel: Vec<_> = ParallelInputs::new(paths).collect();
    assert_eq!(show(&sequential), show(&parallel));
    // serde_json's reader and slice parsers may place a type error one
    // column apart: compare the streamed items without the column.
    let without_column = |items: &[Result<Event, Error>]| -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Err(Error::Json {
                    path,
                    line,
                    message,
                    ..
                }) => {
                    format!("{}:{line}: {message}", path.display())
                }
                other => format!("{other:?}"),
            })
            .collect()
    };
    let streamed: Vec<_> = Inputs::new(paths).in_memory_limit(0).collect();
    assert_eq!(without_column(&sequential), without_column(&streamed));
    let a = LoadSummary::from_paths(paths);
    let b = LoadSummary::from_paths_parallel(paths);
    assert_eq!(a.events(), b.events());
    assert_eq!(a.rejected(), b.rejected());
    assert_eq!(a.errors().len(), b.errors().len());
    sequential
}

fn json_error(item: &Result<Event, Error>) -> (&Path, usize, &str) {
    match item {
        Err(Error::Json {
            path,
            line,
            message,
            ..
        }) => (path.as_path(), *line, message.as_str()),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn a_ten_megabyte_value_is_read_whole() {
    let dir = temp_dir("big-value");
    let value = "a".repeat(10 << 20);
    let file = dir.join("big.json");
    fs::write(&file, event_doc(&uuid(1), "big", &value)).unwrap();
    let items = load_all_ways(&[&file]);
    assert_eq!(items.len(), 1);
    let event = items[0].as_ref().unwrap();
    assert_eq!(event.attributes[0].value.len(), 10 << 20);
    let summary = LoadSummary::from_paths_parallel([&file]);
    assert_eq!(summary.rejected().len(), 1, "MISP refuses such a domain");
}

/// `depth` nested lists: `[[[...]]]`.
fn brackets(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deep_nesting_as_a_whole_file_is_an_error() {
    let dir = temp_dir("deep-file");
    let file = dir.join("deep.json");
    fs::write(&file, brackets(100_000)).unwrap();
    let items = load_all_ways(&[&file]);
    assert_eq!(items.len(), 1);
    let (path, line, message) = json_error(&items[0]);
    assert_eq!(path, file);
    assert_eq!(line, 1);
    assert!(message.contains("recursion limit"), "{message}");
}

#[test]
fn deep_nesting_inside_an_event_is_skipped_or_an_error_for_that_file_only() {
    let dir = temp_dir("deep-event");
    // Where the reader skips a value (an unknown key of an event or of an
    // attribute), any depth is skipped without recursion: the event is
    // read correctly.
    let skipped = [
        format!(
            r#"{{"Event": {{"info": "a", "Galaxy": {}, "Attribute": [{{"type": "domain", "value": "a.example"}}]}}}}"#,
            brackets(100_000)
        ),
        format!(
            r#"{{"Event": {{"info": "b", "Attribute": [{{"type": "domain", "Sighting": {}, "value": "b.example"}}]}}}}"#,
            brackets(100_000)
        ),
    ];
    // Where it expects an attribute or an event, nesting is a type error
    // or past serde_json's recursion limit.
    let refused = [
        (
            format!(
                r#"{{"Event": {{"info": "c", "Attribute": {}}}}}"#,
                brackets(100_000)
            ),
            "expected an attribute object",
        ),
        (
            format!(
                r#"{{"response": {}{}}}"#,
                "[{\"response\": ".repeat(50_000),
                "}]".repeat(50_000)
            ),
            "recursion limit",
        ),
        (
            format!(
                r#"{{"Event": {{"info": "d", "Object": {}}}}}"#,
                brackets(100_000)
            ),
            "expected an object",
        ),
    ];
    for (n, text) in skipped.iter().enumerate() {
        fs::write(dir.join(format!("0{n}-skipped.json")), text).unwrap();
    }
    let mut refused_files = Vec::new();
    for (n, (text, _)) in refused.iter().enumerate() {
        let file = dir.join(format!("1{n}-refused.json"));
        fs::write(&file, text).unwrap();
        refused_files.push(file);
    }
    fs::write(
        dir.join("2-good.json"),
        event_doc(&uuid(9), "good", "good.example"),
    )
    .unwrap();
    let items = load_all_ways(&[&dir]);
    assert_eq!(items.len(), skipped.len() + refused.len() + 1, "{items:?}");
    let a = items[0].as_ref().unwrap();
    assert_eq!(
        (a.info.as_str(), a.attributes[0].value.as_str()),
        ("a", "a.example")
    );
    let b = items[1].as_ref().unwrap();
    assert_eq!(
        (b.info.as_str(), b.attributes[0].value.as_str()),
        ("b", "b.example")
    );
    for ((item, file), (_, expected)) in items[2..].iter().zip(&refused_files).zip(&refused) {
        let (path, line, message) = json_error(item);
        assert_eq!((path, line), (file.as_path(), 1));
        assert!(message.contains(expected), "{message}");
    }
    assert_eq!(items.last().unwrap().as_ref().unwrap().info, "good");
}

#[test]
fn invalid_utf8_in_a_value_or_a_key_is_an_error_with_its_position() {
    let dir = temp_dir("utf8");
    let value = dir.join("1-value.json");
    let mut text = event_doc(&uuid(1), "v", "bad-VALUE.example").into_bytes();
    let at = text.windows(5).position(|w| w == b"VALUE").unwrap();
    text[at] = 0xff;
    fs::write(&value, &text).unwrap();
    let key = dir.join("2-key.json");
    fs::write(
        &key,
        b"{\"Event\": {\"info\": \"k\",\n\"Attri\xc3\x28bute\": []}}".as_slice(),
    )
    .unwrap();
    let info = dir.join("3-info.json");
    fs::write(
        &info,
        b"{\"Event\": {\"info\": \"caf\xe9\", \"Attribute\": []}}".as_slice(),
    )
    .unwrap();
    let good = dir.join("4-good.json");
    fs::write(&good, event_doc(&uuid(4), "good", "good.example")).unwrap();

    let items = load_all_ways(&[&dir]);
    assert_eq!(items.len(), 4, "{items:?}");
    let (path, line, message) = json_error(&items[0]);
    assert_eq!((path, line), (value.as_path(), 1));
    assert!(message.contains("unicode"), "{message}");
    let (path, line, message) = json_error(&items[1]);
    assert_eq!((path, line), (key.as_path(), 2));
    assert!(message.contains("unicode"), "{message}");
    let (path, _, _) = json_error(&items[2]);
    assert_eq!(path, info);
    assert_eq!(items[3].as_ref().unwrap().info, "good");
}

#[test]
fn a_manifest_listing_missing_files_loads_the_others() {
    let dir = temp_dir("missing");
    let uuids: Vec<String> = (1..=5).map(uuid).collect();
    let manifest: Vec<String> = uuids.iter().map(|u| format!("\"{u}\": {{}}")).collect();
    fs::write(
        dir.join("manifest.json"),
        format!("{{{}}}", manifest.join(", ")),
    )
    .unwrap();
    for (n, u) in uuids.iter().enumerate() {
        if n % 2 == 0 {
            fs::write(
                dir.join(format!("{u}.json")),
                event_doc(u, &format!("event {n}"), "a.example"),
            )
            .unwrap();
        }
    }
    let items = load_all_ways(&[&dir]);
    assert_eq!(items.len(), 5);
    for (n, (item, u)) in items.iter().zip(&uuids).enumerate() {
        if n % 2 == 0 {
            assert_eq!(item.as_ref().unwrap().uuid, *u);
            continue;
        }
        match item {
            Err(error @ Error::Invalid { path, message }) => {
                assert_eq!(path, &dir.join(format!("{u}.json")));
                assert!(message.contains("missing"), "{message}");
                assert!(error.to_string().contains(&format!("{u}.json")));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_truncated_file_keeps_its_complete_events() {
    let dir = temp_dir("truncated");
    let events: Vec<String> = (1..=3)
        .map(|n| event_doc(&uuid(n), &format!("e{n}"), "a.example"))
        .collect();
    let whole = format!("{{\"response\": [{}]}}", events.join(",\n"));
    // Cut inside the third event.
    let cut = whole.len() - events[2].len() / 2;
    let file = dir.join("truncated.json");
    fs::write(&file, &whole[..cut]).unwrap();
    let items = load_all_ways(&[&file]);
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().info, "e1");
    assert_eq!(items[1].as_ref().unwrap().info, "e2");
    let (path, line, message) = json_error(&items[2]);
    assert_eq!((path, line), (file.as_path(), 3));
    assert!(message.contains("EOF"), "{message}");
    // Cut at every length: never a panic, always an error or events.
    for cut in 0..whole.len() {
        let items: Vec<_> = {
            let mut items = Vec::new();
            json::stream_slice(&whole.as_bytes()[..cut], Path::new("t.json"), |i| {
                items.push(i);
                std::ops::ControlFlow::Continue(())
            });
            items
        };
        assert!(items.last().unwrap().is_err(), "cut at {cut}");
    }
}

#[test]
fn a_million_attributes_sharing_one_value() {
    let dir = temp_dir("million");
    let attribute = r#"{"type": "ip-dst", "value": "192.0.2.1"}"#;
    let mut text = String::with_capacity(50 << 20);
    text.push_str(r#"{"Event": {"info": "same value", "Attribute": ["#);
    for n in 0..1_000_000 {
        if n > 0 {
            text.push(',');
        }
        text.push_str(attribute);
    }
    text.push_str("]}}");
    let file = dir.join("million.json");
    fs::write(&file, &text).unwrap();
    let events = json::read_file(&file).unwrap();
    assert_eq!(events[0].attributes.len(), 1_000_000);
    assert!(events[0].attributes.iter().all(|a| a.value == "192.0.2.1"));
    let summary = LoadSummary::from_paths_parallel([&file]);
    assert_eq!(summary.attributes(), 1_000_000);
    assert_eq!(summary.types()["ip-dst"], 1_000_000);
    assert!(summary.rejected().is_empty());
}
