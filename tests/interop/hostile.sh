#!/bin/sh
# Hostile peers: the server must answer each with the right plaintext alert, close
# the connection, and keep serving (a normal openssl handshake after every case).
# Version negotiation: a default server (1.3 and 1.2) answers a 1.2-only client with
# TLS 1.2 and the RFC 8446 downgrade sentinel; a --protover 1.3 server refuses it
# with protocol_version.
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

# sclient12_ok DESC [S_CLIENT-ARGS...]: the handshake completes with TLS 1.2 (and a
# verified chain) and a line is echoed.
sclient12_ok() {
    _desc=$1
    shift
    make_payload "$WORK/ok.in" 40
    openssl_echo "$WORK/ok.out" "$WORK/ok.err" "$WORK/ok.in" -servername localhost \
        -verify_return_error -verify_hostname localhost -CAfile "$CA" "$@"
    _st=$?
    if [ "$_st" -eq 0 ] && cmp -s "$WORK/ok.in" "$WORK/ok.out" &&
        grep -q '^Protocol version: TLSv1.2$' "$WORK/ok.err" &&
        grep -q '^Verification: OK' "$WORK/ok.err"; then
        ok "openssl $_desc -> TLSv1.2, $(sed -n 's/^Ciphersuite: //p' "$WORK/ok.err"), echoed"
    else
        not_ok "openssl $_desc -> TLSv1.2, echoed" "s_client status $_st" "$WORK/ok.err" \
            "$SERVER_LOG"
    fi
}

need openssl python3 timeout || finish

if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose echo; then
    openssl_handshake "baseline handshake" "$CA"
    # The raw ClientHello builder itself: unmodified, it gets a ServerHello.
    raw hello 'server_hello' "valid ClientHello (control)"

    # TLS 1.2 is on by default: a client that cannot do 1.3 gets 1.2, and the
    # ServerHello.random ends with DOWNGRD\x01 since 1.3 was possible (RFC 8446 4.1.3).
    sclient12_ok "-tls1_2 (no TLS 1.3 offered) to a default server" -tls1_2
    after "openssl -tls1_2"
    raw tls12-hello 'tls12_server_hello sentinel=DOWNGRD01' \
        "TLS 1.2 ClientHello without supported_versions (default server)"
    raw tls12-sv-hello 'tls12_server_hello sentinel=DOWNGRD01' \
        "TLS 1.2 ClientHello with supported_versions [1.2] (default server)"
    raw tls12-scsv-hello 'tls12_server_hello sentinel=DOWNGRD01' \
        "TLS 1.2 ClientHello with the renegotiation SCSV: empty renegotiation_info answered"
    raw tls12-resume 'full_handshake' \
        "TLS 1.2 ClientHello with a made-up session id and ticket: full handshake"
    # TLS 1.2 clients that misbehave (rawpeer.py has no cryptography: its X25519 key is
    # random bytes and its Finished cannot be right).
    raw tls12-no-null-compression 'illegal_parameter' "TLS 1.2 ClientHello without null compression"
    raw tls12-compressed-points 'illegal_parameter' "TLS 1.2 ClientHello without uncompressed points"
    raw tls12-reneg-info-nonempty 'handshake_failure' \
        "TLS 1.2 initial ClientHello with non-empty renegotiation_info"
    raw tls12-no-common-group 'handshake_failure' "TLS 1.2 ClientHello with only ffdhe2048"
    raw tls12-finished-early 'unexpected_message' "TLS 1.2: Finished instead of ClientKeyExchange"
    raw tls12-ccs-early 'unexpected_message' "TLS 1.2: ChangeCipherSpec before ClientKeyExchange"
    raw tls12-appdata-early 'unexpected_message' "TLS 1.2: application data before ClientKeyExchange"
    raw tls12-second-hello 'unexpected_message' "TLS 1.2: a second ClientHello instead of ClientKeyExchange"
    raw tls12-short-cke 'illegal_parameter|decode_error' "TLS 1.2: X25519 ClientKeyExchange of 31 bytes"
    raw tls12-cke-trailing 'decode_error' "TLS 1.2: ClientKeyExchange with a trailing byte"
    raw tls12-finished-plain 'unexpected_message' "TLS 1.2: plaintext Finished without ChangeCipherSpec"
    raw tls12-ccs-twice 'unexpected_message|decode_error' "TLS 1.2: ChangeCipherSpec record of 2 bytes"
    raw tls12-ccs-unaligned 'unexpected_message' \
        "TLS 1.2: ChangeCipherSpec with half a handshake message pending"
    raw tls12-bad-finished 'bad_record_mac' "TLS 1.2: protected Finished of random bytes"

    sclient "-tls1_3 with only TLS_AES_128_CCM_SHA256" handshake_failure -tls1_3 \
        -ciphersuites TLS_AES_128_CCM_SHA256

    raw legacy-only 'protocol_version' "TLS 1.1 ClientHello without supported_versions"
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

# Only TLS 1.3 enabled: a 1.2-only client is refused with protocol_version.
if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" \
    --protover 1.3 --verbose echo; then
    openssl_handshake "--protover 1.3: baseline TLS 1.3 handshake" "$CA"
    sclient "-tls1_2 (no TLS 1.3 offered) to a --protover 1.3 server" protocol_version -tls1_2
    raw tls12-only 'protocol_version' \
        "TLS 1.2 ClientHello without supported_versions (--protover 1.3)"
    raw tls12-hello 'protocol_version' \
        "TLS 1.2 ClientHello with EMS and renegotiation_info (--protover 1.3)"
    raw tls12-sv-hello 'protocol_version' \
        "TLS 1.2 ClientHello with supported_versions [1.2] (--protover 1.3)"
    check_alive "--protover 1.3 server still running"
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
