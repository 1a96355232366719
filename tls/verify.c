/*
 * verify.c — trust anchors (tls_root_store) and the default server certificate
 * verifier (tls_verify_server_cert): path building from the end entity to a trust
 * anchor, the checks on each certificate of the path, and the server name check.
 *
 * Implementation notes:
 * - mbedTLS only parses here; mbedtls_x509_crt_verify is not used (it reads the clock,
 *   falls back to the CN and stops at the first candidate path). Each presented
 *   certificate is parsed once, in place (the caller's buffers outlive the call), by
 *   mbedtls_x509_crt_parse_der_with_ext_cb. mbedTLS 2.28 does not know three
 *   extensions we need, so the callback records them: subjectKeyIdentifier,
 *   authorityKeyIdentifier and nameConstraints. It refuses every other unknown
 *   critical extension, which makes the parse fail (TLS_ERR_CERT_BAD_ENCODING, as
 *   RFC 5280 §4.2 requires). Without the callback mbedTLS would refuse a critical
 *   nameConstraints (the form RFC 5280 §4.2.1.10 mandates) and silently ignore a
 *   non-critical one.
 * - A trust anchor is its subject, SPKI, subjectKeyIdentifier and name constraints
 *   (rustls's TrustAnchor): its own signature, validity, basicConstraints and pathLen
 *   are not checked. The store keeps each anchor's DER and slices into it, so a
 *   verification never parses an anchor. Root files are decoded block by block
 *   (mbedtls_pem_read_buffer) and go through the same parser, since
 *   mbedtls_x509_crt_parse would refuse an anchor with a critical nameConstraints.
 * - Path building is a depth-first search. At each step the issuer candidates are the
 *   anchors, then the presented intermediates, whose subject is byte-for-byte the
 *   child's issuer and whose SKI equals the child's AKI key identifier when both exist.
 *   An intermediate is used only when it is not already on the path (same subject and
 *   SPKI), passes its checks as a CA and its key verifies the child's signature.
 *   TLS_VERIFY_MAX_INTERMEDIATES and TLS_VERIFY_MAX_SIGNATURE_CHECKS bound the work a
 *   hostile chain can cause (loops, many certificates sharing one name).
 * - When no path works the error is the highest-ranked one seen (rank()): a path that
 *   fails on an expired intermediate says Expired, not UnknownIssuer.
 * - The end entity's own checks come first (validity, not a CA, purpose), the server
 *   name last, after a path is found (rustls's order). Names come from the
 *   subjectAltName only, never the CN (RFC 6125 §6.4.4 lets clients drop it; rustls does).
 * - Name constraints (RFC 5280 §4.2.1.10) of every CA on the path, the anchor's
 *   included, apply to the dNSName and iPAddress SANs of the certificates below it.
 *   Other name forms are not checked: we authenticate servers by DNS name and IP
 *   address only. A violation is TLS_ERR_CERT_NOT_VALID_FOR_NAME (tls.h has no
 *   NameConstraintViolation).
 * - Ed25519 (RFC 8410). mbedTLS 2.28 refuses any certificate with an Ed25519 key or an
 *   Ed25519 signature. Before parsing, the crypto layer's bounded DER walk
 *   (tls__x509_parts) finds the TBS, the SPKI and the signature of every certificate;
 *   one that carries Ed25519 (key: exactly RFC 8410's SPKI; signature: id-Ed25519 with
 *   absent parameters in both signature fields, RFC 5280 §4.1.1.2) is parsed as a
 *   stand-in (tls__x509_ed25519_stand_in: same names, validity and extensions; a
 *   placeholder key and signature algorithm), which stays allocated as long as the
 *   slices into it. Keys, signed bytes and signatures are always taken from the
 *   original DER (pcert.spki/tbs/sig), never from mbedTLS's view of a stand-in, whose
 *   pk is emptied and whose sig_pk/sig_md are cleared so nothing can use them. Other
 *   certificates are parsed exactly as before. An Ed25519 signature is checked by the
 *   provider's Ed25519 back end; without one (mbedTLS only) it is an unsupported
 *   signature algorithm.
 */
#include "verify.h"
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

/* GeneralName tags (RFC 5280 §4.2.1.6) as they appear in a SAN or a name constraint. */
#define GN_DNS_NAME (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME) /* 0x82 */
#define GN_IP_ADDRESS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)                       /* 0x87 */

#define PEM_CERT_HEADER "-----BEGIN CERTIFICATE-----"
#define PEM_CERT_FOOTER "-----END CERTIFICATE-----"

/* mbedTLS error codes add a high-level part (bits 7..14) to a low-level one (0..6). */
static bool is_alloc_failure(int ret)
{
    int high = -((-ret) & 0x7f80), low = -((-ret) & 0x7f);

    return high == MBEDTLS_ERR_X509_ALLOC_FAILED || high == MBEDTLS_ERR_PK_ALLOC_FAILED ||
           high == MBEDTLS_ERR_PEM_ALLOC_FAILED || high == MBEDTLS_ERR_ECP_ALLOC_FAILED ||
           low == MBEDTLS_ERR_ASN1_ALLOC_FAILED || low == MBEDTLS_ERR_MPI_ALLOC_FAILED;
}

