#!/bin/sh
# tlsclient against real servers: openssl s_server (-rev: each line comes back
# reversed), gnutls-serv --echo and our own tlsserver echo. Every handshake verifies the
# chain with --cafile tests/certs/KT/ca.cert for HOSTNAME localhost (--connect
# 127.0.0.1), sends a random payload and checks what comes back, the exit status 0 (the
# server's close_notify was seen) and the negotiated version, suite, group and
# HelloRetryRequest on the client's --verbose line.
#  - TLS 1.3: 3 key types x 3 suites x 3 groups per server. OpenSSL and GnuTLS are
#    restricted to the case's suite and group (the client offers its defaults, so a
#    group other than X25519 costs a HelloRetryRequest); tlsserver is not, the client
#    is (--suite, --group).
#  - TLS 1.2 (--protover 1.2): the 6 ECDHE suites x 3 groups x matching key types
#    (ECDHE_RSA with rsa2048, ECDHE_ECDSA with the two ECDSA chains); every server is
#    restricted to the group (RFC 8422 5.1: the client's groups also bound the ECDSA
#    certificate's curve), the client to the suite for tlsserver.
#  - Per server and key type, one ~100 KB payload through a pipe (many records each
#    way while stdin is still being read).
#  - --http against s_server -www, gnutls-serv --http and tlsserver http; ALPN, SNI
#    (--no-sni, IP literal), name resolution, --max-frag-size, empty input, 1 MB echo.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/tlsclient_lib.sh

# IANA name : rustls name (the client's log) : GnuTLS cipher
SUITES13="TLS_AES_128_GCM_SHA256:TLS13_AES_128_GCM_SHA256:AES-128-GCM
TLS_AES_256_GCM_SHA384:TLS13_AES_256_GCM_SHA384:AES-256-GCM
TLS_CHACHA20_POLY1305_SHA256:TLS13_CHACHA20_POLY1305_SHA256:CHACHA20-POLY1305"
# kx : OpenSSL name : GnuTLS cipher : IANA name (also the client's log name)
SUITES12="ECDSA:ECDHE-ECDSA-AES128-GCM-SHA256:AES-128-GCM:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
ECDSA:ECDHE-ECDSA-AES256-GCM-SHA384:AES-256-GCM:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
ECDSA:ECDHE-ECDSA-CHACHA20-POLY1305:CHACHA20-POLY1305:TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
RSA:ECDHE-RSA-AES128-GCM-SHA256:AES-128-GCM:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
RSA:ECDHE-RSA-AES256-GCM-SHA384:AES-256-GCM:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
RSA:ECDHE-RSA-CHACHA20-POLY1305:CHACHA20-POLY1305:TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
# Groups as openssl -groups and tlsclient --group take them.
KX_GROUPS="X25519 P-256 P-384"

log_group() {
    case $1 in X25519) echo X25519 ;; P-256) echo secp256r1 ;; P-384) echo secp384r1 ;; esac
}
gnutls_group() {
    case $1 in X25519) echo X25519 ;; P-256) echo SECP256R1 ;; P-384) echo SECP384R1 ;; esac
}
gnutls_only() { echo "-GROUP-ALL:+GROUP-$(gnutls_group "$1")"; }
key_kx() { case $1 in rsa2048) echo RSA ;; *) echo ECDSA ;; esac; }

# verdict DESC STATUS WANT_OUT WANT_HS_ERE [DIAG...]: the client run that wrote
# $WORK/out and $WORK/err must have exited 0, printed exactly WANT_OUT (a file) and
# logged a handshake line matching WANT_HS_ERE.
verdict() {
    _v_desc=$1 _v_st=$2 _v_want=$3 _v_ere=$4
    shift 4
    _v_why=""
    [ "$_v_st" -eq 0 ] || _v_why="$_v_why; tlsclient exit status $_v_st"
    cmp -s "$_v_want" "$WORK/out" || _v_why="$_v_why; output differs (want\
 $(file_size "$_v_want") bytes, got $(file_size "$WORK/out"))"
    _v_hs=$(handshake_line "$WORK/err")
    printf '%s\n' "$_v_hs" | grep -Eq -- "$_v_ere" ||
        _v_why="$_v_why; handshake '$_v_hs' !~ /$_v_ere/"
    if grep -q '^TLS error' "$WORK/err"; then
        _v_why="$_v_why; $(grep '^TLS error' "$WORK/err")"
    fi
    if [ -z "$_v_why" ]; then
        ok "$_v_desc"
    else
        not_ok "$_v_desc" "${_v_why#; }" "$WORK/err" "$@"
    fi
}

