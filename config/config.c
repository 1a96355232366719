/*
 * config.c — loads moat.yaml into a validated, immutable cfg_config.
 *
 * Implementation notes
 * - yaml_doc.c parses the text into one document whose nodes keep their marks and
 *   offers typed reads that report "name:line:column: message"; this file is the
 *   schema. The tree is walked in document order and the first problem found is the
 *   one reported (the document's error latches); every reader returns false once it
 *   has failed.
 * - Backends are named (collect_backends) before the walk, so a listener may refer
 *   to a backend defined further down; a backend's index is its position in the
 *   backends mapping.
 * - A half-built cfg_config is always safe to free: arrays are calloc'd and counted
 *   as soon as they exist, and cfg_free copes with the zeroed entries.
 * - Certified keys are loaded once per (cert, key) pair and shared by reference
 *   between the listeners that name them.
 * - TLS settings are checked against the engine itself (tls_server_config_new with a
 *   resolver that never answers), so what the engine refuses is reported at the node
 *   that asked for it; each listener's real config is built once everything else
 *   has passed.
 * - Session tickets: tls.tickets.key_file is loaded where it is read (one ticketer,
 *   shared by every listener); otherwise each listener gets a ticketer of random keys
 *   when its TLS config is built, or, on a reload (cfg_reload), keeps the one of the
 *   previous config's listener at the same address if the ticket settings match.
 *   Rules that join the tls section and the listeners (early_data) are checked after
 *   the walk, since either may come first in the file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/x509_crt.h>
#include <uv.h>

#include "config/internal.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_FILE_SIZE (16u << 20)
#define MAX_WORKERS 1024
#define MAX_CONNECTIONS 10000000
#define MAX_HOST_NAME 253
/* OCSP responses and SCT lists read from files. */
#define MAX_STAPLE_FILE (64u * 1024u)
/* The engine's bounds (tls_server_config_new refuses more). */
#define MAX_SESSION_CACHE 10000000
#define MAX_EARLY_DATA (1024u * 1024u)
#define MAX_RATE 1000000
/* limits.max_buffered: a quarter goes to the engine (TLS_MIN_BUFFER_LIMIT at least). */
#define MIN_BUFFERED_SIZE (64u * 1024u)
#define MAX_BUFFERED_SIZE (64u * 1024u * 1024u)

typedef struct {
    char *cert, *key;
    char *ocsp, *sct;      /* "fetch", a file or NULL; a file or NULL */
    const uint8_t *issuer; /* borrowed from the first cfg_certificate that loaded it */
    size_t issuer_len;
    tls_certified_key *ck;
} loaded_key;

typedef struct {
    cfg_doc doc;
    cfg_config *cfg;
    loaded_key *keys; /* certified keys loaded so far, one reference each */
    size_t n_keys;
    unsigned *listener_lines; /* line of each listener's address, for duplicates */
    /* Each backend's `tls` mapping, read once the whole file is (tls.versions may
     * come after the backends). */
    const yaml_node_t **backend_tls;
    /* Each listener's `early_data: true` value, checked against the tls section
     * (which may come after the listeners) once the whole file is read. */
    const yaml_node_t **early_data_nodes;
    tls_ticketer *fleet_ticketer; /* loaded from tls.tickets.key_file; one reference */
    const cfg_config *prev;       /* the config in force, on a reload (borrowed) */
} loader;

/* ---- top-level scalars -------------------------------------------------------------- */

CFG_MUST_CHECK static bool read_workers(loader *ld, const yaml_node_t *v)
{
    uint64_t n = 0;

    if (v->type == YAML_SCALAR_NODE && !strcmp(cfg__text(v), "auto")) {
        unsigned cpus = uv_available_parallelism();
        ld->cfg->workers = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : cpus;
        return true;
    }
    if (v->type != YAML_SCALAR_NODE || !cfg__parse_uint(cfg__text(v), &n))
        return cfg__fail(&ld->doc, v->start_mark,
                         "expected \"auto\" or an integer for \"workers\"");
    if (n < 1 || n > MAX_WORKERS)
        return cfg__fail(&ld->doc, v->start_mark,
                         "\"workers\" must be \"auto\" or between 1 and %d", MAX_WORKERS);
    ld->cfg->workers = (unsigned)n;
    return true;
}

CFG_MUST_CHECK static bool read_log(loader *ld, const yaml_node_t *map)
{
    enum { LEVEL, ACCESS, N_KEYS };
    static const char *const keys[N_KEYS] = {[LEVEL] = "level", [ACCESS] = "access"};
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    static const cfg_log_level level_values[] = {CFG_LOG_DEBUG, CFG_LOG_INFO, CFG_LOG_WARN,
                                                 CFG_LOG_ERROR};
    yaml_node_t *seen[COUNT(keys)] = {0};
    const char *s = NULL;
    size_t i = 0;

    if (!cfg__want_mapping(&ld->doc, map, "log", false))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "in log", keys, COUNT(keys), seen)) {
        case LEVEL:
            if (!cfg__get_choice(&ld->doc, v, "level", "log level", levels, COUNT(levels), &i))
                return false;
            ld->cfg->log_level = level_values[i];
            break;
        case ACCESS:
            if (!cfg__get_nonempty(&ld->doc, v, "access", false, &s))
                return false;
            free(ld->cfg->access_log);
            ld->cfg->access_log = NULL;
            if (strcmp(s, "off") && !cfg__dup_string(&ld->doc, v, s, &ld->cfg->access_log))
                return false;
            break;
        default:
            return cfg__unhandled_key(&ld->doc, p);
        }
    }
    return true;
}

CFG_MUST_CHECK static bool read_timeouts(loader *ld, const yaml_node_t *map)
{
    enum { HANDSHAKE, IDLE, CONNECT, DRAIN, N_KEYS };
    static const char *const keys[N_KEYS] = {
        [HANDSHAKE] = "handshake", [IDLE] = "idle", [CONNECT] = "connect", [DRAIN] = "drain"};
    yaml_node_t *seen[COUNT(keys)] = {0};
    cfg_config *c = ld->cfg;
    uint64_t *slots[N_KEYS] = {[HANDSHAKE] = &c->handshake_timeout_ms,
                               [IDLE] = &c->idle_timeout_ms,
                               [CONNECT] = &c->connect_timeout_ms,
                               [DRAIN] = &c->drain_timeout_ms};

    if (!cfg__want_mapping(&ld->doc, map, "timeouts", false))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        int k = cfg__map_key(&ld->doc, p, "in timeouts", keys, COUNT(keys), seen);
        /* drain: 0 closes connections at once on shutdown; the others need time. */
        if (k < 0 || !cfg__get_duration(&ld->doc, cfg__node(&ld->doc, p->value), keys[k],
                                        k == DRAIN, slots[k]))
            return false;
    }
    return true;
}

/* "64KiB": bytes in the largest unit that divides them, for messages. */
static void format_size(uint64_t bytes, char *buf, size_t cap)
{
    static const char *const units[] = {"", "KiB", "MiB", "GiB"};
    size_t u = 0;

    while (u + 1 < COUNT(units) && bytes && bytes % 1024 == 0) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, cap, "%llu%s", (unsigned long long)bytes, units[u]);
}

/* A size (cfg_parse_size) within [min, max]. */
CFG_MUST_CHECK static bool get_size(loader *ld, const yaml_node_t *n, const char *key, uint64_t min,
                                    uint64_t max, size_t *out)
{
    const char *s = NULL;
    char lo[32], hi[32];
    uint64_t v = 0;

    if (n->type != YAML_SCALAR_NODE || cfg__is_null(n))
        return cfg__fail(&ld->doc, n->start_mark, "expected a size for \"%s\" (such as 64KiB)",
                         key);
    if (!cfg__get_string(&ld->doc, n, key, false, &s))
        return false;
    if (cfg_parse_size(s, &v) < 0 && s[0] >= '0' && s[0] <= '9' &&
        strspn(s, "0123456789") == strlen(s))
        return cfg__fail(&ld->doc, n->start_mark, "size \"%s\" for \"%s\" is too large", s, key);
    if (cfg_parse_size(s, &v) < 0)
        return cfg__fail(&ld->doc, n->start_mark,
                         "invalid size \"%s\" for \"%s\" (expected bytes or a number with a "
                         "unit: 65536, 64KiB, 16MiB)",
                         s, key);
    if (v < min || v > max) {
        format_size(min, lo, sizeof lo);
        format_size(max, hi, sizeof hi);
        return cfg__fail(&ld->doc, n->start_mark, "\"%s\" must be between %s and %s", key, lo, hi);
    }
    *out = (size_t)v;
    return true;
}

