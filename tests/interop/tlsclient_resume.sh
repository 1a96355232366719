#!/bin/sh
# tlsclient's session resumption and 0-RTT (--cache FILE, --no-tickets, --early-data FILE)
# against real servers. Each case runs tlsclient twice with one cache file: the first
# connection must say "full handshake" on its --verbose output, the second "resumed";
# both must echo their payload correctly and exit 0 (the server's close_notify).
#  - openssl s_server -rev: TLS 1.3 tickets; TLS 1.2 RFC 5077 tickets; TLS 1.2 session
#    IDs (-no_ticket, or tlsclient --no-tickets); a P-384-only server (the first
#    connection needs a HelloRetryRequest, the resumed one not: the ticket remembers
#    the group).
#  - gnutls-serv --echo: TLS 1.3 and TLS 1.2.
#  - tlsserver echo: --tickets (TLS 1.3 and 1.2) and --resumption (TLS 1.2 session
#    IDs); its --verbose line must say resumed=yes.
#  - 0-RTT: openssl s_server -early_data (stdin held open through a FIFO, so that it
#    reads early data and prints "Early data received:") and tlsserver --max-early-data:
#    the second connection's early data must be "accepted"; a restarted openssl (new
#    ticket keys) refuses it and tlsclient sends the data again after the handshake,
#    so the server still gets it exactly once.
#  - The cache file is mode 0600; a corrupt one is refused (exit 1) and left alone.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/tlsclient_lib.sh

KT=ecdsa-p256
CA=$CERTS/$KT/ca.cert
CACHE=$WORK/cache

# run_client OUT ERR IN PORT [ARGS...]: one tlsclient run with the cache.
run_client() {
    _rc_o=$1 _rc_e=$2 _rc_i=$3 _rc_p=$4
    shift 4
    tc "$_rc_o" "$_rc_e" "$_rc_i" --verbose --cache "$CACHE" -p "$_rc_p" --connect 127.0.0.1 \
        --cafile "$CA" "$@" localhost
}

# status_line ERR TEXT: the client's --verbose output has the line "tlsclient: TEXT".
status_line() {
    grep -qxF -- "tlsclient: $2" "$1"
}

# (Status variables here are _rs: lib.sh's pid_alive, run by stop_peer, sets _st.)

# pair_verdict DESC WANT1 WANT2 [DIAG...]: judges the two runs of a case, whose outputs
# are $WORK/out1 $WORK/err1 $WORK/st1 and out2/err2/st2; WANTn is the file the output
# must equal. Extra checks may have added reasons to $_why before.
pair_verdict() {
    _pv_d=$1 _pv_w1=$2 _pv_w2=$3
    shift 3
    [ "$(cat "$WORK/st1")" -eq 0 ] || _why="$_why; first run exit status $(cat "$WORK/st1")"
    [ "$(cat "$WORK/st2")" -eq 0 ] || _why="$_why; second run exit status $(cat "$WORK/st2")"
    cmp -s "$_pv_w1" "$WORK/out1" || _why="$_why; first output differs"
    cmp -s "$_pv_w2" "$WORK/out2" || _why="$_why; second output differs"
    status_line "$WORK/err1" "full handshake" || _why="$_why; first run not 'full handshake'"
    status_line "$WORK/err2" "resumed" || _why="$_why; second run not 'resumed'"
    if [ -z "$_why" ]; then
        ok "$_pv_d"
    else
        not_ok "$_pv_d" "${_why#; }" "$WORK/err1" "$WORK/err2" "$@"
    fi
}

# two_runs PORT WANT [CLIENT-ARGS...]: the two connections of a case with a fresh cache
# and a fresh payload each ($WORK/in1, $WORK/in2); WANT is "rev" (s_server -rev: lines
# come back reversed) or "echo".
two_runs() {
    _tr_p=$1 _tr_w=$2
    shift 2
    rm -f "$CACHE"
    for _n in 1 2; do
        make_payload "$WORK/in$_n" 200
        if [ "$_tr_w" = rev ]; then
            rev <"$WORK/in$_n" >"$WORK/want$_n"
        else
            cp "$WORK/in$_n" "$WORK/want$_n"
        fi
        run_client "$WORK/out$_n" "$WORK/err$_n" "$WORK/in$_n" "$_tr_p" "$@"
        echo $? >"$WORK/st$_n"
    done
}

# openssl_pair DESC [--client ARGS... --] [S_SERVER-ARGS...]: s_server -rev for two
# connections.
openssl_pair() {
    _op_d=$1
    shift
    _op_c=""
    if [ "${1:-}" = --client ]; then
        shift
        while [ "$1" != -- ]; do
            _op_c="$_op_c $1"
            shift
        done
        shift
    fi
    start_openssl "$KT" -rev -naccept 2 "$@" || return
    _why=""
    # shellcheck disable=SC2086 # _op_c is a word list on purpose
    two_runs "$PEER_PORT" rev $_op_c
    stop_peer
    pair_verdict "$_op_d" "$WORK/want1" "$WORK/want2" "$PEER_LOG"
}

