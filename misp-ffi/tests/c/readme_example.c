#include <stdio.h>
#include <string.h>

#include "misp_correlate.h"

/* Prints the calling thread's last error message after a failed call. */
static int fail(const char *what, misp_result r) {
    char message[512];
    size_t written = 0;
    misp_last_error(message, sizeof message, &written);
    fprintf(stderr, "%s: %s: %s\n", what, misp_result_name(r), message);
    return 1;
}

int main(void) {
    /* Normalise a value as MISP saves it. */
    char *value = NULL;
    size_t len = 0;
    misp_result r = misp_normalize("ip-src", 6, " 10.1.2.3 ", 10, &value, &len);
    if (r != MISP_OK) return fail("normalize", r);
    printf("normalized: %s\n", value);

    /* Check it against warninglists. */
    const char *lists_dir = "misp-ffi/tests/data/warninglists";
    misp_warninglists *lists = NULL;
    r = misp_warninglists_load(lists_dir, strlen(lists_dir), 0, &lists);
    if (r != MISP_OK) return fail("load warninglists", r);
    char *hits = NULL;
    r = misp_warninglists_check(lists, "ip-src", 6, value, len, &hits, &len);
    if (r != MISP_OK) return fail("check", r);
    printf("hits: %s\n", hits);
    misp_string_free(hits);
    misp_string_free(value);
    misp_warninglists_free(lists);

    /* Correlate two MISP events, as seen by organisation "org-a". */
    misp_engine_builder *builder = NULL;
    r = misp_engine_builder_new(&builder);
    if (r != MISP_OK) return fail("builder", r);
    misp_engine_builder_set_advanced(builder, true);
    const char *events_dir = "misp-ffi/tests/data/events";
    misp_str paths[1] = {{events_dir, strlen(events_dir)}};
    r = misp_engine_builder_add_paths(builder, paths, 1);
    if (r != MISP_OK) return fail("add paths", r);
    misp_engine *engine = NULL;
    r = misp_engine_builder_build(builder, &engine); /* consumes the builder */
    if (r != MISP_OK) return fail("build", r);

    misp_id org = {MISP_ID_STR, 0, "org-a", 5};
    misp_viewer viewer = {&org, NULL, 0, false};
    char *pairs = NULL;
    r = misp_engine_correlations(engine, &viewer, &pairs, &len);
    if (r != MISP_OK) return fail("correlations", r);
    printf("correlations: %s\n", pairs);
    misp_string_free(pairs);

    /* Errors are codes, with a message. */
    misp_id missing = {MISP_ID_STR, 0, "no-such-attribute", 17};
    r = misp_engine_correlations_of(engine, &missing, &viewer, &pairs, &len);
    if (r == MISP_ERR_INVALID) fail("expected error", r);
    misp_engine_free(engine);
    return r == MISP_ERR_INVALID ? 0 : 1;
}
