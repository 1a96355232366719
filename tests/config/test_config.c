/*
 * test_config.c — unit tests for config/: loading moat.yaml (config.c) and the value
 * parsers (values.c).
 *
 * Good files under tests/config/good/ load, and full.yaml / minimal.yaml are checked
 * value by value. Every .yaml file in tests/config/bad/ is one case: its first line is
 * "# expect: <message>" and cfg_load must fail with exactly that message (the directory
 * is read when the suite is built, so adding a file adds a case). Paths are relative to
 * the repository root, where tests run. Everything runs under ASan/LeakSanitizer, so
 * each error path is also a leak check.
 */
#include "config/config.h"
#include "tests/lib/unit.h"
#include "tls/internal.h" /* tls_limits: what the engine configs got */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#define GOOD_DIR "tests/config/good"
#define BAD_DIR "tests/config/bad"
#define KEYS_DIR "tests/config/keys"
#define EXPECT_PREFIX "# expect: "
#define MIN_BAD_FILES 25

/* ---- helpers ------------------------------------------------------------------------ */

/* Sorted *.yaml names in a directory, read once by make_suite (forked cases inherit them). */
typedef struct {
    char **names;
    int n;
    bool read_ok;
} file_list;

static file_list good_files, bad_files;

static int is_yaml(const struct dirent *d)
{
    size_t len = strlen(d->d_name);
    return len > 5 && !strcmp(d->d_name + len - 5, ".yaml");
}

static void list_dir(const char *dir, file_list *out)
{
    struct dirent **entries = NULL;
    int n = scandir(dir, &entries, is_yaml, alphasort);

    out->read_ok = n >= 0;
    if (n < 0)
        return;
    out->names = calloc((size_t)n, sizeof *out->names);
    for (int i = 0; i < n; i++) {
        if (out->names)
            out->names[out->n++] = strdup(entries[i]->d_name);
        free(entries[i]);
    }
    free(entries);
}

static cfg_config *load_ok(const char *path)
{
    char err[512] = "";
    cfg_config *cfg = NULL;

    ck_assert_msg(cfg_load(path, &cfg, err, sizeof err) == 0, "%s: %s", path, err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_str_eq(err, "");
    return cfg;
}

static uint16_t port_of(const cfg_address *a)
{
    if (a->addr.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&a->addr)->sin6_port);
}

static void assert_v4(const cfg_address *a, const char *text, const char *ip, uint16_t port)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->addr;
    char buf[INET_ADDRSTRLEN];

    ck_assert_str_eq(a->text, text);
    ck_assert(!a->is_unix);
    ck_assert_int_eq(sin->sin_family, AF_INET);
    ck_assert_uint_eq(a->addr_len, sizeof *sin);
    ck_assert_str_eq(inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf), ip);
    ck_assert_uint_eq(port_of(a), port);
}

static void assert_v6(const cfg_address *a, const char *text, const char *ip, uint16_t port)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->addr;
    char buf[INET6_ADDRSTRLEN];

    ck_assert_str_eq(a->text, text);
    ck_assert(!a->is_unix);
    ck_assert_int_eq(sin6->sin6_family, AF_INET6);
    ck_assert_uint_eq(a->addr_len, sizeof *sin6);
    ck_assert_str_eq(inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf), ip);
    ck_assert_uint_eq(port_of(a), port);
}

