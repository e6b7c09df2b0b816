//! `misp-correlate check` on the committed warninglist sample
//! (`testdata/warninglists`).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn warninglists() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/warninglists")
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_misp-correlate"))
        .arg("check")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn misp-correlate");
    // Fed from another thread: the output of a large input fills the
    // pipe before the input is all written.
    let mut pipe = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || pipe.write_all(&stdin));
    let output = child.wait_with_output().expect("wait");
    feeder.join().expect("feeder").expect("write stdin");
    output
}

fn check(stdin: &str, improved: bool) -> (Vec<serde_json::Value>, String, Option<i32>) {
    let dir = warninglists();
    let dir = dir.to_str().expect("UTF-8 path");
    let mut args = vec!["--warninglists", dir];
    if improved {
        args.push("--improved");
    }
    let output = run(&args, stdin.as_bytes());
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (
        lines,
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code(),
    )
}

#[test]
fn one_object_per_line_in_order_exactly() {
    let input = "ip-dst\t10.1.2.3\n\
                 domain|ip\tfoo.example|192.168.1.1\n\
                 md5\td41d8cd98f00b204e9800998ecf8427e\n\
                 text\tnothing here\n\
                 email-src\tabuse@example.com\n\
                 url\thttps://mcafee.com/x\n\
                 domain\twww.bmw.de\n\
                 domain\tbmw.de.\n";
    let (lines, _, code) = check(input, false);
    assert_eq!(code, Some(0));
    let expected = [
        r#"{"type":"ip-dst","value":"10.1.2.3","hits":[
            {"list":"List of RFC 1918 CIDR blocks","list_type":"cidr","match":"10.0.0.0/8","value":"10.1.2.3"},
            {"list":"List of RFC 5735 CIDR blocks","list_type":"cidr","match":"10.0.0.0/8","value":"10.1.2.3"}]}"#,
        r#"{"type":"domain|ip","value":"foo.example|192.168.1.1","hits":[
            {"list":"List of RFC 1918 CIDR blocks","list_type":"cidr","match":"192.168.0.0/16","value":"192.168.1.1"},
            {"list":"List of RFC 5735 CIDR blocks","list_type":"cidr","match":"192.168.0.0/16","value":"192.168.1.1"}]}"#,
        r#"{"type":"md5","value":"d41d8cd98f00b204e9800998ecf8427e","hits":[
            {"list":"List of known hashes for empty files","list_type":"string",
             "match":"d41d8cd98f00b204e9800998ecf8427e","value":"d41d8cd98f00b204e9800998ecf8427e"}]}"#,
        r#"{"type":"text","value":"nothing here","hits":[]}"#,
        r#"{"type":"email-src","value":"abuse@example.com","hits":[
            {"list":"Common contact e-mail addresses","list_type":"regex",
             "match":"/^(security|noc|soc|abuse)\\@.*\\..*$/i","value":"abuse@example.com"}]}"#,
        r#"{"type":"url","value":"https://mcafee.com/x","hits":[
            {"list":"List of known domains used by automated malware analysis services & security vendors",
             "list_type":"substring","match":"mcafee.com","value":"https://mcafee.com/x"}]}"#,
        r#"{"type":"domain","value":"www.bmw.de","hits":[
            {"list":"List of known dax30 webpages","list_type":"hostname","match":"bmw.de","value":"www.bmw.de"}]}"#,
        r#"{"type":"domain","value":"bmw.de.","hits":[
            {"list":"List of known dax30 webpages","list_type":"hostname","match":"bmw.de","value":"bmw.de."}]}"#,
    ];
    let expected: Vec<serde_json::Value> = expected
        .iter()
        .map(|e| serde_json::from_str(e).expect("valid"))
        .collect();
    assert_eq!(lines, expected);
}