/* "N/s", "N/m" or "N/h": N new connections per second, minute or hour. */
CFG_MUST_CHECK static bool read_rate(loader *ld, const yaml_node_t *n, uint32_t *rate,
                                     uint64_t *period_ms)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } periods[] = {{"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}};
    const char *s = NULL, *slash;
    char digits[24];
    uint64_t v = 0;

    if (!cfg__get_string(&ld->doc, n, "rate", false, &s))
        return false;
    slash = strchr(s, '/');
    if (slash && (size_t)(slash - s) < sizeof digits) {
        memcpy(digits, s, (size_t)(slash - s));
        digits[slash - s] = '\0';
        for (size_t i = 0; i < COUNT(periods); i++) {
            if (strcmp(slash + 1, periods[i].unit) || !cfg__parse_uint(digits, &v))
                continue;
            if (v < 1 || v > MAX_RATE)
                return cfg__fail(&ld->doc, n->start_mark,
                                 "\"rate\" must be between 1 and %u connections per period",
                                 MAX_RATE);
            *rate = (uint32_t)v;
            *period_ms = periods[i].ms;
            return true;
        }
    }
    return cfg__fail(&ld->doc, n->start_mark,
                     "invalid rate \"%s\" (expected connections per second, minute or hour: "
                     "10/s, 100/m, 1000/h)",
                     s);
}

CFG_MUST_CHECK static bool read_per_source(loader *ld, const yaml_node_t *map)
{
    enum { MAX_CONNS, RATE, IPV6_PREFIX, N_KEYS };
    static const char *const keys[N_KEYS] = {
        [MAX_CONNS] = "max_connections", [RATE] = "rate", [IPV6_PREFIX] = "ipv6_prefix"};
    yaml_node_t *seen[COUNT(keys)] = {0};
    cfg_config *c = ld->cfg;
    uint64_t n = 0;
    bool ok;

    if (!cfg__want_mapping(&ld->doc, map, "per_source", false))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "in limits.per_source", keys, COUNT(keys), seen)) {
        case MAX_CONNS:
            ok = cfg__get_uint(&ld->doc, v, "max_connections", 1, MAX_CONNECTIONS, &n);
            c->per_source_max_connections = (unsigned)n;
            break;
        case RATE:
            ok = read_rate(ld, v, &c->per_source_rate, &c->per_source_period_ms);
            break;
        case IPV6_PREFIX:
            ok = cfg__get_uint(&ld->doc, v, "ipv6_prefix", 32, 128, &n);
            c->per_source_ipv6_prefix = (unsigned)n;
            break;
        default:
            return cfg__unhandled_key(&ld->doc, p);
        }
        if (!ok)
            return false;
    }
    return true;
}

CFG_MUST_CHECK static bool read_limits(loader *ld, const yaml_node_t *map)
{
    enum {
        MAX_CONNS,
        MAX_HANDSHAKES,
        PER_SOURCE,
        MAX_HS_MESSAGE,
        MAX_CHAIN,
        MAX_BUFFERED,
        MAX_EMPTY_RECORDS,
        MAX_KEY_UPDATES,
        N_KEYS
    };
    static const char *const keys[N_KEYS] = {[MAX_CONNS] = "max_connections",
                                             [MAX_HANDSHAKES] = "max_handshakes",
                                             [PER_SOURCE] = "per_source",
                                             [MAX_HS_MESSAGE] = "max_handshake_message",
                                             [MAX_CHAIN] = "max_certificate_chain",
                                             [MAX_BUFFERED] = "max_buffered",
                                             [MAX_EMPTY_RECORDS] = "max_empty_records",
                                             [MAX_KEY_UPDATES] = "max_key_updates"};
    yaml_node_t *seen[COUNT(keys)] = {0};
    cfg_config *c = ld->cfg;
    uint64_t n = 0;
    bool ok;

    if (!cfg__want_mapping(&ld->doc, map, "limits", false))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "in limits", keys, COUNT(keys), seen)) {
        case MAX_CONNS:
            ok = cfg__get_uint(&ld->doc, v, "max_connections", 1, MAX_CONNECTIONS, &n);
            c->max_connections = (unsigned)n;
            break;
        case MAX_HANDSHAKES:
            ok = cfg__get_uint(&ld->doc, v, "max_handshakes", 1, MAX_CONNECTIONS, &n);
            c->max_handshakes = (unsigned)n;
            break;
        case PER_SOURCE:
            ok = read_per_source(ld, v);
            break;
        case MAX_HS_MESSAGE:
            ok = get_size(ld, v, "max_handshake_message", TLS_MIN_HANDSHAKE_LIMIT,
                          TLS_MAX_LIMIT_SIZE, &c->max_handshake_message);
            break;
        case MAX_CHAIN:
            ok = get_size(ld, v, "max_certificate_chain", TLS_MIN_HANDSHAKE_LIMIT,
                          TLS_MAX_LIMIT_SIZE, &c->max_certificate_chain);
            break;
        case MAX_BUFFERED:
            ok = get_size(ld, v, "max_buffered", MIN_BUFFERED_SIZE, MAX_BUFFERED_SIZE,
                          &c->max_buffered);
            break;
        case MAX_EMPTY_RECORDS:
            ok = cfg__get_uint(&ld->doc, v, "max_empty_records", 1, TLS_MAX_FLOOD_LIMIT, &n);
            c->max_empty_records = (uint32_t)n;
            break;
        case MAX_KEY_UPDATES:
            ok = cfg__get_uint(&ld->doc, v, "max_key_updates", 1, TLS_MAX_FLOOD_LIMIT, &n);
            c->max_key_updates = (uint32_t)n;
            break;
        default:
            return cfg__unhandled_key(&ld->doc, p);
        }
        if (!ok)
            return false;
    }
    return true;
}

/* The TLS engine holds a quarter of max_buffered each way (64 KiB by default), within
 * the engine's bounds. */
static size_t engine_buffer_limit(const cfg_config *c)
{
    size_t quarter = c->max_buffered / 4;
    return quarter < TLS_MIN_BUFFER_LIMIT ? TLS_MIN_BUFFER_LIMIT
           : quarter > TLS_MAX_LIMIT_SIZE ? TLS_MAX_LIMIT_SIZE
                                          : quarter;
}

/* ---- tls section -------------------------------------------------------------------- */

static const tls_certified_key *resolve_nothing(void *arg, const tls_client_hello_info *hello)
{
    (void)arg;
    (void)hello;
    return NULL;
}

/* Asks the engine whether it accepts params (certificates aside); its refusal is
 * reported at mark as "<prefix>: <the engine's own words>". */
CFG_MUST_CHECK static bool engine_accepts(loader *ld, tls_server_config_params params,
                                          const char *prefix, yaml_mark_t mark)
{
    tls_server_config *probe = NULL;
    char msg[256] = "";
    tls_error e;

    params.certs = NULL;
    params.n_certs = 0;
    params.resolver = resolve_nothing;
    e = tls_server_config_new(&params, &probe, msg, sizeof msg);
    if (e != TLS_OK)
        return cfg__fail(&ld->doc, mark, "%s: %s", prefix, msg[0] ? msg : tls_error_name(e));
    tls_server_config_unref(probe);
    return true;
}

static bool u16_listed(const uint16_t *list, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

/* "A, B, C": every name the engine's table knows, found by asking about every code
 * point, so the list grows with the engine without a copy here. */
static void list_names(char *buf, size_t cap, const char *(*name_of)(uint16_t))
{
    size_t len = 0;

    buf[0] = '\0';
    for (uint32_t v = 1; v <= 0xffff && len < cap; v++) {
        const char *name = name_of((uint16_t)v);
        if (strcmp(name, "unknown"))
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", name);
    }
}

CFG_MUST_CHECK static bool read_versions(loader *ld, const yaml_node_t *seq)
{
    cfg_config *c = ld->cfg;

    if (!cfg__want_sequence(&ld->doc, seq, "versions"))
        return false;
    if (!cfg__seq_len(seq))
        return cfg__fail(&ld->doc, seq->start_mark,
                         "\"versions\" must not be empty (leave it out for the default)");
    c->n_versions = 0;
    for (size_t i = 0; i < cfg__seq_len(seq); i++) {
        yaml_node_t *item = cfg__item(&ld->doc, seq, i);
        tls_server_config_params probe = {0};
        char prefix[64];
        const char *s = NULL;
        uint16_t v = 0;

        if (!cfg__get_string(&ld->doc, item, "versions", true, &s))
            return false;
        if (!strcmp(s, "1.2"))
            v = TLS_VERSION_1_2;
        else if (!strcmp(s, "1.3"))
            v = TLS_VERSION_1_3;
        else
            return cfg__fail(&ld->doc, item->start_mark,
                             "unknown TLS version \"%s\" (valid: \"1.2\", \"1.3\")", s);
        if (u16_listed(c->versions, c->n_versions, v))
            return cfg__fail(&ld->doc, item->start_mark, "TLS version \"%s\" is listed twice", s);
        probe.versions = &v;
        probe.n_versions = 1;
        snprintf(prefix, sizeof prefix, "TLS version \"%s\" refused", s);
        if (!engine_accepts(ld, probe, prefix, item->start_mark))
            return false;
        c->versions[c->n_versions++] = v; /* two distinct values at most: fits */
    }
    return true;
}

/* suites or groups: names in preference order, each known to the engine, no repeats. */
CFG_MUST_CHECK static bool read_id_list(loader *ld, const yaml_node_t *seq, const char *key,
                                        const char *what, uint16_t (*from_name)(const char *),
                                        const char *(*name_of)(uint16_t), uint16_t *list,
                                        size_t cap, size_t *n_list)
{
    char valid[768];

    if (!cfg__want_sequence(&ld->doc, seq, key))
        return false;
    if (!cfg__seq_len(seq))
        return cfg__fail(&ld->doc, seq->start_mark,
                         "\"%s\" must not be empty (leave it out for the engine's defaults)", key);
    if (cfg__seq_len(seq) > cap)
        return cfg__fail(&ld->doc, seq->start_mark, "at most %zu %ss", cap, what);
    *n_list = 0;
    for (size_t i = 0; i < cfg__seq_len(seq); i++) {
        yaml_node_t *item = cfg__item(&ld->doc, seq, i);
        const char *s = NULL;
        uint16_t v = 0;

        if (!cfg__get_string(&ld->doc, item, key, true, &s))
            return false;
        v = from_name(s);
        if (!v) {
            list_names(valid, sizeof valid, name_of);
            return cfg__fail(&ld->doc, item->start_mark, "unknown %s \"%s\" (valid: %s)", what, s,
                             valid);
        }
        if (u16_listed(list, *n_list, v))
            return cfg__fail(&ld->doc, item->start_mark, "%s \"%s\" is listed twice", what, s);
        list[(*n_list)++] = v;
    }
    return true;
}

/* Loads the fleet's ticket keys named by tls.tickets.key_file (at node v). */
CFG_MUST_CHECK static bool load_ticket_keys(loader *ld, const yaml_node_t *v)
{
    const char *path = ld->cfg->ticket_key_file;
    char msg[512] = "";
    tls_error e = tls_ticketer_load(path, &ld->fleet_ticketer, msg, sizeof msg);

    if (e == TLS_OK)
        return true;
    ld->fleet_ticketer = NULL;
    if (!msg[0])
        snprintf(msg, sizeof msg, "%s", tls_error_name(e));
    /* The engine's sentence usually starts with the path; name the file either way. */
    if (strstr(msg, path))
        return cfg__fail(&ld->doc, v->start_mark, "ticket key file refused: %s", msg);
    return cfg__fail(&ld->doc, v->start_mark, "ticket key file refused: %s: %s", path, msg);
}

CFG_MUST_CHECK static bool read_tickets(loader *ld, const yaml_node_t *map)
{
    enum { ENABLED, ROTATE, KEY_FILE, N_KEYS };
    static const char *const keys[N_KEYS] = {
        [ENABLED] = "enabled", [ROTATE] = "rotate", [KEY_FILE] = "key_file"};
    yaml_node_t *seen[COUNT(keys)] = {0}, *key_file = NULL;
    const char *s = NULL;
    uint64_t ms = 0;

    if (!cfg__want_mapping(&ld->doc, map, "tickets", false))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "in tls.tickets", keys, COUNT(keys), seen)) {
        case ENABLED:
            if (!cfg__get_bool(&ld->doc, v, "enabled", &ld->cfg->tickets))
                return false;
            break;
        case ROTATE:
            if (!cfg__get_duration(&ld->doc, v, "rotate", false, &ms))
                return false;
            if (ms % 1000)
                return cfg__fail(&ld->doc, v->start_mark,
                                 "\"rotate\" must be a whole number of seconds");
            ld->cfg->ticket_rotate_s = ms / 1000;
            break;
        case KEY_FILE:
            if (!cfg__get_nonempty(&ld->doc, v, "key_file", false, &s) ||
                !cfg__dup_string(&ld->doc, v, s, &ld->cfg->ticket_key_file))
                return false;
            key_file = v;
            break;
        default:
            return cfg__unhandled_key(&ld->doc, p);
        }
    }
    if (!seen[KEY_FILE])
        return true;
    if (!ld->cfg->tickets)
        return cfg__fail(&ld->doc, seen[KEY_FILE]->start_mark,
                         "\"key_file\" needs tickets, but \"enabled\" is false");
    if (seen[ROTATE])
        return cfg__fail(&ld->doc, seen[ROTATE]->start_mark,
                         "\"rotate\" does not apply with \"key_file\": keys from a file are "
                         "rotated by editing the file and reloading");
    return load_ticket_keys(ld, key_file);
}

