/*
 * transcript.c — the handshake transcript hash, and the log of whole messages TLS 1.2
 * client authentication signs.
 */
#include <string.h>

#include "hs.h"

void tls__transcript_start(tls_transcript *t, tls_hash_id hash)
{
    tls__hash_init(&t->ctx, hash);
    t->started = true;
}

void tls__transcript_add(tls_transcript *t, const uint8_t *msg, size_t len)
{
    tls__hash_update(&t->ctx, msg, len);
}

void tls__transcript_current(const tls_transcript *t, uint8_t *out)
{
    tls_hash_ctx copy;
    tls__hash_clone(&copy, &t->ctx);
    tls__hash_final(&copy, out);
}

void tls__transcript_to_message_hash(tls_transcript *t)
{
    uint8_t hello_hash[TLS_MAX_HASH_LEN];
    tls_hash_id id = t->ctx.id;
    size_t n = tls__hash_len(id);
    uint8_t header[4] = {TLS_HS_MESSAGE_HASH, 0, 0, (uint8_t)n};

    tls__hash_final(&t->ctx, hello_hash);
    tls__hash_init(&t->ctx, id);
    tls__hash_update(&t->ctx, header, sizeof header);
    tls__hash_update(&t->ctx, hello_hash, n);
}

void tls__transcript_clear(tls_transcript *t)
{
    if (t->started)
        tls__hash_clear(&t->ctx);
    t->started = false;
}

#define MSG_LOG_START 4096

tls_error tls__msg_log_start(tls_msg_log *log)
{
    if (log->p)
        return TLS_OK;
    log->p = tls__alloc(MSG_LOG_START);
    ENSURE(log->p, TLS_ERR_NO_MEMORY);
    log->cap = MSG_LOG_START;
    log->len = 0;
    return TLS_OK;
}

tls_error tls__msg_log_add(tls_msg_log *log, const uint8_t *msg, size_t len)
{
    TRY(tls__msg_log_start(log));
    if (log->cap - log->len < len) {
        size_t cap = log->cap;
        while (cap - log->len < len)
            cap *= 2; /* messages are bounded by the limits, far below SIZE_MAX / 2 */
        uint8_t *grown = tls__alloc(cap);
        ENSURE(grown, TLS_ERR_NO_MEMORY);
        memcpy(grown, log->p, log->len);
        tls__free(log->p, log->cap);
        log->p = grown;
        log->cap = cap;
    }
    memcpy(log->p + log->len, msg, len);
    log->len += len;
    return TLS_OK;
}

void tls__msg_log_free(tls_msg_log *log)
{
    tls__free(log->p, log->cap);
    memset(log, 0, sizeof *log);
}
