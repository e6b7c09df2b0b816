/*
 * C test of the misp-correlate C API: every call goes through the committed
 * header and the built library, successes and errors alike.
 *
 * Usage: test_misp <repository root>
 *
 * Prints one line per check ("ok"/"FAIL"), then a summary line, and exits
 * with status 0 only when every check passed. Every library-owned string is
 * freed and every handle released, so valgrind --leak-check=full reports no
 * leak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "misp_correlate.h"

static int checks = 0;
static int failures = 0;

#define CHECK(cond, what)                                                      \
    do {                                                                       \
        checks++;                                                              \
        if (cond) {                                                            \
            printf("ok   %s\n", what);                                         \
        } else {                                                               \
            failures++;                                                        \
            printf("FAIL %s (%s:%d: %s)\n", what, __FILE__, __LINE__, #cond);  \
        }                                                                      \
    } while (0)

/* The calling thread's last error message, in a static buffer. */
static const char *last_error(void) {
    static char buf[1024];
    size_t written = 0;
    if (misp_last_error(buf, sizeof buf, &written) != MISP_OK) {
        return "<misp_last_error failed>";
    }
    return buf;
}

/* Whether the last error message contains `needle`. */
static int last_error_contains(const char *needle) {
    return strstr(last_error(), needle) != NULL;
}

/* ---------------------------------------------------------------------- */

static void test_version(void) {
    const char *version = misp_version();
    CHECK(version != NULL, "misp_version is not NULL");
    CHECK(strcmp(version, MISP_CORRELATE_VERSION) == 0,
          "misp_version matches MISP_CORRELATE_VERSION");
}

static void test_result_names(void) {
    CHECK(strcmp(misp_result_name(MISP_OK), "MISP_OK") == 0, "result name of MISP_OK");
    CHECK(strcmp(misp_result_name(MISP_ERR_UTF8), "MISP_ERR_UTF8") == 0,
          "result name of MISP_ERR_UTF8");
    CHECK(strcmp(misp_result_name(MISP_ERR_PANIC), "MISP_ERR_PANIC") == 0,
          "result name of MISP_ERR_PANIC");
    CHECK(strcmp(misp_result_name(4242), "MISP_ERR_UNKNOWN_CODE") == 0,
          "result name of an unknown number");
}

static void test_normalize(void) {
    char *out = NULL;
    size_t len = 0;
    const char *ty = "ip-src";
    const char *value = "  10.1.2.3 \n";

    misp_result r = misp_normalize(ty, strlen(ty), value, strlen(value), &out, &len);
    CHECK(r == MISP_OK, "normalize ip-src succeeds");
    CHECK(out != NULL && strcmp(out, "10.1.2.3") == 0, "normalize trims the value");
    CHECK(len == strlen("10.1.2.3"), "normalize returns the length");
    CHECK(misp_last_error_len() == 0, "a success leaves no last error");
    misp_string_free(out);

    /* Inputs need not be NUL-terminated: only `len` bytes are read. */
    out = NULL;
    r = misp_normalize("md5xxxx", 3, "  d41d8cd98f00b204e9800998ecf8427e  ", 34, &out, &len);
    CHECK(r == MISP_OK, "normalize reads exactly len bytes");
    CHECK(out != NULL && strcmp(out, "d41d8cd98f00b204e9800998ecf8427e") == 0,
          "normalize md5 value");
    misp_string_free(out);

    /* A rejected value: the out-parameters are untouched. */
    out = (char *)0x1;
    len = 12345;
    r = misp_normalize("domain|ip", 9, "example.com", 11, &out, &len);
    CHECK(r == MISP_ERR_REJECTED, "composite value without | is rejected");
    CHECK(out == (char *)0x1 && len == 12345, "out-parameters untouched on failure");
    CHECK(last_error_contains("composite"), "rejection message gives MISP's reason");

    r = misp_normalize("no-such-type", 12, "x", 1, &out, &len);
    CHECK(r == MISP_ERR_UNKNOWN_TYPE, "unknown type is MISP_ERR_UNKNOWN_TYPE");
    CHECK(last_error_contains("no-such-type"), "unknown type message names the type");

    const char bad_utf8[] = {'1', '0', (char)0xff, '1'};
    r = misp_normalize("ip-src", 6, bad_utf8, sizeof bad_utf8, &out, &len);
    CHECK(r == MISP_ERR_UTF8, "invalid UTF-8 value is MISP_ERR_UTF8");
    CHECK(last_error_contains("`value`") && last_error_contains("offset 2"),
          "UTF-8 message names the argument and the offset");

    r = misp_normalize(NULL, 0, "x", 1, &out, &len);
    CHECK(r == MISP_ERR_NULL, "NULL type is MISP_ERR_NULL");
    CHECK(last_error_contains("type_name"), "NULL message names the argument");
    r = misp_normalize("md5", 3, NULL, 0, &out, &len);
    CHECK(r == MISP_ERR_NULL, "NULL value is MISP_ERR_NULL even with length 0");
    r = misp_normalize("md5", 3, "x", 1, NULL, &len);
    CHECK(r == MISP_ERR_NULL, "NULL out_value is MISP_ERR_NULL");
    r = misp_normalize("md5", 3, "x", 1, &out, NULL);
    CHECK(r == MISP_ERR_NULL, "NULL out_len is MISP_ERR_NULL");
}

static void test_last_error(void) {
    char *out = NULL;
    size_t len = 0;
    misp_result r = misp_normalize("no-such-type", 12, "x", 1, &out, &len);
    CHECK(r == MISP_ERR_UNKNOWN_TYPE, "provoke an error");
    size_t full = misp_last_error_len();
    CHECK(full > 8, "misp_last_error_len gives the message length");

    char small[8];
    size_t written = 99;
    r = misp_last_error(small, sizeof small, &written);
    CHECK(r == MISP_OK && written == 7 && small[7] == '\0', "message truncated to the buffer");

    char *whole = malloc(full + 1);
    r = misp_last_error(whole, full + 1, &written);
    CHECK(r == MISP_OK && written == full && strlen(whole) == full,
          "a buffer of len + 1 bytes holds the whole message");
    free(whole);

    CHECK(misp_last_error(NULL, 10, &written) == MISP_ERR_NULL, "misp_last_error NULL buf");
    CHECK(misp_last_error(small, sizeof small, NULL) == MISP_ERR_NULL,
          "misp_last_error NULL written");
    CHECK(misp_last_error_len() == full, "reading the message does not clear it");
}