CFG_MUST_CHECK static bool read_tls(loader *ld, const yaml_node_t *map)
{
    enum {
        VERSIONS,
        SUITES,
        GROUPS,
        TICKETS,
        REQUIRE_EMS,
        SESSION_CACHE,
        MAX_EARLY_DATA_KEY,
        N_KEYS
    };
    static const char *const keys[N_KEYS] = {[VERSIONS] = "versions",
                                             [SUITES] = "suites",
                                             [GROUPS] = "groups",
                                             [TICKETS] = "tickets",
                                             [REQUIRE_EMS] = "require_ems",
                                             [SESSION_CACHE] = "session_cache",
                                             [MAX_EARLY_DATA_KEY] = "max_early_data"};
    yaml_node_t *seen[COUNT(keys)] = {0};
    cfg_config *c = ld->cfg;
    uint64_t n = 0;
    bool ok;

    if (!cfg__want_mapping(&ld->doc, map, "tls", false))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "in tls", keys, COUNT(keys), seen)) {
        case VERSIONS:
            ok = read_versions(ld, v);
            break;
        case SUITES:
            ok = read_id_list(ld, v, "suites", "cipher suite", tls_cipher_suite_from_name,
                              tls_cipher_suite_name, c->suites, COUNT(c->suites), &c->n_suites) &&
                 engine_accepts(ld,
                                (tls_server_config_params){.cipher_suites = c->suites,
                                                           .n_cipher_suites = c->n_suites},
                                "cipher suites refused", v->start_mark);
            break;
        case GROUPS:
            ok = read_id_list(ld, v, "groups", "key exchange group", tls_group_from_name,
                              tls_group_name, c->groups, COUNT(c->groups), &c->n_groups) &&
                 engine_accepts(
                     ld, (tls_server_config_params){.groups = c->groups, .n_groups = c->n_groups},
                     "key exchange groups refused", v->start_mark);
            break;
        case TICKETS:
            ok = read_tickets(ld, v);
            break;
        case REQUIRE_EMS:
            ok = cfg__get_bool(&ld->doc, v, "require_ems", &c->require_ems);
            break;
        case SESSION_CACHE:
            ok = cfg__get_uint(&ld->doc, v, "session_cache", 0, MAX_SESSION_CACHE, &n);
            c->session_cache = (size_t)n;
            break;
        case MAX_EARLY_DATA_KEY:
            ok = cfg__get_uint(&ld->doc, v, "max_early_data", 1, MAX_EARLY_DATA, &n);
            c->max_early_data = (uint32_t)n;
            break;
        default:
            return cfg__unhandled_key(&ld->doc, p);
        }
        if (!ok)
            return false;
    }
    /* Each list passed alone; together they must still make a usable config. */
    return engine_accepts(ld,
                          (tls_server_config_params){.versions = c->versions,
                                                     .n_versions = c->n_versions,
                                                     .cipher_suites = c->suites,
                                                     .n_cipher_suites = c->n_suites,
                                                     .groups = c->groups,
                                                     .n_groups = c->n_groups},
                          "TLS settings refused", map->start_mark);
}

/* ---- backends ------------------------------------------------------------------------- */

static bool same_address(const cfg_address *a, const cfg_address *b)
{
    return a->text && b->text && a->addr_len == b->addr_len &&
           !memcmp(&a->addr, &b->addr, a->addr_len);
}

/* Names every backend (and checks the mapping's keys) before anything refers to one. */
CFG_MUST_CHECK static bool collect_backends(loader *ld, const yaml_node_t *root)
{
    const yaml_node_t *map = NULL;
    cfg_config *c = ld->cfg;

    FOR_EACH_PAIR(p, root)
    {
        yaml_node_t *k = cfg__node(&ld->doc, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp(cfg__text(k), "backends")) {
            map = cfg__node(&ld->doc, p->value);
            break;
        }
    }
    if (!map)
        return true;
    if (!cfg__want_mapping(&ld->doc, map, "backends", false))
        return false;
    if (!cfg__map_len(map))
        return true;
    c->backends = calloc(cfg__map_len(map), sizeof *c->backends);
    if (!c->backends)
        return cfg__out_of_memory(&ld->doc, map->start_mark);
    c->n_backends = cfg__map_len(map);
    for (size_t i = 0; i < c->n_backends; i++) {
        yaml_node_t *k = cfg__node(&ld->doc, map->data.mapping.pairs.start[i].key);
        cfg_backend *b = &c->backends[i];
        const char *name = NULL;

        if (k->type != YAML_SCALAR_NODE || cfg__is_null(k))
            return cfg__fail(&ld->doc, k->start_mark,
                             "expected a backend name (a string) in \"backends\"");
        if (!cfg__get_nonempty(&ld->doc, k, "backend name", false, &name))
            return false;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->backends[j].name, name))
                return cfg__fail(&ld->doc, k->start_mark, "duplicate key \"%s\" (first at line %u)",
                                 name, c->backends[j].mark.line);
        if (!cfg__dup_string(&ld->doc, k, name, &b->name))
            return false;
        b->mark = (cfg_mark){(unsigned)k->start_mark.line + 1, (unsigned)k->start_mark.column + 1};
    }
    return true;
}

CFG_MUST_CHECK static bool find_backend(loader *ld, const yaml_node_t *v, size_t *out)
{
    const char *name = NULL;

    if (!cfg__get_nonempty(&ld->doc, v, "backend", false, &name))
        return false;
    for (size_t i = 0; i < ld->cfg->n_backends; i++) {
        if (!strcmp(ld->cfg->backends[i].name, name)) {
            *out = i;
            return true;
        }
    }
    return cfg__fail(&ld->doc, v->start_mark, "backend \"%s\" is not defined", name);
}

CFG_MUST_CHECK static bool read_servers(loader *ld, cfg_backend *b, const yaml_node_t *seq)
{
    char msg[192];

    if (!cfg__want_sequence(&ld->doc, seq, "servers"))
        return false;
    if (!cfg__seq_len(seq))
        return cfg__fail(&ld->doc, seq->start_mark, "\"servers\" must list at least one address");
    b->servers = calloc(cfg__seq_len(seq), sizeof *b->servers);
    if (!b->servers)
        return cfg__out_of_memory(&ld->doc, seq->start_mark);
    b->n_servers = cfg__seq_len(seq);
    for (size_t i = 0; i < cfg__seq_len(seq); i++) {
        yaml_node_t *item = cfg__item(&ld->doc, seq, i);
        const char *s = NULL;

        if (!cfg__get_string(&ld->doc, item, "servers", true, &s))
            return false;
        if (cfg_parse_address(s, &b->servers[i], msg, sizeof msg) < 0)
            return cfg__fail(&ld->doc, item->start_mark, "%s", msg);
        for (size_t j = 0; j < i; j++)
            if (same_address(&b->servers[j], &b->servers[i]))
                return cfg__fail(&ld->doc, item->start_mark,
                                 "server \"%s\" is listed twice (as \"%s\")", s,
                                 b->servers[j].text);
    }
    return true;
}

