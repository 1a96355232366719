#!/bin/sh
# openssl s_client against "tlsserver ... echo": every key type x cipher suite x
# key-exchange group (27 handshakes), each verifying the chain and host name,
# checking the negotiated version, suite and group, and echoing a random line;
# plus one ~100 KB payload per key type (many records each way).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

SUITES="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
KX_GROUPS="X25519 P-256 P-384"

# What "openssl s_client -brief" prints as "Server Temp Key" for each group.
temp_key() {
    case $1 in
    X25519) echo "X25519" ;;
    P-256) echo "ECDH, prime256v1" ;;
    P-384) echo "ECDH, secp384r1" ;;
    esac
}

# run_one DESC KEYTYPE SUITE GROUP PAYLOAD_BYTES
run_one() {
    _desc=$1 _kt=$2 _suite=$3 _group=$4 _bytes=$5
    make_payload "$WORK/in" "$_bytes"
    openssl_echo "$WORK/out" "$WORK/err" "$WORK/in" -tls1_3 -ciphersuites "$_suite" \
        -groups "$_group" -servername localhost -verify_hostname localhost \
        -CAfile "$CERTS/$_kt/ca.cert" -verify_return_error
    _st=$?
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; s_client exit status $_st"
    cmp -s "$WORK/in" "$WORK/out" ||
        _why="$_why; echo differs (sent $(file_size "$WORK/in") bytes, got $(file_size "$WORK/out"))"
    grep -q '^Verification: OK' "$WORK/err" || _why="$_why; no 'Verification: OK'"
    grep -q '^Protocol version: TLSv1.3$' "$WORK/err" || _why="$_why; not TLSv1.3"
    grep -q "^Ciphersuite: $_suite\$" "$WORK/err" || _why="$_why; suite is not $_suite"
    grep -q "^Server Temp Key: $(temp_key "$_group")," "$WORK/err" ||
        _why="$_why; group is not $_group"
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/err" "$SERVER_LOG"
    fi
}

need openssl timeout || finish

for kt in $KEY_TYPES; do
    if ! start_server --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" \
        --verbose echo; then
        continue
    fi
    for suite in $SUITES; do
        for group in $KX_GROUPS; do
            run_one "openssl $kt $suite $group" "$kt" "$suite" "$group" 64
        done
    done
    case $kt in
    rsa2048) big_suite=TLS_AES_128_GCM_SHA256 big_group=X25519 ;;
    ecdsa-p256) big_suite=TLS_CHACHA20_POLY1305_SHA256 big_group=P-256 ;;
    *) big_suite=TLS_AES_256_GCM_SHA384 big_group=P-384 ;;
    esac
    run_one "openssl $kt $big_suite $big_group: 100 KB echoed" "$kt" "$big_suite" \
        "$big_group" 102400
    check_alive "server ($kt) still running after the matrix"
    stop_server
    if [ "$SERVER_STATUS" = 0 ]; then
        ok "server ($kt) exits with status 0 on SIGTERM"
    else
        not_ok "server ($kt) exits with status 0 on SIGTERM" "status $SERVER_STATUS" \
            "$SERVER_LOG"
    fi
done

finish
