#!/bin/sh
# Ed25519 server authentication (RFC 8446 4.2.3, RFC 8422 for TLS 1.2, RFC 8410 keys and
# certificates) with the ed25519 test CA (tests/certs/ed25519/):
#   - openssl s_client -sigalgs ed25519, TLS 1.3 and TLS 1.2, against tlsserver with
#     the Ed25519 chain and key (PKCS#8 PEM, and DER): verified, "Peer signature type:
#     Ed25519", an echoed line;
#   - gnutls-cli likewise (ed25519 only in its priority string), TLS 1.3 and 1.2;
#   - a client that does not offer ed25519 gets a handshake_failure alert;
#   - tlsclient against openssl s_server with the Ed25519 chain, TLS 1.3 and 1.2:
#     the chain verifies (Ed25519-signed certificates) and the handshake signature too.
# In an engine without an Ed25519 back end (make CRYPTO=mbedtls, or MOAT_CRYPTO=mbedtls)
# it checks instead that tlsserver refuses the key with a clear error, and that
# tlsclient refuses the Ed25519 server rather than accepting it unverified. Which mode
# applies is decided from the binary (is libsodium linked?) and MOAT_CRYPTO, never from
# what the server does.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/tlsclient_lib.sh

KT=ed25519
ED=$CERTS/$KT
CA=$ED/ca.cert

need openssl gnutls-cli timeout python3 || finish
need_tlsclient || finish

if [ "${MOAT_CRYPTO:-}" = mbedtls ] || ! ldd "$TLSSERVER" 2>/dev/null | grep -q libsodium; then
    MODE=mbedtls
else
    MODE=default
fi
diag "crypto: $MODE (tlsserver $TLSSERVER)"

# sc OUT ERR PROTO [S_CLIENT-ARGS...]: s_client with a line on stdin, then EOF.
sc() {
    _o=$1 _e=$2 _p=$3
    shift 3
    printf 'hello ed25519\n' | tmo openssl s_client -connect "127.0.0.1:$SERVER_PORT" \
        -CAfile "$CA" -servername localhost -verify_return_error -"$_p" -ign_eof "$@" \
        >"$_o" 2>"$_e"
}

# ---- the mbedTLS-only engine: a clear refusal ---------------------------------------------

if [ "$MODE" = mbedtls ]; then
    for key in end.key end.der.key; do
        out=$WORK/refuse.out err=$WORK/refuse.err
        tmo "$TLSSERVER" -p 0 --address 127.0.0.1 --certs "$ED/end.fullchain" --key "$ED/$key" \
            echo </dev/null >"$out" 2>"$err"
        st=$?
        if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && grep -q "Ed25519" "$err" &&
            grep -q "$key" "$err" && ! grep -q '^listening' "$out"; then
            ok "mbedTLS only: tlsserver refuses the Ed25519 key $key ($(head -n 1 "$err"))"
        else
            not_ok "mbedTLS only: tlsserver refuses the Ed25519 key $key with a clear error" \
                "exit status $st" "$err" "$out"
        fi
    done
    # tlsclient must not accept an Ed25519 server it cannot verify.
    for v in 1.3 1.2; do
        if start_openssl "$KT" -www -tls"$(echo "$v" | tr . _)"; then
            tc "$WORK/c.out" "$WORK/c.err" null --cafile "$CA" -p "$PEER_PORT" \
                --connect 127.0.0.1 --protover "$v" --http testserver.com
            st=$?
            if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && [ -z "$(handshake_line "$WORK/c.err")" ]; then
                ok "mbedTLS only: tlsclient refuses the Ed25519 server (TLS $v): $(head -n 1 "$WORK/c.err")"
            else
                not_ok "mbedTLS only: tlsclient refuses the Ed25519 server (TLS $v)" \
                    "exit status $st" "$WORK/c.err"
            fi
            stop_peer
        fi
    done
    finish
fi

# ---- tlsserver with the Ed25519 certificate -----------------------------------------------

