//! Snapshot files of any kind: what one holds.
//!
//! A snapshot is a built structure saved to one file and opened again by
//! memory-mapping it (see `misp_correlate::snapshot`). Each kind of handle
//! has its own pair of functions, named alike:
//! `misp_<thing>_save_snapshot(handle, path, path_len)` and
//! `misp_<thing>_open_snapshot(path, path_len, verify, &out_handle)`
//! (`misp_warninglists_*` and `misp_engine_*`). [`misp_snapshot_info`]
//! describes a file of any kind.

use std::ffi::c_char;
use std::path::Path;

use serde::Serialize;

use crate::error::misp_result;
use crate::handle::{self, Out};
use crate::panic::guard;

/// Describes the snapshot file at `path`, of any kind, after checking it
/// whole (header, format version, section table and the checksum of every
/// byte).
///
/// `*out_json` receives `{"kind": "warninglists"|"engine", "version": V,
/// "file_bytes": N, "counts": {NAME: N, …}, "sections": {NAME: BYTES,
/// …}}` (`counts` says what the snapshot holds: lists, keys, …). The
/// caller frees it with `misp_string_free`.
///
/// Ownership: `path` is borrowed for the call only.
///
/// Thread safety: safe from any number of threads at once.
///
/// # Errors
///
/// * `MISP_ERR_NULL`, `MISP_ERR_UTF8`: bad arguments.
/// * `MISP_ERR_IO`: `path` cannot be read.
/// * `MISP_ERR_SNAPSHOT`: not a snapshot of this format version, or
///   damaged.
///
/// # Safety
///
/// `path` must be valid for reads of `path_len` bytes; `out_json` and
/// `out_len` for one write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_snapshot_info(
    path: *const c_char,
    path_len: usize,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    #[derive(Serialize)]
    struct InfoRow {
        kind: &'static str,
        version: u32,
        file_bytes: u64,
        counts: serde_json::Map<String, serde_json::Value>,
        sections: serde_json::Map<String, serde_json::Value>,
    }
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (path, out_json, out_len) = unsafe {
            (
                handle::str_arg(path, path_len, "path")?,
                Out::new(out_json, "out_json")?,
                Out::new(out_len, "out_len")?,
            )
        };
        let info = misp_correlate::snapshot::info(Path::new(path))?;
        let row = InfoRow {
            kind: info.kind.as_str(),
            version: info.version,
            file_bytes: info.file_bytes,
            counts: info
                .counts
                .iter()
                .map(|(name, n)| ((*name).to_owned(), (*n).into()))
                .collect(),
            sections: info
                .sections
                .iter()
                .map(|(name, n)| (name.clone(), (*n).into()))
                .collect(),
        };
        let (text, len) = handle::owned_json(&row)?;
        out_json.write(text);
        out_len.write(len);
        Ok(())
    })
}
