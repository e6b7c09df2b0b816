//! Fuzz sequences of C-ABI calls (misp-ffi), as a C, Python or PHP caller
//! would make them, including wrong ones.
//!
//! The input is read as a program: each operation is one byte (its number
//! modulo the operation count) followed by its arguments, read from the
//! following bytes (small numbers as one byte, text as a length byte and
//! that many bytes, which may be invalid UTF-8). Operations create and free
//! engines, builders and warninglists; add, update and remove events,
//! objects and attributes (well-formed JSON around fuzzed values, or raw
//! fuzzed bytes); run every query; check values one by one and in packed
//! batches (with lengths that may not add up), and join packed results
//! (with themselves and with fuzzed bytes); save engines and
//! warninglists to snapshots and go on with the handles opened from them
//! (a damaged engine snapshot must be refused); and pass NULL handles,
//! NULL out-parameters and NULL strings.
//!
//! Invariants: nothing panics or crashes (the library catches panics, so
//! `MISP_ERR_PANIC` is a failure here); every result code is one of the
//! documented ones; a failure leaves a non-empty last-error message; a
//! success writes its out-parameters, and JSON results parse as JSON.
//!
//! Wiring (in `fuzz/Cargo.toml`): a `[[bin]]` named `ffi_sequence`, with
//! `misp-ffi` and `serde_json` as dependencies.

#![no_main]

use std::ffi::c_char;
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use misp_correlate_ffi::*;

const LISTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../misp-ffi/tests/data/warninglists"
);
const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../misp-ffi/tests/data/events");

/// Attribute types the programs pick from (by index), plus one MISP does
/// not know.
const TYPES: [&str; 12] = [
    "ip-src",
    "ip-dst",
    "domain",
    "hostname",
    "md5",
    "url",
    "domain|ip",
    "ssdeep",
    "email-src",
    "text",
    "ip-dst|port",
    "no-such-type",
];

/// The documented result codes.
const CODES: [misp_result; 12] = [
    misp_result::MISP_OK,
    misp_result::MISP_ERR_NULL,
    misp_result::MISP_ERR_UTF8,
    misp_result::MISP_ERR_INVALID,
    misp_result::MISP_ERR_IO,
    misp_result::MISP_ERR_JSON,
    misp_result::MISP_ERR_UNKNOWN_TYPE,
    misp_result::MISP_ERR_REJECTED,
    misp_result::MISP_ERR_WARNINGLIST,
    misp_result::MISP_ERR_POISONED,
    misp_result::MISP_ERR_SNAPSHOT,
    misp_result::MISP_ERR_PANIC,
];

/// The program being read.
struct Program<'a>(&'a [u8]);

impl<'a> Program<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A length byte and that many bytes (fewer at the end of the input).
    fn bytes(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte() % 48).min(self.0.len());
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        text
    }

    fn type_name(&mut self) -> &'static str {
        TYPES[usize::from(self.byte()) % TYPES.len()]
    }
}

/// Checks a result code against the documented set; a failure must leave
/// a message.
fn checked(r: misp_result) -> misp_result {
    assert!(CODES.contains(&r), "undocumented result {r:?}");
    assert_ne!(r, misp_result::MISP_ERR_PANIC, "a panic was caught");
    if r != misp_result::MISP_OK {
        let len = misp_last_error_len();
        assert!(len > 0, "{r:?} without a message");
    }
    r
}

/// Checks a call returning a library string, which must be written on
/// success (JSON when `json`), and frees it.
fn string_result(json: bool, call: impl FnOnce(*mut *mut c_char, *mut usize) -> misp_result) {
    if let Ok(bytes) = owned_result(call) {
        if json {
            assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
        }
    }
}

/// Checks a call returning a library string, which must be written on
/// success and only then: the string's bytes (the string freed), or the
/// call's code.
fn owned_result(
    call: impl FnOnce(*mut *mut c_char, *mut usize) -> misp_result,
) -> Result<Vec<u8>, misp_result> {
    let (mut out, mut len) = (ptr::null_mut(), usize::MAX);
    let r = checked(call(&mut out, &mut len));
    if r != misp_result::MISP_OK {
        assert!(out.is_null(), "out-parameter written on failure");
        return Err(r);
    }
    assert!(
        !out.is_null() && len != usize::MAX,
        "out-parameters not written"
    );
    // SAFETY: the library returned `len` bytes at `out`.
    let bytes = unsafe { std::slice::from_raw_parts(out.cast::<u8>(), len) }.to_vec();
    // SAFETY: freed once.
    unsafe { misp_string_free(out) };
    Ok(bytes)
}

