//! `misp-correlate correlate` end to end, on `testdata/`.
//!
//! The samples in `testdata/events/correlation/` are described (with the
//! correlations they must give) in that directory's README.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("testdata")
        .join(rel)
}

/// A scratch directory of this test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("misp-cli-correlate-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Run {
    status: i32,
    stdout: String,
    pairs: Vec<Value>,
    report: Value,
}

fn run(name: &str, args: &[&str], inputs: &[PathBuf]) -> Run {
    let dir = scratch(name);
    let (pairs, report) = (dir.join("pairs.jsonl"), dir.join("report.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_misp-correlate"))
        .arg("correlate")
        .args(args)
        .arg("--pairs")
        .arg(&pairs)
        .arg("--report")
        .arg(&report)
        .args(inputs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.is_empty() || out.status.code() != Some(0),
        "unexpected stderr: {stderr}"
    );
    let pairs_text = std::fs::read_to_string(&pairs).unwrap();
    let pairs = pairs_text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let report = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        pairs,
        report,
    }
}

fn samples() -> Vec<PathBuf> {
    vec![testdata("events/correlation")]
}

const E1: &str = "11111111-1111-4111-8111-111111111111";
const E2: &str = "22222222-2222-4222-8222-222222222222";
const E3: &str = "33333333-3333-4333-8333-333333333333";

/// (kind, key, a attribute, b attribute) of every pair line, checking the
/// line's shape on the way.
fn pair_set(pairs: &[Value]) -> BTreeSet<(String, String, String, String)> {
    pairs
        .iter()
        .map(|p| {
            let (a, b) = (
                p["a"]["attribute"].as_str().unwrap(),
                p["b"]["attribute"].as_str().unwrap(),
            );
            assert!(a < b, "sides ordered by attribute: {p}");
            assert!(p["a"]["event"].is_string() && p["b"]["event"].is_string());
            assert_ne!(p["a"]["event"], p["b"]["event"]);
            let kind = p["kind"].as_str().unwrap().to_owned();
            assert_eq!(p.get("score").is_some(), kind == "ssdeep");
            (
                kind,
                p["key"].as_str().unwrap().to_owned(),
                a.to_owned(),
                b.to_owned(),
            )
        })
        .collect()
}

fn attr(prefix: &str, n: u32) -> String {
    format!("{prefix}000000-0000-4000-8000-{n:012}")
}

#[test]
fn defaults_exact_and_composite() {
    let r = run("defaults", &[], &samples());
    assert_eq!(r.status, 0);
    let set = pair_set(&r.pairs);
    assert_eq!(set.len(), 16);
    for want in [
        (
            "exact",
            "d41d8cd98f00b204e9800998ecf8427e",
            attr("a1", 2),
            attr("b2", 1),
        ),
        ("exact", "invoice.exe", attr("a1", 2), attr("b2", 7)),
        ("exact", "10.1.2.3", attr("a1", 1), attr("b2", 2)),
        ("exact", "evil.example.com", attr("a1", 3), attr("b2", 5)),
        ("exact", "excluded-value", attr("a1", 4), attr("b2", 4)),
        ("exact", "0", attr("d4", 2), attr("e5", 2)),
    ] {
        let want = (want.0.to_owned(), want.1.to_owned(), want.2, want.3);
        assert!(set.contains(&want), "missing {want:?}");
    }
    assert_eq!(
        set.iter().filter(|p| p.1 == "shared.example.org").count(),
        10
    );
    assert!(
        set.iter().all(|p| p.0 == "exact"),
        "no CIDR without --advanced"
    );
    // The report.
    let rep = &r.report;
    assert_eq!(rep["events"], 5);
    assert_eq!(rep["attributes"], 22);
    assert_eq!(rep["eligible"], 19);
    assert_eq!(rep["correlations"], 16);
    assert_eq!(rep["over_correlating"].as_array().unwrap().len(), 0);
    assert_eq!(rep["top_keys"][0]["key"], "shared.example.org");
    assert_eq!(rep["top_keys"][0]["correlations"], 10);
    let rejected = rep["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["attribute"], attr("a1", 7).as_str());
    assert_eq!(rejected[0]["type"], "ip-dst");
    assert_eq!(rejected[0]["value"], "not-an-ip");
    assert_eq!(rejected[0]["event"], E1);
    assert!(
        rejected[1]["reason"]
            .as_str()
            .unwrap()
            .contains("no-such-type")
    );
    let errors = rep["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("truncated.json")
    );
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("line 2, column ") && !message.contains("truncated.json"),
        "the file is its own field: {message}"
    );
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("truncated.json"))
        .unwrap();
    assert_eq!(
        line.matches("truncated.json").count(),
        1,
        "the summary names the file once: {line}"
    );
    let related = rep["related_events"].as_object().unwrap();
    assert_eq!(related[E1].as_array().unwrap().len(), 4);
    assert!(related[E3].as_array().unwrap().iter().any(|e| e == E1));
    assert_eq!(related[E1][0], E2, "most related first");
    // The human summary.
    assert!(
        r.stdout
            .contains("correlations:  16 (exact 16, cidr 0, ssdeep 0)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("rejected:      2"));
}

#[test]
fn advanced_adds_cidr_both_ways() {
    let r = run("advanced", &["--advanced"], &samples());
    let set = pair_set(&r.pairs);
    let cidr: BTreeSet<_> = set.iter().filter(|p| p.0 == "cidr").cloned().collect();
    let want: BTreeSet<_> = [
        ("10.0.0.0/8", attr("a1", 1), attr("b2", 3)),
        ("10.0.0.0/8", attr("b2", 3), attr("c3", 3)),
        ("192.168.0.0/16", attr("a1", 6), attr("b2", 5)),
    ]
    .into_iter()
    .map(|(k, a, b)| ("cidr".to_owned(), k.to_owned(), a, b))
    .collect();
    assert_eq!(cidr, want);
    assert_eq!(r.report["correlations"], 19);
    assert_eq!(set.len(), 19);
}

#[test]
fn limit_and_exclusions() {
    let exclusions = testdata("events/correlation/exclusions.txt");
    let r = run(
        "limit",
        &["--limit", "3", "--exclusions", exclusions.to_str().unwrap()],
        &samples(),
    );
    let set = pair_set(&r.pairs);
    assert!(
        set.iter()
            .all(|p| p.1 != "shared.example.org" && p.1 != "excluded-value")
    );
    assert_eq!(set.len(), 16 - 10 - 1);
    assert_eq!(r.report["correlations"], 5);
    let over = r.report["over_correlating"].as_array().unwrap();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0]["key"], "shared.example.org");
    assert_eq!(over[0]["count"], 5);
    // Without a limit everything correlates again.
    let r = run("nolimit", &["--no-limit"], &samples());
    assert_eq!(r.report["correlations"], 16);
    assert_eq!(r.report["events"], 5);
}