static void assert_unix(const cfg_address *a, const char *text, const char *path)
{
    const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->addr;

    ck_assert_str_eq(a->text, text);
    ck_assert(a->is_unix);
    ck_assert_int_eq(sun->sun_family, AF_UNIX);
    ck_assert_str_eq(sun->sun_path, path);
    ck_assert_uint_eq(a->addr_len, offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static unsigned default_workers(void)
{
    unsigned cpus = uv_available_parallelism();
    return cpus < 1 ? 1 : cpus > 1024 ? 1024 : cpus;
}

static void copy_file(const char *from, const char *to)
{
    char buf[8192];
    size_t n;
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");

    ck_assert_msg(in && out, "copy %s -> %s: %s", from, to, strerror(errno));
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

/* ---- good files ----------------------------------------------------------------------- */

START_TEST(test_config_load_good_full)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/full.yaml");
    const cfg_listener *l0 = &cfg->listeners[0], *l1 = &cfg->listeners[1];
    const cfg_backend *web = &cfg->backends[0], *api = &cfg->backends[1], *stat = &cfg->backends[2];

    ck_assert_str_eq(cfg->path, GOOD_DIR "/full.yaml");
    ck_assert_uint_eq(atomic_load(&cfg->refs), 1);
    ck_assert_uint_eq(cfg->workers, 4);
    ck_assert_str_eq(cfg->user, "moat");
    ck_assert_int_eq(cfg->log_level, CFG_LOG_DEBUG);
    ck_assert_str_eq(cfg->access_log, "build/test-logs/access.log");
    ck_assert_uint_eq(cfg->handshake_timeout_ms, 2500);
    ck_assert_uint_eq(cfg->idle_timeout_ms, 90 * 60 * 1000);
    ck_assert_uint_eq(cfg->connect_timeout_ms, 2000);
    ck_assert_uint_eq(cfg->drain_timeout_ms, 0);
    ck_assert_uint_eq(cfg->max_connections, 1000);
    ck_assert_uint_eq(cfg->n_versions, 1);
    ck_assert_uint_eq(cfg->versions[0], TLS_VERSION_1_3);
    ck_assert_uint_eq(cfg->n_suites, 2);
    ck_assert_uint_eq(cfg->suites[0], TLS_CHACHA20_POLY1305_SHA256);
    ck_assert_uint_eq(cfg->suites[1], TLS_AES_128_GCM_SHA256);
    ck_assert_uint_eq(cfg->n_groups, 2);
    ck_assert_uint_eq(cfg->groups[0], TLS_GROUP_SECP256R1);
    ck_assert_uint_eq(cfg->groups[1], TLS_GROUP_X25519);
    ck_assert_uint_eq(cfg->ticket_rotate_s, 86400);
    ck_assert_ptr_null(cfg->ticket_key_file);
    ck_assert_uint_eq(cfg->session_cache, 500);
    ck_assert_uint_eq(cfg->max_early_data, 4096);

    ck_assert_uint_eq(cfg->n_listeners, 2);
    assert_v4(&l0->address, "127.0.0.1:8443", "127.0.0.1", 8443);
    ck_assert_uint_eq(l0->mark.line, 16);
    ck_assert_uint_eq(l0->mark.column, 5);
    ck_assert_uint_eq(l0->n_certificates, 2);
    ck_assert_str_eq(l0->certificates[0].cert_path, "tests/certs/ecdsa-p256/end.fullchain");
    ck_assert_str_eq(l0->certificates[0].key_path, "tests/certs/ecdsa-p256/end.key");
    ck_assert_uint_eq(l0->certificates[0].mark.line, 18);
    ck_assert_str_eq(l0->certificates[1].cert_path, "tests/certs/rsa2048/other.fullchain");
    ck_assert_str_eq(l0->certificates[1].key_path, "tests/certs/rsa2048/other.key");
    ck_assert_uint_eq(l0->certificates[1].mark.line, 19);
    ck_assert(tls_certified_key_covers(l0->certificates[0].key, "testserver.com"));
    ck_assert(tls_certified_key_covers(l0->certificates[1].key, "other.test"));
    ck_assert(l0->sni_strict);
    ck_assert_uint_eq(l0->n_alpn, 2);
    ck_assert_str_eq(l0->alpn[0], "h2");
    ck_assert_str_eq(l0->alpn[1], "http/1.1");
    ck_assert_uint_eq(l0->backend, 0);
    ck_assert_uint_eq(l0->n_routes, 3);
    ck_assert_str_eq(l0->routes[0].sni, "api.example.com"); /* lower-cased, as SNI arrives */
    ck_assert_ptr_null(l0->routes[0].alpn);
    ck_assert_uint_eq(l0->routes[0].backend, 1);
    ck_assert_uint_eq(l0->routes[0].mark.line, 25);
    ck_assert_str_eq(l0->routes[1].sni, "*.wild.test");
    ck_assert_str_eq(l0->routes[1].alpn, "h2");
    ck_assert_uint_eq(l0->routes[1].backend, 1);
    ck_assert_ptr_null(l0->routes[2].sni);
    ck_assert_str_eq(l0->routes[2].alpn, "http/1.1");
    ck_assert_uint_eq(l0->routes[2].backend, 2);
    ck_assert(l0->proxy_protocol_in);
    ck_assert(l0->early_data);
    ck_assert_ptr_nonnull(l0->ticketer);
    ck_assert(!l0->ticketer_kept);
    ck_assert_ptr_nonnull(l0->tls);

    assert_v6(&l1->address, "[::1]:8443", "::1", 8443);
    ck_assert_uint_eq(l1->n_certificates, 1);
    /* The alias names the same files: one certified key, shared by reference. */
    ck_assert_ptr_eq(l1->certificates[0].key, l0->certificates[0].key);
    ck_assert(!l1->sni_strict);
    ck_assert_uint_eq(l1->n_alpn, 0);
    ck_assert_uint_eq(l1->backend, 2);
    ck_assert_uint_eq(l1->n_routes, 0);
    ck_assert(!l1->proxy_protocol_in);
    ck_assert(!l1->early_data);
    /* Random keys: each listener has its own ticketer. */
    ck_assert_ptr_nonnull(l1->ticketer);
    ck_assert_ptr_ne(l1->ticketer, l0->ticketer);
    ck_assert_ptr_nonnull(l1->tls);

    ck_assert_uint_eq(cfg->n_backends, 3);
    ck_assert_str_eq(web->name, "web");
    ck_assert_uint_eq(web->mark.line, 36);
    ck_assert_uint_eq(web->mark.column, 3);
    ck_assert_uint_eq(web->n_servers, 3);
    assert_v4(&web->servers[0], "127.0.0.1:8080", "127.0.0.1", 8080);
    assert_unix(&web->servers[1], "unix:/run/web.sock", "/run/web.sock");
    assert_v6(&web->servers[2], "[::1]:8080", "::1", 8080);
    ck_assert_int_eq(web->balance, CFG_BALANCE_LEAST_CONNECTIONS);
    ck_assert_int_eq(web->proxy_protocol, CFG_PROXY_V2);
    ck_assert_str_eq(api->name, "api");
    ck_assert_uint_eq(api->n_servers, 1);
    assert_v4(&api->servers[0], "localhost:9000", "127.0.0.1", 9000);
    ck_assert_int_eq(api->balance, CFG_BALANCE_ROUND_ROBIN);
    ck_assert_int_eq(api->proxy_protocol, CFG_PROXY_V1);
    ck_assert_str_eq(stat->name, "static");
    assert_v4(&stat->servers[0], "10.0.0.7:80", "10.0.0.7", 80);
    ck_assert_int_eq(stat->proxy_protocol, CFG_PROXY_OFF);
    cfg_unref(cfg);
}
END_TEST

START_TEST(test_config_load_good_minimal_gets_defaults)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/minimal.yaml");
    const cfg_listener *l = &cfg->listeners[0];

    ck_assert_uint_eq(cfg->workers, default_workers());
    ck_assert_ptr_null(cfg->user);
    ck_assert_int_eq(cfg->log_level, CFG_LOG_INFO);
    ck_assert_str_eq(cfg->access_log, "stderr");
    ck_assert_uint_eq(cfg->handshake_timeout_ms, 10000);
    ck_assert_uint_eq(cfg->idle_timeout_ms, 300000);
    ck_assert_uint_eq(cfg->connect_timeout_ms, 5000);
    ck_assert_uint_eq(cfg->drain_timeout_ms, 30000);
    ck_assert_uint_eq(cfg->max_connections, 50000);
    ck_assert_uint_eq(cfg->n_versions, 2);
    ck_assert_uint_eq(cfg->versions[0], TLS_VERSION_1_3);
    ck_assert_uint_eq(cfg->versions[1], TLS_VERSION_1_2);
    ck_assert(!cfg->require_ems);
    ck_assert_uint_eq(cfg->n_suites, 0); /* the engine's defaults */
    ck_assert_uint_eq(cfg->n_groups, 0);
    ck_assert_uint_eq(cfg->ticket_rotate_s, 12 * 3600);
    ck_assert(cfg->tickets);
    ck_assert_ptr_null(cfg->ticket_key_file);
    ck_assert_uint_eq(cfg->session_cache, 20000);
    ck_assert_uint_eq(cfg->max_early_data, 16384);
    ck_assert_uint_eq(cfg->n_listeners, 1);
    assert_v4(&l->address, "0.0.0.0:443", "0.0.0.0", 443);
    ck_assert_uint_eq(l->n_certificates, 1);
    ck_assert(!l->sni_strict);
    ck_assert_uint_eq(l->n_alpn, 0);
    ck_assert_ptr_null(l->alpn);
    ck_assert_uint_eq(l->n_routes, 0);
    ck_assert(!l->proxy_protocol_in);
    ck_assert(!l->early_data);
    ck_assert_ptr_nonnull(l->ticketer);
    ck_assert_ptr_nonnull(l->tls);
    ck_assert_uint_eq(cfg->n_backends, 1);
    ck_assert_int_eq(cfg->backends[0].balance, CFG_BALANCE_ROUND_ROBIN);
    ck_assert_int_eq(cfg->backends[0].proxy_protocol, CFG_PROXY_OFF);
    cfg_unref(cfg);
}
END_TEST

/* One case per good file: it loads, and every listener's TLS config makes connections. */
START_TEST(test_config_load_good_file)
{
    char path[PATH_MAX];
    cfg_config *cfg;

    ck_assert(good_files.read_ok);
    snprintf(path, sizeof path, GOOD_DIR "/%s", good_files.names[_i]);
    cfg = load_ok(path);
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        tls_conn *conn = NULL;
        ck_assert_int_eq(tls_server_conn_new(cfg->listeners[i].tls, &conn), TLS_OK);
        tls_conn_free(conn);
    }
    cfg_unref(cfg);
}
END_TEST

