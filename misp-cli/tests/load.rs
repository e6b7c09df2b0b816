//! `misp-correlate load` on the samples in `testdata/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(relative)
}

fn load(args: &[&Path], json: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_misp-correlate"));
    command.arg("load");
    if json {
        command.arg("--json");
    }
    command.args(args).output().unwrap()
}

fn report(args: &[&Path]) -> (Value, Output) {
    let output = load(args, true);
    let report = serde_json::from_slice(&output.stdout).unwrap();
    (report, output)
}

#[test]
fn a_feed_as_json() {
    let (report, output) = report(&[&testdata("feeds/tweetfeed-sample")]);
    assert!(output.status.success());
    assert_eq!(report["events"], 5);
    assert_eq!(report["attributes"], 202);
    assert_eq!(report["types"]["url"], 86);
    assert_eq!(report["types"]["domain"], 74);
    assert_eq!(report["types"]["ip-dst"], 25);
    assert_eq!(report["types"]["sha256"], 9);
    assert_eq!(report["types"]["md5"], 8);
    assert!(report["rejected"].is_array());
    assert_eq!(report["errors"], Value::Array(vec![]));
}

#[test]
fn fixtures_with_refusals_still_succeed() {
    let dir = testdata("events/pymisp-fixtures");
    let (report, output) = report(&[&dir]);
    assert!(
        output.status.success(),
        "rejections and unreadable files do not fail the load"
    );
    assert_eq!(report["events"], 18);
    assert_eq!(report["attributes"], 331);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 8, "{errors:?}");
    let simple = errors
        .iter()
        .find(|e| e["file"].as_str().unwrap().ends_with("simple.json"))
        .unwrap();
    assert!(
        simple["message"]
            .as_str()
            .unwrap()
            .contains("no \"info\" field"),
        "{simple}"
    );
    assert!(
        !simple["message"].as_str().unwrap().contains("simple.json"),
        "the file is its own field"
    );
    for rejected in report["rejected"].as_array().unwrap() {
        for field in ["event", "attribute", "type", "value", "reason"] {
            assert!(rejected[field].is_string(), "{rejected}");
        }
    }
}

#[test]
fn several_inputs_add_up() {
    let (report, output) = report(&[
        &testdata("feeds/tweetfeed-sample"),
        &testdata("events/pymisp-fixtures/misp_event.json"),
    ]);
    assert!(output.status.success());
    assert_eq!(report["events"], 6);
    assert_eq!(report["attributes"], 204);
}

#[test]
fn a_malformed_file_is_reported_with_its_position() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-load-malformed");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"Event\": {\"info\": \"x\",\n\"Attribute\": [}}").unwrap();
    let (report, output) = report(&[&bad, &testdata("events/pymisp-fixtures/misp_event.json")]);
    assert!(output.status.success());
    assert_eq!(report["events"], 1);
    let error = &report["errors"][0];
    assert_eq!(error["file"], bad.display().to_string());
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("line 2, column "),
        "{error}"
    );
}

#[test]
fn nothing_readable_is_a_failure() {
    let missing = testdata("no/such/feed");
    let (report, output) = report(&[&missing]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(report["events"], 0);
    assert_eq!(report["errors"][0]["file"], missing.display().to_string());
}

#[test]
fn text_report() {
    let output = load(&[&testdata("feeds/tweetfeed-sample")], false);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("events:     5\n"), "{text}");
    assert!(text.contains("attributes: 202\n"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("url") && l.trim_end().ends_with("86")),
        "{text}"
    );
    assert!(text.contains("errors:     0\n"), "{text}");
}