static void test_load_summary(const char *root) {
    char *json = NULL;
    size_t len = 0;
    const char *doc =
        "{\"Event\": {\"uuid\": \"5a4cb19a-f550-437f-bd29-48ed950d210f\", \"info\": \"x\","
        " \"Attribute\": [{\"type\": \"ip-dst\", \"value\": \"192.0.2.1\"},"
        " {\"type\": \"no-such-type\", \"value\": \"x\"}]}}";
    misp_result r = misp_load_summary(doc, strlen(doc), &json, &len);
    CHECK(r == MISP_OK, "load summary of a document");
    CHECK(json != NULL && strstr(json, "\"events\":1,\"attributes\":2") != NULL,
          "load summary counts events and attributes");
    CHECK(json != NULL && strstr(json, "\"type\":\"no-such-type\"") != NULL,
          "load summary lists the rejected attribute");
    CHECK(json != NULL && strlen(json) == len, "load summary length");
    misp_string_free(json);

    /* Malformed JSON is reported in `errors`, with its position. */
    const char *bad = "{\"Event\": {\"info\": \"x\", ";
    json = NULL;
    r = misp_load_summary(bad, strlen(bad), &json, &len);
    CHECK(r == MISP_OK, "load summary of malformed JSON still reports");
    CHECK(json != NULL && strstr(json, "\"file\":\"<input>\"") != NULL &&
              strstr(json, "<input>:1:") != NULL,
          "malformed JSON is an error entry with line and column");
    misp_string_free(json);

    r = misp_load_summary(NULL, 0, &json, &len);
    CHECK(r == MISP_ERR_NULL, "load summary NULL json");

    char feed[4096];
    snprintf(feed, sizeof feed, "%s/testdata/feeds/tweetfeed-sample", root);
    misp_str paths[2] = {{feed, strlen(feed)}, {"/nonexistent.json", 17}};
    json = NULL;
    r = misp_load_summary_paths(paths, 2, &json, &len);
    CHECK(r == MISP_OK, "load summary of a feed directory");
    CHECK(json != NULL && strstr(json, "\"events\":5,\"attributes\":202") != NULL,
          "the sample feed holds 5 events and 202 attributes");
    CHECK(json != NULL && strstr(json, "\"file\":\"/nonexistent.json\"") != NULL,
          "a missing path is an error entry");
    misp_string_free(json);

    const char bad_path[] = {'/', 't', (char)0xc3};
    misp_str bad_paths[1] = {{bad_path, sizeof bad_path}};
    r = misp_load_summary_paths(bad_paths, 1, &json, &len);
    CHECK(r == MISP_ERR_UTF8 && last_error_contains("paths[0]"),
          "a non-UTF-8 path is MISP_ERR_UTF8 naming its index");
    misp_str null_path[1] = {{NULL, 0}};
    r = misp_load_summary_paths(null_path, 1, &json, &len);
    CHECK(r == MISP_ERR_NULL && last_error_contains("paths[0]"), "a NULL path is MISP_ERR_NULL");
}

static misp_warninglists *load_lists(const char *root, uint32_t improvements) {
    char path[4096];
    snprintf(path, sizeof path, "%s/misp-ffi/tests/data/warninglists", root);
    misp_warninglists *lists = NULL;
    misp_result r = misp_warninglists_load(path, strlen(path), improvements, &lists);
    CHECK(r == MISP_OK && lists != NULL, "load the test warninglists");
    return lists;
}

