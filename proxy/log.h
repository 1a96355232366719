/*
 * log.h — moat's logs: leveled messages to stderr and one access-log line per
 * connection.
 *
 * A px_log belongs to a runtime snapshot (its level and access destination come
 * from the config), so a reload can change them without global state. Each line is
 * formatted in full and written with one fwrite, so lines from several worker
 * threads never interleave.
 */
#ifndef MOAT_PROXY_LOG_H
#define MOAT_PROXY_LOG_H

#include <stdio.h>

#include "config/config.h"

typedef struct {
    cfg_log_level level;
    FILE *access;      /* NULL: access log off */
    bool access_owned; /* opened by us (a path), closed by px_log_clear */
} px_log;

/* Opens the access log named by cfg (stderr, off or a path to append to).
 * 0, or -1 with a message in err. */
int px_log_init(px_log *log, const cfg_config *cfg, char *err, size_t errlen);
void px_log_clear(px_log *log);

#if defined(__GNUC__)
#define PX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PX_PRINTF(a, b)
#endif

/* "2026-11-23T16:32:00.123Z moat[info]: message" to stderr when level is enabled.
 * log may be NULL (then info and above are printed). */
void px_log_msg(const px_log *log, cfg_log_level level, const char *fmt, ...) PX_PRINTF(3, 4);
/* One access-log line (the caller formats the fields). */
void px_log_access(const px_log *log, const char *fmt, ...) PX_PRINTF(2, 3);

/* Monotonic milliseconds, for timeouts and health records. */
uint64_t px_now_ms(void);

#endif
