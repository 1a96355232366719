/*
 * transcript.c — the handshake transcript hash.
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
