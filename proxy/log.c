/*
 * log.c — leveled logging and the access log (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

int px_log_init(px_log *log, const cfg_config *cfg, char *err, size_t errlen)
{
    log->level = cfg->log_level;
    log->access = NULL;
    log->access_owned = false;
    if (!cfg->access_log)
        return 0;
    if (!strcmp(cfg->access_log, "stderr")) {
        log->access = stderr;
        return 0;
    }
    log->access = fopen(cfg->access_log, "a");
    if (!log->access) {
        snprintf(err, errlen, "%s: cannot open access log: %s", cfg->access_log,
                 strerror(errno));
        return -1;
    }
    setvbuf(log->access, NULL, _IOLBF, 0);
    log->access_owned = true;
    return 0;
}

void px_log_clear(px_log *log)
{
    if (log->access_owned && log->access)
        fclose(log->access);
    log->access = NULL;
    log->access_owned = false;
}

static size_t timestamp(char *buf, size_t cap)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, cap - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    return n;
}

/* Formats "<time> <prefix><message>\n" and writes it with one call. */
static void write_line(FILE *out, const char *prefix, const char *fmt, va_list ap)
{
    char line[2048];
    size_t n = timestamp(line, sizeof line);
    n += (size_t)snprintf(line + n, sizeof line - n, " %s", prefix);
    if (n < sizeof line) {
        int k = vsnprintf(line + n, sizeof line - n, fmt, ap);
        n = k < 0 ? n : n + (size_t)k;
    }
    if (n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    fwrite(line, 1, n, out);
}

void px_log_msg(const px_log *log, cfg_log_level level, const char *fmt, ...)
{
    static const char *const prefixes[] = {"moat[debug]: ", "moat[info]: ", "moat[warn]: ",
                                            "moat[error]: "};
    cfg_log_level min = log ? log->level : CFG_LOG_INFO;
    if (level < min || (unsigned)level > CFG_LOG_ERROR)
        return;
    va_list ap;
    va_start(ap, fmt);
    write_line(stderr, prefixes[level], fmt, ap);
    va_end(ap);
}

void px_log_access(const px_log *log, const char *fmt, ...)
{
    if (!log || !log->access)
        return;
    va_list ap;
    va_start(ap, fmt);
    write_line(log->access, "access: ", fmt, ap);
    va_end(ap);
}

uint64_t px_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
