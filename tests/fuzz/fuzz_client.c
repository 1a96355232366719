/*
 * fuzz_client.c — an engine client connection fed arbitrary bytes as if from a server.
 *
 * The input is harness.h's chunked format: a config byte (verification against the test
 * CAs or the dangerous unverified config, a session store, 0-RTT, versions/groups, ALPN,
 * a DNS name or an IP address), then the server's reads, over up to FH_MAX_CONNS
 * connections sharing the session store, so stored tickets and TLS 1.2 sessions are
 * offered and resumed. The clock stands still at 2026-01-01 (+60 s per connection), so
 * certificate validity and ticket ages are deterministic.
 */
#include "tests/fuzz/harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fh_fixture_load();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fh_run_client(data, size);
    return 0;
}