static bool slice_eq(tls_slice a, tls_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static tls_slice buf_slice(const mbedtls_x509_buf *b)
{
    return (tls_slice){b->p, b->len};
}

/* ---- parsing certificates ------------------------------------------------------------ */

/* What we read from a certificate beyond what mbedTLS parses. Slices point into the DER. */
typedef struct {
    tls_slice ski; /* subjectKeyIdentifier: the key identifier's bytes */
    tls_slice aki; /* authorityKeyIdentifier: its keyIdentifier's bytes */
    tls_slice nc;  /* nameConstraints: the extension value (DER NameConstraints) */
    bool duplicate;
} cert_ext;

static bool oid_is(const mbedtls_x509_buf *oid, const char *want, size_t want_len)
{
    return oid->len == want_len && memcmp(oid->p, want, want_len) == 0;
}

#define OID_IS(oid, name) oid_is(oid, name, MBEDTLS_OID_SIZE(name))

static int ext_cb(void *arg, const mbedtls_x509_crt *crt, const mbedtls_x509_buf *oid, int critical,
                  const unsigned char *p, const unsigned char *end)
{
    cert_ext *ext = arg;
    tls_slice *slot;

    (void)crt;
    if (OID_IS(oid, MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER))
        slot = &ext->ski;
    else if (OID_IS(oid, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER))
        slot = &ext->aki;
    else if (OID_IS(oid, MBEDTLS_OID_NAME_CONSTRAINTS))
        slot = &ext->nc;
    else
        return critical ? MBEDTLS_ERR_X509_INVALID_EXTENSIONS : 0;
    /* RFC 5280 §4.2: at most one instance of an extension. mbedTLS ignores what we
     * return for a non-critical extension, so the flag carries it out. */
    if (slot->p != NULL) {
        ext->duplicate = true;
        return MBEDTLS_ERR_X509_INVALID_EXTENSIONS;
    }
    slot->p = p;
    slot->len = (size_t)(end - p);
    return 0;
}

/* The content of the single DER element with `tag` that makes up all of in, or false. */
static bool der_unwrap(tls_slice in, int tag, tls_slice *out)
{
    unsigned char *p = (unsigned char *)(uintptr_t)in.p; /* mbedtls_asn1 only reads */
    const unsigned char *end = in.p + in.len;
    size_t len;

    if (in.len == 0 || mbedtls_asn1_get_tag(&p, end, &len, tag) != 0 || p + len != end)
        return false;
    *out = (tls_slice){p, len};
    return true;
}

/*
 * Reduces the raw SKI and AKI values to their key identifiers. They only narrow the
 * issuer search (the signature decides), so a malformed one is dropped rather than
 * refused, as rustls ignores them altogether.
 */
static void reduce_key_ids(cert_ext *ext)
{
    tls_slice seq, id;
    unsigned char *p;
    size_t len;

    if (ext->ski.p != NULL && !der_unwrap(ext->ski, MBEDTLS_ASN1_OCTET_STRING, &ext->ski))
        ext->ski = (tls_slice){NULL, 0};
    if (ext->aki.p == NULL)
        return;
    /* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING
     * OPTIONAL, ... } (RFC 5280 §4.2.1.1) */
    id = (tls_slice){NULL, 0};
    if (der_unwrap(ext->aki, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE, &seq) &&
        seq.len > 0 && seq.p[0] == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0)) {
        p = (unsigned char *)(uintptr_t)seq.p;
        if (mbedtls_asn1_get_tag(&p, seq.p + seq.len, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0) == 0)
            id = (tls_slice){p, len};
    }
    ext->aki = id;
}

static tls_error nc_validate(tls_slice nc);

/* A presented certificate, parsed in place. */
typedef struct {
    mbedtls_x509_crt crt;
    cert_ext ext;
    int64_t not_before, not_after;
    bool repeat; /* the same DER as an earlier presented certificate */
    /* From the original DER, whatever mbedTLS parsed. */
    tls_slice spki, tbs, sig;
    bool ed25519_sig;
    uint8_t *stand_in; /* owned (tls__alloc); crt's slices point into it when set */
    size_t stand_in_len;
} pcert;