static void test_warninglists(const char *root) {
    misp_warninglists *lists = load_lists(root, 0);
    if (lists == NULL) {
        return;
    }
    char *json = NULL;
    size_t len = 0;

    misp_result r = misp_warninglists_check(lists, "ip-dst", 6, "10.1.2.3", 8, &json, &len);
    CHECK(r == MISP_OK, "check one value");
    CHECK(json != NULL &&
              strcmp(json, "[{\"list\":\"List of RFC 1918 CIDR blocks\",\"list_type\":\"cidr\","
                           "\"match\":\"10.0.0.0/8\",\"value\":\"10.1.2.3\"}]") == 0,
          "the hit is {list, list_type, match, value}");
    misp_string_free(json);

    json = NULL;
    r = misp_warninglists_check(lists, "ip-dst", 6, "8.8.8.8", 7, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strcmp(json, "[]") == 0, "no hit is []");
    misp_string_free(json);

    /* A batch: (type, value) pairs packed in one buffer, with their lengths. */
    const char *pairs[][2] = {
        {"ip-src", "192.168.0.1"},
        {"md5", "d41d8cd98f00b204e9800998ecf8427e"},
        {"domain", "misp-project.org"},
        {"hostname", "www.bmw.de"},
    };
    char strings[256] = "";
    size_t lens[8];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 2; j++) {
            strcat(strings, pairs[i][j]);
            lens[n++] = strlen(pairs[i][j]);
        }
    }
    json = NULL;
    r = misp_warninglists_check_batch(lists, strings, strlen(strings), lens, n, &json, &len);
    CHECK(r == MISP_OK, "check a batch");
    CHECK(json != NULL && strstr(json, "[[{\"list\":\"List of RFC 1918 CIDR blocks\"") == json,
          "batch result 0 is the RFC 1918 hit");
    CHECK(json != NULL && strstr(json, "\"match\":\"d41d8cd98f00b204e9800998ecf8427e\"") != NULL,
          "batch result 1 is the empty-file hash");
    CHECK(json != NULL && strstr(json, "}],[],[{") != NULL, "batch result 2 has no hit");
    CHECK(json != NULL && strstr(json, "\"match\":\"bmw.de\",\"value\":\"www.bmw.de\"}]]") != NULL,
          "batch result 3 is the dax30 hostname hit");
    /* The same batch NUL-separated (lens NULL) gives the same JSON. */
    char separated[256];
    size_t separated_len = 0;
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 2; j++) {
            size_t part = strlen(pairs[i][j]);
            memcpy(separated + separated_len, pairs[i][j], part);
            separated_len += part;
            separated[separated_len++] = '\0';
        }
    }
    separated_len--; /* separators only, no terminator */
    char *json_separated = NULL;
    r = misp_warninglists_check_batch(lists, separated, separated_len, NULL, n, &json_separated, &len);
    CHECK(r == MISP_OK && json != NULL && json_separated != NULL && strcmp(json, json_separated) == 0,
          "a NUL-separated batch (lens NULL) gives the same hits");
    misp_string_free(json_separated);
    misp_string_free(json);
    r = misp_warninglists_check_batch(lists, separated, separated_len, NULL, n - 2, &json, &len);
    CHECK(r == MISP_ERR_INVALID && last_error_contains("NUL-separated"),
          "a NUL-separated batch with the wrong count is MISP_ERR_INVALID");

    size_t odd_lens[3] = {1, 1, 0};
    r = misp_warninglists_check_batch(lists, "ab", 2, odd_lens, 3, &json, &len);
    CHECK(r == MISP_ERR_INVALID && last_error_contains("pairs"), "an odd batch is MISP_ERR_INVALID");
    size_t bad_lens[2] = {5, 2};
    r = misp_warninglists_check_batch(lists, strings, strlen(strings), bad_lens, 2, &json, &len);
    CHECK(r == MISP_ERR_INVALID && last_error_contains("add up to 7"),
          "lengths that do not add up are MISP_ERR_INVALID");
    const char bad_utf8[] = {'m', 'd', '5', (char)0xff};
    size_t utf8_lens[2] = {3, 1};
    r = misp_warninglists_check_batch(lists, bad_utf8, 4, utf8_lens, 2, &json, &len);
    CHECK(r == MISP_ERR_UTF8 && last_error_contains("strings[1]"),
          "invalid UTF-8 in a batch names the string");
    r = misp_warninglists_check_batch(lists, NULL, 0, lens, 0, &json, &len);
    CHECK(r == MISP_ERR_NULL, "batch NULL strings");
    r = misp_warninglists_check(NULL, "ip-dst", 6, "10.1.2.3", 8, &json, &len);
    CHECK(r == MISP_ERR_NULL && last_error_contains("lists"), "check with a NULL handle");
    r = misp_warninglists_check(lists, "ip-dst", 6, "\xc3(", 2, &json, &len);
    CHECK(r == MISP_ERR_UTF8, "check with an invalid UTF-8 value");

    /* Disable a list, add a custom one. */
    const char *rfc1918 = "List of RFC 1918 CIDR blocks";
    r = misp_warninglists_set_enabled(lists, rfc1918, strlen(rfc1918), false);
    CHECK(r == MISP_OK, "disable a list");
    json = NULL;
    r = misp_warninglists_check(lists, "ip-dst", 6, "10.1.2.3", 8, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strcmp(json, "[]") == 0, "a disabled list does not hit");
    misp_string_free(json);
    r = misp_warninglists_set_enabled(lists, "nope", 4, true);
    CHECK(r == MISP_ERR_INVALID && last_error_contains("nope"), "enabling an unknown list names it");

    const char *custom = "{\"name\": \"custom\", \"type\": \"hostname\", \"list\": [\"evil.example\"]}";
    r = misp_warninglists_add_list(lists, custom, strlen(custom));
    CHECK(r == MISP_OK, "add a custom list");
    json = NULL;
    r = misp_warninglists_check(lists, "domain", 6, "a.evil.example", 14, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strstr(json, "\"list\":\"custom\"") != NULL,
          "the custom list hits");
    misp_string_free(json);
    const char *bad_json = "{\"name\": \"x\", \"list\": [";
    r = misp_warninglists_add_list(lists, bad_json, strlen(bad_json));
    CHECK(r == MISP_ERR_WARNINGLIST && last_error_contains("<input>"),
          "a malformed custom list is MISP_ERR_WARNINGLIST");

    json = NULL;
    r = misp_warninglists_report(lists, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strstr(json, "\"name\":\"custom\"") != NULL &&
              strstr(json, "\"enabled\":false") != NULL,
          "the report lists the lists and their state");
    misp_string_free(json);
    misp_warninglists_free(lists);
    misp_warninglists_free(NULL);

    /* Improvements: hosts compared case-insensitively. */
    lists = load_lists(root, MISP_WL_LOWERCASE_HOSTS);
    if (lists != NULL) {
        json = NULL;
        r = misp_warninglists_check(lists, "hostname", 8, "WWW.BMW.DE", 10, &json, &len);
        CHECK(r == MISP_OK && json != NULL && strstr(json, "dax30") != NULL,
              "MISP_WL_LOWERCASE_HOSTS matches upper-case hosts");
        misp_string_free(json);
        misp_warninglists_free(lists);
    }

    misp_warninglists *none = NULL;
    r = misp_warninglists_load("/nonexistent", 12, 0, &none);
    CHECK(r == MISP_ERR_IO && none == NULL && last_error_contains("/nonexistent"),
          "loading a missing path is MISP_ERR_IO naming it");
    r = misp_warninglists_load("/tmp", 4, 1u << 30, &none);
    CHECK(r == MISP_ERR_INVALID, "unknown improvement bits are MISP_ERR_INVALID");
}

static misp_id str_id(const char *s) {
    misp_id id = {MISP_ID_STR, 0, s, strlen(s)};
    return id;
}

static misp_id num_id(uint64_t n) {
    misp_id id = {MISP_ID_NUM, n, NULL, 0};
    return id;
}

/* Counts the correlations of `engine` a site admin sees. */
static int count_correlations(const misp_engine *engine) {
    misp_viewer admin = {NULL, NULL, 0, true};
    char *json = NULL;
    size_t len = 0;
    if (misp_engine_correlations(engine, &admin, &json, &len) != MISP_OK) {
        return -1;
    }
    int n = 0;
    for (const char *p = json; (p = strstr(p, "\"kind\"")) != NULL; p++) {
        n++;
    }
    misp_string_free(json);
    return n;
}

