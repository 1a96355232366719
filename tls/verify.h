/*
 * verify.h — internals of verify.c (trust anchors and the default server certificate
 * verifier) that tests look at. The API itself is in tls.h.
 */
#ifndef MOAT_TLS_VERIFY_H
#define MOAT_TLS_VERIFY_H

#include <stddef.h>

#include "tls.h"

/* Limits of one tls_verify_server_cert call: intermediates in a path (the end entity
 * and the trust anchor not counted), and signature checks over all paths tried. */
#define TLS_VERIFY_MAX_INTERMEDIATES 6
#define TLS_VERIFY_MAX_SIGNATURE_CHECKS 100

/* Largest PEM file tls_root_store_load reads. */
#define TLS_ROOTS_MAX_FILE_SIZE (16 * 1024 * 1024)

/* Where tls_root_store_load_system looks. */
#define TLS_ROOTS_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* tls_root_store_load_system's loader for any file: like tls_root_store_load, but
 * certificates that do not parse are skipped (at least one must parse). */
TLS_MUST_CHECK tls_error tls__root_store_load_bundle(const char *pem_path, tls_root_store **out,
                                                     char *errbuf, size_t errlen);

/* Number of trust anchors in the store. */
size_t tls__root_store_len(const tls_root_store *roots);

#endif