static void pcert_free(pcert *c)
{
    mbedtls_x509_crt_free(&c->crt);
    tls__free(c->stand_in, c->stand_in_len);
    c->stand_in = NULL;
    c->stand_in_len = 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (m 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    /* Count from 0000-03-01 so that February, with the leap day, ends each year. */
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;                                  /* 0..399 */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */

    return era * 146097 + doe - 719468;
}

/* mbedTLS has checked the ranges of every field (x509_date_is_valid). */
static int64_t unix_time(const mbedtls_x509_time *t)
{
    return days_from_civil(t->year, t->mon, t->day) * 86400 + t->hour * 3600 + t->min * 60 + t->sec;
}

/* Parses der into c (initialised by the caller); the DER must outlive c. *mbed_ret
 * (may be NULL) gets mbedTLS's error code when it refused the certificate, else 0. */
static tls_error pcert_parse(pcert *c, const uint8_t *der, size_t len, int *mbed_ret)
{
    tls_x509_parts parts;
    const uint8_t *parse = der;
    size_t parse_len = len;
    bool ed25519 =
        tls__x509_parts(der, len, &parts) == TLS_OK && (parts.ed25519_key || parts.ed25519_sig);
    int ret;

    if (mbed_ret != NULL)
        *mbed_ret = 0;
    if (ed25519) {
        tls_error err = tls__x509_ed25519_stand_in(der, len, &c->stand_in, &c->stand_in_len);

        if (err != TLS_OK)
            return err == TLS_ERR_NO_MEMORY ? TLS_ERR_NO_MEMORY : TLS_ERR_CERT_BAD_ENCODING;
        parse = c->stand_in;
        parse_len = c->stand_in_len;
    }
    ret = mbedtls_x509_crt_parse_der_with_ext_cb(&c->crt, parse, parse_len, 0, ext_cb, &c->ext);
    if (mbed_ret != NULL)
        *mbed_ret = ret;
    if (ret != 0)
        return is_alloc_failure(ret) ? TLS_ERR_NO_MEMORY : TLS_ERR_CERT_BAD_ENCODING;
    /* mbedTLS stops at the end of the outer SEQUENCE; bytes after it are garbage. */
    if (c->crt.raw.len != parse_len || c->ext.duplicate)
        return TLS_ERR_CERT_BAD_ENCODING;
    if (ed25519) {
        c->spki = (tls_slice){parts.spki, parts.spki_len};
        c->tbs = (tls_slice){parts.tbs, parts.tbs_len};
        c->sig = (tls_slice){parts.sig, parts.sig_len};
        c->ed25519_sig = parts.ed25519_sig;
        /* The stand-in's placeholders must be unusable, not merely unused. */
        if (parts.ed25519_key) {
            mbedtls_pk_free(&c->crt.pk);
            mbedtls_pk_init(&c->crt.pk);
        }
        if (parts.ed25519_sig) {
            c->crt.sig_pk = MBEDTLS_PK_NONE;
            c->crt.sig_md = MBEDTLS_MD_NONE;
        }
    } else {
        c->spki = buf_slice(&c->crt.pk_raw);
        c->tbs = buf_slice(&c->crt.tbs);
        c->sig = buf_slice(&c->crt.sig);
    }
    reduce_key_ids(&c->ext);
    if (c->ext.nc.p != NULL)
        TRY(nc_validate(c->ext.nc));
    c->not_before = unix_time(&c->crt.valid_from);
    c->not_after = unix_time(&c->crt.valid_to);
    return TLS_OK;
}

static tls_slice subject_of(const pcert *c)
{
    return buf_slice(&c->crt.subject_raw);
}

static tls_slice spki_of(const pcert *c)
{
    return c->spki;
}

/* ---- the root store ------------------------------------------------------------------ */

typedef struct {
    uint8_t *der; /* owned (tls__alloc) */
    size_t der_len;
    uint8_t *stand_in; /* owned: what mbedTLS parsed of an Ed25519 anchor, else NULL */
    size_t stand_in_len;
    /* Into der, or (subject, ski, nc of an Ed25519 anchor) into stand_in. */
    tls_slice subject, spki, ski, nc;
} anchor;

struct tls_root_store {
    atomic_uint refs;
    anchor *anchors; /* owned: room for cap, n_anchors in use */
    size_t n_anchors, cap;
};

size_t tls__root_store_len(const tls_root_store *roots)
{
    return roots != NULL ? roots->n_anchors : 0;
}

static void root_store_free(tls_root_store *roots)
{
    if (roots == NULL)
        return;
    for (size_t i = 0; i < roots->n_anchors; i++) {
        tls__free(roots->anchors[i].der, roots->anchors[i].der_len);
        tls__free(roots->anchors[i].stand_in, roots->anchors[i].stand_in_len);
    }
    tls__free(roots->anchors, roots->cap * sizeof *roots->anchors);
    tls__free(roots, sizeof *roots);
}

tls_root_store *tls_root_store_ref(tls_root_store *roots)
{
    if (roots != NULL)
        atomic_fetch_add_explicit(&roots->refs, 1, memory_order_relaxed);
    return roots;
}

void tls_root_store_unref(tls_root_store *roots)
{
    if (roots == NULL)
        return;
    if (atomic_fetch_sub_explicit(&roots->refs, 1, memory_order_release) != 1)
        return;
    atomic_thread_fence(memory_order_acquire);
    root_store_free(roots);
}

/* Makes an anchor from one certificate's DER (copied). TLS_ERR_CERT_PARSE: unusable
 * (*mbed_ret: mbedTLS's reason, or 0 when the refusal is ours). */
static tls_error anchor_init(anchor *a, const uint8_t *der, size_t len, int *mbed_ret)
{
    pcert c;
    tls_error err;

    memset(a, 0, sizeof *a);
    a->der = tls__alloc(len);
    if (a->der == NULL)
        return TLS_ERR_NO_MEMORY;
    memcpy(a->der, der, len);
    a->der_len = len;
    memset(&c, 0, sizeof c);
    mbedtls_x509_crt_init(&c.crt);
    err = pcert_parse(&c, a->der, len, mbed_ret);
    if (err == TLS_OK) {
        a->subject = subject_of(&c);
        a->spki = spki_of(&c);
        a->ski = c.ext.ski;
        a->nc = c.ext.nc;
        /* The slices point into a->der or the stand-in, not into c.crt: keep both. */
        a->stand_in = c.stand_in;
        a->stand_in_len = c.stand_in_len;
        c.stand_in = NULL;
        c.stand_in_len = 0;
    } else if (err != TLS_ERR_NO_MEMORY) {
        err = TLS_ERR_CERT_PARSE;
    }
    pcert_free(&c);
    if (err != TLS_OK) {
        tls__free(a->der, a->der_len);
        memset(a, 0, sizeof *a);
    }
    return err;
}

static size_t count_pem_blocks(const char *text)
{
    size_t n = 0;

    for (const char *p = strstr(text, PEM_CERT_HEADER); p != NULL;
         p = strstr(p + strlen(PEM_CERT_HEADER), PEM_CERT_HEADER))
        n++;
    return n;
}

/* "certificate 2 of 5 is invalid (mbedTLS -0x2562: ...)" */
static void describe_bad_block(char *errbuf, size_t errlen, const char *path, size_t index,
                               size_t blocks, const char *what, int mbed_ret)
{
    char msg[128];

    if (mbed_ret == 0) {
        tls__set_err(errbuf, errlen, "%s: certificate %zu of %zu %s", path, index, blocks, what);
        return;
    }
    mbedtls_strerror(mbed_ret, msg, sizeof msg);
    tls__set_err(errbuf, errlen, "%s: certificate %zu of %zu %s (mbedTLS -0x%04x: %s)", path, index,
                 blocks, what, (unsigned)-mbed_ret, msg);
}

/*
 * Builds a store from NUL-terminated PEM text. `tolerant` (the system bundle) skips
 * certificates that do not parse; otherwise any of them is an error. Either way at
 * least one anchor is needed.
 *
 * The blocks are decoded one by one with mbedtls_pem_read_buffer and each DER goes
 * through the same parser as presented certificates: mbedtls_x509_crt_parse would
 * refuse an anchor with a critical nameConstraints, which is the form RFC 5280 requires.
 */
static tls_error store_from_pem(const char *path, const uint8_t *pem, bool tolerant,
                                tls_root_store **out, char *errbuf, size_t errlen)
{
    tls_root_store *roots = NULL;
    const uint8_t *p = pem;
    size_t blocks, index = 0;
    tls_error err = TLS_OK;

    blocks = count_pem_blocks((const char *)pem);
    if (blocks == 0) {
        tls__set_err(errbuf, errlen, "%s: no certificates found", path);
        return TLS_ERR_CERT_PARSE;
    }
    roots = tls__calloc(sizeof *roots);
    if (roots == NULL || blocks > SIZE_MAX / sizeof *roots->anchors ||
        (roots->anchors = tls__calloc(blocks * sizeof *roots->anchors)) == NULL) {
        tls__set_err(errbuf, errlen, "%s: out of memory", path);
        err = TLS_ERR_NO_MEMORY;
        goto out;
    }
    roots->cap = blocks;
    atomic_init(&roots->refs, 1);
    while (index < blocks) {
        mbedtls_pem_context pc;
        size_t used = 0;
        int ret, mbed_ret = 0;

        mbedtls_pem_init(&pc);
        ret = mbedtls_pem_read_buffer(&pc, PEM_CERT_HEADER, PEM_CERT_FOOTER, p, NULL, 0, &used);
        if (ret == MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT || (ret != 0 && used == 0)) {
            /* A header without its footer (a cut-off file) ends the text. */
            mbedtls_pem_free(&pc);
            if (!tolerant) {
                describe_bad_block(errbuf, errlen, path, index + 1, blocks,
                                   "is incomplete (no END line)", 0);
                err = TLS_ERR_CERT_PARSE;
                goto out;
            }
            break;
        }
        index++;
        p += used;
        if (ret == 0)
            err = anchor_init(&roots->anchors[roots->n_anchors], pc.buf, pc.buflen, &mbed_ret);
        else
            err = is_alloc_failure(ret) ? TLS_ERR_NO_MEMORY : TLS_ERR_CERT_PARSE;
        mbedtls_pem_free(&pc);
        if (err == TLS_OK) {
            roots->n_anchors++;
            continue;
        }
        if (err == TLS_ERR_NO_MEMORY) {
            tls__set_err(errbuf, errlen, "%s: out of memory", path);
            goto out;
        }
        if (!tolerant) {
            describe_bad_block(errbuf, errlen, path, index, blocks,
                               ret != 0 ? "is not valid PEM" : "is invalid",
                               ret != 0 ? ret : mbed_ret);
            goto out;
        }
        err = TLS_OK;
    }
    if (roots->n_anchors == 0) {
        tls__set_err(errbuf, errlen, "%s: no usable certificates found", path);
        err = TLS_ERR_CERT_PARSE;
        goto out;
    }
    *out = roots;
    roots = NULL;

out:
    root_store_free(roots);
    return err;
}

static tls_error root_store_load(const char *path, bool tolerant, tls_root_store **out,
                                 char *errbuf, size_t errlen)
{
    uint8_t *pem;
    size_t cap, len;
    tls_error err;

    if (out == NULL)
        return TLS_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (path == NULL) {
        tls__set_err(errbuf, errlen, "no root certificate path given");
        return TLS_ERR_INVALID_ARGUMENT;
    }
    TRY(tls__read_file(path, TLS_ROOTS_MAX_FILE_SIZE, &pem, &cap, &len, errbuf, errlen));
    err = store_from_pem(path, pem, tolerant, out, errbuf, errlen);
    tls__free(pem, cap);
    return err;
}

tls_error tls_root_store_load(const char *pem_path, tls_root_store **out, char *errbuf,
                              size_t errlen)
{
    return root_store_load(pem_path, false, out, errbuf, errlen);
}

tls_error tls__root_store_load_bundle(const char *pem_path, tls_root_store **out, char *errbuf,
                                      size_t errlen)
{
    /* Distribution bundles can carry a certificate mbedTLS cannot parse; one bad root
     * must not take all the others down with it. */
    return root_store_load(pem_path, true, out, errbuf, errlen);
}

tls_error tls_root_store_load_system(tls_root_store **out, char *errbuf, size_t errlen)
{
    return tls__root_store_load_bundle(TLS_ROOTS_SYSTEM_BUNDLE, out, errbuf, errlen);
}

/* ---- names ----------------------------------------------------------------------------- */

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

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool label_char(char c)
{
    /* Underscores appear in real host names (SRV-style labels); rustls allows them. */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_';
}

/* A DNS name of s[0..n): labels of 1..63 letters, digits, '-' or '_', no '-' at either
 * end of a label, at most 253 bytes. Returns the number of labels, 0 if invalid. */
static size_t dns_labels(const char *s, size_t n)
{
    size_t labels = 0, start = 0;

    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!label_char(s[i]))
                return 0;
            continue;
        }
        if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-')
            return 0;
        labels++;
        start = i + 1;
    }
    return labels;
}

