/*
 * floodclient.c — a TLS 1.3 client over a real socket that floods a server with what
 * no ordinary client can send, for tests/interop/moat_limits.sh.
 *
 *     floodclient PORT MODE COUNT
 *
 * Connects to 127.0.0.1:PORT, completes a TLS 1.3 handshake with the scripted client
 * of tests/lib/testclient.c (no SNI, no ALPN; the server's CertificateVerify and
 * Finished are checked, its chain is not), sends one echo probe ("probe\n") and waits
 * for it to come back, then sends COUNT of MODE in one burst, then the probe again:
 *
 *   empty         empty application_data records
 *   user-canceled user_canceled warning alerts
 *   key-update    KeyUpdate(update_not_requested)
 *   key-update-requested  KeyUpdate(update_requested)
 *
 * and reads until the server closes or 5 s pass. Prints "key=value" lines:
 *   local_port=<ours, to find the connection in moat's access log>
 *   handshake=ok|failed   echo_before=ok|none   echo_after=ok|none
 *   alert=<the last alert the server sent, or none>   alert_level=1|2
 *   key_updates=<KeyUpdates the server sent>   end=closed|reset|timeout
 * Exit status 0 when the client itself ran (the script judges the values), 1 otherwise.
 * Test code: built by `make test` (tests/tools/), never part of the daemon.
 */
#include "tests/lib/testclient.h"
#include "tls/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char probe[] = "probe\n";

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sends everything the client has queued. False when the peer is gone. */
static bool flush(int fd, tc_client *c)
{
    size_t len;
    const uint8_t *p;
    while ((p = tc_out(c, &len)) != NULL && len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        tc_out_consume(c, (size_t)n);
    }
    return true;
}

/* Reads what arrives within ms into the client. "ok" (something read), "closed",
 * "reset" or "timeout". */
static const char *pump_once(int fd, tc_client *c, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    uint8_t buf[16384];
    int r = poll(&pfd, 1, ms);
    if (r == 0)
        return "timeout";
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0)
        return "closed";
    if (n < 0)
        return errno == ECONNRESET ? "reset" : "timeout";
    tc_receive(c, buf, (size_t)n);
    return "ok";
}

/* Waits up to ms for the probe to come back. */
static bool echo(int fd, tc_client *c, int ms, const char **end)
{
    uint8_t got[sizeof probe];
    size_t have = 0;
    uint64_t deadline = now_ms() + (uint64_t)ms;
    tc_write(c, (const uint8_t *)probe, strlen(probe));
    if (!flush(fd, c))
        return false;
    while (have < strlen(probe) && now_ms() < deadline) {
        *end = pump_once(fd, c, (int)(deadline - now_ms()));
        if (strcmp(*end, "ok"))
            return false;
        if (!flush(fd, c)) /* KeyUpdate answers */
            return false;
        have += tc_read(c, got + have, strlen(probe) - have);
    }
    return have == strlen(probe) && !memcmp(got, probe, have);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: floodclient PORT empty|user-canceled|key-update|"
                        "key-update-requested COUNT\n");
        return 1;
    }
    const char *mode = argv[2];
    int count = atoi(argv[3]);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        perror("floodclient: connect");
        return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in local;
    socklen_t local_len = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &local_len) == 0)
        printf("local_port=%u\n", ntohs(local.sin_port));

    tc_client *c = tc_client_new(NULL);
    const char *end = "ok";
    tc_start(c);
    uint64_t deadline = now_ms() + 5000;
    while (c->state != TC_STATE_CONNECTED && !c->failed && now_ms() < deadline) {
        if (!flush(fd, c))
            break;
        end = pump_once(fd, c, (int)(deadline - now_ms()));
        if (strcmp(end, "ok"))
            break;
    }
    bool connected = c->state == TC_STATE_CONNECTED && flush(fd, c);
    printf("handshake=%s\n", connected ? "ok" : "failed");
    if (!connected) {
        fprintf(stderr, "floodclient: handshake: %s (%s)\n", c->failed ? c->error : "-", end);
        return 1;
    }
    printf("echo_before=%s\n", echo(fd, c, 5000, &end) ? "ok" : "none");

    for (int i = 0; i < count; i++) {
        if (!strcmp(mode, "empty"))
            tc_inject_record(c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
        else if (!strcmp(mode, "user-canceled"))
            tc_send_alert(c, 1, TLS_ALERT_USER_CANCELED);
        else if (!strcmp(mode, "key-update"))
            tc_send_key_update(c, false);
        else if (!strcmp(mode, "key-update-requested"))
            tc_send_key_update(c, true);
        else {
            fprintf(stderr, "floodclient: unknown mode %s\n", mode);
            return 1;
        }
    }
    unsigned before = c->n_alerts;
    bool after = flush(fd, c) && echo(fd, c, 3000, &end);
    printf("echo_after=%s\n", after ? "ok" : "none");
    deadline = now_ms() + 5000;
    if (after)
        end = "open";
    else
        while (!strcmp(end, "ok") && now_ms() < deadline)
            end = pump_once(fd, c, (int)(deadline - now_ms()));
    const tc_alert *a = c->n_alerts > before ? tc_last_alert_info(c) : NULL;
    printf("alert=%s\n", a ? tls_alert_name(a->desc) : "none");
    printf("alert_level=%d\n", a ? a->level : 0);
    printf("key_updates=%u\n", c->key_updates);
    printf("end=%s\n", end);
    tc_client_free(c);
    close(fd);
    return 0;
}
