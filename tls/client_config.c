/*
 * client_config.c — immutable, reference-counted client configs.
 *
 * Validation follows the server config's (config.c): known and unrepeated versions,
 * suites and groups, ALPN names of 1..255 bytes, and at least one enabled suite for
 * an enabled version. The defaults are the server's, in the same order.
 *
 * Certificate verification is never optional by accident: a config needs a root store
 * or a verifier callback. Only tls_client_config_new_dangerous_unverified, whose name
 * says what it does, builds one that checks no chain; that config still checks
 * CertificateVerify and Finished, so the server must hold the key of the certificate
 * it sends and nobody can splice a handshake.
 *
 * A session store (client_sessions.h) is referenced, not copied: connections of many
 * configs may share one, and it outlives none of them.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool u16_in(const uint16_t *list, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

bool tls__client_config_offers(const struct tls_client_config *cfg, uint16_t version)
{
    bool served = false;
    for (size_t i = 0; i < cfg->n_suites; i++)
        served |= tls__suite_find(cfg->suites[i])->version == version;
    return served && u16_in(cfg->versions, cfg->n_versions, version);
}

#define CONFIG_FAIL(...)                                                                           \
    do {                                                                                           \
        if (errbuf && errlen)                                                                      \
            snprintf(errbuf, errlen, __VA_ARGS__);                                                 \
        err = TLS_ERR_CONFIG;                                                                      \
        goto out;                                                                                  \
    } while (0)

static tls_error build(const tls_client_config_params *params, bool dangerous,
                       tls_client_config **out, char *errbuf, size_t errlen)
{
    tls_error err = TLS_OK;
    uint16_t bad = 0;
    tls_client_config *cfg;

    *out = NULL;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    cfg = tls__calloc(sizeof *cfg);
    if (!cfg)
        return TLS_ERR_NO_MEMORY;
    atomic_init(&cfg->refs, 1);
    if (!tls__copy_id_list(cfg->versions, &cfg->n_versions, COUNT(cfg->versions), params->versions,
                           params->n_versions, tls__default_versions, TLS_N_DEFAULT_VERSIONS,
                           tls__known_version, &bad))
        CONFIG_FAIL("protocol version 0x%04x is not supported (or repeated); this engine "
                    "implements TLS 1.2 and TLS 1.3",
                    bad);
    if (!tls__copy_id_list(cfg->suites, &cfg->n_suites, COUNT(cfg->suites), params->cipher_suites,
                           params->n_cipher_suites, tls__default_suites, TLS_N_DEFAULT_SUITES,
                           tls__known_suite, &bad))
        CONFIG_FAIL("cipher suite 0x%04x is not supported (or repeated)", bad);
    if (!tls__copy_id_list(cfg->groups, &cfg->n_groups, COUNT(cfg->groups), params->groups,
                           params->n_groups, tls__default_groups, TLS_N_DEFAULT_GROUPS,
                           tls__known_group, &bad))
        CONFIG_FAIL("key exchange group 0x%04x is not supported (or repeated)", bad);
    if (!tls__client_config_offers(cfg, TLS_VERSION_1_3) &&
        !tls__client_config_offers(cfg, TLS_VERSION_1_2))
        CONFIG_FAIL("no enabled cipher suite serves an enabled protocol version");
    if ((err = tls__alpn_copy(params->alpn, params->n_alpn, cfg->alpn, &cfg->n_alpn, errbuf,
                              errlen)) != TLS_OK)
        goto out;
    cfg->max_fragment_size =
        params->max_fragment_size ? params->max_fragment_size : TLS_MAX_PLAINTEXT;
    if (cfg->max_fragment_size < 64 || cfg->max_fragment_size > TLS_MAX_PLAINTEXT)
        CONFIG_FAIL("max_fragment_size must be between 64 and %d", TLS_MAX_PLAINTEXT);
    tls_limit_request limits = {
        params->max_handshake_message_size, params->max_certificate_chain_size,
        params->max_buffered_plaintext,     params->max_buffered_ciphertext,
        params->max_empty_records,          params->max_key_updates};
    if ((err = tls__limits_init(&cfg->limits, &limits, errbuf, errlen)) != TLS_OK)
        goto out;
    cfg->disable_sni = params->disable_sni;
    cfg->sessions = params->sessions ? tls_client_session_store_ref(params->sessions) : NULL;
    cfg->no_tickets = params->no_tickets;
    cfg->enable_early_data = params->enable_early_data;
    cfg->client_cert = params->client_cert ? tls_certified_key_ref(params->client_cert) : NULL;
    if (dangerous) {
        /* roots and verifier, if given, are not used (nor referenced): a command line's
         * --insecure may be added to whatever trust options it also has. */
        cfg->dangerous_skip_server_cert_verification = true;
    } else {
        if (!params->roots && !params->verifier)
            CONFIG_FAIL("a client config needs a root store or a certificate verifier");
        if (params->roots && params->verifier)
            CONFIG_FAIL("give a client config a root store or a certificate verifier, not both");
        cfg->roots = params->roots ? tls_root_store_ref(params->roots) : NULL;
        cfg->verifier = params->verifier;
        cfg->verifier_arg = params->verifier_arg;
    }
out:
    if (err != TLS_OK) {
        tls_client_config_unref(cfg);
        return err;
    }
    *out = cfg;
    return TLS_OK;
}

tls_error tls_client_config_new(const tls_client_config_params *params, tls_client_config **out,
                                char *errbuf, size_t errlen)
{
    return build(params, false, out, errbuf, errlen);
}

tls_error tls_client_config_new_dangerous_unverified(const tls_client_config_params *params,
                                                     tls_client_config **out, char *errbuf,
                                                     size_t errlen)
{
    return build(params, true, out, errbuf, errlen);
}

tls_client_config *tls_client_config_ref(tls_client_config *cfg)
{
    atomic_fetch_add(&cfg->refs, 1);
    return cfg;
}

void tls_client_config_unref(tls_client_config *cfg)
{
    if (!cfg || atomic_fetch_sub(&cfg->refs, 1) != 1)
        return;
    for (size_t i = 0; i < cfg->n_alpn; i++)
        tls__free(cfg->alpn[i], (size_t)cfg->alpn[i][0] + 1);
    if (cfg->roots)
        tls_root_store_unref(cfg->roots);
    if (cfg->sessions)
        tls_client_session_store_unref(cfg->sessions);
    if (cfg->client_cert)
        tls_certified_key_unref(cfg->client_cert);
    tls__free(cfg, sizeof *cfg);
}