/* client_auth reaches the listeners' configs; a backend's cert/key its client config. */
START_TEST(test_config_load_good_client_auth)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/client_auth.yaml");
    ck_assert_uint_eq(cfg->n_listeners, 3);
    ck_assert_int_eq(cfg->listeners[0].client_auth, TLS_CLIENT_AUTH_REQUIRED);
    ck_assert_ptr_nonnull(cfg->listeners[0].client_roots);
    ck_assert_uint_eq(cfg->listeners[0].n_client_crls, 2);
    ck_assert_str_eq(cfg->listeners[0].client_crls[1], "tests/certs/client-auth/ca.crl.pem");
    ck_assert_int_eq(cfg->listeners[1].client_auth, TLS_CLIENT_AUTH_OPTIONAL);
    ck_assert_uint_eq(cfg->listeners[1].n_client_crls, 1);
    ck_assert_int_eq(cfg->listeners[2].client_auth, TLS_CLIENT_AUTH_NONE);
    ck_assert_ptr_null(cfg->listeners[2].client_roots);
    ck_assert_ptr_nonnull(cfg->backends[0].tls->client_cert);
    ck_assert_ptr_nonnull(cfg->backends[0].server_tls[0]->client_cert);
    cfg_unref(cfg);
}
END_TEST

/* ocsp/sct reach each certificate: the file staple is in place, fetch has none yet,
 * both carry the issuer (chain[1]); the same files without staples are another key. */
START_TEST(test_config_load_good_ocsp)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/ocsp.yaml");
    const cfg_certificate *file = &cfg->listeners[0].certificates[0];
    const cfg_certificate *fetch = &cfg->listeners[0].certificates[1];
    const cfg_certificate *plain = &cfg->listeners[1].certificates[0];
    int64_t this_update = 0, next_update = 0;

    ck_assert_int_eq(file->ocsp, CFG_OCSP_FILE);
    ck_assert_str_eq(file->ocsp_path, "tests/certs/ocsp/good.der");
    ck_assert_str_eq(file->sct_path, "tests/certs/ocsp/sct.list");
    ck_assert_ptr_nonnull(file->issuer);
    ck_assert_uint_gt(file->issuer_len, 100);
    ck_assert(tls_certified_key_ocsp_validity(file->key, &this_update, &next_update));
    ck_assert_int_gt(next_update, this_update);
    ck_assert_int_eq(fetch->ocsp, CFG_OCSP_FETCH);
    ck_assert_ptr_null(fetch->ocsp_path);
    ck_assert_ptr_nonnull(fetch->issuer);
    ck_assert(!tls_certified_key_ocsp_validity(fetch->key, &this_update, &next_update));
    ck_assert_int_eq(plain->ocsp, CFG_OCSP_NONE);
    ck_assert_ptr_null(plain->issuer);
    ck_assert_ptr_ne(plain->key, file->key);
    ck_assert(!tls_certified_key_ocsp_validity(plain->key, &this_update, &next_update));
    cfg_unref(cfg);
}
END_TEST

/* Two listeners naming the same files and the same staples share one key. */
START_TEST(test_config_load_string_ocsp_shared_key)
{
    static const char yaml[] =
        "listeners:\n"
        "  - address: 127.0.0.1:8443\n"
        "    certificates: [&c {cert: tests/certs/ecdsa-p256/end.fullchain,\n"
        "                      key: tests/certs/ecdsa-p256/end.key,\n"
        "                      ocsp: tests/certs/ocsp/good.der}]\n"
        "    backend: web\n"
        "  - address: 127.0.0.1:8444\n"
        "    certificates: [*c]\n"
        "    backend: web\n"
        "backends: {web: {servers: [127.0.0.1:8080]}}\n";
    char err[512] = "";
    cfg_config *cfg = NULL;

    ck_assert_msg(cfg_load_string("t.yaml", yaml, sizeof yaml - 1, &cfg, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_ptr_eq(cfg->listeners[0].certificates[0].key, cfg->listeners[1].certificates[0].key);
    ck_assert_ptr_nonnull(cfg->listeners[1].certificates[0].issuer);
    ck_assert_mem_eq(cfg->listeners[0].certificates[0].issuer,
                     cfg->listeners[1].certificates[0].issuer,
                     cfg->listeners[0].certificates[0].issuer_len);
    cfg_unref(cfg);
}
END_TEST

START_TEST(test_config_load_good_dir_has_files)
{
    ck_assert(good_files.read_ok);
    ck_assert_int_ge(good_files.n, 2);
}
END_TEST

/* config/moat.yaml, run from a scratch directory holding build/run/moat.{fullchain,key}
 * (what `make run` creates), so the test neither needs nor touches the real build/run. */
START_TEST(test_config_load_example_moat_yaml)
{
    char example[PATH_MAX], chain[PATH_MAX], key[PATH_MAX], tmp[] = "/tmp/test_config.XXXXXX";
    char cwd[PATH_MAX], cmd[64];
    cfg_config *cfg;

    ck_assert_ptr_nonnull(realpath("config/moat.yaml", example));
    ck_assert_ptr_nonnull(realpath("tests/certs/ecdsa-p256/end.fullchain", chain));
    ck_assert_ptr_nonnull(realpath("tests/certs/ecdsa-p256/end.key", key));
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    ck_assert_int_eq(chdir(tmp), 0);
    ck_assert_int_eq(mkdir("build", 0700), 0);
    ck_assert_int_eq(mkdir("build/run", 0700), 0);
    copy_file(chain, "build/run/moat.fullchain");
    copy_file(key, "build/run/moat.key");

    cfg = load_ok(example);
    ck_assert_uint_eq(cfg->n_listeners, 1);
    assert_v4(&cfg->listeners[0].address, "127.0.0.1:8443", "127.0.0.1", 8443);
    ck_assert_str_eq(cfg->listeners[0].certificates[0].cert_path, "build/run/moat.fullchain");
    ck_assert_uint_eq(cfg->n_backends, 1);
    assert_v4(&cfg->backends[0].servers[0], "127.0.0.1:8080", "127.0.0.1", 8080);
    cfg_unref(cfg);

    ck_assert_int_eq(chdir(cwd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp); /* only our own mkdtemp directory */
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- bad files ------------------------------------------------------------------------ */

START_TEST(test_config_load_bad_file)
{
    char path[PATH_MAX], line[1024] = "", err[1024] = "";
    static cfg_config sentinel;
    cfg_config *cfg = &sentinel; /* must come back NULL */
    FILE *f;

    ck_assert(bad_files.read_ok);
    snprintf(path, sizeof path, BAD_DIR "/%s", bad_files.names[_i]);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    ck_assert_msg(!strncmp(line, EXPECT_PREFIX, strlen(EXPECT_PREFIX)),
                  "%s: the first line must be \"" EXPECT_PREFIX "<message>\"", path);

    ck_assert_int_eq(cfg_load(path, &cfg, err, sizeof err), -1);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err, line + strlen(EXPECT_PREFIX));
}
END_TEST

START_TEST(test_config_load_bad_dir_has_enough_files)
{
    ck_assert(bad_files.read_ok);
    ck_assert_int_ge(bad_files.n, MIN_BAD_FILES);
}
END_TEST

/* ---- cfg_load / cfg_load_string edges ------------------------------------------------ */

static const char minimal_yaml[] = "listeners:\n"
                                   "  - address: 127.0.0.1:8443\n"
                                   "    certificates: [{cert: tests/certs/ecdsa-p256/end.fullchain,"
                                   " key: tests/certs/ecdsa-p256/end.key}]\n"
                                   "    backend: b\n"
                                   "backends: {b: {servers: ['127.0.0.1:1']}}\n";

START_TEST(test_config_load_missing_file)
{
    char err[256];
    cfg_config *cfg = NULL;

    ck_assert_int_eq(cfg_load("tests/config/no-such.yaml", &cfg, err, sizeof err), -1);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err, "tests/config/no-such.yaml: cannot open: No such file or directory");
}
END_TEST

START_TEST(test_config_load_directory)
{
    char err[256];
    cfg_config *cfg = NULL;

    ck_assert_int_eq(cfg_load("tests/config", &cfg, err, sizeof err), -1);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err, "tests/config: not a regular file");
}
END_TEST

START_TEST(test_config_load_string_ok)
{
    char err[256] = "x";
    cfg_config *cfg = NULL;

    ck_assert_int_eq(
        cfg_load_string("inline", minimal_yaml, strlen(minimal_yaml), &cfg, err, sizeof err), 0);
    ck_assert_str_eq(err, "");
    ck_assert_str_eq(cfg->path, "inline");
    ck_assert_str_eq(cfg->backends[0].name, "b");
    cfg_unref(cfg);
}
END_TEST

/* len, not a NUL, ends the input: the bytes after it are never read. */
START_TEST(test_config_load_string_uses_len)
{
    char err[256];
    cfg_config *cfg = NULL;
    char *text = malloc(sizeof minimal_yaml + 20);

    ck_assert_ptr_nonnull(text);
    memcpy(text, minimal_yaml, strlen(minimal_yaml));
    memcpy(text + strlen(minimal_yaml), "bogus: [unclosed", 16); /* past len, no NUL */
    ck_assert_int_eq(cfg_load_string("inline", text, strlen(minimal_yaml), &cfg, err, sizeof err),
                     0);
    cfg_unref(cfg);
    free(text);
}
END_TEST

START_TEST(test_config_load_string_error_names_source)
{
    char err[256];
    cfg_config *cfg = NULL;
    static const char yaml[] = "workers: 2\nfoo: 1\n";

    ck_assert_int_eq(cfg_load_string("<cmdline>", yaml, strlen(yaml), &cfg, err, sizeof err), -1);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err, "<cmdline>:2:1: unknown key \"foo\" at the top level");
}
END_TEST

