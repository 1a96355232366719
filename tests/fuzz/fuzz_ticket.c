/*
 * fuzz_ticket.c — the session ticket opener and the ticket key file loader (tls/ticket.c).
 *
 * Input: byte 0 picks the mode (modulo 3), the rest is:
 *   0  a ticket, opened by a ticketer with fixed keys (FUZZ_TICKET_KEYS): what a client
 *      can put in a pre_shared_key identity or an RFC 5077 session_ticket;
 *   1  a ticket plaintext, sealed here under the same fixed key (the derivation below
 *      mirrors ticket.c's key_derive), so the fuzzer reaches the state decoder behind
 *      the AEAD; a state that opens must encode back to the same bytes;
 *   2  the text of a key file (written 0600 to a temporary file) for tls_ticketer_load;
 *      a ticketer that loads must seal and open a ticket.
 * Every state that opens is sealed again and must open to the same state.
 */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/ticket.h"

#define KEY_ID_LEN 4
/* The format byte of today's ticket plaintext; see ticket.c. */
#define PLAIN_OFFSET_OF_ISSUED(psk_len) (1 + 2 + 2 + 1 + (psk_len) + 1)

static tls_ticketer *fixed;
static tls_aead *mirror_aead; /* NULL: the mirror derivation disagrees with ticket.c */
static uint8_t mirror_id[KEY_ID_LEN];

