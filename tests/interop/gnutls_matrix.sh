#!/bin/sh
# gnutls-cli against "tlsserver ... echo": every key type x cipher suite x
# key-exchange group (27 handshakes) with a priority string allowing exactly one
# suite and one group, verifying the chain and host name, checking what was
# negotiated and echoing a random line; plus one ~100 KB payload per key type.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

SUITES="AES-128-GCM AES-256-GCM CHACHA20-POLY1305"
KX_GROUPS="X25519 SECP256R1 SECP384R1"

# run_one DESC KEYTYPE CIPHER GROUP PAYLOAD_BYTES
run_one() {
    _desc=$1 _kt=$2 _cipher=$3 _group=$4 _bytes=$5
    make_payload "$WORK/in" "$_bytes"
    rm -f "$WORK/info"
    feed_client "$WORK/in" "$WORK/out" "$WORK/err" gnutls-cli --logfile="$WORK/info" \
        --x509cafile="$CERTS/$_kt/ca.cert" --port="$SERVER_PORT" \
        --sni-hostname=localhost --verify-hostname=localhost \
        --priority="NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+$_cipher:-GROUP-ALL:+GROUP-$_group" \
        127.0.0.1
    _st=$?
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; gnutls-cli exit status $_st"
    cmp -s "$WORK/in" "$WORK/out" ||
        _why="$_why; echo differs (sent $(file_size "$WORK/in") bytes, got $(file_size "$WORK/out"))"
    grep -q 'Status: The certificate is trusted' "$WORK/info" 2>/dev/null ||
        _why="$_why; certificate not trusted"
    grep -q "^- Description: (TLS1.3-X.509)-(ECDHE-$_group)-.*-($_cipher)\$" "$WORK/info" \
        2>/dev/null || _why="$_why; not TLS1.3 with ECDHE-$_group and $_cipher"
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/err" "$WORK/info" "$SERVER_LOG"
    fi
}

need gnutls-cli timeout || finish

for kt in $KEY_TYPES; do
    if ! start_server --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" \
        --verbose echo; then
        continue
    fi
    for cipher in $SUITES; do
        for group in $KX_GROUPS; do
            run_one "gnutls-cli $kt $cipher $group" "$kt" "$cipher" "$group" 64
        done
    done
    case $kt in
    rsa2048) big_cipher=CHACHA20-POLY1305 big_group=SECP384R1 ;;
    ecdsa-p256) big_cipher=AES-256-GCM big_group=X25519 ;;
    *) big_cipher=AES-128-GCM big_group=SECP256R1 ;;
    esac
    run_one "gnutls-cli $kt $big_cipher $big_group: 100 KB echoed" "$kt" "$big_cipher" \
        "$big_group" 102400
    check_alive "server ($kt) still running after the matrix"
    stop_server
done

finish