static void test_engine_bulk(const char *root) {
    misp_engine_builder *builder = NULL;
    misp_result r = misp_engine_builder_new(&builder);
    CHECK(r == MISP_OK && builder != NULL, "new engine builder");
    CHECK(misp_engine_builder_set_limit(builder, 20) == MISP_OK, "builder limit");
    CHECK(misp_engine_builder_set_advanced(builder, true) == MISP_OK, "builder advanced");
    CHECK(misp_engine_builder_add_exclusion(builder, "%.invalid", 9) == MISP_OK, "builder exclusion");

    /* Event A from memory, event B from its file. */
    char path[4096];
    snprintf(path, sizeof path, "%s/misp-ffi/tests/data/events/event-a.json", root);
    FILE *f = fopen(path, "rb");
    char doc[8192];
    size_t doc_len = f ? fread(doc, 1, sizeof doc, f) : 0;
    if (f) {
        fclose(f);
    }
    CHECK(doc_len > 0, "read event A");
    r = misp_engine_builder_add_json(builder, doc, doc_len);
    CHECK(r == MISP_OK, "add a MISP JSON document");
    const char *bad = "{\"Event\": {\"info\": \"x\", \"Attribute\": [";
    r = misp_engine_builder_add_json(builder, bad, strlen(bad));
    CHECK(r == MISP_ERR_JSON && last_error_contains("<input>:1:"),
          "malformed MISP JSON is MISP_ERR_JSON with its position");
    snprintf(path, sizeof path, "%s/misp-ffi/tests/data/events/event-b.json", root);
    misp_str paths[2] = {{path, strlen(path)}, {"/nonexistent.json", 17}};
    r = misp_engine_builder_add_paths(builder, paths, 2);
    CHECK(r == MISP_OK, "add event files (a missing one is reported, not fatal)");

    misp_engine *engine = NULL;
    r = misp_engine_builder_build(builder, &engine);
    CHECK(r == MISP_OK && engine != NULL, "build the engine (consumes the builder)");
    if (engine == NULL) {
        return;
    }

    char *json = NULL;
    size_t len = 0;
    r = misp_engine_summary(engine, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strstr(json, "\"exact\":3,\"cidr\":1") != NULL,
          "summary: 3 exact and 1 CIDR correlation");
    misp_string_free(json);

    json = NULL;
    r = misp_engine_build_report(engine, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strstr(json, "\"rejected\":[]") != NULL &&
              strstr(json, "\"file\":\"/nonexistent.json\"") != NULL,
          "build report lists the unreadable path");
    misp_string_free(json);

    /* One attribute's correlations, as seen by org-a and by org-b. */
    misp_id org_a = str_id("org-a"), org_b = str_id("org-b");
    misp_viewer viewer_a = {&org_a, NULL, 0, false};
    misp_viewer viewer_b = {&org_b, NULL, 0, false};
    misp_id a5 = str_id("aaaaaaaa-0000-4000-8000-000000000005");
    json = NULL;
    r = misp_engine_correlations_of(engine, &a5, &viewer_b, &json, &len);
    CHECK(r == MISP_OK && json != NULL &&
              strcmp(json, "[{\"kind\":\"exact\",\"key\":\"0123456789abcdef0123456789abcdef\","
                           "\"a\":{\"event\":\"aaaaaaaa-0000-4000-8000-000000000000\","
                           "\"attribute\":\"aaaaaaaa-0000-4000-8000-000000000005\"},"
                           "\"b\":{\"event\":\"bbbbbbbb-0000-4000-8000-000000000000\","
                           "\"attribute\":\"bbbbbbbb-0000-4000-8000-000000000004\"}}]") == 0,
          "org-b sees the md5 half of filename|md5 correlate with its md5");
    misp_string_free(json);
    json = NULL;
    r = misp_engine_correlations_of(engine, &a5, &viewer_a, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strcmp(json, "[]") == 0,
          "org-a does not see event B's distribution-0 attribute");
    misp_string_free(json);

    misp_id event_a = str_id("aaaaaaaa-0000-4000-8000-000000000000");
    json = NULL;
    r = misp_engine_related_events(engine, &event_a, &viewer_a, &json, &len);
    CHECK(r == MISP_OK && json != NULL &&
              strcmp(json, "[{\"event\":\"bbbbbbbb-0000-4000-8000-000000000000\","
                           "\"correlations\":3}]") == 0,
          "related events for org-a: 3 visible correlations with event B");
    misp_string_free(json);

    json = NULL;
    r = misp_engine_correlations(engine, &viewer_a, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strstr(json, "\"kind\":\"cidr\",\"key\":\"10.0.0.0/8\"") != NULL,
          "all correlations include the CIDR one");
    misp_string_free(json);
    CHECK(count_correlations(engine) == 4, "a site admin sees 4 correlations");

    json = NULL;
    r = misp_engine_top_keys(engine, 2, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strncmp(json, "[{\"key\":", 8) == 0, "top keys");
    misp_string_free(json);
    json = NULL;
    r = misp_engine_over_correlating(engine, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strcmp(json, "[]") == 0, "no over-correlating key");
    misp_string_free(json);

    /* Errors. */
    misp_id missing = str_id("no-such-attribute");
    r = misp_engine_correlations_of(engine, &missing, &viewer_a, &json, &len);
    CHECK(r == MISP_ERR_INVALID && last_error_contains("no-such-attribute"),
          "an unknown attribute is MISP_ERR_INVALID naming it");
    r = misp_engine_correlations_of(engine, NULL, &viewer_a, &json, &len);
    CHECK(r == MISP_ERR_NULL && last_error_contains("attribute"), "a NULL identity is MISP_ERR_NULL");
    r = misp_engine_correlations_of(engine, &a5, NULL, &json, &len);
    CHECK(r == MISP_ERR_NULL && last_error_contains("viewer"), "a NULL viewer is MISP_ERR_NULL");
    misp_id bad_kind = {42, 0, NULL, 0};
    r = misp_engine_correlations_of(engine, &bad_kind, &viewer_a, &json, &len);
    CHECK(r == MISP_ERR_INVALID && last_error_contains("kind"), "an unknown id kind is MISP_ERR_INVALID");
    const char bad_org_text[] = {'o', (char)0xfe};
    misp_id bad_org = {MISP_ID_STR, 0, bad_org_text, 2};
    misp_viewer bad_viewer = {&bad_org, NULL, 0, false};
    r = misp_engine_correlations_of(engine, &a5, &bad_viewer, &json, &len);
    CHECK(r == MISP_ERR_UTF8 && last_error_contains("viewer.org"), "a non-UTF-8 org is MISP_ERR_UTF8");
    misp_engine_free(engine);
    misp_engine_free(NULL);
    misp_engine_builder_free(NULL);

    /* A builder freed without building, and a failing build. */
    builder = NULL;
    CHECK(misp_engine_builder_new(&builder) == MISP_OK, "second builder");
    misp_engine_builder_free(builder);
    builder = NULL;
    CHECK(misp_engine_builder_new(&builder) == MISP_OK, "third builder");
    CHECK(misp_engine_builder_set_ssdeep_threshold(builder, 0) == MISP_OK, "set a bad threshold");
    engine = NULL;
    r = misp_engine_builder_build(builder, &engine);
    CHECK(r == MISP_ERR_INVALID && engine == NULL && last_error_contains("ssdeep"),
          "an ssdeep threshold of 0 fails the build (the builder is consumed)");
}

