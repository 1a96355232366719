/*
 * tls12_client.c — the TLS 1.2 client's entry points (see hs.h for what
 * tls__hs12_client_server_hello receives).
 *
 * The TLS 1.2 client handshake lands separately and replaces this file. Until then a
 * server that answers our ClientHello with TLS 1.2 is refused with protocol_version,
 * exactly as if we had not offered TLS 1.2, and the other entry points are unreachable
 * (conn->version never becomes TLS 1.2 on a client).
 */
#include "../conn.h"
#include "hs.h"

tls_error tls__hs12_client_server_hello(tls_conn *c, const uint8_t *msg, size_t len)
{
    (void)c, (void)msg, (void)len;
    return TLS_ERR_PROTOCOL_VERSION;
}

tls_error tls__hs12_client_handle(tls_conn *c, const uint8_t *msg, size_t len)
{
    (void)c, (void)msg, (void)len;
    return TLS_ERR_INTERNAL;
}

tls_error tls__hs12_client_ccs(tls_conn *c)
{
    (void)c;
    return TLS_ERR_INTERNAL;
}

void tls__hs12_client_clear(tls12_client_hs *hs)
{
    tls__wipe(hs, sizeof *hs);
}
