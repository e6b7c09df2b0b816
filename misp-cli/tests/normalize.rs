//! `misp-correlate normalize` end to end: the built binary on a file and
//! on standard input.

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_misp-correlate");

const INPUT: &str = "ip-dst\t 2001:0DB8::0001 \r\n\
ip-dst|port\t[2001:db8::1]:443\n\
domain\tHÁČKYČÁRKY.CZ\n\
url\thxxps://example[.]com[:]8080/a\n\
ip-src\t010.1.2.3\n\
text\ta\tb\n\
no-such-type\tx\n\
just a line\n\
AS\tAS1.10";

const EXPECTED: &[&str] = &[
    r#"{"type":"ip-dst","value":" 2001:0DB8::0001 ","normalized":"2001:db8::1"}"#,
    r#"{"type":"ip-dst|port","value":"[2001:db8::1]:443","normalized":"2001:db8::1|443"}"#,
    r#"{"type":"domain","value":"HÁČKYČÁRKY.CZ","normalized":"xn--hkyrky-ptac70bc.cz"}"#,
    r#"{"type":"url","value":"hxxps://example[.]com[:]8080/a","normalized":"https://example.com:8080/a"}"#,
    r#"{"type":"ip-src","value":"010.1.2.3","error":"IP address has an invalid format."}"#,
    r#"{"type":"text","value":"a\tb","normalized":"a\tb"}"#,
    r#"{"type":"no-such-type","value":"x","error":"INPUT:7: unknown attribute type \"no-such-type\""}"#,
    r#"{"type":null,"value":"just a line","error":"INPUT:8: no TAB between type and value"}"#,
    r#"{"type":"AS","value":"AS1.10","normalized":"65546"}"#,
];

fn expected(input_name: &str) -> Vec<String> {
    EXPECTED
        .iter()
        .map(|l| l.replace("INPUT", input_name))
        .collect()
}

#[test]
fn normalizes_a_file() {
    let dir = std::env::temp_dir().join(format!("misp-normalize-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("values.tsv");
    std::fs::write(&path, INPUT.as_bytes()).expect("write input");

    let out = Command::new(BIN)
        .arg("normalize")
        .arg(&path)
        .output()
        .expect("run binary");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, expected(&path.display().to_string()));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn normalizes_stdin() {
    let mut child = Command::new(BIN)
        .args(["normalize", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run binary");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(INPUT.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected("<stdin>"));
}

#[test]
fn missing_file_is_an_error() {
    let out = Command::new(BIN)
        .args(["normalize", "/nonexistent/values.tsv"])
        .output()
        .expect("run binary");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/values.tsv"), "{stderr}");
}
