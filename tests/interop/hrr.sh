#!/bin/sh
# HelloRetryRequest. The server takes a client's key share whenever it is for a
# group the server supports (no HRR, even if the server prefers another group); it
# sends an HRR only when no offered share is usable but a common group exists.
# HRRs are seen in the server's --verbose connection line ("hrr=yes").
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

KT=ecdsa-p256
CA=$CERTS/$KT/ca.cert

# expect_hrr DESC yes|no: the server's log line for the last connection.
expect_hrr() {
    if [ "$2" = yes ]; then
        if wait_log 'hrr=yes'; then
            ok "$1: server logged hrr=yes"
        else
            log_since >"$WORK/log.since"
            not_ok "$1: server logged hrr=yes" "$WORK/log.since"
        fi
    else
        # Wait for the connection's line (the one with an hrr= field, or any).
        wait_log 'hrr=' || wait_log '.' 1
        if log_since | grep -q 'hrr=yes'; then
            log_since >"$WORK/log.since"
            not_ok "$1: no HRR" "$WORK/log.since"
        else
            ok "$1: no HRR"
        fi
    fi
}

# s_echo DESC WANT_TEMP_KEY [S_CLIENT-ARGS...]: handshake + echo with openssl.
s_echo() {
    _desc=$1 _tk=$2
    shift 2
    log_mark
    make_payload "$WORK/in" 200
    openssl_echo "$WORK/out" "$WORK/err" "$WORK/in" -tls1_3 -servername localhost \
        -verify_hostname localhost -CAfile "$CA" -verify_return_error "$@"
    _st=$?
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; s_client exit status $_st"
    cmp -s "$WORK/in" "$WORK/out" || _why="$_why; echo differs"
    grep -q '^Verification: OK' "$WORK/err" || _why="$_why; no 'Verification: OK'"
    grep -q "^Server Temp Key: $_tk," "$WORK/err" || _why="$_why; group is not $_tk"
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/err" "$SERVER_LOG"
    fi
}

need openssl gnutls-cli timeout || finish

# 1. Server takes P-384 only; the clients' first share is for another group.
if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" \
    --group secp384r1 --verbose echo; then
    s_echo "openssl -groups X25519:P-384 -> P-384 after HRR, echo intact" \
        "ECDH, secp384r1" -groups X25519:P-384
    expect_hrr "openssl X25519:P-384 vs P-384-only server" yes

    s_echo "openssl -groups P-384 -> P-384 at once" "ECDH, secp384r1" -groups P-384
    expect_hrr "openssl P-384 vs P-384-only server" no

    # GnuTLS sends shares for its first group and the first group of another kind
    # (X25519 + SECP256R1 here); neither is acceptable, so HRR to SECP384R1.
    log_mark
    make_payload "$WORK/in" 200
    rm -f "$WORK/info"
    feed_client "$WORK/in" "$WORK/out" "$WORK/err" gnutls-cli --logfile="$WORK/info" \
        --x509cafile="$CA" --port="$SERVER_PORT" --sni-hostname=localhost \
        --verify-hostname=localhost \
        --priority="NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1" \
        127.0.0.1
    st=$?
    if [ "$st" -eq 0 ] && cmp -s "$WORK/in" "$WORK/out" &&
        grep -q '^- Description: (TLS1.3-X.509)-(ECDHE-SECP384R1)-' "$WORK/info"; then
        ok "gnutls-cli X25519,SECP256R1,SECP384R1 -> SECP384R1 after HRR, echo intact"
    else
        not_ok "gnutls-cli X25519,SECP256R1,SECP384R1 -> SECP384R1 after HRR, echo intact" \
            "gnutls-cli status $st" "$WORK/err" "$WORK/info" "$SERVER_LOG"
    fi
    expect_hrr "gnutls-cli X25519,SECP256R1,SECP384R1 vs P-384-only server" yes

    # No group in common: handshake_failure (no HRR can help).
    log_mark
    tmo openssl s_client -tls1_3 -groups X25519 -connect "127.0.0.1:$SERVER_PORT" \
        -servername localhost -CAfile "$CA" </dev/null >"$WORK/sc.out" 2>"$WORK/sc.err"
    st=$?
    got=$(alert_from_openssl "$WORK/sc.err")
    if [ "$st" -ne 0 ] && [ "$got" = handshake_failure ]; then
        ok "openssl -groups X25519 vs P-384-only server -> handshake_failure"
    else
        not_ok "openssl -groups X25519 vs P-384-only server -> handshake_failure" \
            "s_client status $st, alert $got" "$WORK/sc.err" "$SERVER_LOG"
    fi
    check_alive "server still running"
    stop_server
fi

# 2. Server prefers P-384 but also takes X25519: the client's X25519 share is used
#    as it is, without a round trip.
if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" \
    --group secp384r1 --group X25519 --verbose echo; then
    s_echo "openssl -groups X25519:P-384 vs server P-384,X25519 -> X25519" X25519 \
        -groups X25519:P-384
    expect_hrr "openssl X25519:P-384 vs server P-384,X25519" no
    check_alive "server still running"
    stop_server
fi

finish
