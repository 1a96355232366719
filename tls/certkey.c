/*
 * certkey.c — certified keys: a DER certificate chain, its private key and the host
 * names the end entity covers; and the built-in SNI resolver over a list of them.
 *
 * Implementation notes:
 * - mbedTLS parses the chain once, at load time; we keep only each certificate's raw
 *   DER (what the Certificate message sends) and the end entity's names, and free the
 *   mbedtls_x509_crt. The private key lives behind the crypto provider.
 * - mbedTLS recognises PEM only in a buffer whose last byte is NUL (and the length
 *   must count that NUL). Buffers without one are copied with a NUL appended; both
 *   of its DER parsers ignore bytes after the outer SEQUENCE, so DER input survives
 *   the extra byte. Copies of key material are wiped before they are freed.
 * - Names: the end entity's dNSName SANs, lower-cased; the subject CN only when the
 *   certificate has no dNSName SAN at all (RFC 6125 §6.4.4). A name with an embedded
 *   NUL is dropped rather than truncated ("a.com\0.evil" must not become "a.com").
 * - Matching is ASCII case-insensitive and locale-independent. A wildcard counts only
 *   as the whole left-most label followed by at least two labels ("*.example.com",
 *   never "*.com" or "f*.example.com") and matches exactly one label. A reference name
 *   containing '*' never matches, so a certificate's wildcard entry cannot be hit by
 *   a client that sends "*.example.com" literally.
 * - Ed25519 (RFC 8410). mbedTLS 2.28 refuses a certificate with an Ed25519 key or
 *   signature, so when it refuses the chain and some certificate in it carries Ed25519
 *   (found by the crypto layer's bounded DER walk, tls__x509_parts), the chain is parsed
 *   again block by block: such a certificate goes to mbedTLS as a stand-in
 *   (tls__x509_ed25519_stand_in: same names and extensions, a placeholder key and
 *   signature algorithm), only for its names; ck->chain keeps the original DER, and the
 *   key is matched against the original by the provider. Chains without Ed25519 never
 *   take that path, so nothing changes for them.
 * - The object is immutable after construction except for refs (atomic) and the
 *   staples (ocsp.c), which change only under staple_lock.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

/* Certificate and key files are small; anything bigger is a mistake (or /dev/zero). */
#define MAX_FILE_SIZE (1024 * 1024)

/* What a SAN entry's tag byte is for a dNSName (RFC 5280 §4.2.1.6: [2] IA5String). */
#define SAN_TAG_DNS_NAME (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME)

/* ---- names ----------------------------------------------------------------------- */

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

/* Length of a host name without one trailing dot (the root label). */
static size_t host_len(const char *s)
{
    size_t n = strlen(s);

    return (n > 0 && s[n - 1] == '.') ? n - 1 : n;
}

/* Number of labels in s[0..len), or 0 if any label is empty. */
static size_t count_labels(const char *s, size_t len)
{
    size_t labels = 1, label_len = 0;

    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '.') {
            label_len++;
            continue;
        }
        if (label_len == 0)
            return 0;
        labels++;
        label_len = 0;
    }
    return label_len == 0 ? 0 : labels;
}

static bool name_matches_exact(const char *pattern, const char *name, size_t name_len)
{
    return host_len(pattern) == name_len && ascii_eq(pattern, name, name_len);
}

static bool name_matches_wildcard(const char *pattern, const char *name, size_t name_len)
{
    const char *base, *dot;
    size_t base_len, label_len;

    if (pattern[0] != '*' || pattern[1] != '.')
        return false;
    base = pattern + 2;
    base_len = host_len(base);
    if (memchr(base, '*', base_len) != NULL || count_labels(base, base_len) < 2)
        return false;
    dot = memchr(name, '.', name_len);
    if (dot == NULL)
        return false;
    label_len = (size_t)(dot - name);
    return label_len > 0 && name_len - label_len - 1 == base_len &&
           ascii_eq(dot + 1, base, base_len);
}

/* name_len for a usable reference name, or 0 when it can match nothing. */
static size_t reference_len(const char *name)
{
    size_t len;

    if (name == NULL)
        return 0;
    len = host_len(name);
    if (len == 0 || memchr(name, '*', len) != NULL)
        return 0;
    return len;
}