/* An ALPN protocol list (listeners and TLS backends): 1..255-byte names, no repeats. */
CFG_MUST_CHECK static bool read_alpn_list(loader *ld, const yaml_node_t *seq, char ***alpn,
                                          size_t *n_alpn)
{
    tls_server_config_params probe = {0};

    if (!cfg__want_sequence(&ld->doc, seq, "alpn"))
        return false;
    if (!cfg__seq_len(seq))
        return true;
    *alpn = calloc(cfg__seq_len(seq), sizeof **alpn);
    if (!*alpn)
        return cfg__out_of_memory(&ld->doc, seq->start_mark);
    *n_alpn = cfg__seq_len(seq);
    char **list = *alpn;
    for (size_t i = 0; i < cfg__seq_len(seq); i++) {
        yaml_node_t *item = cfg__item(&ld->doc, seq, i);
        const char *s = NULL;

        if (!cfg__get_string(&ld->doc, item, "alpn", true, &s))
            return false;
        if (!*s || strlen(s) > 255)
            return cfg__fail(&ld->doc, item->start_mark,
                             "ALPN protocol names must be 1 to 255 bytes long (this one is %zu)",
                             strlen(s));
        for (size_t j = 0; j < i; j++)
            if (!strcmp(list[j], s))
                return cfg__fail(&ld->doc, item->start_mark, "ALPN protocol \"%s\" is listed twice",
                                 s);
        if (!cfg__dup_string(&ld->doc, item, s, &list[i]))
            return false;
    }
    probe.alpn = (const char *const *)list;
    probe.n_alpn = *n_alpn;
    return engine_accepts(ld, probe, "ALPN protocols refused", seq->start_mark);
}

/* A DNS name (letters, digits, hyphens; dot-separated labels of 1..63) or an IPv4/IPv6
 * literal: what the engine's client can verify a certificate against. */
static bool valid_server_name(const char *name)
{
    unsigned char buf[sizeof(struct in6_addr)];
    size_t len = strlen(name), label = 0;
    if (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1)
        return true;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (ch == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        bool ldh = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        if (!ldh || ++label > 63)
            return false;
    }
    return label > 0;
}

/* tls: { ca, server_name, alpn, cert, key }: moat speaks TLS to the backend, verifies it,
 * and presents a client certificate when cert and key are given (mTLS to the backend). */
CFG_MUST_CHECK static bool read_backend_tls(loader *ld, cfg_backend *b, const yaml_node_t *map)
{
    enum { CA, SERVER_NAME, ALPN, CERT, KEY, N_KEYS };
    static const char *const keys[N_KEYS] = {[CA] = "ca",
                                             [SERVER_NAME] = "server_name",
                                             [ALPN] = "alpn",
                                             [CERT] = "cert",
                                             [KEY] = "key"};
    yaml_node_t *seen[COUNT(keys)] = {0};
    const char *ca = NULL, *name = NULL, *cert = NULL, *key = NULL;
    tls_certified_key *client_cert = NULL;
    char **alpn = NULL, err[512];
    size_t n_alpn = 0;
    tls_root_store *roots = NULL;
    bool ok = true;

    if (!cfg__want_mapping(&ld->doc, map, "tls", false))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "in a backend's tls", keys, COUNT(keys), seen)) {
        case CA:
            ok = cfg__get_nonempty(&ld->doc, v, "ca", false, &ca);
            break;
        case SERVER_NAME:
            ok = cfg__get_nonempty(&ld->doc, v, "server_name", false, &name);
            if (ok && !valid_server_name(name))
                ok = cfg__fail(&ld->doc, v->start_mark,
                               "\"server_name\" must be a host name or an IP address, not \"%s\"",
                               name);
            ok = ok && cfg__dup_string(&ld->doc, v, name, &b->tls_server_name);
            break;
        case ALPN:
            ok = read_alpn_list(ld, v, &alpn, &n_alpn);
            break;
        case CERT:
            ok = cfg__get_nonempty(&ld->doc, v, "cert", false, &cert);
            break;
        case KEY:
            ok = cfg__get_nonempty(&ld->doc, v, "key", false, &key);
            break;
        default:
            ok = cfg__unhandled_key(&ld->doc, p);
        }
        if (!ok)
            break;
    }
    if (ok && (cert != NULL) != (key != NULL))
        ok = cfg__fail(&ld->doc, (seen[CERT] ? seen[CERT] : seen[KEY])->start_mark,
                       "a backend's client certificate needs both \"cert\" and \"key\"");
    if (ok && cert && tls_certified_key_load(cert, key, &client_cert, err, sizeof err) != TLS_OK)
        ok = cfg__fail(&ld->doc, seen[CERT]->start_mark, "client certificate: %s", err);
    for (size_t i = 0; ok && !b->tls_server_name && i < b->n_servers; i++)
        if (b->servers[i].is_unix)
            ok = cfg__fail(&ld->doc, map->start_mark,
                           "a TLS backend with unix: servers needs \"server_name\" (the name its "
                           "certificate is checked against)");
    if (ok) {
        tls_error e = ca ? tls_root_store_load(ca, &roots, err, sizeof err)
                         : tls_root_store_load_system(&roots, err, sizeof err);
        if (e != TLS_OK)
            ok = cfg__fail(&ld->doc, (seen[CA] ? seen[CA] : map)->start_mark, "%s", err);
    }
    tls_client_config_params params = {
        .versions = ld->cfg->versions,
        .n_versions = ld->cfg->n_versions,
        .alpn = (const char *const *)alpn,
        .n_alpn = n_alpn,
        .roots = roots,
        .max_handshake_message_size = ld->cfg->max_handshake_message,
        .max_certificate_chain_size = ld->cfg->max_certificate_chain,
        .max_buffered_plaintext = engine_buffer_limit(ld->cfg),
        .max_buffered_ciphertext = engine_buffer_limit(ld->cfg),
        .max_empty_records = ld->cfg->max_empty_records,
        .max_key_updates = ld->cfg->max_key_updates,
        .client_cert = client_cert,
    };
    if (ok && tls_client_config_new(&params, &b->tls, err, sizeof err) != TLS_OK)
        ok = cfg__fail(&ld->doc, map->start_mark, "backend TLS settings refused: %s", err);
    /* Connections to a server resume the TLS sessions (tickets or IDs) it issued,
     * which spares both sides the certificate signature. */
    if (ok && !(b->server_tls = calloc(b->n_servers ? b->n_servers : 1, sizeof *b->server_tls)))
        ok = cfg__fail(&ld->doc, map->start_mark, "out of memory");
    for (size_t i = 0; ok && i < b->n_servers; i++) {
        if (tls_client_session_store_new(16, &params.sessions) != TLS_OK)
            ok = cfg__fail(&ld->doc, map->start_mark, "out of memory");
        else if (tls_client_config_new(&params, &b->server_tls[i], err, sizeof err) != TLS_OK)
            ok = cfg__fail(&ld->doc, map->start_mark, "backend TLS settings refused: %s", err);
        if (params.sessions)
            tls_client_session_store_unref(params.sessions);
        params.sessions = NULL;
    }
    tls_root_store_unref(roots);
    tls_certified_key_unref(client_cert); /* the configs hold their own references */
    for (size_t i = 0; i < n_alpn; i++)
        free(alpn[i]);
    free(alpn);
    return ok;
}

CFG_MUST_CHECK static bool read_backend(loader *ld, cfg_backend *b, const yaml_node_t *key,
                                        const yaml_node_t *map)
{
    enum { SERVERS, BALANCE, PROXY_PROTOCOL, TLS, N_KEYS };
    static const char *const keys[N_KEYS] = {[SERVERS] = "servers",
                                             [BALANCE] = "balance",
                                             [PROXY_PROTOCOL] = "proxy_protocol",
                                             [TLS] = "tls"};
    static const char *const balances[] = {"round-robin", "least-connections"};
    static const cfg_balance balance_values[] = {CFG_BALANCE_ROUND_ROBIN,
                                                 CFG_BALANCE_LEAST_CONNECTIONS};
    static const char *const proxies[] = {"off", "v1", "v2"};
    static const cfg_proxy_protocol proxy_values[] = {CFG_PROXY_OFF, CFG_PROXY_V1, CFG_PROXY_V2};
    yaml_node_t *seen[COUNT(keys)] = {0};
    char where[96];
    size_t i = 0;

    snprintf(where, sizeof where, "in backend \"%.64s\"", b->name);
    if (!cfg__want_mapping(&ld->doc, map, b->name, false))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, where, keys, COUNT(keys), seen)) {
        case SERVERS:
            if (!read_servers(ld, b, v))
                return false;
            break;
        case BALANCE:
            if (!cfg__get_choice(&ld->doc, v, "balance", "balance", balances, COUNT(balances), &i))
                return false;
            b->balance = balance_values[i];
            break;
        case PROXY_PROTOCOL:
            if (!cfg__get_choice(&ld->doc, v, "proxy_protocol", "proxy_protocol", proxies,
                                 COUNT(proxies), &i))
                return false;
            b->proxy_protocol = proxy_values[i];
            break;
        case TLS:
            if (!ld->backend_tls) {
                ld->backend_tls = calloc(ld->cfg->n_backends, sizeof *ld->backend_tls);
                if (!ld->backend_tls)
                    return cfg__out_of_memory(&ld->doc, v->start_mark);
            }
            ld->backend_tls[b - ld->cfg->backends] = v;
            break;
        default:
            return cfg__unhandled_key(&ld->doc, p);
        }
    }
    return seen[SERVERS] || cfg__missing(&ld->doc, key->start_mark, "servers", where);
}

