/*
 * conn.h — one proxied connection: client TCP ⇄ TLS engine ⇄ upstream server.
 *
 * A connection lives on one worker's loop. It embeds its libuv handles and is
 * freed in the last close callback; structs reached through handle->data carry a
 * magic number that is checked on entry and cleared on free.
 */
#ifndef MOAT_PROXY_CONN_H
#define MOAT_PROXY_CONN_H

#include "server.h"

/* Accepts one connection waiting on slot (the caller checked max_connections).
 * 0, or a negative UV_E* code. */
int px_conn_accept(px_worker *w, px_listen_slot *slot);
/* The next connection in its worker's list (for walking it while ending them). */
struct px_conn *px_conn_next(struct px_conn *c);
/* Ends a connection now (shutdown deadline): close_notify if possible, then close. */
void px_conn_abort(struct px_conn *c, const char *reason);

#endif
