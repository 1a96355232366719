/*
 * verify.h — internals of verify.c (trust anchors and the default server certificate
 * verifier) that tests look at. The API itself is in tls.h.
 */
#ifndef MOAT_TLS_VERIFY_H
#define MOAT_TLS_VERIFY_H

#include <stddef.h>

#include "internal.h"

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
/* The DER subject Name of anchor i (a borrowed slice; empty past the end): what a
 * CertificateRequest lists in certificate_authorities. */
tls_slice tls__root_store_subject(const tls_root_store *roots, size_t i);

/* CRLs for client certificates (a server config's client_crls), immutable once loaded. */
typedef struct tls_crl_set tls_crl_set;
/* Reads each file (DER, or PEM with one or more X509 CRL blocks). TLS_ERR_CERT_FILE,
 * TLS_ERR_CRL_PARSE (a file with no valid CRL, or an invalid one), TLS_ERR_NO_MEMORY,
 * with "path: reason" in errbuf. */
TLS_MUST_CHECK tls_error tls__crl_set_load(const char *const *paths, size_t n_paths,
                                           tls_crl_set **out, char *errbuf, size_t errlen);
void tls__crl_set_free(tls_crl_set *set); /* NULL is fine */
size_t tls__crl_set_len(const tls_crl_set *set);

/* tls_verify_client_cert, then revocation: TLS_ERR_CERT_REVOKED when a CRL in crls
 * (NULL: none) signed by its issuer lists a certificate of the path. */
TLS_MUST_CHECK tls_error tls__verify_client_chain(const tls_root_store *roots,
                                                  const tls_crl_set *crls,
                                                  const uint8_t *const *chain,
                                                  const size_t *chain_lens, size_t n_chain,
                                                  int64_t now);

/* The last commonName of a DER certificate's subject into out (NUL-terminated,
 * truncated to cap - 1 bytes, control characters as '?'). False: none, or the
 * certificate does not parse. */
bool tls__cert_subject_cn(const uint8_t *der, size_t len, char *out, size_t cap);

#endif