/* n without one trailing dot (the root label). */
static size_t strip_dot(const char *s, size_t n)
{
    return (n > 0 && s[n - 1] == '.') ? n - 1 : n;
}

/* The reference name the client asked for: an IP literal or a DNS name. */
typedef struct {
    uint8_t ip[16];
    size_t ip_len; /* 4 or 16 for an IP literal, else 0 */
    const char *dns;
    size_t dns_len; /* 0: not a usable DNS name (matches nothing) */
} ref_name;

/* No top-level domain is all digits: such a name is a mistyped IP address ("1.2.3.4."). */
static bool last_label_numeric(const char *s, size_t n)
{
    for (size_t i = n; i > 0 && s[i - 1] != '.'; i--)
        if (!is_digit(s[i - 1]))
            return false;
    return true;
}

static void ref_name_init(ref_name *r, const char *name)
{
    size_t n;

    memset(r, 0, sizeof *r);
    if (inet_pton(AF_INET, name, r->ip) == 1) {
        r->ip_len = 4;
        return;
    }
    if (inet_pton(AF_INET6, name, r->ip) == 1) {
        r->ip_len = 16;
        return;
    }
    n = strip_dot(name, strlen(name));
    if (dns_labels(name, n) == 0 || last_label_numeric(name, n))
        return;
    r->dns = name;
    r->dns_len = n;
}

/*
 * Whether a dNSName SAN (raw bytes) covers the reference DNS name: equal ignoring ASCII
 * case and a trailing dot, or a wildcard that is the whole left-most label of a pattern
 * with at least two labels after it ("*.example.com" covers "a.example.com", never
 * "example.com", "a.b.example.com", or anything through "*.com").
 */
static bool san_dns_matches(const uint8_t *san, size_t san_len, const ref_name *r)
{
    const char *pat = (const char *)san, *dot;
    size_t n = strip_dot(pat, san_len), base_len, label_len;

    if (r->dns_len == 0)
        return false;
    if (n >= 2 && pat[0] == '*' && pat[1] == '.') {
        base_len = n - 2;
        if (dns_labels(pat + 2, base_len) < 2)
            return false;
        dot = memchr(r->dns, '.', r->dns_len);
        if (dot == NULL)
            return false;
        label_len = (size_t)(dot - r->dns);
        return label_len > 0 && r->dns_len - label_len - 1 == base_len &&
               ascii_eq(dot + 1, pat + 2, base_len);
    }
    /* dns_labels also refuses an embedded NUL ("a.com\0.evil"). */
    return dns_labels(pat, n) > 0 && n == r->dns_len && ascii_eq(pat, r->dns, n);
}

static tls_error check_server_name(const mbedtls_x509_crt *ee, const char *server_name)
{
    ref_name r;

    ref_name_init(&r, server_name);
    for (const mbedtls_x509_sequence *s = &ee->subject_alt_names; s != NULL; s = s->next) {
        if (s->buf.p == NULL)
            continue;
        if (r.ip_len != 0) {
            if (s->buf.tag == GN_IP_ADDRESS && s->buf.len == r.ip_len &&
                memcmp(s->buf.p, r.ip, r.ip_len) == 0)
                return TLS_OK;
        } else if (s->buf.tag == GN_DNS_NAME && san_dns_matches(s->buf.p, s->buf.len, &r)) {
            return TLS_OK;
        }
    }
    return TLS_ERR_CERT_NOT_VALID_FOR_NAME;
}

/* ---- name constraints (RFC 5280 §4.2.1.10) ------------------------------------------------ */

/* Whether DNS name `name` lies in the subtree of constraint c: c itself or below it;
 * a leading dot (".example.com", seen in the wild) means strictly below. An empty
 * constraint covers every name. */
static bool dns_in_subtree(const char *name, size_t n, const char *c, size_t cn)
{
    bool below_only;

    n = strip_dot(name, n);
    cn = strip_dot(c, cn);
    below_only = cn > 0 && c[0] == '.';
    if (below_only) {
        c++;
        cn--;
    }
    if (cn == 0)
        return true;
    if (n == cn)
        return !below_only && ascii_eq(name, c, n);
    return n > cn && name[n - cn - 1] == '.' && ascii_eq(name + n - cn, c, cn);
}

/*
 * Whether a SAN dNSName may name something in subtree c. For a wildcard "*.B" that is
 * also true when c is one label below B ("x.B"): the wildcard covers x.B. Permitted
 * subtrees use the literal test only, so a wildcard must lie wholly inside one.
 */