/* The first error is the one reported, even when later parts are also wrong. */
START_TEST(test_config_load_string_first_error_wins)
{
    char err[256];
    cfg_config *cfg = NULL;
    static const char yaml[] = "workers: 0\nuser: [x]\nlisteners: 3\n";

    ck_assert_int_eq(cfg_load_string("f", yaml, strlen(yaml), &cfg, err, sizeof err), -1);
    ck_assert_str_eq(err, "f:1:10: \"workers\" must be \"auto\" or between 1 and 1024");
}
END_TEST

START_TEST(test_config_load_string_small_err_buffer)
{
    char err[12];
    cfg_config *cfg = NULL;
    static const char yaml[] = "workers: 0\n";

    memset(err, 'x', sizeof err);
    ck_assert_int_eq(cfg_load_string("file.yaml", yaml, strlen(yaml), &cfg, err, sizeof err), -1);
    ck_assert_str_eq(err, "file.yaml:1");
    ck_assert_int_eq(cfg_load_string("file.yaml", yaml, strlen(yaml), &cfg, NULL, 0), -1);
    ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(test_config_load_string_workers_auto)
{
    char err[256], yaml[sizeof minimal_yaml + 32];
    cfg_config *cfg = NULL;

    snprintf(yaml, sizeof yaml, "workers: auto\n%s", minimal_yaml);
    ck_assert_int_eq(cfg_load_string("f", yaml, strlen(yaml), &cfg, err, sizeof err), 0);
    ck_assert_uint_eq(cfg->workers, default_workers());
    cfg_unref(cfg);
}
END_TEST

/* Quoting does not change a value's type: "8" is 8 and "true" is true. */
START_TEST(test_config_load_string_quoted_scalars)
{
    char err[256], yaml[sizeof minimal_yaml + 96];
    cfg_config *cfg = NULL;

    snprintf(yaml, sizeof yaml, "workers: \"8\"\nlimits: {max_connections: '7'}\n%s", minimal_yaml);
    ck_assert_int_eq(cfg_load_string("f", yaml, strlen(yaml), &cfg, err, sizeof err), 0);
    ck_assert_uint_eq(cfg->workers, 8);
    ck_assert_uint_eq(cfg->max_connections, 7);
    cfg_unref(cfg);
}
END_TEST

START_TEST(test_config_load_string_log_access_off)
{
    char err[256], yaml[sizeof minimal_yaml + 64];
    cfg_config *cfg = NULL;

    snprintf(yaml, sizeof yaml, "log: {access: off, level: error}\n%s", minimal_yaml);
    ck_assert_int_eq(cfg_load_string("f", yaml, strlen(yaml), &cfg, err, sizeof err), 0);
    ck_assert_ptr_null(cfg->access_log);
    ck_assert_int_eq(cfg->log_level, CFG_LOG_ERROR);
    cfg_unref(cfg);
}
END_TEST

/* A backend may be used before the backends section defines it. */
START_TEST(test_config_load_string_backend_defined_later)
{
    char err[256];
    cfg_config *cfg = NULL;
    static const char yaml[] =
        "backends:\n  a: {servers: ['127.0.0.1:1']}\n  b: {servers: ['127.0.0.1:2']}\n"
        "listeners:\n  - address: 127.0.0.1:8443\n"
        "    certificates: [{cert: tests/certs/ecdsa-p256/end.fullchain,"
        " key: tests/certs/ecdsa-p256/end.key}]\n"
        "    backend: b\n";

    ck_assert_int_eq(cfg_load_string("f", yaml, strlen(yaml), &cfg, err, sizeof err), 0);
    ck_assert_uint_eq(cfg->listeners[0].backend, 1);
    cfg_unref(cfg);
}
END_TEST

START_TEST(test_config_ref_unref_balance)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/minimal.yaml");

    ck_assert_ptr_eq(cfg_ref(cfg), cfg);
    ck_assert_uint_eq(atomic_load(&cfg->refs), 2);
    cfg_unref(cfg);
    ck_assert_uint_eq(atomic_load(&cfg->refs), 1);
    cfg_unref(cfg); /* frees; LeakSanitizer checks nothing is left */
    cfg_unref(NULL);
}
END_TEST

/* A TLS config outlives the cfg that built it when the proxy still holds a reference. */
START_TEST(test_config_unref_keeps_referenced_tls)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/full.yaml");
    tls_server_config *tls = tls_server_config_ref(cfg->listeners[0].tls);
    tls_conn *conn = NULL;

    cfg_unref(cfg);
    ck_assert_int_eq(tls_server_conn_new(tls, &conn), TLS_OK);
    tls_conn_free(conn);
    tls_server_config_unref(tls);
}
END_TEST

/* ---- ticket keys, session cache and 0-RTT ------------------------------------------------ */

START_TEST(test_config_load_good_tickets_key_file_shared)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/tickets_key_file.yaml");

    ck_assert(cfg->tickets);
    ck_assert_str_eq(cfg->ticket_key_file, KEYS_DIR "/fleet.keys");
    ck_assert_uint_eq(cfg->session_cache, 0);
    ck_assert_uint_eq(cfg->n_listeners, 2);
    /* One fleet ticketer, shared by every listener. */
    ck_assert_ptr_nonnull(cfg->listeners[0].ticketer);
    ck_assert_ptr_eq(cfg->listeners[0].ticketer, cfg->listeners[1].ticketer);
    cfg_unref(cfg);
}
END_TEST