CFG_MUST_CHECK static bool read_backends(loader *ld, const yaml_node_t *map)
{
    /* collect_backends has checked the mapping and named backends[i] after pair i. */
    for (size_t i = 0; i < ld->cfg->n_backends; i++) {
        const yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
        if (!read_backend(ld, &ld->cfg->backends[i], cfg__node(&ld->doc, p->key),
                          cfg__node(&ld->doc, p->value)))
            return false;
    }
    return true;
}

/* ---- listeners ------------------------------------------------------------------------ */

/* Reads a whole small file (staples and SCT lists: up to MAX_STAPLE_FILE bytes). 0, or -1
 * with a sentence naming the file in msg. *out is malloc'd. */
static int read_small_file(const char *path, uint8_t **out, size_t *len, char *msg, size_t cap)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    FILE *f = fopen(path, "rb");

    *out = NULL;
    *len = 0;
    if (!f) {
        snprintf(msg, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    buf = malloc(MAX_STAPLE_FILE + 1);
    if (!buf) {
        fclose(f);
        snprintf(msg, cap, "%s: out of memory", path);
        return -1;
    }
    n = fread(buf, 1, MAX_STAPLE_FILE + 1, f);
    if (ferror(f) || n > MAX_STAPLE_FILE || n == 0) {
        snprintf(msg, cap, "%s: %s", path,
                 ferror(f)             ? strerror(errno)
                 : n > MAX_STAPLE_FILE ? "file too large (over 64 KiB)"
                                       : "empty file");
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
}

/* The DER of the second certificate of cert_path: the issuer OCSP responses are
 * checked against (RFC 6960 §4.2.2.2: signed by it or by a responder it delegated to). */
CFG_MUST_CHECK static bool read_issuer(loader *ld, cfg_certificate *cert, yaml_mark_t mark)
{
    mbedtls_x509_crt chain;
    bool ok = false;

    mbedtls_x509_crt_init(&chain);
    if (mbedtls_x509_crt_parse_file(&chain, cert->cert_path) < 0 || !chain.raw.len) {
        ok =
            cfg__fail(&ld->doc, mark, "%s: cannot read its certificates for OCSP", cert->cert_path);
        goto out;
    }
    if (!chain.next || !chain.next->raw.len) {
        ok = cfg__fail(&ld->doc, mark,
                       "%s holds no issuer certificate after the end-entity one: OCSP "
                       "responses are verified against it (use the full chain)",
                       cert->cert_path);
        goto out;
    }
    cert->issuer = malloc(chain.next->raw.len);
    if (!cert->issuer) {
        ok = cfg__out_of_memory(&ld->doc, mark);
        goto out;
    }
    memcpy(cert->issuer, chain.next->raw.p, chain.next->raw.len);
    cert->issuer_len = chain.next->raw.len;
    ok = true;
out:
    mbedtls_x509_crt_free(&chain);
    return ok;
}

/* Sets the staple (ocsp: FILE) or checks that there is a responder to fetch from
 * (ocsp: fetch), and the SCT list, on a freshly loaded key. */
CFG_MUST_CHECK static bool load_staples(loader *ld, cfg_certificate *cert, const yaml_node_t *ocsp,
                                        const yaml_node_t *sct)
{
    char msg[512] = "", url[CFG_OCSP_URL_MAX];
    uint8_t *der = NULL, *req = NULL;
    size_t len = 0;
    tls_error e;

    if (cert->ocsp != CFG_OCSP_NONE && !read_issuer(ld, cert, ocsp->start_mark))
        return false;
    if (cert->ocsp == CFG_OCSP_FILE) {
        if (read_small_file(cert->ocsp_path, &der, &len, msg, sizeof msg) != 0)
            return cfg__fail(&ld->doc, ocsp->start_mark, "%s", msg);
        e = tls_certified_key_set_ocsp(cert->key, der, len, cert->issuer, cert->issuer_len,
                                       (int64_t)time(NULL), msg, sizeof msg);
        free(der);
        if (e != TLS_OK)
            return cfg__fail(&ld->doc, ocsp->start_mark, "%s: %s", cert->ocsp_path,
                             msg[0] ? msg : tls_error_name(e));
    } else if (cert->ocsp == CFG_OCSP_FETCH) {
        req = malloc(CFG_OCSP_REQUEST_MAX);
        if (!req)
            return cfg__out_of_memory(&ld->doc, ocsp->start_mark);
        url[0] = '\0';
        e = tls_certified_key_ocsp_request(cert->key, cert->issuer, cert->issuer_len, req,
                                           CFG_OCSP_REQUEST_MAX, &len, url, sizeof url);
        free(req);
        if (e != TLS_OK || strncmp(url, "http://", 7) != 0)
            return cfg__fail(&ld->doc, ocsp->start_mark,
                             "\"ocsp: fetch\": %s names no OCSP responder to fetch from (an "
                             "http:// URL in its authorityInfoAccess)%s%s",
                             cert->cert_path, e != TLS_OK && e != TLS_ERR_OCSP_RESPONSE ? ": " : "",
                             e != TLS_OK && e != TLS_ERR_OCSP_RESPONSE ? tls_error_name(e) : "");
    }
    if (cert->sct_path) {
        if (read_small_file(cert->sct_path, &der, &len, msg, sizeof msg) != 0)
            return cfg__fail(&ld->doc, sct->start_mark, "%s", msg);
        e = tls_certified_key_set_scts(cert->key, der, len);
        free(der);
        if (e != TLS_OK)
            return cfg__fail(&ld->doc, sct->start_mark,
                             "%s: not a valid SignedCertificateTimestampList (%s)", cert->sct_path,
                             tls_error_name(e));
    }
    return true;
}

static bool same_option(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Loads a (cert, key) pair with its staples, or shares the one already loaded from
 * the same files with the same staples. */
CFG_MUST_CHECK static bool load_key(loader *ld, cfg_certificate *cert, yaml_mark_t mark,
                                    const yaml_node_t *ocsp, const yaml_node_t *sct)
{
    char msg[512] = "";
    const char *ocsp_name = cert->ocsp == CFG_OCSP_FETCH ? "fetch" : cert->ocsp_path;
    loaded_key *grown;
    tls_error e;

    for (size_t i = 0; i < ld->n_keys; i++) {
        if (!strcmp(ld->keys[i].cert, cert->cert_path) &&
            !strcmp(ld->keys[i].key, cert->key_path) && same_option(ld->keys[i].ocsp, ocsp_name) &&
            same_option(ld->keys[i].sct, cert->sct_path)) {
            cert->key = tls_certified_key_ref(ld->keys[i].ck);
            if (cert->ocsp == CFG_OCSP_NONE)
                return true;
            cert->issuer = malloc(ld->keys[i].issuer_len);
            if (!cert->issuer)
                return cfg__out_of_memory(&ld->doc, mark);
            memcpy(cert->issuer, ld->keys[i].issuer, ld->keys[i].issuer_len);
            cert->issuer_len = ld->keys[i].issuer_len;
            return true;
        }
    }
    e = tls_certified_key_load(cert->cert_path, cert->key_path, &cert->key, msg, sizeof msg);
    if (e != TLS_OK) {
        cert->key = NULL;
        return cfg__fail(&ld->doc, mark, "%s", msg[0] ? msg : tls_error_name(e));
    }
    if (!load_staples(ld, cert, ocsp, sct))
        return false;
    grown = realloc(ld->keys, (ld->n_keys + 1) * sizeof *ld->keys);
    if (!grown)
        return cfg__out_of_memory(&ld->doc, mark);
    ld->keys = grown;
    grown[ld->n_keys] = (loaded_key){strdup(cert->cert_path),
                                     strdup(cert->key_path),
                                     ocsp_name ? strdup(ocsp_name) : NULL,
                                     cert->sct_path ? strdup(cert->sct_path) : NULL,
                                     cert->issuer,
                                     cert->issuer_len,
                                     tls_certified_key_ref(cert->key)};
    ld->n_keys++;
    /* The loaded_key borrows cert->issuer: both live until the loader is done. */
    return (grown[ld->n_keys - 1].cert && grown[ld->n_keys - 1].key &&
            (!ocsp_name || grown[ld->n_keys - 1].ocsp) &&
            (!cert->sct_path || grown[ld->n_keys - 1].sct)) ||
           cfg__out_of_memory(&ld->doc, mark);
}

CFG_MUST_CHECK static bool read_certificate(loader *ld, cfg_certificate *cert,
                                            const yaml_node_t *map)
{
    enum { CERT, KEY, OCSP, SCT, N_KEYS };
    static const char *const keys[N_KEYS] = {
        [CERT] = "cert", [KEY] = "key", [OCSP] = "ocsp", [SCT] = "sct"};
    yaml_node_t *seen[COUNT(keys)] = {0}, *values[COUNT(keys)] = {0};
    char **slots[N_KEYS] = {[CERT] = &cert->cert_path,
                            [KEY] = &cert->key_path,
                            [OCSP] = &cert->ocsp_path,
                            [SCT] = &cert->sct_path};

    cert->mark =
        (cfg_mark){(unsigned)map->start_mark.line + 1, (unsigned)map->start_mark.column + 1};
    if (!cfg__want_mapping(&ld->doc, map, "certificates", true))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        const char *s = NULL;
        int k = cfg__map_key(&ld->doc, p, "in certificate", keys, COUNT(keys), seen);
        if (k < 0 || !cfg__get_nonempty(&ld->doc, v, keys[k], false, &s))
            return false;
        values[k] = v;
        /* "ocsp: fetch" names no file; a file called fetch is "./fetch". */
        if (k == OCSP && !strcmp(s, "fetch")) {
            cert->ocsp = CFG_OCSP_FETCH;
            continue;
        }
        if (k == OCSP)
            cert->ocsp = CFG_OCSP_FILE;
        if (!cfg__dup_string(&ld->doc, v, s, slots[k]))
            return false;
    }
    for (size_t i = 0; i < 2; i++)
        if (!seen[i])
            return cfg__missing(&ld->doc, map->start_mark, keys[i], "in certificate");
    return load_key(ld, cert, map->start_mark, values[OCSP], values[SCT]);
}

CFG_MUST_CHECK static bool read_certificates(loader *ld, cfg_listener *l, const yaml_node_t *seq)
{
    if (!cfg__want_sequence(&ld->doc, seq, "certificates"))
        return false;
    if (!cfg__seq_len(seq))
        return cfg__fail(&ld->doc, seq->start_mark,
                         "\"certificates\" must list at least one certificate");
    l->certificates = calloc(cfg__seq_len(seq), sizeof *l->certificates);
    if (!l->certificates)
        return cfg__out_of_memory(&ld->doc, seq->start_mark);
    l->n_certificates = cfg__seq_len(seq);
    for (size_t i = 0; i < cfg__seq_len(seq); i++)
        if (!read_certificate(ld, &l->certificates[i], cfg__item(&ld->doc, seq, i)))
            return false;
    return true;
}

/* A host name as the engine sees SNI (lower case) or "*.suffix"; stored lower-cased. */
CFG_MUST_CHECK static bool check_sni(loader *ld, const yaml_node_t *v, char *name)
{
    size_t len = strlen(name);
    char *labels = strncmp(name, "*.", 2) ? name : name + 2;
    bool ok = len <= MAX_HOST_NAME && *labels && *labels != '.' && name[len - 1] != '.' &&
              !strstr(labels, "..");

    for (const char *p = labels; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '-' || *p == '.' || *p == '_';
    if (!ok)
        return cfg__fail(&ld->doc, v->start_mark, "\"%s\" is not a host name (nor *.domain)", name);
    for (char *p = labels; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return true;
}

CFG_MUST_CHECK static bool read_route(loader *ld, cfg_route *r, const yaml_node_t *map,
                                      yaml_node_t **alpn_node)
{
    enum { SNI, ALPN, BACKEND, N_KEYS };
    static const char *const keys[N_KEYS] = {[SNI] = "sni", [ALPN] = "alpn", [BACKEND] = "backend"};
    yaml_node_t *seen[COUNT(keys)] = {0};
    const char *s = NULL;

    r->mark = (cfg_mark){(unsigned)map->start_mark.line + 1, (unsigned)map->start_mark.column + 1};
    if (!cfg__want_mapping(&ld->doc, map, "routes", true))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "in route", keys, COUNT(keys), seen)) {
        case SNI:
            if (!cfg__get_nonempty(&ld->doc, v, "sni", false, &s) ||
                !cfg__dup_string(&ld->doc, v, s, &r->sni) || !check_sni(ld, v, r->sni))
                return false;
            break;
        case ALPN:
            if (!cfg__get_nonempty(&ld->doc, v, "alpn", false, &s) ||
                !cfg__dup_string(&ld->doc, v, s, &r->alpn))
                return false;
            *alpn_node = v;
            break;
        case BACKEND:
            if (!find_backend(ld, v, &r->backend))
                return false;
            break;
        default:
            return cfg__unhandled_key(&ld->doc, p);
        }
    }
    if (!seen[SNI] && !seen[ALPN])
        return cfg__fail(&ld->doc, map->start_mark,
                         "a route needs \"sni\", \"alpn\" or both to match on");
    return seen[BACKEND] || cfg__missing(&ld->doc, map->start_mark, "backend", "in route");
}

static bool criterion_covers(const char *earlier, const char *later)
{
    return !earlier || (later && !strcmp(earlier, later));
}

CFG_MUST_CHECK static bool read_routes(loader *ld, cfg_listener *l, const yaml_node_t *seq,
                                       yaml_node_t ***alpn_nodes)
{
    if (!cfg__want_sequence(&ld->doc, seq, "routes"))
        return false;
    if (!cfg__seq_len(seq))
        return true;
    l->routes = calloc(cfg__seq_len(seq), sizeof *l->routes);
    *alpn_nodes = calloc(cfg__seq_len(seq), sizeof **alpn_nodes);
    if (!l->routes || !*alpn_nodes)
        return cfg__out_of_memory(&ld->doc, seq->start_mark);
    l->n_routes = cfg__seq_len(seq);
    for (size_t i = 0; i < cfg__seq_len(seq); i++) {
        yaml_node_t *item = cfg__item(&ld->doc, seq, i);
        cfg_route *r = &l->routes[i];
        if (!read_route(ld, r, item, &(*alpn_nodes)[i]))
            return false;
        /* Routes are tried in order: one that an earlier route always beats is a mistake. */
        for (size_t j = 0; j < i; j++)
            if (criterion_covers(l->routes[j].sni, r->sni) &&
                criterion_covers(l->routes[j].alpn, r->alpn))
                return cfg__fail(&ld->doc, item->start_mark,
                                 "this route can never match: the route at line %u takes all its "
                                 "connections",
                                 l->routes[j].mark.line);
    }
    return true;
}

/* Routes on ALPN must name a protocol the listener offers (its alpn key may come later). */
CFG_MUST_CHECK static bool check_route_alpn(loader *ld, const cfg_listener *l,
                                            yaml_node_t *const *alpn_nodes)
{
    for (size_t i = 0; i < l->n_routes; i++) {
        const char *want = l->routes[i].alpn;
        bool offered = !want;
        for (size_t j = 0; j < l->n_alpn && !offered; j++)
            offered = !strcmp(l->alpn[j], want);
        if (!offered)
            return cfg__fail(&ld->doc, alpn_nodes[i]->start_mark,
                             "route alpn \"%s\" is not in this listener's \"alpn\" list, so it can "
                             "never be negotiated",
                             want);
    }
    return true;
}

CFG_MUST_CHECK static bool read_address(loader *ld, cfg_listener *l, size_t index,
                                        const yaml_node_t *v)
{
    char msg[192];
    const char *s = NULL;

    if (!cfg__get_string(&ld->doc, v, "address", false, &s))
        return false;
    if (cfg_parse_address(s, &l->address, msg, sizeof msg) < 0)
        return cfg__fail(&ld->doc, v->start_mark, "%s", msg);
    if (l->address.is_unix)
        return cfg__fail(
            &ld->doc, v->start_mark,
            "a listener needs a TCP address (host:port or [v6]:port), not a unix socket");
    ld->listener_lines[index] = (unsigned)v->start_mark.line + 1;
    for (size_t j = 0; j < index; j++)
        if (same_address(&ld->cfg->listeners[j].address, &l->address))
            return cfg__fail(&ld->doc, v->start_mark,
                             "duplicate listener address \"%s\" (first defined at line %u)", s,
                             ld->listener_lines[j]);
    return true;
}

/* One path or a list of paths (crl: file or [files]), duplicated into *out. */
CFG_MUST_CHECK static bool read_path_list(loader *ld, const yaml_node_t *v, const char *key,
                                          char ***out, size_t *n_out)
{
    bool one = v->type == YAML_SCALAR_NODE;
    size_t n = one ? 1 : 0;
    if (!one) {
        if (!cfg__want_sequence(&ld->doc, v, key))
            return false;
        n = cfg__seq_len(v);
    }
    if (n == 0)
        return cfg__fail(&ld->doc, v->start_mark, "\"%s\" must name at least one file", key);
    if (!(*out = calloc(n, sizeof **out)))
        return cfg__out_of_memory(&ld->doc, v->start_mark);
    *n_out = n;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = one ? v : cfg__item(&ld->doc, v, i);
        const char *s = NULL;
        if (!cfg__get_nonempty(&ld->doc, item, key, !one, &s) ||
            !cfg__dup_string(&ld->doc, item, s, &(*out)[i]))
            return false;
    }
    return true;
}

