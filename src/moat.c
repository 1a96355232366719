/*
 * moat.c — the daemon's main: options, configuration, privileges, signals,
 * systemd notifications; the proxy itself lives in proxy/.
 *
 * The main thread binds the listening sockets (as root if needed), drops
 * privileges, starts the workers and then only handles signals: SIGHUP reloads the
 * configuration and certificates (an invalid one is logged and the running one
 * kept), SIGTERM and SIGINT stop accepting and let connections drain.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "proxy/ocsp.h"
#include "proxy/server.h"

#ifndef MOAT_VERSION
#define MOAT_VERSION "0.1.0"
#endif
#define DEFAULT_CONFIG "/etc/moat/moat.yaml"

typedef struct {
    const char *config_path;
    px_server *server;
    px_ocsp *ocsp; /* the staplers of the configuration in force */
    uv_signal_t sighup, sigterm, sigint;
    bool stopping;
} moat_main;

static void usage(FILE *out)
{
    fprintf(out, "usage: moat [-c FILE] [-t] [-f] [--version] [--help]\n"
                 "  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
                 "  -t, --test         check the configuration, load every certificate and key, "
                 "and exit\n"
                 "  -f, --foreground   stay in the foreground (always the case: moat never "
                 "daemonizes;\n"
                 "                     systemd or a container runtime supervises it)\n"
                 "  -v, --version      print the version and exit\n"
                 "  -h, --help         print this help and exit\n");
}

static unsigned long long monotonic_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;
}

/* Room for two descriptors per connection (client and upstream) plus the listeners. */
static void raise_fd_limit(const cfg_config *cfg)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)cfg->max_connections * 2 + 64 + (rlim_t)cfg->workers * cfg->n_listeners;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rlim_t target = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    struct rlimit want = {target, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &want) != 0)
        target = rl.rlim_cur;
    if (target < need)
        px_log_msg(NULL, CFG_LOG_WARN,
                   "max_connections %u needs %llu file descriptors but the limit is %llu "
                   "(hard %llu): beyond about %llu connections accept() will fail; raise "
                   "LimitNOFILE= or lower limits.max_connections",
                   cfg->max_connections, (unsigned long long)need, (unsigned long long)target,
                   (unsigned long long)rl.rlim_max,
                   (unsigned long long)(target > 64 ? (target - 64) / 2 : 0));
}

static int drop_privileges(const cfg_config *cfg)
{
    if (!cfg->user)
        return 0;
    if (geteuid() != 0) {
        px_log_msg(NULL, CFG_LOG_DEBUG, "not started as root: user \"%s\" ignored", cfg->user);
        return 0;
    }
    errno = 0;
    struct passwd *pw = getpwnam(cfg->user);
    if (!pw) {
        px_log_msg(NULL, CFG_LOG_ERROR, "user \"%s\": %s", cfg->user,
                   errno ? strerror(errno) : "no such user");
        return -1;
    }
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        px_log_msg(NULL, CFG_LOG_ERROR, "cannot switch to user \"%s\": %s", cfg->user,
                   strerror(errno));
        return -1;
    }
    return 0;
}

static void notify_status(px_server *s, const char *what)
{
    px_runtime *rt = px_server_runtime(s);
    sd_notifyf(0, "STATUS=%s: %zu listeners, %zu backends, %u workers", what, rt->cfg->n_listeners,
               rt->cfg->n_backends, s->n_workers);
    px_runtime_unref(rt);
}

/* Where each listener's session ticket keys came from on a reload, so an operator
 * can tell whether clients keep resuming across it. */
static void log_ticket_keys(const cfg_config *cfg)
{
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const cfg_listener *l = &cfg->listeners[i];
        if (!l->ticketer)
            px_log_msg(NULL, CFG_LOG_INFO, "listener %s: session tickets off", l->address.text);
        else if (cfg->ticket_key_file)
            px_log_msg(NULL, CFG_LOG_INFO, "listener %s: ticket keys loaded from %s",
                       l->address.text, cfg->ticket_key_file);
        else
            px_log_msg(NULL, CFG_LOG_INFO, "listener %s: ticket keys %s", l->address.text,
                       l->ticketer_kept ? "kept: earlier tickets still resume"
                                        : "new: earlier tickets no longer resume");
    }
}

