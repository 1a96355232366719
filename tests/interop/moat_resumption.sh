#!/bin/sh
# moat resumes TLS 1.3 sessions with its tickets (tls.tickets, on by default):
# `openssl s_client -sess_out` then `-sess_in` reports "Reused" and reaches the
# backend; with `tls: { tickets: { enabled: false } }` the session cache
# (tls.session_cache) still resumes it, and with the cache off as well
# (`session_cache: 0`) the second connection is a full handshake again.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need openssl python3 timeout || finish
need_binaries || finish

start_backend web || finish
P_WEB=$BACKEND_PORT

# run_pair CONF-TICKETS-LINE LABEL EXPECT(Reused|New)
run_pair() {
    set -- "$1" "$2" "$3" $(free_ports 1)
    conf=$WORK/moat-$2.yaml
    cat >"$conf" <<EOC
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 3s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
$1
listeners:
  - address: "127.0.0.1:$4"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: web
backends:
  web: { servers: ["127.0.0.1:$P_WEB"] }
EOC
    start_moat "$conf" 1 || return
    sess=$WORK/sess-$2.pem
    rm -f "$sess"
    printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$4" \
        -servername localhost -tls1_3 -CAfile tests/certs/ecdsa-p256/ca.cert -ign_eof \
        -sess_out "$sess" >"$WORK/first-$2.out" 2>&1
    if [ ! -s "$sess" ]; then
        # No ticket came, so s_client kept no session: the next handshake is a full one.
        if grep -q "hello from web" "$WORK/first-$2.out" && [ "$3" = New ]; then
            ok "$2: the backend answered; no ticket was issued"
            ok "$2: second connection is New (nothing to resume)"
        else
            not_ok "$2: a session to resume was saved" "$WORK/first-$2.out"
        fi
        stop_moat
        return
    fi
    printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$4" \
        -servername localhost -tls1_3 -CAfile tests/certs/ecdsa-p256/ca.cert -ign_eof \
        -sess_in "$sess" >"$WORK/second-$2.out" 2>&1
    if grep -q "hello from web" "$WORK/first-$2.out" && grep -q "hello from web" "$WORK/second-$2.out"; then
        ok "$2: both connections reach the backend"
    else
        not_ok "$2: both connections reach the backend" "$WORK/first-$2.out" "$WORK/second-$2.out"
    fi
    if grep -q "^Reused, TLSv1.3" "$WORK/second-$2.out"; then got=Reused; else got=New; fi
    if [ "$got" = "$3" ]; then
        ok "$2: second connection is $3"
    else
        not_ok "$2: second connection is $3 (got $got)" "$WORK/second-$2.out"
    fi
    stop_moat
}

run_pair "" default Reused
run_pair "tls: { tickets: { enabled: true, rotate: 1h } }" enabled Reused
# With tickets off, TLS 1.3 still resumes through the session cache (stateful tickets
# naming a cache entry) unless that is off too.
run_pair "tls: { tickets: { enabled: false } }" cache-only Reused
run_pair "tls: { tickets: { enabled: false }, session_cache: 0 }" disabled New
finish