START_TEST(test_config_load_good_early_data)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/early_data.yaml");

    ck_assert(!cfg->tickets);
    ck_assert_uint_eq(cfg->session_cache, 100);
    ck_assert_uint_eq(cfg->max_early_data, 8192);
    ck_assert(cfg->listeners[0].early_data);
    ck_assert(!cfg->listeners[1].early_data);
    ck_assert_ptr_null(cfg->listeners[0].ticketer); /* tickets off */
    ck_assert_ptr_null(cfg->listeners[1].ticketer);
    cfg_unref(cfg);
}
END_TEST

/* minimal_yaml with a tls section in front and the listener at ADDRESS. */
static cfg_config *reload_yaml(const char *tls, const char *address, const cfg_config *prev)
{
    char yaml[1024], err[512] = "";
    cfg_config *cfg = NULL;

    snprintf(yaml, sizeof yaml,
             "%s\nlisteners:\n"
             "  - address: %s\n"
             "    certificates: [{cert: tests/certs/ecdsa-p256/end.fullchain,"
             " key: tests/certs/ecdsa-p256/end.key}]\n"
             "    backend: b\n"
             "  - address: 127.0.0.1:9444\n"
             "    certificates: [{cert: tests/certs/ecdsa-p256/end.fullchain,"
             " key: tests/certs/ecdsa-p256/end.key}]\n"
             "    backend: b\n"
             "backends: {b: {servers: ['127.0.0.1:1']}}\n",
             tls, address);
    ck_assert_msg(cfg_reload_string("f", yaml, strlen(yaml), prev, &cfg, err, sizeof err) == 0,
                  "%s", err);
    return cfg;
}

/* A reload keeps each listener's ticketer while its ticket settings stay the same. */
START_TEST(test_config_reload_keeps_ticketer)
{
    cfg_config *a = reload_yaml("tls: {tickets: {rotate: 1h}}", "127.0.0.1:9443", NULL);
    cfg_config *b =
        reload_yaml("tls: {tickets: {rotate: 1h}, session_cache: 5}", "127.0.0.1:9443", a);

    ck_assert(!a->listeners[0].ticketer_kept);
    ck_assert_ptr_eq(b->listeners[0].ticketer, a->listeners[0].ticketer);
    ck_assert_ptr_eq(b->listeners[1].ticketer, a->listeners[1].ticketer);
    ck_assert(b->listeners[0].ticketer_kept);
    ck_assert(b->listeners[1].ticketer_kept);
    /* The previous config may go first: the new one holds its own references. */
    cfg_unref(a);
    cfg_config *c = reload_yaml("tls: {tickets: {rotate: 1h}}", "127.0.0.1:9443", b);
    ck_assert_ptr_eq(c->listeners[0].ticketer, b->listeners[0].ticketer);
    cfg_unref(b);
    cfg_unref(c);
}
END_TEST

START_TEST(test_config_reload_new_ticketer_when_settings_change)
{
    cfg_config *a = reload_yaml("tls: {tickets: {rotate: 1h}}", "127.0.0.1:9443", NULL);
    cfg_config *rotate = reload_yaml("tls: {tickets: {rotate: 2h}}", "127.0.0.1:9443", a);
    cfg_config *moved = reload_yaml("tls: {tickets: {rotate: 1h}}", "127.0.0.1:9445", a);
    cfg_config *off = reload_yaml("tls: {tickets: {enabled: false}}", "127.0.0.1:9443", a);
    cfg_config *back_on = reload_yaml("tls: {tickets: {rotate: 1h}}", "127.0.0.1:9443", off);

    /* Another rotate period: new keys for both listeners. */
    ck_assert_ptr_ne(rotate->listeners[0].ticketer, a->listeners[0].ticketer);
    ck_assert_ptr_ne(rotate->listeners[1].ticketer, a->listeners[1].ticketer);
    ck_assert(!rotate->listeners[0].ticketer_kept);
    /* Another address: that listener is new; the other one keeps its keys. */
    ck_assert_ptr_ne(moved->listeners[0].ticketer, a->listeners[0].ticketer);
    ck_assert(!moved->listeners[0].ticketer_kept);
    ck_assert_ptr_eq(moved->listeners[1].ticketer, a->listeners[1].ticketer);
    /* Tickets off: no ticketer; on again: fresh keys. */
    ck_assert_ptr_null(off->listeners[0].ticketer);
    ck_assert_ptr_nonnull(back_on->listeners[0].ticketer);
    ck_assert(!back_on->listeners[0].ticketer_kept);
    cfg_unref(a);
    cfg_unref(rotate);
    cfg_unref(moved);
    cfg_unref(off);
    cfg_unref(back_on);
}
END_TEST

/* With key_file every reload reads the file again (how a fleet rotates its keys), and
 * never keeps a ticketer made from random keys, nor the other way round. */
START_TEST(test_config_reload_key_file_is_read_again)
{
    cfg_config *a =
        reload_yaml("tls: {tickets: {key_file: " KEYS_DIR "/fleet.keys}}", "127.0.0.1:9443", NULL);
    cfg_config *b =
        reload_yaml("tls: {tickets: {key_file: " KEYS_DIR "/fleet.keys}}", "127.0.0.1:9443", a);
    cfg_config *random_keys = reload_yaml("tls: {}", "127.0.0.1:9443", b);
    cfg_config *file_again = reload_yaml("tls: {tickets: {key_file: " KEYS_DIR "/fleet.keys}}",
                                         "127.0.0.1:9443", random_keys);

    ck_assert_ptr_nonnull(b->listeners[0].ticketer);
    ck_assert_ptr_ne(b->listeners[0].ticketer, a->listeners[0].ticketer);
    ck_assert(!b->listeners[0].ticketer_kept);
    ck_assert_ptr_eq(b->listeners[0].ticketer, b->listeners[1].ticketer);
    ck_assert_ptr_ne(random_keys->listeners[0].ticketer, b->listeners[0].ticketer);
    ck_assert(!random_keys->listeners[0].ticketer_kept);
    ck_assert_ptr_ne(file_again->listeners[0].ticketer, random_keys->listeners[0].ticketer);
    ck_assert(!file_again->listeners[0].ticketer_kept);
    cfg_unref(a);
    cfg_unref(b);
    cfg_unref(random_keys);
    cfg_unref(file_again);
}
END_TEST

/* A failed reload leaves prev untouched and leaks nothing. */
START_TEST(test_config_reload_failure_keeps_prev)
{
    cfg_config *a = reload_yaml("tls: {}", "127.0.0.1:9443", NULL), *b = NULL;
    tls_ticketer *t = a->listeners[0].ticketer;
    static const char yaml[] = "tls: {tickets: {key_file: " KEYS_DIR "/no-such.keys}}\n";
    char err[512];

    ck_assert_int_eq(cfg_reload_string("f", yaml, strlen(yaml), a, &b, err, sizeof err), -1);
    ck_assert_ptr_null(b);
    ck_assert_str_eq(err, "f:1:27: ticket key file refused: cannot read " KEYS_DIR
                          "/no-such.keys: No such file or directory");
    ck_assert_ptr_eq(a->listeners[0].ticketer, t);
    cfg_unref(a);
}
END_TEST

/* ---- cfg_parse_address ------------------------------------------------------------------ */