static void test_engine_incremental(void) {
    misp_engine *engine = NULL;
    misp_result r = misp_engine_new(20, false, 40, true, &engine);
    CHECK(r == MISP_OK && engine != NULL, "new empty engine");
    if (engine == NULL) {
        return;
    }
#define JSON(engine_fn, text) engine_fn(engine, text, strlen(text))
    CHECK(JSON(misp_engine_add_event, "{\"id\": 1, \"org\": 100}") == MISP_OK, "add event 1");
    CHECK(JSON(misp_engine_add_event, "{\"id\": 2, \"org\": 200, \"distribution\": 0}") == MISP_OK,
          "add event 2 (your organisation only)");
    CHECK(JSON(misp_engine_add_attribute,
               "{\"id\": 10, \"event\": 1, \"type\": \"domain\", \"value\": \"evil.example\"}") == MISP_OK,
          "add attribute 10");
    CHECK(JSON(misp_engine_add_attribute,
               "{\"id\": 20, \"event\": 2, \"type\": \"hostname\", \"value\": \"evil.example\"}") == MISP_OK,
          "add attribute 20");
    CHECK(count_correlations(engine) == 1, "attributes 10 and 20 correlate");

    /* Viewers with numeric organisations. */
    misp_id org_100 = num_id(100), org_200 = num_id(200);
    misp_viewer viewer_100 = {&org_100, NULL, 0, false};
    misp_viewer viewer_200 = {&org_200, NULL, 0, false};
    misp_id a10 = num_id(10);
    char *json = NULL;
    size_t len = 0;
    r = misp_engine_correlations_of(engine, &a10, &viewer_100, &json, &len);
    CHECK(r == MISP_OK && json != NULL && strcmp(json, "[]") == 0,
          "org 100 does not see event 2 (distribution 0)");
    misp_string_free(json);
    json = NULL;
    r = misp_engine_correlations_of(engine, &a10, &viewer_200, &json, &len);
    CHECK(r == MISP_OK && json != NULL &&
              strcmp(json, "[{\"kind\":\"exact\",\"key\":\"evil.example\",\"a\":{\"event\":1,"
                           "\"attribute\":10},\"b\":{\"event\":2,\"attribute\":20}}]") == 0,
          "org 200 owns event 2 and sees the correlation; numeric ids stay numbers");
    misp_string_free(json);

    /* Updates and deletions. */
    CHECK(JSON(misp_engine_update_attribute,
               "{\"id\": 20, \"event\": 2, \"type\": \"hostname\", \"value\": \"good.example\"}") == MISP_OK,
          "update attribute 20");
    CHECK(count_correlations(engine) == 0, "the update removes the correlation");
    r = JSON(misp_engine_update_attribute,
             "{\"id\": 20, \"event\": 2, \"type\": \"ip-dst\", \"value\": \"999.1.1.1\"}");
    CHECK(r == MISP_ERR_REJECTED && last_error_contains("IP"),
          "an update MISP would refuse is MISP_ERR_REJECTED with MISP's reason");
    r = JSON(misp_engine_add_attribute, "{\"id\": 30, \"event\": 2, \"type\": \"nope\", \"value\": \"x\"}");
    CHECK(r == MISP_ERR_UNKNOWN_TYPE, "an unknown type is MISP_ERR_UNKNOWN_TYPE");
    r = JSON(misp_engine_add_attribute, "{\"id\": 30, \"event\": 2, \"typ\": \"md5\"}");
    CHECK(r == MISP_ERR_JSON && last_error_contains("typ"), "an unknown field is MISP_ERR_JSON naming it");
    r = JSON(misp_engine_add_attribute, "{\"id\": 30,");
    CHECK(r == MISP_ERR_JSON, "malformed attribute JSON is MISP_ERR_JSON");
    r = misp_engine_add_attribute(engine, NULL, 0);
    CHECK(r == MISP_ERR_NULL, "NULL attribute JSON is MISP_ERR_NULL");
    CHECK(JSON(misp_engine_update_attribute,
               "{\"id\": 20, \"event\": 2, \"type\": \"hostname\", \"value\": \"evil.example\"}") == MISP_OK,
          "update attribute 20 back");
    CHECK(count_correlations(engine) == 1, "the correlation is back");

    bool changed = false;
    r = misp_engine_set_exclusion(engine, "%.example", 9, true, &changed);
    CHECK(r == MISP_OK && changed && count_correlations(engine) == 0, "an exclusion is retroactive");
    r = misp_engine_set_exclusion(engine, "%.example", 9, false, &changed);
    CHECK(r == MISP_OK && changed && count_correlations(engine) == 1, "removing it restores the correlation");

    misp_id a20 = num_id(20);
    CHECK(misp_engine_set_attribute_correlation(engine, &a20, false) == MISP_OK &&
              count_correlations(engine) == 0,
          "disabling correlation of an attribute");
    CHECK(misp_engine_set_attribute_correlation(engine, &a20, true) == MISP_OK &&
              count_correlations(engine) == 1,
          "enabling it again");
    CHECK(misp_engine_remove_attribute(engine, &a20) == MISP_OK && count_correlations(engine) == 0,
          "removing an attribute removes its correlations");
    r = misp_engine_remove_attribute(engine, &a20);
    CHECK(r == MISP_ERR_INVALID && last_error_contains("20"), "removing it twice is MISP_ERR_INVALID");
    misp_id event_2 = num_id(2);
    CHECK(misp_engine_remove_event(engine, &event_2) == MISP_OK, "remove event 2");
    CHECK(misp_engine_configure(engine, -1, true, 101, true) == MISP_ERR_INVALID,
          "an ssdeep threshold of 101 is MISP_ERR_INVALID");
    CHECK(misp_engine_configure(engine, -1, true, 40, false) == MISP_OK, "reconfigure the engine");
#undef JSON
    misp_engine_free(engine);
}

