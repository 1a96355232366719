/*
 * vectors.h — test data shared by the crypto unit tests (test_crypto, test_backends,
 * test_ed25519, test_keysched): fixed keys and certificates, RFC vectors, and a hex
 * decoder. Defined once in vectors.c.
 */
#ifndef MOAT_TESTS_VECTORS_H
#define MOAT_TESTS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* Decodes hex (an even number of digits) into out; fails the test on bad input or
 * when it does not fit. Returns the byte count. */
size_t unhex(const char *hex, uint8_t *out, size_t cap);

extern const char KEY_P256_SEC1[];
extern const char CERT_P256[];
extern const char KEY_P384_SEC1[];
extern const char CERT_P384[];
/* GCM spec (McGrew & Viega) test cases 3, 4, 15, 16; RFC 8439 §2.8.2. */
extern const char GCM_PT[];
extern const char GCM_PT60[];
extern const char A_PRIV[];
extern const char A_PUB[];
extern const char B_PRIV[];
extern const char B_PUB[];
extern const char K[];

#endif
