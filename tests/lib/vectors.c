/*
 * vectors.c — the definitions behind vectors.h.
 */
#include "vectors.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    ck_assert_uint_eq(strlen(hex) % 2, 0);
    ck_assert_uint_le(n, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

const char KEY_P256_SEC1[] = "-----BEGIN EC PRIVATE KEY-----\n"
                             "MHcCAQEEINVNQtUbPIUoWNrJxt/nqa47nS1kmJQMIZbTRWgD3lbQoAoGCCqGSM49\n"
                             "AwEHoUQDQgAEI2FPknkbfYWKmY/A+4343oDatGnWxmpW9UR4JaVjke04zdIS/i4U\n"
                             "Mkt+fakP97iOzPqUvsGbgKFIsL30xGklvg==\n"
                             "-----END EC PRIVATE KEY-----\n";
const char CERT_P256[] = "-----BEGIN CERTIFICATE-----\n"
                         "MIIBfzCCASWgAwIBAgIUW96arheOG/bF1+8QHzDNqS9kBfEwCgYIKoZIzj0EAwIw\n"
                         "FDESMBAGA1UEAwwJcDI1Ni50ZXN0MCAXDTI2MTEyMzE2MzgwMloYDzIxMjYxMDMw\n"
                         "MTYzODAyWjAUMRIwEAYDVQQDDAlwMjU2LnRlc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
                         "PQMBBwNCAAQjYU+SeRt9hYqZj8D7jfjegNq0adbGalb1RHglpWOR7TjN0hL+LhQy\n"
                         "S359qQ/3uI7M+pS+wZuAoUiwvfTEaSW+o1MwUTAdBgNVHQ4EFgQUS5KgCeb2MHeA\n"
                         "zAKdnDuuQ0qxA3gwHwYDVR0jBBgwFoAUS5KgCeb2MHeAzAKdnDuuQ0qxA3gwDwYD\n"
                         "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEArc//dp6gWncojX9kep6H\n"
                         "OOOSSp/oI8YcrMu49VLPA88CIAOsvTZ8BnImim7Y+AVcTSA3NDihLO63RJyyj0NP\n"
                         "GiUQ\n"
                         "-----END CERTIFICATE-----\n";
const char KEY_P384_SEC1[] = "-----BEGIN EC PRIVATE KEY-----\n"
                             "MIGkAgEBBDCu+mM6OpFAXFFICJ5skzBGJ2s9/2RgI3IFAmqY6UJYYMowGn8q0ozm\n"
                             "AO82g8eeHg2gBwYFK4EEACKhZANiAASnQfefPfTncVgiL6GqLstTXVlWLZVGG2lK\n"
                             "dRpSTX5JIg/JehxTpaCU6pZccG/+oS8YruoM+mv6FVRyxoBjLOsGMVkER5R0CPQl\n"
                             "+3le10YKGBpXd5tjAWjbUruIzDLoIXE=\n"
                             "-----END EC PRIVATE KEY-----\n";
const char CERT_P384[] = "-----BEGIN CERTIFICATE-----\n"
                         "MIIBuzCCAUKgAwIBAgIUPTtAutYeNJ/Zg1ppGzQomgOmzcQwCgYIKoZIzj0EAwMw\n"
                         "FDESMBAGA1UEAwwJcDM4NC50ZXN0MCAXDTI2MTEyMzE2MzgwMloYDzIxMjYxMDMw\n"
                         "MTYzODAyWjAUMRIwEAYDVQQDDAlwMzg0LnRlc3QwdjAQBgcqhkjOPQIBBgUrgQQA\n"
                         "IgNiAASnQfefPfTncVgiL6GqLstTXVlWLZVGG2lKdRpSTX5JIg/JehxTpaCU6pZc\n"
                         "cG/+oS8YruoM+mv6FVRyxoBjLOsGMVkER5R0CPQl+3le10YKGBpXd5tjAWjbUruI\n"
                         "zDLoIXGjUzBRMB0GA1UdDgQWBBSYprQmPCIjQdtHesNGPFC3kru4+DAfBgNVHSME\n"
                         "GDAWgBSYprQmPCIjQdtHesNGPFC3kru4+DAPBgNVHRMBAf8EBTADAQH/MAoGCCqG\n"
                         "SM49BAMDA2cAMGQCMFHFAxFX1o1CKQ1mRHY90L58KyeQO6ld7WZ4PIDQ2+UKvxjx\n"
                         "eIFqE3Omlk5LvSHYwgIwOh3+yU8CuFnUufRl9he2bIm9mMuIM0Cl0ejDEjpByn91\n"
                         "0n2yAQ1N1UrnNlZtTP1J\n"
                         "-----END CERTIFICATE-----\n";
const char GCM_PT[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const char GCM_PT60[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const char A_PRIV[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const char A_PUB[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const char B_PRIV[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const char B_PUB[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const char K[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