#[test]
fn output_is_compact_json_with_fields_in_contract_order() {
    let dir = warninglists();
    let output = run(
        &["--warninglists", dir.to_str().expect("UTF-8")],
        b"ip-dst\t10.0.0.1\n",
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert_eq!(
        stdout,
        "{\"type\":\"ip-dst\",\"value\":\"10.0.0.1\",\"hits\":[\
         {\"list\":\"List of RFC 1918 CIDR blocks\",\"list_type\":\"cidr\",\"match\":\"10.0.0.0/8\",\"value\":\"10.0.0.1\"},\
         {\"list\":\"List of RFC 5735 CIDR blocks\",\"list_type\":\"cidr\",\"match\":\"10.0.0.0/8\",\"value\":\"10.0.0.1\"}]}\n"
    );
}

#[test]
fn only_line_endings_are_removed() {
    let (lines, _, code) = check(
        "md5\td41d8cd98f00b204e9800998ecf8427e \r\nmd5\td41d8cd98f00b204e9800998ecf8427e\r\n",
        false,
    );
    assert_eq!(code, Some(0));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["value"], "d41d8cd98f00b204e9800998ecf8427e ");
    assert_eq!(
        lines[0]["hits"],
        serde_json::json!([]),
        "a trailing space is part of the value"
    );
    assert_eq!(lines[1]["value"], "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(lines[1]["hits"].as_array().map(Vec::len), Some(1));
}

#[test]
fn last_line_without_newline_and_tabs_in_values() {
    let (lines, _, _) = check("text\ta\tb\ndomain\tcom", false);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["value"], "a\tb");
    assert_eq!(lines[1]["type"], "domain");
    // `tlds` is upper-case: MISP never matches it.
    assert_eq!(lines[1]["hits"], serde_json::json!([]));
}

#[test]
fn improved_mode_fixes_the_dead_lists() {
    let input = "domain\tcom\nphone-number\t+611300975707\nurl\thttps://WWW.GOOGLE.AD:443/x\ndomain\tmail.google.ad\n";
    let (misp, _, _) = check(input, false);
    let (improved, stderr, code) = check(input, true);
    assert_eq!(code, Some(0));
    assert!(!stderr.contains("unknown modifier 'g'"), "{stderr}");
    let lists = |line: &serde_json::Value| -> Vec<String> {
        line["hits"].as_array().map_or(Vec::new(), |h| {
            h.iter().map(|h| h["list"].to_string()).collect()
        })
    };
    assert!(misp.iter().all(|l| lists(l).is_empty()), "{misp:?}");
    assert_eq!(lists(&improved[0]), ["\"TLDs as known by IANA\""]);
    assert_eq!(lists(&improved[1]), ["\"Unattributed phone number.\""]);
    // google's `.google.ad` string entry acts as a hostname entry, and the
    // URL's host is parsed and compared ignoring case.
    assert_eq!(lists(&improved[2]), ["\"List of known google domains\""]);
    assert_eq!(lists(&improved[3]), ["\"List of known google domains\""]);
    assert_eq!(improved[3]["hits"][0]["match"], "google.ad");
}

#[test]
fn unknown_type_names_see_only_all_type_lists() {
    // Every sample list names its types, so an unknown type gets nothing.
    let (lines, _, code) = check("ip-destination\t10.1.2.3\nIP-DST\t10.1.2.3\n", false);
    assert_eq!(code, Some(0));
    assert_eq!(lines[0]["hits"], serde_json::json!([]));
    assert_eq!(
        lines[1]["hits"],
        serde_json::json!([]),
        "type names are case-sensitive, as in MISP"
    );
}

#[test]
fn malformed_lines_are_reported_and_keep_their_place() {
    let mut input = b"no tab\nip-dst\t10.0.0.1\nip-dst\t10.0.0.\xff\n".to_vec();
    input.extend_from_slice(b"md5\td41d8cd98f00b204e9800998ecf8427e\n");
    let dir = warninglists();
    let output = run(&["--warninglists", dir.to_str().expect("UTF-8")], &input);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("<stdin>:1: no TAB between type and value"),
        "{stderr}"
    );
    assert!(stderr.contains("<stdin>:3: not UTF-8"), "{stderr}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["value"], "no tab");
    assert_eq!(lines[0]["error"], "no TAB between type and value");
    assert_eq!(lines[1]["hits"].as_array().map(Vec::len), Some(2));
    assert_eq!(lines[2]["hits"], serde_json::json!([]));
    assert_eq!(lines[3]["hits"].as_array().map(Vec::len), Some(1));
}