/* client_auth: { mode: none | optional | required, ca: FILE, crl: FILE or [FILE...] }.
 * mode defaults to required; ca is needed unless mode is none. */
CFG_MUST_CHECK static bool read_client_auth(loader *ld, cfg_listener *l, const yaml_node_t *map)
{
    enum { MODE, CA, CRL, N_KEYS };
    static const char *const keys[N_KEYS] = {[MODE] = "mode", [CA] = "ca", [CRL] = "crl"};
    static const char *const modes[] = {"none", "optional", "required"};
    static const tls_client_auth_mode mode_values[] = {
        TLS_CLIENT_AUTH_NONE, TLS_CLIENT_AUTH_OPTIONAL, TLS_CLIENT_AUTH_REQUIRED};
    yaml_node_t *seen[COUNT(keys)] = {0};
    const char *ca = NULL;
    char err[512];
    size_t i = 0;
    bool ok = true;

    if (!cfg__want_mapping(&ld->doc, map, "client_auth", false))
        return false;
    l->client_auth = TLS_CLIENT_AUTH_REQUIRED;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "in client_auth", keys, COUNT(keys), seen)) {
        case MODE:
            ok = cfg__get_choice(&ld->doc, v, "mode", "client_auth mode", modes, COUNT(modes), &i);
            if (ok)
                l->client_auth = mode_values[i];
            break;
        case CA:
            ok = cfg__get_nonempty(&ld->doc, v, "ca", false, &ca);
            break;
        case CRL:
            ok = read_path_list(ld, v, "crl", &l->client_crls, &l->n_client_crls);
            break;
        default:
            ok = cfg__unhandled_key(&ld->doc, p);
        }
        if (!ok)
            return false;
    }
    if (l->client_auth == TLS_CLIENT_AUTH_NONE)
        return true;
    if (!ca)
        return cfg__missing(&ld->doc, map->start_mark, "ca", "in client_auth");
    if (tls_root_store_load(ca, &l->client_roots, err, sizeof err) != TLS_OK)
        return cfg__fail(&ld->doc, seen[CA]->start_mark, "client_auth ca: %s", err);
    return true;
}