for key in end.key end.der.key; do
    start_server --certs "$ED/end.fullchain" --key "$ED/$key" echo || continue
    for proto in tls1_3 tls1_2; do
        out=$WORK/sc-$proto.out err=$WORK/sc-$proto.err
        sc "$out" "$err" "$proto" -sigalgs ed25519
        why=""
        grep -qi '^Peer signature type: Ed25519' "$out" || why="$why; no 'Peer signature type: Ed25519'"
        grep -q 'Verify return code: 0 (ok)' "$out" || why="$why; chain not verified"
        grep -q '^hello ed25519$' "$out" || why="$why; line not echoed"
        case $proto in
        tls1_3) grep -q 'TLSv1.3' "$out" || why="$why; not TLS 1.3" ;;
        tls1_2) grep -q 'Protocol *: TLSv1.2' "$out" || why="$why; not TLS 1.2"
            grep -q 'ECDHE-ECDSA' "$out" || why="$why; not an ECDHE_ECDSA suite (RFC 8422 2)" ;;
        esac
        if [ -z "$why" ]; then
            ok "openssl s_client -$proto -sigalgs ed25519 -> tlsserver ($key): $(grep -i '^Peer signature type' "$out")"
        else
            not_ok "openssl s_client -$proto -sigalgs ed25519 -> tlsserver ($key)" "${why#; }" "$out" "$err" "$SERVER_LOG"
        fi
    done
    stop_server
done

start_server --certs "$ED/end.fullchain" --key "$ED/end.key" echo || finish

# A client without ed25519 in signature_algorithms: handshake_failure (both versions).
for proto in tls1_3 tls1_2; do
    out=$WORK/nosig-$proto.out err=$WORK/nosig-$proto.err
    sc "$out" "$err" "$proto" -sigalgs 'ECDSA+SHA256:RSA-PSS+SHA256'
    if grep -q 'alert handshake failure' "$err" && ! grep -q '^hello ed25519$' "$out"; then
        ok "openssl s_client -$proto without ed25519 -> handshake_failure"
    else
        not_ok "openssl s_client -$proto without ed25519 -> handshake_failure" "$err" "$out"
    fi
done

# gnutls-cli, offering only ed25519 as the signature algorithm.
for v in 1.3 1.2; do
    prio="NORMAL:-SIGN-ALL:+SIGN-EDDSA-ED25519:-VERS-ALL:+VERS-TLS$v"
    out=$WORK/gc-$v.out err=$WORK/gc-$v.err
    printf 'hello ed25519\n' | tmo gnutls-cli --x509cafile="$CA" --priority="$prio" \
        -p "$SERVER_PORT" localhost --verbose >"$out" 2>"$err"
    why=""
    grep -q 'Handshake was completed' "$out" || why="$why; no handshake"
    grep -qi 'EdDSA-Ed25519\|ED25519' "$out" || why="$why; Ed25519 not reported"

    if [ -z "$why" ]; then
        ok "gnutls-cli TLS $v, ed25519 only -> tlsserver: $(grep 'Server Signature' "$out" | head -n 1 | sed 's/^[- ]*//')"
    else
        not_ok "gnutls-cli TLS $v, ed25519 only -> tlsserver" "${why#; }" "$out" "$err"
    fi
done
stop_server

# ---- tlsclient against openssl s_server with the Ed25519 certificate ----------------------

for v in 1.3 1.2; do
    start_openssl "$KT" -www -tls"$(echo "$v" | tr . _)" || continue
    tc "$WORK/c.out" "$WORK/c.err" null --cafile "$CA" -p "$PEER_PORT" --connect 127.0.0.1 \
        --protover "$v" --http --verbose testserver.com
    st=$?
    line=$(handshake_line "$WORK/c.err")
    why=""
    [ "$st" -eq 0 ] || why="$why; exit status $st"
    case $line in *"version=TLSv$v "*) ;; *) why="$why; no TLSv$v handshake line" ;; esac
    grep -q '^HTTP/1.0 200 ok' "$WORK/c.out" || why="$why; no HTTP response"
    # s_server -www reports the signature algorithms we sent: ed25519 must be among them.
    grep -q '^Signature Algorithms:.*ed25519' "$WORK/c.out" || why="$why; ed25519 not offered"
    if [ -z "$why" ]; then
        ok "tlsclient TLS $v -> openssl s_server with the Ed25519 chain: $line"
    else
        not_ok "tlsclient TLS $v -> openssl s_server with the Ed25519 chain" "${why#; }" \
            "$WORK/c.err" "$WORK/c.out" "$PEER_LOG"
    fi
    stop_peer
done

# The same server verified against another CA: refused (the Ed25519 signatures are checked).
if start_openssl "$KT" -www; then
    tc "$WORK/c.out" "$WORK/c.err" null --cafile "$CERTS/ecdsa-p256/ca.cert" -p "$PEER_PORT" \
        --connect 127.0.0.1 --http testserver.com
    st=$?
    if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && grep -qi 'UnknownIssuer\|unknown' "$WORK/c.err"; then
        ok "tlsclient refuses the Ed25519 chain under another CA: $(head -n 1 "$WORK/c.err")"
    else
        not_ok "tlsclient refuses the Ed25519 chain under another CA" "exit status $st" "$WORK/c.err"
    fi
    stop_peer
fi

finish