#[test]
fn tweetfeed_sample() {
    let feed = testdata("feeds/tweetfeed-sample");
    let r = run("tweetfeed", &["--advanced"], std::slice::from_ref(&feed));
    assert_eq!(r.status, 0);
    let rep = &r.report;
    assert_eq!(rep["events"], 5);
    assert_eq!(rep["attributes"], 202);
    assert_eq!(rep["errors"].as_array().unwrap().len(), 0);
    assert_eq!(rep["rejected"].as_array().unwrap().len(), 0);
    assert_eq!(rep["eligible"], 202);
    // The five days share no value.
    assert_eq!(rep["correlations"], 0);

    // An event of our own repeating three of the feed's values (one in
    // upper case) correlates with exactly those three.
    let day = "d6948623-f72e-58e1-9635-a7186459bcf8";
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(feed.join(format!("{day}.json"))).unwrap())
            .unwrap();
    let attrs = doc["Event"]["Attribute"].as_array().unwrap();
    let pick = |t: &str| {
        attrs
            .iter()
            .find(|a| a["type"] == t)
            .unwrap_or_else(|| panic!("a {t} in {day}"))
    };
    let (domain, url, md5) = (pick("domain"), pick("url"), pick("md5"));
    let dir = scratch("overlap");
    let ours = serde_json::json!({"Event": {
        "uuid": "77777777-7777-4777-8777-777777777777",
        "info": "overlap with TweetFeed",
        "Attribute": [
            {"uuid": "f7000000-0000-4000-8000-000000000001", "type": "hostname", "value": domain["value"].as_str().unwrap().to_uppercase()},
            {"uuid": "f7000000-0000-4000-8000-000000000002", "type": "url", "value": url["value"]},
            {"uuid": "f7000000-0000-4000-8000-000000000003", "type": "filename|md5", "value": format!("x.bin|{}", md5["value"].as_str().unwrap())}
        ]
    }});
    std::fs::write(dir.join("overlap.json"), ours.to_string()).unwrap();
    let r = run("tweetfeed-overlap", &[], &[feed, dir.join("overlap.json")]);
    let _ = std::fs::remove_dir_all(&dir);
    let set = pair_set(&r.pairs);
    let ends: BTreeSet<(String, String)> = set.iter().map(|p| (p.2.clone(), p.3.clone())).collect();
    let want: BTreeSet<(String, String)> = [(domain, 1), (url, 2), (md5, 3)]
        .iter()
        .map(|(a, n)| {
            let theirs = a["uuid"].as_str().unwrap().to_owned();
            let mine = format!("f7000000-0000-4000-8000-{n:012}");
            if theirs < mine {
                (theirs, mine)
            } else {
                (mine, theirs)
            }
        })
        .collect();
    assert_eq!(ends, want);
    assert_eq!(r.report["correlations"], 3);
    let related = r.report["related_events"].as_object().unwrap();
    assert_eq!(
        related["77777777-7777-4777-8777-777777777777"],
        serde_json::json!([day])
    );
}

