/*
 * fuzz_proxy.c — the PROXY protocol v1/v2 parser (px_proxy_parse) on arbitrary bytes.
 *
 * Besides memory safety it checks the parser's contract (proxy_protocol.c's notes):
 * - it is stateless and prefix-consistent: once some prefix is INVALID every longer one
 *   is too; once a prefix is a complete header (OK, header_len h), every longer input
 *   gives the same h and addresses, and every prefix shorter than h is NEED_MORE (a
 *   valid header's prefix is never refused);
 * - what it accepts with addresses, moat's own writers reproduce: writing the parsed
 *   addresses as v1 and as v2 (with TLVs) and parsing that gives the same addresses.
 */
#include "tests/fuzz/fuzz.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_protocol.h"

/* Prefixes checked one by one; past this, a few sampled lengths. */
#define FULL_PREFIX_CHECK 128

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        const struct sockaddr_in *y = (const struct sockaddr_in *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

static px_proxy_status parse_copy(const uint8_t *data, size_t n, px_proxy_header *h, size_t *hl)
{
    uint8_t *copy = fuzz_dup(data, n);
    px_proxy_status st = px_proxy_parse(copy, n, h, hl);
    free(copy);
    FUZZ_CHECK(st == PX_PROXY_OK || st == PX_PROXY_NEED_MORE || st == PX_PROXY_INVALID);
    FUZZ_CHECK(memchr(h->error, '\0', sizeof h->error) != NULL);
    if (st == PX_PROXY_OK) {
        FUZZ_CHECK(*hl > 0 && *hl <= n);
        FUZZ_CHECK(h->version == 1 || h->version == 2);
        if (h->has_addresses)
            FUZZ_CHECK(h->src.ss_family == h->dst.ss_family &&
                       (h->src.ss_family == AF_INET || h->src.ss_family == AF_INET6));
    }
    return st;
}

static void check_roundtrip(const px_proxy_header *h)
{
    uint8_t buf[PX_PROXY_MAX_HEADER];
    px_proxy_header again;
    size_t n, hl;
    static const uint8_t alpn[] = {'h', '2'};
    px_proxy_tlvs tlvs = {.sni = "example.com",
                          .alpn = alpn,
                          .alpn_len = sizeof alpn,
                          .tls_version = "TLSv1.3",
                          .tls_cipher = "TLS13_AES_128_GCM_SHA256",
                          .early_data = true};

    n = px_proxy_v1_write((const struct sockaddr *)&h->src, (const struct sockaddr *)&h->dst, buf,
                          sizeof buf);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(parse_copy(buf, n, &again, &hl) == PX_PROXY_OK);
    FUZZ_CHECK(hl == n && again.version == 1 && again.has_addresses);
    FUZZ_CHECK(same_addr(&again.src, &h->src) && same_addr(&again.dst, &h->dst));

    n = px_proxy_v2_write((const struct sockaddr *)&h->src, (const struct sockaddr *)&h->dst, &tlvs,
                          buf, sizeof buf);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(parse_copy(buf, n, &again, &hl) == PX_PROXY_OK);
    FUZZ_CHECK(hl == n && again.version == 2 && again.has_addresses);
    FUZZ_CHECK(same_addr(&again.src, &h->src) && same_addr(&again.dst, &h->dst));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    px_proxy_header whole, h;
    size_t whole_len, hl;
    px_proxy_status st = parse_copy(data, size, &whole, &whole_len);

    if (st == PX_PROXY_OK && whole.has_addresses)
        check_roundtrip(&whole);

    /* Walk the prefixes: INVALID is final, OK is final with the same header. */
    px_proxy_status prev = PX_PROXY_NEED_MORE;
    size_t prev_len = 0;
    for (size_t n = 0; n < size; n++) {
        if (n > FULL_PREFIX_CHECK && n != size - 1 && (n % 61) != 0)
            continue;
        px_proxy_status s = parse_copy(data, n, &h, &hl);
        if (prev == PX_PROXY_INVALID)
            FUZZ_CHECK(s == PX_PROXY_INVALID);
        if (prev == PX_PROXY_OK)
            FUZZ_CHECK(s == PX_PROXY_OK && hl == prev_len);
        prev = s;
        prev_len = hl;
    }
    if (prev == PX_PROXY_INVALID)
        FUZZ_CHECK(st == PX_PROXY_INVALID);
    if (prev == PX_PROXY_OK)
        FUZZ_CHECK(st == PX_PROXY_OK && whole_len == prev_len);
    if (st == PX_PROXY_OK) {
        /* The header alone parses the same as with whatever followed it. */
        FUZZ_CHECK(parse_copy(data, whole_len, &h, &hl) == PX_PROXY_OK && hl == whole_len);
        FUZZ_CHECK(h.version == whole.version && h.has_addresses == whole.has_addresses);
        if (h.has_addresses)
            FUZZ_CHECK(same_addr(&h.src, &whole.src) && same_addr(&h.dst, &whole.dst));
        /* Every strict prefix of a valid header is NEED_MORE. */
        for (size_t n = 0; n < whole_len; n++) {
            if (n > FULL_PREFIX_CHECK && n != whole_len - 1 && (n % 61) != 0)
                continue;
            FUZZ_CHECK(parse_copy(data, n, &h, &hl) == PX_PROXY_NEED_MORE);
        }
    }
    return 0;
}
