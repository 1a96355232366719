#!/bin/sh
# moat resumes client sessions, TLS 1.3 and TLS 1.2, as tls.tickets and
# tls.session_cache allow. Each case is a pair of connections through moat to a
# plain backend: `openssl s_client -sess_out` then `-sess_in`, the second "Reused" or
# "New"; both get the backend's answer; moat's access log says resumed=no for the
# first and resumed=yes (or no) for the second, with the right version=.
#  - Defaults (tickets on, session_cache 20000): TLS 1.3 Reused; TLS 1.2 Reused with
#    an RFC 5077 ticket (s_client's default) and with a session ID (-no_ticket).
#  - tickets: { enabled: true, rotate: 1h }: the same for TLS 1.3.
#  - tickets on, session_cache 0: TLS 1.3 and TLS 1.2 tickets Reused; a TLS 1.2
#    -no_ticket client has nothing to resume (New).
#  - tickets off, cache on: TLS 1.3 still Reused (stateful tickets naming a cache
#    entry); TLS 1.2 -no_ticket Reused (session ID), and a client asking for a ticket
#    gets a session ID instead (Reused).
#  - both off: New for TLS 1.3 (no ticket is issued) and TLS 1.2 (with and without
#    -no_ticket).
#  - `gnutls-cli --resume` reports "This is a resumed session" with the defaults for
#    TLS 1.3, TLS 1.2 tickets and TLS 1.2 session IDs (%NO_TICKETS), and moat's
#    access log has resumed=no then resumed=yes; with both off it is not resumed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need openssl gnutls-cli python3 timeout || finish
need_binaries || finish

start_backend web || finish
P_WEB=$BACKEND_PORT
CONF_SEQ=0

# start_conf LABEL TLS-LINE: moat with TLS-LINE (a top-level tls: mapping, or empty),
# one listener on port L, its own access log ($ACCESS_LOG).
start_conf() {
    CONF_SEQ=$((CONF_SEQ + 1))
    LABEL=$1
    L=$(free_ports 1)
    ACCESS_LOG=$WORK/access-$CONF_SEQ-$1.log
    : >"$ACCESS_LOG"
    conf=$WORK/moat-$CONF_SEQ-$1.yaml
    cat >"$conf" <<EOC
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 3s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
$2
listeners:
  - address: "127.0.0.1:$L"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: web
backends:
  web: { servers: ["127.0.0.1:$P_WEB"] }
EOC
    start_moat "$conf" 1
}

# access_nth N: the Nth line of the current access log, waiting up to 5 s for it.
access_nth() {
    wait_access ' access: ' 5 "$1" && access_lines ' access: ' | sed -n "$1p"
}

# check_access DESC LINE1 LINE2 VERSION WANT2(yes|no) [ENDS]: the first connection's
# access line says resumed=no, the second's resumed=WANT2, both version=VERSION and,
# unless ENDS is "any", end="closed".
check_access() {
    ca_got="$(field resumed "$2") $(field resumed "$3") $(field version "$2") $(field version "$3")"
    ca_want="no $5 $4 $4"
    ca_what="$4"
    if [ "${6:-}" != any ]; then
        ca_got="$ca_got $(field end "$2") $(field end "$3")"
        ca_want="$ca_want closed closed"
        ca_what="$4, end=\"closed\""
    fi
    expect_eq "$1: access log resumed=no, then resumed=$5 ($ca_what)" "$ca_got" "$ca_want" \
        "first:  $2" "second: $3"
}

# ossl_get OUT S_CLIENT-ARGS...: GET / through moat with s_client (full output: it says
# "New," or "Reused,"); -ign_eof reads until the backend's answer has ended the
# connection, so TLS 1.3 tickets (sent after the handshake) have arrived.
ossl_get() {
    og_out=$1
    shift
    printf 'GET / HTTP/1.0\r\n\r\n' | tmo openssl s_client -connect "127.0.0.1:$L" \
        -servername localhost -CAfile "$CA" -verify_return_error -ign_eof "$@" >"$og_out" 2>&1
}

# ossl_pair DESC VERSION(1.2|1.3) WANT(Reused|New) [S_CLIENT-ARGS...]: two connections to
# the current moat, the second offering the session the first saved.
ossl_pair() {
    op_d="$LABEL: TLS $2: $1" op_v=$2 op_want=$3
    shift 3
    op_t=$WORK/$CONF_SEQ-$(echo "$op_d" | tr -c 'A-Za-z0-9\n' '_')
    sess=$op_t.sess
    rm -f "$sess"
    n0=$(access_count ' access: ')
    ossl_get "$op_t.first" "-tls1_${op_v#1.}" -sess_out "$sess" "$@"
    l1=$(access_nth $((n0 + 1)))
    # No ticket or session ID: s_client may keep no session, or a session nothing
    # on the server side names. Either way the next handshake must be a full one.
    if [ -s "$sess" ]; then
        ossl_get "$op_t.second" "-tls1_${op_v#1.}" -sess_in "$sess" "$@"
    else
        ossl_get "$op_t.second" "-tls1_${op_v#1.}" "$@"
    fi
    l2=$(access_nth $((n0 + 2)))
    if grep -q "hello from web" "$op_t.first" && grep -q "hello from web" "$op_t.second" &&
        grep -q "^New, TLSv$op_v," "$op_t.first"; then
        ok "$op_d: both connections reach the backend, the first is New, TLSv$op_v"
    else
        not_ok "$op_d: both connections reach the backend, the first is New, TLSv$op_v" \
            "$op_t.first" "$op_t.second" "$MOAT_LOG"
    fi
    if grep -q "^Reused, TLSv$op_v," "$op_t.second"; then
        op_got=Reused
    elif grep -q "^New, TLSv$op_v," "$op_t.second"; then
        op_got=New
    else
        op_got=neither
    fi
    if [ "$op_got" = "$op_want" ]; then
        ok "$op_d: second connection is $op_want$([ -s "$sess" ] || echo ' (no session was saved)')"
    else
        not_ok "$op_d: second connection is $op_want (got $op_got)" "$op_t.second"
    fi
    op_r=no
    [ "$op_want" = Reused ] && op_r=yes
    check_access "$op_d" "$l1" "$l2" "TLSv$op_v" "$op_r"
}

