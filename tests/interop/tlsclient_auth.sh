#!/bin/sh
# tlsclient presenting a client certificate (--auth-key KEY --auth-certs CERTS; issue 10,
# "client auth, client side"), with the client certificates of
# tests/certs/clientauth-client/ (tests/certs/mkclientauth.sh):
#  - openssl s_server -Verify 1 -verify_return_error -CAfile <client CA>, TLS 1.3 and
#    TLS 1.2, ECDSA P-256, RSA and Ed25519 client keys: the handshake completes, a line
#    comes back reversed, tlsclient exits 0, and s_server names the client's subject;
#  - the same server without --auth-*: the handshake fails cleanly (exit 1, one
#    "TLS error: AlertReceived(...)" line: certificate_required in TLS 1.3,
#    handshake_failure in TLS 1.2) and s_server saw no certificate;
#  - a server that trusts another CA: unknown_ca, reported the same way;
#  - gnutls-serv --require-client-cert, TLS 1.3 and 1.2: the echo comes back;
#  - usage: one of the two flags alone, a missing file, a key that does not match the
#    certificate: exit status and one clear sentence, and no connection attempted.
# In an engine without an Ed25519 back end (make CRYPTO=mbedtls, or MOAT_CRYPTO=mbedtls)
# the Ed25519 client key must instead be refused at startup with a clear error. Which
# mode applies is decided from the binary (is libsodium linked?) and MOAT_CRYPTO.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/tlsclient_lib.sh

CA=$CERTS/clientauth-client
KT=ecdsa-p256 # the server's own chain
SERVER_CA=$CERTS/$KT/ca.cert

need openssl gnutls-serv timeout python3 || finish
need_tlsclient || finish

if [ "${MOAT_CRYPTO:-}" = mbedtls ] || ! ldd "$TLSCLIENT" 2>/dev/null | grep -q libsodium; then
    MODE=mbedtls
    CLIENT_KEYS="ecdsa rsa"
else
    MODE=default
    CLIENT_KEYS="ecdsa rsa ed25519"
fi
diag "crypto mode: $MODE"

printf 'client auth line\n' >"$WORK/in"
printf 'enil htua tneilc\n' >"$WORK/want_rev"

# auth_args K: tlsclient's options presenting client key K.
auth_args() {
    echo "--auth-key $CA/$1.key --auth-certs $CA/$1.fullchain"
}

# run_client VERSION [ARGS...]: tlsclient to the current peer, $WORK/in on stdin.
run_client() {
    _rc_v=$1
    shift
    tc "$WORK/out" "$WORK/err" "$WORK/in" --protover "$_rc_v" --cafile "$SERVER_CA" \
        --connect 127.0.0.1 -p "$PEER_PORT" "$@" localhost
}

s_server_flag() {
    case $1 in 1.3) echo -tls1_3 ;; 1.2) echo -tls1_2 ;; esac
}

# ---- openssl s_server requiring a certificate ------------------------------------

for v in 1.3 1.2; do
    for k in $CLIENT_KEYS; do
        desc="TLS $v, $k client certificate, openssl s_server -Verify 1"
        start_openssl "$KT" -rev "$(s_server_flag "$v")" -Verify 1 -verify_return_error \
            -CAfile "$CA/ca.cert" || continue
        # shellcheck disable=SC2046 # auth_args is two options with their values
        run_client "$v" $(auth_args "$k")
        st=$?
        sleep_short
        stop_peer
        why=""
        [ "$st" -eq 0 ] || why="$why; exit status $st"
        cmp -s "$WORK/want_rev" "$WORK/out" || why="$why; the line did not come back reversed"
        grep -q "CN = client-$k.test" "$PEER_LOG" ||
            why="$why; s_server does not name the client's subject"
        if [ -z "$why" ]; then
            ok "$desc: accepted, s_server names CN=client-$k.test"
        else
            not_ok "$desc" "${why#; }" "$WORK/err" "$PEER_LOG"
        fi
    done
done

# ---- refusals: no certificate, or one from a CA the server does not trust ------------

# refused DESC ALERT VERSION [ARGS...]: the client must fail with exactly one line naming
# the server's alert, exit 1 (not a timeout), and have written nothing.
refused() {
    _r_desc=$1 _r_alert=$2
    shift 2
    run_client "$@"
    _r_st=$?
    sleep_short
    stop_peer
    _r_want="TLS error: AlertReceived($_r_alert)"
    if [ "$_r_st" -eq 1 ] && [ "$(cat "$WORK/err")" = "$_r_want" ] && [ ! -s "$WORK/out" ]; then
        ok "$_r_desc: '$_r_want'"
    else
        not_ok "$_r_desc" "exit status $_r_st (want 1), want stderr '$_r_want'" "$WORK/err" \
            "$PEER_LOG"
    fi
}