static bool dns_may_be_in_subtree(const char *name, size_t n, const char *c, size_t cn)
{
    const char *dot;
    size_t rest;

    if (dns_in_subtree(name, n, c, cn))
        return true;
    n = strip_dot(name, n);
    cn = strip_dot(c, cn);
    if (n < 2 || name[0] != '*' || name[1] != '.' || cn == 0 || c[0] == '.')
        return false;
    dot = memchr(c, '.', cn);
    if (dot == NULL || dot == c)
        return false;
    rest = cn - (size_t)(dot - c) - 1;
    return rest == n - 2 && ascii_eq(dot + 1, name + 2, rest);
}

static bool ip_in_subtree(const uint8_t *ip, size_t n, const uint8_t *c, size_t cn)
{
    if (cn != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((ip[i] & c[n + i]) != (c[i] & c[n + i]))
            return false;
    return true;
}

/* What one name makes of one NameConstraints. */
typedef struct {
    bool permitted_form; /* some permitted subtree has the name's form */
    bool permitted;      /* ... and one of them covers it */
    bool excluded;       /* an excluded subtree (may) cover it */
} nc_verdict;

/*
 * Walks NameConstraints (DER); with tag != 0 it judges the name (tag GN_DNS_NAME or
 * GN_IP_ADDRESS, raw bytes) into *v. TLS_ERR_CERT_BAD_ENCODING: malformed, or minimum /
 * maximum present (RFC 5280: MUST NOT be used).
 */
static tls_error nc_walk(tls_slice nc, int tag, const uint8_t *name, size_t name_len, nc_verdict *v)
{
    const int seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
    const int ctx = MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED;
    tls_slice body;
    unsigned char *p, *end;
    size_t len;
    int last = -1;

    if (!der_unwrap(nc, seq, &body) || body.len == 0)
        return TLS_ERR_CERT_BAD_ENCODING;
    p = (unsigned char *)(uintptr_t)body.p;
    end = p + body.len;
    while (p < end) {
        int which = *p == (ctx | 0) ? 0 : *p == (ctx | 1) ? 1 : -1;
        unsigned char *trees_end;

        /* [0] permittedSubtrees, then [1] excludedSubtrees, each at most once. */
        if (which <= last || mbedtls_asn1_get_tag(&p, end, &len, ctx | which) != 0 || len == 0)
            return TLS_ERR_CERT_BAD_ENCODING;
        last = which;
        trees_end = p + len;
        while (p < trees_end) {
            unsigned char *tree_end, *base;
            int base_tag;
            size_t base_len;
            bool same_form, in;

            if (mbedtls_asn1_get_tag(&p, trees_end, &len, seq) != 0 || len < 2)
                return TLS_ERR_CERT_BAD_ENCODING;
            tree_end = p + len;
            base_tag = *p++;
            if ((base_tag & 0x1f) == 0x1f || mbedtls_asn1_get_len(&p, tree_end, &base_len) != 0 ||
                base_len != (size_t)(tree_end - p))
                return TLS_ERR_CERT_BAD_ENCODING;
            base = p;
            p = tree_end;
            if (base_tag == GN_IP_ADDRESS && base_len != 8 && base_len != 32)
                return TLS_ERR_CERT_BAD_ENCODING;
            if (tag == 0)
                continue;
            same_form = base_tag == tag;
            if (!same_form)
                continue;
            if (tag == GN_IP_ADDRESS)
                in = ip_in_subtree(name, name_len, base, base_len);
            else if (which == 0)
                in = dns_in_subtree((const char *)name, name_len, (const char *)base, base_len);
            else
                in = dns_may_be_in_subtree((const char *)name, name_len, (const char *)base,
                                           base_len);
            if (which == 0) {
                v->permitted_form = true;
                v->permitted = v->permitted || in;
            } else {
                v->excluded = v->excluded || in;
            }
        }
    }
    return TLS_OK;
}

static tls_error nc_validate(tls_slice nc)
{
    return nc_walk(nc, 0, NULL, 0, NULL);
}

/* Checks the dNSName and iPAddress SANs of crt against one NameConstraints. */
static tls_error nc_check(tls_slice nc, const mbedtls_x509_crt *crt)
{
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s != NULL; s = s->next) {
        nc_verdict v = {false, false, false};

        if (s->buf.p == NULL || (s->buf.tag != GN_DNS_NAME && s->buf.tag != GN_IP_ADDRESS))
            continue;
        TRY(nc_walk(nc, s->buf.tag, s->buf.p, s->buf.len, &v));
        if (v.excluded || (v.permitted_form && !v.permitted))
            return TLS_ERR_CERT_NOT_VALID_FOR_NAME;
    }
    return TLS_OK;
}

/* ---- checks on one certificate -------------------------------------------------------- */

static tls_error check_validity(const pcert *c, int64_t now)
{
    ENSURE(now >= c->not_before, TLS_ERR_CERT_NOT_VALID_YET);
    ENSURE(now <= c->not_after, TLS_ERR_CERT_EXPIRED);
    return TLS_OK;
}

/* What the end entity authenticates: a server (serverAuth, a name) or a client. */
typedef enum { PURPOSE_SERVER, PURPOSE_CLIENT } purpose;

/* An extendedKeyUsage, when present, must name serverAuth, or clientAuth for a client
 * (anyExtendedKeyUsage is not enough: rustls doesn't take it either). */
static bool eku_allows(const mbedtls_x509_crt *crt, purpose why)
{
    if (!(crt->ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE))
        return true;
    for (const mbedtls_x509_sequence *s = &crt->ext_key_usage; s != NULL; s = s->next) {
        if (s->buf.p == NULL)
            continue;
        if (why == PURPOSE_SERVER ? OID_IS(&s->buf, MBEDTLS_OID_SERVER_AUTH)
                                  : OID_IS(&s->buf, MBEDTLS_OID_CLIENT_AUTH))
            return true;
    }
    return false;
}

static bool ku_allows(const mbedtls_x509_crt *crt, unsigned int bit)
{
    return !(crt->ext_types & MBEDTLS_X509_EXT_KEY_USAGE) || (crt->key_usage & bit) != 0;
}

static tls_error check_end_entity(const pcert *ee, int64_t now, purpose why)
{
    TRY(check_validity(ee, now));
    ENSURE(!ee->crt.ca_istrue, TLS_ERR_CERT_CA_USED_AS_END_ENTITY);
    ENSURE(eku_allows(&ee->crt, why), TLS_ERR_CERT_INVALID_PURPOSE);
    /* Every suite we offer signs with the certificate key (ECDHE; no RSA key transport). */
    ENSURE(ku_allows(&ee->crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE), TLS_ERR_CERT_INVALID_PURPOSE);
    return TLS_OK;
}