static bool covers_exact(const tls_certified_key *ck, const char *name, size_t name_len)
{
    for (size_t i = 0; i < ck->n_names; i++)
        if (name_matches_exact(ck->names[i], name, name_len))
            return true;
    return false;
}

static bool covers_wildcard(const tls_certified_key *ck, const char *name, size_t name_len)
{
    for (size_t i = 0; i < ck->n_names; i++)
        if (name_matches_wildcard(ck->names[i], name, name_len))
            return true;
    return false;
}

bool tls_certified_key_covers(const tls_certified_key *ck, const char *name)
{
    size_t len = reference_len(name);

    if (ck == NULL || len == 0)
        return false;
    return covers_exact(ck, name, len) || covers_wildcard(ck, name, len);
}

static bool same_names(const tls_certified_key *a, const tls_certified_key *b)
{
    if (a->n_names != b->n_names)
        return false;
    for (size_t i = 0; i < a->n_names; i++)
        if (strcmp(a->names[i], b->names[i]) != 0)
            return false;
    return true;
}

typedef enum { MATCH_EXACT, MATCH_WILDCARD, MATCH_DEFAULT } match_kind;

static bool matches(tls_certified_key *const *certs, size_t i, match_kind kind, const char *name,
                    size_t len)
{
    switch (kind) {
    case MATCH_EXACT:
        return covers_exact(certs[i], name, len);
    case MATCH_WILDCARD:
        return covers_wildcard(certs[i], name, len);
    default:
        return i == 0 || same_names(certs[i], certs[0]);
    }
}

const tls_certified_key *tls__resolve_cert(tls_certified_key *const *certs, size_t n_certs,
                                           bool strict, const char *server_name,
                                           tls_cert_rank_fn rank, const void *rank_arg)
{
    size_t len = 0;
    match_kind first_kind = MATCH_DEFAULT;

    if (n_certs == 0)
        return NULL;
    if (server_name != NULL && server_name[0] != '\0') {
        len = reference_len(server_name);
        /* An exact name anywhere in the list beats a wildcard earlier in it. */
        first_kind = len != 0 ? MATCH_EXACT : MATCH_DEFAULT;
    }
    for (match_kind kind = first_kind; kind <= MATCH_DEFAULT; kind++) {
        if (kind == MATCH_DEFAULT && strict && server_name != NULL && server_name[0] != '\0')
            return NULL;
        const tls_certified_key *best = NULL;
        int best_score = -1;
        for (size_t i = 0; i < n_certs; i++) {
            if (!matches(certs, i, kind, server_name, len))
                continue;
            int score = rank ? rank(rank_arg, certs[i]) : 0;
            if (score > best_score) {
                best = certs[i];
                best_score = score;
            }
        }
        if (best)
            return best;
    }
    return NULL;
}

/* ---- lifetime ----------------------------------------------------------------------- */

/* Frees a certified key in any state of construction (fields zero until set). */
static void certified_key_free(tls_certified_key *ck)
{
    if (ck == NULL)
        return;
    for (size_t i = 0; i < ck->n_chain; i++)
        tls__free(ck->chain[i], ck->chain_len[i]);
    if (ck->names != NULL) {
        for (size_t i = 0; i < ck->n_names; i++)
            tls__free(ck->names[i], strlen(ck->names[i]) + 1);
        tls__free(ck->names, ck->n_names * sizeof *ck->names);
    }
    if (ck->key != NULL)
        tls__signing_key_free(ck->key);
    tls__staple_unref(ck->ocsp);
    tls__staple_unref(ck->scts);
    pthread_mutex_destroy(&ck->staple_lock);
    tls__free(ck, sizeof *ck);
}

tls_certified_key *tls_certified_key_ref(tls_certified_key *ck)
{
    if (ck != NULL)
        atomic_fetch_add_explicit(&ck->refs, 1, memory_order_relaxed);
    return ck;
}

void tls_certified_key_unref(tls_certified_key *ck)
{
    if (ck == NULL)
        return;
    if (atomic_fetch_sub_explicit(&ck->refs, 1, memory_order_release) != 1)
        return;
    atomic_thread_fence(memory_order_acquire);
    certified_key_free(ck);
}

/* ---- parsing ------------------------------------------------------------------------ */