/* Reads little-endian uint32_t word `i` of a packed result. */
static uint32_t word_at(const char *buf, size_t i) {
    const unsigned char *b = (const unsigned char *)buf + 4 * i;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void test_packed_batch(const char *root) {
    misp_warninglists *lists = load_lists(root, 0);
    if (lists == NULL) {
        return;
    }
    /* ip-dst 10.1.2.3 (RFC 1918), ip-dst 8.8.8.8 (nothing), hostname www.bmw.de (dax30). */
    const char strings[] = "ip-dst10.1.2.3ip-dst8.8.8.8hostnamewww.bmw.de";
    size_t lens[6] = {6, 8, 6, 7, 8, 10};
    char *buf = NULL;
    size_t len = 0;
    misp_result r = misp_warninglists_check_batch_packed(lists, strings, strlen(strings), lens, 6,
                                                         &buf, &len);
    CHECK(r == MISP_OK && buf != NULL, "packed batch");
    if (buf != NULL) {
        CHECK(word_at(buf, 0) == 1, "packed layout version 1");
        CHECK(word_at(buf, 1) == 3 && word_at(buf, 2) == 2 && word_at(buf, 3) == 2,
              "3 queries, 2 hits, 2 lists in the table");
        CHECK(word_at(buf, 4) == 0, "no NUL in the strings");
        CHECK(word_at(buf, 5) == 0 && word_at(buf, 6) == 2, "hits of queries 0 and 2");
        CHECK(word_at(buf, 7) == 0 && word_at(buf, 8) == 1, "each hit's list in the table");
        /* 8 strings: 2 x (name, type), then 2 x (match, value), NUL-separated. */
        const char *text = buf + 4 * (9 + 8);
        CHECK(strcmp(text, "List of RFC 1918 CIDR blocks") == 0, "first list name");
        CHECK(word_at(buf, 9) == strlen("List of RFC 1918 CIDR blocks"), "first string end");
        const char *expected[8] = {"List of RFC 1918 CIDR blocks", "cidr", "List of known dax30 webpages",
                                   "hostname", "10.0.0.0/8", "10.1.2.3", "bmw.de", "www.bmw.de"};
        size_t start = 0;
        int all = 1;
        for (size_t i = 0; i < 8; i++) {
            size_t end = word_at(buf, 9 + i);
            all &= end - start == strlen(expected[i]) && memcmp(text + start, expected[i], end - start) == 0;
            start = end + 1;
        }
        CHECK(all, "every string at its offsets");
        CHECK(len == 4 * 17 + start, "the buffer ends after the last NUL");

        /* Results of consecutive batches join into one; one result joins into itself. */
        const char *parts[2] = {buf, buf};
        size_t part_lens[2] = {len, len};
        char *joined = NULL;
        size_t joined_len = 0;
        r = misp_warninglists_packed_concat(parts, part_lens, 1, &joined, &joined_len);
        CHECK(r == MISP_OK && joined_len == len && memcmp(joined, buf, len) == 0, "a packed result joins into itself");
        misp_string_free(joined);
        r = misp_warninglists_packed_concat(parts, part_lens, 2, &joined, &joined_len);
        CHECK(r == MISP_OK && word_at(joined, 1) == 6 && word_at(joined, 2) == 4 && word_at(joined, 3) == 2,
              "two joined results: 6 queries, 4 hits, the same 2 lists");
        CHECK(r == MISP_OK && word_at(joined, 7) == 3 && word_at(joined, 8) == 5, "the second part's queries follow");
        misp_string_free(joined);
        part_lens[1] = len - 1;
        r = misp_warninglists_packed_concat(parts, part_lens, 2, &joined, &joined_len);
        CHECK(r == MISP_ERR_INVALID, "a truncated part is refused");

        /* The same pairs pushed in two parts (the second NUL-separated) to a
           batch checked in the background finish into the same bytes; the
           batch outlives the lists handle it was made from. */
        misp_warninglists_batch *batch = NULL;
        r = misp_warninglists_batch_new(lists, &batch);
        CHECK(r == MISP_OK && batch != NULL, "a background batch");
        const char rest[] = "ip-dst\0" "8.8.8.8\0hostname\0www.bmw.de";
        r = misp_warninglists_batch_push(batch, strings, lens[0] + lens[1], lens, 2);
        CHECK(r == MISP_OK, "push a part with lengths");
        r = misp_warninglists_batch_push(batch, rest, sizeof rest - 1, NULL, 4);
        CHECK(r == MISP_OK, "push a NUL-separated part");
        char *finished = NULL;
        size_t finished_len = 0;
        r = misp_warninglists_batch_finish(batch, &finished, &finished_len);
        CHECK(r == MISP_OK && finished_len == len && memcmp(finished, buf, len) == 0,
              "the parts finish into the one call's result");
        misp_string_free(finished);
        r = misp_warninglists_batch_push(batch, "md5\0\xff", 5, NULL, 2);
        CHECK(r == MISP_OK, "a bad part is accepted by push");
        r = misp_warninglists_batch_finish(batch, &finished, &finished_len);
        CHECK(r == MISP_ERR_UTF8, "and reported by finish");
        misp_warninglists_batch_free(batch);
    }
    misp_string_free(buf);
    r = misp_warninglists_check_batch_packed(lists, strings, strlen(strings), lens, 5, &buf, &len);
    CHECK(r == MISP_ERR_INVALID, "packed batch with lengths that do not add up");
    r = misp_warninglists_check_batch_packed(lists, strings, strlen(strings), lens, 6, NULL, &len);
    CHECK(r == MISP_ERR_NULL, "packed batch with NULL out_packed");
    misp_warninglists_free(lists);
}

static void test_snapshots(const char *root, const char *exe) {
    char path[4096];
    int n = snprintf(path, sizeof path, "%s.snap", exe);
    if (n < 0 || (size_t)n >= sizeof path) {
        CHECK(0, "snapshot path fits");
        return;
    }
    misp_warninglists *lists = load_lists(root, 0);
    if (lists == NULL) {
        return;
    }
    misp_result r = misp_warninglists_save_snapshot(lists, path, strlen(path));
    CHECK(r == MISP_OK, "save a warninglist snapshot");
    misp_warninglists_free(lists);

    misp_warninglists *opened = NULL;
    r = misp_warninglists_open_snapshot(path, strlen(path), true, &opened);
    CHECK(r == MISP_OK && opened != NULL, "open (and verify) the snapshot");
    char *json = NULL;
    size_t len = 0;
    r = misp_warninglists_check(opened, "ip-dst", 6, "10.1.2.3", 8, &json, &len);
    CHECK(r == MISP_OK && json != NULL &&
              strcmp(json, "[{\"list\":\"List of RFC 1918 CIDR blocks\",\"list_type\":\"cidr\","
                           "\"match\":\"10.0.0.0/8\",\"value\":\"10.1.2.3\"}]") == 0,
          "a snapshot answers as the lists it was saved from");
    misp_string_free(json);
    const char *custom = "{\"name\": \"custom\", \"type\": \"string\", \"list\": [\"x\"]}";
    r = misp_warninglists_add_list(opened, custom, strlen(custom));
    CHECK(r == MISP_ERR_INVALID && last_error_contains("snapshot"), "a snapshot's lists are fixed");
    misp_warninglists_free(opened);

    json = NULL;
    r = misp_snapshot_info(path, strlen(path), &json, &len);
    CHECK(r == MISP_OK && json != NULL && strstr(json, "\"kind\":\"warninglists\"") != NULL,
          "snapshot info gives the kind");
    misp_string_free(json);

    opened = NULL;
    const char *not_snapshot = "misp-ffi/Cargo.toml";
    char not_path[4096];
    snprintf(not_path, sizeof not_path, "%s/%s", root, not_snapshot);
    r = misp_warninglists_open_snapshot(not_path, strlen(not_path), false, &opened);
    CHECK(r == MISP_ERR_SNAPSHOT && opened == NULL && last_error_contains("Cargo.toml"),
          "a file that is not a snapshot is MISP_ERR_SNAPSHOT, naming it");
    CHECK(strcmp(misp_result_name(MISP_ERR_SNAPSHOT), "MISP_ERR_SNAPSHOT") == 0,
          "result name of MISP_ERR_SNAPSHOT");
    r = misp_warninglists_open_snapshot(NULL, 0, false, &opened);
    CHECK(r == MISP_ERR_NULL, "open_snapshot NULL path");
    r = misp_warninglists_open_snapshot("/nonexistent.snap", 17, false, &opened);
    CHECK(r == MISP_ERR_IO, "open_snapshot missing file");
    r = misp_warninglists_save_snapshot(NULL, path, strlen(path));
    CHECK(r == MISP_ERR_NULL, "save_snapshot NULL handle");
    remove(path);
}

/* Builds an engine (advanced correlation on) from the two test events. */
static misp_engine *build_test_engine(const char *root) {
    misp_engine_builder *builder = NULL;
    if (misp_engine_builder_new(&builder) != MISP_OK) {
        return NULL;
    }
    misp_engine_builder_set_advanced(builder, true);
    char path[4096];
    snprintf(path, sizeof path, "%s/misp-ffi/tests/data/events", root);
    misp_str paths[1] = {{path, strlen(path)}};
    misp_engine *engine = NULL;
    if (misp_engine_builder_add_paths(builder, paths, 1) != MISP_OK) {
        misp_engine_builder_free(builder);
        return NULL;
    }
    if (misp_engine_builder_build(builder, &engine) != MISP_OK) {
        return NULL;
    }
    return engine;
}

/* Whether `a` and `b` give byte-identical answers to every query (summary,
 * all correlations and one attribute's and event's, for a site admin and
 * for org-a, over-correlating and top keys). */
static int same_answers(const misp_engine *a, const misp_engine *b) {
    misp_id org_a = str_id("org-a");
    misp_viewer viewers[2] = {{NULL, NULL, 0, true}, {&org_a, NULL, 0, false}};
    misp_id a1 = str_id("aaaaaaaa-0000-4000-8000-000000000001");
    misp_id event_a = str_id("aaaaaaaa-0000-4000-8000-000000000000");
    int same = 1;
    for (int q = 0; q < 9; q++) {
        char *json[2] = {NULL, NULL};
        size_t len[2] = {0, 0};
        misp_result r[2];
        for (int i = 0; i < 2; i++) {
            const misp_engine *e = i == 0 ? a : b;
            const misp_viewer *v = &viewers[q % 2];
            switch (q) {
            case 0: r[i] = misp_engine_summary(e, &json[i], &len[i]); break;
            case 1: r[i] = misp_engine_over_correlating(e, &json[i], &len[i]); break;
            case 2: r[i] = misp_engine_top_keys(e, 10, &json[i], &len[i]); break;
            case 3: case 4: r[i] = misp_engine_correlations(e, v, &json[i], &len[i]); break;
            case 5: case 6: r[i] = misp_engine_correlations_of(e, &a1, v, &json[i], &len[i]); break;
            default: r[i] = misp_engine_related_events(e, &event_a, v, &json[i], &len[i]); break;
            }
        }
        if (r[0] != MISP_OK || r[1] != MISP_OK || len[0] != len[1] ||
            memcmp(json[0], json[1], len[0]) != 0) {
            printf("     query %d differs: %s | %s\n", q, r[0] == MISP_OK ? json[0] : "(error)",
                   r[1] == MISP_OK ? json[1] : "(error)");
            same = 0;
        }
        misp_string_free(r[0] == MISP_OK ? json[0] : NULL);
        misp_string_free(r[1] == MISP_OK ? json[1] : NULL);
    }
    return same;
}

static void test_engine_snapshots(const char *root, const char *exe) {
    char path[4096], damaged[4096];
    int n = snprintf(path, sizeof path, "%s.engine.snap", exe);
    int m = snprintf(damaged, sizeof damaged, "%s.damaged.snap", exe);
    if (n < 0 || (size_t)n >= sizeof path || m < 0 || (size_t)m >= sizeof damaged) {
        CHECK(0, "engine snapshot paths fit");
        return;
    }
    misp_engine *original = build_test_engine(root);
    CHECK(original != NULL, "build an engine to snapshot");
    if (original == NULL) {
        return;
    }
    misp_result r = misp_engine_save_snapshot(original, path, strlen(path));
    CHECK(r == MISP_OK, "save an engine snapshot");
    misp_engine *opened = NULL;
    r = misp_engine_open_snapshot(path, strlen(path), true, &opened);
    CHECK(r == MISP_OK && opened != NULL, "open (and verify) the engine snapshot");
    if (opened == NULL) {
        misp_engine_free(original);
        return;
    }
    CHECK(same_answers(original, opened), "the snapshot answers every query as the original engine");
    CHECK(count_correlations(opened) == 4, "the snapshot holds the 4 correlations");
    char *json = NULL;
    size_t len = 0;
    r = misp_snapshot_info(path, strlen(path), &json, &len);
    CHECK(r == MISP_OK && json != NULL && strstr(json, "\"kind\":\"engine\"") != NULL,
          "snapshot info of an engine snapshot");
    misp_string_free(json);

    /* A change on the opened handle (decodes it) and on the original. */
    misp_id b1 = str_id("bbbbbbbb-0000-4000-8000-000000000001");
    const char *attr = "{\"id\": \"new\", \"event\": \"aaaaaaaa-0000-4000-8000-000000000000\", "
                       "\"type\": \"domain\", \"value\": \"evil.example\"}";
    int changes_ok = 1;
    misp_engine *both[2] = {original, opened};
    for (int i = 0; i < 2; i++) {
        changes_ok &= misp_engine_remove_attribute(both[i], &b1) == MISP_OK;
        changes_ok &= misp_engine_add_attribute(both[i], attr, strlen(attr)) == MISP_OK;
    }
    CHECK(changes_ok, "changes on the original and on the opened snapshot");
    CHECK(count_correlations(opened) == 4, "remove one correlation, add another");
    CHECK(same_answers(original, opened), "after the same changes, the same answers");
    r = misp_engine_save_snapshot(opened, path, strlen(path));
    CHECK(r == MISP_OK, "save the changed engine over its own snapshot");
    misp_engine *reopened = NULL;
    r = misp_engine_open_snapshot(path, strlen(path), false, &reopened);
    CHECK(r == MISP_OK && reopened != NULL && same_answers(original, reopened),
          "the changed engine reopens with the changes");
    misp_engine_free(reopened);
    misp_engine_free(opened);
    misp_engine_free(original);

    /* A damaged copy: one byte flipped in the middle of the body. */
    FILE *in = fopen(path, "rb");
    static char bytes[1 << 20];
    size_t size = in ? fread(bytes, 1, sizeof bytes, in) : 0;
    if (in) {
        fclose(in);
    }
    CHECK(size > 0 && size < sizeof bytes, "read the snapshot back");
    bytes[size - 1] ^= 0x5a;
    FILE *out = fopen(damaged, "wb");
    CHECK(out != NULL && fwrite(bytes, 1, size, out) == size, "write a damaged copy");
    if (out) {
        fclose(out);
    }
    opened = NULL;
    r = misp_engine_open_snapshot(damaged, strlen(damaged), true, &opened);
    CHECK(r == MISP_ERR_SNAPSHOT && opened == NULL && last_error_contains("damaged.snap"),
          "a damaged engine snapshot is MISP_ERR_SNAPSHOT, naming the file");
    r = misp_engine_open_snapshot("/nonexistent.snap", 17, false, &opened);
    CHECK(r == MISP_ERR_IO && opened == NULL && last_error_contains("/nonexistent.snap"),
          "a missing engine snapshot is MISP_ERR_IO, naming the file");
    r = misp_engine_open_snapshot(NULL, 0, false, &opened);
    CHECK(r == MISP_ERR_NULL, "engine open_snapshot NULL path");
    r = misp_engine_save_snapshot(NULL, path, strlen(path));
    CHECK(r == MISP_ERR_NULL && last_error_contains("engine"), "engine save_snapshot NULL handle");
    remove(damaged);
    remove(path);
}

static void test_free_null(void) {
    misp_string_free(NULL);
    CHECK(1, "misp_string_free(NULL) is a no-op");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <repository root>\n", argv[0]);
        return 2;
    }
    test_version();
    test_result_names();
    test_normalize();
    test_last_error();
    test_load_summary(argv[1]);
    test_warninglists(argv[1]);
    test_packed_batch(argv[1]);
    test_snapshots(argv[1], argv[0]);
    test_engine_bulk(argv[1]);
    test_engine_incremental();
    test_engine_snapshots(argv[1], argv[0]);
    test_free_null();
    printf("test_misp: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