CFG_MUST_CHECK static bool read_listener(loader *ld, size_t index, const yaml_node_t *map)
{
    enum {
        ADDRESS,
        CERTIFICATES,
        SNI_STRICT,
        ALPN,
        BACKEND,
        ROUTES,
        PROXY_IN,
        EARLY_DATA,
        CLIENT_AUTH,
        N_KEYS
    };
    static const char *const keys[N_KEYS] = {[ADDRESS] = "address",
                                             [CERTIFICATES] = "certificates",
                                             [SNI_STRICT] = "sni_strict",
                                             [ALPN] = "alpn",
                                             [BACKEND] = "backend",
                                             [ROUTES] = "routes",
                                             [PROXY_IN] = "proxy_protocol_in",
                                             [EARLY_DATA] = "early_data",
                                             [CLIENT_AUTH] = "client_auth"};
    static const int required[] = {ADDRESS, CERTIFICATES, BACKEND};
    cfg_listener *l = &ld->cfg->listeners[index];
    yaml_node_t *seen[COUNT(keys)] = {0}, **alpn_nodes = NULL;
    bool ok = true;

    l->mark = (cfg_mark){(unsigned)map->start_mark.line + 1, (unsigned)map->start_mark.column + 1};
    if (!cfg__want_mapping(&ld->doc, map, "listeners", true))
        return false;
    FOR_EACH_PAIR(p, map)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "in listener", keys, COUNT(keys), seen)) {
        case ADDRESS:
            ok = read_address(ld, l, index, v);
            break;
        case CERTIFICATES:
            ok = read_certificates(ld, l, v);
            break;
        case SNI_STRICT:
            ok = cfg__get_bool(&ld->doc, v, "sni_strict", &l->sni_strict);
            break;
        case ALPN:
            ok = read_alpn_list(ld, v, &l->alpn, &l->n_alpn);
            break;
        case BACKEND:
            ok = find_backend(ld, v, &l->backend);
            break;
        case ROUTES:
            ok = read_routes(ld, l, v, &alpn_nodes);
            break;
        case PROXY_IN:
            ok = cfg__get_bool(&ld->doc, v, "proxy_protocol_in", &l->proxy_protocol_in);
            break;
        case EARLY_DATA:
            ok = cfg__get_bool(&ld->doc, v, "early_data", &l->early_data);
            if (ok && l->early_data)
                ld->early_data_nodes[index] = v;
            break;
        case CLIENT_AUTH:
            ok = read_client_auth(ld, l, v);
            break;
        default:
            ok = cfg__unhandled_key(&ld->doc, p);
            break;
        }
        if (!ok)
            break;
    }
    for (size_t i = 0; ok && i < COUNT(required); i++)
        if (!seen[required[i]])
            ok = cfg__missing(&ld->doc, map->start_mark, keys[required[i]], "in listener");
    /* RFC 8446 §4.4.2: a client's certificate comes after its 0-RTT data, which the
     * backend would get from a client not yet authenticated. */
    if (ok && l->early_data && l->client_auth != TLS_CLIENT_AUTH_NONE)
        ok = cfg__fail(&ld->doc, seen[EARLY_DATA]->start_mark,
                       "\"early_data\" cannot be used with \"client_auth\": 0-RTT data arrives "
                       "before the client's certificate");
    ok = ok && check_route_alpn(ld, l, alpn_nodes);
    free(alpn_nodes);
    return ok;
}

CFG_MUST_CHECK static bool read_listeners(loader *ld, const yaml_node_t *seq)
{
    cfg_config *c = ld->cfg;

    if (!cfg__want_sequence(&ld->doc, seq, "listeners"))
        return false;
    if (!cfg__seq_len(seq))
        return cfg__fail(&ld->doc, seq->start_mark,
                         "\"listeners\" must list at least one listener");
    c->listeners = calloc(cfg__seq_len(seq), sizeof *c->listeners);
    ld->listener_lines = calloc(cfg__seq_len(seq), sizeof *ld->listener_lines);
    ld->early_data_nodes = calloc(cfg__seq_len(seq), sizeof *ld->early_data_nodes);
    if (!c->listeners || !ld->listener_lines || !ld->early_data_nodes)
        return cfg__out_of_memory(&ld->doc, seq->start_mark);
    c->n_listeners = cfg__seq_len(seq);
    for (size_t i = 0; i < cfg__seq_len(seq); i++)
        if (!read_listener(ld, i, cfg__item(&ld->doc, seq, i)))
            return false;
    return true;
}

/* ---- the document ----------------------------------------------------------------------- */

CFG_MUST_CHECK static bool read_top(loader *ld, const yaml_node_t *root)
{
    enum { WORKERS, USER, LOG, TIMEOUTS, LIMITS, TLS, LISTENERS, BACKENDS, N_KEYS };
    static const char *const keys[N_KEYS] = {
        [WORKERS] = "workers",     [USER] = "user",        [LOG] = "log",
        [TIMEOUTS] = "timeouts",   [LIMITS] = "limits",    [TLS] = "tls",
        [LISTENERS] = "listeners", [BACKENDS] = "backends"};
    yaml_node_t *seen[COUNT(keys)] = {0};
    cfg_config *c = ld->cfg;
    const char *s = NULL;
    bool ok = true;

    if (root->type != YAML_MAPPING_NODE)
        return cfg__fail(
            &ld->doc, root->start_mark,
            "expected a mapping of settings at the top level (such as \"listeners:\")");
    if (!collect_backends(ld, root))
        return false;
    FOR_EACH_PAIR(p, root)
    {
        yaml_node_t *v = cfg__node(&ld->doc, p->value);
        switch (cfg__map_key(&ld->doc, p, "at the top level", keys, COUNT(keys), seen)) {
        case WORKERS:
            ok = read_workers(ld, v);
            break;
        case USER:
            ok = cfg__get_nonempty(&ld->doc, v, "user", false, &s) &&
                 cfg__dup_string(&ld->doc, v, s, &c->user);
            break;
        case LOG:
            ok = read_log(ld, v);
            break;
        case TIMEOUTS:
            ok = read_timeouts(ld, v);
            break;
        case LIMITS:
            ok = read_limits(ld, v);
            break;
        case TLS:
            ok = read_tls(ld, v);
            break;
        case LISTENERS:
            ok = read_listeners(ld, v);
            break;
        case BACKENDS:
            ok = read_backends(ld, v);
            break;
        default:
            ok = cfg__unhandled_key(&ld->doc, p);
            break;
        }
        if (!ok)
            return false;
    }
    return seen[LISTENERS] ||
           cfg__missing(&ld->doc, root->start_mark, "listeners", "at the top level");
}

/*
 * 0-RTT is checked once the whole file is read: the tls section may follow the
 * listeners. Early data is replayable (RFC 8446 §8); what keeps a ticket good for one
 * 0-RTT attempt is the ticketer's record of tickets used, which only this process
 * sees. With a fleet's shared keys, another instance opens the same ticket and keeps
 * its own record, so a replayed ClientHello would be accepted once per instance.
 */
CFG_MUST_CHECK static bool check_early_data(loader *ld)
{
    const cfg_config *c = ld->cfg;

    for (size_t i = 0; i < c->n_listeners; i++) {
        const yaml_node_t *v = ld->early_data_nodes[i];
        if (!v)
            continue;
        if (c->ticket_key_file)
            return cfg__fail(&ld->doc, v->start_mark,
                             "\"early_data\" cannot be used with tls.tickets.key_file: the ticket "
                             "keys are shared with other instances, and a 0-RTT ClientHello "
                             "replayed to another instance would be accepted there too (each "
                             "instance keeps its own anti-replay record)");
        if (!c->tickets && !c->session_cache)
            return cfg__fail(&ld->doc, v->start_mark,
                             "\"early_data\" needs session resumption, but tls.tickets.enabled "
                             "is false and tls.session_cache is 0");
    }
    return true;
}

/* The listener of prev at l's address, if its ticketer may serve l unchanged: tickets
 * on in both with the same rotate period, and random keys (no key_file) in both. */
static tls_ticketer *previous_ticketer(const loader *ld, const cfg_listener *l)
{
    const cfg_config *c = ld->cfg, *prev = ld->prev;

    if (!prev || !prev->tickets || prev->ticket_key_file || c->ticket_key_file ||
        prev->ticket_rotate_s != c->ticket_rotate_s)
        return NULL;
    for (size_t i = 0; i < prev->n_listeners; i++)
        if (same_address(&prev->listeners[i].address, &l->address))
            return prev->listeners[i].ticketer;
    return NULL;
}