# hs_ere VERSION SUITE-LOGNAME GROUP HRR: the expected handshake line.
hs_ere() {
    echo "^version=$1 suite=$2 group=$(log_group "$3") sig=[a-z0-9_]+ alpn=- hrr=$4\$"
}

# client KT PAYLOAD [ARGS...]: the client as every matrix case runs it, stdin from a file
# (pipe when PAYLOAD is 100 KB or more, so both input paths are covered).
client() {
    _cl_kt=$1 _cl_pl=$2
    shift 2
    if [ "$(file_size "$_cl_pl")" -ge 102400 ]; then
        tc_pipe "$WORK/out" "$WORK/err" "$_cl_pl" --verbose -p "$PEER_PORT" \
            --connect 127.0.0.1 --cafile "$CERTS/$_cl_kt/ca.cert" "$@" localhost
    else
        tc "$WORK/out" "$WORK/err" "$_cl_pl" --verbose -p "$PEER_PORT" \
            --connect 127.0.0.1 --cafile "$CERTS/$_cl_kt/ca.cert" "$@" localhost
    fi
}

# openssl_case DESC KT BYTES ERE [S_SERVER-ARGS...]: s_server -rev; the output must be
# the payload with every line reversed.
openssl_case() {
    _oc_d=$1 _oc_k=$2 _oc_b=$3 _oc_e=$4
    shift 4
    make_payload "$WORK/in" "$_oc_b"
    rev <"$WORK/in" >"$WORK/want"
    start_openssl "$_oc_k" -rev "$@" || return
    client "$_oc_k" "$WORK/in"
    _oc_st=$?
    stop_peer
    verdict "$_oc_d" "$_oc_st" "$WORK/want" "$_oc_e" "$PEER_LOG"
}

# gnutls_case DESC KT BYTES ERE PRIORITY [CLIENT-ARGS...]: gnutls-serv --echo.
gnutls_case() {
    _gc_d=$1 _gc_k=$2 _gc_b=$3 _gc_e=$4 _gc_p=$5
    shift 5
    make_payload "$WORK/in" "$_gc_b"
    start_gnutls "$_gc_k" --echo -a --priority="$_gc_p" || return
    client "$_gc_k" "$WORK/in" "$@"
    _gc_st=$?
    stop_peer
    verdict "$_gc_d" "$_gc_st" "$WORK/in" "$_gc_e" "$PEER_LOG"
}

# ours_case DESC KT BYTES ERE [CLIENT-ARGS...]: the current tlsserver echo server.
ours_case() {
    _uc_d=$1 _uc_k=$2 _uc_b=$3 _uc_e=$4
    shift 4
    make_payload "$WORK/in" "$_uc_b"
    PEER_PORT=$SERVER_PORT
    client "$_uc_k" "$WORK/in" "$@"
    verdict "$_uc_d" $? "$WORK/in" "$_uc_e" "$SERVER_LOG"
}

need openssl gnutls-serv python3 rev timeout || finish
need_tlsclient || finish

# ---- TLS 1.3 ----------------------------------------------------------------------------
for kt in $KEY_TYPES; do
    for entry in $SUITES13; do
        IFS=: read -r iana rname gcipher <<EOF
$entry
EOF
        for g in $KX_GROUPS; do
            hrr=no
            [ "$g" = X25519 ] || hrr=yes
            openssl_case "1.3 openssl $kt $iana $g" "$kt" 64 \
                "$(hs_ere TLSv1.3 "$rname" "$g" "$hrr")" \
                -tls1_3 -ciphersuites "$iana" -groups "$g"
            gnutls_case "1.3 gnutls $kt $iana $g" "$kt" 64 \
                "$(hs_ere TLSv1.3 "$rname" "$g" "$hrr")" \
                "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+$gcipher:$(gnutls_only "$g")"
        done
    done
    if start_server --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" \
        --verbose echo; then
        for entry in $SUITES13; do
            IFS=: read -r iana rname gcipher <<EOF
$entry
EOF
            for g in $KX_GROUPS; do
                ours_case "1.3 tlsserver $kt $iana $g" "$kt" 64 \
                    "$(hs_ere TLSv1.3 "$rname" "$g" no)" --suite "$iana" --group "$g"
            done
        done
        ours_case "1.3 tlsserver $kt: 100 KB through a pipe" "$kt" 102400 '^version=TLSv1.3 '
        stop_server
    fi
    openssl_case "1.3 openssl $kt: 100 KB through a pipe" "$kt" 102400 '^version=TLSv1.3 ' -tls1_3
    gnutls_case "1.3 gnutls $kt: 100 KB through a pipe" "$kt" 102400 '^version=TLSv1.3 ' \
        "NORMAL:-VERS-ALL:+VERS-TLS1.3"