static void assert_address_error(const char *text, const char *message)
{
    char err[256] = "";
    cfg_address a;

    memset(&a, 0x55, sizeof a);
    ck_assert_int_eq(cfg_parse_address(text, &a, err, sizeof err), -1);
    ck_assert_str_eq(err, message);
    ck_assert_ptr_null(a.text); /* cleared: nothing to free */
    ck_assert_uint_eq(a.addr_len, 0);
}

START_TEST(test_config_parse_address_ipv4)
{
    cfg_address a;

    ck_assert_int_eq(cfg_parse_address("192.0.2.1:443", &a, NULL, 0), 0);
    assert_v4(&a, "192.0.2.1:443", "192.0.2.1", 443);
    cfg_address_clear(&a);
    ck_assert_ptr_null(a.text);
    ck_assert_int_eq(cfg_parse_address("0.0.0.0:1", &a, NULL, 0), 0);
    assert_v4(&a, "0.0.0.0:1", "0.0.0.0", 1);
    cfg_address_clear(&a);
    ck_assert_int_eq(cfg_parse_address("255.255.255.255:65535", &a, NULL, 0), 0);
    ck_assert_uint_eq(port_of(&a), 65535);
    cfg_address_clear(&a);
    ck_assert_int_eq(cfg_parse_address("127.0.0.1:08080", &a, NULL, 0), 0);
    ck_assert_uint_eq(port_of(&a), 8080);
    cfg_address_clear(&a);
}
END_TEST

START_TEST(test_config_parse_address_localhost)
{
    cfg_address a;

    ck_assert_int_eq(cfg_parse_address("localhost:80", &a, NULL, 0), 0);
    assert_v4(&a, "localhost:80", "127.0.0.1", 80);
    cfg_address_clear(&a);
    ck_assert_int_eq(cfg_parse_address("LocalHost:80", &a, NULL, 0), 0);
    assert_v4(&a, "LocalHost:80", "127.0.0.1", 80);
    cfg_address_clear(&a);
}
END_TEST

START_TEST(test_config_parse_address_ipv6)
{
    cfg_address a;

    ck_assert_int_eq(cfg_parse_address("[::]:443", &a, NULL, 0), 0);
    assert_v6(&a, "[::]:443", "::", 443);
    cfg_address_clear(&a);
    ck_assert_int_eq(cfg_parse_address("[2001:db8::1]:8443", &a, NULL, 0), 0);
    assert_v6(&a, "[2001:db8::1]:8443", "2001:db8::1", 8443);
    cfg_address_clear(&a);
    ck_assert_int_eq(cfg_parse_address("[::ffff:192.0.2.1]:80", &a, NULL, 0), 0);
    assert_v6(&a, "[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1", 80);
    cfg_address_clear(&a);
}
END_TEST

