//! The committed header `include/misp_correlate.h` is exactly what
//! cbindgen generates from the current sources and `cbindgen.toml`, and
//! its version macros agree with Cargo and with `misp_version()`.
//!
//! Set `MISP_FFI_BLESS=1` to rewrite the header instead of failing.

use std::ffi::CStr;
use std::path::Path;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let config = cbindgen::Config::from_file(crate_dir().join("cbindgen.toml"))
        .expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir())
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_is_up_to_date() {
    let path = crate_dir().join("include/misp_correlate.h");
    let generated = generate();
    if std::env::var_os("MISP_FFI_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write the header");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "{} is stale (first difference at line {}); regenerate it with \
             `MISP_FFI_BLESS=1 cargo test -p misp-ffi --test header` and commit it",
            path.display(),
            line + 1
        );
    }
}

#[test]
fn header_version_matches_cargo_and_the_library() {
    let header = std::fs::read_to_string(crate_dir().join("include/misp_correlate.h"))
        .expect("read the header");
    let define = |name: &str| -> String {
        let prefix = format!("#define {name} ");
        header
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{name} is not defined in the header"))
            .trim()
            .trim_matches('"')
            .to_owned()
    };
    let cargo = env!("CARGO_PKG_VERSION");
    assert_eq!(define("MISP_CORRELATE_VERSION"), cargo);
    let parts: Vec<&str> = cargo.split('.').collect();
    assert_eq!(define("MISP_CORRELATE_VERSION_MAJOR"), parts[0]);
    assert_eq!(define("MISP_CORRELATE_VERSION_MINOR"), parts[1]);
    assert_eq!(define("MISP_CORRELATE_VERSION_PATCH"), parts[2]);
    // SAFETY: misp_version returns a static NUL-terminated string.
    let runtime = unsafe { CStr::from_ptr(misp_correlate_ffi::misp_version()) };
    assert_eq!(runtime.to_str().unwrap(), cargo);
}
