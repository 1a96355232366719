#!/bin/sh
# moat: client certificates toward TLS backends (issue 10). The backend is
# `openssl s_server -www -Verify 1 -verify_return_error`, which demands a client
# certificate from tests/certs/clientauth-client/'s CA:
#   - a backend with tls: { cert, key } (ECDSA, then RSA) serves curl through moat, and
#     s_server's page names the client certificate moat presented;
#   - the same backend without cert/key refuses moat: curl gets no page, and the access
#     log says the backend TLS handshake failed;
#   - a cert without key (or the other way round), and a key that does not match its
#     certificate, are config errors with file:line:column.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need curl openssl timeout || finish
need_binaries || finish

P256=$CERTS/ecdsa-p256
CC=$CERTS/clientauth-client

# openssl s_server -www demanding a client certificate: prints "ACCEPT 127.0.0.1:PORT".
openssl s_server -accept 127.0.0.1:0 -cert "$P256/end.cert" -cert_chain "$P256/end.chain" \
    -key "$P256/end.key" -Verify 1 -verify_return_error -CAfile "$CC/ca.cert" -www \
    >"$WORK/ossl.out" 2>"$WORK/ossl.err" </dev/null &
OSSL_PID=$!
track_pid "$OSSL_PID"
_wait_line "$WORK/ossl.out" '^ACCEPT 127\.0\.0\.1:[0-9]+$' 1 "$OSSL_PID" || {
    not_ok "openssl s_server -www -Verify 1 starts" "$WORK/ossl.out" "$WORK/ossl.err"
    finish
}
P_OSSL=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$WORK/ossl.out" | head -n 1)

set -- $(free_ports 3)
L_EC=$1 L_RSA=$2 L_NONE=$3
CONF=$WORK/moat.yaml
listener() {
    printf '  - address: "127.0.0.1:%s"\n    certificates: [ %s ]\n    backend: %s\n' \
        "$1" "$(cert_item ecdsa-p256 end)" "$2"
}
{
    printf 'workers: 1\nlog: { level: info, access: %s }\n' "$ACCESS_LOG"
    printf 'timeouts: { handshake: 5s, idle: 10s, connect: 2s, drain: 1s }\nlisteners:\n'
    listener "$L_EC" ec
    listener "$L_RSA" rsa
    listener "$L_NONE" none
    printf 'backends:\n'
    printf '  ec: { servers: ["127.0.0.1:%s"], tls: { ca: %s, server_name: localhost, cert: %s, key: %s } }\n' \
        "$P_OSSL" "$P256/ca.cert" "$CC/ecdsa.fullchain" "$CC/ecdsa.key"
    printf '  rsa: { servers: ["127.0.0.1:%s"], tls: { ca: %s, server_name: localhost, cert: %s, key: %s } }\n' \
        "$P_OSSL" "$P256/ca.cert" "$CC/rsa.fullchain" "$CC/rsa.key"
    printf '  none: { servers: ["127.0.0.1:%s"], tls: { ca: %s, server_name: localhost } }\n' \
        "$P_OSSL" "$P256/ca.cert"
} >"$CONF"

start_moat "$CONF" 3 || finish

# page_via DESC LPORT SUBJECT-ERE: curl through moat gets s_server's page, whose
# "Client certificate" section names the certificate moat presented.
page_via() {
    tmo curl -sS --http1.1 --cacert "$P256/ca.cert" --resolve "localhost:$2:127.0.0.1" \
        -o "$WORK/page" "https://localhost:$2/" 2>"$WORK/curl.err"
    _st=$?
    if [ "$_st" -eq 0 ] && grep -q '^Client certificate' "$WORK/page" &&
        grep -Eq -- "$3" "$WORK/page"; then
        ok "$1: the backend demanding a client certificate serves the page through moat, and names it"
    else
        not_ok "$1: the backend serves the page through moat" "curl exit $_st" "$WORK/curl.err" \
            "$WORK/page" "$WORK/ossl.err" "$MOAT_LOG"
    fi
}

page_via "ECDSA client certificate" "$L_EC" 'Subject: O ?= ?moat tests, CN ?= ?client-ecdsa\.test'
page_via "RSA client certificate" "$L_RSA" 'Subject: O ?= ?moat tests, CN ?= ?client-rsa\.test'

# Without a client certificate the backend handshake fails: no page, and the access log
# says why (moat's engine reports the backend's alert).
log_mark
tmo curl -sS --http1.1 --cacert "$P256/ca.cert" --resolve "localhost:$L_NONE:127.0.0.1" \
    -o "$WORK/none.page" -w '%{local_port}\n' "https://localhost:$L_NONE/" >"$WORK/none.w" 2>"$WORK/none.err"
NONE_ST=$?
LP=$(cat "$WORK/none.w")
if [ "$NONE_ST" -ne 0 ] && ! grep -q 'Ciphers supported' "$WORK/none.page" 2>/dev/null; then
    ok "no client certificate: curl gets no page (exit $NONE_ST)"
else
    not_ok "no client certificate: curl gets no page" "curl exit $NONE_ST" "$WORK/none.page"
fi
if wait_access " client=127\\.0\\.0\\.1:$LP " 5; then
    LINE=$(access_lines " client=127\\.0\\.0\\.1:$LP " | tail -n 1)
    if printf '%s\n' "$LINE" | grep -Eq 'end="[^"]*(certificate_required|handshake_failure|backend)'; then
        ok "no client certificate: access log end=\"$(field end "$LINE")\""
    else
        not_ok "no client certificate: the access log names the backend TLS failure" "line: $LINE"
    fi
else
    not_ok "no client certificate: access-log line for client port $LP" "$ACCESS_LOG"
fi
check_alive "moat still running"
stop_moat

# Config errors.
bad_conf() {
    cat >"$WORK/bad.yaml" <<EOF
listeners:
  - address: "127.0.0.1:$L_EC"
    certificates: [ $(cert_item ecdsa-p256 end) ]
    backend: b
backends:
  b: { servers: ["127.0.0.1:$P_OSSL"], tls: { $1 } }
EOF
    tmo "$MOAT" -t -c "$WORK/bad.yaml" >"$WORK/bad.out" 2>&1
    _st=$?
    if [ "$_st" -ne 0 ] && grep -Eq -- "$2" "$WORK/bad.out"; then
        ok "config: $3"
    else
        not_ok "config: $3" "exit $_st" "$WORK/bad.out"
    fi
}
bad_conf "cert: $CC/ecdsa.fullchain" \
    "bad\\.yaml:6:[0-9]+: a backend's client certificate needs both \"cert\" and \"key\"" \
    "cert without key is refused with file:line:column"
bad_conf "key: $CC/ecdsa.key" "needs both \"cert\" and \"key\"" "key without cert is refused"
bad_conf "cert: $CC/ecdsa.fullchain, key: $CC/rsa.key" \
    "bad\\.yaml:6:[0-9]+: client certificate: .*(match|Mismatch)" \
    "a key that does not match its certificate is refused"
bad_conf "cert: $WORK/missing.pem, key: $CC/ecdsa.key" "bad\\.yaml:6:[0-9]+: client certificate: .*missing\\.pem" \
    "a missing certificate file is refused, naming it"
finish
