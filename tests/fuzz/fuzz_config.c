/*
 * fuzz_config.c — moat's YAML configuration loader (cfg_load_string: libyaml, then
 * config/yaml_doc.c and config/values.c's validation, then the listeners' TLS configs).
 *
 * The input is the YAML text, in an exact-size buffer without a terminating NUL. Paths
 * in it are opened relative to the current directory (make runs the fuzzer from the
 * repository root, so the seeds' tests/certs/... paths load). A config that loads is
 * reloaded from the same text with itself as the previous config (cfg_reload_string:
 * what SIGHUP does), and every error message must be one NUL-terminated line.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static void check_err(const char *err, size_t cap)
{
    const char *nul = memchr(err, '\0', cap);
    FUZZ_CHECK(nul != NULL);
    FUZZ_CHECK(memchr(err, '\n', (size_t)(nul - err)) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfg_config *cfg = NULL, *again = NULL;
    char err[512];
    char *yaml = (char *)fuzz_dup(data, size);

    fuzz_clock_set(FUZZ_NOW);
    fuzz_rng_reset(FUZZ_RNG_OTHER, 5);
    memset(err, 'x', sizeof err);
    int rc = cfg_load_string("fuzz.yaml", yaml, size, &cfg, err, sizeof err);
    check_err(err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1 && cfg == NULL && err[0] != '\0');
    } else {
        FUZZ_CHECK(cfg != NULL && cfg->n_listeners >= 1);
        for (size_t i = 0; i < cfg->n_listeners; i++) {
            FUZZ_CHECK(cfg->listeners[i].tls != NULL);
            FUZZ_CHECK(cfg->listeners[i].backend < cfg->n_backends);
            for (size_t r = 0; r < cfg->listeners[i].n_routes; r++)
                FUZZ_CHECK(cfg->listeners[i].routes[r].backend < cfg->n_backends);
        }
        rc = cfg_reload_string("fuzz.yaml", yaml, size, cfg, &again, err, sizeof err);
        check_err(err, sizeof err);
        FUZZ_CHECK(rc == 0 || again == NULL);
        cfg_unref(again);
        cfg_unref(cfg);
    }
    free(yaml);
    return 0;
}