need openssl gnutls-serv python3 rev timeout mkfifo || finish
need_tlsclient || finish

# ---- openssl s_server ----------------------------------------------------------------------

openssl_pair "openssl TLS 1.3: ticket resumed" -tls1_3
openssl_pair "openssl TLS 1.2: RFC 5077 ticket resumed" -tls1_2
openssl_pair "openssl TLS 1.2 -no_ticket: session ID resumed" -tls1_2 -no_ticket
openssl_pair "openssl TLS 1.2, tlsclient --no-tickets: session ID resumed" \
    --client --no-tickets -- -tls1_2
openssl_pair "openssl TLS 1.3 with TLS_CHACHA20_POLY1305_SHA256: resumed" \
    -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256

# The ticket remembers the group: only the first connection needs a HelloRetryRequest.
if start_openssl "$KT" -rev -naccept 2 -tls1_3 -groups P-384; then
    _why=""
    two_runs "$PEER_PORT" rev
    stop_peer
    [ "$(handshake_line "$WORK/err1" | sed -n 's/.*hrr=//p')" = yes ] ||
        _why="$_why; first run without a HelloRetryRequest"
    [ "$(handshake_line "$WORK/err2" | sed -n 's/.*hrr=//p')" = no ] ||
        _why="$_why; second run with a HelloRetryRequest"
    pair_verdict "openssl TLS 1.3 P-384 only: HRR once, then resumed without one" \
        "$WORK/want1" "$WORK/want2" "$PEER_LOG"
fi

# The cache holds session secrets: only its owner may read it.
if start_openssl "$KT" -rev -naccept 1 -tls1_2; then
    rm -f "$CACHE"
    make_payload "$WORK/in1" 40
    run_client "$WORK/out1" "$WORK/err1" "$WORK/in1" "$PEER_PORT" --no-tickets
    _rs=$?
    stop_peer
    _mode=$(stat -c %a "$CACHE" 2>/dev/null)
    if [ "$_rs" -eq 0 ] && [ "$_mode" = 600 ]; then
        ok "the cache file is written with mode 0600"
    else
        not_ok "the cache file is written with mode 0600" "status $_rs, mode '$_mode'" \
            "$WORK/err1"
    fi
fi

# ---- gnutls-serv ----------------------------------------------------------------------------

for v in 1.3 1.2; do
    if start_gnutls "$KT" --echo -a --priority="NORMAL:-VERS-ALL:+VERS-TLS$v"; then
        _why=""
        two_runs "$PEER_PORT" echo
        stop_peer
        pair_verdict "gnutls-serv TLS $v: resumed" "$WORK/want1" "$WORK/want2" "$PEER_LOG"
    fi
done

# ---- tlsserver --------------------------------------------------------------------------------

# ours_pair DESC CLIENT-ARGS -- SERVER-ARGS...: tlsserver echo; its second handshake line
# must say resumed=yes.
ours_pair() {
    _up_d=$1
    shift
    _up_c=""
    while [ "$1" != -- ]; do
        _up_c="$_up_c $1"
        shift
    done
    shift
    start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose \
        "$@" echo || return
    _why=""
    log_mark
    # shellcheck disable=SC2086 # _up_c is a word list on purpose
    two_runs "$SERVER_PORT" echo $_up_c
    wait_log 'handshake done .* resumed=yes' || _why="$_why; no 'resumed=yes' on the server"
    stop_server
    pair_verdict "$_up_d" "$WORK/want1" "$WORK/want2" "$SERVER_LOG"
}

ours_pair "tlsserver --tickets TLS 1.3: resumed" -- --tickets
ours_pair "tlsserver --tickets TLS 1.2: RFC 5077 ticket resumed" --protover 1.2 -- --tickets
ours_pair "tlsserver --resumption TLS 1.2: session ID resumed" --protover 1.2 --no-tickets -- \
    --resumption

# ---- 0-RTT ------------------------------------------------------------------------------------

# early_pair PORT [CLIENT-ARGS...]: two runs with --early-data $WORK/early and standard
# input $WORK/stdin; the first must send the early data after its full handshake, the
# second must say "early data accepted (N bytes)". Reasons for failing go to $_why.
early_pair() {
    _ep_p=$1
    shift
    rm -f "$CACHE"
    _why=""
    for _n in 1 2; do
        run_client "$WORK/out$_n" "$WORK/err$_n" "$WORK/stdin" "$_ep_p" \
            --early-data "$WORK/early" "$@"
        echo $? >"$WORK/st$_n"
    done
    status_line "$WORK/err1" \
        "early data not sent (no ticket allows it); $(file_size "$WORK/early") bytes sent after the handshake" ||
        _why="$_why; the first run did not send its early data after the handshake"
    status_line "$WORK/err2" "early data accepted ($(file_size "$WORK/early") bytes)" ||
        _why="$_why; the second run's early data was not accepted"
}

