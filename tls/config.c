/*
 * config.c — immutable, reference-counted server configs; suite, group and scheme
 * tables with their names; the error and alert name tables.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "session_cache.h"
#include "ticket.h"
#include "verify.h"

#define V13 TLS_VERSION_1_3
#define V12 TLS_VERSION_1_2
/* In default preference order: TLS 1.3, then rustls's safe TLS 1.2 subset (ECDHE
 * with AEAD only). Nothing else is ever added. */
static const tls_suite suites[] = {
    {TLS_AES_256_GCM_SHA384, "TLS13_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", NULL, V13,
     TLS_AEAD_AES_256_GCM, 32, TLS_HASH_SHA384, TLS_AUTH_ANY, 0},
    {TLS_AES_128_GCM_SHA256, "TLS13_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", NULL, V13,
     TLS_AEAD_AES_128_GCM, 16, TLS_HASH_SHA256, TLS_AUTH_ANY, 0},
    {TLS_CHACHA20_POLY1305_SHA256, "TLS13_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
     NULL, V13, TLS_AEAD_CHACHA20_POLY1305, 32, TLS_HASH_SHA256, TLS_AUTH_ANY, 0},
    {TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
     "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", V12,
     TLS_AEAD_AES_256_GCM, 32, TLS_HASH_SHA384, TLS_AUTH_ECDSA, 4},
    {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
     "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", V12,
     TLS_AEAD_AES_128_GCM, 16, TLS_HASH_SHA256, TLS_AUTH_ECDSA, 4},
    {TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", V12,
     TLS_AEAD_CHACHA20_POLY1305, 32, TLS_HASH_SHA256, TLS_AUTH_ECDSA, 12},
    {TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
     "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", V12,
     TLS_AEAD_AES_256_GCM, 32, TLS_HASH_SHA384, TLS_AUTH_RSA, 4},
    {TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
     "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", V12,
     TLS_AEAD_AES_128_GCM, 16, TLS_HASH_SHA256, TLS_AUTH_RSA, 4},
    {TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", V12,
     TLS_AEAD_CHACHA20_POLY1305, 32, TLS_HASH_SHA256, TLS_AUTH_RSA, 12},
};

static const struct {
    uint16_t id;
    const char *name;
    const char *alias;
} groups[] = {
    {TLS_GROUP_X25519, "X25519", "x25519"},
    {TLS_GROUP_SECP256R1, "secp256r1", "P-256"},
    {TLS_GROUP_SECP384R1, "secp384r1", "P-384"},
};