/// The packed result of a background batch of `lists` fed the same part
/// (`strings`, `lens`, `count` as for `misp_warninglists_batch_push`)
/// twice, or the code it failed with.
///
/// # Safety
///
/// `lists` must be NULL or a live handle; `lens` NULL or valid for
/// `count` values.
unsafe fn pushed_twice(
    lists: *const misp_warninglists,
    strings: &[u8],
    lens: *const usize,
    count: usize,
) -> Result<Vec<u8>, misp_result> {
    let mut batch = ptr::null_mut();
    // SAFETY: per this function's contract; `batch` is valid for a write.
    let r = checked(unsafe { misp_warninglists_batch_new(lists, &mut batch) });
    if r != misp_result::MISP_OK {
        return Err(r);
    }
    for _ in 0..2 {
        // SAFETY: a live batch; `strings` and `lens` per the contract.
        let pushed = unsafe {
            misp_warninglists_batch_push(batch, strings.as_ptr().cast(), strings.len(), lens, count)
        };
        assert_eq!(checked(pushed), misp_result::MISP_OK, "push only copies");
    }
    // SAFETY: a live batch, freed once after it finished.
    unsafe {
        let finished = owned_result(|o, l| misp_warninglists_batch_finish(batch, o, l));
        misp_warninglists_batch_free(batch);
        finished
    }
}

/// `misp_warninglists_packed_concat` of `parts`.
///
/// # Safety
///
/// `out` and `out_len` must be valid for one write each.
unsafe fn concat(parts: &[&[u8]], out: *mut *mut c_char, out_len: *mut usize) -> misp_result {
    let pointers: Vec<*const c_char> = parts.iter().map(|p| p.as_ptr().cast()).collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    // SAFETY: `pointers` and `lens` describe `parts.len()` live slices;
    // `out` and `out_len` per this function's contract.
    unsafe {
        misp_warninglists_packed_concat(pointers.as_ptr(), lens.as_ptr(), parts.len(), out, out_len)
    }
}

/// A JSON string literal for fuzzed bytes (lossily decoded).
fn json_text(bytes: &[u8]) -> String {
    serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()).to_string()
}

/// An identity: a small number, or a string (maybe not UTF-8).
fn read_id(p: &mut Program<'_>) -> (misp_id, Vec<u8>) {
    let kind = p.byte();
    let text = match kind % 3 {
        0 => Vec::new(),
        _ => p.bytes().to_vec(),
    };
    let id = misp_id {
        // Kinds 0 (number), 1 (string), and an unknown one.
        kind: u32::from(kind % 3),
        num: u64::from(p.byte() % 8),
        str: ptr::null(),
        str_len: 0,
    };
    (id, text)
}

/// Points a string identity at its text (NULL text for an empty one, to
/// cover the NULL check).
fn finish_id(mut id: misp_id, text: &[u8]) -> misp_id {
    if id.kind != misp_id_kind::MISP_ID_NUM as u32 {
        id.str = if text.is_empty() {
            ptr::null()
        } else {
            text.as_ptr().cast()
        };
        id.str_len = text.len();
    }
    id
}

/// A snapshot of the test warninglists, written once per process; its
/// path.
fn lists_snapshot() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::temp_dir()
            .join(format!("ffi-sequence-lists-{}.snap", std::process::id()))
            .to_string_lossy()
            .into_owned();
        let mut lists = ptr::null_mut();
        // SAFETY: valid pointers; the handle is freed once.
        unsafe {
            let r = misp_warninglists_load(LISTS.as_ptr().cast(), LISTS.len(), 0, &mut lists);
            assert_eq!(r, misp_result::MISP_OK);
            let r = misp_warninglists_save_snapshot(lists, path.as_ptr().cast(), path.len());
            assert_eq!(r, misp_result::MISP_OK);
            misp_warninglists_free(lists);
        }
        path
    })
}