/* An intermediate with `below` intermediates under it on the path. */
static tls_error check_intermediate(const pcert *ca, int64_t now, size_t below, purpose why)
{
    TRY(check_validity(ca, now));
    ENSURE(ca->crt.ca_istrue, TLS_ERR_CERT_END_ENTITY_USED_AS_CA);
    ENSURE(ku_allows(&ca->crt, MBEDTLS_X509_KU_KEY_CERT_SIGN), TLS_ERR_CERT_INVALID_PURPOSE);
    ENSURE(eku_allows(&ca->crt, why), TLS_ERR_CERT_INVALID_PURPOSE);
    /* mbedTLS stores pathLenConstraint + 1, and 0 when there is none. */
    ENSURE(ca->crt.max_pathlen <= 0 || below <= (size_t)ca->crt.max_pathlen - 1,
           TLS_ERR_CERT_PATH_LEN_EXCEEDED);
    return TLS_OK;
}

/* A signatureAlgorithm as mbedTLS parsed it, as a provider request; false: not one we
 * accept. */
static bool mbed_sig_kind(mbedtls_md_type_t md, mbedtls_pk_type_t pk, const void *opts,
                          tls_x509_sig_kind *kind, tls_hash_id *hash)
{
    const mbedtls_pk_rsassa_pss_options *pss;

    switch (md) {
    case MBEDTLS_MD_SHA256:
        *hash = TLS_HASH_SHA256;
        break;
    case MBEDTLS_MD_SHA384:
        *hash = TLS_HASH_SHA384;
        break;
    case MBEDTLS_MD_SHA512:
        *hash = TLS_HASH_SHA512;
        break;
    default: /* MD5, SHA-1, SHA-224, none */
        return false;
    }
    switch (pk) {
    case MBEDTLS_PK_RSA:
        *kind = TLS_X509_SIG_RSA_PKCS1;
        return true;
    case MBEDTLS_PK_ECDSA:
        *kind = TLS_X509_SIG_ECDSA;
        return true;
    case MBEDTLS_PK_RSASSA_PSS:
        /* Only the profile TLS 1.3 uses: MGF1 with the same hash, salt = hash length. */
        pss = opts;
        if (pss == NULL || pss->mgf1_hash_id != md ||
            pss->expected_salt_len != (int)tls__hash_len(*hash))
            return false;
        *kind = TLS_X509_SIG_RSA_PSS;
        return true;
    default:
        return false;
    }
}

/* The signature algorithm of c as a provider request; false: not one we accept. */
static bool signature_kind(const pcert *c, tls_x509_sig_kind *kind, tls_hash_id *hash)
{
    if (c->ed25519_sig) {
        *kind = TLS_X509_SIG_ED25519;
        *hash = TLS_HASH_SHA512; /* not used: PureEdDSA (RFC 8410 §6) */
        return true;
    }
    return mbed_sig_kind(c->crt.sig_md, c->crt.sig_pk, c->crt.sig_opts, kind, hash);
}

/* ---- path building ------------------------------------------------------------------------ */

typedef struct {
    const tls_root_store *roots;
    const pcert *certs; /* certs[0] is the end entity */
    size_t n_certs;
    int64_t now;
    purpose why;
    size_t path[TLS_VERIFY_MAX_INTERMEDIATES + 1]; /* indices into certs; path[0] = 0 */
    size_t len;
    /* The path found, once extend() succeeded: certificates and the anchor it ends at. */
    size_t found[TLS_VERIFY_MAX_INTERMEDIATES + 1];
    size_t found_len, anchor;
    unsigned sig_checks;
    bool out_of_budget;
    tls_error fatal; /* NO_MEMORY / INTERNAL: stop everything */
    tls_error best;  /* the most telling reason a candidate failed */
} builder;

/* How telling a reason for failing a path is: the highest one is reported. */
static int rank(tls_error err)
{
    switch (err) {
    case TLS_ERR_CERT_EXPIRED:
    case TLS_ERR_CERT_NOT_VALID_YET:
        return 7;
    case TLS_ERR_CERT_BAD_SIGNATURE:
        return 6;
    case TLS_ERR_CERT_NOT_VALID_FOR_NAME: /* a name constraint */
        return 5;
    case TLS_ERR_CERT_INVALID_PURPOSE:
        return 4;
    case TLS_ERR_CERT_PATH_LEN_EXCEEDED:
        return 3;
    case TLS_ERR_CERT_END_ENTITY_USED_AS_CA:
        return 2;
    case TLS_ERR_CERT_UNSUPPORTED_SIGNATURE_ALGORITHM:
    case TLS_ERR_CERT_BAD_ENCODING:
        return 1;
    default:
        return 0;
    }
}

static void note(builder *b, tls_error err)
{
    if (rank(err) > rank(b->best))
        b->best = err;
}

/* Could the holder of (subject, ski) have issued child, and how sure are we? */
typedef enum {
    NOT_ISSUER,
    ISSUER_BY_NAME,   /* names match; no key identifiers to compare */
    ISSUER_BY_KEY_ID, /* names match and child's AKI is the candidate's SKI */
} issuer_match;

static issuer_match may_have_issued(const pcert *child, tls_slice subject, tls_slice ski)
{
    if (!slice_eq(buf_slice(&child->crt.issuer_raw), subject))
        return NOT_ISSUER;
    if (child->ext.aki.len == 0 || ski.len == 0)
        return ISSUER_BY_NAME;
    return slice_eq(child->ext.aki, ski) ? ISSUER_BY_KEY_ID : NOT_ISSUER;
}

/*
 * Notes why a candidate failed. A signature that fails under a candidate matched by
 * name alone only says the candidate was not the issuer (CAs reuse names across keys),
 * so it is not worth more than UnknownIssuer.
 */
static void note_candidate(builder *b, issuer_match how, tls_error err)
{
    if (err == TLS_ERR_CERT_BAD_SIGNATURE && how != ISSUER_BY_KEY_ID)
        return;
    note(b, err);
}

static bool on_path(const builder *b, tls_slice subject, tls_slice spki)
{
    for (size_t i = 0; i < b->len; i++) {
        const pcert *c = &b->certs[b->path[i]];

        if (slice_eq(subject_of(c), subject) && slice_eq(spki_of(c), spki))
            return true;
    }
    return false;
}

/* Verifies child's signature with an issuer's SPKI; counts against the budget. */
static tls_error check_signature(builder *b, const pcert *child, tls_slice spki)
{
    tls_x509_sig_kind kind;
    tls_hash_id hash;
    tls_error err;

    if (!signature_kind(child, &kind, &hash))
        return TLS_ERR_CERT_UNSUPPORTED_SIGNATURE_ALGORITHM;
    if (b->sig_checks >= TLS_VERIFY_MAX_SIGNATURE_CHECKS) {
        b->out_of_budget = true;
        return TLS_ERR_CERT_UNKNOWN_ISSUER;
    }
    b->sig_checks++;
    err = tls__verify_spki(spki.p, spki.len, kind, hash, child->tbs.p, child->tbs.len, child->sig.p,
                           child->sig.len);
    switch (err) {
    case TLS_OK:
        return TLS_OK;
    case TLS_ERR_DECRYPT:
        return TLS_ERR_CERT_BAD_SIGNATURE;
    case TLS_ERR_KEY_UNSUPPORTED: /* wrong kind of key for the algorithm, weak RSA, ... */
        return TLS_ERR_CERT_UNSUPPORTED_SIGNATURE_ALGORITHM;
    case TLS_ERR_CERT_PARSE:
        return TLS_ERR_CERT_BAD_ENCODING;
    case TLS_ERR_NO_MEMORY:
        b->fatal = TLS_ERR_NO_MEMORY;
        return err;
    default:
        b->fatal = TLS_ERR_INTERNAL;
        return TLS_ERR_INTERNAL;
    }
}

