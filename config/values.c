/*
 * values.c — the config's scalar parsers: socket addresses, durations and log level
 * names. They know nothing of YAML; config.c adds the file position to their errors.
 *
 * Addresses are numeric only: a config load never waits on DNS, and a name that
 * resolves differently on each reload would make listeners and pools move under the
 * operator. "localhost" is the one name accepted, as 127.0.0.1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "config/config.h"

#define UNIX_PREFIX "unix:"
#define PORT_MAX 65535u

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Decimal port 1..65535; no sign, no spaces. Leading zeros are harmless and allowed. */
static int parse_port(const char *text, uint16_t *port, char *err, size_t errlen)
{
    unsigned long v = 0;
    size_t len = strlen(text);

    if (!len) {
        set_err(err, errlen, "missing port number after ':'");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            set_err(err, errlen, "port \"%s\" is not a number", text);
            return -1;
        }
        if (v <= PORT_MAX)
            v = v * 10 + (unsigned long)(text[i] - '0');
    }
    if (v == 0 || v > PORT_MAX) {
        set_err(err, errlen, "port %s out of range (1-65535)", text);
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

/* NUL-terminated copy of a host of len bytes, or false when it cannot be an address. */
static bool copy_host(const char *text, size_t len, char *buf, size_t cap)
{
    if (len >= cap)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return true;
}

static int parse_unix(const char *path, cfg_address *out, char *err, size_t errlen)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&out->addr;
    size_t len = strlen(path);

    if (!len) {
        set_err(err, errlen, "unix socket path is empty (expected unix:/path/to.sock)");
        return -1;
    }
    if (len >= sizeof sun->sun_path) {
        set_err(err, errlen, "unix socket path is too long (%zu bytes, at most %zu)", len,
                sizeof sun->sun_path - 1);
        return -1;
    }
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, len + 1);
    out->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    out->is_unix = true;
    return 0;
}

static int parse_v6(const char *text, cfg_address *out, char *err, size_t errlen)
{
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;
    const char *close = strchr(text, ']');
    char host[INET6_ADDRSTRLEN + 1];
    size_t host_len;
    uint16_t port;

    if (!close) {
        set_err(err, errlen, "missing ']' after the IPv6 address (expected [v6]:port)");
        return -1;
    }
    host_len = (size_t)(close - (text + 1));
    if (close[1] != ':') {
        set_err(err, errlen, "missing port after ']' (expected [v6]:port)");
        return -1;
    }
    if (!copy_host(text + 1, host_len, host, sizeof host) ||
        inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
        set_err(err, errlen, "\"%.*s\" is not an IPv6 address", (int)host_len, text + 1);
        return -1;
    }
    if (parse_port(close + 2, &port, err, errlen) < 0)
        return -1;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    out->addr_len = sizeof *sin6;
    return 0;
}

static int parse_v4(const char *text, cfg_address *out, char *err, size_t errlen)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;
    const char *colon = strrchr(text, ':');
    char host[INET_ADDRSTRLEN + 1];
    size_t host_len;
    uint16_t port;

    if (!colon) {
        set_err(err, errlen, "missing port (expected host:port, [v6]:port or unix:/path)");
        return -1;
    }
    if (memchr(text, ':', (size_t)(colon - text))) {
        set_err(err, errlen, "an IPv6 address needs brackets, as in [::1]:443");
        return -1;
    }
    host_len = (size_t)(colon - text);
    if (!host_len) {
        set_err(err, errlen, "missing host before ':' (0.0.0.0 or [::] listen on every address)");
        return -1;
    }
    if (host_len == 9 && !strncasecmp(text, "localhost", 9)) {
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (!copy_host(text, host_len, host, sizeof host) ||
               inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
        set_err(err, errlen,
                "host \"%.*s\" must be a numeric address (IPv4, [IPv6] or localhost; "
                "names are not looked up)",
                (int)host_len, text);
        return -1;
    }
    if (parse_port(colon + 1, &port, err, errlen) < 0)
        return -1;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    out->addr_len = sizeof *sin;
    return 0;
}

