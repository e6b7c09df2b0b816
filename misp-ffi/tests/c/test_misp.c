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

    /* A batch: (type, value) pairs packed in one buffer with end offsets. */
    const char *pairs[][2] = {
        {"ip-src", "192.168.0.1"},
        {"md5", "d41d8cd98f00b204e9800998ecf8427e"},
        {"domain", "misp-project.org"},
        {"hostname", "www.bmw.de"},
    };
    char strings[256] = "";
    size_t ends[8];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 2; j++) {
            strcat(strings, pairs[i][j]);
            ends[n++] = strlen(strings);
        }
    }
    json = NULL;
    r = misp_warninglists_check_batch(lists, strings, strlen(strings), ends, n, &json, &len);
    CHECK(r == MISP_OK, "check a batch");
    CHECK(json != NULL && strstr(json, "[[{\"list\":\"List of RFC 1918 CIDR blocks\"") == json,
          "batch result 0 is the RFC 1918 hit");
    CHECK(json != NULL && strstr(json, "\"match\":\"d41d8cd98f00b204e9800998ecf8427e\"") != NULL,
          "batch result 1 is the empty-file hash");
    CHECK(json != NULL && strstr(json, "}],[],[{") != NULL, "batch result 2 has no hit");
    CHECK(json != NULL && strstr(json, "\"match\":\"bmw.de\",\"value\":\"www.bmw.de\"}]]") != NULL,
          "batch result 3 is the dax30 hostname hit");
    misp_string_free(json);

    r = misp_warninglists_check_batch(lists, strings, strlen(strings), ends, 3, &json, &len);
    CHECK(r == MISP_ERR_INVALID && last_error_contains("pairs"), "an odd batch is MISP_ERR_INVALID");
    size_t bad_ends[2] = {5, 2};
    r = misp_warninglists_check_batch(lists, strings, strlen(strings), bad_ends, 2, &json, &len);
    CHECK(r == MISP_ERR_INVALID && last_error_contains("strings_ends[1]"),
          "decreasing offsets are MISP_ERR_INVALID naming the offset");
    const char bad_utf8[] = {'m', 'd', '5', (char)0xff};
    size_t utf8_ends[2] = {3, 4};
    r = misp_warninglists_check_batch(lists, bad_utf8, 4, utf8_ends, 2, &json, &len);
    CHECK(r == MISP_ERR_UTF8 && last_error_contains("strings[1]"),
          "invalid UTF-8 in a batch names the string");
    r = misp_warninglists_check_batch(lists, NULL, 0, ends, 0, &json, &len);
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
    test_free_null();
    printf("test_misp: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