/* Name constraints of the anchor and of every intermediate on the path. */
static tls_error check_path_name_constraints(const builder *b, const anchor *a)
{
    for (size_t i = b->len; i > 0; i--) {
        tls_slice nc = i == b->len ? a->nc : b->certs[b->path[i]].ext.nc;

        if (nc.p == NULL)
            continue;
        /* Constraints bind the certificates below the one that carries them. */
        for (size_t j = 0; j < i; j++)
            TRY(nc_check(nc, &b->certs[b->path[j]].crt));
    }
    return TLS_OK;
}

static bool stopped(const builder *b)
{
    return b->out_of_budget || b->fatal != TLS_OK;
}

/*
 * Extends the path past its last certificate. TLS_OK: it now ends at a trust anchor.
 * TLS_ERR_CERT_UNKNOWN_ISSUER: not from here (reasons in b->best; see stopped()).
 */
static tls_error extend(builder *b)
{
    const pcert *child = &b->certs[b->path[b->len - 1]];
    size_t below = b->len - 1; /* intermediates already on the path */
    tls_error err;

    for (size_t i = 0; i < b->roots->n_anchors; i++) {
        const anchor *a = &b->roots->anchors[i];
        issuer_match how = may_have_issued(child, a->subject, a->ski);

        if (how == NOT_ISSUER)
            continue;
        /* The certificate itself is the anchor (a self-signed leaf in the store). rustls
         * has no path then either: an end entity cannot be its own issuer. */
        if (slice_eq(a->subject, subject_of(child)) && slice_eq(a->spki, spki_of(child)))
            continue;
        err = check_signature(b, child, a->spki);
        if (stopped(b))
            return TLS_ERR_CERT_UNKNOWN_ISSUER;
        if (err == TLS_OK)
            err = check_path_name_constraints(b, a);
        if (err == TLS_OK) {
            memcpy(b->found, b->path, b->len * sizeof b->path[0]);
            b->found_len = b->len;
            b->anchor = i;
            return TLS_OK;
        }
        note_candidate(b, how, err);
    }
    if (below == TLS_VERIFY_MAX_INTERMEDIATES)
        return TLS_ERR_CERT_UNKNOWN_ISSUER;
    for (size_t i = 1; i < b->n_certs; i++) {
        const pcert *cand = &b->certs[i];
        issuer_match how;

        if (cand->repeat)
            continue;
        how = may_have_issued(child, subject_of(cand), cand->ext.ski);
        if (how == NOT_ISSUER || on_path(b, subject_of(cand), spki_of(cand)))
            continue;
        err = check_intermediate(cand, b->now, below, b->why);
        if (err == TLS_OK)
            err = check_signature(b, child, spki_of(cand));
        if (stopped(b))
            return TLS_ERR_CERT_UNKNOWN_ISSUER;
        if (err != TLS_OK) {
            note_candidate(b, how, err);
            continue;
        }
        b->path[b->len++] = i;
        err = extend(b);
        b->len--;
        if (err == TLS_OK || stopped(b))
            return err;
    }
    return TLS_ERR_CERT_UNKNOWN_ISSUER;
}

/* ---- revocation (client certificates) ------------------------------------------------- */

struct tls_crl_set {
    mbedtls_x509_crl crls; /* mbedTLS chains every CRL parsed into it from here */
    size_t n;
};

void tls__crl_set_free(tls_crl_set *set)
{
    if (set == NULL)
        return;
    mbedtls_x509_crl_free(&set->crls);
    tls__free(set, sizeof *set);
}

size_t tls__crl_set_len(const tls_crl_set *set)
{
    return set != NULL ? set->n : 0;
}

static size_t count_crls(const mbedtls_x509_crl *head)
{
    size_t n = 0;

    for (const mbedtls_x509_crl *c = head; c != NULL; c = c->next)
        n += c->version != 0; /* an unused head has version 0 */
    return n;
}

tls_error tls__crl_set_load(const char *const *paths, size_t n_paths, tls_crl_set **out,
                            char *errbuf, size_t errlen)
{
    tls_crl_set *set;
    tls_error err = TLS_OK;

    *out = NULL;
    set = tls__calloc(sizeof *set);
    if (set == NULL)
        return TLS_ERR_NO_MEMORY;
    mbedtls_x509_crl_init(&set->crls);
    for (size_t i = 0; i < n_paths && err == TLS_OK; i++) {
        uint8_t *buf;
        size_t cap, len, before = count_crls(&set->crls);
        int ret;

        if (paths[i] == NULL) {
            tls__set_err(errbuf, errlen, "CRL path #%zu is NULL", i + 1);
            err = TLS_ERR_INVALID_ARGUMENT;
            break;
        }
        err = tls__read_file(paths[i], TLS_ROOTS_MAX_FILE_SIZE, &buf, &cap, &len, errbuf, errlen);
        if (err != TLS_OK)
            break;
        /* mbedTLS takes PEM with its NUL counted, DER without our NUL. */
        if (strstr((const char *)buf, "-----BEGIN X509 CRL-----") != NULL)
            ret = mbedtls_x509_crl_parse(&set->crls, buf, len);
        else
            ret = mbedtls_x509_crl_parse_der(&set->crls, buf, len - 1);
        tls__free(buf, cap);
        if (ret != 0 || count_crls(&set->crls) == before) {
            char msg[128] = "no CRL found";

            if (ret != 0)
                mbedtls_strerror(ret, msg, sizeof msg);
            tls__set_err(errbuf, errlen, "%s: not a valid CRL (%s)", paths[i], msg);
            err = ret != 0 && is_alloc_failure(ret) ? TLS_ERR_NO_MEMORY : TLS_ERR_CRL_PARSE;
        }
    }
    if (err != TLS_OK) {
        tls__crl_set_free(set);
        return err;
    }
    set->n = count_crls(&set->crls);
    *out = set;
    return TLS_OK;
}

/* Whether crl lists serial as revoked at `now` (RFC 5280 §5.1.2.6). */
static bool crl_lists(const mbedtls_x509_crl *crl, const mbedtls_x509_buf *serial, int64_t now)
{
    for (const mbedtls_x509_crl_entry *e = &crl->entry; e != NULL; e = e->next)
        if (e->serial.p != NULL && slice_eq(buf_slice(&e->serial), buf_slice(serial)) &&
            unix_time(&e->revocation_date) <= now)
            return true;
    return false;
}