int cfg_parse_address(const char *text, cfg_address *out, char *err, size_t errlen)
{
    int rc;

    memset(out, 0, sizeof *out);
    if (!text || !*text) {
        set_err(err, errlen, "empty address (expected host:port, [v6]:port or unix:/path)");
        return -1;
    }
    if (!strncmp(text, UNIX_PREFIX, strlen(UNIX_PREFIX)))
        rc = parse_unix(text + strlen(UNIX_PREFIX), out, err, errlen);
    else if (text[0] == '[')
        rc = parse_v6(text, out, err, errlen);
    else
        rc = parse_v4(text, out, err, errlen);
    if (rc < 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->text = strdup(text);
    if (!out->text) {
        memset(out, 0, sizeof *out);
        set_err(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void cfg_address_clear(cfg_address *a)
{
    if (!a)
        return;
    free(a->text);
    memset(a, 0, sizeof *a);
}

/* a * b + c without wrapping, or false. */
static bool mul_add(uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
    if (b && a > (UINT64_MAX - c) / b)
        return false;
    *out = a * b + c;
    return true;
}

/* One unit after a number: "ms", "s", "m", "h" or "d"; 0 if none. */
static uint64_t unit_ms(const char **p)
{
    const char *s = *p;

    if (s[0] == 'm' && s[1] == 's') {
        *p = s + 2;
        return 1;
    }
    *p = s + 1;
    switch (s[0]) {
    case 's':
        return 1000;
    case 'm':
        return 60 * 1000;
    case 'h':
        return 60 * 60 * 1000;
    case 'd':
        return 24 * 60 * 60 * 1000;
    default:
        *p = s;
        return 0;
    }
}

/*
 * Grammar: digits | (digits unit)+, unit one of ms s m h d; "1h30m" is 90 minutes.
 * No sign, no fraction, no spaces; any overflow of uint64 milliseconds fails.
 */
int cfg_parse_duration_ms(const char *text, uint64_t *ms)
{
    const char *p = text;
    uint64_t total = 0;
    bool bare = true;

    if (!text || !*text)
        return -1;
    while (*p) {
        uint64_t n = 0, unit;

        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9') {
            if (!mul_add(n, 10, (uint64_t)(*p - '0'), &n))
                return -1;
            p++;
        }
        unit = unit_ms(&p);
        if (!unit) {
            /* A bare number means seconds, but only on its own: "1h30" is a typo. */
            if (*p || !bare)
                return -1;
            unit = 1000;
        }
        bare = false;
        if (!mul_add(n, unit, total, &total))
            return -1;
    }
    *ms = total;
    return 0;
}

const char *cfg_log_level_name(cfg_log_level level)
{
    switch (level) {
    case CFG_LOG_DEBUG:
        return "debug";
    case CFG_LOG_INFO:
        return "info";
    case CFG_LOG_WARN:
        return "warn";
    case CFG_LOG_ERROR:
        return "error";
    default:
        return "unknown";
    }
}

/*
 * Grammar: digits [unit], unit one of B, K or KiB, M or MiB, G or GiB (any letter case;
 * powers of 1024). "KB" and "MB" are refused: they mean 1000 to some readers. No sign,
 * fraction or space; overflow of uint64 fails.
 */
int cfg_parse_size(const char *text, uint64_t *bytes)
{
    static const struct {
        const char *unit;
        uint64_t scale;
    } units[] = {
        {"", 1},         {"b", 1},          {"k", 1024},    {"kib", 1024},
        {"m", 1u << 20}, {"mib", 1u << 20}, {"g", 1u << 30}, {"gib", 1u << 30},
    };
    const char *p = text;
    uint64_t n = 0;

    if (!text || *p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        if (!mul_add(n, 10, (uint64_t)(*p - '0'), &n))
            return -1;
        p++;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcasecmp(p, units[i].unit))
            return mul_add(n, units[i].scale, 0, bytes) ? 0 : -1;
    return -1;
}