done

# ---- TLS 1.2 ----------------------------------------------------------------------------
for kt in $KEY_TYPES; do
    kx=$(key_kx "$kt")
    for entry in $SUITES12; do
        IFS=: read -r skx os gcipher iana <<EOF
$entry
EOF
        [ "$skx" = "$kx" ] || continue
        for g in $KX_GROUPS; do
            openssl_case "1.2 openssl $kt $os $g" "$kt" 64 "$(hs_ere TLSv1.2 "$iana" "$g" no)" \
                -tls1_2 -cipher "$os" -groups "$g"
            prio="NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-$kx:-CIPHER-ALL:+$gcipher"
            gnutls_case "1.2 gnutls $kt $os $g" "$kt" 64 "$(hs_ere TLSv1.2 "$iana" "$g" no)" \
                "$prio:$(gnutls_only "$g")" --protover 1.2
        done
    done
    # Here the server is restricted to the group: in TLS 1.2 the client's groups also say
    # which ECDSA certificate curves it takes (RFC 8422 5.1), so a client offering only
    # X25519 must be refused an ECDSA P-256 certificate.
    for g in $KX_GROUPS; do
        start_server --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" \
            --group "$g" --verbose echo || continue
        for entry in $SUITES12; do
            IFS=: read -r skx os gcipher iana <<EOF
$entry
EOF
            [ "$skx" = "$kx" ] || continue
            ours_case "1.2 tlsserver $kt $iana $g" "$kt" 64 \
                "$(hs_ere TLSv1.2 "$iana" "$g" no)" --protover 1.2 --suite "$iana"
        done
        if [ "$g" = P-384 ]; then
            ours_case "1.2 tlsserver $kt: 100 KB through a pipe" "$kt" 102400 \
                '^version=TLSv1.2 ' --protover 1.2
        fi
        stop_server
    done
    openssl_case "1.2 openssl $kt: 100 KB through a pipe" "$kt" 102400 '^version=TLSv1.2 ' -tls1_2
    gnutls_case "1.2 gnutls $kt: 100 KB through a pipe" "$kt" 102400 '^version=TLSv1.2 ' \
        "NORMAL:-VERS-ALL:+VERS-TLS1.2" --protover 1.2
done

# ---- --http ------------------------------------------------------------------------------
KT=ecdsa-p256
CA=$CERTS/$KT/ca.cert

# http_case DESC STATUS_LINE_ERE [CLIENT-ARGS...]: --http to the current peer.
http_case() {
    _hc_d=$1 _hc_sl=$2
    shift 2
    tc "$WORK/out" "$WORK/err" null --http --verbose -p "$PEER_PORT" --connect 127.0.0.1 \
        --cafile "$CA" "$@" localhost
    _hc_st=$?
    _hc_first=$(head -n 1 "$WORK/out" | tr -d '\r')
    if [ "$_hc_st" -eq 0 ] && printf '%s\n' "$_hc_first" | grep -Eq -- "$_hc_sl" &&
        ! grep -q '^TLS error' "$WORK/err"; then
        ok "$_hc_d -> $_hc_first"
    else
        not_ok "$_hc_d -> /$_hc_sl/" "status $_hc_st, first line '$_hc_first'" "$WORK/err" \
            "$WORK/out" "$PEER_LOG"
    fi
}

for v in 1.3 1.2; do
    if start_openssl "$KT" -www; then
        http_case "--http --protover $v: openssl s_server -www" '^HTTP/1\.[01] 200 ' --protover "$v"
        stop_peer
    fi
    if start_gnutls "$KT" --http -a; then
        http_case "--http --protover $v: gnutls-serv --http" '^HTTP/1\.[01] 200 ' --protover "$v"
        stop_peer
    fi
done
if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose http; then
    PEER_PORT=$SERVER_PORT PEER_LOG=$SERVER_LOG
    http_case "--http: tlsserver http" '^HTTP/1\.1 200 OK$'
    if grep -q '^Hello from moat tlsserver' "$WORK/out"; then
        ok "--http: tlsserver's body arrives whole"
    else
        not_ok "--http: tlsserver's body arrives whole" "$WORK/out"
    fi
    stop_server