static void on_sighup(uv_signal_t *h, int signum)
{
    moat_main *m = h->data;
    char err[1024];
    cfg_config *cfg;
    (void)signum;
    if (m->stopping)
        return;
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", monotonic_usec());
    px_log_msg(NULL, CFG_LOG_INFO, "SIGHUP: reloading %s", m->config_path);
    /* The running config lends its ticketers, so tickets survive the reload. */
    px_runtime *running = px_server_runtime(m->server);
    int rc = cfg_reload(m->config_path, running->cfg, &cfg, err, sizeof err);
    px_runtime_unref(running);
    if (rc != 0) {
        px_log_msg(NULL, CFG_LOG_ERROR, "reload failed, keeping the running configuration: %s",
                   err);
    } else {
        if (px_server_reload(m->server, cfg, err, sizeof err) != 0) {
            px_log_msg(NULL, CFG_LOG_ERROR, "reload failed, keeping the running configuration: %s",
                       err);
        } else {
            /* New keys, new staplers; a staple fetched for the same file carries over. */
            px_ocsp *next = NULL;
            int orc = px_ocsp_start(h->loop, cfg, m->ocsp, &next);
            if (orc != 0)
                px_log_msg(NULL, CFG_LOG_ERROR, "OCSP stapling not started: %s", uv_strerror(orc));
            px_ocsp_stop(m->ocsp);
            m->ocsp = next;
            log_ticket_keys(cfg);
            px_log_msg(NULL, CFG_LOG_INFO, "configuration reloaded");
        }
        cfg_unref(cfg);
    }
    sd_notify(0, "READY=1");
    notify_status(m->server, "running");
}

static void on_stop_signal(uv_signal_t *h, int signum)
{
    moat_main *m = h->data;
    if (m->stopping)
        return;
    m->stopping = true;
    px_log_msg(NULL, CFG_LOG_INFO, "%s: stopping; %u connections draining",
               signum == SIGINT ? "SIGINT" : "SIGTERM", px_server_connections(m->server));
    sd_notify(0, "STOPPING=1");
    px_server_stop(m->server);
    px_ocsp_stop(m->ocsp);
    m->ocsp = NULL;
    uv_close((uv_handle_t *)&m->sighup, NULL);
    uv_close((uv_handle_t *)&m->sigterm, NULL);
    uv_close((uv_handle_t *)&m->sigint, NULL);
}

int main(int argc, char **argv)
{
    moat_main m = {.config_path = DEFAULT_CONFIG};
    bool test_only = false;
    char err[1024] = "";
    cfg_config *cfg = NULL;
    uv_loop_t loop;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 < argc) {
            m.config_path = argv[++i];
        } else if (!strcmp(a, "-t") || !strcmp(a, "--test")) {
            test_only = true;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--foreground")) {
            /* the default */
        } else if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
            printf("moat %s\n", MOAT_VERSION);
            return 0;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "moat: unknown or incomplete option \"%s\"\n", a);
            usage(stderr);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (cfg_load(m.config_path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "moat: %s\n", err);
        return 1;
    }
    if (test_only) {
        size_t n_certs = 0;
        for (size_t i = 0; i < cfg->n_listeners; i++)
            n_certs += cfg->listeners[i].n_certificates;
        printf("moat: %s is valid: %zu listeners, %zu backends, %zu certificates loaded\n",
               m.config_path, cfg->n_listeners, cfg->n_backends, n_certs);
        cfg_unref(cfg);
        return 0;
    }
    raise_fd_limit(cfg);
    if (px_server_bind(cfg, &m.server, err, sizeof err) != 0) {
        fprintf(stderr, "moat: %s\n", err);
        cfg_unref(cfg);
        return 1;
    }
    if (drop_privileges(cfg) != 0 || px_server_run(m.server, err, sizeof err) != 0) {
        if (err[0])
            fprintf(stderr, "moat: %s\n", err);
        px_server_stop(m.server);
        px_server_join_and_free(m.server);
        cfg_unref(cfg);
        return 1;
    }
    uv_loop_init(&loop);
    uv_signal_init(&loop, &m.sighup);
    uv_signal_init(&loop, &m.sigterm);
    uv_signal_init(&loop, &m.sigint);
    m.sighup.data = m.sigterm.data = m.sigint.data = &m;
    uv_signal_start(&m.sighup, on_sighup, SIGHUP);
    uv_signal_start(&m.sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&m.sigint, on_stop_signal, SIGINT);
    int orc = px_ocsp_start(&loop, cfg, NULL, &m.ocsp);
    if (orc != 0)
        px_log_msg(NULL, CFG_LOG_ERROR, "OCSP stapling not started: %s", uv_strerror(orc));
    for (size_t i = 0; i < cfg->n_listeners; i++)
        px_log_msg(NULL, CFG_LOG_INFO, "listening on %s (%u workers)",
                   cfg->listeners[i].address.text, m.server->n_workers);
    cfg_unref(cfg); /* the server's runtime holds its own reference */
    sd_notify(0, "READY=1");
    notify_status(m.server, "running");

    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    px_server_join_and_free(m.server);
    px_log_msg(NULL, CFG_LOG_INFO, "stopped");
    return 0;
}
