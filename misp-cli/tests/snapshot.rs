//! `misp-correlate check --save-snapshot / --snapshot` and `snapshot info`
//! on the committed warninglist sample and the committed fixture.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_misp-correlate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn misp-correlate");
    // A command that fails before reading its input closes the pipe early.
    if let Err(e) = child.stdin.take().expect("stdin").write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    child.wait_with_output().expect("wait")
}

/// The path `wl.snap` in a fresh temporary directory, which is removed
/// with its files when this is dropped.
struct Scratch {
    _dir: tempfile::TempDir,
    file: PathBuf,
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.file
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.file
    }
}

fn temp(name: &str) -> Scratch {
    let dir = tempfile::Builder::new()
        .prefix(&format!("cli-snapshot-{name}-"))
        .tempdir()
        .expect("temp dir");
    let file = dir.path().join("wl.snap");
    Scratch { _dir: dir, file }
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

const INPUT: &str = "domain\twww.google.com\nip-dst\t8.8.8.8\nip-dst\t10.1.2.3\nurl\thttps://example.org/x\nmd5\td41d8cd98f00b204e9800998ecf8427e\ntext\tno tab here\nbroken line\n";

#[test]
fn snapshot_check_prints_what_directory_check_prints() {
    let lists = root().join("testdata/warninglists");
    let snap = temp("same");
    let saved = run(
        &[
            "check",
            "--warninglists",
            s(&lists),
            "--save-snapshot",
            s(&snap),
        ],
        b"",
    );
    assert_eq!(
        saved.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    assert!(saved.stdout.is_empty(), "no input file: nothing is checked");
    assert!(snap.exists());

    let from_dir = run(&["check", "--warninglists", s(&lists)], INPUT.as_bytes());
    let from_snap = run(&["check", "--snapshot", s(&snap)], INPUT.as_bytes());
    assert_eq!(from_snap.status.code(), from_dir.status.code());
    assert_eq!(
        from_dir.status.code(),
        Some(1),
        "the broken line sets status 1"
    );
    let out = String::from_utf8(from_snap.stdout).expect("UTF-8");
    assert_eq!(out, String::from_utf8(from_dir.stdout).expect("UTF-8"));
    assert_eq!(out.lines().count(), 7);
    assert!(out.contains("\"hits\":[{"), "some line hits a list: {out}");
}

#[test]
fn info_describes_the_fixture() {
    let fixture = root().join("testdata/snapshots/warninglists-v2.snap");
    let out = run(&["snapshot", "info", s(&fixture)], b"");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(text.contains("kind: warninglists"), "{text}");
    assert!(text.contains("format version: 2"), "{text}");
    assert!(text.contains("lists: 4"), "{text}");
    assert!(text.contains("hostname keys: 3"), "{text}");
}

#[test]
fn info_refuses_damaged_files_with_a_message() {
    let fixture =
        std::fs::read(root().join("testdata/snapshots/warninglists-v2.snap")).expect("fixture");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not a snapshot", b"hello, world".to_vec(), "not a snapshot"),
        (
            "truncated",
            fixture[..fixture.len() - 16].to_vec(),
            "truncated",
        ),
        (
            "newer",
            {
                let mut b = fixture.clone();
                b[8] = 9;
                b
            },
            "format version 9 is not supported",
        ),
        (
            "flipped",
            {
                let mut b = fixture.clone();
                let last = b.len() - 20;
                b[last] ^= 0xff;
                b
            },
            "checksum mismatch",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = temp(name);
        std::fs::write(&path, bytes).expect("write");
        let out = run(&["snapshot", "info", s(&path)], b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(
            stderr.contains(s(&path)),
            "{name}: the message names the file: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn check_refuses_a_bad_snapshot() {
    let path = temp("bad-check");
    std::fs::write(&path, b"MISPSNAP").expect("write");
    let out = run(&["check", "--snapshot", s(&path)], INPUT.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot open snapshot"), "{stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");
}

// ----- engine snapshots ------------------------------------------------------

/// `correlate INPUT --save-snapshot F` then `correlate --snapshot F`: the
/// same summary, pairs and report, byte for byte.
#[test]
fn correlate_from_a_snapshot_answers_as_from_the_inputs() {
    let events = root().join("testdata/events/correlation");
    let exclusions = events.join("exclusions.txt");
    for (name, extra) in [
        ("plain", vec![]),
        ("advanced", vec!["--advanced", "--limit", "3"]),
        ("excluded", vec!["--exclusions", s(&exclusions)]),
    ] {
        let scratch = temp(&format!("engine-{name}"));
        let dir = scratch.parent().expect("dir").to_path_buf();
        let snap = dir.join("engine.snap");
        let (p1, r1, p2, r2) = (
            dir.join("p1.jsonl"),
            dir.join("r1.json"),
            dir.join("p2.jsonl"),
            dir.join("r2.json"),
        );
        let mut args = vec![
            "correlate",
            s(&events),
            "--pairs",
            s(&p1),
            "--report",
            s(&r1),
            "--save-snapshot",
            s(&snap),
        ];
        args.extend(extra.iter().copied());
        let direct = run(&args, b"");
        assert_eq!(direct.status.code(), Some(0), "{name}: {direct:?}");
        let from_snap = run(
            &[
                "correlate",
                "--snapshot",
                s(&snap),
                "--pairs",
                s(&p2),
                "--report",
                s(&r2),
            ],
            b"",
        );
        assert_eq!(from_snap.status.code(), Some(0), "{name}: {from_snap:?}");
        assert_eq!(
            String::from_utf8_lossy(&from_snap.stdout),
            String::from_utf8_lossy(&direct.stdout),
            "{name}: summary"
        );
        let read = |p: &Path| std::fs::read(p).expect("output");
        assert!(!read(&p1).is_empty(), "{name}: no pairs");
        assert_eq!(read(&p2), read(&p1), "{name}: pairs");
        assert_eq!(read(&r2), read(&r1), "{name}: report");

        let info = run(&["snapshot", "info", s(&snap)], b"");
        assert_eq!(info.status.code(), Some(0));
        let text = String::from_utf8_lossy(&info.stdout);
        assert!(text.contains("kind: engine"), "{text}");
        assert!(text.contains("exact correlations:"), "{text}");
        assert!(text.contains("posting slots:"), "{text}");
    }
}

#[test]
fn engine_snapshot_damage_is_reported() {
    let fixture = std::fs::read(root().join("testdata/snapshots/engine-v3.snap")).expect("fixture");
    let mut newer = fixture.clone();
    newer[8] = 7;
    let mut flipped = fixture.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    for (name, bytes, expected) in [
        ("engine-newer", newer, "format version 7 is not supported"),
        (
            "engine-short",
            fixture[..fixture.len() / 3].to_vec(),
            "truncated",
        ),
        ("engine-flipped", flipped, "checksum mismatch"),
    ] {
        let path = temp(name);
        std::fs::write(&path, bytes).expect("write");
        let out = run(&["snapshot", "info", s(&path)], b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        if name != "engine-flipped" {
            let out = run(&["correlate", "--snapshot", s(&path)], b"");
            assert_eq!(out.status.code(), Some(2), "{name}");
            assert!(String::from_utf8_lossy(&out.stderr).contains(expected));
        }
    }
}
