/*
 * ocsp.h — keeps the OCSP staples of a configuration's certificates fresh.
 *
 * One px_ocsp per configuration snapshot, on the main thread's loop. For each
 * distinct certified key with "ocsp: fetch" it fetches the response from the
 * responder named in the certificate (HTTP/1.1 POST, RFC 6960 Appendix A.1), has the
 * engine verify and install it, and fetches again once half of its validity
 * (nextUpdate - thisUpdate) has passed, at least every 12 hours; failures are retried
 * after 1 s, doubling up to 5 minutes. For "ocsp: FILE" and fetched staples alike, a
 * staple still in place at its nextUpdate is removed (and the removal logged), so an
 * expired response is never kept.
 *
 * The engine's calls that replace a staple are thread-safe, so workers serving
 * handshakes never wait for this module.
 */
#ifndef MOAT_PROXY_OCSP_H
#define MOAT_PROXY_OCSP_H

#include <uv.h>

#include "config/config.h"

typedef struct px_ocsp px_ocsp;

/*
 * Starts the staplers of cfg (borrowed: the staplers take their own references to
 * the keys they keep) on loop. prev (borrowed, may be NULL) is the set of the
 * configuration being replaced: a fetched staple it holds for the same certificate
 * file is installed at once on the new key (when the engine still accepts it), so a
 * reload does not leave certificates without a staple until the next fetch. Stop
 * prev afterwards. 0 with *out (NULL when cfg staples nothing), or a negative UV_E*
 * code.
 */
int px_ocsp_start(uv_loop_t *loop, const cfg_config *cfg, const px_ocsp *prev, px_ocsp **out);
/* Stops every stapler (fetches in flight are abandoned) and frees the set once its
 * handles are closed. set may be NULL. The staples already installed stay. */
void px_ocsp_stop(px_ocsp *set);

#endif
