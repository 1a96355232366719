/*
 * files.c — reading the certificate, key and trust-anchor files the engine loads,
 * and the error-sentence helper their loaders share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

void tls__set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

tls_error tls__read_file(const char *path, size_t max_size, uint8_t **buf, size_t *size,
                         size_t *len, char *errbuf, size_t errlen)
{
    struct stat st;
    uint8_t *data = NULL;
    size_t cap = 0, used = 0;
    int fd, saved;
    tls_error err = TLS_OK;

    *buf = NULL;
    *size = *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto fail_errno;
    if (fstat(fd, &st) != 0)
        goto fail_errno;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        goto fail_errno;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_size)
        goto too_large;
    /* Room for the whole file, its NUL, and one byte to notice it grew meanwhile. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : 4096;
    data = tls__alloc(cap);
    if (data == NULL)
        goto no_memory;
    for (;;) {
        ssize_t r;

        if (used + 1 == cap) {
            size_t ncap = cap * 2;
            uint8_t *ndata;

            if (cap > max_size + 1)
                goto too_large;
            ndata = tls__alloc(ncap);
            if (ndata == NULL)
                goto no_memory;
            memcpy(ndata, data, used);
            tls__wipe(data, cap);
            tls__free(data, cap);
            data = ndata;
            cap = ncap;
        }
        r = read(fd, data + used, cap - 1 - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail_errno;
        if (r == 0)
            break;
        used += (size_t)r;
        if (used > max_size)
            goto too_large;
    }
    close(fd);
    data[used] = '\0';
    *buf = data;
    *size = cap;
    *len = used + 1;
    return TLS_OK;

fail_errno:
    saved = errno;
    tls__set_err(errbuf, errlen, "cannot read %s: %s", path, strerror(saved));
    err = TLS_ERR_CERT_FILE;
    goto fail;
too_large:
    tls__set_err(errbuf, errlen, "%s: file too large (over %zu bytes)", path, max_size);
    err = TLS_ERR_CERT_FILE;
    goto fail;
no_memory:
    tls__set_err(errbuf, errlen, "%s: out of memory", path);
    err = TLS_ERR_NO_MEMORY;
fail:
    if (fd >= 0)
        close(fd);
    if (data != NULL) {
        tls__wipe(data, cap);
        tls__free(data, cap);
    }
    return err;
}
