//! The C ABI of the MISP correlation and warninglist engines.
//!
//! This crate is a thin translation layer: every function checks its C
//! arguments, calls `misp-core` or `misp-correlate`, and translates the
//! result back. It holds no logic of its own. The header
//! `include/misp_correlate.h` is generated from these sources by cbindgen
//! (`cbindgen.toml`); `tests/header.rs` fails when the committed header
//! is stale.
//!
//! # API conventions
//!
//! * **Names.** Every symbol is `misp_<thing>_<verb>`. Opaque types are
//!   created by a `_new`/`_load`/`_build` function and destroyed by the
//!   matching `_free`.
//! * **Results.** Every fallible function returns a [`misp_result`]
//!   (`MISP_OK` = 0). The numbers are stable and never reused. On failure
//!   a message naming the argument, file, line or value is kept per
//!   thread; read it with [`misp_last_error`].
//! * **Inputs** come first: handles as `const T *`, text as
//!   `(const char *ptr, size_t len)` UTF-8 that need not be
//!   NUL-terminated, documents as `(const uint8_t *ptr, size_t len)`.
//!   Inputs are borrowed for the duration of the call and copied if kept.
//! * **Outputs** come last, as out-pointers. They are written only on
//!   success: after an error they are untouched.
//! * **NULL.** Every pointer argument is checked; NULL gives
//!   `MISP_ERR_NULL`, never a crash, even with a length of 0. `_free(NULL)`
//!   is a no-op. Freeing twice is undefined behaviour, as in C.
//! * **Strings returned** by the library (JSON results, normalised values)
//!   are NUL-terminated, come with their length, and must be freed with
//!   [`misp_string_free`]. JSON never contains a raw NUL byte.
//! * **Panics** never cross the boundary: each function catches them and
//!   returns `MISP_ERR_PANIC` (or NULL / 0 where it cannot report errors).
//! * **Threads.** Handles may be used from several threads at once where
//!   the function's documentation says so; the last-error message is per
//!   thread.
//!
//! # Safety
//!
//! The exported functions are `unsafe extern "C"`: each states in a
//! `# Safety` section what the caller must guarantee (valid pointers of
//! the given length, live handles). All pointer casts are in the private
//! `handle` module, and every `unsafe` block carries a `// SAFETY:`
//! comment.

#![allow(non_camel_case_types)]
#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod batch;
mod correlation;
mod correlation_io;
mod error;
mod handle;
mod load;
mod normalize;
mod packed;
mod pairs;
mod panic;
mod snapshot;
mod string;
mod warninglist;

pub use batch::{
    misp_warninglists_batch, misp_warninglists_batch_finish, misp_warninglists_batch_free,
    misp_warninglists_batch_new, misp_warninglists_batch_push,
};
pub use correlation::{
    misp_engine, misp_engine_add_attribute, misp_engine_add_event, misp_engine_add_object,
    misp_engine_build_report, misp_engine_builder, misp_engine_builder_add_attribute,
    misp_engine_builder_add_event, misp_engine_builder_add_exclusion, misp_engine_builder_add_json,
    misp_engine_builder_add_object, misp_engine_builder_add_paths, misp_engine_builder_build,
    misp_engine_builder_free, misp_engine_builder_new, misp_engine_builder_set_acl,
    misp_engine_builder_set_advanced, misp_engine_builder_set_limit,
    misp_engine_builder_set_ssdeep_threshold, misp_engine_configure, misp_engine_correlations,
    misp_engine_correlations_of, misp_engine_free, misp_engine_new, misp_engine_open_snapshot,
    misp_engine_over_correlating, misp_engine_related_events, misp_engine_remove_attribute,
    misp_engine_remove_event, misp_engine_remove_object, misp_engine_save_snapshot,
    misp_engine_set_attribute_correlation, misp_engine_set_event_correlation,
    misp_engine_set_exclusion, misp_engine_summary, misp_engine_top_keys,
    misp_engine_update_attribute, misp_engine_update_event, misp_engine_update_object,
};
pub use correlation_io::{misp_id, misp_id_kind, misp_viewer};
pub use error::{misp_last_error, misp_last_error_len, misp_result, misp_result_name};
pub use handle::misp_str;
pub use load::{misp_load_summary, misp_load_summary_paths};
pub use normalize::misp_normalize;
pub use snapshot::misp_snapshot_info;
pub use string::{misp_string_free, misp_version};
pub use warninglist::{
    misp_warninglist_improvement, misp_warninglists, misp_warninglists_add_list,
    misp_warninglists_check, misp_warninglists_check_batch, misp_warninglists_check_batch_packed,
    misp_warninglists_free, misp_warninglists_load, misp_warninglists_open_snapshot,
    misp_warninglists_packed_concat, misp_warninglists_report, misp_warninglists_save_snapshot,
    misp_warninglists_set_enabled,
};

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}

    /// The values behind the handles documented as shareable between
    /// threads are `Send + Sync`; the builder may move between threads.
    #[test]
    fn handles_are_thread_safe() {
        assert_send_sync::<crate::warninglist::Warninglists>();
        assert_send_sync::<crate::correlation::EngineState>();
        assert_send_sync::<crate::correlation::Builder>();
        assert_send::<crate::batch::BackgroundBatch>();
    }
}
