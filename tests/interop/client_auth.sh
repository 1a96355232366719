#!/bin/sh
# Client authentication (mTLS) on the server: tlsserver --auth CAFILE (optional) and
# --require-auth (required), --crl FILE, against openssl s_client -cert/-key and
# curl --cert/--key, TLS 1.3 and TLS 1.2. A client with a valid certificate is served
# and the server logs its CN; without one, a required server refuses it with
# certificate_required (TLS 1.3, RFC 8446 §4.4.2.4) or handshake_failure (TLS 1.2,
# RFC 5246 §7.4.6) while an optional one serves it anonymously; a certificate from
# another CA gets unknown_ca; one a CRL lists gets certificate_revoked; an expired one
# certificate_expired; one without clientAuth unsupported_certificate; a resumed
# session (--tickets) keeps the client's CN. Test PKI:
# tests/certs/client-auth (mkclientauth.sh).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

need openssl curl || finish
KT=ecdsa-p256
CA=$CERTS/$KT/ca.cert
CC=$CERTS/client-auth

# s_client_auth DESC TLSV WANT_ALERT WANT_CN [S_CLIENT-ARGS...]: one connection echoing
# a line. WANT_ALERT "none": the echo must come back and the server must log
# "client certificate verified cn=WANT_CN" (WANT_CN "-": "no client certificate").
# Otherwise s_client must report alert number WANT_ALERT and nothing be echoed.
s_client_auth() {
    _desc=$1 _v=$2 _alert=$3 _cn=$4
    shift 4
    make_payload "$WORK/ca.in" 40
    log_mark
    openssl_echo "$WORK/ca.out" "$WORK/ca.err" "$WORK/ca.in" "-tls1_${_v#1.}" \
        -servername localhost -verify_return_error -verify_hostname localhost -CAfile "$CA" "$@"
    _st=$?
    _why=""
    if [ "$_alert" = none ]; then
        [ "$_st" -eq 0 ] || _why="$_why; s_client exit status $_st"
        cmp -s "$WORK/ca.in" "$WORK/ca.out" || _why="$_why; echo differs"
        if [ "$_cn" = - ]; then
            wait_log ': no client certificate$' || _why="$_why; no 'no client certificate' line"
        else
            wait_log "client certificate verified cn=$_cn \\(sent on this connection\\)" ||
                _why="$_why; no 'verified cn=$_cn' line"
        fi
    else
        _got=$(sed -n 's/.*SSL alert number \([0-9][0-9]*\).*/\1/p' "$WORK/ca.err" | head -n 1)
        [ "${_got:-none}" = "$_alert" ] || _why="$_why; alert ${_got:-none}, want $_alert"
        [ -s "$WORK/ca.out" ] && _why="$_why; data was echoed"
        wait_log "error .*\\(sent alert" || _why="$_why; no error line in the server log"
    fi
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/ca.err" "$SERVER_LOG"
    fi
}

cert() { # cert NAME: s_client arguments presenting NAME's chain
    echo "-cert $CC/$1.cert -key $CC/$1.key -cert_chain $CC/inter.cert"
}

for v in 1.3 1.2; do
    # ---- required ----
    start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose \
        --auth "$CC/ca.cert" --require-auth --crl "$CC/inter.crl.pem" echo || continue
    # shellcheck disable=SC2046 # cert prints a word list on purpose
    {
        s_client_auth "TLS $v required: client.test (P-256) is served, CN logged" $v none client.test $(cert client)
        s_client_auth "TLS $v required: rsa.client.test (RSA) is served, CN logged" $v none rsa.client.test $(cert client-rsa)
        if [ $v = 1.3 ]; then
            s_client_auth "TLS 1.3 required: no certificate -> certificate_required" $v 116 -
        else
            s_client_auth "TLS 1.2 required: no certificate -> handshake_failure" $v 40 -
        fi
        s_client_auth "TLS $v required: another CA's certificate -> unknown_ca" $v 48 - \
            -cert "$CC/other.cert" -key "$CC/other.key"
        s_client_auth "TLS $v required: a revoked certificate (--crl) -> certificate_revoked" $v 44 - $(cert revoked)
        s_client_auth "TLS $v required: an expired certificate -> certificate_expired" $v 45 - $(cert expired)
        s_client_auth "TLS $v required: serverAuth-only EKU -> unsupported_certificate" $v 43 - $(cert serveronly)
    }
    # curl presents the certificate too (HTTP over the echo server is not needed: the
    # http mode answers one request).
    stop_server
    start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose \
        --auth "$CC/ca.cert" --require-auth http || continue
    log_mark
    if tmo curl -sS --cacert "$CA" --tlsv$v --tls-max $v --cert "$CC/client.fullchain" \
        --key "$CC/client.key" "https://localhost:$SERVER_PORT/" -o "$WORK/curl.out" \
        2>"$WORK/curl.err" && [ -s "$WORK/curl.out" ] &&
        wait_log 'client certificate verified cn=client.test'; then
        ok "TLS $v required: curl --cert/--key is served, CN logged"
    else
        not_ok "TLS $v required: curl --cert/--key is served, CN logged" "$WORK/curl.err" "$SERVER_LOG"
    fi
    log_mark
    if tmo curl -sS --cacert "$CA" --tlsv$v --tls-max $v "https://localhost:$SERVER_PORT/" \
        -o "$WORK/curl.out" 2>"$WORK/curl.err"; then
        not_ok "TLS $v required: curl without a certificate is refused" "$WORK/curl.err"
    else
        ok "TLS $v required: curl without a certificate is refused"
    fi
    stop_server

    # ---- optional ----
    start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose \
        --auth "$CC/ca.cert" echo || continue
    # shellcheck disable=SC2046
    {
        s_client_auth "TLS $v optional: client.test is served, CN logged" $v none client.test $(cert client)
        s_client_auth "TLS $v optional: no certificate is served anonymously" $v none -
        s_client_auth "TLS $v optional: another CA's certificate -> unknown_ca" $v 48 - \
            -cert "$CC/other.cert" -key "$CC/other.key"
    }
    stop_server

    # ---- resumption keeps the identity ----
    start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose \
        --auth "$CC/ca.cert" --require-auth --tickets echo || continue
    SESSION_CA=$CA
    TLSV=$v
    rm -f "$WORK/sess"
    log_mark
    _why=""
    # shellcheck disable=SC2046
    s_client_session "$WORK/r1.out" -sess_out "$WORK/sess" $(cert client) ||
        _why="$_why; first echo failed"
    # shellcheck disable=SC2046
    s_client_session "$WORK/r2.out" -sess_in "$WORK/sess" $(cert client) ||
        _why="$_why; second echo failed"
    grep -q "^Reused, TLSv$v" "$WORK/r2.out" || _why="$_why; not reused"
    wait_log 'cn=client.test \(from the resumed session\)' ||
        _why="$_why; no 'from the resumed session' line"
    if [ -z "$_why" ]; then
        ok "TLS $v required: a resumed session keeps the client's CN"
    else
        not_ok "TLS $v required: a resumed session keeps the client's CN" "${_why#; }" \
            "$WORK/r2.out" "$SERVER_LOG"
    fi
    stop_server
done
finish
