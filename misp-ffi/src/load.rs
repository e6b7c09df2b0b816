//! Reading MISP JSON: what a document, file, directory or feed holds, and
//! which attributes MISP would refuse.

use std::collections::BTreeMap;
use std::ffi::c_char;
use std::ops::ControlFlow;
use std::path::Path;

use misp_core::json::{LoadSummary, RejectedAttribute};
use serde::Serialize;

use crate::error::misp_result;
use crate::handle::{self, Out, misp_str};
use crate::panic::guard;

/// The name of in-memory documents in messages.
pub(crate) const IN_MEMORY_SOURCE: &str = "<input>";

/// The JSON report, shaped like `misp-correlate load --json`.
#[derive(Serialize)]
struct Report<'a> {
    events: usize,
    attributes: usize,
    types: &'a BTreeMap<String, usize>,
    rejected: &'a [RejectedAttribute],
    errors: Vec<ReportError>,
}

/// An unreadable file or refused event in the report.
#[derive(Serialize)]
struct ReportError {
    file: String,
    message: String,
}

fn report(summary: &LoadSummary) -> Report<'_> {
    Report {
        events: summary.events(),
        attributes: summary.attributes(),
        types: summary.types(),
        rejected: summary.rejected(),
        errors: summary
            .errors()
            .iter()
            .map(|error| ReportError {
                file: error
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                message: error.to_string(),
            })
            .collect(),
    }
}

/// Reads the MISP JSON document of `json_len` bytes at `json` (UTF-8,
/// not NUL-terminated): `{"Event": …}`, `{"response": […]}`, a bare
/// event, or a list of these. Reports what it holds, as
/// `misp-correlate load --json` does.
///
/// `*out_json` receives a JSON object
/// `{"events": N, "attributes": N, "types": {type: count},
/// "rejected": [{"event", "attribute", "type", "value", "reason"}],
/// "errors": [{"file", "message"}]}`: `rejected` lists the attributes
/// MISP would refuse to save (unknown type, invalid value) with MISP's
/// reason, `errors` the events MISP would refuse and malformed JSON (with
/// line and column; the events before it are still counted). These are
/// part of the report, not failures of the call. The document is named
/// `<input>` in messages. The caller frees the string with
/// `misp_string_free`.
///
/// Ownership: `json` is borrowed for the call only.
///
/// Thread safety: safe from any number of threads at once.
///
/// # Errors
///
/// `MISP_ERR_NULL` if a pointer argument is NULL.
///
/// # Safety
///
/// `json` must be valid for reads of `json_len` bytes; `out_json` and
/// `out_len` valid for one write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_load_summary(
    json: *const c_char,
    json_len: usize,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (json, out_json, out_len) = unsafe {
            (
                handle::bytes_arg(json.cast(), json_len, "json")?,
                Out::new(out_json, "out_json")?,
                Out::new(out_len, "out_len")?,
            )
        };
        let mut summary = LoadSummary::new();
        misp_core::json::stream_slice(json, Path::new(IN_MEMORY_SOURCE), |item| {
            summary.add(item);
            ControlFlow::Continue(())
        });
        let (text, len) = handle::owned_json(&report(&summary))?;
        out_json.write(text);
        out_len.write(len);
        Ok(())
    })
}

/// Reads MISP feed directories (with `manifest.json`), directories of
/// event files (recursively, sorted by name) and event files, and reports
/// what they hold, as `misp_load_summary` does for one document.
///
/// Files are read in parallel. A file that cannot be read or parsed is
/// listed in `errors` with its path and does not stop the others; a path
/// that does not exist is such an error too.
///
/// Ownership: `paths` and the strings it points to are borrowed for the
/// call only. The caller frees `*out_json` with `misp_string_free`.
///
/// Thread safety: safe from any number of threads at once.
///
/// # Errors
///
/// `MISP_ERR_NULL` if a pointer argument (or a path's `data`) is NULL;
/// `MISP_ERR_UTF8` if a path is not UTF-8 (the message gives its index).
///
/// # Safety
///
/// `paths` must point to `paths_len` valid `misp_str` whose `data` is
/// valid for `len` bytes; `out_json` and `out_len` valid for one write
/// each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_load_summary_paths(
    paths: *const misp_str,
    paths_len: usize,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (paths, out_json, out_len) = unsafe {
            (
                handle::str_list_arg(paths, paths_len, "paths")?,
                Out::new(out_json, "out_json")?,
                Out::new(out_len, "out_len")?,
            )
        };
        let summary = LoadSummary::from_paths_parallel(paths);
        let (text, len) = handle::owned_json(&report(&summary))?;
        out_json.write(text);
        out_len.write(len);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::ptr;

    fn take_json(out: *mut c_char) -> serde_json::Value {
        // SAFETY: `out` is a NUL-terminated library string.
        let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
        // SAFETY: freed once.
        unsafe { crate::misp_string_free(out) };
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn summary_of_a_document_lists_rejections_and_errors() {
        let doc = br#"[{"Event": {"uuid": "5a4cb19a-f550-437f-bd29-48ed950d210f", "info": "x",
            "Attribute": [{"type": "ip-dst", "value": "192.0.2.1"}, {"type": "no-such-type", "value": "nope"}]}},
            {"Event": {"info": ""}}]"#;
        let mut out = ptr::null_mut();
        let mut len = 0;
        // SAFETY: valid pointers.
        let r = unsafe { misp_load_summary(doc.as_ptr().cast(), doc.len(), &mut out, &mut len) };
        assert_eq!(r, misp_result::MISP_OK);
        let v = take_json(out);
        assert_eq!(v["events"], 1);
        assert_eq!(v["attributes"], 2);
        assert_eq!(v["types"]["ip-dst"], 1);
        assert_eq!(v["rejected"][0]["value"], "nope");
        assert_eq!(
            v["rejected"][0]["attribute"],
            "5a4cb19a-f550-437f-bd29-48ed950d210f:1"
        );
        assert_eq!(v["errors"].as_array().unwrap().len(), 1);
        assert_eq!(v["errors"][0]["file"], "<input>");
    }

    #[test]
    fn summary_of_paths_reports_missing_files() {
        let feed = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/feeds/tweetfeed-sample"
        );
        let missing = "/nonexistent/misp-ffi-test.json";
        let paths = [misp_str::from(feed), misp_str::from(missing)];
        let mut out = ptr::null_mut();
        let mut len = 0;
        // SAFETY: valid pointers.
        let r = unsafe { misp_load_summary_paths(paths.as_ptr(), paths.len(), &mut out, &mut len) };
        assert_eq!(r, misp_result::MISP_OK);
        let v = take_json(out);
        assert_eq!(v["events"], 5);
        assert_eq!(v["attributes"], 202);
        assert_eq!(v["errors"][0]["file"], missing);
    }
}