/*
 * Gives a view of buf that ends in a NUL byte, as mbedTLS needs for PEM: buf itself
 * when it already does, else a copy in *copy (tls__alloc, *copy_size bytes).
 */
static tls_error nul_terminated(const uint8_t *buf, size_t len, const uint8_t **view,
                                size_t *view_len, uint8_t **copy, size_t *copy_size)
{
    *copy = NULL;
    *copy_size = 0;
    if (len > 0 && buf[len - 1] == '\0') {
        *view = buf;
        *view_len = len;
        return TLS_OK;
    }
    ENSURE(len < SIZE_MAX, TLS_ERR_INVALID_ARGUMENT);
    *copy = tls__alloc(len + 1);
    ENSURE(*copy != NULL, TLS_ERR_NO_MEMORY);
    if (len > 0)
        memcpy(*copy, buf, len);
    (*copy)[len] = '\0';
    *copy_size = len + 1;
    *view = *copy;
    *view_len = len + 1;
    return TLS_OK;
}

/* A name we can keep as a C string: not empty, no embedded NUL. */
static bool usable_name(const mbedtls_x509_buf *raw)
{
    return raw->p != NULL && raw->len > 0 && memchr(raw->p, '\0', raw->len) == NULL;
}

static bool is_dns_san(const mbedtls_x509_sequence *san)
{
    return san->buf.p != NULL && san->buf.tag == SAN_TAG_DNS_NAME;
}

/* Sets ck->names to lower-cased copies of the n usable names among raws. */
static tls_error set_names(tls_certified_key *ck, const mbedtls_x509_buf *const *raws, size_t n)
{
    char **names;
    size_t kept = 0;

    if (n == 0)
        return TLS_OK;
    names = tls__calloc(n * sizeof *names);
    ENSURE(names != NULL, TLS_ERR_NO_MEMORY);
    for (size_t i = 0; i < n; i++) {
        char *name = tls__alloc(raws[i]->len + 1);

        if (name == NULL) {
            for (size_t j = 0; j < kept; j++)
                tls__free(names[j], strlen(names[j]) + 1);
            tls__free(names, n * sizeof *names);
            return TLS_ERR_NO_MEMORY;
        }
        for (size_t j = 0; j < raws[i]->len; j++)
            name[j] = ascii_lower((char)raws[i]->p[j]);
        name[raws[i]->len] = '\0';
        names[kept++] = name;
    }
    ck->names = names;
    ck->n_names = n;
    return TLS_OK;
}

static tls_error collect_names(tls_certified_key *ck, const mbedtls_x509_crt *ee)
{
    const mbedtls_x509_sequence *san;
    const mbedtls_x509_name *dn;
    const mbedtls_x509_buf **raws, *cn = NULL;
    size_t n_dns = 0, n_usable = 0;
    tls_error err;

    for (san = &ee->subject_alt_names; san != NULL; san = san->next) {
        if (!is_dns_san(san))
            continue;
        n_dns++;
        if (usable_name(&san->buf))
            n_usable++;
    }
    if (n_dns == 0) {
        /* The last CN is the most specific one (the one OpenSSL's X509_check_host uses). */
        for (dn = &ee->subject; dn != NULL; dn = dn->next)
            if (dn->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &dn->oid) == 0)
                cn = &dn->val;
        return (cn != NULL && usable_name(cn)) ? set_names(ck, &cn, 1) : TLS_OK;
    }
    if (n_usable == 0)
        return TLS_OK;
    raws = tls__calloc(n_usable * sizeof *raws);
    ENSURE(raws != NULL, TLS_ERR_NO_MEMORY);
    n_usable = 0;
    for (san = &ee->subject_alt_names; san != NULL; san = san->next)
        if (is_dns_san(san) && usable_name(&san->buf))
            raws[n_usable++] = &san->buf;
    err = set_names(ck, raws, n_usable);
    tls__free(raws, n_usable * sizeof *raws);
    return err;
}

#define PEM_CERT_HEADER "-----BEGIN CERTIFICATE-----"
#define PEM_CERT_FOOTER "-----END CERTIFICATE-----"

/* How many PEM certificate headers the NUL-terminated text holds. */
static size_t count_pem_blocks(const char *text)
{
    size_t n = 0;

    for (const char *p = strstr(text, PEM_CERT_HEADER); p != NULL;
         p = strstr(p + strlen(PEM_CERT_HEADER), PEM_CERT_HEADER))
        n++;
    return n;
}