START_TEST(test_config_parse_address_unix)
{
    char text[200], path[sizeof((struct sockaddr_un *)0)->sun_path];
    cfg_address a;

    ck_assert_int_eq(cfg_parse_address("unix:/run/web.sock", &a, NULL, 0), 0);
    assert_unix(&a, "unix:/run/web.sock", "/run/web.sock");
    cfg_address_clear(&a);
    ck_assert_int_eq(cfg_parse_address("unix:relative.sock", &a, NULL, 0), 0);
    assert_unix(&a, "unix:relative.sock", "relative.sock");
    cfg_address_clear(&a);
    /* The longest path that fits sun_path with its NUL. */
    memset(path, 'p', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    snprintf(text, sizeof text, "unix:%s", path);
    ck_assert_int_eq(cfg_parse_address(text, &a, NULL, 0), 0);
    assert_unix(&a, text, path);
    cfg_address_clear(&a);
}
END_TEST

START_TEST(test_config_parse_address_port_out_of_range)
{
    assert_address_error("0.0.0.0:70000", "port 70000 out of range (1-65535)");
    assert_address_error("0.0.0.0:65536", "port 65536 out of range (1-65535)");
    assert_address_error("0.0.0.0:0", "port 0 out of range (1-65535)");
    assert_address_error("[::]:99999999999999999999999",
                         "port 99999999999999999999999 out of range (1-65535)");
}
END_TEST

START_TEST(test_config_parse_address_port_not_a_number)
{
    assert_address_error("127.0.0.1:http", "port \"http\" is not a number");
    assert_address_error("127.0.0.1:-1", "port \"-1\" is not a number");
    assert_address_error("127.0.0.1:+80", "port \"+80\" is not a number");
    assert_address_error("127.0.0.1:80 ", "port \"80 \" is not a number");
    assert_address_error("127.0.0.1:", "missing port number after ':'");
}
END_TEST

START_TEST(test_config_parse_address_missing_parts)
{
    assert_address_error("", "empty address (expected host:port, [v6]:port or unix:/path)");
    assert_address_error(NULL, "empty address (expected host:port, [v6]:port or unix:/path)");
    assert_address_error("127.0.0.1", "missing port (expected host:port, [v6]:port or unix:/path)");
    assert_address_error(":443",
                         "missing host before ':' (0.0.0.0 or [::] listen on every address)");
    assert_address_error("unix:", "unix socket path is empty (expected unix:/path/to.sock)");
}
END_TEST

START_TEST(test_config_parse_address_names_are_not_resolved)
{
    assert_address_error("example.com:443", "host \"example.com\" must be a numeric address "
                                            "(IPv4, [IPv6] or localhost; names are not looked up)");
    assert_address_error("localhost.:443", "host \"localhost.\" must be a numeric address "
                                           "(IPv4, [IPv6] or localhost; names are not looked up)");
    /* inet_pton's strict dotted quad: no short forms, no octal surprises. */
    assert_address_error("127.1:80", "host \"127.1\" must be a numeric address "
                                     "(IPv4, [IPv6] or localhost; names are not looked up)");
    assert_address_error("256.0.0.1:80", "host \"256.0.0.1\" must be a numeric address "
                                         "(IPv4, [IPv6] or localhost; names are not looked up)");
}
END_TEST

START_TEST(test_config_parse_address_ipv6_malformed)
{
    assert_address_error("::1:443", "an IPv6 address needs brackets, as in [::1]:443");
    assert_address_error("[::1:443", "missing ']' after the IPv6 address (expected [v6]:port)");
    assert_address_error("[::1]", "missing port after ']' (expected [v6]:port)");
    assert_address_error("[::1]443", "missing port after ']' (expected [v6]:port)");
    assert_address_error("[]:443", "\"\" is not an IPv6 address");
    assert_address_error("[192.0.2.1]:443", "\"192.0.2.1\" is not an IPv6 address");
    assert_address_error("[fe80::1%eth0]:443", "\"fe80::1%eth0\" is not an IPv6 address");
    assert_address_error("[::1]:", "missing port number after ':'");
}
END_TEST

START_TEST(test_config_parse_address_unix_path_too_long)
{
    char text[300], message[128];
    size_t max = sizeof((struct sockaddr_un *)0)->sun_path - 1;

    memset(text, 'p', sizeof text);
    memcpy(text, "unix:/", 6);
    text[5 + max + 1] = '\0';
    snprintf(message, sizeof message, "unix socket path is too long (%zu bytes, at most %zu)",
             max + 1, max);
    assert_address_error(text, message);
}
END_TEST

START_TEST(test_config_parse_address_null_err_buffer)
{
    cfg_address a;

    ck_assert_int_eq(cfg_parse_address("nope", &a, NULL, 0), -1);
    ck_assert_ptr_null(a.text);
    cfg_address_clear(&a);
    cfg_address_clear(NULL);
}
END_TEST

/* ---- cfg_parse_duration_ms ------------------------------------------------------------ */

static uint64_t duration(const char *text)
{
    uint64_t ms = 12345;

    ck_assert_msg(cfg_parse_duration_ms(text, &ms) == 0, "\"%s\" should parse", text);
    return ms;
}

static void assert_bad_duration(const char *text)
{
    uint64_t ms = 12345;

    ck_assert_msg(cfg_parse_duration_ms(text, &ms) == -1, "\"%s\" should not parse", text);
    ck_assert_uint_eq(ms, 12345); /* untouched on failure */
}

START_TEST(test_config_parse_duration_ms_units)
{
    ck_assert_uint_eq(duration("500ms"), 500);
    ck_assert_uint_eq(duration("10s"), 10000);
    ck_assert_uint_eq(duration("5m"), 300000);
    ck_assert_uint_eq(duration("12h"), 12ull * 3600 * 1000);
    ck_assert_uint_eq(duration("1d"), 86400000);
    ck_assert_uint_eq(duration("1ms"), 1);
}
END_TEST

START_TEST(test_config_parse_duration_ms_bare_number_is_seconds)
{
    ck_assert_uint_eq(duration("10"), 10000);
    ck_assert_uint_eq(duration("0"), 0);
    ck_assert_uint_eq(duration("007"), 7000);
}
END_TEST

START_TEST(test_config_parse_duration_ms_zero_parses)
{
    /* Zero is a valid duration; whether it is a valid setting is the caller's call. */
    ck_assert_uint_eq(duration("0s"), 0);
    ck_assert_uint_eq(duration("0ms"), 0);
}
END_TEST

START_TEST(test_config_parse_duration_ms_compound)
{
    ck_assert_uint_eq(duration("1h30m"), 90ull * 60 * 1000);
    ck_assert_uint_eq(duration("1m30s"), 90000);
    ck_assert_uint_eq(duration("1s500ms"), 1500);
    ck_assert_uint_eq(duration("5m5ms"), 300005);
    ck_assert_uint_eq(duration("1d12h"), 36ull * 3600 * 1000);
}
END_TEST

START_TEST(test_config_parse_duration_ms_limits)
{
    ck_assert_uint_eq(duration("18446744073709551615ms"), UINT64_MAX);
    ck_assert_uint_eq(duration("18446744073709551s"), 18446744073709551000ull);
    assert_bad_duration("18446744073709551616ms");
    assert_bad_duration("18446744073709552s");
    assert_bad_duration("99999999999999999999d");
    assert_bad_duration("213503982335d");
    assert_bad_duration("18446744073709551615ms1ms"); /* the sum overflows */
}
END_TEST

START_TEST(test_config_parse_duration_ms_garbage)
{
    static const char *const bad[] = {
        "",    "10x", "-5s",   "+5s",  "1.5s",   "10 s",  " 10s",  "10s ",  "s",         "ms",
        "h10", "10S", "10sec", "1h30", "1h 30m", "10s10", "0x10s", "1e3ms", "\xc2\xb5s", "10us",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_bad_duration(bad[i]);
    assert_bad_duration(NULL);
}
END_TEST

START_TEST(test_config_log_level_name_all)
{
    ck_assert_str_eq(cfg_log_level_name(CFG_LOG_DEBUG), "debug");
    ck_assert_str_eq(cfg_log_level_name(CFG_LOG_INFO), "info");
    ck_assert_str_eq(cfg_log_level_name(CFG_LOG_WARN), "warn");
    ck_assert_str_eq(cfg_log_level_name(CFG_LOG_ERROR), "error");
    ck_assert_str_eq(cfg_log_level_name((cfg_log_level)42), "unknown");
}
END_TEST

/* ---- limits ------------------------------------------------------------------------- */

START_TEST(test_config_load_good_limits)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/limits.yaml");

    ck_assert_uint_eq(cfg->max_connections, 2000);
    ck_assert_uint_eq(cfg->max_handshakes, 64);
    ck_assert_uint_eq(cfg->per_source_max_connections, 20);
    ck_assert_uint_eq(cfg->per_source_rate, 100);
    ck_assert_uint_eq(cfg->per_source_period_ms, 60000);
    ck_assert_uint_eq(cfg->per_source_ipv6_prefix, 56);
    ck_assert_uint_eq(cfg->max_handshake_message, 16384);
    ck_assert_uint_eq(cfg->max_certificate_chain, 256 * 1024);
    ck_assert_uint_eq(cfg->max_buffered, 1024 * 1024);
    /* What the engine got: a quarter of max_buffered each way. */
    const tls_limits *l = &cfg->listeners[0].tls->limits;
    ck_assert_uint_eq(l->handshake_message, 16384);
    ck_assert_uint_eq(l->certificate_chain, 256 * 1024); /* client certificates (mTLS) */
    ck_assert_uint_eq(l->plaintext, 256 * 1024);
    ck_assert_uint_eq(l->ciphertext, 256 * 1024);
    l = &cfg->backends[0].tls->limits;
    ck_assert_uint_eq(l->handshake_message, 16384);
    ck_assert_uint_eq(l->certificate_chain, 256 * 1024);
    ck_assert_uint_eq(l->plaintext, 256 * 1024);
    ck_assert_uint_eq(cfg->backends[0].server_tls[0]->limits.certificate_chain, 256 * 1024);
    /* Flood bounds reach listeners and backends alike. */
    ck_assert_uint_eq(cfg->max_empty_records, 8);
    ck_assert_uint_eq(cfg->max_key_updates, 4);
    ck_assert_uint_eq(cfg->listeners[0].tls->limits.empty_records, 8);
    ck_assert_uint_eq(cfg->listeners[0].tls->limits.key_updates, 4);
    ck_assert_uint_eq(cfg->backends[0].tls->limits.empty_records, 8);
    ck_assert_uint_eq(cfg->backends[0].server_tls[0]->limits.key_updates, 4);
    cfg_unref(cfg);
}
END_TEST

START_TEST(test_config_load_good_minimal_limits_defaults)
{
    cfg_config *cfg = load_ok(GOOD_DIR "/minimal.yaml");

    ck_assert_uint_eq(cfg->max_handshakes, 0);
    ck_assert_uint_eq(cfg->per_source_max_connections, 0);
    ck_assert_uint_eq(cfg->per_source_rate, 0);
    ck_assert_uint_eq(cfg->per_source_ipv6_prefix, 64);
    ck_assert_uint_eq(cfg->max_handshake_message, 65536);
    ck_assert_uint_eq(cfg->max_certificate_chain, 0);
    ck_assert_uint_eq(cfg->max_buffered, 256 * 1024);
    /* The engine's own defaults: what it did before limits were configurable. */
    const tls_limits *l = &cfg->listeners[0].tls->limits;
    ck_assert_uint_eq(l->handshake_message, 65536);
    ck_assert_uint_eq(l->plaintext, 65536);
    ck_assert_uint_eq(l->ciphertext, 65536);
    ck_assert_uint_eq(l->out_cap, 256 * 1024);
    ck_assert_uint_eq(l->empty_records, 32);
    ck_assert_uint_eq(l->key_updates, 16);
    cfg_unref(cfg);
}
END_TEST

/* Quoted or not, each rate period reads the same. */
START_TEST(test_config_load_string_rate_periods)
{
    static const struct {
        const char *rate;
        uint32_t n;
        uint64_t ms;
    } cases[] = {{"1/s", 1, 1000}, {"'25/m'", 25, 60000}, {"\"1000000/h\"", 1000000, 3600000}};
    char err[256], yaml[sizeof minimal_yaml + 96];
    cfg_config *cfg = NULL;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(yaml, sizeof yaml, "limits: {per_source: {rate: %s}}\n%s", cases[i].rate,
                 minimal_yaml);
        ck_assert_msg(cfg_load_string("inline", yaml, strlen(yaml), &cfg, err, sizeof err) == 0,
                      "%s", err);
        ck_assert_uint_eq(cfg->per_source_rate, cases[i].n);
        ck_assert_uint_eq(cfg->per_source_period_ms, cases[i].ms);
        cfg_unref(cfg);
    }
}
END_TEST