for v in 1.3 1.2; do
    case $v in 1.3) alert=certificate_required ;; 1.2) alert=handshake_failure ;; esac
    if start_openssl "$KT" -rev "$(s_server_flag "$v")" -Verify 1 -verify_return_error \
        -CAfile "$CA/ca.cert"; then
        refused "TLS $v, no --auth-*, openssl s_server -Verify 1 refuses" "$alert" "$v"
        if grep -q 'CN = client-' "$PEER_LOG"; then
            not_ok "TLS $v, no --auth-*: no client certificate was sent" "$PEER_LOG"
        else
            ok "TLS $v, no --auth-*: no client certificate was sent"
        fi
    fi
    # The server trusts only the server CA: our client CA is unknown to it.
    if start_openssl "$KT" -rev "$(s_server_flag "$v")" -Verify 1 -verify_return_error \
        -CAfile "$SERVER_CA"; then
        # shellcheck disable=SC2046
        refused "TLS $v, client certificate from a CA the server does not trust" unknown_ca \
            "$v" $(auth_args ecdsa)
    fi
done

# ---- gnutls-serv --require-client-cert ------------------------------------------

for v in 1.3 1.2; do
    for k in $CLIENT_KEYS; do
        desc="TLS $v, $k client certificate, gnutls-serv --require-client-cert"
        start_gnutls "$KT" --echo --require-client-cert --verify-client-cert \
            --x509cafile="$CA/ca.cert" || continue
        # shellcheck disable=SC2046
        run_client "$v" $(auth_args "$k")
        st=$?
        stop_peer
        if [ "$st" -eq 0 ] && cmp -s "$WORK/in" "$WORK/out"; then
            ok "$desc: echoed"
        else
            not_ok "$desc" "exit status $st" "$WORK/err" "$PEER_LOG"
        fi
    done
done

# ---- startup errors ---------------------------------------------------------------

# startup_error DESC STATUS ERE ARGS...: tlsclient must exit with STATUS, its first
# stderr line matching ERE, before connecting anywhere (port 1 would refuse).
startup_error() {
    _s_desc=$1 _s_want=$2 _s_ere=$3
    shift 3
    tc "$WORK/out" "$WORK/err" null --connect 127.0.0.1 -p 1 --cafile "$SERVER_CA" "$@" \
        localhost
    _s_st=$?
    _s_line=$(head -n 1 "$WORK/err")
    if [ "$_s_st" -eq "$_s_want" ] && printf '%s\n' "$_s_line" | grep -Eq -- "$_s_ere" &&
        ! grep -q 'connection error' "$WORK/err"; then
        ok "$_s_desc: exit $_s_st, '$_s_line'"
    else
        not_ok "$_s_desc" "exit status $_s_st (want $_s_want), first line '$_s_line' !~ /$_s_ere/" \
            "$WORK/err"
    fi
}

startup_error "--auth-key without --auth-certs" 2 'go together' --auth-key "$CA/ecdsa.key"
startup_error "--auth-certs without --auth-key" 2 'go together' --auth-certs "$CA/ecdsa.fullchain"
startup_error "--auth-key names a missing file" 1 "^tlsclient: client certificate: .*$WORK/nope" \
    --auth-key "$WORK/nope" --auth-certs "$CA/ecdsa.fullchain"
startup_error "--auth-certs names a missing file" 1 \
    "^tlsclient: client certificate: .*$WORK/nope" \
    --auth-key "$CA/ecdsa.key" --auth-certs "$WORK/nope"
startup_error "--auth-key does not match --auth-certs" 1 \
    '^tlsclient: client certificate: .*(match|KeyDoesNotMatchCertificate)' \
    --auth-key "$CA/rsa.key" --auth-certs "$CA/ecdsa.fullchain"
startup_error "--auth-certs is not a certificate file" 1 '^tlsclient: client certificate: ' \
    --auth-key "$CA/ecdsa.key" --auth-certs "$CA/ecdsa.key"
if [ "$MODE" = mbedtls ]; then
    startup_error "Ed25519 client key without an Ed25519 back end" 1 \
        '^tlsclient: client certificate: ' \
        --auth-key "$CA/ed25519.key" --auth-certs "$CA/ed25519.fullchain"
fi

finish