/*
 * RFC 5280 §6.3, reduced: each certificate of the path is looked up in the CRLs whose
 * issuer is byte-for-byte its issuer's name and whose signature its issuer's key
 * verifies (a CRL nobody on the path signed says nothing about it). Delta CRLs,
 * indirect CRLs and issuing distribution points are not interpreted.
 */
static tls_error check_revocation(const builder *b, const tls_crl_set *crls)
{
    for (size_t i = 0; i < b->found_len; i++) {
        const pcert *child = &b->certs[b->found[i]];
        tls_slice issuer_spki = i + 1 < b->found_len ? spki_of(&b->certs[b->found[i + 1]])
                                                     : b->roots->anchors[b->anchor].spki;

        for (const mbedtls_x509_crl *crl = &crls->crls; crl != NULL; crl = crl->next) {
            tls_x509_sig_kind kind;
            tls_hash_id hash;
            tls_error err;

            if (crl->version == 0 ||
                !slice_eq(buf_slice(&crl->issuer_raw), buf_slice(&child->crt.issuer_raw)) ||
                !crl_lists(crl, &child->crt.serial, b->now) ||
                !mbed_sig_kind(crl->sig_md, crl->sig_pk, crl->sig_opts, &kind, &hash))
                continue;
            err = tls__verify_spki(issuer_spki.p, issuer_spki.len, kind, hash, crl->tbs.p,
                                   crl->tbs.len, crl->sig.p, crl->sig.len);
            if (err == TLS_OK)
                return TLS_ERR_CERT_REVOKED;
            if (err == TLS_ERR_NO_MEMORY)
                return err;
        }
    }
    return TLS_OK;
}

/* ---- the verifiers --------------------------------------------------------------------- */

/* Parses the chain, checks the end entity for `why`, builds a path and checks the name
 * (servers) or the CRLs (clients, when crls is not NULL). */
static tls_error verify_chain(const tls_root_store *roots, const uint8_t *const *chain,
                              const size_t *chain_lens, size_t n_chain, purpose why,
                              const char *server_name, const tls_crl_set *crls, int64_t now)
{
    pcert *certs;
    builder b;
    tls_error err = TLS_OK;

    if (roots == NULL || (why == PURPOSE_SERVER && server_name == NULL) ||
        (n_chain > 0 && (chain == NULL || chain_lens == NULL)))
        return TLS_ERR_INVALID_ARGUMENT;
    if (n_chain == 0)
        return TLS_ERR_NO_CERTIFICATES_PRESENTED;
    if (n_chain > SIZE_MAX / sizeof *certs)
        return TLS_ERR_NO_MEMORY;
    certs = tls__calloc(n_chain * sizeof *certs);
    if (certs == NULL)
        return TLS_ERR_NO_MEMORY;
    for (size_t i = 0; i < n_chain; i++)
        mbedtls_x509_crt_init(&certs[i].crt);
    for (size_t i = 0; i < n_chain && err == TLS_OK; i++) {
        if (chain[i] == NULL)
            err = TLS_ERR_INVALID_ARGUMENT;
        else
            err = pcert_parse(&certs[i], chain[i], chain_lens[i], NULL);
        for (size_t j = 0; err == TLS_OK && j < i && !certs[i].repeat; j++)
            certs[i].repeat =
                chain_lens[j] == chain_lens[i] && memcmp(chain[j], chain[i], chain_lens[i]) == 0;
    }
    if (err != TLS_OK)
        goto out;
    err = check_end_entity(&certs[0], now, why);
    if (err != TLS_OK)
        goto out;

    memset(&b, 0, sizeof b);
    b.roots = roots;
    b.certs = certs;
    b.n_certs = n_chain;
    b.now = now;
    b.why = why;
    b.path[0] = 0;
    b.len = 1;
    b.fatal = TLS_OK;
    b.best = TLS_ERR_CERT_UNKNOWN_ISSUER;
    err = extend(&b);
    if (b.fatal != TLS_OK)
        err = b.fatal;
    else if (err != TLS_OK)
        err = b.best;
    if (err != TLS_OK)
        goto out;
    if (why == PURPOSE_SERVER)
        err = check_server_name(&certs[0].crt, server_name);
    else if (crls != NULL)
        err = check_revocation(&b, crls);

out:
    for (size_t i = 0; i < n_chain; i++)
        pcert_free(&certs[i]);
    tls__free(certs, n_chain * sizeof *certs);
    return err;
}

tls_error tls_verify_server_cert(const tls_root_store *roots, const uint8_t *const *chain,
                                 const size_t *chain_lens, size_t n_chain, const char *server_name,
                                 int64_t now)
{
    return verify_chain(roots, chain, chain_lens, n_chain, PURPOSE_SERVER, server_name, NULL, now);
}

tls_error tls_verify_client_cert(const tls_root_store *roots, const uint8_t *const *chain,
                                 const size_t *chain_lens, size_t n_chain, int64_t now)
{
    return verify_chain(roots, chain, chain_lens, n_chain, PURPOSE_CLIENT, NULL, NULL, now);
}

tls_error tls__verify_client_chain(const tls_root_store *roots, const tls_crl_set *crls,
                                   const uint8_t *const *chain, const size_t *chain_lens,
                                   size_t n_chain, int64_t now)
{
    return verify_chain(roots, chain, chain_lens, n_chain, PURPOSE_CLIENT, NULL, crls, now);
}

tls_slice tls__root_store_subject(const tls_root_store *roots, size_t i)
{
    return i < tls__root_store_len(roots) ? roots->anchors[i].subject : (tls_slice){NULL, 0};
}

bool tls__cert_subject_cn(const uint8_t *der, size_t len, char *out, size_t cap)
{
    const mbedtls_x509_buf *cn = NULL;
    pcert c;
    bool found = false;

    if (cap == 0)
        return false;
    out[0] = '\0';
    memset(&c, 0, sizeof c);
    mbedtls_x509_crt_init(&c.crt);
    if (pcert_parse(&c, der, len, NULL) == TLS_OK) {
        for (const mbedtls_x509_name *n = &c.crt.subject; n != NULL; n = n->next)
            if (n->oid.p != NULL && OID_IS(&n->oid, MBEDTLS_OID_AT_CN))
                cn = &n->val; /* the last one: the most specific (RFC 6125 §6.4.4) */
        if (cn != NULL) {
            size_t n = cn->len < cap - 1 ? cn->len : cap - 1;

            for (size_t i = 0; i < n; i++)
                out[i] = cn->p[i] < 0x20 || cn->p[i] == 0x7f ? '?' : (char)cn->p[i];
            out[n] = '\0';
            found = true;
        }
    }
    pcert_free(&c);
    return found;
}
