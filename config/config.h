/*
 * config.h — moat's YAML configuration, loaded into validated, immutable structs.
 *
 * cfg_load parses a file with libyaml, validates every value, loads every
 * certificate and key, and builds one TLS server config per listener. Any problem
 * is reported as "file:line:column: what is wrong" (1-based line and column of the
 * offending key or value) and nothing is returned. A loaded cfg_config is
 * immutable and reference-counted: the daemon shares one snapshot between its
 * worker threads, and a reload builds a new snapshot beside the old one.
 */
#ifndef MOAT_CONFIG_H
#define MOAT_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tls/tls.h"

typedef enum { CFG_LOG_DEBUG, CFG_LOG_INFO, CFG_LOG_WARN, CFG_LOG_ERROR } cfg_log_level;
typedef enum { CFG_BALANCE_ROUND_ROBIN, CFG_BALANCE_LEAST_CONNECTIONS } cfg_balance;
typedef enum { CFG_PROXY_OFF, CFG_PROXY_V1, CFG_PROXY_V2 } cfg_proxy_protocol;

/* Where in the YAML file something was written (1-based), for later messages. */
typedef struct {
    unsigned line, column;
} cfg_mark;

/* A socket address: "host:port", "[v6]:port" or "unix:/path". */
typedef struct {
    char *text; /* as written, for logs */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    bool is_unix;
} cfg_address;

typedef struct {
    char *name;
    cfg_address *servers;
    size_t n_servers;
    cfg_balance balance;
    cfg_proxy_protocol proxy_protocol;
    cfg_mark mark;
    /* TLS to the servers (NULL: plaintext). Certificates are verified against the
     * configured roots for tls_server_name, or for each server's own host when NULL. */
    tls_client_config *tls;
    /* The same settings once per server (n_servers), each with its own session
     * store: a session resumes with the server that made it, not a sibling behind
     * the same server_name that would decline it. */
    tls_client_config **server_tls;
    char *tls_server_name;
} cfg_backend;

/* Routes are tried in order; a route matches when every criterion it names matches
 * (sni: exact or "*.suffix" wildcard; alpn: the negotiated protocol). */
typedef struct {
    char *sni;      /* NULL: any */
    char *alpn;     /* NULL: any */
    size_t backend; /* index into cfg_config.backends */
    cfg_mark mark;
} cfg_route;

/* Bounds of an OCSP request (tls_certified_key_ocsp_request) and its responder URL. */
#define CFG_OCSP_REQUEST_MAX 4096
#define CFG_OCSP_URL_MAX 1024

/* How a certificate's OCSP staple is kept (RFC 6066 §8, RFC 8446 §4.4.2.1). */
typedef enum {
    CFG_OCSP_NONE,  /* no staple */
    CFG_OCSP_FILE,  /* ocsp: FILE, a DER OCSPResponse read at load time */
    CFG_OCSP_FETCH, /* ocsp: fetch, from the responder the certificate names */
} cfg_ocsp_mode;

typedef struct {
    char *cert_path, *key_path;
    tls_certified_key *key; /* loaded and checked at cfg_load time */
    cfg_mark mark;
    cfg_ocsp_mode ocsp;
    char *ocsp_path; /* CFG_OCSP_FILE: the file, already verified and set on key */
    char *sct_path;  /* sct: FILE (NULL: none), already set on key */
    /* With ocsp set: the DER of the certificate that issued the end-entity one (the
     * second certificate of cert_path), which OCSP responses are verified against. */
    uint8_t *issuer;
    size_t issuer_len;
} cfg_certificate;

typedef struct {
    cfg_address address;
    cfg_certificate *certificates;
    size_t n_certificates;
    bool sni_strict;
    char **alpn;
    size_t n_alpn;
    size_t backend; /* default backend: index into cfg_config.backends */
    cfg_route *routes;
    size_t n_routes;
    bool proxy_protocol_in; /* expect a PROXY v1/v2 header before TLS */
    /* Accept TLS 1.3 0-RTT (up to cfg_config.max_early_data bytes) and forward it to
     * the backend ahead of the 1-RTT data. Off: the engine refuses early data. */
    bool early_data;
    /* Client certificates (mutual TLS): mode, the CAs they must chain to (one
     * reference; NULL with mode none) and CRL files the engine reads. */
    tls_client_auth_mode client_auth;
    tls_root_store *client_roots;
    char **client_crls;
    size_t n_client_crls;
    /* Seals and opens this listener's session tickets (one reference; NULL when
     * tickets are off). With tls.tickets.key_file every listener shares the one loaded
     * from the file; otherwise each listener has its own, which cfg_reload carries
     * over from the previous config when its ticket settings did not change. */
    tls_ticketer *ticketer;
    bool ticketer_kept;     /* cfg_reload took ticketer from the previous config */
    tls_server_config *tls; /* built from the above and cfg_config's tls section */
    cfg_mark mark;
} cfg_listener;

