/*
 * test_crypto.c — the crypto provider (tls/crypto/provider.c, tls/crypto/mbedtls.c).
 *
 * Known answers come from the RFCs and specs named at each test. The keys and
 * self-signed certificates below were generated once with the openssl CLI (RSA-2048,
 * P-256, P-384, plus RSA-1024, P-521 and Ed25519 keys that must be refused); they are
 * test fixtures, never used anywhere else.
 */
#include "tls/crypto/crypto.h"

#include "tests/lib/unit.h"
#include "tests/lib/vectors.h"

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include <pthread.h>
#include <string.h>

/* ---- fixtures ---------------------------------------------------------------------- */

static const char KEY_RSA2048_PKCS8[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCvzl3wIPIRuBZ/\n"
    "5ugjJ1826Zr5tx9MkMY4uUTyLAQojJClh7SUnXhkucexlqNq0nb53HQreGoGUfuW\n"
    "VB1PMHSm6rqkHJ1lnFFasEyHN1iRbsWJPJqJ4htOlcHequtJOFLY0lmYESxRKnN8\n"
    "z3K2uN6oJwo0bFwYUnhH+Pmy0wiHWdfeMps3ewCI3lsxt+tCv/DYVspiEe1lecXj\n"
    "dwIRTyOmcNgwCW0LGScpeasmGrRsFo3AMWTso9f5/oZ5p951oG4N8uHYWfJnbxy2\n"
    "vCuhVWZ+sCVV+X6MjYFVOE/g5urhHapbPG1vkY5TR0ogNhGLLGwfalqYyn/CL8HT\n"
    "8pET9XATAgMBAAECggEAUrlybmmyPjA3Nhv7I3+FSBuINvS6H5cIDuzuyl1333S1\n"
    "I47FpCCs5AifNKtDXiKGpW/cog/ZI/wzvDr8R6TvXxOYm1xzm7qAdYH7oKykWlqb\n"
    "TMZdmX/xhXrmbNZUPHHqWegxDGMYTWECUrpyqhQ3gTxNivlqJG+59XPsWv7+RmFy\n"
    "hFRrZ9G2MlCfrfWvlYqgxwKvbM+ddUOq9TgAhwDd3Z2jQ8+FUzzj46GXuebQNDOE\n"
    "XebbcShvDIH+FcPvId9jmb7AG1E28rpwRjK7TqNapkrbTSsSePcRk9E8hg/A/6hM\n"
    "o/GAHlwvmZ/EM12OKAJMutWYCIqVanVWJm8qkBmJMQKBgQDY/UNrvv8X3Ke2Sz1I\n"
    "qvIhrKnwmkbK6hrly+iLWgUwm3HCU5nXljY44mhKiGv/Nd0OKGAvhZi2/CUKCQng\n"
    "5tS06vS++iS+v0nan7Hq2JhPRDF9G+APf0P4QjOQF8jMive/aDzrcDhrKsPlSN/L\n"
    "F82EqRHIVpKP37ktJG3WIdKHvQKBgQDPaa8/+NCqoKJp30dWAqAMjfPCDyCjKeQP\n"
    "2ebo0b4Hk6RxYXwkjPV3g0Y2kKULShV/pc2k+UykZUslAtay0Cx0vW4Oumao22uc\n"
    "5wyholBlw1tDXTpcPZKAKvQCt7tsDz40kH3wNWeZShbtvT1CNDWjy8xiyjUqKzG5\n"
    "OwFLIacsDwKBgQC8NDclHh1NihJhN7Mo8zReZs9jI7zhRNodlJXXQDYeKcUqoq5d\n"
    "4iiXgDCq7NaXHhXksLp0nXCOzfYmVR6fVjcJ0HyFpJr4YxvgpwB/TGwW3HP8KpBV\n"
    "gLHogysMAMUmPCaUewnTv5r/wLD2jxWkprmYJbiJxiUK6yZG9EDcKKvdFQKBgCjm\n"
    "8oRvENdVLjIqseqoQd+37qYKTalfjXYCxqKLGipsVzV0wAKFObMD1EjWZXXAelTd\n"
    "4Zvy/cY9o3/8+1Hv85Rh9t44rB4Ih0Q93CPT2n7283xpWiTuj4Fu9wfCK9e3edDr\n"
    "3aoNHg0Aq1zewMHZgep3OisRLULPmdKpbCvgyxLJAoGAXFa3216L5FQ7FsXx+zyA\n"
    "2UizLrDXr6dNqwCorkTup5MGO79CLVWegt3S+Jsrdqnar9NxIPpkDFh4SoQh/fbr\n"
    "pL34iM0sukxDK69DPDaFUcXv9ILtnBro7z8Qpql6Xqld1OPFGYIhOwmDVqsqvlbv\n"
    "D0o5Uy5N2dnb0BXLUmZS8uA=\n"
    "-----END PRIVATE KEY-----\n";

static const char KEY_RSA2048_PKCS1[] =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAr85d8CDyEbgWf+boIydfNuma+bcfTJDGOLlE8iwEKIyQpYe0\n"
    "lJ14ZLnHsZajatJ2+dx0K3hqBlH7llQdTzB0puq6pBydZZxRWrBMhzdYkW7FiTya\n"
    "ieIbTpXB3qrrSThS2NJZmBEsUSpzfM9ytrjeqCcKNGxcGFJ4R/j5stMIh1nX3jKb\n"
    "N3sAiN5bMbfrQr/w2FbKYhHtZXnF43cCEU8jpnDYMAltCxknKXmrJhq0bBaNwDFk\n"
    "7KPX+f6GeafedaBuDfLh2FnyZ28ctrwroVVmfrAlVfl+jI2BVThP4Obq4R2qWzxt\n"
    "b5GOU0dKIDYRiyxsH2pamMp/wi/B0/KRE/VwEwIDAQABAoIBAFK5cm5psj4wNzYb\n"
    "+yN/hUgbiDb0uh+XCA7s7spdd990tSOOxaQgrOQInzSrQ14ihqVv3KIP2SP8M7w6\n"
    "/Eek718TmJtcc5u6gHWB+6CspFpam0zGXZl/8YV65mzWVDxx6lnoMQxjGE1hAlK6\n"
    "cqoUN4E8TYr5aiRvufVz7Fr+/kZhcoRUa2fRtjJQn631r5WKoMcCr2zPnXVDqvU4\n"
    "AIcA3d2do0PPhVM84+Ohl7nm0DQzhF3m23EobwyB/hXD7yHfY5m+wBtRNvK6cEYy\n"
    "u06jWqZK200rEnj3EZPRPIYPwP+oTKPxgB5cL5mfxDNdjigCTLrVmAiKlWp1ViZv\n"
    "KpAZiTECgYEA2P1Da77/F9yntks9SKryIayp8JpGyuoa5cvoi1oFMJtxwlOZ15Y2\n"
    "OOJoSohr/zXdDihgL4WYtvwlCgkJ4ObUtOr0vvokvr9J2p+x6tiYT0QxfRvgD39D\n"
    "+EIzkBfIzIr3v2g863A4ayrD5UjfyxfNhKkRyFaSj9+5LSRt1iHSh70CgYEAz2mv\n"
    "P/jQqqCiad9HVgKgDI3zwg8goynkD9nm6NG+B5OkcWF8JIz1d4NGNpClC0oVf6XN\n"
    "pPlMpGVLJQLWstAsdL1uDrpmqNtrnOcMoaJQZcNbQ106XD2SgCr0Are7bA8+NJB9\n"
    "8DVnmUoW7b09QjQ1o8vMYso1KisxuTsBSyGnLA8CgYEAvDQ3JR4dTYoSYTezKPM0\n"
    "XmbPYyO84UTaHZSV10A2HinFKqKuXeIol4AwquzWlx4V5LC6dJ1wjs32JlUen1Y3\n"
    "CdB8haSa+GMb4KcAf0xsFtxz/CqQVYCx6IMrDADFJjwmlHsJ07+a/8Cw9o8VpKa5\n"
    "mCW4icYlCusmRvRA3Cir3RUCgYAo5vKEbxDXVS4yKrHqqEHft+6mCk2pX412Asai\n"
    "ixoqbFc1dMAChTmzA9RI1mV1wHpU3eGb8v3GPaN//PtR7/OUYfbeOKweCIdEPdwj\n"
    "09p+9vN8aVok7o+BbvcHwivXt3nQ692qDR4NAKtc3sDB2YHqdzorES1Cz5nSqWwr\n"
    "4MsSyQKBgFxWt9tei+RUOxbF8fs8gNlIsy6w16+nTasAqK5E7qeTBju/Qi1VnoLd\n"
    "0vibK3ap2q/TcSD6ZAxYeEqEIf3266S9+IjNLLpMQyuvQzw2hVHF7/SC7Zwa6O8/\n"
    "EKapel6pXdTjxRmCITsJg1arKr5W7w9KOVMuTdnZ29AVy1JmUvLg\n"
    "-----END RSA PRIVATE KEY-----\n";

static const char CERT_RSA2048[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDCTCCAfGgAwIBAgIUCqtPSqvzCGXILN1Wp9KRRa28V3IwDQYJKoZIhvcNAQEL\n"
    "BQAwEzERMA8GA1UEAwwIcnNhLnRlc3QwIBcNMjYxMTIzMTYzODAyWhgPMjEyNjEw\n"
    "MzAxNjM4MDJaMBMxETAPBgNVBAMMCHJzYS50ZXN0MIIBIjANBgkqhkiG9w0BAQEF\n"
    "AAOCAQ8AMIIBCgKCAQEAr85d8CDyEbgWf+boIydfNuma+bcfTJDGOLlE8iwEKIyQ\n"
    "pYe0lJ14ZLnHsZajatJ2+dx0K3hqBlH7llQdTzB0puq6pBydZZxRWrBMhzdYkW7F\n"
    "iTyaieIbTpXB3qrrSThS2NJZmBEsUSpzfM9ytrjeqCcKNGxcGFJ4R/j5stMIh1nX\n"
    "3jKbN3sAiN5bMbfrQr/w2FbKYhHtZXnF43cCEU8jpnDYMAltCxknKXmrJhq0bBaN\n"
    "wDFk7KPX+f6GeafedaBuDfLh2FnyZ28ctrwroVVmfrAlVfl+jI2BVThP4Obq4R2q\n"
    "Wzxtb5GOU0dKIDYRiyxsH2pamMp/wi/B0/KRE/VwEwIDAQABo1MwUTAdBgNVHQ4E\n"
    "FgQUmn0lvkNG5/BIa95GuyjvTtfDwMkwHwYDVR0jBBgwFoAUmn0lvkNG5/BIa95G\n"
    "uyjvTtfDwMkwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAero5\n"
    "xN2k/SAYfnNm8U8rgr6fO83Xx8XlTZ8dq0rdshStbAG5MipsE0wkTxVmh4B142ZW\n"
    "IO83ZoFv/+TPVwwsdRt7UwGsniQ+n/BXtlta7/irTaA1r818atnl1dyTJ2r3uBBH\n"
    "uNGZu60548j6lYll1I1dk/k0jVW81JC2WTTWfsqqPkEP3TfThKqXQzJIH7x7jb3t\n"
    "h8UwD2T2BJ33p9FM06MU+dGGSAQrn5w8eWJTmNe8ab2q0QxJCUrezrdk0IVux1Gz\n"
    "mIq+VO6nUMFX47VzgkPZr5uLhR2r2FjawBnl3A6KXuEczrY+2ZsFq7okmMgGrEGZ\n"
    "rpF0fgfirt7pVdoQ+A==\n"
    "-----END CERTIFICATE-----\n";

static const char KEY_P256_PKCS8[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1U1C1Rs8hShY2snG\n"
    "3+eprjudLWSYlAwhltNFaAPeVtChRANCAAQjYU+SeRt9hYqZj8D7jfjegNq0adbG\n"
    "alb1RHglpWOR7TjN0hL+LhQyS359qQ/3uI7M+pS+wZuAoUiwvfTEaSW+\n"
    "-----END PRIVATE KEY-----\n";

/* The same P-256 key in SEC1 without its public key, and with it compressed. */
static const char KEY_P256_SEC1_NO_PUBLIC[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MDECAQEEINVNQtUbPIUoWNrJxt/nqa47nS1kmJQMIZbTRWgD3lbQoAoGCCqGSM49\n"
    "AwEH\n"
    "-----END EC PRIVATE KEY-----\n";

static const char KEY_P256_SEC1_COMPRESSED[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MFcCAQEEINVNQtUbPIUoWNrJxt/nqa47nS1kmJQMIZbTRWgD3lbQoAoGCCqGSM49\n"
    "AwEHoSQDIgACI2FPknkbfYWKmY/A+4343oDatGnWxmpW9UR4JaVjke0=\n"
    "-----END EC PRIVATE KEY-----\n";

static const char KEY_RSA1024[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAK4f7Ah+j7WWHVOS\n"
    "cLSaFqTyrhS1TQ7OSa//tbIpou3UomYXBZjPmbaptaonHsyDw+BUgY5gtyaq70rW\n"
    "zi9RtMz86IoFhRGxIHJzpn8a9Zldb+qalob5PiWlePtkm5MpMJkrZxwkxnN/Z927\n"
    "dHkH0LNknQa4E/ExAHQsZ9KZhPqXAgMBAAECgYBtBzf4Kac6gIBkb/F6ZHGBXyN5\n"
    "e/yAJNMnDOpsYH3QhbAaVJgAkx0grys9G7nBPVBNCx0EVbLY13d2WQJJxtN57r3k\n"
    "nF9XremJgfdMtGmRMJSADSc+/huGgmY3rgch66W+kAcFsIQXI2OqxX+0uADjCyJI\n"
    "qgnHeomav4Y71TEL4QJBAN18JJW5NrCJLEkHsjOqiMySCx0j3mY2padL+hwfkOKB\n"
    "mMXi3OvFX680n7/lSehuSY3zADTHQmhH/DIzYGQIeqsCQQDJQmc4H/lc9kBhXRsJ\n"
    "CplsbHq925Z/2WG2R5e6OxRmbUJ842jfjx2yvL+cHvQVfiSXheTMZg0baQ7XI4gS\n"
    "a7/FAkBOz5XVEQq81pLDidGHQO9cm7sIq3K/vEJFvWtKBpFvh93szEUAQEND/N27\n"
    "UsNxyYyyzf0Myrp+kN7UniN2dO3xAkAb2nLKk7JBKVtznh0VvT/Kf6DlEbTccMtT\n"
    "HMlk3rROEKT4/8gN2JK1n+Wsx6PkLZcG2WL23tDFkF6ba7FzSzI5AkEAl/z6ejUy\n"
    "WXLtke+O8vKDA7NSVZ5lfp7kx+YNyzz4+7TpcsRmB0zt0UAd2iMIXbqZVNfm7+9m\n"
    "NUDR1wQGe7uPqg==\n"
    "-----END PRIVATE KEY-----\n";

static const char KEY_P521[] = "-----BEGIN EC PRIVATE KEY-----\n"
                               "MIHcAgEBBEIA09elg4G1dbGH4jYnvKpGcu8XHmuDEGYrEdlkokGWWDScGS7n3J+m\n"
                               "eCi575LJtPw3ipl3Jri3Fl145ubPQp6pvGugBwYFK4EEACOhgYkDgYYABAHp/7rw\n"
                               "y8zoARFs7rdUEG/DZvnZQr/Mto+/9yLSGc/zBB+WYEDpS+5I1HXdR6F4VfVGlUKL\n"
                               "tNlElVdd9ruWxi831wETRI5LCwKTbCtROD3VosUBgQ/YIvA1l1XQNOkCOEEEmmWs\n"
                               "jG/bUeH4Ob97SmF0X8WDu+Z8qrMJ/DDB2plSG6Nr2A==\n"
                               "-----END EC PRIVATE KEY-----\n";

static const char KEY_ED25519[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIOmuFGOy+RlmEEKxBmjXDPzZPy0V6di6oU808nDfpkMC\n"
    "-----END PRIVATE KEY-----\n";

static const uint8_t KEY_P256_PKCS8_DER[] = {
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02,
    0x01, 0x01, 0x04, 0x20, 0xd5, 0x4d, 0x42, 0xd5, 0x1b, 0x3c, 0x85, 0x28, 0x58, 0xda, 0xc9, 0xc6,
    0xdf, 0xe7, 0xa9, 0xae, 0x3b, 0x9d, 0x2d, 0x64, 0x98, 0x94, 0x0c, 0x21, 0x96, 0xd3, 0x45, 0x68,
    0x03, 0xde, 0x56, 0xd0, 0xa1, 0x44, 0x03, 0x42, 0x00, 0x04, 0x23, 0x61, 0x4f, 0x92, 0x79, 0x1b,
    0x7d, 0x85, 0x8a, 0x99, 0x8f, 0xc0, 0xfb, 0x8d, 0xf8, 0xde, 0x80, 0xda, 0xb4, 0x69, 0xd6, 0xc6,
    0x6a, 0x56, 0xf5, 0x44, 0x78, 0x25, 0xa5, 0x63, 0x91, 0xed, 0x38, 0xcd, 0xd2, 0x12, 0xfe, 0x2e,
    0x14, 0x32, 0x4b, 0x7e, 0x7d, 0xa9, 0x0f, 0xf7, 0xb8, 0x8e, 0xcc, 0xfa, 0x94, 0xbe, 0xc1, 0x9b,
    0x80, 0xa1, 0x48, 0xb0, 0xbd, 0xf4, 0xc4, 0x69, 0x25, 0xbe,
};

/* ---- helpers ------------------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* DER of a PEM certificate, via mbedTLS's own parser. */
typedef struct {
    uint8_t der[2048];
    size_t len;
} cert_der;

static void load_cert(const char *pem, cert_der *out)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1), 0);
    ck_assert_uint_le(crt.raw.len, sizeof out->der);
    memcpy(out->der, crt.raw.p, crt.raw.len);
    out->len = crt.raw.len;
    mbedtls_x509_crt_free(&crt);
}

/* PEM keys go in with their NUL, as mbedtls_pk_parse_key wants. */
static tls_error parse_pem_key(const char *pem, tls_signing_key **out)
{
    return tls__signing_key_parse((const uint8_t *)pem, strlen(pem) + 1, out);
}

static tls_signing_key *must_parse_key(const char *pem)
{
    tls_signing_key *key = NULL;
    ck_assert_int_eq(parse_pem_key(pem, &key), TLS_OK);
    ck_assert_ptr_nonnull(key);
    return key;
}

static const uint8_t MSG[] = "TLS 1.3, server CertificateVerify\0 and some bytes after the NUL";

/* ---- provider ------------------------------------------------------------------------ */

START_TEST(test_crypto_provider_default_is_mbedtls)
{
    tls__crypto_init();
    tls__crypto_init(); /* idempotent */
    const tls_crypto_routes *r = tls__crypto();
    ck_assert_ptr_eq(r, tls__crypto());
    /* Key parsing and certificate signatures are always mbedTLS's; the fast back ends
     * take hashes, AEADs and groups in a default build unless MOAT_CRYPTO=mbedtls. */
    ck_assert_ptr_eq(r->parse, &tls__crypto_mbedtls);
    ck_assert_ptr_eq(r->sign[TLS_KEY_RSA], &tls__crypto_mbedtls);
#ifdef MOAT_CRYPTO_FAST
    const char *env = getenv("MOAT_CRYPTO");
    bool mbed_only = env && strcmp(env, "mbedtls") == 0;
#else
    bool mbed_only = true;
#endif
    ck_assert_str_eq(r->name, mbed_only ? "mbedtls" : "default");
    if (mbed_only) {
        ck_assert_ptr_eq(r->aead[TLS_AEAD_AES_128_GCM], &tls__crypto_mbedtls);
        ck_assert_ptr_eq(r->x25519, &tls__crypto_mbedtls);
        ck_assert_ptr_eq(r->sign[TLS_KEY_ECDSA_P256], &tls__crypto_mbedtls);
    }
#ifdef MOAT_CRYPTO_FAST
    else {
        ck_assert_ptr_eq(r->aead[TLS_AEAD_AES_128_GCM], &tls__crypto_gcrypt);
        ck_assert_ptr_eq(r->x25519, &tls__crypto_sodium);
        ck_assert_ptr_eq(r->sign[TLS_KEY_ECDSA_P256], &tls__crypto_nettle);
    }
#endif
    ck_assert_ptr_eq(tls__crypto_for_group(0x1234), NULL);
}
END_TEST

START_TEST(test_crypto_lengths_values)
{
    ck_assert_uint_eq(tls__hash_len(TLS_HASH_SHA256), 32);
    ck_assert_uint_eq(tls__hash_len(TLS_HASH_SHA384), 48);
    ck_assert_uint_eq(tls__hash_len(TLS_HASH_SHA512), 64);
    ck_assert_uint_eq(tls__aead_key_len(TLS_AEAD_AES_128_GCM), 16);
    ck_assert_uint_eq(tls__aead_key_len(TLS_AEAD_AES_256_GCM), 32);
    ck_assert_uint_eq(tls__aead_key_len(TLS_AEAD_CHACHA20_POLY1305), 32);
}
END_TEST

START_TEST(test_crypto_ct_equal_detects_difference)
{
    uint8_t a[33], b[33];
    memset(a, 0x5a, sizeof a);
    memcpy(b, a, sizeof b);
    ck_assert(tls__ct_equal(a, b, sizeof a));
    ck_assert(tls__ct_equal(a, b, 0));
    b[32] ^= 0x01;
    ck_assert(!tls__ct_equal(a, b, sizeof a));
    ck_assert(tls__ct_equal(a, b, 32));
}
END_TEST

START_TEST(test_crypto_wipe_zeroes)
{
    uint8_t buf[40];
    memset(buf, 0xff, sizeof buf);
    tls__wipe(buf, sizeof buf);
    ck_assert(all_zero(buf, sizeof buf));
    tls__wipe(NULL, 0);
}
END_TEST

/* Counting allocator: every block the engine takes comes back with the same size. */
static size_t alloc_live_bytes, alloc_calls;

static void *count_alloc(void *arg, size_t size)
{
    ck_assert_ptr_eq(arg, &alloc_live_bytes);
    alloc_live_bytes += size;
    alloc_calls++;
    return malloc(size);
}

static void count_free(void *arg, void *ptr, size_t size)
{
    ck_assert_ptr_eq(arg, &alloc_live_bytes);
    ck_assert_uint_ge(alloc_live_bytes, size);
    alloc_live_bytes -= size;
    free(ptr);
}

START_TEST(test_crypto_set_allocator_counts_and_balances)
{
    const tls_allocator a = {count_alloc, count_free, &alloc_live_bytes};
    tls_set_allocator(&a);
    uint8_t key[32] = {0};
    tls_aead *aead = NULL;
    tls_kx *kx = NULL;
    ck_assert_int_eq(tls__aead_new(TLS_AEAD_AES_256_GCM, key, 32, &aead), TLS_OK);
    ck_assert_int_eq(tls__kx_new(TLS_GROUP_X25519, &kx), TLS_OK);
    ck_assert_uint_ge(alloc_calls, 2);
    ck_assert_uint_gt(alloc_live_bytes, 0);
    tls__aead_free(aead);
    tls__kx_free(kx);
    ck_assert_uint_eq(alloc_live_bytes, 0);

    void *p = tls__calloc(24);
    ck_assert_ptr_nonnull(p);
    ck_assert(all_zero(p, 24));
    tls__free(p, 24);
    tls__free(NULL, 0);
    ck_assert_uint_eq(alloc_live_bytes, 0);
    tls_set_allocator(NULL);
}
END_TEST

/* ---- hashes ------------------------------------------------------------------------- */

static void check_hash(tls_hash_id id, const char *msg, const char *expect_hex)
{
    uint8_t expect[64], got[64];
    size_t n = unhex(expect_hex, expect, sizeof expect);
    ck_assert_uint_eq(n, tls__hash_len(id));
    tls__hash(id, (const uint8_t *)msg, strlen(msg), got);
    ck_assert_mem_eq(got, expect, n);

    /* The same, one byte at a time through the streaming interface. */
    tls_hash_ctx ctx;
    tls__hash_init(&ctx, id);
    for (size_t i = 0; msg[i]; i++)
        tls__hash_update(&ctx, (const uint8_t *)msg + i, 1);
    tls__hash_update(&ctx, NULL, 0);
    memset(got, 0, sizeof got);
    tls__hash_final(&ctx, got);
    ck_assert_mem_eq(got, expect, n);
    ck_assert(all_zero(ctx.opaque, sizeof ctx.opaque)); /* final wipes the state */
}

/* FIPS 180-2 Appendix B / well-known empty-string digests. */
START_TEST(test_hash_sha256_abc)
{
    check_hash(TLS_HASH_SHA256, "abc",
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_hash_sha256_empty)
{
    check_hash(TLS_HASH_SHA256, "",
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_hash_sha384_abc)
{
    check_hash(TLS_HASH_SHA384, "abc",
               "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
               "8086072ba1e7cc2358baeca134c825a7");
}
END_TEST

START_TEST(test_hash_sha384_empty)
{
    check_hash(TLS_HASH_SHA384, "",
               "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
               "274edebfe76f65fbd51ad2f14898b95b");
}
END_TEST

START_TEST(test_hash_sha512_abc)
{
    check_hash(TLS_HASH_SHA512, "abc",
               "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
               "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}
END_TEST

/* A transcript hash is cloned mid-handshake and both copies continue independently. */
START_TEST(test_hash_clone_mid_stream)
{
    static const tls_hash_id ids[] = {TLS_HASH_SHA256, TLS_HASH_SHA384};
    for (size_t k = 0; k < 2; k++) {
        uint8_t want_abc[64], want_ab[64], got[64];
        tls__hash(ids[k], (const uint8_t *)"abc", 3, want_abc);
        tls__hash(ids[k], (const uint8_t *)"ab", 2, want_ab);

        tls_hash_ctx a, b;
        tls__hash_init(&a, ids[k]);
        tls__hash_update(&a, (const uint8_t *)"a", 1);
        tls__hash_clone(&b, &a);
        tls__hash_update(&a, (const uint8_t *)"bc", 2);
        tls__hash_update(&b, (const uint8_t *)"b", 1);
        tls__hash_final(&a, got);
        ck_assert_mem_eq(got, want_abc, tls__hash_len(ids[k]));
        tls__hash_final(&b, got);
        ck_assert_mem_eq(got, want_ab, tls__hash_len(ids[k]));
    }
}
END_TEST

START_TEST(test_hash_clear_wipes)
{
    tls_hash_ctx ctx;
    tls__hash_init(&ctx, TLS_HASH_SHA256);
    tls__hash_update(&ctx, (const uint8_t *)"secret", 6);
    tls__hash_clear(&ctx);
    ck_assert(all_zero(ctx.opaque, sizeof ctx.opaque));
}
END_TEST

/* ---- HMAC and HKDF ---------------------------------------------------------------- */

/* RFC 4231 §4.2, test case 1. */
START_TEST(test_hmac_sha256_rfc4231_case1)
{
    uint8_t key[20], expect[32], got[32];
    memset(key, 0x0b, sizeof key);
    unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", expect, 32);
    ck_assert_int_eq(
        tls__hmac(TLS_HASH_SHA256, key, sizeof key, (const uint8_t *)"Hi There", 8, got), TLS_OK);
    ck_assert_mem_eq(got, expect, 32);
}
END_TEST

/* RFC 4231 §4.3, test case 2, SHA-256/384/512. */
START_TEST(test_hmac_rfc4231_case2)
{
    static const struct {
        tls_hash_id id;
        const char *hex;
    } cases[] = {
        {TLS_HASH_SHA256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {TLS_HASH_SHA384, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                          "8e2240ca5e69e2c78b3239ecfab21649"},
        {TLS_HASH_SHA512, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                          "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
    };
    const char *data = "what do ya want for nothing?";
    for (size_t i = 0; i < 3; i++) {
        uint8_t expect[64], got[64];
        size_t n = unhex(cases[i].hex, expect, sizeof expect);
        ck_assert_int_eq(tls__hmac(cases[i].id, (const uint8_t *)"Jefe", 4, (const uint8_t *)data,
                                   strlen(data), got),
                         TLS_OK);
        ck_assert_mem_eq(got, expect, n);
    }
}
END_TEST

/* The provider's HMAC takes the message in parts (Finished over a transcript hash). */
START_TEST(test_hmac_parts_equal_concatenation)
{
    const char *data = "what do ya want for nothing?";
    const uint8_t *parts[3] = {(const uint8_t *)data, NULL, (const uint8_t *)data + 9};
    const size_t lens[3] = {9, 0, strlen(data) - 9};
    uint8_t expect[32], got[32];
    unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", expect, 32);
    ck_assert_int_eq(
        tls__hmac_parts(TLS_HASH_SHA256, (const uint8_t *)"Jefe", 4, parts, lens, 3, got), TLS_OK);
    ck_assert_mem_eq(got, expect, 32);
}
END_TEST

/* RFC 5869 Appendix A.1. */
START_TEST(test_hkdf_sha256_rfc5869_case1)
{
    uint8_t ikm[22], salt[13], info[10], prk[32], okm[42], want_prk[32], want_okm[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof info; i++)
        info[i] = (uint8_t)(0xf0 + i);
    unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", want_prk, 32);
    unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
          "34007208d5b887185865",
          want_okm, 42);
    ck_assert_int_eq(tls__hkdf_extract(TLS_HASH_SHA256, salt, sizeof salt, ikm, sizeof ikm, prk),
                     TLS_OK);
    ck_assert_mem_eq(prk, want_prk, 32);
    ck_assert_int_eq(
        tls__hkdf_expand(TLS_HASH_SHA256, prk, sizeof prk, info, sizeof info, okm, sizeof okm),
        TLS_OK);
    ck_assert_mem_eq(okm, want_okm, 42);
}
END_TEST

/* RFC 5869 §2.2 (and TLS 1.3's early secret): no salt means HashLen zero bytes. */
START_TEST(test_hkdf_extract_empty_salt_is_zeros)
{
    uint8_t zeros[48] = {0}, ikm[48] = {0}, a[48], b[48];
    ck_assert_int_eq(tls__hkdf_extract(TLS_HASH_SHA384, NULL, 0, ikm, 48, a), TLS_OK);
    ck_assert_int_eq(tls__hkdf_extract(TLS_HASH_SHA384, zeros, 48, ikm, 48, b), TLS_OK);
    ck_assert_mem_eq(a, b, 48);
    ck_assert_int_eq(tls__hmac(TLS_HASH_SHA384, zeros, 48, ikm, 48, b), TLS_OK);
    ck_assert_mem_eq(a, b, 48);
}
END_TEST

/* RFC 5869 §2.3: L <= 255 * HashLen; a PRK shorter than HashLen is a caller bug. */
START_TEST(test_hkdf_expand_bad_lengths)
{
    uint8_t prk[32] = {1}, out[255 * 32 + 1];
    ck_assert_int_eq(tls__hkdf_expand(TLS_HASH_SHA256, prk, 32, NULL, 0, out, 255 * 32), TLS_OK);
    ck_assert_int_eq(tls__hkdf_expand(TLS_HASH_SHA256, prk, 32, NULL, 0, out, 255 * 32 + 1),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls__hkdf_expand(TLS_HASH_SHA256, prk, 31, NULL, 0, out, 32),
                     TLS_ERR_INVALID_ARGUMENT);
}
END_TEST

/* ---- AEAD ----------------------------------------------------------------------------- */

typedef struct {
    tls_aead_id id;
    const char *key, *nonce, *aad, *pt, *ct_tag;
} aead_vector;

static const aead_vector AEAD_VECTORS[] = {
    {TLS_AEAD_AES_128_GCM, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
     GCM_PT,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {TLS_AEAD_AES_128_GCM, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2", GCM_PT60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {TLS_AEAD_AES_256_GCM, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "", GCM_PT,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
     "b094dac5d93471bdec1a502270e3cc6c"},
    {TLS_AEAD_AES_256_GCM, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", GCM_PT60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    {TLS_AEAD_CHACHA20_POLY1305, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
     "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
     /* "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for
      * the future, sunscreen would be it." */
     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
     "637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116"
     "1ae10b594f09e26a7e902ecbd0600691"},
};

typedef struct {
    uint8_t key[32], nonce[12], aad[32], pt[128], ct[160];
    size_t key_len, aad_len, pt_len, ct_len;
    tls_aead *aead;
} aead_case;

static void aead_case_load(const aead_vector *v, aead_case *c)
{
    memset(c, 0, sizeof *c);
    c->key_len = unhex(v->key, c->key, sizeof c->key);
    ck_assert_uint_eq(unhex(v->nonce, c->nonce, sizeof c->nonce), 12);
    c->aad_len = unhex(v->aad, c->aad, sizeof c->aad);
    c->pt_len = unhex(v->pt, c->pt, sizeof c->pt);
    c->ct_len = unhex(v->ct_tag, c->ct, sizeof c->ct);
    ck_assert_uint_eq(c->ct_len, c->pt_len + TLS_AEAD_TAG_LEN);
    ck_assert_int_eq(tls__aead_new(v->id, c->key, c->key_len, &c->aead), TLS_OK);
}

/* Loop test over AEAD_VECTORS: seal gives ciphertext||tag, open gives the plaintext. */
START_TEST(test_aead_seal_open_known_answer)
{
    aead_case c;
    aead_case_load(&AEAD_VECTORS[_i], &c);
    uint8_t out[160];
    ck_assert_int_eq(tls__aead_seal(c.aead, c.nonce, c.aad, c.aad_len, c.pt, c.pt_len, out),
                     TLS_OK);
    ck_assert_mem_eq(out, c.ct, c.ct_len);
    memset(out, 0, sizeof out);
    ck_assert_int_eq(tls__aead_open(c.aead, c.nonce, c.aad, c.aad_len, c.ct, c.ct_len, out),
                     TLS_OK);
    ck_assert_mem_eq(out, c.pt, c.pt_len);
    /* The key schedule is kept: a second record with the same object still works. */
    ck_assert_int_eq(tls__aead_open(c.aead, c.nonce, c.aad, c.aad_len, c.ct, c.ct_len, out),
                     TLS_OK);
    ck_assert_mem_eq(out, c.pt, c.pt_len);
    tls__aead_free(c.aead);
}
END_TEST

/* Loop test: any damage gives TLS_ERR_DECRYPT and leaves no plaintext behind. */
START_TEST(test_aead_open_tampered_fails)
{
    aead_case c;
    aead_case_load(&AEAD_VECTORS[_i], &c);
    uint8_t in[160], out[160];

    enum { FLIP_TAG, FLIP_CT, WRONG_AAD, WRONG_NONCE, N_DAMAGE };
    for (int d = 0; d < N_DAMAGE; d++) {
        uint8_t aad[33], nonce[12];
        size_t aad_len = c.aad_len;
        memcpy(in, c.ct, c.ct_len);
        memcpy(aad, c.aad, c.aad_len);
        memcpy(nonce, c.nonce, 12);
        if (d == FLIP_TAG)
            in[c.ct_len - 1] ^= 0x80;
        else if (d == FLIP_CT)
            in[3] ^= 0x01;
        else if (d == WRONG_AAD)
            aad[aad_len++] = 0x00; /* one extra AAD byte */
        else
            nonce[11] ^= 0x01;
        memset(out, 0xee, sizeof out);
        ck_assert_int_eq(tls__aead_open(c.aead, nonce, aad, aad_len, in, c.ct_len, out),
                         TLS_ERR_DECRYPT);
        ck_assert(all_zero(out, c.pt_len));

        /* In place: the buffer is wiped, not left holding unauthenticated plaintext. */
        ck_assert_int_eq(tls__aead_open(c.aead, nonce, aad, aad_len, in, c.ct_len, in),
                         TLS_ERR_DECRYPT);
        ck_assert(all_zero(in, c.pt_len));
    }
    /* Shorter than a tag. */
    ck_assert_int_eq(tls__aead_open(c.aead, c.nonce, c.aad, c.aad_len, c.ct, 15, out),
                     TLS_ERR_DECRYPT);
    tls__aead_free(c.aead);
}
END_TEST

/* Loop test over the three AEADs: in-place seal and open agree with the out-of-place
 * result, with lengths that cross the internal chunk size and end mid-block. */
START_TEST(test_aead_in_place_round_trip)
{
    static const tls_aead_id ids[] = {TLS_AEAD_AES_128_GCM, TLS_AEAD_AES_256_GCM,
                                      TLS_AEAD_CHACHA20_POLY1305};
    static const size_t lens[] = {0, 1, 15, 16, 17, 1023, 1024, 1025, 3000, 16384 + 1};
    uint8_t key[32], nonce[12], aad[13];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    memset(nonce, 0x42, sizeof nonce);
    memset(aad, 0x17, sizeof aad);
    tls_aead *aead;
    ck_assert_int_eq(tls__aead_new(ids[_i], key, tls__aead_key_len(ids[_i]), &aead), TLS_OK);

    static uint8_t pt[16384 + 1], sep[16384 + 1 + 16], buf[16384 + 1 + 16];
    for (size_t i = 0; i < sizeof pt; i++)
        pt[i] = (uint8_t)(i * 31 + 5);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = lens[k];
        ck_assert_int_eq(tls__aead_seal(aead, nonce, aad, sizeof aad, pt, n, sep), TLS_OK);
        memcpy(buf, pt, n);
        ck_assert_int_eq(tls__aead_seal(aead, nonce, aad, sizeof aad, buf, n, buf), TLS_OK);
        ck_assert_mem_eq(buf, sep, n + 16);
        ck_assert_int_eq(tls__aead_open(aead, nonce, aad, sizeof aad, buf, n + 16, buf), TLS_OK);
        ck_assert_mem_eq(buf, pt, n);
    }
    tls__aead_free(aead);
}
END_TEST

/* Only out == in (or disjoint) is part of the contract; an output that starts inside the
 * input, ahead of it, would overwrite bytes not yet read and is refused. */
START_TEST(test_aead_overlap_ahead_rejected)
{
    uint8_t key[16] = {0}, nonce[12] = {0}, buf[100] = {0};
    tls_aead *aead;
    ck_assert_int_eq(tls__aead_new(TLS_AEAD_AES_128_GCM, key, 16, &aead), TLS_OK);
    ck_assert_int_eq(tls__aead_seal(aead, nonce, NULL, 0, buf, 64, buf + 1),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls__aead_seal(aead, nonce, NULL, 0, buf, 64, buf), TLS_OK);
    ck_assert_int_eq(tls__aead_open(aead, nonce, NULL, 0, buf, 80, buf + 8),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert(all_zero(buf + 8, 64)); /* wiped, like any failed open */
    tls__aead_free(aead);
}
END_TEST

START_TEST(test_aead_new_bad_key_length)
{
    uint8_t key[32] = {0};
    tls_aead *aead = (tls_aead *)key; /* must be reset to NULL */
    ck_assert_int_eq(tls__aead_new(TLS_AEAD_AES_128_GCM, key, 32, &aead), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(aead);
    ck_assert_int_eq(tls__aead_new(TLS_AEAD_CHACHA20_POLY1305, key, 16, &aead),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls__aead_new((tls_aead_id)99, key, 16, &aead), TLS_ERR_INVALID_ARGUMENT);
    tls__aead_free(NULL);
}
END_TEST

/* ---- key exchange --------------------------------------------------------------------- */

static void kx_from_private_hex(uint16_t group, const char *hex, tls_kx **out)
{
    uint8_t priv[48];
    size_t n = unhex(hex, priv, sizeof priv);
    ck_assert_int_eq(tls__kx_new_from_private(group, priv, n, out), TLS_OK);
}

static void check_public(const tls_kx *kx, const char *hex)
{
    uint8_t want[97], got[97];
    size_t n = unhex(hex, want, sizeof want), len = 0;
    ck_assert_int_eq(tls__kx_public(kx, got, sizeof got, &len), TLS_OK);
    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(got, want, n);
}

static void check_agree(tls_kx *kx, const char *peer_hex, const char *secret_hex)
{
    uint8_t peer[97], want[48], got[48];
    size_t peer_len = unhex(peer_hex, peer, sizeof peer), n = unhex(secret_hex, want, sizeof want);
    size_t len = 0;
    ck_assert_int_eq(tls__kx_agree(kx, peer, peer_len, got, sizeof got, &len), TLS_OK);
    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(got, want, n);
}

/* RFC 7748 §6.1. */
START_TEST(test_kx_x25519_rfc7748_vector)
{
                        tls_kx *a, *b;
    kx_from_private_hex(TLS_GROUP_X25519, A_PRIV, &a);
    kx_from_private_hex(TLS_GROUP_X25519, B_PRIV, &b);
    check_public(a, A_PUB);
    check_public(b, B_PUB);
    check_agree(a, B_PUB, K);
    check_agree(b, A_PUB, K);
    tls__kx_free(a);
    tls__kx_free(b);
}
END_TEST

/* RFC 5903 §8.1 (256-bit random ECP group); TLS sends 0x04||X||Y and uses x as secret. */
START_TEST(test_kx_secp256r1_rfc5903_vector)
{
    static const char I[] = "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433";
    static const char GI[] = "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
                             "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3";
    static const char R[] = "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53";
    static const char GR[] = "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
                             "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab";
    static const char Z[] = "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de";
    tls_kx *a, *b;
    kx_from_private_hex(TLS_GROUP_SECP256R1, I, &a);
    kx_from_private_hex(TLS_GROUP_SECP256R1, R, &b);
    check_public(a, GI);
    check_public(b, GR);
    check_agree(a, GR, Z);
    check_agree(b, GI, Z);
    tls__kx_free(a);
    tls__kx_free(b);
}
END_TEST

static const uint16_t GROUPS[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1, TLS_GROUP_SECP384R1};
static const size_t SHARE_LEN[] = {32, 65, 97};
static const size_t SECRET_LEN[] = {32, 32, 48};

/* Loop test over GROUPS: two fresh key pairs agree; shares have the wire format. */
START_TEST(test_kx_agree_round_trip)
{
    tls_kx *a, *b;
    uint8_t pa[97], pb[97], sa[48], sb[48];
    size_t la, lb, na, nb;
    ck_assert_int_eq(tls__kx_new(GROUPS[_i], &a), TLS_OK);
    ck_assert_int_eq(tls__kx_new(GROUPS[_i], &b), TLS_OK);
    ck_assert_int_eq(tls__kx_public(a, pa, sizeof pa, &la), TLS_OK);
    ck_assert_int_eq(tls__kx_public(b, pb, sizeof pb, &lb), TLS_OK);
    ck_assert_uint_eq(la, SHARE_LEN[_i]);
    ck_assert_uint_eq(lb, SHARE_LEN[_i]);
    if (GROUPS[_i] != TLS_GROUP_X25519)
        ck_assert_uint_eq(pa[0], 0x04);
    ck_assert_mem_ne(pa, pb, la);
    ck_assert_int_eq(tls__kx_agree(a, pb, lb, sa, sizeof sa, &na), TLS_OK);
    ck_assert_int_eq(tls__kx_agree(b, pa, la, sb, sizeof sb, &nb), TLS_OK);
    ck_assert_uint_eq(na, SECRET_LEN[_i]);
    ck_assert_uint_eq(nb, SECRET_LEN[_i]);
    ck_assert_mem_eq(sa, sb, na);
    ck_assert(!all_zero(sa, na));
    tls__kx_free(a);
    tls__kx_free(b);
}
END_TEST

static tls_error agree_with(tls_kx *kx, const uint8_t *peer, size_t len)
{
    uint8_t secret[48];
    size_t n = 0;
    return tls__kx_agree(kx, peer, len, secret, sizeof secret, &n);
}

/* Loop test over GROUPS: shares of the wrong length are refused. */
START_TEST(test_kx_agree_wrong_length)
{
    tls_kx *a, *b;
    uint8_t share[98];
    size_t len;
    ck_assert_int_eq(tls__kx_new(GROUPS[_i], &a), TLS_OK);
    ck_assert_int_eq(tls__kx_new(GROUPS[_i], &b), TLS_OK);
    ck_assert_int_eq(tls__kx_public(b, share, sizeof share, &len), TLS_OK);
    share[len] = 0;
    ck_assert_int_eq(agree_with(a, share, len - 1), TLS_ERR_INVALID_KEY_SHARE);
    ck_assert_int_eq(agree_with(a, share, len + 1), TLS_ERR_INVALID_KEY_SHARE);
    ck_assert_int_eq(agree_with(a, share, 0), TLS_ERR_INVALID_KEY_SHARE);
    ck_assert_int_eq(agree_with(a, share, len), TLS_OK);
    tls__kx_free(a);
    tls__kx_free(b);
}
END_TEST

/* Loop test over the NIST groups: compressed and hybrid forms, off-curve points and the
 * point at infinity. */
START_TEST(test_kx_agree_bad_nist_point)
{
    uint16_t group = GROUPS[_i + 1];
    tls_kx *a, *b;
    uint8_t share[97], bad[97];
    size_t len;
    ck_assert_int_eq(tls__kx_new(group, &a), TLS_OK);
    ck_assert_int_eq(tls__kx_new(group, &b), TLS_OK);
    ck_assert_int_eq(tls__kx_public(b, share, sizeof share, &len), TLS_OK);
    size_t coord = (len - 1) / 2;

    /* A genuine compressed encoding: 0x02/0x03 || X. */
    bad[0] = (uint8_t)(0x02 | (share[len - 1] & 1));
    memcpy(bad + 1, share + 1, coord);
    ck_assert_int_eq(agree_with(a, bad, 1 + coord), TLS_ERR_INVALID_KEY_SHARE);
    /* Full length but a compressed/hybrid prefix. */
    memcpy(bad, share, len);
    bad[0] = 0x02;
    ck_assert_int_eq(agree_with(a, bad, len), TLS_ERR_INVALID_KEY_SHARE);
    bad[0] = 0x06;
    ck_assert_int_eq(agree_with(a, bad, len), TLS_ERR_INVALID_KEY_SHARE);
    /* Not on the curve: Y changed. */
    memcpy(bad, share, len);
    bad[len - 1] ^= 0x01;
    ck_assert_int_eq(agree_with(a, bad, len), TLS_ERR_INVALID_KEY_SHARE);
    /* Coordinates >= p. */
    memset(bad + 1, 0xff, len - 1);
    ck_assert_int_eq(agree_with(a, bad, len), TLS_ERR_INVALID_KEY_SHARE);
    /* All-zero coordinates (not a valid encoding of infinity, nor on the curve). */
    memset(bad + 1, 0, len - 1);
    ck_assert_int_eq(agree_with(a, bad, len), TLS_ERR_INVALID_KEY_SHARE);
    /* The one-byte encoding of the point at infinity. */
    bad[0] = 0x00;
    ck_assert_int_eq(agree_with(a, bad, 1), TLS_ERR_INVALID_KEY_SHARE);
    ck_assert_int_eq(agree_with(a, share, len), TLS_OK);
    tls__kx_free(a);
    tls__kx_free(b);
}
END_TEST

/* RFC 7748 §6.1 / RFC 8446 §7.4.2: low-order u-coordinates give the all-zero secret. */
START_TEST(test_kx_agree_x25519_low_order)
{
    static const char *low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    tls_kx *a;
    ck_assert_int_eq(tls__kx_new(TLS_GROUP_X25519, &a), TLS_OK);
    for (size_t i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
        uint8_t peer[32], secret[32];
        size_t n = 0;
        unhex(low_order[i], peer, sizeof peer);
        memset(secret, 0xaa, sizeof secret);
        ck_assert_int_eq(tls__kx_agree(a, peer, 32, secret, sizeof secret, &n),
                         TLS_ERR_INVALID_KEY_SHARE);
        ck_assert_uint_eq(n, 0);
    }
    tls__kx_free(a);
}
END_TEST

/* RFC 7748 §5: the top bit of a received u-coordinate is ignored, and non-canonical
 * values (u >= p) are accepted and reduced. */
START_TEST(test_kx_agree_x25519_high_bit_and_non_canonical)
{
    uint8_t priv[32], u[32], z[32], z_hi[32], z_nc[32];
    size_t n;
    for (size_t i = 0; i < sizeof priv; i++)
        priv[i] = (uint8_t)(i + 1);
    tls_kx *a;
    ck_assert_int_eq(tls__kx_new_from_private(TLS_GROUP_X25519, priv, 32, &a), TLS_OK);
    memset(u, 0, sizeof u);
    u[0] = 9; /* the base point */
    ck_assert_int_eq(tls__kx_agree(a, u, 32, z, 32, &n), TLS_OK);
    uint8_t pub[32];
    ck_assert_int_eq(tls__kx_public(a, pub, sizeof pub, &n), TLS_OK);
    ck_assert_mem_eq(z, pub, 32); /* X25519(k, 9) is k's public key */
    u[31] |= 0x80;
    ck_assert_int_eq(tls__kx_agree(a, u, 32, z_hi, 32, &n), TLS_OK);
    ck_assert_mem_eq(z_hi, z, 32);
    memset(u, 0xff, sizeof u); /* p + 9 = 2^255 - 10 */
    u[0] = 0xf6;
    u[31] = 0x7f;
    ck_assert_int_eq(tls__kx_agree(a, u, 32, z_nc, 32, &n), TLS_OK);
    ck_assert_mem_eq(z_nc, z, 32);
    tls__kx_free(a);
}
END_TEST

START_TEST(test_kx_new_unknown_group)
{
    tls_kx *kx = NULL;
    uint8_t priv[32] = {1};
    ck_assert_int_eq(tls__kx_new(0x0019 /* secp521r1: not offered */, &kx), TLS_ERR_CONFIG);
    ck_assert_int_eq(tls__kx_new(0x001e /* x448 */, &kx), TLS_ERR_CONFIG);
    ck_assert_int_eq(tls__kx_new(0x0000, &kx), TLS_ERR_CONFIG);
    ck_assert_ptr_null(kx);
    ck_assert_int_eq(tls__kx_new_from_private(0x0100, priv, 32, &kx), TLS_ERR_CONFIG);
    tls__kx_free(NULL);
}
END_TEST

START_TEST(test_kx_new_from_private_bad_scalar)
{
    tls_kx *kx = NULL;
    uint8_t zero[48] = {0}, big[32];
    memset(big, 0xff, sizeof big);
    ck_assert_int_eq(tls__kx_new_from_private(TLS_GROUP_X25519, zero, 31, &kx),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls__kx_new_from_private(TLS_GROUP_SECP256R1, zero, 32, &kx),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls__kx_new_from_private(TLS_GROUP_SECP256R1, big, 32, &kx),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls__kx_new_from_private(TLS_GROUP_SECP384R1, zero, 32, &kx),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(kx);
}
END_TEST

START_TEST(test_kx_public_buffer_too_small)
{
    tls_kx *kx;
    uint8_t out[97];
    size_t len = 0;
    ck_assert_int_eq(tls__kx_new(TLS_GROUP_SECP256R1, &kx), TLS_OK);
    ck_assert_int_eq(tls__kx_public(kx, out, 64, &len), TLS_ERR_INTERNAL);
    ck_assert_int_eq(tls__kx_public(kx, out, 65, &len), TLS_OK);
    ck_assert_int_eq(tls__kx_agree(kx, out, 65, out, 31, &len), TLS_ERR_INTERNAL);
    tls__kx_free(kx);
}
END_TEST

/* ---- signing keys --------------------------------------------------------------------- */

START_TEST(test_signing_key_parse_accepted_formats)
{
    static const struct {
        const char *pem;
        tls_key_type type;
    } ok[] = {
        {KEY_RSA2048_PKCS8, TLS_KEY_RSA},
        {KEY_RSA2048_PKCS1, TLS_KEY_RSA},
        {KEY_P256_SEC1, TLS_KEY_ECDSA_P256},
        {KEY_P256_PKCS8, TLS_KEY_ECDSA_P256},
        {KEY_P384_SEC1, TLS_KEY_ECDSA_P384},
        {KEY_P256_SEC1_NO_PUBLIC, TLS_KEY_ECDSA_P256},
        {KEY_P256_SEC1_COMPRESSED, TLS_KEY_ECDSA_P256},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        tls_signing_key *key = must_parse_key(ok[i].pem);
        ck_assert_int_eq(tls__signing_key_type(key), ok[i].type);
        tls__signing_key_free(key);
    }
    tls_signing_key *key = NULL;
    ck_assert_int_eq(tls__signing_key_parse(KEY_P256_PKCS8_DER, sizeof KEY_P256_PKCS8_DER, &key),
                     TLS_OK);
    ck_assert_int_eq(tls__signing_key_type(key), TLS_KEY_ECDSA_P256);
    tls__signing_key_free(key);
    tls__signing_key_free(NULL);
}
END_TEST

START_TEST(test_signing_key_parse_garbage)
{
    tls_signing_key *key = (tls_signing_key *)&key;
    static const char junk[] =
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
    ck_assert_int_eq(parse_pem_key(junk, &key), TLS_ERR_KEY_PARSE);
    ck_assert_ptr_null(key);
    ck_assert_int_eq(tls__signing_key_parse((const uint8_t *)"\x30\x03\x02\x01\x00", 5, &key),
                     TLS_ERR_KEY_PARSE);
    ck_assert_int_eq(tls__signing_key_parse((const uint8_t *)"", 1, &key), TLS_ERR_KEY_PARSE);
    /* A truncated DER key and a certificate where a key was expected. */
    ck_assert_int_eq(
        tls__signing_key_parse(KEY_P256_PKCS8_DER, sizeof KEY_P256_PKCS8_DER - 10, &key),
        TLS_ERR_KEY_PARSE);
    ck_assert_int_eq(parse_pem_key(CERT_P256, &key), TLS_ERR_KEY_PARSE);
}
END_TEST

START_TEST(test_signing_key_parse_unsupported)
{
    tls_signing_key *key = NULL;
    ck_assert_int_eq(parse_pem_key(KEY_RSA1024, &key), TLS_ERR_KEY_UNSUPPORTED);
    ck_assert_int_eq(parse_pem_key(KEY_P521, &key), TLS_ERR_KEY_UNSUPPORTED);
    ck_assert_ptr_null(key);
    /* Ed25519 needs a back end that has it (libsodium; test_ed25519.c has the rest). */
    ck_assert_int_eq(parse_pem_key(KEY_ED25519, &key),
                     tls__crypto_has_ed25519() ? TLS_OK : TLS_ERR_KEY_UNSUPPORTED);
    tls__signing_key_free(key);
}
END_TEST

START_TEST(test_signing_key_matches_cert_pairs)
{
    cert_der rsa, p256, p384;
    load_cert(CERT_RSA2048, &rsa);
    load_cert(CERT_P256, &p256);
    load_cert(CERT_P384, &p384);
    tls_signing_key *k_rsa = must_parse_key(KEY_RSA2048_PKCS8);
    tls_signing_key *k_rsa1 = must_parse_key(KEY_RSA2048_PKCS1);
    tls_signing_key *k_p256 = must_parse_key(KEY_P256_SEC1);
    tls_signing_key *k_p384 = must_parse_key(KEY_P384_SEC1);

    ck_assert(tls__signing_key_matches_cert(k_rsa, rsa.der, rsa.len));
    ck_assert(tls__signing_key_matches_cert(k_rsa1, rsa.der, rsa.len));
    ck_assert(tls__signing_key_matches_cert(k_p256, p256.der, p256.len));
    ck_assert(tls__signing_key_matches_cert(k_p384, p384.der, p384.len));
    /* SEC1 variants: the public key is recomputed or decompressed. */
    tls_signing_key *k_nopub = must_parse_key(KEY_P256_SEC1_NO_PUBLIC);
    tls_signing_key *k_comp = must_parse_key(KEY_P256_SEC1_COMPRESSED);
    ck_assert(tls__signing_key_matches_cert(k_nopub, p256.der, p256.len));
    ck_assert(tls__signing_key_matches_cert(k_comp, p256.der, p256.len));
    tls__signing_key_free(k_nopub);
    tls__signing_key_free(k_comp);

    ck_assert(!tls__signing_key_matches_cert(k_rsa, p256.der, p256.len));
    ck_assert(!tls__signing_key_matches_cert(k_p256, p384.der, p384.len));
    ck_assert(!tls__signing_key_matches_cert(k_p384, p256.der, p256.len));
    ck_assert(!tls__signing_key_matches_cert(k_p256, rsa.der, rsa.len));
    ck_assert(!tls__signing_key_matches_cert(k_p256, p256.der, p256.len - 1));
    ck_assert(!tls__signing_key_matches_cert(k_p256, (const uint8_t *)"junk", 4));

    tls__signing_key_free(k_rsa);
    tls__signing_key_free(k_rsa1);
    tls__signing_key_free(k_p256);
    tls__signing_key_free(k_p384);
}
END_TEST

/* ---- sign and verify ------------------------------------------------------------------ */

typedef struct {
    const char *key_pem, *cert_pem;
    uint16_t schemes[6];
    size_t n_schemes;
} signer_case;

static const signer_case SIGNERS[] = {
    {KEY_RSA2048_PKCS8,
     CERT_RSA2048,
     {TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_RSA_PSS_RSAE_SHA384, TLS_SIG_RSA_PSS_RSAE_SHA512,
      TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_RSA_PKCS1_SHA384, TLS_SIG_RSA_PKCS1_SHA512},
     6},
    {KEY_P256_SEC1, CERT_P256, {TLS_SIG_ECDSA_SECP256R1_SHA256}, 1},
    {KEY_P384_SEC1, CERT_P384, {TLS_SIG_ECDSA_SECP384R1_SHA384}, 1},
};

/* Loop test over SIGNERS: every scheme the key allows signs, verifies against the
 * certificate, and fails on a changed message or signature. */
START_TEST(test_sign_verify_round_trip)
{
    const signer_case *sc = &SIGNERS[_i];
    cert_der cert;
    load_cert(sc->cert_pem, &cert);
    tls_signing_key *key = must_parse_key(sc->key_pem);
    for (size_t k = 0; k < sc->n_schemes; k++) {
        uint16_t scheme = sc->schemes[k];
        uint8_t sig[TLS_MAX_SIGNATURE_LEN], msg[sizeof MSG];
        size_t sig_len = 0;
        ck_assert_int_eq(tls__sign(key, scheme, MSG, sizeof MSG, sig, sizeof sig, &sig_len),
                         TLS_OK);
        if (tls__signing_key_type(key) == TLS_KEY_RSA)
            ck_assert_uint_eq(sig_len, 256);
        else
            ck_assert_uint_eq(sig[0], 0x30); /* DER SEQUENCE */
        ck_assert_int_eq(tls__verify(cert.der, cert.len, scheme, MSG, sizeof MSG, sig, sig_len),
                         TLS_OK);

        memcpy(msg, MSG, sizeof msg);
        msg[sizeof msg - 1] ^= 0x01;
        ck_assert_int_eq(tls__verify(cert.der, cert.len, scheme, msg, sizeof msg, sig, sig_len),
                         TLS_ERR_DECRYPT);
        ck_assert_int_eq(tls__verify(cert.der, cert.len, scheme, MSG, sizeof MSG - 1, sig, sig_len),
                         TLS_ERR_DECRYPT);
        sig[sig_len / 2] ^= 0x10;
        ck_assert_int_eq(tls__verify(cert.der, cert.len, scheme, MSG, sizeof MSG, sig, sig_len),
                         TLS_ERR_DECRYPT);
        sig[sig_len / 2] ^= 0x10;
        ck_assert_int_eq(tls__verify(cert.der, cert.len, scheme, MSG, sizeof MSG, sig, sig_len - 1),
                         TLS_ERR_DECRYPT);
    }
    tls__signing_key_free(key);
}
END_TEST

/* PSS and PKCS#1 v1.5 signatures are not interchangeable, nor are the hashes. */
START_TEST(test_verify_rsa_scheme_confusion)
{
    cert_der cert;
    load_cert(CERT_RSA2048, &cert);
    tls_signing_key *key = must_parse_key(KEY_RSA2048_PKCS1);
    uint8_t sig[512];
    size_t n;
    ck_assert_int_eq(tls__sign(key, TLS_SIG_RSA_PKCS1_SHA256, MSG, sizeof MSG, sig, sizeof sig, &n),
                     TLS_OK);
    ck_assert_int_eq(
        tls__verify(cert.der, cert.len, TLS_SIG_RSA_PSS_RSAE_SHA256, MSG, sizeof MSG, sig, n),
        TLS_ERR_DECRYPT);
    ck_assert_int_eq(
        tls__verify(cert.der, cert.len, TLS_SIG_RSA_PKCS1_SHA384, MSG, sizeof MSG, sig, n),
        TLS_ERR_DECRYPT);
    ck_assert_int_eq(
        tls__sign(key, TLS_SIG_RSA_PSS_RSAE_SHA384, MSG, sizeof MSG, sig, sizeof sig, &n), TLS_OK);
    ck_assert_int_eq(
        tls__verify(cert.der, cert.len, TLS_SIG_RSA_PSS_RSAE_SHA256, MSG, sizeof MSG, sig, n),
        TLS_ERR_DECRYPT);
    ck_assert_int_eq(
        tls__verify(cert.der, cert.len, TLS_SIG_RSA_PKCS1_SHA384, MSG, sizeof MSG, sig, n),
        TLS_ERR_DECRYPT);
    tls__signing_key_free(key);
}
END_TEST

static int test_rng(void *unused, unsigned char *buf, size_t len)
{
    (void)unused;
    return tls__random(buf, len) == TLS_OK ? 0 : -1;
}

/* RFC 8446 §4.2.3: an RSA-PSS signature's salt must be as long as the digest. A
 * signature made directly with mbedTLS and a 20-byte salt is refused; the same with
 * a 32-byte salt passes (so the refusal is about the salt). */
START_TEST(test_verify_pss_salt_length_enforced)
{
    cert_der cert;
    load_cert(CERT_RSA2048, &cert);
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    ck_assert_int_eq(mbedtls_pk_parse_key(&pk, (const unsigned char *)KEY_RSA2048_PKCS8,
                                          strlen(KEY_RSA2048_PKCS8) + 1, NULL, 0),
                     0);
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(pk);
    mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
    uint8_t hash[32], sig[256];
    ck_assert_int_eq(
        mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), MSG, sizeof MSG, hash), 0);

    static const struct {
        int salt;
        tls_error want;
    } cases[] = {{32, TLS_OK}, {20, TLS_ERR_DECRYPT}, {0, TLS_ERR_DECRYPT}, {64, TLS_ERR_DECRYPT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(mbedtls_rsa_rsassa_pss_sign_ext(rsa, test_rng, NULL, MBEDTLS_MD_SHA256, 32,
                                                         hash, cases[i].salt, sig),
                         0);
        ck_assert_int_eq(tls__verify(cert.der, cert.len, TLS_SIG_RSA_PSS_RSAE_SHA256, MSG,
                                     sizeof MSG, sig, sizeof sig),
                         cases[i].want);
    }
    mbedtls_pk_free(&pk);
}
END_TEST

/* DER Ecdsa-Sig-Value must be the whole signature field. */
START_TEST(test_verify_ecdsa_trailing_garbage)
{
    cert_der cert;
    load_cert(CERT_P256, &cert);
    tls_signing_key *key = must_parse_key(KEY_P256_PKCS8);
    uint8_t sig[TLS_MAX_SIGNATURE_LEN];
    size_t n;
    ck_assert_int_eq(
        tls__sign(key, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG, sizeof MSG, sig, sizeof sig, &n),
        TLS_OK);
    ck_assert_int_eq(
        tls__verify(cert.der, cert.len, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG, sizeof MSG, sig, n),
        TLS_OK);
    sig[n] = 0x00;
    ck_assert_int_eq(tls__verify(cert.der, cert.len, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG,
                                 sizeof MSG, sig, n + 1),
                     TLS_ERR_DECRYPT);
    ck_assert_int_eq(
        tls__verify(cert.der, cert.len, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG, sizeof MSG, sig, 0),
        TLS_ERR_DECRYPT);
    tls__signing_key_free(key);
}
END_TEST

START_TEST(test_sign_scheme_key_mismatch)
{
    tls_signing_key *rsa = must_parse_key(KEY_RSA2048_PKCS8);
    tls_signing_key *p256 = must_parse_key(KEY_P256_SEC1);
    tls_signing_key *p384 = must_parse_key(KEY_P384_SEC1);
    uint8_t sig[TLS_MAX_SIGNATURE_LEN];
    size_t n;
    ck_assert_int_eq(
        tls__sign(rsa, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG, sizeof MSG, sig, sizeof sig, &n),
        TLS_ERR_CONFIG);
    ck_assert_int_eq(
        tls__sign(p256, TLS_SIG_ECDSA_SECP384R1_SHA384, MSG, sizeof MSG, sig, sizeof sig, &n),
        TLS_ERR_CONFIG);
    ck_assert_int_eq(
        tls__sign(p384, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG, sizeof MSG, sig, sizeof sig, &n),
        TLS_ERR_CONFIG);
    ck_assert_int_eq(
        tls__sign(p256, TLS_SIG_RSA_PSS_RSAE_SHA256, MSG, sizeof MSG, sig, sizeof sig, &n),
        TLS_ERR_CONFIG);
    ck_assert_int_eq(
        tls__sign(p384, TLS_SIG_RSA_PKCS1_SHA384, MSG, sizeof MSG, sig, sizeof sig, &n),
        TLS_ERR_CONFIG);
    ck_assert_int_eq(tls__sign(rsa, 0x0807 /* ed25519 */, MSG, sizeof MSG, sig, sizeof sig, &n),
                     TLS_ERR_CONFIG);
    ck_assert_int_eq(
        tls__sign(rsa, 0x0201 /* rsa_pkcs1_sha1 */, MSG, sizeof MSG, sig, sizeof sig, &n),
        TLS_ERR_CONFIG);
    tls__signing_key_free(rsa);
    tls__signing_key_free(p256);
    tls__signing_key_free(p384);
}
END_TEST

START_TEST(test_sign_buffer_too_small)
{
    tls_signing_key *rsa = must_parse_key(KEY_RSA2048_PKCS8);
    tls_signing_key *p256 = must_parse_key(KEY_P256_SEC1);
    uint8_t sig[TLS_MAX_SIGNATURE_LEN];
    size_t n;
    ck_assert_int_eq(tls__sign(rsa, TLS_SIG_RSA_PSS_RSAE_SHA256, MSG, sizeof MSG, sig, 255, &n),
                     TLS_ERR_INTERNAL);
    ck_assert_int_eq(tls__sign(p256, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG, sizeof MSG, sig, 8, &n),
                     TLS_ERR_INTERNAL);
    /* The pooled context survives: the next signature works. */
    ck_assert_int_eq(
        tls__sign(rsa, TLS_SIG_RSA_PSS_RSAE_SHA256, MSG, sizeof MSG, sig, sizeof sig, &n), TLS_OK);
    tls__signing_key_free(rsa);
    tls__signing_key_free(p256);
}
END_TEST

START_TEST(test_verify_scheme_cert_mismatch)
{
    cert_der rsa, p256, p384;
    load_cert(CERT_RSA2048, &rsa);
    load_cert(CERT_P256, &p256);
    load_cert(CERT_P384, &p384);
    tls_signing_key *k256 = must_parse_key(KEY_P256_SEC1);
    uint8_t sig[TLS_MAX_SIGNATURE_LEN];
    size_t n;
    ck_assert_int_eq(
        tls__sign(k256, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG, sizeof MSG, sig, sizeof sig, &n),
        TLS_OK);
    /* The right scheme for the signature, but a certificate of another key type/curve. */
    ck_assert_int_eq(
        tls__verify(p384.der, p384.len, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG, sizeof MSG, sig, n),
        TLS_ERR_DECRYPT);
    ck_assert_int_eq(
        tls__verify(p256.der, p256.len, TLS_SIG_ECDSA_SECP384R1_SHA384, MSG, sizeof MSG, sig, n),
        TLS_ERR_DECRYPT);
    ck_assert_int_eq(
        tls__verify(rsa.der, rsa.len, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG, sizeof MSG, sig, n),
        TLS_ERR_DECRYPT);
    ck_assert_int_eq(
        tls__verify(p256.der, p256.len, TLS_SIG_RSA_PSS_RSAE_SHA256, MSG, sizeof MSG, sig, n),
        TLS_ERR_DECRYPT);
    /* Unknown scheme; unparsable certificate. */
    ck_assert_int_eq(tls__verify(p256.der, p256.len, 0x0808 /* ed448 */, MSG, sizeof MSG, sig, n),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls__verify(p256.der, p256.len - 1, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG,
                                 sizeof MSG, sig, n),
                     TLS_ERR_CERT_PARSE);
    ck_assert_int_eq(tls__verify((const uint8_t *)"junk", 4, TLS_SIG_ECDSA_SECP256R1_SHA256, MSG,
                                 sizeof MSG, sig, n),
                     TLS_ERR_CERT_PARSE);
    tls__signing_key_free(k256);
}
END_TEST

/* Signing keys are shared by all threads: hammer one key from several at once. */
typedef struct {
    const tls_signing_key *key;
    const cert_der *cert;
    uint16_t scheme;
    int rounds;
    int failures;
} sign_thread_arg;

static void *sign_thread(void *p)
{
    sign_thread_arg *a = p;
    for (int i = 0; i < a->rounds; i++) {
        uint8_t sig[TLS_MAX_SIGNATURE_LEN], msg[16];
        size_t n;
        memset(msg, i, sizeof msg);
        if (tls__sign(a->key, a->scheme, msg, sizeof msg, sig, sizeof sig, &n) != TLS_OK ||
            tls__verify(a->cert->der, a->cert->len, a->scheme, msg, sizeof msg, sig, n) != TLS_OK)
            a->failures++;
    }
    return NULL;
}

START_TEST(test_sign_concurrent_threads_share_key)
{
    static const struct {
        const char *key, *cert;
        uint16_t scheme;
        int rounds;
    } cases[] = {
        {KEY_P256_SEC1, CERT_P256, TLS_SIG_ECDSA_SECP256R1_SHA256, 20},
        {KEY_RSA2048_PKCS8, CERT_RSA2048, TLS_SIG_RSA_PSS_RSAE_SHA256, 4},
        {KEY_RSA2048_PKCS8, CERT_RSA2048, TLS_SIG_RSA_PKCS1_SHA384, 4},
    };
    enum { N_THREADS = 4 };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cert_der cert;
        load_cert(cases[c].cert, &cert);
        tls_signing_key *key = must_parse_key(cases[c].key);
        pthread_t th[N_THREADS];
        sign_thread_arg args[N_THREADS];
        for (int t = 0; t < N_THREADS; t++) {
            args[t] = (sign_thread_arg){key, &cert, cases[c].scheme, cases[c].rounds, 0};
            ck_assert_int_eq(pthread_create(&th[t], NULL, sign_thread, &args[t]), 0);
        }
        for (int t = 0; t < N_THREADS; t++) {
            ck_assert_int_eq(pthread_join(th[t], NULL), 0);
            ck_assert_int_eq(args[t].failures, 0);
        }
        tls__signing_key_free(key);
    }
}
END_TEST

/* ---- randomness ----------------------------------------------------------------------- */

START_TEST(test_random_differs_between_calls)
{
    uint8_t a[32], b[32];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    ck_assert_int_eq(tls__random(a, sizeof a), TLS_OK);
    ck_assert_int_eq(tls__random(b, sizeof b), TLS_OK);
    ck_assert_mem_ne(a, b, sizeof a);
    ck_assert(!all_zero(a, sizeof a));
    ck_assert_int_eq(tls__random(a, 0), TLS_OK);

    /* Larger than one getrandom(2) call is guaranteed to return (256 bytes). */
    static uint8_t big[100000];
    ck_assert_int_eq(tls__random(big, sizeof big), TLS_OK);
    ck_assert(!all_zero(big + sizeof big - 64, 64));
}
END_TEST

/* ---- suite ---------------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc;

    tc = tcase_create("provider");
    tcase_add_test(tc, test_crypto_provider_default_is_mbedtls);
    tcase_add_test(tc, test_crypto_lengths_values);
    tcase_add_test(tc, test_crypto_ct_equal_detects_difference);
    tcase_add_test(tc, test_crypto_wipe_zeroes);
    tcase_add_test(tc, test_crypto_set_allocator_counts_and_balances);
    tcase_add_test(tc, test_random_differs_between_calls);
    suite_add_tcase(s, tc);

    tc = tcase_create("hash");
    tcase_add_test(tc, test_hash_sha256_abc);
    tcase_add_test(tc, test_hash_sha256_empty);
    tcase_add_test(tc, test_hash_sha384_abc);
    tcase_add_test(tc, test_hash_sha384_empty);
    tcase_add_test(tc, test_hash_sha512_abc);
    tcase_add_test(tc, test_hash_clone_mid_stream);
    tcase_add_test(tc, test_hash_clear_wipes);
    tcase_add_test(tc, test_hmac_sha256_rfc4231_case1);
    tcase_add_test(tc, test_hmac_rfc4231_case2);
    tcase_add_test(tc, test_hmac_parts_equal_concatenation);
    tcase_add_test(tc, test_hkdf_sha256_rfc5869_case1);
    tcase_add_test(tc, test_hkdf_extract_empty_salt_is_zeros);
    tcase_add_test(tc, test_hkdf_expand_bad_lengths);
    suite_add_tcase(s, tc);

    size_t n_vectors = sizeof AEAD_VECTORS / sizeof AEAD_VECTORS[0];
    tc = tcase_create("aead");
    tcase_add_loop_test(tc, test_aead_seal_open_known_answer, 0, (int)n_vectors);
    tcase_add_loop_test(tc, test_aead_open_tampered_fails, 0, (int)n_vectors);
    tcase_add_loop_test(tc, test_aead_in_place_round_trip, 0, 3);
    tcase_add_test(tc, test_aead_overlap_ahead_rejected);
    tcase_add_test(tc, test_aead_new_bad_key_length);
    suite_add_tcase(s, tc);

    tc = tcase_create("kx");
    tcase_add_test(tc, test_kx_x25519_rfc7748_vector);
    tcase_add_test(tc, test_kx_secp256r1_rfc5903_vector);
    tcase_add_loop_test(tc, test_kx_agree_round_trip, 0, 3);
    tcase_add_loop_test(tc, test_kx_agree_wrong_length, 0, 3);
    tcase_add_loop_test(tc, test_kx_agree_bad_nist_point, 0, 2);
    tcase_add_test(tc, test_kx_agree_x25519_low_order);
    tcase_add_test(tc, test_kx_agree_x25519_high_bit_and_non_canonical);
    tcase_add_test(tc, test_kx_new_unknown_group);
    tcase_add_test(tc, test_kx_new_from_private_bad_scalar);
    tcase_add_test(tc, test_kx_public_buffer_too_small);
    suite_add_tcase(s, tc);

    tc = tcase_create("sig");
    tcase_set_timeout(tc, 60); /* RSA under ASan */
    tcase_add_test(tc, test_signing_key_parse_accepted_formats);
    tcase_add_test(tc, test_signing_key_parse_garbage);
    tcase_add_test(tc, test_signing_key_parse_unsupported);
    tcase_add_test(tc, test_signing_key_matches_cert_pairs);
    tcase_add_loop_test(tc, test_sign_verify_round_trip, 0, 3);
    tcase_add_test(tc, test_verify_rsa_scheme_confusion);
    tcase_add_test(tc, test_verify_pss_salt_length_enforced);
    tcase_add_test(tc, test_verify_ecdsa_trailing_garbage);
    tcase_add_test(tc, test_sign_scheme_key_mismatch);
    tcase_add_test(tc, test_sign_buffer_too_small);
    tcase_add_test(tc, test_verify_scheme_cert_mismatch);
    tcase_add_test(tc, test_sign_concurrent_threads_share_key);
    suite_add_tcase(s, tc);

    return s;
}

TEST_MAIN(make_suite)