fi

# ---- ALPN, SNI, names, fragments, sizes (tlsserver echo) ---------------------------------
# ours_log DESC ERE: the tlsserver log line of the last connection matches ERE.
ours_log() {
    if wait_log "$2" 3; then
        ok "$1"
    else
        not_ok "$1" "no server log line matching /$2/" "$SERVER_LOG"
    fi
}

if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" \
    --proto h2 --proto http/1.1 --verbose echo; then
    log_mark
    ours_case "ALPN: --proto http/1.1 agreed" "$KT" 64 ' alpn=http/1.1 ' --proto foo \
        --proto http/1.1
    log_mark
    ours_case "ALPN: server preference wins (h2)" "$KT" 64 ' alpn=h2 ' --proto http/1.1 \
        --proto h2
    log_mark
    ours_case "SNI: localhost sent by default" "$KT" 64 '^version='
    ours_log "SNI: server saw sni=localhost" ' sni=localhost '
    log_mark
    ours_case "SNI: --no-sni still verifies localhost" "$KT" 64 '^version=' --no-sni
    ours_log "SNI: server saw no name with --no-sni" ' sni=- '
    log_mark
    make_payload "$WORK/in" 64
    PEER_PORT=$SERVER_PORT
    tc "$WORK/out" "$WORK/err" "$WORK/in" --verbose -p "$SERVER_PORT" --cafile "$CA" 127.0.0.1
    verdict "IP literal HOSTNAME 127.0.0.1 (IP SAN) connects and verifies" $? "$WORK/in" \
        '^version=' "$SERVER_LOG"
    ours_log "SNI: none sent for an IP literal" ' sni=- '
    make_payload "$WORK/in" 64
    tc "$WORK/out" "$WORK/err" "$WORK/in" --verbose -p "$SERVER_PORT" --cafile "$CA" localhost
    verdict "no --connect: localhost resolved (addresses tried in turn)" $? "$WORK/in" \
        '^version=' "$SERVER_LOG"
    ours_case "--max-frag-size 512: 20 KB echoed" "$KT" 20480 '^version=' --max-frag-size 512
    ours_case "--max-frag-size 512 --protover 1.2: 20 KB echoed" "$KT" 20480 \
        '^version=TLSv1.2 ' --max-frag-size 512 --protover 1.2
    : >"$WORK/empty"
    tc "$WORK/out" "$WORK/err" null --verbose -p "$SERVER_PORT" --connect 127.0.0.1 \
        --cafile "$CA" localhost
    verdict "stdin /dev/null: handshake, close_notify both ways, exit 0" $? "$WORK/empty" \
        '^version=' "$SERVER_LOG"
    make_payload "$WORK/big" 1048576
    tc_pipe "$WORK/out" "$WORK/err" "$WORK/big" --verbose -p "$SERVER_PORT" --connect 127.0.0.1 \
        --cafile "$CA" localhost
    verdict "1 MB echoed through pipes (backpressure both ways)" $? "$WORK/big" '^version=' \
        "$SERVER_LOG"
    check_alive "tlsserver still running after the client cases"
    stop_server
fi
if start_openssl "$KT" -rev -alpn h2,http/1.1; then
    make_payload "$WORK/in" 64
    rev <"$WORK/in" >"$WORK/want"
    client "$KT" "$WORK/in" --proto http/1.1
    _x_st=$?
    stop_peer
    verdict "ALPN with openssl s_server -alpn: http/1.1" "$_x_st" "$WORK/want" ' alpn=http/1.1 ' \
        "$PEER_LOG"
fi
# A server that asks for a client certificate (gnutls-serv's default): we have none to
# give and say so with an empty Certificate message.
make_payload "$WORK/in" 64
if start_gnutls "$KT" --echo; then
    client "$KT" "$WORK/in"
    _x_st=$?
    stop_peer
    verdict "gnutls-serv requesting a client certificate: empty Certificate, echo works" \
        "$_x_st" "$WORK/in" '^version=TLSv1.3 ' "$PEER_LOG"
fi
if start_gnutls "$KT" --echo --priority=NORMAL:-VERS-ALL:+VERS-TLS1.2; then
    client "$KT" "$WORK/in" --protover 1.2
    _x_st=$?
    stop_peer
    verdict "gnutls-serv requesting a client certificate, TLS 1.2: echo works" \
        "$_x_st" "$WORK/in" '^version=TLSv1.2 ' "$PEER_LOG"
fi

finish