static const struct {
    uint16_t id;
    const char *name;
} schemes[] = {
    {TLS_SIG_RSA_PKCS1_SHA256, "rsa_pkcs1_sha256"},
    {TLS_SIG_RSA_PKCS1_SHA384, "rsa_pkcs1_sha384"},
    {TLS_SIG_RSA_PKCS1_SHA512, "rsa_pkcs1_sha512"},
    {TLS_SIG_ECDSA_SECP256R1_SHA256, "ecdsa_secp256r1_sha256"},
    {TLS_SIG_ECDSA_SECP384R1_SHA384, "ecdsa_secp384r1_sha384"},
    {TLS_SIG_ED25519, "ed25519"},
    {TLS_SIG_RSA_PSS_RSAE_SHA256, "rsa_pss_rsae_sha256"},
    {TLS_SIG_RSA_PSS_RSAE_SHA384, "rsa_pss_rsae_sha384"},
    {TLS_SIG_RSA_PSS_RSAE_SHA512, "rsa_pss_rsae_sha512"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The versions this build of the engine implements, in preference order; with the
 * suite and group lists below, the defaults of server and client configs alike. */
const uint16_t tls__default_versions[TLS_N_DEFAULT_VERSIONS] = {TLS_VERSION_1_3, TLS_VERSION_1_2};
const uint16_t tls__default_suites[TLS_N_DEFAULT_SUITES] = {
    TLS_AES_256_GCM_SHA384,
    TLS_AES_128_GCM_SHA256,
    TLS_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};
const uint16_t tls__default_groups[TLS_N_DEFAULT_GROUPS] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1,
                                                            TLS_GROUP_SECP384R1};

const tls_suite *tls__suite_find(uint16_t id)
{
    for (size_t i = 0; i < COUNT(suites); i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

uint16_t tls_cipher_suite_from_name(const char *name)
{
    for (size_t i = 0; i < COUNT(suites); i++)
        if (!strcasecmp(name, suites[i].name) || !strcasecmp(name, suites[i].iana_name) ||
            (suites[i].openssl_name && !strcasecmp(name, suites[i].openssl_name)))
            return suites[i].id;
    return 0;
}

const char *tls_cipher_suite_name(uint16_t suite)
{
    const tls_suite *s = tls__suite_find(suite);
    return s ? s->name : "unknown";
}

uint16_t tls_group_from_name(const char *name)
{
    for (size_t i = 0; i < COUNT(groups); i++)
        if (!strcasecmp(name, groups[i].name) || !strcasecmp(name, groups[i].alias))
            return groups[i].id;
    return 0;
}

const char *tls_group_name(uint16_t group)
{
    for (size_t i = 0; i < COUNT(groups); i++)
        if (groups[i].id == group)
            return groups[i].name;
    return "unknown";
}

const char *tls_sig_scheme_name(uint16_t scheme)
{
    for (size_t i = 0; i < COUNT(schemes); i++)
        if (schemes[i].id == scheme)
            return schemes[i].name;
    return "unknown";
}

const char *tls_version_name(uint16_t version)
{
    switch (version) {
    case TLS_VERSION_1_0:
        return "TLSv1.0";
    case TLS_VERSION_1_1:
        return "TLSv1.1";
    case TLS_VERSION_1_2:
        return "TLSv1.2";
    case TLS_VERSION_1_3:
        return "TLSv1.3";
    default:
        return "unknown";
    }
}

const char *tls_alert_name(int alert)
{
    switch (alert) {
#define ALERT_CASE(name, code, str)                                                                \
    case code:                                                                                     \
        return str;
        TLS_ALERT_TABLE(ALERT_CASE)
#undef ALERT_CASE
    default:
        return "unknown_alert";
    }
}

static const struct {
    const char *name;
    int alert;
} error_table[] = {
#define ERROR_ROW(name, str, alert) {str, alert},
    TLS_ERROR_TABLE(ERROR_ROW)
#undef ERROR_ROW
};

const char *tls_error_name(tls_error err)
{
    if ((unsigned)err >= COUNT(error_table))
        return "General(UnknownError)";
    return error_table[err].name;
}

int tls_error_alert(tls_error err)
{
    if ((unsigned)err >= COUNT(error_table))
        return TLS_ALERT_INTERNAL_ERROR;
    return error_table[err].alert;
}

bool tls__u16_list_has(tls_slice list, uint16_t v)
{
    for (size_t i = 0; i + 1 < list.len; i += 2)
        if (((uint16_t)(list.p[i] << 8) | list.p[i + 1]) == v)
            return true;
    return false;
}

bool tls__config_has_version(const struct tls_server_config *cfg, uint16_t version)
{
    bool enabled = false, served = false;
    for (size_t i = 0; i < cfg->n_versions; i++)
        enabled |= cfg->versions[i] == version;
    for (size_t i = 0; i < cfg->n_suites; i++)
        served |= tls__suite_find(cfg->suites[i])->version == version;
    return enabled && served;
}

static bool u16_in(const uint16_t *list, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

#define CONFIG_FAIL(...)                                                                           \
    do {                                                                                           \
        if (errbuf && errlen)                                                                      \
            snprintf(errbuf, errlen, __VA_ARGS__);                                                 \
        err = TLS_ERR_CONFIG;                                                                      \
        goto out;                                                                                  \
    } while (0)

bool tls__copy_id_list(uint16_t *dst, size_t *n_dst, size_t cap, const uint16_t *src, size_t n_src,
                       const uint16_t *defaults, size_t n_defaults, bool (*known)(uint16_t),
                       uint16_t *bad)
{
    if (!src || !n_src) {
        src = defaults;
        n_src = n_defaults;
    }
    *n_dst = 0;
    for (size_t i = 0; i < n_src; i++) {
        if (!known(src[i]) || u16_in(dst, *n_dst, src[i]) || *n_dst == cap) {
            *bad = src[i];
            return false;
        }
        dst[(*n_dst)++] = src[i];
    }
    return true;
}

tls_error tls__alpn_copy(const char *const *alpn, size_t n_alpn, uint8_t **out, size_t *n_out,
                         char *errbuf, size_t errlen)
{
    *n_out = 0;
    if (n_alpn > TLS_MAX_ALPN) {
        tls__set_err(errbuf, errlen, "at most %d ALPN protocols", TLS_MAX_ALPN);
        return TLS_ERR_CONFIG;
    }
    for (size_t i = 0; i < n_alpn; i++) {
        size_t len = alpn[i] ? strlen(alpn[i]) : 0;
        if (len == 0 || len > 255) {
            tls__set_err(errbuf, errlen, "ALPN protocol #%zu must be 1 to 255 bytes long", i + 1);
            return TLS_ERR_CONFIG;
        }
        if (!(out[i] = tls__alloc(len + 1)))
            return TLS_ERR_NO_MEMORY;
        out[i][0] = (uint8_t)len; /* wire form: length byte first */
        memcpy(out[i] + 1, alpn[i], len);
        *n_out = i + 1;
    }
    return TLS_OK;
}

bool tls__known_suite(uint16_t v)
{
    return tls__suite_find(v) != NULL;
}

bool tls__known_group(uint16_t v)
{
    return strcmp(tls_group_name(v), "unknown") != 0;
}
bool tls__known_version(uint16_t v)
{
    return u16_in(tls__default_versions, TLS_N_DEFAULT_VERSIONS, v);
}

/* One limit: 0 takes the default, anything else must lie in [min, TLS_MAX_LIMIT_SIZE]. */
static bool limit_value(size_t *out, size_t value, size_t dflt, size_t min, const char *name,
                        char *errbuf, size_t errlen)
{
    *out = value ? value : dflt;
    if (*out >= min && *out <= TLS_MAX_LIMIT_SIZE)
        return true;
    tls__set_err(errbuf, errlen, "%s must be between %zu and %u bytes (0 for the default)", name,
                 min, TLS_MAX_LIMIT_SIZE);
    return false;
}

static bool flood_value(unsigned *out, uint32_t value, unsigned dflt, const char *name,
                        char *errbuf, size_t errlen)
{
    *out = value ? value : dflt;
    if (*out <= TLS_MAX_FLOOD_LIMIT)
        return true;
    tls__set_err(errbuf, errlen, "%s must be between 1 and %u (0 for the default)", name,
                 TLS_MAX_FLOOD_LIMIT);
    return false;
}

tls_error tls__limits_init(tls_limits *l, const tls_limit_request *req, char *errbuf, size_t errlen)
{
    if (!limit_value(&l->handshake_message, req->handshake_message, TLS_DEFAULT_HANDSHAKE_LIMIT,
                     TLS_MIN_HANDSHAKE_LIMIT, "max_handshake_message_size", errbuf, errlen) ||
        !limit_value(&l->certificate_chain, req->certificate_chain, l->handshake_message,
                     TLS_MIN_HANDSHAKE_LIMIT, "max_certificate_chain_size", errbuf, errlen) ||
        !limit_value(&l->plaintext, req->plaintext, TLS_DEFAULT_BUFFER_LIMIT, TLS_MIN_BUFFER_LIMIT,
                     "max_buffered_plaintext", errbuf, errlen) ||
        !limit_value(&l->ciphertext, req->ciphertext, TLS_DEFAULT_BUFFER_LIMIT,
                     TLS_MIN_BUFFER_LIMIT, "max_buffered_ciphertext", errbuf, errlen) ||
        !flood_value(&l->empty_records, req->empty_records, TLS_DEFAULT_EMPTY_RECORDS,
                     "max_empty_records", errbuf, errlen) ||
        !flood_value(&l->key_updates, req->key_updates, TLS_DEFAULT_KEY_UPDATES, "max_key_updates",
                     errbuf, errlen))
        return TLS_ERR_CONFIG;
    /* Room for what goes out past the write mark: the plaintext written before the
     * handshake completes is flushed at once (at most ~1.5 times its size with 64-byte
     * fragments), with whatever is left of the flight; 256 KiB with the defaults. */
    size_t larger = l->plaintext > l->ciphertext ? l->plaintext : l->ciphertext;
    l->out_cap = 4 * larger > TLS_MIN_OUT_CAP ? 4 * larger : TLS_MIN_OUT_CAP;
    return TLS_OK;
}

tls_error tls_server_config_new(const tls_server_config_params *params, tls_server_config **out,
                                char *errbuf, size_t errlen)
{
    tls_error err = TLS_OK;
    uint16_t bad = 0;
    tls_server_config *cfg = tls__calloc(sizeof *cfg);

    *out = NULL;
    if (!cfg)
        return TLS_ERR_NO_MEMORY;
    atomic_init(&cfg->refs, 1);
    if (!tls__copy_id_list(cfg->versions, &cfg->n_versions, COUNT(cfg->versions), params->versions,
                           params->n_versions, tls__default_versions, TLS_N_DEFAULT_VERSIONS,
                           tls__known_version, &bad))
        CONFIG_FAIL("protocol version 0x%04x is not supported (or repeated); this engine "
                    "implements TLS 1.2 and TLS 1.3",
                    bad);
    if (!tls__copy_id_list(cfg->suites, &cfg->n_suites,
                           COUNT(cfg->suites) /* all known suites fit */, params->cipher_suites,
                           params->n_cipher_suites, tls__default_suites, TLS_N_DEFAULT_SUITES,
                           tls__known_suite, &bad))
        CONFIG_FAIL("cipher suite 0x%04x is not supported (or repeated)", bad);
    if (!tls__copy_id_list(cfg->groups, &cfg->n_groups, COUNT(cfg->groups), params->groups,
                           params->n_groups, tls__default_groups, TLS_N_DEFAULT_GROUPS,
                           tls__known_group, &bad))
        CONFIG_FAIL("key exchange group 0x%04x is not supported (or repeated)", bad);
    if ((err = tls__alpn_copy(params->alpn, params->n_alpn, cfg->alpn, &cfg->n_alpn, errbuf,
                              errlen)) != TLS_OK)
        goto out;
    if (!params->resolver && !params->n_certs)
        CONFIG_FAIL("a server config needs at least one certificate or a resolver");
    if (params->n_certs) {
        cfg->certs = tls__calloc(params->n_certs * sizeof *cfg->certs);
        if (!cfg->certs) {
            err = TLS_ERR_NO_MEMORY;
            goto out;
        }
        cfg->n_certs = params->n_certs;
        for (size_t i = 0; i < params->n_certs; i++)
            if (!params->certs[i])
                CONFIG_FAIL("certificate #%zu is NULL", i + 1);
        for (size_t i = 0; i < params->n_certs; i++)
            cfg->certs[i] = tls_certified_key_ref(params->certs[i]);
    }
    if (!tls__config_has_version(cfg, TLS_VERSION_1_3) &&
        !tls__config_has_version(cfg, TLS_VERSION_1_2))
        CONFIG_FAIL("no enabled cipher suite serves an enabled protocol version");
    /* The client's Certificate (mTLS) may be larger than other messages. */
    tls_limit_request limits = {
        params->max_handshake_message_size, params->max_certificate_chain_size,
        params->max_buffered_plaintext,     params->max_buffered_ciphertext,
        params->max_empty_records,          params->max_key_updates};
    if ((err = tls__limits_init(&cfg->limits, &limits, errbuf, errlen)) != TLS_OK)
        goto out;
    cfg->sni_strict = params->sni_strict;
    cfg->require_ems = params->require_ems;
    cfg->resolver = params->resolver;
    cfg->resolver_arg = params->resolver_arg;
    cfg->max_fragment_size =
        params->max_fragment_size ? params->max_fragment_size : TLS_MAX_PLAINTEXT;
    if (cfg->max_fragment_size < 64 || cfg->max_fragment_size > TLS_MAX_PLAINTEXT)
        CONFIG_FAIL("max_fragment_size must be between 64 and %d", TLS_MAX_PLAINTEXT);
    if (params->cookie_secret) {
        if (params->cookie_secret_len < 16)
            CONFIG_FAIL("cookie secret must be at least 16 bytes");
        tls__hash(TLS_HASH_SHA256, params->cookie_secret, params->cookie_secret_len,
                  cfg->cookie_secret);
    } else if ((err = tls__random(cfg->cookie_secret, sizeof cfg->cookie_secret)) != TLS_OK) {
        goto out;
    }
    if (params->tickets || params->ticketer) {
        cfg->ticket_lifetime_s = params->ticket_lifetime_s ? params->ticket_lifetime_s : 7200;
        cfg->n_tickets = params->n_tickets ? params->n_tickets : 2;
        if (cfg->ticket_lifetime_s > 604800) /* RFC 8446 §4.6.1: seven days at most */
            CONFIG_FAIL("ticket lifetime must be at most 604800 seconds");
        if (cfg->n_tickets > 8)
            CONFIG_FAIL("at most 8 tickets per handshake");
        if (params->ticketer)
            cfg->ticketer = tls_ticketer_ref(params->ticketer);
        else if ((err = tls_ticketer_new(params->ticket_rotate_s ? params->ticket_rotate_s : 43200,
                                         &cfg->ticketer)) != TLS_OK)
            goto out;
    }
    if (params->session_cache_size) {
        if (!cfg->ticket_lifetime_s) { /* the tickets block did not run */
            cfg->ticket_lifetime_s = params->ticket_lifetime_s ? params->ticket_lifetime_s : 7200;
            cfg->n_tickets = params->n_tickets ? params->n_tickets : 2;
            if (cfg->ticket_lifetime_s > 604800)
                CONFIG_FAIL("ticket lifetime must be at most 604800 seconds");
            if (cfg->n_tickets > 8)
                CONFIG_FAIL("at most 8 tickets per handshake");
        }
        if (params->session_cache_size > 10000000)
            CONFIG_FAIL("session cache size must be at most 10000000 entries");
        if ((err = tls__session_cache_new(params->session_cache_size, NULL, &cfg->session_cache)) !=
            TLS_OK)
            goto out;
    }
    /* Early data is buffered until the caller reads it, like 1-RTT data; beyond a
     * few records' worth it only widens the replay window. */
    if (params->max_early_data_size > TLS_MAX_EARLY_DATA)
        CONFIG_FAIL("max_early_data_size must be at most %u bytes", TLS_MAX_EARLY_DATA);
    if (params->max_early_data_size && !cfg->ticketer && !cfg->session_cache)
        CONFIG_FAIL("0-RTT (max_early_data_size) needs session tickets or a session cache");
    /* RFC 8446 §8: the anti-replay record is this process's; tickets that other
     * processes (or this one after a restart) also open could be replayed there. */
    if (params->max_early_data_size && cfg->ticketer && tls__ticketer_is_shared(cfg->ticketer))
        CONFIG_FAIL("0-RTT (max_early_data_size) cannot be used with ticket keys loaded from a "
                    "file: every instance sharing them would accept a replayed ClientHello");
    cfg->max_early_data_size = params->max_early_data_size;
    switch (params->client_auth) {
    case TLS_CLIENT_AUTH_NONE:
        if (params->client_roots || params->n_client_crls)
            CONFIG_FAIL("client_roots and client_crls need client authentication (optional or "
                        "required)");
        break;
    case TLS_CLIENT_AUTH_OPTIONAL:
    case TLS_CLIENT_AUTH_REQUIRED:
        if (!params->client_roots)
            CONFIG_FAIL("client authentication needs client_roots");
        if (params->n_client_crls && !params->client_crls)
            CONFIG_FAIL("n_client_crls is %zu but client_crls is NULL", params->n_client_crls);
        cfg->client_auth = params->client_auth;
        cfg->client_roots = tls_root_store_ref(params->client_roots);
        if (params->n_client_crls &&
            (err = tls__crl_set_load(params->client_crls, params->n_client_crls, &cfg->client_crls,
                                     errbuf, errlen)) != TLS_OK)
            goto out;
        break;
    default:
        CONFIG_FAIL("client_auth %d is not a tls_client_auth_mode", (int)params->client_auth);
    }
out:
    if (err != TLS_OK) {
        tls_server_config_unref(cfg);
        return err;
    }
    *out = cfg;
    return TLS_OK;
}

tls_server_config *tls_server_config_ref(tls_server_config *cfg)
{
    atomic_fetch_add(&cfg->refs, 1);
    return cfg;
}

void tls_server_config_unref(tls_server_config *cfg)
{
    if (!cfg || atomic_fetch_sub(&cfg->refs, 1) != 1)
        return;
    for (size_t i = 0; i < cfg->n_alpn; i++)
        tls__free(cfg->alpn[i], (size_t)cfg->alpn[i][0] + 1);
    for (size_t i = 0; i < cfg->n_certs; i++)
        if (cfg->certs[i])
            tls_certified_key_unref(cfg->certs[i]);
    tls__free(cfg->certs, cfg->n_certs * sizeof *cfg->certs);
    tls__wipe(cfg->cookie_secret, sizeof cfg->cookie_secret);
    tls__session_cache_free(cfg->session_cache);
    tls_ticketer_unref(cfg->ticketer);
    tls_root_store_unref(cfg->client_roots);
    tls__crl_set_free(cfg->client_crls);
    tls__free(cfg, sizeof *cfg);
}
