#!/bin/sh
# moat: client certificates on a listener (issue 10). A listener with
# client_auth: { mode: required, ca: client-auth CA, crl: the intermediate's CRL } in
# front of build/backend --proxy-protocol, reached over PROXY v2:
#   - openssl s_client -cert/-key and curl --cert/--key get through, and the backend
#     sees the client's CN and the certificate bits in the PROXY v2 SSL TLV; the
#     access log says client_cert=conn client_cn="client.test";
#   - without a certificate: certificate_required (TLS 1.3), handshake_failure (1.2);
#   - a certificate from another CA: unknown_ca; a revoked one: certificate_revoked;
#   - mode optional lets an anonymous client through (client_cert=none);
#   - a resumed session keeps the identity (client_cert=session in the TLV and log);
#   - config errors: no ca, early_data together with client_auth.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need curl openssl timeout || finish
need_binaries || finish

CA_DIR=$CERTS/client-auth
P256=$CERTS/ecdsa-p256

start_backend pp --proxy-protocol || finish
P_B=$BACKEND_PORT
set -- $(free_ports 2)
P_REQ=$1 P_OPT=$2
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF
workers: 1
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 5s, idle: 10s, connect: 2s, drain: 1s }
listeners:
  - address: "127.0.0.1:$P_REQ"
    certificates: [ $(cert_item ecdsa-p256 end) ]
    client_auth: { mode: required, ca: $CA_DIR/ca.cert, crl: [ $CA_DIR/inter.crl.pem ] }
    backend: pp
  - address: "127.0.0.1:$P_OPT"
    certificates: [ $(cert_item ecdsa-p256 end) ]
    client_auth: { mode: optional, ca: $CA_DIR/ca.cert }
    backend: pp
backends:
  pp: { servers: ["127.0.0.1:$P_B"], proxy_protocol: v2 }
EOF
start_moat "$CONF" 2 || finish

# s_get PORT OUT [S_CLIENT-ARGS...]: GET / through openssl s_client; sets S_ST.
s_get() {
    _port=$1 _out=$2
    shift 2
    printf 'GET /proxy HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
        tmo openssl s_client -connect "127.0.0.1:$_port" -servername localhost -CAfile "$P256/ca.cert" \
            -ign_eof "$@" >"$_out" 2>"$_out.err"
    S_ST=$?
}

# Required mode, a good certificate, TLS 1.3 and 1.2.
for v in tls1_3 tls1_2; do
    s_get "$P_REQ" "$WORK/good.$v" -$v -cert "$CA_DIR/client.cert" -cert_chain "$CA_DIR/inter.cert" \
        -key "$CA_DIR/client.key" -sess_out "$WORK/sess.$v"
    if grep -q '^tls_client_cert: conn session verify=0$' "$WORK/good.$v" &&
        grep -q '^tls_cn: client\.test$' "$WORK/good.$v"; then
        ok "$v, required, good certificate: the backend sees CN client.test, conn+session, verify 0"
    else
        not_ok "$v, required, good certificate: the backend sees the client's CN" "exit $S_ST" \
            "$WORK/good.$v" "$WORK/good.$v.err" "$MOAT_LOG"
    fi
done
if wait_access 'client_cert=conn client_cn="client\.test"' 5 2; then
    ok "access log: client_cert=conn client_cn=\"client.test\" (twice)"
else
    not_ok "access log names the client certificate" "$ACCESS_LOG"
fi

# curl --cert/--key.
tmo curl -sS --http1.1 --cacert "$P256/ca.cert" --resolve "localhost:$P_REQ:127.0.0.1" \
    --cert "$CA_DIR/client.fullchain" --key "$CA_DIR/client.key" -o "$WORK/curl.out" \
    "https://localhost:$P_REQ/proxy" 2>"$WORK/curl.err"
if grep -q '^tls_cn: client\.test$' "$WORK/curl.out"; then
    ok "curl --cert/--key, required: the backend sees CN client.test"
else
    not_ok "curl --cert/--key gets through" "$WORK/curl.out" "$WORK/curl.err"
fi

