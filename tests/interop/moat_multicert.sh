#!/bin/sh
# moat: several certificates for the same names (issue 10). One listener serves RSA-2048
# and ECDSA P-256 certificates for the same names; RSA is listed first, to show that the
# order in the config does not decide. openssl s_client picks what it offers:
#   - a client offering only ECDSA schemes (or, in TLS 1.2, only ECDHE_ECDSA suites) gets
#     the ECDSA certificate, one offering only RSA gets the RSA certificate;
#   - a client offering both gets ECDSA (the smaller, cheaper handshake);
#   - the same holds without SNI (the default certificates) and through wildcard names.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need openssl timeout || finish
need_binaries || finish

start_backend web || finish
P_WEB=$BACKEND_PORT
set -- $(free_ports 1)
PORT=$1
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF
workers: 1
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 5s, idle: 30s, connect: 2s, drain: 2s }
listeners:
  - address: "127.0.0.1:$PORT"
    certificates:
      - $(cert_item rsa2048 end)
      - $(cert_item ecdsa-p256 end)
    backend: web
backends:
  web: { servers: ["127.0.0.1:$P_WEB"] }
EOF

tmo "$MOAT" -t -c "$CONF" >"$WORK/t.out" 2>&1
expect_eq "moat -t: two certificates for one listener" "$(cat "$WORK/t.out")" \
    "moat: $CONF is valid: 1 listeners, 1 backends, 2 certificates loaded"
start_moat "$CONF" || finish

# served DESC WANT(ECDSA|RSA) S_CLIENT-ARGS...: the handshake verifies against the test
# CA of WANT's key type, and s_client reports that key type for the server.
served() {
    _desc=$1 _want=$2
    shift 2
    if [ "$_want" = ECDSA ]; then
        _ca=$CERTS/ecdsa-p256/ca.cert _bits='256 bit' _sig='ECDSA'
    else
        _ca=$CERTS/rsa2048/ca.cert _bits='2048 bit' _sig='RSA(-PSS)?'
    fi
    tmo openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$_ca" -verify_return_error "$@" \
        </dev/null >"$WORK/s.out" 2>"$WORK/s.err"
    _st=$?
    if [ "$_st" -eq 0 ] && grep -q "Server public key is $_bits" "$WORK/s.out" &&
        grep -Eq "^Peer signature type: $_sig\$" "$WORK/s.out" &&
        grep -q 'Verify return code: 0 (ok)' "$WORK/s.out"; then
        ok "$_desc -> $_want certificate"
    else
        not_ok "$_desc -> $_want certificate" "s_client exit $_st" "$WORK/s.out" "$WORK/s.err"
    fi
}

served "TLS 1.3, SNI localhost, ECDSA schemes only" ECDSA -tls1_3 -servername localhost \
    -sigalgs ecdsa_secp256r1_sha256
served "TLS 1.3, SNI localhost, RSA schemes only" RSA -tls1_3 -servername localhost \
    -sigalgs rsa_pss_rsae_sha256:rsa_pss_rsae_sha384
served "TLS 1.3, SNI localhost, both (RSA listed first by the client)" ECDSA -tls1_3 \
    -servername localhost -sigalgs rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256
served "TLS 1.3, no SNI, RSA schemes only" RSA -tls1_3 -noservername -sigalgs rsa_pss_rsae_sha256
served "TLS 1.3, no SNI, both" ECDSA -tls1_3 -noservername
served "TLS 1.3, wildcard name a.wild.test, RSA schemes only" RSA -tls1_3 \
    -servername a.wild.test -sigalgs rsa_pss_rsae_sha256
served "TLS 1.2, ECDHE_RSA suite only" RSA -tls1_2 -servername localhost \
    -cipher ECDHE-RSA-AES128-GCM-SHA256
served "TLS 1.2, ECDHE_ECDSA suite only" ECDSA -tls1_2 -servername localhost \
    -cipher ECDHE-ECDSA-AES128-GCM-SHA256
served "TLS 1.2, both suites, RSA schemes only" RSA -tls1_2 -servername localhost \
    -sigalgs RSA+SHA256:RSA-PSS+SHA256
served "TLS 1.2, both suites and schemes" ECDSA -tls1_2 -servername localhost

# A client that can use neither gets a clean handshake failure, not a crash.
tmo openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -servername localhost \
    -sigalgs ecdsa_secp384r1_sha384 </dev/null >"$WORK/n.out" 2>"$WORK/n.err"
if grep -q 'alert handshake failure' "$WORK/n.err"; then
    ok "TLS 1.3, only ECDSA P-384 schemes: handshake_failure alert"
else
    not_ok "TLS 1.3, only ECDSA P-384 schemes: handshake_failure alert" "$WORK/n.out" "$WORK/n.err"
fi
check_alive "moat still running"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
finish
