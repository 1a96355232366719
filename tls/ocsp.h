/*
 * ocsp.h — internals of ocsp.c (OCSP responses and requests, RFC 6960; SCT lists,
 * RFC 6962) that the certified-key API and the tests use. The API itself is in tls.h.
 */
#ifndef MOAT_TLS_OCSP_H
#define MOAT_TLS_OCSP_H

#include "internal.h"

/* Largest OCSPResponse and SCT list a certified key staples: both travel in one
 * handshake message, so they stay far below its 2^24 limit. */
#define TLS_OCSP_MAX_RESPONSE (64 * 1024)
#define TLS_SCT_MAX_LIST (16 * 1024)

/*
 * Checks a DER OCSPResponse for the certificate `ee` issued by `issuer` (both DER) at
 * Unix time now: every check tls_certified_key_set_ocsp lists. On success the
 * SingleResponse's thisUpdate and nextUpdate go to *this_update / *next_update.
 * TLS_ERR_OCSP_RESPONSE with a sentence in err.
 */
TLS_MUST_CHECK tls_error tls__ocsp_check(const uint8_t *der, size_t len, const uint8_t *ee,
                                         size_t ee_len, const uint8_t *issuer, size_t issuer_len,
                                         int64_t now, int64_t *this_update, int64_t *next_update,
                                         char *err, size_t errlen);

/* The thisUpdate and nextUpdate (0 when absent) of the first SingleResponse of a DER
 * OCSPResponse, without any other check: for tests that need a response's own times. */
bool tls__ocsp_response_times(const uint8_t *der, size_t len, int64_t *this_update,
                              int64_t *next_update);

#endif
