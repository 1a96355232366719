#!/bin/sh
# The server under valgrind memcheck: a few real handshakes (each suite and group,
# an RSA and an ECDSA key), a HelloRetryRequest and some hostile peers; then SIGTERM.
# valgrind must report no errors and no definite or indirect leaks, and the server
# must exit with status 0.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

# valgrind makes everything 20-50 times slower.
START_TIMEOUT=60
CLIENT_TIMEOUT=30
RAWPEER=$INTEROP_DIR/rawpeer.py

need valgrind openssl python3 timeout || finish

# start_valgrind NAME [TLSSERVER-ARGS...]: start_server under valgrind (log in
# $VG_LOG); finish_valgrind NAME: SIGTERM, then check valgrind's verdict.
start_valgrind() {
    VG_LOG=$WORK/valgrind-$1.log
    shift
    SERVER_WRAPPER="valgrind --leak-check=full --show-leak-kinds=definite,indirect \
--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file=$VG_LOG"
    start_server "$@"
    _r=$?
    SERVER_WRAPPER=""
    return $_r
}

finish_valgrind() {
    _name=$1
    STOP_WAIT=60 stop_server
    _why=""
    [ "$SERVER_STATUS" = 0 ] || _why="$_why; exit status $SERVER_STATUS (99: valgrind found errors)"
    grep -q 'ERROR SUMMARY: 0 errors' "$VG_LOG" 2>/dev/null ||
        _why="$_why; no 'ERROR SUMMARY: 0 errors'"
    grep -Eq 'definitely lost: 0 bytes|All heap blocks were freed' "$VG_LOG" 2>/dev/null ||
        _why="$_why; no 'definitely lost: 0 bytes'"
    grep -Eq '(definitely|indirectly) lost: [1-9]' "$VG_LOG" 2>/dev/null && _why="$_why; leaks"
    if [ -z "$_why" ]; then
        ok "valgrind $_name: no errors, no leaks, exit status 0"
    else
        not_ok "valgrind $_name: no errors, no leaks, exit status 0" "${_why#; }" "$VG_LOG" \
            "$SERVER_LOG"
    fi
}

# ECDSA P-256: every suite and group, a large echo, hostile peers.
kt=ecdsa-p256
if start_valgrind "$kt" --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" \
    --verbose echo; then
    openssl_handshake "valgrind $kt: AES-128-GCM X25519" "$CERTS/$kt/ca.cert" \
        -ciphersuites TLS_AES_128_GCM_SHA256 -groups X25519
    openssl_handshake "valgrind $kt: AES-256-GCM P-256" "$CERTS/$kt/ca.cert" \
        -ciphersuites TLS_AES_256_GCM_SHA384 -groups P-256
    openssl_handshake "valgrind $kt: CHACHA20 P-384" "$CERTS/$kt/ca.cert" \
        -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -groups P-384
    make_payload "$WORK/big.in" 50000
    openssl_echo "$WORK/big.out" "$WORK/big.err" "$WORK/big.in" -tls1_3 \
        -servername localhost -CAfile "$CERTS/$kt/ca.cert" -verify_return_error
    if cmp -s "$WORK/big.in" "$WORK/big.out"; then
        ok "valgrind $kt: 50 KB echoed"
    else
        not_ok "valgrind $kt: 50 KB echoed" "$WORK/big.err" "$SERVER_LOG"
    fi
    for c in dup-ext trunc-ext oversized http finished-first tls12-hello half-record; do
        tmo python3 "$RAWPEER" --timeout 10 "$SERVER_PORT" "$c" >"$WORK/raw.out" 2>/dev/null
        diag "rawpeer $c: $(head -n 1 "$WORK/raw.out")"
    done
    # A client that connects and goes away mid-handshake.
    tmo openssl s_client -tls1_3 -connect "127.0.0.1:$SERVER_PORT" -servername localhost \
        -CAfile "$CERTS/$kt/ca.cert" -verify_return_error -groups X25519 \
        </dev/null >/dev/null 2>&1
    openssl_handshake "valgrind $kt: handshake after hostile peers" "$CERTS/$kt/ca.cert"
    finish_valgrind "$kt"
fi

# RSA, with a HelloRetryRequest and a connection still open at SIGTERM.
kt=rsa2048
if start_valgrind "$kt" --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" \
    --group secp384r1 --verbose echo; then
    openssl_handshake "valgrind $kt: HRR X25519 -> P-384" "$CERTS/$kt/ca.cert" \
        -groups X25519:P-384
    # An idle connection that is still open when the server is told to stop: its
    # stdin is a FIFO nobody writes to, so s_client neither sends nor sees EOF.
    mkfifo "$WORK/idle.fifo"
    timeout -k 2 90 openssl s_client -tls1_3 -quiet -connect "127.0.0.1:$SERVER_PORT" \
        -servername localhost -CAfile "$CERTS/$kt/ca.cert" <>"$WORK/idle.fifo" \
        >/dev/null 2>&1 &
    idle_pid=$!
    sleep 3
    finish_valgrind "$kt"
    kill "$idle_pid" 2>/dev/null
    wait "$idle_pid" 2>/dev/null
fi

finish