CFG_MUST_CHECK static bool attach_ticketer(loader *ld, cfg_listener *l, yaml_mark_t mark)
{
    const cfg_config *c = ld->cfg;
    tls_ticketer *kept;
    tls_error e;

    if (!c->tickets)
        return true;
    if (ld->fleet_ticketer) {
        l->ticketer = tls_ticketer_ref(ld->fleet_ticketer);
        return true;
    }
    if ((kept = previous_ticketer(ld, l)) != NULL) {
        l->ticketer = tls_ticketer_ref(kept);
        l->ticketer_kept = true;
        return true;
    }
    e = tls_ticketer_new((unsigned)c->ticket_rotate_s, &l->ticketer);
    if (e != TLS_OK) {
        l->ticketer = NULL;
        return cfg__fail(&ld->doc, mark, "cannot make the listener's ticket keys: %s",
                         tls_error_name(e));
    }
    return true;
}

/* One tls_server_config per listener, from its certificates and alpn and the tls section. */
CFG_MUST_CHECK static bool build_listener_tls(loader *ld, cfg_listener *l)
{
    cfg_config *c = ld->cfg;
    yaml_mark_t mark = {0, l->mark.line - 1, l->mark.column - 1};
    tls_certified_key **certs = NULL;
    char msg[256] = "";
    tls_error e;

    if (!attach_ticketer(ld, l, mark))
        return false;
    certs = calloc(l->n_certificates, sizeof *certs);
    if (!certs)
        return cfg__out_of_memory(&ld->doc, mark);
    for (size_t i = 0; i < l->n_certificates; i++)
        certs[i] = l->certificates[i].key;
    tls_server_config_params params = {
        .versions = c->versions,
        .n_versions = c->n_versions,
        .cipher_suites = c->suites,
        .n_cipher_suites = c->n_suites,
        .groups = c->groups,
        .n_groups = c->n_groups,
        .alpn = (const char *const *)l->alpn,
        .n_alpn = l->n_alpn,
        .certs = certs,
        .n_certs = l->n_certificates,
        .sni_strict = l->sni_strict,
        .require_ems = c->require_ems,
        .tickets = c->tickets,
        .ticket_rotate_s = (unsigned)c->ticket_rotate_s,
        .ticketer = l->ticketer,
        .session_cache_size = c->session_cache,
        /* 0 makes the engine decline 0-RTT: the client sends its data again after
         * the handshake, and nothing here has to treat it differently. */
        .max_early_data_size = l->early_data ? c->max_early_data : 0,
        .max_handshake_message_size = c->max_handshake_message,
        .max_buffered_plaintext = engine_buffer_limit(c),
        .max_buffered_ciphertext = engine_buffer_limit(c),
        .max_empty_records = c->max_empty_records,
        .max_key_updates = c->max_key_updates,
        .client_auth = l->client_auth,
        .client_roots = l->client_roots,
        .client_crls = (const char *const *)l->client_crls,
        .n_client_crls = l->n_client_crls,
        .max_certificate_chain_size = c->max_certificate_chain,
    };
    e = tls_server_config_new(&params, &l->tls, msg, sizeof msg);
    free(certs);
    if (e != TLS_OK)
        return cfg__fail(&ld->doc, mark, "cannot build the listener's TLS config: %s",
                         msg[0] ? msg : tls_error_name(e));
    return true;
}

static void set_defaults(cfg_config *c)
{
    unsigned cpus = uv_available_parallelism();

    c->workers = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : cpus;
    c->log_level = CFG_LOG_INFO;
    c->access_log = strdup("stderr"); /* checked by the caller */
    c->handshake_timeout_ms = 10 * 1000;
    c->idle_timeout_ms = 300 * 1000;
    c->connect_timeout_ms = 5 * 1000;
    c->drain_timeout_ms = 30 * 1000;
    c->max_connections = 50000;
    c->per_source_period_ms = 1000;
    c->per_source_ipv6_prefix = 64;
    c->max_handshake_message = 64 * 1024; /* the engine's defaults */
    c->max_buffered = 256 * 1024;
    c->max_empty_records = 32; /* the engine's defaults */
    c->max_key_updates = 16;
    c->versions[0] = TLS_VERSION_1_3;
    c->versions[1] = TLS_VERSION_1_2;
    c->n_versions = 2;
    c->ticket_rotate_s = 12 * 60 * 60;
    c->tickets = true; /* TLS 1.3 resumption skips the certificate signature */
    c->session_cache = 20000;
    c->max_early_data = 16384;
}

static void cfg_free(cfg_config *c)
{
    for (size_t i = 0; i < c->n_listeners; i++) {
        cfg_listener *l = &c->listeners[i];
        cfg_address_clear(&l->address);
        for (size_t j = 0; j < l->n_certificates; j++) {
            free(l->certificates[j].cert_path);
            free(l->certificates[j].key_path);
            free(l->certificates[j].ocsp_path);
            free(l->certificates[j].sct_path);
            free(l->certificates[j].issuer);
            if (l->certificates[j].key)
                tls_certified_key_unref(l->certificates[j].key);
        }
        free(l->certificates);
        for (size_t j = 0; j < l->n_alpn; j++)
            free(l->alpn[j]);
        free(l->alpn);
        for (size_t j = 0; j < l->n_routes; j++) {
            free(l->routes[j].sni);
            free(l->routes[j].alpn);
        }
        free(l->routes);
        tls_server_config_unref(l->tls);
        if (l->ticketer)
            tls_ticketer_unref(l->ticketer);
        if (l->client_roots)
            tls_root_store_unref(l->client_roots);
        for (size_t j = 0; j < l->n_client_crls; j++)
            free(l->client_crls[j]);
        free(l->client_crls);
    }
    free(c->listeners);
    for (size_t i = 0; i < c->n_backends; i++) {
        for (size_t j = 0; j < c->backends[i].n_servers; j++)
            cfg_address_clear(&c->backends[i].servers[j]);
        free(c->backends[i].servers);
        if (c->backends[i].tls)
            tls_client_config_unref(c->backends[i].tls);
        for (size_t j = 0; c->backends[i].server_tls && j < c->backends[i].n_servers; j++)
            if (c->backends[i].server_tls[j])
                tls_client_config_unref(c->backends[i].server_tls[j]);
        free(c->backends[i].server_tls);
        free(c->backends[i].tls_server_name);
        free(c->backends[i].name);
    }
    free(c->backends);
    free(c->path);
    free(c->user);
    free(c->access_log);
    free(c->ticket_key_file);
    free(c);
}

int cfg_reload_string(const char *name, const char *yaml, size_t len, const cfg_config *prev,
                      cfg_config **out, char *err, size_t errlen)
{
    loader ld = {.doc = {.name = name, .src = yaml, .src_len = len, .err = err, .errlen = errlen},
                 .prev = prev};
    bool ok = false;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!cfg__doc_parse(&ld.doc))
        return -1;
    ld.cfg = calloc(1, sizeof *ld.cfg);
    if (!ld.cfg || !(ld.cfg->path = strdup(name))) {
        cfg__set_error(err, errlen, "%s: out of memory", name);
        goto out;
    }
    atomic_init(&ld.cfg->refs, 1);
    set_defaults(ld.cfg);
    if (!ld.cfg->access_log) {
        cfg__set_error(err, errlen, "%s: out of memory", name);
        goto out;
    }
    if (!read_top(&ld, yaml_document_get_root_node(&ld.doc.tree)) || !check_early_data(&ld))
        goto out;
    ok = true;
    for (size_t i = 0; i < ld.cfg->n_backends && ok; i++)
        if (ld.backend_tls && ld.backend_tls[i])
            ok = read_backend_tls(&ld, &ld.cfg->backends[i], ld.backend_tls[i]);
    for (size_t i = 0; i < ld.cfg->n_listeners && ok; i++)
        ok = build_listener_tls(&ld, &ld.cfg->listeners[i]);
out:
    for (size_t i = 0; i < ld.n_keys; i++) {
        free(ld.keys[i].cert);
        free(ld.keys[i].key);
        free(ld.keys[i].ocsp);
        free(ld.keys[i].sct);
        tls_certified_key_unref(ld.keys[i].ck);
    }
    free(ld.keys);
    free(ld.listener_lines);
    free(ld.backend_tls);
    free(ld.early_data_nodes);
    if (ld.fleet_ticketer)
        tls_ticketer_unref(ld.fleet_ticketer);
    cfg__doc_clear(&ld.doc);
    if (!ok) {
        if (ld.cfg)
            cfg_free(ld.cfg);
        return -1;
    }
    *out = ld.cfg;
    return 0;
}

int cfg_load_string(const char *name, const char *yaml, size_t len, cfg_config **out, char *err,
                    size_t errlen)
{
    return cfg_reload_string(name, yaml, len, NULL, out, err, errlen);
}

int cfg_reload(const char *path, const cfg_config *prev, cfg_config **out, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int fd, rc = -1;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        cfg__set_error(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        cfg__set_error(err, errlen, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_size > (off_t)MAX_FILE_SIZE) {
        cfg__set_error(err, errlen, "%s: file too large (over %u bytes)", path, MAX_FILE_SIZE);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        cfg__set_error(err, errlen, "%s: out of memory", path);
        goto out;
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cfg__set_error(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break; /* shrank while we read: parse what is there */
        len += (size_t)n;
    }
    buf[len] = '\0';
    rc = cfg_reload_string(path, buf, len, prev, out, err, errlen);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

int cfg_load(const char *path, cfg_config **out, char *err, size_t errlen)
{
    return cfg_reload(path, NULL, out, err, errlen);
}

cfg_config *cfg_ref(cfg_config *cfg)
{
    atomic_fetch_add(&cfg->refs, 1);
    return cfg;
}

void cfg_unref(cfg_config *cfg)
{
    if (cfg && atomic_fetch_sub(&cfg->refs, 1) == 1)
        cfg_free(cfg);
}
