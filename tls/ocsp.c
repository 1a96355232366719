/*
 * ocsp.c — OCSP stapling (RFC 6960 responses checked before they are stapled, RFC 6960
 * §4.1 requests for a fetcher) and SCT stapling (RFC 6962 §3.3 list structure), and
 * the certified key's staples.
 *
 * Implementation notes:
 * - mbedTLS 2.28 has no OCSP, so every structure is read with the codec's bounded DER
 *   reader (tls_read_der: one tag byte, shortest definite lengths): responses, the
 *   end-entity, issuer and responder certificates alike. Only the fields the checks
 *   need are kept, as slices into the caller's bytes.
 * - Names are compared byte for byte (the issuer's subject against the end entity's
 *   issuer and a responder's issuer; a byName ResponderID against a subject), as the
 *   CertID hash compares them anyway (RFC 6960 §4.1.1 hashes the DER).
 * - A response is signed by the issuer itself or by a responder certificate carried in
 *   the response that the issuer signed, that is valid now and whose extendedKeyUsage
 *   has id-kp-OCSPSigning (RFC 6960 §4.2.2.2). Signature algorithms: RSA PKCS#1 v1.5,
 *   ECDSA with SHA-256/384/512, Ed25519; never SHA-1 or MD5.
 * - Staples are immutable blobs (tls_staple) with their own reference count. Setting one
 *   swaps a pointer under the key's mutex and drops the old reference outside it; a
 *   handshake takes its references under the same mutex, so it keeps what it took
 *   even if the staple is replaced or removed while it is being sent.
 */
#include "ocsp.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/sha1.h>

#define SHA1_LEN 20
#define SHA256_LEN 32

/* DER tags RFC 6960 and RFC 5280 use beyond codec.h's universal ones. */
#define DER_BOOLEAN 0x01
#define DER_NULL 0x05
#define DER_ENUMERATED 0x0a
#define DER_UTC_TIME 0x17
#define DER_GENERALIZED_TIME 0x18
#define DER_CTX0 0xa0 /* [0] EXPLICIT / constructed */
#define DER_CTX1 0xa1
#define DER_CTX2 0xa2
#define DER_CTX3 0xa3
#define DER_CTX0_PRIM 0x80 /* [0] IMPLICIT NULL: certStatus good */
#define DER_CTX2_PRIM 0x82 /* [2] IMPLICIT NULL: unknown */
#define DER_URI 0x86       /* GeneralName uniformResourceIdentifier [6] IMPLICIT IA5String */

