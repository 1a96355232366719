/*
 * fuzz_server.c — an engine server connection fed arbitrary bytes as if from a client.
 *
 * The input is harness.h's chunked format: a config byte (certificate type, tickets,
 * session cache, 0-RTT, versions/groups, ALPN + strict SNI + EMS + small fragments),
 * then the client's reads, possibly over several connections on one config, so
 * resumption, 0-RTT and its anti-replay are reachable. The server echoes what it reads.
 * With the deterministic random streams (fuzz.h), seeds recorded by seedgen.c from real
 * engine handshakes replay all the way through encrypted handshakes and application
 * data, and the fuzzer mutates from there.
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
    fh_run_server(data, size);
    return 0;
}