#[test]
fn reads_a_file_argument() {
    let path = std::env::temp_dir().join(format!("misp-check-input-{}.tsv", std::process::id()));
    std::fs::write(&path, "ip-dst\t2001:db8::1\n").expect("write input");
    let dir = warninglists();
    let output = run(
        &[
            "--warninglists",
            dir.to_str().expect("UTF-8"),
            path.to_str().expect("UTF-8"),
        ],
        b"",
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let line: serde_json::Value = serde_json::from_str(stdout.trim_end()).expect("JSON");
    assert_eq!(line["hits"][0]["match"], "2001:db8::/32");
}

#[test]
fn loader_problems_are_warnings() {
    let dir = warninglists();
    let output = run(&["--warninglists", dir.to_str().expect("UTF-8"), "-v"], b"");
    let (stderr, code) = (
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code(),
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        stderr.matches("unknown modifier 'g'").count(),
        33,
        "{stderr}"
    );
    assert!(stderr.contains("phone_numbers/list.json"), "{stderr}");
}

#[test]
fn missing_warninglists_is_fatal() {
    let output = run(&["--warninglists", "/nonexistent/warninglists"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/warninglists"));
}

#[test]
fn unusable_entries_are_summed_up_unless_verbose() {
    let dir = warninglists();
    let dir = dir.to_str().expect("UTF-8");
    let input = b"ip-dst\t10.0.0.1\n";

    let output = run(&["--warninglists", dir], input);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        warnings,
        ["misp-correlate: warning: 33 list entries can never match \
             (\"Unattributed phone number.\" 33); --verbose lists them"],
        "{stderr}"
    );

    let output = run(&["--warninglists", dir, "--verbose"], input);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(warnings.len(), 33, "{stderr}");
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("list \"Unattributed phone number.\"")
                && w.contains("unknown modifier 'g'")),
        "{stderr}"
    );
    // Both print the same results.
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
}

#[test]
fn many_lines_come_out_in_input_order_with_their_own_hits() {
    // More lines than one block (16,384), in pieces checked on several
    // threads: every output object must be its own line's.
    let mut input = String::new();
    for i in 0..40_000u32 {
        match i % 5 {
            0 => input.push_str(&format!("ip-dst\t10.{}.{}.1\n", i % 256, i / 256 % 256)),
            1 => input.push_str(&format!("ip-dst\t84.{}.{}.7\n", i % 256, i / 256 % 256)),
            2 => input.push_str(&format!("domain\tsite{i}.bmw.de\n")),
            3 => input.push_str(&format!("domain\tsite{i}.example.org\n")),
            _ => input.push_str(&format!("line {i} without a tab\n")),
        }
    }
    let (lines, _, code) = check(&input, false);
    assert_eq!(code, Some(1), "malformed lines make the status 1");
    assert_eq!(lines.len(), 40_000);
    for (i, (line, object)) in input.lines().zip(&lines).enumerate() {
        let value = line.split_once('\t').map_or(line, |(_, v)| v);
        assert_eq!(object["value"], value, "line {i}");
        let lists: Vec<&str> = object["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter_map(|h| h["list"].as_str())
            .collect();
        let expected: &[&str] = match i % 5 {
            0 => &[
                "List of RFC 1918 CIDR blocks",
                "List of RFC 5735 CIDR blocks",
            ],
            2 => &["List of known dax30 webpages"],
            _ => &[],
        };
        assert_eq!(lists, expected, "line {i}: {line}");
        assert_eq!(object.get("error").is_some(), i % 5 == 4, "line {i}");
    }
}