/* OID contents (X.690 §8.19). */
static const uint8_t OID_OCSP_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t OID_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t OID_SHA256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t OID_EKU[] = {0x55, 0x1d, 0x25};
static const uint8_t OID_KP_OCSP_SIGNING[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09};
static const uint8_t OID_AIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const uint8_t OID_AD_OCSP[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
static const uint8_t OID_RSA_SHA256[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
static const uint8_t OID_RSA_SHA384[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
static const uint8_t OID_RSA_SHA512[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d};
static const uint8_t OID_ECDSA_SHA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t OID_ECDSA_SHA384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t OID_ECDSA_SHA512[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};

/* ---- DER helpers ------------------------------------------------------------------------ */

static tls_slice slice_of(const tls_reader *r)
{
    tls_slice s = {r->p, (size_t)(r->end - r->p)};
    return s;
}

/* tls_read_der, also giving the whole element (tag and length included). */
static bool read_elem(tls_reader *r, uint8_t tag, tls_reader *body, tls_slice *whole)
{
    const uint8_t *start = r->p;

    if (!tls_read_der(r, tag, body))
        return false;
    if (whole != NULL) {
        whole->p = start;
        whole->len = (size_t)(r->p - start);
    }
    return true;
}

static bool next_is(const tls_reader *r, uint8_t tag)
{
    uint8_t t;

    return tls_peek_der_tag(r, &t) && t == tag;
}

static bool slice_eq(tls_slice a, const uint8_t *p, size_t len)
{
    return a.len == len && (len == 0 || memcmp(a.p, p, len) == 0);
}

static bool slices_equal(tls_slice a, tls_slice b)
{
    return slice_eq(a, b.p, b.len);
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (m 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

static bool digits(const uint8_t *p, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5; RFC 6960
 * uses the latter, which may carry fractional seconds: they are dropped). */
static bool read_time(tls_reader *r, int64_t *out)
{
    tls_reader body;
    tls_slice s;
    int y, mo, d, h, mi, sec;
    size_t ylen;

    if (next_is(r, DER_UTC_TIME)) {
        if (!tls_read_der(r, DER_UTC_TIME, &body))
            return false;
        ylen = 2;
    } else if (!tls_read_der(r, DER_GENERALIZED_TIME, &body)) {
        return false;
    } else {
        ylen = 4;
    }
    s = slice_of(&body);
    if (s.len < ylen + 11 || s.p[s.len - 1] != 'Z')
        return false;
    if (s.len != ylen + 11) { /* fraction: ".d+" between the seconds and the Z */
        if (ylen != 4 || s.p[ylen + 10] != '.' || s.len < ylen + 13)
            return false;
        for (size_t i = ylen + 11; i < s.len - 1; i++)
            if (s.p[i] < '0' || s.p[i] > '9')
                return false;
    }
    if (!digits(s.p, ylen, &y) || !digits(s.p + ylen, 2, &mo) || !digits(s.p + ylen + 2, 2, &d) ||
        !digits(s.p + ylen + 4, 2, &h) || !digits(s.p + ylen + 6, 2, &mi) ||
        !digits(s.p + ylen + 8, 2, &sec))
        return false;
    if (ylen == 2)
        y += y >= 50 ? 1900 : 2000; /* RFC 5280 §4.1.2.5.1 */
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

/* An AlgorithmIdentifier's OID and parameters (whole element; empty when absent). */
static bool read_alg(tls_reader *r, tls_slice *oid, tls_slice *params)
{
    tls_reader alg, o;

    if (!tls_read_der(r, TLS_DER_SEQUENCE, &alg) || !tls_read_der(&alg, TLS_DER_OID, &o))
        return false;
    *oid = slice_of(&o);
    *params = slice_of(&alg);
    return true;
}

/* A signatureAlgorithm as a provider request; false: not one we accept. */
static bool sig_kind(tls_slice oid, tls_slice params, tls_x509_sig_kind *kind, tls_hash_id *hash)
{
    static const struct {
        const uint8_t *oid;
        size_t len;
        tls_x509_sig_kind kind;
        tls_hash_id hash;
        bool null_params; /* RFC 4055 §5: NULL parameters for PKCS#1 v1.5 */
    } algs[] = {
        {OID_RSA_SHA256, sizeof OID_RSA_SHA256, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA256, true},
        {OID_RSA_SHA384, sizeof OID_RSA_SHA384, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA384, true},
        {OID_RSA_SHA512, sizeof OID_RSA_SHA512, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA512, true},
        {OID_ECDSA_SHA256, sizeof OID_ECDSA_SHA256, TLS_X509_SIG_ECDSA, TLS_HASH_SHA256, false},
        {OID_ECDSA_SHA384, sizeof OID_ECDSA_SHA384, TLS_X509_SIG_ECDSA, TLS_HASH_SHA384, false},
        {OID_ECDSA_SHA512, sizeof OID_ECDSA_SHA512, TLS_X509_SIG_ECDSA, TLS_HASH_SHA512, false},
        {OID_ED25519, sizeof OID_ED25519, TLS_X509_SIG_ED25519, TLS_HASH_SHA512, false},
    };
    static const uint8_t null_der[] = {DER_NULL, 0};

    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        if (!slice_eq(oid, algs[i].oid, algs[i].len))
            continue;
        /* RSA: NULL (or, leniently, absent); ECDSA and Ed25519: absent (RFC 5758, 8410). */
        if (params.len != 0 && !(algs[i].null_params && slice_eq(params, null_der, 2)))
            return false;
        *kind = algs[i].kind;
        *hash = algs[i].hash;
        return true;
    }
    return false;
}

/* A BIT STRING's bits with no unused bits (signatures and keys are whole bytes). */
static bool read_bits(tls_reader *r, tls_slice *bits)
{
    tls_reader b;
    uint8_t unused;

    if (!tls_read_der(r, TLS_DER_BIT_STRING, &b) || !tls_read_u8(&b, &unused) || unused != 0)
        return false;
    *bits = slice_of(&b);
    return true;
}

/* ---- certificates ------------------------------------------------------------------------ */

typedef struct {
    tls_slice tbs;     /* the whole TBSCertificate: what the issuer signed */
    tls_slice serial;  /* INTEGER contents */
    tls_slice issuer;  /* whole Name */
    tls_slice subject; /* whole Name */
    int64_t not_before, not_after;
    tls_slice spki;     /* whole SubjectPublicKeyInfo */
    tls_slice key_bits; /* subjectPublicKey's bits: what issuerKeyHash covers */
    tls_slice sig_oid, sig_params;
    tls_slice sig;
    tls_slice exts; /* Extensions' contents (empty when none) */
} cert;

/* RFC 5280 §4.1, as far as these checks need; false: not that shape. */
static bool cert_parse(const uint8_t *der, size_t len, cert *c)
{
    tls_reader r, outer, tbs, skip, spki, ex, exts;
    tls_slice alg, params;

    memset(c, 0, sizeof *c);
    tls_reader_init(&r, der, len);
    if (!tls_read_der(&r, TLS_DER_SEQUENCE, &outer) || !tls_reader_done(&r))
        return false;
    if (!read_elem(&outer, TLS_DER_SEQUENCE, &tbs, &c->tbs) ||
        !read_alg(&outer, &c->sig_oid, &c->sig_params) || !read_bits(&outer, &c->sig) ||
        !tls_reader_done(&outer))
        return false;
    if (next_is(&tbs, DER_CTX0) && !tls_read_der(&tbs, DER_CTX0, &skip))
        return false;
    if (!tls_read_der(&tbs, TLS_DER_INTEGER, &skip))
        return false;
    c->serial = slice_of(&skip);
    if (!read_alg(&tbs, &alg, &params) || !read_elem(&tbs, TLS_DER_SEQUENCE, &skip, &c->issuer) ||
        !tls_read_der(&tbs, TLS_DER_SEQUENCE, &skip) || !read_time(&skip, &c->not_before) ||
        !read_time(&skip, &c->not_after) || !tls_reader_done(&skip) ||
        !read_elem(&tbs, TLS_DER_SEQUENCE, &skip, &c->subject) ||
        !read_elem(&tbs, TLS_DER_SEQUENCE, &spki, &c->spki) || !read_alg(&spki, &alg, &params) ||
        !read_bits(&spki, &c->key_bits) || !tls_reader_done(&spki))
        return false;
    if (next_is(&tbs, 0x81) && !tls_read_der(&tbs, 0x81, &skip)) /* issuerUniqueID */
        return false;
    if (next_is(&tbs, 0x82) && !tls_read_der(&tbs, 0x82, &skip)) /* subjectUniqueID */
        return false;
    if (next_is(&tbs, DER_CTX3)) {
        if (!tls_read_der(&tbs, DER_CTX3, &ex) || !tls_read_der(&ex, TLS_DER_SEQUENCE, &exts) ||
            !tls_reader_done(&ex))
            return false;
        c->exts = slice_of(&exts);
    }
    return tls_reader_done(&tbs);
}

/* The extnValue contents of extension `oid`; false when absent or malformed. */
static bool find_ext(const cert *c, const uint8_t *oid, size_t oid_len, tls_reader *value)
{
    tls_reader exts, ext, o, crit;

    tls_reader_init(&exts, c->exts.p, c->exts.len);
    while (tls_reader_left(&exts)) {
        if (!tls_read_der(&exts, TLS_DER_SEQUENCE, &ext) || !tls_read_der(&ext, TLS_DER_OID, &o))
            return false;
        if (next_is(&ext, DER_BOOLEAN) && !tls_read_der(&ext, DER_BOOLEAN, &crit))
            return false;
        if (!tls_read_der(&ext, TLS_DER_OCTET_STRING, value) || !tls_reader_done(&ext))
            return false;
        if (slice_eq(slice_of(&o), oid, oid_len))
            return true;
    }
    return false;
}

static bool has_ocsp_signing(const cert *c)
{
    tls_reader value, list, kp;

    if (!find_ext(c, OID_EKU, sizeof OID_EKU, &value) ||
        !tls_read_der(&value, TLS_DER_SEQUENCE, &list) || !tls_reader_done(&value))
        return false;
    while (tls_reader_left(&list)) {
        if (!tls_read_der(&list, TLS_DER_OID, &kp))
            return false;
        if (slice_eq(slice_of(&kp), OID_KP_OCSP_SIGNING, sizeof OID_KP_OCSP_SIGNING))
            return true;
    }
    return false;
}

/* Verifies the signature (over signed, with sig_oid/params) with the key of spki. */
static tls_error check_sig(tls_slice spki, tls_slice oid, tls_slice params, tls_slice signed_,
                           tls_slice sig)
{
    tls_x509_sig_kind kind;
    tls_hash_id hash;

    ENSURE(sig_kind(oid, params, &kind, &hash), TLS_ERR_CERT_UNSUPPORTED_SIGNATURE_ALGORITHM);
    return tls__verify_spki(spki.p, spki.len, kind, hash, signed_.p, signed_.len, sig.p, sig.len);
}

/* ---- responses ---------------------------------------------------------------------------- */

typedef struct {
    tls_slice tbs; /* the whole ResponseData: what the responder signed */
    tls_slice sig_oid, sig_params, sig;
    uint8_t responder_tag; /* DER_CTX1 byName (Name), DER_CTX2 byKey (KeyHash) */
    tls_slice responder;   /* the whole Name, or the KeyHash's 20 bytes */
    tls_slice responses;   /* SEQUENCE OF SingleResponse contents */
    tls_slice certs;       /* SEQUENCE OF Certificate contents; empty when none */
} basic_response;

typedef struct {
    tls_slice hash_oid, name_hash, key_hash, serial;
    uint8_t status; /* DER_CTX0_PRIM good, DER_CTX1 revoked, DER_CTX2_PRIM unknown */
    int64_t this_update, next_update;
    bool has_next_update;
} single_response;

/* OCSPResponse (RFC 6960 §4.2.1) down to its BasicOCSPResponse. *status gets the
 * responseStatus; on a status other than successful (0) nothing else is read. */
static const char *response_parse(const uint8_t *der, size_t len, int *status, basic_response *b)
{
    tls_reader r, resp, st, rb_ex, rb, type, octets, basic, tbs, x, rid;

    memset(b, 0, sizeof *b);
    tls_reader_init(&r, der, len);
    if (!tls_read_der(&r, TLS_DER_SEQUENCE, &resp) || !tls_reader_done(&r) ||
        !tls_read_der(&resp, DER_ENUMERATED, &st) || tls_reader_left(&st) != 1)
        return "not a DER OCSPResponse";
    *status = st.p[0];
    if (*status != 0)
        return NULL;
    if (!tls_read_der(&resp, DER_CTX0, &rb_ex) || !tls_reader_done(&resp) ||
        !tls_read_der(&rb_ex, TLS_DER_SEQUENCE, &rb) || !tls_reader_done(&rb_ex) ||
        !tls_read_der(&rb, TLS_DER_OID, &type))
        return "not a DER OCSPResponse (responseBytes)";
    if (!slice_eq(slice_of(&type), OID_OCSP_BASIC, sizeof OID_OCSP_BASIC))
        return "the response is not a BasicOCSPResponse (id-pkix-ocsp-basic)";
    if (!tls_read_der(&rb, TLS_DER_OCTET_STRING, &octets) || !tls_reader_done(&rb) ||
        !tls_read_der(&octets, TLS_DER_SEQUENCE, &basic) || !tls_reader_done(&octets) ||
        !read_elem(&basic, TLS_DER_SEQUENCE, &tbs, &b->tbs) ||
        !read_alg(&basic, &b->sig_oid, &b->sig_params) || !read_bits(&basic, &b->sig))
        return "malformed BasicOCSPResponse";
    if (next_is(&basic, DER_CTX0)) {
        tls_reader certs;

        if (!tls_read_der(&basic, DER_CTX0, &x) || !tls_read_der(&x, TLS_DER_SEQUENCE, &certs) ||
            !tls_reader_done(&x))
            return "malformed BasicOCSPResponse (certs)";
        b->certs = slice_of(&certs);
    }
    if (!tls_reader_done(&basic))
        return "malformed BasicOCSPResponse (trailing data)";
    /* ResponseData: version [0] (v1 only), responderID, producedAt, responses, [1]. */
    if (next_is(&tbs, DER_CTX0)) {
        tls_reader v;
        uint8_t ver;

        if (!tls_read_der(&tbs, DER_CTX0, &x) || !tls_read_der(&x, TLS_DER_INTEGER, &v) ||
            !tls_read_u8(&v, &ver) || ver != 0 || !tls_reader_done(&v) || !tls_reader_done(&x))
            return "unsupported ResponseData version";
    }
    if (next_is(&tbs, DER_CTX1)) {
        b->responder_tag = DER_CTX1;
        if (!tls_read_der(&tbs, DER_CTX1, &rid) ||
            !read_elem(&rid, TLS_DER_SEQUENCE, &x, &b->responder) || !tls_reader_done(&rid))
            return "malformed ResponderID";
    } else {
        b->responder_tag = DER_CTX2;
        if (!tls_read_der(&tbs, DER_CTX2, &rid) || !tls_read_der(&rid, TLS_DER_OCTET_STRING, &x) ||
            tls_reader_left(&x) != SHA1_LEN || !tls_reader_done(&rid))
            return "malformed ResponderID";
        b->responder = slice_of(&x);
    }
    int64_t produced;
    if (!read_time(&tbs, &produced) || !tls_read_der(&tbs, TLS_DER_SEQUENCE, &x))
        return "malformed ResponseData";
    b->responses = slice_of(&x);
    if (next_is(&tbs, DER_CTX1) && !tls_read_der(&tbs, DER_CTX1, &x))
        return "malformed ResponseData (extensions)";
    if (!tls_reader_done(&tbs))
        return "malformed ResponseData (trailing data)";
    return NULL;
}

/* The next SingleResponse of list; an error sentence, or NULL. */
static const char *single_parse(tls_reader *list, single_response *s)
{
    tls_reader sr, id, x;
    tls_slice params;
    uint8_t tag;

    memset(s, 0, sizeof *s);
    if (!tls_read_der(list, TLS_DER_SEQUENCE, &sr) || !tls_read_der(&sr, TLS_DER_SEQUENCE, &id) ||
        !read_alg(&id, &s->hash_oid, &params) || !tls_read_der(&id, TLS_DER_OCTET_STRING, &x))
        return "malformed SingleResponse";
    s->name_hash = slice_of(&x);
    if (!tls_read_der(&id, TLS_DER_OCTET_STRING, &x))
        return "malformed CertID";
    s->key_hash = slice_of(&x);
    if (!tls_read_der(&id, TLS_DER_INTEGER, &x) || !tls_reader_done(&id))
        return "malformed CertID";
    s->serial = slice_of(&x);
    if (!tls_peek_der_tag(&sr, &tag) ||
        (tag != DER_CTX0_PRIM && tag != DER_CTX1 && tag != DER_CTX2_PRIM) ||
        !tls_read_der(&sr, tag, &x))
        return "malformed CertStatus";
    if (tag != DER_CTX1 && tls_reader_left(&x) != 0)
        return "malformed CertStatus";
    s->status = tag;
    if (!read_time(&sr, &s->this_update))
        return "malformed thisUpdate";
    if (next_is(&sr, DER_CTX0)) {
        if (!tls_read_der(&sr, DER_CTX0, &x) || !read_time(&x, &s->next_update) ||
            !tls_reader_done(&x))
            return "malformed nextUpdate";
        s->has_next_update = true;
    }
    if (next_is(&sr, DER_CTX1) && !tls_read_der(&sr, DER_CTX1, &x))
        return "malformed singleExtensions";
    if (!tls_reader_done(&sr))
        return "malformed SingleResponse (trailing data)";
    return NULL;
}

/* Whether s's CertID names ee as issued by issuer (RFC 6960 §4.1.1). */
static bool certid_matches(const single_response *s, const cert *ee, const cert *issuer)
{
    uint8_t name[SHA256_LEN], key[SHA256_LEN];
    size_t n;

    if (slice_eq(s->hash_oid, OID_SHA1, sizeof OID_SHA1)) {
        n = SHA1_LEN;
        if (mbedtls_sha1_ret(issuer->subject.p, issuer->subject.len, name) != 0 ||
            mbedtls_sha1_ret(issuer->key_bits.p, issuer->key_bits.len, key) != 0)
            return false;
    } else if (slice_eq(s->hash_oid, OID_SHA256, sizeof OID_SHA256)) {
        n = SHA256_LEN;
        tls__hash(TLS_HASH_SHA256, issuer->subject.p, issuer->subject.len, name);
        tls__hash(TLS_HASH_SHA256, issuer->key_bits.p, issuer->key_bits.len, key);
    } else {
        return false;
    }
    return slice_eq(s->name_hash, name, n) && slice_eq(s->key_hash, key, n) &&
           slices_equal(s->serial, ee->serial);
}

/* Whether the ResponderID names certificate c. */
static bool responder_is(const basic_response *b, const cert *c)
{
    uint8_t h[SHA1_LEN];

    if (b->responder_tag == DER_CTX1)
        return slices_equal(b->responder, c->subject);
    return mbedtls_sha1_ret(c->key_bits.p, c->key_bits.len, h) == 0 &&
           slice_eq(b->responder, h, sizeof h);
}

/* The response's signature, by the issuer or a responder it delegated to; NULL or why
 * not. */
static const char *check_signer(const basic_response *b, const cert *issuer, int64_t now)
{
    const char *why = "the response is signed by neither the issuer nor a responder "
                      "certificate it includes";
    tls_reader certs;

    if (responder_is(b, issuer))
        return check_sig(issuer->spki, b->sig_oid, b->sig_params, b->tbs, b->sig) == TLS_OK
                   ? NULL
                   : "bad signature by the issuer on the response";
    tls_reader_init(&certs, b->certs.p, b->certs.len);
    while (tls_reader_left(&certs)) {
        tls_reader body;
        tls_slice whole;
        cert rc;

        if (!read_elem(&certs, TLS_DER_SEQUENCE, &body, &whole) ||
            !cert_parse(whole.p, whole.len, &rc))
            return "malformed responder certificate in the response";
        if (!responder_is(b, &rc))
            continue;
        if (!slices_equal(rc.issuer, issuer->subject) ||
            check_sig(issuer->spki, rc.sig_oid, rc.sig_params, rc.tbs, rc.sig) != TLS_OK) {
            why = "the responder certificate is not signed by the certificate's issuer";
            continue;
        }
        if (!has_ocsp_signing(&rc)) {
            why = "the responder certificate lacks extendedKeyUsage id-kp-OCSPSigning";
            continue;
        }
        if (now < rc.not_before || now > rc.not_after) {
            why = "the responder certificate is expired or not yet valid";
            continue;
        }
        if (check_sig(rc.spki, b->sig_oid, b->sig_params, b->tbs, b->sig) != TLS_OK) {
            why = "bad signature by the responder on the response";
            continue;
        }
        return NULL;
    }
    return why;
}

static const char *status_name(int status)
{
    switch (status) {
    case 1:
        return "malformedRequest";
    case 2:
        return "internalError";
    case 3:
        return "tryLater";
    case 5:
        return "sigRequired";
    case 6:
        return "unauthorized";
    default:
        return "unknown status";
    }
}

tls_error tls__ocsp_check(const uint8_t *der, size_t len, const uint8_t *ee_der, size_t ee_len,
                          const uint8_t *issuer_der, size_t issuer_len, int64_t now,
                          int64_t *this_update, int64_t *next_update, char *err, size_t errlen)
{
    basic_response b;
    single_response s;
    cert ee, issuer;
    tls_reader list;
    const char *why;
    int status = -1;
    bool found = false;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        tls__set_err(err, errlen, __VA_ARGS__);                                                    \
        return TLS_ERR_OCSP_RESPONSE;                                                              \
    } while (0)

    if (der == NULL || len == 0 || len > TLS_OCSP_MAX_RESPONSE)
        FAIL("OCSP response: empty or larger than %d bytes", TLS_OCSP_MAX_RESPONSE);
    if (!cert_parse(ee_der, ee_len, &ee))
        FAIL("OCSP response: the certificate cannot be parsed");
    if (issuer_der == NULL || !cert_parse(issuer_der, issuer_len, &issuer))
        FAIL("OCSP response: no issuer certificate (the chain has none and none was given)");
    if (!slices_equal(ee.issuer, issuer.subject))
        FAIL("OCSP response: the issuer given did not issue the certificate");
    why = response_parse(der, len, &status, &b);
    if (why != NULL)
        FAIL("OCSP response: %s", why);
    if (status != 0)
        FAIL("OCSP response: responseStatus is %s (%d), not successful", status_name(status),
             status);
    tls_reader_init(&list, b.responses.p, b.responses.len);
    while (tls_reader_left(&list)) {
        why = single_parse(&list, &s);
        if (why != NULL)
            FAIL("OCSP response: %s", why);
        if (certid_matches(&s, &ee, &issuer)) {
            found = true;
            break;
        }
    }
    if (!found)
        FAIL("OCSP response: no SingleResponse for this certificate (CertID does not match)");
    if (s.status == DER_CTX1)
        FAIL("OCSP response: the certificate is revoked");
    if (s.status != DER_CTX0_PRIM)
        FAIL("OCSP response: the certificate's status is unknown to the responder");
    why = check_signer(&b, &issuer, now);
    if (why != NULL)
        FAIL("OCSP response: %s", why);
    if (!s.has_next_update)
        FAIL("OCSP response: no nextUpdate (a staple must say when it expires)");
    if (now < s.this_update)
        FAIL("OCSP response: thisUpdate is in the future");
    if (now >= s.next_update)
        FAIL("OCSP response: expired (nextUpdate has passed)");
    if (s.next_update <= s.this_update)
        FAIL("OCSP response: nextUpdate is not after thisUpdate");
#undef FAIL
    *this_update = s.this_update;
    *next_update = s.next_update;
    return TLS_OK;
}

bool tls__ocsp_response_times(const uint8_t *der, size_t len, int64_t *this_update,
                              int64_t *next_update)
{
    basic_response b;
    single_response s;
    tls_reader list;
    int status = -1;

    if (response_parse(der, len, &status, &b) != NULL || status != 0)
        return false;
    tls_reader_init(&list, b.responses.p, b.responses.len);
    if (single_parse(&list, &s) != NULL)
        return false;
    *this_update = s.this_update;
    *next_update = s.has_next_update ? s.next_update : 0;
    return true;
}

/* ---- requests ------------------------------------------------------------------------------ */

static size_t der_hdr_len(size_t len)
{
    return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5;
}

static void der_hdr(tls_writer *w, uint8_t tag, size_t len)
{
    tls_write_u8(w, tag);
    if (len < 0x80) {
        tls_write_u8(w, (uint8_t)len);
    } else if (len < 0x100) {
        tls_write_u8(w, 0x81);
        tls_write_u8(w, (uint8_t)len);
    } else if (len < 0x10000) {
        tls_write_u8(w, 0x82);
        tls_write_u16(w, (uint16_t)len);
    } else {
        tls_write_u8(w, 0x83);
        tls_write_u24(w, (uint32_t)len);
    }
}

/* The responder URL of ee's AuthorityInfoAccess (RFC 5280 §4.2.2.1), the first http://
 * id-ad-ocsp one; false when none. */
static bool ocsp_url(const cert *ee, tls_slice *url)
{
    tls_reader value, list, ad, method, loc;

    if (!find_ext(ee, OID_AIA, sizeof OID_AIA, &value) ||
        !tls_read_der(&value, TLS_DER_SEQUENCE, &list))
        return false;
    while (tls_reader_left(&list)) {
        uint8_t tag;

        if (!tls_read_der(&list, TLS_DER_SEQUENCE, &ad) ||
            !tls_read_der(&ad, TLS_DER_OID, &method) || !tls_peek_der_tag(&ad, &tag) ||
            !tls_read_der(&ad, tag, &loc))
            return false;
        tls_slice m = slice_of(&method), l = slice_of(&loc);
        if (tag == DER_URI && slice_eq(m, OID_AD_OCSP, sizeof OID_AD_OCSP) && l.len > 7 &&
            memcmp(l.p, "http://", 7) == 0 && memchr(l.p, '\0', l.len) == NULL) {
            *url = l;
            return true;
        }
    }
    return false;
}

/* The issuer of ck's end entity: chain[1], else issuer_der. */
static void issuer_of(const tls_certified_key *ck, const uint8_t *issuer_der, size_t issuer_len,
                      const uint8_t **der, size_t *len)
{
    if (ck->n_chain >= 2) {
        *der = ck->chain[1];
        *len = ck->chain_len[1];
    } else {
        *der = issuer_der;
        *len = issuer_der != NULL ? issuer_len : 0;
    }
}

tls_error tls_certified_key_ocsp_request(const tls_certified_key *ck, const uint8_t *issuer_der,
                                         size_t issuer_len, uint8_t *out, size_t cap, size_t *len,
                                         char *url, size_t url_cap)
{
    static const uint8_t sha1_alg[] = {0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
                                       0x03, 0x02, 0x1a, 0x05, 0x00};
    uint8_t name_hash[SHA1_LEN], key_hash[SHA1_LEN];
    const uint8_t *idp;
    size_t id_len;
    cert ee, issuer;
    tls_slice u;
    tls_writer w;

    ENSURE(ck != NULL && out != NULL && len != NULL && url != NULL, TLS_ERR_INVALID_ARGUMENT);
    *len = 0;
    if (url_cap > 0)
        url[0] = '\0';
    ENSURE(ck->n_chain > 0 && cert_parse(ck->chain[0], ck->chain_len[0], &ee),
           TLS_ERR_OCSP_RESPONSE);
    ENSURE(ocsp_url(&ee, &u), TLS_ERR_OCSP_RESPONSE);
    issuer_of(ck, issuer_der, issuer_len, &idp, &id_len);
    ENSURE(idp != NULL && cert_parse(idp, id_len, &issuer), TLS_ERR_OCSP_RESPONSE);
    ENSURE(slices_equal(ee.issuer, issuer.subject), TLS_ERR_OCSP_RESPONSE);
    ENSURE(url_cap > u.len, TLS_ERR_BUFFER_FULL);
    ENSURE(mbedtls_sha1_ret(issuer.subject.p, issuer.subject.len, name_hash) == 0 &&
               mbedtls_sha1_ret(issuer.key_bits.p, issuer.key_bits.len, key_hash) == 0,
           TLS_ERR_CRYPTO);

    /* OCSPRequest { TBSRequest { requestList { Request { CertID } } } } (RFC 6960 §4.1.1),
     * lengths computed inside out. */
    size_t certid =
        sizeof sha1_alg + 2 * (2 + SHA1_LEN) + der_hdr_len(ee.serial.len) + ee.serial.len;
    size_t request = der_hdr_len(certid) + certid;
    size_t list = der_hdr_len(request) + request;
    size_t tbs = der_hdr_len(list) + list;
    size_t total = der_hdr_len(tbs) + tbs;

    ENSURE(cap >= der_hdr_len(total) + total, TLS_ERR_BUFFER_FULL);
    tls_writer_init(&w, out, cap);
    der_hdr(&w, TLS_DER_SEQUENCE, total);
    der_hdr(&w, TLS_DER_SEQUENCE, tbs);
    der_hdr(&w, TLS_DER_SEQUENCE, list);
    der_hdr(&w, TLS_DER_SEQUENCE, request);
    der_hdr(&w, TLS_DER_SEQUENCE, certid);
    tls_write_bytes(&w, sha1_alg, sizeof sha1_alg);
    der_hdr(&w, TLS_DER_OCTET_STRING, SHA1_LEN);
    tls_write_bytes(&w, name_hash, SHA1_LEN);
    der_hdr(&w, TLS_DER_OCTET_STRING, SHA1_LEN);
    tls_write_bytes(&w, key_hash, SHA1_LEN);
    der_hdr(&w, TLS_DER_INTEGER, ee.serial.len);
    tls_write_bytes(&w, ee.serial.p, ee.serial.len);
    ENSURE(tls_writer_ok(&w), TLS_ERR_INTERNAL);
    memcpy(url, u.p, u.len);
    url[u.len] = '\0';
    *len = w.len;
    return TLS_OK;
}

/* ---- staples -------------------------------------------------------------------------------- */

static tls_staple *staple_new(const uint8_t *data, size_t len)
{
    tls_staple *s = tls__alloc(sizeof *s + len);

    if (s == NULL)
        return NULL;
    atomic_init(&s->refs, 1);
    s->this_update = s->next_update = 0;
    s->len = len;
    memcpy(s->data, data, len);
    return s;
}

static tls_staple *staple_ref(tls_staple *s)
{
    if (s != NULL)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void tls__staple_unref(tls_staple *s)
{
    if (s == NULL)
        return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_release) != 1)
        return;
    atomic_thread_fence(memory_order_acquire);
    tls__free(s, sizeof *s + s->len);
}

/* Puts s in *slot under ck's lock; the previous staple loses the key's reference. */
static void staple_swap(tls_certified_key *ck, tls_staple **slot, tls_staple *s)
{
    tls_staple *old;

    pthread_mutex_lock(&ck->staple_lock);
    old = *slot;
    *slot = s;
    pthread_mutex_unlock(&ck->staple_lock);
    tls__staple_unref(old);
}

void tls__certified_key_staples(const tls_certified_key *ck, int64_t now, bool want_ocsp,
                                bool want_scts, tls_staple **ocsp, tls_staple **scts)
{
    /* The lock is the one mutable part of a certified key; see internal.h. */
    pthread_mutex_t *lock = (pthread_mutex_t *)&ck->staple_lock;

    *ocsp = *scts = NULL;
    if (!want_ocsp && !want_scts)
        return;
    pthread_mutex_lock(lock);
    if (want_ocsp && ck->ocsp != NULL && now < ck->ocsp->next_update)
        *ocsp = staple_ref(ck->ocsp);
    if (want_scts)
        *scts = staple_ref(ck->scts);
    pthread_mutex_unlock(lock);
}

tls_error tls_certified_key_set_ocsp(tls_certified_key *ck, const uint8_t *der, size_t len,
                                     const uint8_t *issuer_der, size_t issuer_len, int64_t now,
                                     char *err, size_t errlen)
{
    const uint8_t *idp;
    size_t id_len;
    int64_t this_update, next_update;
    tls_staple *s;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    ENSURE(ck != NULL, TLS_ERR_INVALID_ARGUMENT);
    if (der == NULL || len == 0) {
        staple_swap(ck, &ck->ocsp, NULL);
        return TLS_OK;
    }
    issuer_of(ck, issuer_der, issuer_len, &idp, &id_len);
    TRY(tls__ocsp_check(der, len, ck->chain[0], ck->chain_len[0], idp, id_len, now, &this_update,
                        &next_update, err, errlen));
    s = staple_new(der, len);
    if (s == NULL) {
        tls__set_err(err, errlen, "OCSP response: out of memory");
        return TLS_ERR_NO_MEMORY;
    }
    s->this_update = this_update;
    s->next_update = next_update;
    staple_swap(ck, &ck->ocsp, s);
    return TLS_OK;
}

bool tls_certified_key_ocsp_validity(const tls_certified_key *ck, int64_t *this_update,
                                     int64_t *next_update)
{
    pthread_mutex_t *lock;
    bool have = false;

    if (ck == NULL)
        return false;
    lock = (pthread_mutex_t *)&ck->staple_lock;
    pthread_mutex_lock(lock);
    if (ck->ocsp != NULL) {
        have = true;
        if (this_update != NULL)
            *this_update = ck->ocsp->this_update;
        if (next_update != NULL)
            *next_update = ck->ocsp->next_update;
    }
    pthread_mutex_unlock(lock);
    return have;
}

bool tls__sct_list_ok(const uint8_t *list, size_t len)
{
    tls_reader r, body, sct;

    if (list == NULL)
        return false;
    tls_reader_init(&r, list, len);
    /* RFC 6962 §3.3: SerializedSCT sct_list <1..2^16-1>; opaque SerializedSCT<1..2^16-1>. */
    if (!tls_read_vec16(&r, 1, 0xffff, &body) || !tls_reader_done(&r))
        return false;
    while (tls_reader_left(&body))
        if (!tls_read_vec16(&body, 1, 0xffff, &sct))
            return false;
    return tls_reader_done(&body);
}

tls_error tls_certified_key_set_scts(tls_certified_key *ck, const uint8_t *list, size_t len)
{
    tls_staple *s;

    ENSURE(ck != NULL, TLS_ERR_INVALID_ARGUMENT);
    if (list == NULL || len == 0) {
        staple_swap(ck, &ck->scts, NULL);
        return TLS_OK;
    }
    ENSURE(len <= TLS_SCT_MAX_LIST && tls__sct_list_ok(list, len), TLS_ERR_SCT_LIST);
    s = staple_new(list, len);
    ENSURE(s != NULL, TLS_ERR_NO_MEMORY);
    staple_swap(ck, &ck->scts, s);
    return TLS_OK;
}
