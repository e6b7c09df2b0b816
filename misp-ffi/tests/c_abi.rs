//! Builds `tests/c/test_misp.c` with the system C compiler against the
//! committed header and the library cargo just built, runs it, and checks
//! that every check in it passed.
//!
//! * `c_test_dynamic`: linked to `libmisp_correlate_ffi.so` (the cdylib).
//! * `c_test_static`: linked to `libmisp_correlate_ffi.a` (the staticlib).
//! * `c_test_sanitizers`: built with `-fsanitize=address,undefined`
//!   (skipped if the compiler cannot build with them).
//! * `c_test_valgrind`: the dynamic build under
//!   `valgrind --leak-check=full --error-exitcode=1` with every leak kind
//!   but "still reachable" counted as an error, and the suppressions of
//!   `tests/c/valgrind.supp` (rayon's pool threads, alive at exit).
//!   Skipped if valgrind is not installed, unless
//!   `MISP_FFI_REQUIRE_VALGRIND=1`.
//!
//! The compiler is `$CC`, or `cc`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Native libraries the Rust staticlib needs on Linux
/// (`cargo rustc -- --print native-static-libs`).
const NATIVE_STATIC_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

const C_FLAGS: &[&str] = &[
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Werror",
    "-g",
];

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn repo_root() -> PathBuf {
    crate_dir()
        .parent()
        .expect("misp-ffi sits in the workspace")
        .to_path_buf()
}

/// The directory holding the library cargo built for this test run.
///
/// `cargo test` builds the library's `cdylib` and `staticlib` next to the
/// test binary (`target/<profile>/deps/`); only `cargo build` copies them
/// up to `target/<profile>/`, so the copies there may be stale.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .expect("the test binary sits in target/<profile>/deps")
        .to_path_buf();
    assert!(
        dir.join("libmisp_correlate_ffi.so").exists()
            || dir.join("libmisp_correlate_ffi.a").exists(),
        "no libmisp_correlate_ffi in {}",
        dir.display()
    );
    dir
}

fn compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_owned())
}

fn out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Compiles the C test into `name` with the extra arguments `link`.
fn compile(name: &str, extra: &[&str], link: &[String]) -> Result<PathBuf, String> {
    compile_source("tests/c/test_misp.c", name, extra, link)
}