START_TEST(test_config_parse_size_units)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } cases[] = {
        {"0", 0},
        {"65536", 65536},
        {"1B", 1},
        {"1k", 1024},
        {"1K", 1024},
        {"64KiB", 65536},
        {"64kib", 65536},
        {"16MiB", 16u << 20},
        {"16m", 16u << 20},
        {"2GiB", 2ull << 30},
        {"1g", 1ull << 30},
        {"007KiB", 7 * 1024},
        {"18446744073709551615", UINT64_MAX},
        {"17179869183G", 17179869183ull << 30},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        ck_assert_msg(cfg_parse_size(cases[i].text, &v) == 0, "%s", cases[i].text);
        ck_assert_msg(v == cases[i].bytes, "%s: %llu", cases[i].text, (unsigned long long)v);
    }
}
END_TEST

START_TEST(test_config_parse_size_garbage)
{
    static const char *const bad[] = {
        "",
        "KiB",
        "-1",
        "+1",
        "1.5MiB",
        "64KB",
        "64MB",
        "64 KiB",
        " 64",
        "64k ",
        "1kk",
        "1Ki",
        "1TiB",
        "0x10",
        "1e3",
        "1s",
        "k64",
        "64KiBs",
        "1MiB1",
        "18446744073709551616",
        "17179869184G",
        "18014398509481984KiB",
    };
    uint64_t v = 0;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(cfg_parse_size(bad[i], &v) == -1, "\"%s\" parsed", bad[i]);
    ck_assert_int_eq(cfg_parse_size(NULL, &v), -1);
}
END_TEST

static void key_file_mode(const char *path, mode_t mode)
{
    if (chmod(path, mode) != 0)
        fprintf(stderr, "chmod %s: %s\n", path, strerror(errno)); /* its cases then fail */
}

static Suite *make_suite(void)
{
    Suite *s = suite_create("config");
    TCase *good = tcase_create("good"), *bad = tcase_create("bad"), *load = tcase_create("load");
    TCase *address = tcase_create("address"), *dur = tcase_create("duration");

    list_dir(GOOD_DIR, &good_files);
    list_dir(BAD_DIR, &bad_files);
    /* Git keeps no permission bits but the executable one: give the ticket key files
     * the modes their cases are about (moat refuses keys others may read). */
    key_file_mode(KEYS_DIR "/fleet.keys", 0600);
    key_file_mode(KEYS_DIR "/bad_hex.keys", 0600);
    key_file_mode(KEYS_DIR "/readable.keys", 0644);

    tcase_add_test(good, test_config_load_good_full);
    tcase_add_test(good, test_config_load_good_minimal_gets_defaults);
    tcase_add_loop_test(good, test_config_load_good_file, 0, good_files.n);
    tcase_add_test(good, test_config_load_good_dir_has_files);
    tcase_add_test(good, test_config_load_good_client_auth);
    tcase_add_test(good, test_config_load_good_ocsp);
    tcase_add_test(good, test_config_load_string_ocsp_shared_key);
    tcase_add_test(good, test_config_load_example_moat_yaml);
    tcase_add_test(good, test_config_load_good_tickets_key_file_shared);
    tcase_add_test(good, test_config_load_good_early_data);
    tcase_add_test(good, test_config_load_good_limits);
    tcase_add_test(good, test_config_load_good_minimal_limits_defaults);
    suite_add_tcase(s, good);

    tcase_add_loop_test(bad, test_config_load_bad_file, 0, bad_files.n);
    tcase_add_test(bad, test_config_load_bad_dir_has_enough_files);
    suite_add_tcase(s, bad);

    tcase_add_test(load, test_config_load_missing_file);
    tcase_add_test(load, test_config_load_directory);
    tcase_add_test(load, test_config_load_string_ok);
    tcase_add_test(load, test_config_load_string_uses_len);
    tcase_add_test(load, test_config_load_string_error_names_source);
    tcase_add_test(load, test_config_load_string_first_error_wins);
    tcase_add_test(load, test_config_load_string_small_err_buffer);
    tcase_add_test(load, test_config_load_string_workers_auto);
    tcase_add_test(load, test_config_load_string_quoted_scalars);
    tcase_add_test(load, test_config_load_string_log_access_off);
    tcase_add_test(load, test_config_load_string_backend_defined_later);
    tcase_add_test(load, test_config_ref_unref_balance);
    tcase_add_test(load, test_config_unref_keeps_referenced_tls);
    tcase_add_test(load, test_config_reload_keeps_ticketer);
    tcase_add_test(load, test_config_reload_new_ticketer_when_settings_change);
    tcase_add_test(load, test_config_reload_key_file_is_read_again);
    tcase_add_test(load, test_config_reload_failure_keeps_prev);
    tcase_add_test(load, test_config_load_string_rate_periods);
    suite_add_tcase(s, load);

    tcase_add_test(address, test_config_parse_address_ipv4);
    tcase_add_test(address, test_config_parse_address_localhost);
    tcase_add_test(address, test_config_parse_address_ipv6);
    tcase_add_test(address, test_config_parse_address_unix);
    tcase_add_test(address, test_config_parse_address_port_out_of_range);
    tcase_add_test(address, test_config_parse_address_port_not_a_number);
    tcase_add_test(address, test_config_parse_address_missing_parts);
    tcase_add_test(address, test_config_parse_address_names_are_not_resolved);
    tcase_add_test(address, test_config_parse_address_ipv6_malformed);
    tcase_add_test(address, test_config_parse_address_unix_path_too_long);
    tcase_add_test(address, test_config_parse_address_null_err_buffer);
    suite_add_tcase(s, address);

    tcase_add_test(dur, test_config_parse_duration_ms_units);
    tcase_add_test(dur, test_config_parse_duration_ms_bare_number_is_seconds);
    tcase_add_test(dur, test_config_parse_duration_ms_zero_parses);
    tcase_add_test(dur, test_config_parse_duration_ms_compound);
    tcase_add_test(dur, test_config_parse_duration_ms_limits);
    tcase_add_test(dur, test_config_parse_duration_ms_garbage);
    tcase_add_test(dur, test_config_log_level_name_all);
    tcase_add_test(dur, test_config_parse_size_units);
    tcase_add_test(dur, test_config_parse_size_garbage);
    suite_add_tcase(s, dur);
    return s;
}

TEST_MAIN(make_suite)