typedef struct cfg_config {
    atomic_uint refs;
    char *path;
    unsigned workers; /* "auto" is resolved to the CPU count at load time */
    char *user;       /* NULL: do not change user */
    cfg_log_level log_level;
    char *access_log; /* NULL: off; "stderr"; or a file path */
    uint64_t handshake_timeout_ms, idle_timeout_ms, connect_timeout_ms, drain_timeout_ms;
    unsigned max_connections;
    /* limits section beyond max_connections (0: no limit, where that is the default) */
    unsigned max_handshakes;             /* connections in their TLS handshake at once */
    unsigned per_source_max_connections; /* open connections per source address */
    uint32_t per_source_rate;            /* new connections per source per period */
    uint64_t per_source_period_ms;       /* of per_source_rate: 1 s, 1 min or 1 h */
    unsigned per_source_ipv6_prefix;     /* IPv6 sources count per /prefix (64) */
    size_t max_handshake_message;        /* bytes, for listeners and TLS backends */
    size_t max_certificate_chain;        /* bytes, peers' chains (backends, mTLS clients) */
    size_t max_buffered;                 /* bytes queued per direction of a connection */
    uint32_t max_empty_records;          /* records in a row carrying nothing, then close */
    uint32_t max_key_updates;            /* TLS 1.3 KeyUpdates in a row, then close */
    /* tls section, as accepted by tls_server_config_params */
    uint16_t versions[4];
    size_t n_versions;
    uint16_t suites[16];
    size_t n_suites;
    uint16_t groups[8];
    size_t n_groups;
    bool tickets; /* session tickets (stateless resumption) */
    uint64_t ticket_rotate_s;
    char *ticket_key_file;   /* tls.tickets.key_file: a fleet's shared keys (NULL: none) */
    size_t session_cache;    /* tls.session_cache: stateful cache entries per listener (0: off) */
    uint32_t max_early_data; /* tls.max_early_data: 0-RTT bytes per connection */
    bool require_ems;        /* TLS 1.2: refuse clients without extended_master_secret */
    cfg_listener *listeners;
    size_t n_listeners;
    cfg_backend *backends;
    size_t n_backends;
} cfg_config;

/*
 * Loads and validates path. On failure returns -1, *out is NULL and err holds one
 * line "path:line:column: message" (or "path: message" when there is no position,
 * e.g. the file cannot be read). On success returns 0 with one reference in *out.
 */
int cfg_load(const char *path, cfg_config **out, char *err, size_t errlen);
/* Same from a string (name is used in messages). */
int cfg_load_string(const char *name, const char *yaml, size_t len, cfg_config **out, char *err,
                    size_t errlen);
/*
 * cfg_load for a reload (SIGHUP) while prev (borrowed; may be NULL) is in force: what
 * must outlive a reload is carried over from prev instead of made afresh. Today that
 * is each listener's ticketer, so tickets issued before the reload still resume: a
 * listener keeps the ticketer of prev's listener with the same address when tickets
 * stay on with the same rotate period and neither config has tickets.key_file (with
 * a key file the file is read again: that is how a fleet's keys are rotated).
 * ticketer_kept says which listeners kept theirs. The session cache lives inside
 * each listener's TLS config and starts empty.
 */
int cfg_reload(const char *path, const cfg_config *prev, cfg_config **out, char *err,
               size_t errlen);
int cfg_reload_string(const char *name, const char *yaml, size_t len, const cfg_config *prev,
                      cfg_config **out, char *err, size_t errlen);
cfg_config *cfg_ref(cfg_config *cfg);
void cfg_unref(cfg_config *cfg);

/* Parses "host:port", "[v6]:port" or "unix:/path" (port 1..65535). 0 or -1 with
 * a message (without position) in err. */
int cfg_parse_address(const char *text, cfg_address *out, char *err, size_t errlen);
void cfg_address_clear(cfg_address *a);
/* Parses a duration such as "10s", "500ms", "5m", "12h", "1d" (bare number = seconds). */
int cfg_parse_duration_ms(const char *text, uint64_t *ms);
/* Parses a size such as "65536", "64KiB", "64k", "16MiB", "1G" (powers of 1024). 0 or -1. */
int cfg_parse_size(const char *text, uint64_t *bytes);
const char *cfg_log_level_name(cfg_log_level level);

#endif