/// Compiles C file `source` (relative to the crate) into `name`.
fn compile_source(
    source: &str,
    name: &str,
    extra: &[&str],
    link: &[String],
) -> Result<PathBuf, String> {
    let exe = out_dir().join(name);
    let output = Command::new(compiler())
        .args(C_FLAGS)
        .args(extra)
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(crate_dir().join(source))
        .args(link)
        .arg("-o")
        .arg(&exe)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", compiler()))?;
    if !output.status.success() {
        return Err(format!(
            "compiling {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(exe)
}

fn dynamic_link_args() -> Vec<String> {
    let dir = library_dir();
    vec![
        format!("-L{}", dir.display()),
        "-lmisp_correlate_ffi".to_owned(),
        format!("-Wl,-rpath,{}", dir.display()),
    ]
}

/// Checks that a run of the C test passed every check.
fn assert_passed(what: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        failed.is_empty(),
        "{what}: failed checks:\n{}\n{stderr}",
        failed.join("\n")
    );
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("test_misp: "))
        .unwrap_or_else(|| panic!("{what}: no summary line\nstdout:\n{stdout}\nstderr:\n{stderr}"));
    assert!(summary.ends_with(" 0 failures"), "{what}: {summary}");
    let checks: usize = summary
        .trim_start_matches("test_misp: ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(checks > 20, "{what}: only {checks} checks ran");
    assert!(
        output.status.success(),
        "{what}: exit status {}\n{stderr}",
        output.status
    );
}

fn run(exe: &Path, wrapper: &[&str]) -> Output {
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    // cargo's LD_LIBRARY_PATH for tests lists target/<profile> (where a
    // stale copy of the library may sit) and takes precedence over the
    // executable's run path: point it at the fresh library only.
    command.env("LD_LIBRARY_PATH", library_dir());
    command.arg(repo_root()).output().expect("run the C test")
}

#[test]
fn c_test_dynamic() {
    let exe = compile("test_misp_dynamic", &[], &dynamic_link_args()).unwrap();
    assert_passed("dynamic", &run(&exe, &[]));
}

#[test]
fn c_test_static() {
    let mut link = vec![
        library_dir()
            .join("libmisp_correlate_ffi.a")
            .display()
            .to_string(),
    ];
    link.extend(NATIVE_STATIC_LIBS.iter().map(|s| (*s).to_owned()));
    let exe = compile("test_misp_static", &[], &link).unwrap();
    assert_passed("static", &run(&exe, &[]));
}

#[test]
fn c_test_sanitizers() {
    let flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"];
    if let Err(e) = sanitizers_work(&flags) {
        eprintln!("skipped: the C compiler cannot build with sanitizers: {e}");
        return;
    }
    let exe = compile("test_misp_asan", &flags, &dynamic_link_args()).unwrap();
    // A leak found by LeakSanitizer makes the exit status non-zero.
    let output = run(&exe, &[]);
    assert_passed("address/undefined sanitizers", &output);
}

/// Whether the compiler builds and runs a trivial program with `flags`.
fn sanitizers_work(flags: &[&str]) -> Result<(), String> {
    let source = out_dir().join("sanitizer_probe.c");
    std::fs::write(&source, "int main(void) { return 0; }\n").map_err(|e| e.to_string())?;
    let exe = out_dir().join("sanitizer_probe");
    let status = Command::new(compiler())
        .args(flags)
        .arg(&source)
        .arg("-o")
        .arg(&exe)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("compiling a trivial program failed ({status})"));
    }
    let status = Command::new(&exe).status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "a trivial sanitized program failed to run ({status})"
        ));
    }
    Ok(())
}

#[test]
fn c_test_valgrind() {
    let have_valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_valgrind {
        assert!(
            std::env::var_os("MISP_FFI_REQUIRE_VALGRIND").is_none(),
            "MISP_FFI_REQUIRE_VALGRIND is set but valgrind is not installed"
        );
        eprintln!("skipped: valgrind is not installed");
        return;
    }
    let exe = compile("test_misp_valgrind", &[], &dynamic_link_args()).unwrap();
    let suppressions = format!(
        "--suppressions={}",
        crate_dir().join("tests/c/valgrind.supp").display()
    );
    let output = run(
        &exe,
        &[
            "valgrind",
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--error-exitcode=1",
            &suppressions,
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("are definitely lost"),
        "valgrind found leaks:\n{stderr}"
    );
    assert!(
        !stderr.contains("Invalid read") && !stderr.contains("Invalid write"),
        "valgrind errors:\n{stderr}"
    );
    assert_passed("valgrind", &output);
}

/// The C example of the README (`tests/c/readme_example.c`, which
/// `tests/readme.rs` keeps identical to the README) compiles, runs from
/// the repository root and prints what the README says.
#[test]
fn c_readme_example() {
    let exe = compile_source(
        "tests/c/readme_example.c",
        "readme_example",
        &[],
        &dynamic_link_args(),
    )
    .unwrap();
    let output = Command::new(&exe)
        .current_dir(repo_root())
        .env("LD_LIBRARY_PATH", library_dir())
        .output()
        .expect("run the README example");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit status {}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("normalized: 10.1.2.3\n"), "{stdout}");
    assert!(stdout.contains(r#"hits: [{"list":"List of RFC 1918 CIDR blocks","list_type":"cidr","match":"10.0.0.0/8","value":"10.1.2.3"}]"#), "{stdout}");
    assert!(
        stdout.contains(r#""kind":"cidr","key":"10.0.0.0/8""#),
        "{stdout}"
    );
    assert!(
        !stdout.contains("0123456789abcdef0123456789abcdef"),
        "org-a must not see the md5 pair: {stdout}"
    );
    assert!(
        stderr.contains("expected error: MISP_ERR_INVALID: no attribute no-such-attribute"),
        "{stderr}"
    );
}