# gnutls_pair DESC PRIORITY WANT(yes|no): gnutls-cli --resume (a full handshake, then a
# second connection offering its session) sends GET / on the second connection; stdin
# stays open until the answer is back.
gnutls_pair() {
    gp_d="$LABEL: gnutls-cli --resume, $1" gp_want=$3
    gp_t=$WORK/$CONF_SEQ-$(echo "$gp_d" | tr -c 'A-Za-z0-9\n' '_')
    n0=$(access_count ' access: ')
    : >"$gp_t.out"
    # shellcheck disable=SC2094 # waiting on the output while it is written is the point
    {
        printf 'GET / HTTP/1.0\r\n\r\n'
        wait_for_text "$gp_t.out" "hello from web" "$CLIENT_TIMEOUT"
    } | tmo gnutls-cli --logfile="$gp_t.info" --resume --x509cafile="$CA" --port="$L" \
        --sni-hostname=localhost --verify-hostname=localhost --priority="$2" 127.0.0.1 \
        >"$gp_t.out" 2>"$gp_t.err"
    gp_st=$?
    gp_why=""
    grep -q "hello from web" "$gp_t.out" || gp_why="$gp_why; no answer from the backend (exit $gp_st)"
    if grep -q 'This is a resumed session' "$gp_t.info" "$gp_t.err" 2>/dev/null; then
        [ "$gp_want" = yes ] || gp_why="$gp_why; resumed"
    else
        [ "$gp_want" = no ] || gp_why="$gp_why; no 'This is a resumed session'"
    fi
    if [ -z "$gp_why" ]; then
        ok "$gp_d: $([ "$gp_want" = yes ] && echo 'This is a resumed session' || echo 'not resumed'), the backend answered"
    else
        not_ok "$gp_d: $([ "$gp_want" = yes ] && echo 'resumed' || echo 'not resumed'), the backend answered" \
            "${gp_why#; }" "$gp_t.info" "$gp_t.err" "$gp_t.out" "$MOAT_LOG"
    fi
    # Two connections, so two access lines (the first ended before the second began).
    # gnutls-cli leaves without close_notify once the peer has closed, so the second
    # line's end= is "client closed without close_notify": not checked.
    l1=$(access_nth $((n0 + 1)))
    l2=$(access_nth $((n0 + 2)))
    gp_v=TLSv1.3
    case $2 in *+VERS-TLS1.2*) gp_v=TLSv1.2 ;; esac
    check_access "$gp_d" "$l1" "$l2" "$gp_v" "$gp_want" any
}

G13="NORMAL:-VERS-ALL:+VERS-TLS1.3"
G12="NORMAL:-VERS-ALL:+VERS-TLS1.2"

if start_conf default ""; then
    ossl_pair "openssl s_client -sess_out/-sess_in" 1.3 Reused
    ossl_pair "RFC 5077 ticket (s_client default)" 1.2 Reused
    ossl_pair "session ID (-no_ticket)" 1.2 Reused -no_ticket
    gnutls_pair "TLS 1.3" "$G13" yes
    gnutls_pair "TLS 1.2 ticket" "$G12" yes
    gnutls_pair "TLS 1.2 session ID (%NO_TICKETS)" "$G12:%NO_TICKETS" yes
    check_alive "$LABEL: moat still running"
    stop_moat
fi
if start_conf enabled "tls: { tickets: { enabled: true, rotate: 1h } }"; then
    ossl_pair "openssl s_client -sess_out/-sess_in" 1.3 Reused
    stop_moat
fi
# Tickets alone (stateless): no session IDs for TLS 1.2.
if start_conf tickets-only "tls: { session_cache: 0 }"; then
    ossl_pair "openssl s_client -sess_out/-sess_in" 1.3 Reused
    ossl_pair "RFC 5077 ticket (s_client default)" 1.2 Reused
    ossl_pair "-no_ticket: no session ID to resume" 1.2 New -no_ticket
    stop_moat
fi
# With tickets off, TLS 1.3 still resumes through the session cache (stateful tickets
# naming a cache entry), TLS 1.2 through session IDs, unless the cache is off too.
if start_conf cache-only "tls: { tickets: { enabled: false } }"; then
    ossl_pair "openssl s_client -sess_out/-sess_in" 1.3 Reused
    ossl_pair "session ID (-no_ticket)" 1.2 Reused -no_ticket
    ossl_pair "a client asking for a ticket gets a session ID" 1.2 Reused
    stop_moat
fi
if start_conf disabled "tls: { tickets: { enabled: false }, session_cache: 0 }"; then
    ossl_pair "nothing to resume" 1.3 New
    ossl_pair "nothing to resume" 1.2 New
    ossl_pair "-no_ticket: nothing to resume" 1.2 New -no_ticket
    gnutls_pair "TLS 1.3" "$G13" no
    gnutls_pair "TLS 1.2" "$G12" no
    stop_moat
fi
finish
