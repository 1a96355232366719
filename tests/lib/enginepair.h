/*
 * enginepair.h — an engine client and an engine server connected in memory, for unit
 * tests of the client side (test_client.c, test_client12.c, test_exporter.c).
 *
 * The fixture (certified keys and root stores of the test CA, per key type) is loaded
 * once per test process, as an unchecked libcheck fixture. The helpers assert with
 * libcheck, so they are for libcheck tests only.
 */
#ifndef MOAT_TESTS_ENGINEPAIR_H
#define MOAT_TESTS_ENGINEPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/tls.h"

enum { KT_RSA, KT_P256, KT_P384, KT_COUNT };

/* tests/certs/<dir>/ of each key type, and its end/other keys and CA root store. */
extern const char *const kt_dirs[KT_COUNT];
extern tls_certified_key *end_ck[KT_COUNT], *other_ck[KT_COUNT];
extern tls_root_store *roots[KT_COUNT];

void engine_load_fixture(void); /* aborts when the test CA cannot be loaded */
void engine_free_fixture(void);

/* Configs that must build (asserted). */
tls_client_config *engine_client_config(const tls_client_config_params *p);
tls_server_config *engine_server_config(const tls_server_config_params *p);

typedef struct {
    tls_client_config *ccfg;
    tls_server_config *scfg;
    tls_conn *c, *s;
    tls_error cerr, serr; /* first error each side returned */
} engine_pair;

/* Takes the configs' references; the client connects to `name`. */
void engine_pair_init(engine_pair *p, tls_client_config *ccfg, tls_server_config *scfg,
                      const char *name);
void engine_pair_free(engine_pair *p);
/* Moves TLS bytes both ways until neither side has anything to send; the first error
 * of each side lands in cerr / serr (bytes for a failed side are dropped). */
void engine_shuttle(engine_pair *p);
void engine_assert_ok(const engine_pair *p);
/* Deterministic test data. */
void engine_fill_pattern(uint8_t *buf, size_t n, uint32_t seed);
/* len bytes from → to through the whole pipe, compared exactly. */
void engine_transfer(engine_pair *p, tls_conn *from, tls_conn *to, size_t len, uint32_t seed);

#endif