static void mirror_keys(void)
{
    static const char salt[] = "moat ticket key v1", id_label[] = "moat ticket key id",
                      aead_label[] = "moat ticket aead key";
    static const char first_key[] = "moat fuzz ticket key one, fixed.";
    uint8_t prk[32], key[32];

    if (tls__hkdf_extract(TLS_HASH_SHA256, (const uint8_t *)salt, sizeof salt - 1,
                          (const uint8_t *)first_key, 32, prk) != TLS_OK ||
        tls__hkdf_expand(TLS_HASH_SHA256, prk, sizeof prk, (const uint8_t *)id_label,
                         sizeof id_label - 1, mirror_id, sizeof mirror_id) != TLS_OK ||
        tls__hkdf_expand(TLS_HASH_SHA256, prk, sizeof prk, (const uint8_t *)aead_label,
                         sizeof aead_label - 1, key, sizeof key) != TLS_OK ||
        tls__aead_new(TLS_AEAD_AES_256_GCM, key, sizeof key, &mirror_aead) != TLS_OK)
        abort();
    /* Check the mirror against the real thing once: seal with the ticketer, open here. */
    tls_ticket_state st;
    uint8_t ticket[TLS_TICKET_MAX_LEN], plain[TLS_TICKET_MAX_LEN];
    size_t len;
    memset(&st, 0, sizeof st);
    st.version = TLS_VERSION_1_3;
    st.suite = TLS_AES_128_GCM_SHA256;
    st.psk_len = 32;
    if (tls__ticketer_seal(fixed, &st, ticket, sizeof ticket, &len) != TLS_OK)
        abort();
    if (memcmp(ticket, mirror_id, KEY_ID_LEN) != 0 ||
        tls__aead_open(mirror_aead, ticket + KEY_ID_LEN, ticket, KEY_ID_LEN,
                       ticket + KEY_ID_LEN + TLS_AEAD_NONCE_LEN, len - KEY_ID_LEN - TLS_AEAD_NONCE_LEN,
                       plain) != TLS_OK) {
        fprintf(stderr, "fuzz_ticket: ticket.c's key derivation changed; mode 1 is off\n");
        tls__aead_free(mirror_aead);
        mirror_aead = NULL;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char keys[] = FUZZ_TICKET_KEYS;
    char err[256];
    (void)argc;
    (void)argv;
    fuzz_clock_set(FUZZ_NOW);
    fuzz_rng_reset(FUZZ_RNG_OTHER, 7);
    const char *path = fuzz_tmpfile(0, (const uint8_t *)keys, sizeof keys - 1, 0600);
    if (tls_ticketer_load(path, &fixed, err, sizeof err) != TLS_OK) {
        fprintf(stderr, "fuzz_ticket: %s\n", err);
        abort();
    }
    mirror_keys();
    return 0;
}

static bool same_state(const tls_ticket_state *a, const tls_ticket_state *b)
{
    return a->version == b->version && a->suite == b->suite && a->psk_len == b->psk_len &&
           memcmp(a->psk, b->psk, a->psk_len) == 0 && a->ems == b->ems &&
           a->issued == b->issued && a->origin == b->origin && a->age_add == b->age_add &&
           a->lifetime == b->lifetime && a->max_early_data == b->max_early_data &&
           strcmp(a->sni, b->sni) == 0 && a->alpn[0] == b->alpn[0] &&
           memcmp(a->alpn + 1, b->alpn + 1, a->alpn[0]) == 0;
}

/* An opened state is sane, seals again and opens to itself. */
static void check_state(tls_ticketer *t, const tls_ticket_state *st)
{
    tls_ticket_state copy = *st, again;
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    size_t len = 0;

    FUZZ_CHECK(st->version == TLS_VERSION_1_2 || st->version == TLS_VERSION_1_3);
    FUZZ_CHECK(st->psk_len >= 1 && st->psk_len <= TLS_MAX_HASH_LEN);
    FUZZ_CHECK(memchr(st->sni, '\0', sizeof st->sni) != NULL);
    (void)tls__ticket_state_live(st, FUZZ_NOW);
    (void)tls__ticket_state_live(st, INT64_MAX);
    (void)tls__ticket_state_live(st, INT64_MIN);
    tls_error err = tls__ticketer_seal(t, &copy, ticket, sizeof ticket, &len);
    FUZZ_CHECK(err == TLS_OK && len <= TLS_TICKET_MAX_LEN);
    FUZZ_CHECK(copy.issued == tls__ticketer_now(t));
    err = tls__ticketer_open(t, ticket, len, &again);
    FUZZ_CHECK(err == TLS_OK);
    FUZZ_CHECK(same_state(&copy, &again));
}

static void open_ticket(const uint8_t *p, size_t n)
{
    tls_ticket_state st;
    uint8_t *copy = fuzz_dup(p, n);
    if (tls__ticketer_open(fixed, copy, n, &st) == TLS_OK)
        check_state(fixed, &st);
    free(copy);
}

static void open_plaintext(const uint8_t *p, size_t n)
{
    uint8_t ticket[KEY_ID_LEN + TLS_AEAD_NONCE_LEN + 1024 + TLS_AEAD_TAG_LEN];
    static const uint8_t nonce[TLS_AEAD_NONCE_LEN] = "fuzz nonce!";
    tls_ticket_state st;

    if (!mirror_aead || n > 1024)
        return;
    memcpy(ticket, mirror_id, KEY_ID_LEN);
    memcpy(ticket + KEY_ID_LEN, nonce, sizeof nonce);
    if (tls__aead_seal(mirror_aead, nonce, ticket, KEY_ID_LEN, p, n,
                       ticket + KEY_ID_LEN + TLS_AEAD_NONCE_LEN) != TLS_OK)
        abort();
    size_t len = KEY_ID_LEN + TLS_AEAD_NONCE_LEN + n + TLS_AEAD_TAG_LEN;
    uint8_t *copy = fuzz_dup(ticket, len);
    tls_error err = tls__ticketer_open(fixed, copy, len, &st);
    free(copy);
    if (err != TLS_OK)
        return;
    check_state(fixed, &st);
    /* Decoding then encoding gives the same plaintext (but for `issued`, which sealing
     * sets from the clock, and an `origin` of 0, which sealing reads as "now"). */
    uint8_t sealed[TLS_TICKET_MAX_LEN], plain[TLS_TICKET_MAX_LEN];
    size_t slen = 0;
    tls_ticket_state again = st;
    FUZZ_CHECK(tls__ticketer_seal(fixed, &again, sealed, sizeof sealed, &slen) == TLS_OK);
    FUZZ_CHECK(slen == len);
    FUZZ_CHECK(tls__aead_open(mirror_aead, sealed + KEY_ID_LEN, sealed, KEY_ID_LEN,
                              sealed + KEY_ID_LEN + TLS_AEAD_NONCE_LEN,
                              slen - KEY_ID_LEN - TLS_AEAD_NONCE_LEN, plain) == TLS_OK);
    size_t at = PLAIN_OFFSET_OF_ISSUED(st.psk_len), skip = st.origin ? 8 : 16;
    FUZZ_CHECK(at + skip <= n);
    FUZZ_CHECK(memcmp(plain, p, at) == 0 &&
               memcmp(plain + at + skip, p + at + skip, n - at - skip) == 0);
}

static void load_key_file(const uint8_t *p, size_t n)
{
    tls_ticketer *t = NULL;
    char err[256];
    const char *path = fuzz_tmpfile(1, p, n, 0600);
    tls_error rc = tls_ticketer_load(path, &t, err, sizeof err);
    FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    if (rc != TLS_OK) {
        FUZZ_CHECK(t == NULL);
        FUZZ_CHECK(rc == TLS_ERR_TICKET_KEY_FILE || rc == TLS_ERR_TICKET_KEY_PARSE);
        return;
    }
    FUZZ_CHECK(tls__ticketer_is_shared(t));
    tls_ticket_state st;
    memset(&st, 0, sizeof st);
    st.version = TLS_VERSION_1_2;
    st.suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    st.psk_len = 48;
    st.ems = true;
    snprintf(st.sni, sizeof st.sni, "localhost");
    check_state(t, &st);
    tls_ticketer_unref(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_clock_set(FUZZ_NOW);
    fuzz_rng_reset(FUZZ_RNG_OTHER, 7);
    switch (data[0] % 3) {
    case 0:
        open_ticket(data + 1, size - 1);
        break;
    case 1:
        open_plaintext(data + 1, size - 1);
        break;
    default:
        load_key_file(data + 1, size - 1);
        break;
    }
    return 0;
}