printf 'early-%s\n' "$(rand_hex 16)" >"$WORK/early"
printf 'one-rtt-%s\n' "$(rand_hex 16)" >"$WORK/stdin"
cat "$WORK/early" "$WORK/stdin" >"$WORK/early+stdin"
: >"$WORK/empty"

# openssl s_server reads early data only in its default mode, whose standard input must
# stay open (at EOF it closes the connection): a FIFO held open by this shell.
mkfifo "$WORK/fifo" && exec 3<>"$WORK/fifo"

# start_openssl_early: s_server -early_data for two connections, standard input the FIFO.
start_openssl_early() {
    start_peer "openssl s_server -early_data" 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
        sh -c 'exec openssl s_server -accept 127.0.0.1:0 -naccept 2 -cert "$1" \
            -cert_chain "$2" -key "$3" -tls1_3 -early_data <"$4"' sh \
        "$CERTS/$KT/end.cert" "$CERTS/$KT/end.chain" "$CERTS/$KT/end.key" "$WORK/fifo"
}

# count_in FILE TEXT: how many lines of FILE contain the fixed string TEXT.
count_in() {
    grep -cF -- "$2" "$1" 2>/dev/null || true
}

if start_openssl_early; then
    early_pair "$PEER_PORT"
    stop_peer
    grep -q '^Early data received:' "$PEER_LOG" || _why="$_why; s_server received no early data"
    _e=$(count_in "$PEER_LOG" "$(cat "$WORK/early")")
    _s=$(count_in "$PEER_LOG" "$(cat "$WORK/stdin")")
    [ "$_e" = 2 ] && [ "$_s" = 2 ] || _why="$_why; s_server got the early data $_e times and \
standard input $_s times (want 2 and 2)"
    pair_verdict "openssl -early_data: 0-RTT accepted" "$WORK/empty" "$WORK/empty" "$PEER_LOG"
    # A restarted server has new ticket keys: it cannot resume, so it refuses the early
    # data, which tlsclient then sends after the handshake.
    if start_openssl_early; then
        _why=""
        run_client "$WORK/out3" "$WORK/err3" "$WORK/stdin" "$PEER_PORT" --early-data "$WORK/early"
        _rs=$?
        stop_peer
        [ "$_rs" -eq 0 ] || _why="$_why; exit status $_rs"
        status_line "$WORK/err3" "sending $(file_size "$WORK/early") bytes of early data" ||
            _why="$_why; no early data sent"
        status_line "$WORK/err3" \
            "early data not accepted; $(file_size "$WORK/early") bytes sent again after the handshake" ||
            _why="$_why; not reported as refused"
        grep -q '^Early data was rejected' "$PEER_LOG" || _why="$_why; s_server did not reject"
        _e=$(count_in "$PEER_LOG" "$(cat "$WORK/early")")
        [ "$_e" = 1 ] || _why="$_why; s_server got the early data $_e times (want 1)"
        if [ -z "$_why" ]; then
            ok "openssl -early_data with new keys: 0-RTT refused, data sent again once"
        else
            not_ok "openssl -early_data with new keys: 0-RTT refused, data sent again once" \
                "${_why#; }" "$WORK/err3" "$PEER_LOG"
        fi
    fi
fi
exec 3>&-

if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose \
    --tickets --max-early-data 16384 echo; then
    log_mark
    early_pair "$SERVER_PORT"
    wait_log "handshake done .* resumed=yes early_data=accepted\\($(file_size "$WORK/early") bytes\\)" ||
        _why="$_why; the server did not log early_data=accepted"
    stop_server
    pair_verdict "tlsserver --max-early-data: 0-RTT accepted, echoed in order" \
        "$WORK/early+stdin" "$WORK/early+stdin" "$SERVER_LOG"
fi

# ---- a cache file that is not one --------------------------------------------------------------

printf 'MOATSESS\001\000\000\000\007junk' >"$CACHE"
cp "$CACHE" "$WORK/cache.orig"
tc "$WORK/out1" "$WORK/err1" null --cache "$CACHE" -p 9 --connect 127.0.0.1 --cafile "$CA" \
    localhost
_rs=$?
if [ "$_rs" -eq 1 ] && grep -q "^tlsclient: $CACHE: " "$WORK/err1" &&
    cmp -s "$CACHE" "$WORK/cache.orig"; then
    ok "a corrupt cache file is refused and left alone"
else
    not_ok "a corrupt cache file is refused and left alone" "status $_rs" "$WORK/err1"
fi

finish