# Resumption keeps the identity (TLS 1.3 ticket from the first connection).
s_get "$P_REQ" "$WORK/resumed" -tls1_3 -sess_in "$WORK/sess.tls1_3"
if grep -q '^Reused, TLSv1.3' "$WORK/resumed" &&
    grep -q '^tls_client_cert: session verify=0$' "$WORK/resumed" &&
    grep -q '^tls_cn: client\.test$' "$WORK/resumed"; then
    ok "resumed session without sending the certificate again: session bit, CN kept"
else
    not_ok "resumed session keeps the identity" "$WORK/resumed" "$WORK/resumed.err"
fi

# refused DESC WANT-ALERT-ERE S_CLIENT-ARGS...: the handshake fails with that alert and
# nothing reaches the backend.
refused() {
    _desc=$1 _want=$2
    shift 2
    s_get "$P_REQ" "$WORK/ref" "$@"
    if grep -Eq -- "$_want" "$WORK/ref.err" && ! grep -q '^tls_' "$WORK/ref"; then
        ok "$_desc: $(grep -Eo -- "$_want" "$WORK/ref.err" | head -n 1)"
    else
        not_ok "$_desc: alert $_want" "exit $S_ST" "$WORK/ref" "$WORK/ref.err"
    fi
}
refused "TLS 1.3, no certificate" 'alert (certificate required|number 116)' -tls1_3
refused "TLS 1.2, no certificate" 'alert handshake failure' -tls1_2
refused "TLS 1.3, certificate from another CA" 'alert unknown ca' -tls1_3 \
    -cert "$CA_DIR/other.cert" -key "$CA_DIR/other.key"
refused "TLS 1.3, revoked certificate (in the CRL)" 'alert certificate revoked' -tls1_3 \
    -cert "$CA_DIR/revoked.cert" -cert_chain "$CA_DIR/inter.cert" -key "$CA_DIR/revoked.key"

# Optional mode: anonymous clients get through without the certificate TLV bits.
s_get "$P_OPT" "$WORK/anon" -tls1_3
if grep -q '^tls_version: TLSv1.3$' "$WORK/anon" && ! grep -q '^tls_client_cert' "$WORK/anon"; then
    ok "optional mode, no certificate: served, no client-certificate bits"
else
    not_ok "optional mode lets an anonymous client through" "$WORK/anon" "$WORK/anon.err"
fi
if wait_access "listener=127\\.0\\.0\\.1:$P_OPT .*client_cert=none client_cn=- " 5; then
    ok "access log: client_cert=none client_cn=- for the anonymous client"
else
    not_ok "access log says client_cert=none" "$ACCESS_LOG"
fi
check_alive "moat still running"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# Config errors.
bad_conf() {
    cat >"$WORK/bad.yaml" <<EOF
listeners:
  - address: "127.0.0.1:$P_REQ"
    certificates: [ $(cert_item ecdsa-p256 end) ]
    client_auth: { $1 }
    backend: pp
$2
backends:
  pp: { servers: ["127.0.0.1:$P_B"] }
EOF
    tmo "$MOAT" -t -c "$WORK/bad.yaml" >"$WORK/bad.out" 2>&1
    _st=$?
    if [ "$_st" -ne 0 ] && grep -Eq -- "$3" "$WORK/bad.out"; then
        ok "config: $4"
    else
        not_ok "config: $4" "exit $_st" "$WORK/bad.out"
    fi
}
bad_conf "mode: required" "" 'bad\.yaml:4:[0-9]+: missing required key "ca" in client_auth' \
    "required without ca is refused at its line"
bad_conf "mode: sometimes, ca: $CA_DIR/ca.cert" "" 'bad\.yaml:4:[0-9]+: .*sometimes' \
    "an unknown mode is refused, naming it"
bad_conf "ca: $WORK/missing.pem" "" 'bad\.yaml:4:[0-9]+: client_auth ca: .*missing\.pem' \
    "a missing CA file is refused, naming it"
bad_conf "ca: $CA_DIR/ca.cert" "    early_data: true" \
    'bad\.yaml:6:[0-9]+: "early_data" cannot be used with "client_auth"' \
    "early_data together with client_auth is refused"
finish
