#!/bin/sh
# Hostile peers: the server must answer each with the right plaintext alert, close
# the connection, and keep serving (a normal openssl handshake after every case).
# Raw cases are built by tests/interop/rawpeer.py (python3, standard library only).
# A bad Finished cannot be forged without a TLS client implementation: the C unit
# tests cover it.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

KT=ecdsa-p256
CA=$CERTS/$KT/ca.cert
RAWPEER=$INTEROP_DIR/rawpeer.py

# after DESC: the server survived the previous case and still completes handshakes.
after() {
    openssl_handshake "server still serves after $1" "$CA"
}

# raw CASE WANT_REGEX [DESC]: rawpeer CASE must print a line matching WANT_REGEX
# (an extended regex matched against the whole line).
raw() {
    _case=$1 _want=$2 _desc=${3:-$1}
    log_mark
    tmo python3 "$RAWPEER" "$SERVER_PORT" "$_case" >"$WORK/raw.out" 2>"$WORK/raw.err"
    _got=$(head -n 1 "$WORK/raw.out")
    if printf '%s\n' "$_got" | grep -Eqx -- "$_want"; then
        ok "raw $_desc -> $_got"
    else
        sleep_short
        log_since >"$WORK/log.since"
        not_ok "raw $_desc -> $_want" "got '$_got'" "$WORK/raw.err" "$WORK/log.since"
    fi
    after "raw $_case"
}

# sclient DESC WANT_ALERT [S_CLIENT-ARGS...]: the handshake must fail with WANT_ALERT
# received from the server.
sclient() {
    _desc=$1 _want=$2
    shift 2
    log_mark
    tmo openssl s_client -connect "127.0.0.1:$SERVER_PORT" -servername localhost \
        -CAfile "$CA" "$@" </dev/null >"$WORK/sc.out" 2>"$WORK/sc.err"
    _st=$?
    _got=$(alert_from_openssl "$WORK/sc.err")
    if [ "$_st" -ne 0 ] && [ "$_got" = "$_want" ]; then
        ok "openssl $_desc -> $_got"
    else
        sleep_short
        log_since >"$WORK/log.since"
        not_ok "openssl $_desc -> $_want" "s_client status $_st, alert $_got" "$WORK/sc.err" \
            "$WORK/log.since"
    fi
    after "openssl $_desc"
}

need openssl python3 timeout || finish

if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose echo; then
    openssl_handshake "baseline handshake" "$CA"
    # The raw ClientHello builder itself: unmodified, it gets a ServerHello.
    raw hello 'server_hello' "valid ClientHello (control)"

    sclient "-tls1_2 (no TLS 1.3 offered)" protocol_version -tls1_2
    sclient "-tls1_3 with only TLS_AES_128_CCM_SHA256" handshake_failure -tls1_3 \
        -ciphersuites TLS_AES_128_CCM_SHA256

    raw legacy-only 'protocol_version' "TLS 1.1 ClientHello without supported_versions"
    raw tls12-only 'protocol_version' "TLS 1.2 ClientHello without supported_versions"
    raw http 'unexpected_message|decode_error' "plaintext HTTP request"
    raw random 'unexpected_message|decode_error' "invalid content type + random bytes"
    raw garbage-hello 'decode_error' "ClientHello of random bytes"
    raw oversized 'record_overflow' "record of 2^14+1 bytes"
    raw oversized-huge 'record_overflow' "record of 65535 bytes"
    raw empty-handshake 'unexpected_message|decode_error' "empty handshake record"
    raw finished-first 'unexpected_message' "Finished as first message"
    raw serverhello-first 'unexpected_message' "ServerHello as first message"
    raw appdata-first 'unexpected_message' "application data before the handshake"
    raw ccs-first 'unexpected_message' "ChangeCipherSpec before the ClientHello"
    raw trunc-suites 'decode_error' "cipher_suites length past the end"
    raw trunc-ext 'decode_error' "extension length past the end"
    raw trailing 'decode_error' "bytes after the extensions"
    raw dup-ext 'illegal_parameter' "duplicate supported_groups extension"
    # Peer closes in the middle of a record header: any clean ending, no hang.
    raw half-record '[a-z_]+|closed|reset' "half a record header, then EOF"

    check_alive "server still running after all hostile peers"
    stop_server
fi

# Cases that need a HelloRetryRequest first: the server only takes P-384, rawpeer
# sends a key share for X25519 only.
if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" \
    --group secp384r1 --verbose echo; then
    raw hrr-hello 'hello_retry_request' "X25519 share to a P-384 server (control)"
    raw hrr-finished 'unexpected_message' "Finished after HelloRetryRequest"
    raw hrr-same-hello 'illegal_parameter' "second ClientHello still without a P-384 share"
    check_alive "HRR server still running after all hostile peers"
    stop_server
fi

finish