/// The handles of one program; all freed at the end.
struct Handles {
    engine: *mut misp_engine,
    builder: *mut misp_engine_builder,
    lists: *mut misp_warninglists,
}

impl Drop for Handles {
    fn drop(&mut self) {
        // SAFETY: each is NULL or live, freed once.
        unsafe {
            misp_engine_free(self.engine);
            misp_engine_builder_free(self.builder);
            misp_warninglists_free(self.lists);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut p = Program(data);
    let mut h = Handles {
        engine: ptr::null_mut(),
        builder: ptr::null_mut(),
        lists: ptr::null_mut(),
    };
    let mut steps = 0;
    while !p.0.is_empty() && steps < 64 {
        steps += 1;
        let op = p.byte() % 25;
        // SAFETY (whole match): every pointer passed is NULL, a live handle
        // of this program, or points into a live local of the right length.
        unsafe {
            match op {
                0 => {
                    let (limit, advanced, threshold, acl) = (
                        i64::from(p.byte() as i8),
                        p.flag(),
                        u32::from(p.byte()),
                        p.flag(),
                    );
                    let mut engine = ptr::null_mut();
                    if checked(misp_engine_new(
                        limit,
                        advanced,
                        threshold,
                        acl,
                        &mut engine,
                    )) == misp_result::MISP_OK
                    {
                        misp_engine_free(h.engine);
                        h.engine = engine;
                    }
                }
                1 | 2 => {
                    // Add (1) or update (2) an event, well-formed or raw.
                    let json = if p.flag() {
                        format!(
                            r#"{{"id": {}, "org": {}, "distribution": {}}}"#,
                            p.byte() % 8,
                            json_text(p.bytes()),
                            p.byte() % 6
                        )
                        .into_bytes()
                    } else {
                        p.bytes().to_vec()
                    };
                    let f = if op == 1 {
                        misp_engine_add_event
                    } else {
                        misp_engine_update_event
                    };
                    checked(f(h.engine, json.as_ptr().cast(), json.len()));
                }
                3 | 4 => {
                    // Add (3) or update (4) an attribute.
                    let json = if p.flag() {
                        format!(
                            r#"{{"id": {}, "event": {}, "type": "{}", "value": {}, "distribution": {}}}"#,
                            p.byte() % 16,
                            p.byte() % 8,
                            p.type_name(),
                            json_text(p.bytes()),
                            p.byte() % 6
                        )
                        .into_bytes()
                    } else {
                        p.bytes().to_vec()
                    };
                    let f = if op == 3 {
                        misp_engine_add_attribute
                    } else {
                        misp_engine_update_attribute
                    };
                    checked(f(h.engine, json.as_ptr().cast(), json.len()));
                }
                5 => {
                    let json = format!(r#"{{"id": {}, "event": {}}}"#, p.byte() % 8, p.byte() % 8);
                    checked(misp_engine_add_object(
                        h.engine,
                        json.as_ptr().cast(),
                        json.len(),
                    ));
                }
                6 => {
                    let (id, text) = read_id(&mut p);
                    let id = finish_id(id, &text);
                    let r = match p.byte() % 5 {
                        0 => misp_engine_remove_attribute(h.engine, &id),
                        1 => misp_engine_remove_event(h.engine, &id),
                        2 => misp_engine_remove_object(h.engine, &id),
                        3 => misp_engine_set_attribute_correlation(h.engine, &id, p.flag()),
                        _ => misp_engine_set_event_correlation(h.engine, &id, p.flag()),
                    };
                    checked(r);
                }
                7 | 8 => {
                    let (id, text) = read_id(&mut p);
                    let id = finish_id(id, &text);
                    let (org, org_text) = read_id(&mut p);
                    let org = finish_id(org, &org_text);
                    let groups = [u64::from(p.byte()), 1];
                    let viewer = misp_viewer {
                        org: if p.flag() { &org } else { ptr::null() },
                        sharing_groups: if p.flag() {
                            groups.as_ptr()
                        } else {
                            ptr::null()
                        },
                        sharing_groups_len: usize::from(p.byte() % 3),
                        site_admin: p.flag(),
                    };
                    let engine = h.engine;
                    match (op, p.byte() % 3) {
                        (7, 0) => string_result(true, |o, l| {
                            misp_engine_correlations_of(engine, &id, &viewer, o, l)
                        }),
                        (7, 1) => string_result(true, |o, l| {
                            misp_engine_related_events(engine, &id, &viewer, o, l)
                        }),
                        (7, _) => string_result(true, |o, l| {
                            misp_engine_correlations(engine, &viewer, o, l)
                        }),
                        (_, 0) => string_result(true, |o, l| misp_engine_summary(engine, o, l)),
                        (_, 1) => {
                            string_result(true, |o, l| misp_engine_over_correlating(engine, o, l))
                        }
                        _ => string_result(true, |o, l| {
                            misp_engine_top_keys(engine, usize::from(p.byte()), o, l)
                        }),
                    }
                }
                9 => {
                    let pattern = p.bytes();
                    let mut changed = false;
                    let out = if p.flag() {
                        &mut changed as *mut bool
                    } else {
                        ptr::null_mut()
                    };
                    checked(misp_engine_set_exclusion(
                        h.engine,
                        pattern.as_ptr().cast(),
                        pattern.len(),
                        p.flag(),
                        out,
                    ));
                }
                10 => {
                    checked(misp_engine_configure(
                        h.engine,
                        i64::from(p.byte() as i8),
                        p.flag(),
                        u32::from(p.byte()),
                        p.flag(),
                    ));
                }
                11 => {
                    let engine = h.engine;
                    string_result(true, |o, l| misp_engine_build_report(engine, o, l));
                }
                12 => {
                    // A builder: options, a fuzzed document or the test
                    // events, then build (or free).
                    misp_engine_builder_free(h.builder);
                    h.builder = ptr::null_mut();
                    checked(misp_engine_builder_new(&mut h.builder));
                    checked(misp_engine_builder_set_limit(
                        h.builder,
                        i64::from(p.byte() as i8),
                    ));
                    checked(misp_engine_builder_set_advanced(h.builder, p.flag()));
                    checked(misp_engine_builder_set_ssdeep_threshold(
                        h.builder,
                        u32::from(p.byte()),
                    ));
                    checked(misp_engine_builder_set_acl(h.builder, p.flag()));
                    let pattern = p.bytes();
                    checked(misp_engine_builder_add_exclusion(
                        h.builder,
                        pattern.as_ptr().cast(),
                        pattern.len(),
                    ));
                }
                13 => {
                    let document = p.bytes();
                    checked(misp_engine_builder_add_json(
                        h.builder,
                        document.as_ptr().cast(),
                        document.len(),
                    ));
                    if p.flag() {
                        let paths = [misp_str {
                            data: EVENTS.as_ptr().cast(),
                            len: EVENTS.len(),
                        }];
                        checked(misp_engine_builder_add_paths(h.builder, paths.as_ptr(), 1));
                    }
                    let json = format!(
                        r#"{{"id": {}, "event": {}, "type": "{}", "value": {}}}"#,
                        p.byte() % 16,
                        p.byte() % 8,
                        p.type_name(),
                        json_text(p.bytes())
                    );
                    checked(misp_engine_builder_add_attribute(
                        h.builder,
                        json.as_ptr().cast(),
                        json.len(),
                    ));
                }
                14 => {
                    // Build (consumes the builder, even on failure).
                    let mut engine = ptr::null_mut();
                    let builder = std::mem::replace(&mut h.builder, ptr::null_mut());
                    if checked(misp_engine_builder_build(builder, &mut engine))
                        == misp_result::MISP_OK
                    {
                        misp_engine_free(h.engine);
                        h.engine = engine;
                    }
                }
                15 => {
                    // Warninglists: compiled from the test lists (slow:
                    // one program in four), or opened from a snapshot of
                    // them made once per process (fast).
                    misp_warninglists_free(h.lists);
                    h.lists = ptr::null_mut();
                    let how = p.byte();
                    if how % 4 == 0 {
                        checked(misp_warninglists_load(
                            LISTS.as_ptr().cast(),
                            LISTS.len(),
                            u32::from(p.byte()),
                            &mut h.lists,
                        ));
                    } else {
                        let path = lists_snapshot();
                        checked(misp_warninglists_open_snapshot(
                            path.as_ptr().cast(),
                            path.len(),
                            how & 4 != 0,
                            &mut h.lists,
                        ));
                    }
                }
                16 => {
                    let (ty, value) = (p.bytes(), p.bytes());
                    let lists = h.lists;
                    string_result(true, |o, l| {
                        misp_warninglists_check(
                            lists,
                            ty.as_ptr().cast(),
                            ty.len(),
                            value.as_ptr().cast(),
                            value.len(),
                            o,
                            l,
                        )
                    });
                }
                17 => {
                    // A batch: lengths that usually add up (and may not).
                    let data = p.bytes();
                    let mut lens = Vec::new();
                    let mut rest = data.len();
                    for _ in 0..p.byte() % 8 {
                        let len = usize::from(p.byte()).min(rest);
                        lens.push(len);
                        rest -= len;
                    }
                    if p.flag() {
                        lens.push(rest);
                    }
                    let lists = h.lists;
                    let packed = p.flag();
                    // Or NUL-separated: `lens` NULL, its length the count.
                    let lens_ptr = if p.flag() { ptr::null() } else { lens.as_ptr() };
                    if !packed {
                        string_result(true, |o, l| {
                            misp_warninglists_check_batch(
                                lists,
                                data.as_ptr().cast(),
                                data.len(),
                                lens_ptr,
                                lens.len(),
                                o,
                                l,
                            )
                        });
                        continue;
                    }
                    let one = owned_result(|o, l| {
                        misp_warninglists_check_batch_packed(
                            lists,
                            data.as_ptr().cast(),
                            data.len(),
                            lens_ptr,
                            lens.len(),
                            o,
                            l,
                        )
                    });
                    // The same input pushed twice to a background batch
                    // finishes into the result joined with itself, or fails
                    // as the one call did.
                    let twice = pushed_twice(lists, data, lens_ptr, lens.len());
                    match one {
                        Err(r) => assert_eq!(twice, Err(r), "a batch fails as the one call"),
                        Ok(result) => {
                            let doubled = owned_result(|o, l| concat(&[&result, &result], o, l));
                            assert_eq!(twice, doubled, "a batch of two parts is their join");
                            // A packed result joins into itself, and joined
                            // with fuzzed bytes gives a documented code.
                            let joined = owned_result(|o, l| concat(&[&result], o, l));
                            assert_eq!(
                                joined.as_ref(),
                                Ok(&result),
                                "a packed result joins into itself"
                            );
                            let junk = p.bytes();
                            string_result(false, |o, l| concat(&[&result, junk], o, l));
                        }
                    }
                }
                18 => {
                    let name = p.bytes();
                    checked(misp_warninglists_set_enabled(
                        h.lists,
                        name.as_ptr().cast(),
                        name.len(),
                        p.flag(),
                    ));
                }
                19 => {
                    let json = if p.flag() {
                        format!(
                            r#"{{"name": {}, "type": "{}", "list": [{}], "matching_attributes": ["{}"]}}"#,
                            json_text(p.bytes()),
                            ["string", "substring", "hostname", "cidr", "regex"][usize::from(p.byte() % 5)],
                            json_text(p.bytes()),
                            p.type_name()
                        )
                        .into_bytes()
                    } else {
                        p.bytes().to_vec()
                    };
                    checked(misp_warninglists_add_list(
                        h.lists,
                        json.as_ptr().cast(),
                        json.len(),
                    ));
                    let lists = h.lists;
                    string_result(true, |o, l| misp_warninglists_report(lists, o, l));
                }
                20 => {
                    let (ty, value) = (p.bytes(), p.bytes());
                    string_result(false, |o, l| {
                        misp_normalize(
                            ty.as_ptr().cast(),
                            ty.len(),
                            value.as_ptr().cast(),
                            value.len(),
                            o,
                            l,
                        )
                    });
                }
                21 => {
                    // NULL arguments where pointers are required.
                    let text = b"ip-src";
                    let mut out = ptr::null_mut();
                    let mut len = 0;
                    let r = match p.byte() % 8 {
                        0 => misp_warninglists_check(
                            h.lists,
                            ptr::null(),
                            0,
                            text.as_ptr().cast(),
                            6,
                            &mut out,
                            &mut len,
                        ),
                        1 => misp_warninglists_check(
                            h.lists,
                            text.as_ptr().cast(),
                            6,
                            text.as_ptr().cast(),
                            6,
                            ptr::null_mut(),
                            &mut len,
                        ),
                        2 => misp_engine_summary(h.engine, &mut out, ptr::null_mut()),
                        3 => misp_engine_correlations(h.engine, ptr::null(), &mut out, &mut len),
                        4 => misp_normalize(
                            text.as_ptr().cast(),
                            6,
                            ptr::null(),
                            0,
                            &mut out,
                            &mut len,
                        ),
                        5 => misp_engine_add_attribute(h.engine, ptr::null(), 0),
                        6 => misp_warninglists_check_batch_packed(
                            h.lists,
                            ptr::null(),
                            0,
                            ptr::null(),
                            0,
                            &mut out,
                            &mut len,
                        ),
                        _ => misp_engine_remove_attribute(h.engine, ptr::null()),
                    };
                    assert_eq!(checked(r), misp_result::MISP_ERR_NULL);
                    assert!(out.is_null());
                }
                22 => {
                    // Last-error and result names with any code, any buffer size.
                    let code = u32::from(p.byte());
                    assert!(!misp_result_name(code).is_null());
                    let mut buf = [0 as c_char; 16];
                    let size = usize::from(p.byte() % 17);
                    let mut written = 0;
                    misp_last_error(buf.as_mut_ptr(), size, &mut written);
                }
                23 => {
                    // Snapshot a loaded set of lists and check through the copy.
                    if h.lists.is_null() {
                        continue;
                    }
                    let dir =
                        std::env::temp_dir().join(format!("ffi-sequence-{}", std::process::id()));
                    let _ = std::fs::create_dir_all(&dir);
                    let path = dir.join("lists.snap");
                    let path = path.to_string_lossy().into_owned();
                    if checked(misp_warninglists_save_snapshot(
                        h.lists,
                        path.as_ptr().cast(),
                        path.len(),
                    )) == misp_result::MISP_OK
                    {
                        let mut opened = ptr::null_mut();
                        if checked(misp_warninglists_open_snapshot(
                            path.as_ptr().cast(),
                            path.len(),
                            p.flag(),
                            &mut opened,
                        )) == misp_result::MISP_OK
                        {
                            misp_warninglists_free(h.lists);
                            h.lists = opened;
                        }
                    }
                }
                _ => {
                    // Snapshot the engine and go on with the handle opened
                    // from it (queries from the map, the first change
                    // decodes it); or damage a copy, which must be refused.
                    if h.engine.is_null() {
                        continue;
                    }
                    let dir =
                        std::env::temp_dir().join(format!("ffi-sequence-{}", std::process::id()));
                    let _ = std::fs::create_dir_all(&dir);
                    let path = dir.join("engine.snap").to_string_lossy().into_owned();
                    if checked(misp_engine_save_snapshot(
                        h.engine,
                        path.as_ptr().cast(),
                        path.len(),
                    )) != misp_result::MISP_OK
                    {
                        continue;
                    }
                    let mut opened = ptr::null_mut();
                    if p.flag() {
                        let Ok(mut bytes) = std::fs::read(&path) else {
                            continue;
                        };
                        let at = usize::from(p.byte()) * bytes.len() / 256;
                        if let Some(b) = bytes.get_mut(at) {
                            *b ^= p.byte() | 1;
                        }
                        let damaged = dir.join("damaged.snap").to_string_lossy().into_owned();
                        if std::fs::write(&damaged, &bytes).is_err() {
                            continue;
                        }
                        let r = misp_engine_open_snapshot(
                            damaged.as_ptr().cast(),
                            damaged.len(),
                            true,
                            &mut opened,
                        );
                        assert_eq!(checked(r), misp_result::MISP_ERR_SNAPSHOT);
                        assert!(opened.is_null());
                    } else if checked(misp_engine_open_snapshot(
                        path.as_ptr().cast(),
                        path.len(),
                        p.flag(),
                        &mut opened,
                    )) == misp_result::MISP_OK
                    {
                        misp_engine_free(h.engine);
                        h.engine = opened;
                    }
                }
            }
        }
    }
});