#[test]
fn usage_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_misp-correlate"))
        .args(["correlate", "--limit", "3", "--no-limit"])
        .arg(testdata("events/correlation"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "conflicting flags");
    let out = Command::new(env!("CARGO_BIN_EXE_misp-correlate"))
        .args(["correlate", "--exclusions", "/nonexistent/exclusions.txt"])
        .arg(testdata("events/correlation"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/exclusions.txt"));
    let dir = scratch("empty");
    let out = Command::new(env!("CARGO_BIN_EXE_misp-correlate"))
        .arg("correlate")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "no event read");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn warninglist_hits_per_attribute_and_event() {
    let dir = scratch("warninglists");
    let report_path = dir.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_misp-correlate"))
        .arg("correlate")
        .arg("--warninglists")
        .arg(testdata("warninglists"))
        .arg("--report")
        .arg(&report_path)
        .args(samples())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("warninglists:"), "{stdout}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    // e3-scan.json's ip-dst 10.9.9.9 lies in RFC 1918's 10.0.0.0/8.
    let event = &report["warninglists"]["33333333-3333-4333-8333-333333333333"];
    let flagged = event["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["attribute"] == "c3000000-0000-4000-8000-000000000003")
        .unwrap_or_else(|| panic!("10.9.9.9 not flagged: {event}"));
    assert_eq!(flagged["type"], "ip-dst");
    assert_eq!(flagged["value"], "10.9.9.9");
    let hits = flagged["hits"].as_array().unwrap();
    let rfc1918 = hits
        .iter()
        .find(|h| h["list"] == "List of RFC 1918 CIDR blocks")
        .unwrap();
    assert_eq!(rfc1918["list_type"], "cidr");
    assert_eq!(rfc1918["match"], "10.0.0.0/8");
    assert!(
        event["lists"]["List of RFC 1918 CIDR blocks"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // Without the option the report has no warninglist section.
    let plain = run("no-warninglists", &[], &samples());
    assert!(plain.report.get("warninglists").is_none());
}

#[test]
fn a_feed_with_missing_and_hostile_files_still_correlates_the_rest() {
    let feed = scratch("hostile-feed");
    let uuids: Vec<String> = (1..=6)
        .map(|n| format!("{n:08x}-0000-4000-8000-000000000000"))
        .collect();
    let manifest: Vec<String> = uuids.iter().map(|u| format!("\"{u}\": {{}}")).collect();
    std::fs::write(
        feed.join("manifest.json"),
        format!("{{{}}}", manifest.join(", ")),
    )
    .unwrap();
    let event = |u: &str| {
        format!(
            r#"{{"Event": {{"uuid": "{u}", "info": "e", "Attribute": [{{"type": "domain", "value": "shared.example"}}]}}}}"#
        )
    };
    // 1, 3 and 6 are good; 2 is missing; 4 nests past the recursion
    // limit; 5 is cut short.
    for n in [0, 2, 5] {
        std::fs::write(feed.join(format!("{}.json", uuids[n])), event(&uuids[n])).unwrap();
    }
    let deep = format!(
        r#"{{"response": {}{}}}"#,
        "[{\"response\": ".repeat(50_000),
        "}]".repeat(50_000)
    );
    std::fs::write(feed.join(format!("{}.json", uuids[3])), deep).unwrap();
    let cut = event(&uuids[4]);
    std::fs::write(
        feed.join(format!("{}.json", uuids[4])),
        &cut[..cut.len() / 2],
    )
    .unwrap();

    let r = run("hostile-feed-run", &[], std::slice::from_ref(&feed));
    assert_eq!(r.status, 0);
    assert_eq!(r.report["events"], 3);
    assert_eq!(r.report["correlations"], 3, "three events share a value");
    let errors = r.report["errors"].as_array().unwrap();
    let files: Vec<String> = errors
        .iter()
        .map(|e| e["file"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = [1, 3, 4]
        .iter()
        .map(|&n| {
            feed.join(format!("{}.json", uuids[n]))
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(files, expected, "each bad entry named, in manifest order");
    let messages: Vec<&str> = errors
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(messages[0].contains("file is missing"), "{}", messages[0]);
    assert!(messages[1].contains("recursion limit"), "{}", messages[1]);
    assert!(messages[2].contains("EOF"), "{}", messages[2]);
    let _ = std::fs::remove_dir_all(&feed);
}