/* ---- Ed25519 chains ------------------------------------------------------------------ */

static bool carries_ed25519(const uint8_t *der, size_t len)
{
    tls_x509_parts parts;

    return tls__x509_parts(der, len, &parts) == TLS_OK && (parts.ed25519_key || parts.ed25519_sig);
}

/* Length of the DER element at the start of p[0..n) (the certificate of a DER file,
 * which may be followed by the NUL nul_terminated() adds), or 0. */
static size_t der_element_len(const uint8_t *p, size_t n)
{
    size_t hdr = 2, len = 0;

    if (n < 2 || p[0] != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return 0;
    if (p[1] < 0x80) {
        len = p[1];
    } else {
        size_t k = p[1] & 0x7f;

        if (k == 0 || k > 3 || n < 2 + k)
            return 0;
        for (size_t i = 0; i < k; i++)
            len = (len << 8) | p[2 + i];
        hdr += k;
    }
    return len <= n - hdr ? hdr + len : 0;
}

/*
 * Adds one DER certificate to crt (a stand-in when it carries Ed25519) and keeps its
 * original DER in ck (the first TLS_MAX_CHAIN of them; parse_chain refuses longer
 * chains). *ed25519 is set when it carries Ed25519. Returns 0 or an mbedTLS error.
 */
static int add_cert(tls_certified_key *ck, mbedtls_x509_crt *crt, const uint8_t *der, size_t len,
                    bool *ed25519)
{
    const mbedtls_x509_crt *last;
    uint8_t *stand_in = NULL, *keep;
    size_t stand_in_len = 0;
    int rc;

    if (carries_ed25519(der, len)) {
        tls_error err = tls__x509_ed25519_stand_in(der, len, &stand_in, &stand_in_len);

        if (err != TLS_OK)
            return err == TLS_ERR_NO_MEMORY ? MBEDTLS_ERR_X509_ALLOC_FAILED
                                            : MBEDTLS_ERR_X509_INVALID_FORMAT;
        *ed25519 = true;
    }
    rc = mbedtls_x509_crt_parse_der(crt, stand_in != NULL ? stand_in : der,
                                    stand_in != NULL ? stand_in_len : len);
    tls__free(stand_in, stand_in_len);
    if (rc != 0)
        return rc;
    for (last = crt; last->next != NULL; last = last->next)
        ;
    /* Without a stand-in mbedTLS read the outer SEQUENCE only, as in the usual path. */
    if (stand_in == NULL)
        len = last->raw.len;
    if (ck->n_chain == TLS_MAX_CHAIN)
        return 0;
    keep = tls__alloc(len);
    if (keep == NULL)
        return MBEDTLS_ERR_X509_ALLOC_FAILED;
    memcpy(keep, der, len);
    ck->chain[ck->n_chain] = keep;
    ck->chain_len[ck->n_chain] = len;
    ck->n_chain++;
    return 0;
}

/*
 * The chain again, certificate by certificate, through add_cert (NUL-terminated view,
 * as parse_chain has it). Returns 0 or the first mbedTLS error; *ed25519: some
 * certificate carries Ed25519 (otherwise the caller keeps mbedTLS's first verdict). A
 * PEM header without its footer ends the text, as in mbedtls_x509_crt_parse, and
 * parse_chain's block count then reports it.
 */
static int parse_blocks(tls_certified_key *ck, mbedtls_x509_crt *crt, const uint8_t *view,
                        size_t view_len, bool *ed25519)
{
    const uint8_t *p = view;

    *ed25519 = false;
    if (strstr((const char *)view, PEM_CERT_HEADER) == NULL) {
        size_t len = der_element_len(view, view_len);

        return len == 0 ? MBEDTLS_ERR_X509_INVALID_FORMAT : add_cert(ck, crt, view, len, ed25519);
    }
    for (;;) {
        mbedtls_pem_context pem;
        size_t used = 0;
        int rc;

        mbedtls_pem_init(&pem);
        rc = mbedtls_pem_read_buffer(&pem, PEM_CERT_HEADER, PEM_CERT_FOOTER, p, NULL, 0, &used);
        if (rc == MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT || (rc != 0 && used == 0)) {
            mbedtls_pem_free(&pem);
            return 0;
        }
        p += used;
        if (rc == 0)
            rc = add_cert(ck, crt, pem.buf, pem.buflen, ed25519);
        mbedtls_pem_free(&pem);
        if (rc != 0)
            return rc;
    }
}

static tls_error parse_chain(tls_certified_key *ck, const uint8_t *chain, size_t chain_len,
                             const char *chain_name, char *errbuf, size_t errlen)
{
    mbedtls_x509_crt crt;
    const mbedtls_x509_crt *c;
    const uint8_t *view;
    uint8_t *copy = NULL;
    size_t view_len, copy_size = 0, n = 0;
    char mbed_msg[128];
    bool stand_ins = false; /* parse_blocks filled ck->chain */
    int rc;
    tls_error err;

    mbedtls_x509_crt_init(&crt);
    err = nul_terminated(chain, chain_len, &view, &view_len, &copy, &copy_size);
    if (err != TLS_OK) {
        tls__set_err(errbuf, errlen, "%s: out of memory", chain_name);
        goto out;
    }
    /* view is NUL-terminated, so the string functions stop inside it. */
    if (strstr((const char *)view, PEM_CERT_HEADER) == NULL &&
        view[0] != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) {
        err = TLS_ERR_CERT_PARSE;
        if (strstr((const char *)view, "PRIVATE KEY-----") != NULL)
            tls__set_err(errbuf, errlen, "%s: no certificate found (this is a private key)",
                         chain_name);
        else
            tls__set_err(errbuf, errlen, "%s: no certificate found", chain_name);
        goto out;
    }
    rc = mbedtls_x509_crt_parse(&crt, view, view_len);
    if (rc != 0) {
        int rc2;

        mbedtls_x509_crt_free(&crt);
        mbedtls_x509_crt_init(&crt);
        rc2 = parse_blocks(ck, &crt, view, view_len, &stand_ins);
        if (stand_ins)
            rc = rc2;
    }
    if (rc < 0) {
        mbedtls_strerror(rc, mbed_msg, sizeof mbed_msg);
        tls__set_err(errbuf, errlen, "%s: invalid certificate (mbedTLS -0x%04x: %s)", chain_name,
                     (unsigned)-rc, mbed_msg);
        err = TLS_ERR_CERT_PARSE;
        goto out;
    }
    if (rc > 0) {
        tls__set_err(errbuf, errlen, "%s: %d certificate(s) in the chain could not be parsed",
                     chain_name, rc);
        err = TLS_ERR_CERT_PARSE;
        goto out;
    }
    for (c = &crt; c != NULL && c->raw.p != NULL; c = c->next)
        n++;
    /* mbedTLS skips a block with a header but no footer (a truncated file) silently. */
    if (n > 0 && n < count_pem_blocks((const char *)view)) {
        tls__set_err(errbuf, errlen, "%s: certificate %zu in the chain is incomplete", chain_name,
                     n + 1);
        err = TLS_ERR_CERT_PARSE;
        goto out;
    }
    if (n == 0) {
        tls__set_err(errbuf, errlen, "%s: no certificate found", chain_name);
        err = TLS_ERR_CERT_PARSE;
        goto out;
    }
    if (n > TLS_MAX_CHAIN) {
        tls__set_err(errbuf, errlen, "%s: %zu certificates in the chain, at most %d supported",
                     chain_name, n, TLS_MAX_CHAIN);
        err = TLS_ERR_CERT_PARSE;
        goto out;
    }
    for (c = &crt; !stand_ins && c != NULL && c->raw.p != NULL; c = c->next) {
        uint8_t *der = tls__alloc(c->raw.len);

        if (der == NULL) {
            tls__set_err(errbuf, errlen, "%s: out of memory", chain_name);
            err = TLS_ERR_NO_MEMORY;
            goto out;
        }
        memcpy(der, c->raw.p, c->raw.len);
        ck->chain[ck->n_chain] = der;
        ck->chain_len[ck->n_chain] = c->raw.len;
        ck->n_chain++;
    }
    err = collect_names(ck, &crt);
    if (err != TLS_OK)
        tls__set_err(errbuf, errlen, "%s: out of memory", chain_name);

out:
    mbedtls_x509_crt_free(&crt);
    tls__free(copy, copy_size);
    return err;
}

static tls_error parse_key(tls_certified_key *ck, const uint8_t *key, size_t key_len,
                           const char *key_name, char *errbuf, size_t errlen)
{
    const uint8_t *view;
    uint8_t *copy = NULL;
    size_t view_len, copy_size = 0;
    bool encrypted, ed25519;
    tls_error err;

    if (key_len == 0) {
        tls__set_err(errbuf, errlen, "%s: not a private key (PKCS#8, PKCS#1 or SEC1 expected)",
                     key_name);
        return TLS_ERR_KEY_PARSE;
    }
    err = nul_terminated(key, key_len, &view, &view_len, &copy, &copy_size);
    if (err != TLS_OK) {
        tls__set_err(errbuf, errlen, "%s: out of memory", key_name);
        return err;
    }
    err = tls__signing_key_parse(view, view_len, &ck->key);
    /* PKCS#8 "ENCRYPTED PRIVATE KEY" and OpenSSL's "Proc-Type: 4,ENCRYPTED" PEM. */
    encrypted = err == TLS_ERR_KEY_PARSE && strstr((const char *)view, "ENCRYPTED") != NULL;
    ed25519 = err == TLS_ERR_KEY_UNSUPPORTED && tls__is_ed25519_key(view, view_len);
    if (copy != NULL) {
        tls__wipe(copy, copy_size);
        tls__free(copy, copy_size);
    }
    switch (err) {
    case TLS_OK:
        ck->key_type = tls__signing_key_type(ck->key);
        break;
    case TLS_ERR_KEY_PARSE:
        if (encrypted)
            tls__set_err(errbuf, errlen, "%s: encrypted private keys are not supported", key_name);
        else
            tls__set_err(errbuf, errlen, "%s: not a private key (PKCS#8, PKCS#1 or SEC1 expected)",
                         key_name);
        break;
    case TLS_ERR_KEY_UNSUPPORTED:
        if (ed25519)
            tls__set_err(errbuf, errlen,
                         "%s: Ed25519 keys need a crypto back end with Ed25519 (libsodium); "
                         "this engine uses mbedTLS alone",
                         key_name);
        else if (tls__crypto_has_ed25519())
            tls__set_err(errbuf, errlen,
                         "%s: unsupported key type (RSA of at least 2048 bits, ECDSA P-256 or "
                         "P-384, or Ed25519 expected)",
                         key_name);
        else
            tls__set_err(errbuf, errlen,
                         "%s: unsupported key type (RSA of at least 2048 bits, ECDSA P-256 or "
                         "P-384 expected)",
                         key_name);
        break;
    case TLS_ERR_NO_MEMORY:
        tls__set_err(errbuf, errlen, "%s: out of memory", key_name);
        break;
    default:
        /* The provider promises only the errors above; say so rather than guess. */
        tls__set_err(errbuf, errlen, "%s: cannot load the private key (engine error %d)", key_name,
                     (int)err);
        break;
    }
    return err;
}

/* tls_certified_key_parse, with the names the error messages use for the two inputs. */
static tls_error certified_key_parse(const uint8_t *chain, size_t chain_len, const uint8_t *key,
                                     size_t key_len, const char *chain_name, const char *key_name,
                                     tls_certified_key **out, char *errbuf, size_t errlen)
{
    tls_certified_key *ck;
    tls_error err;

    *out = NULL;
    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    ck = tls__calloc(sizeof *ck);
    if (ck == NULL) {
        tls__set_err(errbuf, errlen, "out of memory");
        return TLS_ERR_NO_MEMORY;
    }
    atomic_init(&ck->refs, 1);
    if (pthread_mutex_init(&ck->staple_lock, NULL) != 0) {
        tls__free(ck, sizeof *ck);
        tls__set_err(errbuf, errlen, "out of memory");
        return TLS_ERR_NO_MEMORY;
    }

    err = parse_chain(ck, chain, chain_len, chain_name, errbuf, errlen);
    if (err != TLS_OK)
        goto out;
    err = parse_key(ck, key, key_len, key_name, errbuf, errlen);
    if (err != TLS_OK)
        goto out;
    if (!tls__signing_key_matches_cert(ck->key, ck->chain[0], ck->chain_len[0])) {
        tls__set_err(errbuf, errlen, "%s: key does not match the certificate in %s", key_name,
                     chain_name);
        err = TLS_ERR_KEY_MISMATCH;
        goto out;
    }
    *out = ck;
    ck = NULL;

out:
    certified_key_free(ck);
    return err;
}

tls_error tls_certified_key_parse(const uint8_t *chain, size_t chain_len, const uint8_t *key,
                                  size_t key_len, tls_certified_key **out, char *errbuf,
                                  size_t errlen)
{
    if (out == NULL)
        return TLS_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((chain == NULL && chain_len > 0) || (key == NULL && key_len > 0)) {
        tls__set_err(errbuf, errlen, "no buffer given");
        return TLS_ERR_INVALID_ARGUMENT;
    }
    return certified_key_parse(chain != NULL ? chain : (const uint8_t *)"", chain_len,
                               key != NULL ? key : (const uint8_t *)"", key_len,
                               "certificate chain", "private key", out, errbuf, errlen);
}

/* ---- files ---------------------------------------------------------------------------- */

tls_error tls_certified_key_load(const char *chain_path, const char *key_path,
                                 tls_certified_key **out, char *errbuf, size_t errlen)
{
    uint8_t *chain = NULL, *key = NULL;
    size_t chain_size = 0, chain_len = 0, key_size = 0, key_len = 0;
    tls_error err;

    if (out == NULL)
        return TLS_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (chain_path == NULL || key_path == NULL) {
        tls__set_err(errbuf, errlen, "no certificate or key path given");
        return TLS_ERR_INVALID_ARGUMENT;
    }
    err =
        tls__read_file(chain_path, MAX_FILE_SIZE, &chain, &chain_size, &chain_len, errbuf, errlen);
    if (err != TLS_OK)
        goto out;
    err = tls__read_file(key_path, MAX_FILE_SIZE, &key, &key_size, &key_len, errbuf, errlen);
    if (err != TLS_OK)
        goto out;
    /* read_file's NUL is part of the length: an empty file arrives as 1 byte. */
    err = certified_key_parse(chain, chain_len, key, key_len == 1 ? 0 : key_len, chain_path,
                              key_path, out, errbuf, errlen);

out:
    tls__free(chain, chain_size);
    if (key != NULL) {
        tls__wipe(key, key_size);
        tls__free(key, key_size);
    }
    return err;
}

/* ---- signature schemes -------------------------------------------------------------- */

uint16_t tls__sig_scheme_for_key(const tls_certified_key *ck, tls_slice schemes, uint16_t version)
{
    /* Our preference, as server or client: RSA-PSS before PKCS#1 v1.5, which
     * TLS 1.3 forbids in CertificateVerify (§4.2.3); ECDSA with its curve's hash (bound
     * in 1.3, and what any 1.2 peer expects of the key); Ed25519 as RFC 8446 §4.2.3 and
     * RFC 8422 §5.1.3 name it. */
    static const uint16_t rsa[] = {TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_RSA_PSS_RSAE_SHA384,
                                   TLS_SIG_RSA_PSS_RSAE_SHA512, TLS_SIG_RSA_PKCS1_SHA256,
                                   TLS_SIG_RSA_PKCS1_SHA384,    TLS_SIG_RSA_PKCS1_SHA512};
    static const uint16_t p256[] = {TLS_SIG_ECDSA_SECP256R1_SHA256};
    static const uint16_t p384[] = {TLS_SIG_ECDSA_SECP384R1_SHA384};
    static const uint16_t ed25519[] = {TLS_SIG_ED25519};
    const uint16_t *prefs;
    size_t n;

    if (!ck)
        return 0;
    switch (ck->key_type) {
    case TLS_KEY_RSA:
        prefs = rsa;
        n = version == TLS_VERSION_1_3 ? 3 : sizeof rsa / sizeof rsa[0];
        break;
    case TLS_KEY_ECDSA_P256:
        prefs = p256, n = 1;
        break;
    case TLS_KEY_ECDSA_P384:
        prefs = p384, n = 1;
        break;
    case TLS_KEY_ED25519:
        prefs = ed25519, n = tls__crypto_has_ed25519() ? 1 : 0;
        break;
    default:
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (tls__u16_list_has(schemes, prefs[i]))
            return prefs[i];
    return 0;
}
