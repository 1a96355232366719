# Shared helpers for tlsclient's interop scripts (tests/interop/tlsclient_*.sh): sourced
# from the repository root after tests/interop/lib.sh. POSIX sh.
#
# Peers: start_peer starts any server in the background, records its PID in lib.sh's
# SERVER_PIDS (so the EXIT trap kills exactly it, never anything by name) and waits for
# the line that gives its port:
#   start_openssl KT [S_SERVER-ARGS...]   openssl s_server on 127.0.0.1:0, KT's chain
#   start_gnutls KT [GNUTLS-SERV-ARGS...] gnutls-serv on a probed free port
#   start_fake MODE [ARGS...]             tests/interop/fakeserver.py MODE
# each sets PEER_PID, PEER_PORT, PEER_LOG (stdout and stderr); stop_peer ends it.
# Client: tc OUT ERR IN [TLSCLIENT-ARGS...] runs $TLSCLIENT under tmo with IN on stdin
# (a file; "-" for a pipe from cat, "null" for /dev/null) and returns its status.
# Run directly (as tests/run.sh does with every *.sh here), this file tests itself.
#
# Environment: TLSCLIENT (default $BUILD/tlsclient).

case ${0##*/} in
tlsclient_lib.sh)
    TC_LIB_SELFTEST=1
    cd "$(dirname "$0")/../.." || exit 1
    ;;
*) TC_LIB_SELFTEST=0 ;;
esac

. tests/interop/lib.sh

TLSCLIENT=${TLSCLIENT:-$BUILD/tlsclient}
FAKESERVER=$INTEROP_DIR/fakeserver.py
PEER_PID=""
PEER_PORT=""
PEER_LOG=""
PEER_SEQ=0

# free_port: a port that was free on 127.0.0.1 a moment ago (for servers that cannot
# be told to pick one themselves).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# start_peer DESC PORT_SED CMD...: runs CMD in the background and waits up to
# START_TIMEOUT seconds until "sed -n PORT_SED" on its output prints a port.
start_peer() {
    _desc=$1 _sed=$2
    shift 2
    PEER_SEQ=$((PEER_SEQ + 1))
    PEER_LOG=$WORK/peer$PEER_SEQ.log
    PEER_PORT=""
    "$@" >"$PEER_LOG" 2>&1 </dev/null &
    PEER_PID=$!
    SERVER_PIDS="$SERVER_PIDS $PEER_PID"
    _ticks=$((START_TIMEOUT * 10))
    while [ "$_ticks" -gt 0 ]; do
        PEER_PORT=$(sed -n "$_sed" "$PEER_LOG" | head -n 1)
        [ -n "$PEER_PORT" ] && return 0
        if ! pid_alive "$PEER_PID"; then
            wait "$PEER_PID" 2>/dev/null
            not_ok "start $_desc" "it exited (status $?) before listening" "$PEER_LOG"
            _forget_pid "$PEER_PID"
            PEER_PID=""
            return 1
        fi
        sleep_short
        _ticks=$((_ticks - 1))
    done
    not_ok "start $_desc" "no port line within ${START_TIMEOUT}s" "$PEER_LOG"
    stop_peer
    return 1
}

# stop_peer: SIGTERM to the current peer (if it is still running), SIGKILL after 3 s.
stop_peer() {
    [ -n "$PEER_PID" ] || return 0
    kill -TERM "$PEER_PID" 2>/dev/null
    _ticks=30
    while [ "$_ticks" -gt 0 ] && pid_alive "$PEER_PID"; do
        sleep_short
        _ticks=$((_ticks - 1))
    done
    kill -KILL "$PEER_PID" 2>/dev/null
    wait "$PEER_PID" 2>/dev/null
    _forget_pid "$PEER_PID"
    PEER_PID=""
}

# start_openssl KT [ARGS...]: s_server presenting KT's end.cert + end.chain; ARGS pick
# the mode (-rev, -www) and restrictions. One connection (-naccept 1) unless ARGS add
# another -naccept.
start_openssl() {
    _kt=$1
    shift
    start_peer "openssl s_server ($*)" 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
        openssl s_server -accept 127.0.0.1:0 -naccept 1 -cert "$CERTS/$_kt/end.cert" \
        -cert_chain "$CERTS/$_kt/end.chain" -key "$CERTS/$_kt/end.key" "$@"
}

# start_gnutls KT [ARGS...]: gnutls-serv presenting KT's end.fullchain, not asking for a
# client certificate unless ARGS say so. It cannot pick its own port: a probed free one
# is used, and a second one if the first was taken in between.
start_gnutls() {
    _kt=$1
    shift
    for _try in 1 2; do
        _gp=$(free_port)
        if start_peer "gnutls-serv ($*)" \
            "s/^.*listening on IPv4 .* port \\($_gp\\)\\.\\.\\.done.*$/\\1/p" \
            gnutls-serv -p "$_gp" --x509certfile="$CERTS/$_kt/end.fullchain" \
            --x509keyfile="$CERTS/$_kt/end.key" "$@"; then
            return 0
        fi
        grep -q 'bind' "$PEER_LOG" 2>/dev/null || return 1
        # The failed first try was reported by start_peer; take it back if the retry works.
        T_NUM=$((T_NUM - 1))
        T_FAIL=$((T_FAIL - 1))
    done
    return 1
}

# start_fake MODE [ARGS...]: tests/interop/fakeserver.py.
start_fake() {
    start_peer "fakeserver $*" 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
        python3 "$FAKESERVER" "$@"
}

# tc OUT ERR IN [ARGS...]: one tlsclient run, bounded by tmo.
tc() {
    _tc_o=$1 _tc_e=$2 _tc_i=$3
    shift 3
    # shellcheck disable=SC2002 # the point is a pipe, not a file, on stdin
    case $_tc_i in
    -) cat "$TC_PIPE_IN" | tmo "$TLSCLIENT" "$@" >"$_tc_o" 2>"$_tc_e" ;;
    null) tmo "$TLSCLIENT" "$@" </dev/null >"$_tc_o" 2>"$_tc_e" ;;
    *) tmo "$TLSCLIENT" "$@" <"$_tc_i" >"$_tc_o" 2>"$_tc_e" ;;
    esac
}

# tc_pipe OUT ERR IN [ARGS...]: like tc, with IN arriving through a pipe.
tc_pipe() {
    TC_PIPE_IN=$3
    _tp_o=$1 _tp_e=$2
    shift 3
    tc "$_tp_o" "$_tp_e" - "$@"
}

# handshake_line ERR: the client's "handshake done ..." line, or nothing.
handshake_line() {
    sed -n 's/^tlsclient: handshake done //p' "$1" | head -n 1
}

# need_tlsclient: true if $TLSCLIENT is built; otherwise one failure.
need_tlsclient() {
    if [ -x "$TLSCLIENT" ]; then
        return 0
    fi
    not_ok "$TLSCLIENT exists" "build it: make $TLSCLIENT"
    return 1
}

# ---- self-test (only when this file is run directly) -------------------------------

if [ "$TC_LIB_SELFTEST" = 1 ]; then
    need openssl gnutls-serv python3 timeout || finish
    if start_fake unoffered-suite; then
        ok "tlsclient_lib: start_fake reads fakeserver's port ($PEER_PORT)"
        stop_peer
        if [ -z "$PEER_PID" ]; then
            ok "tlsclient_lib: stop_peer"
        else
            not_ok "tlsclient_lib: stop_peer"
        fi
    fi
    if start_openssl ecdsa-p256 -rev; then
        ok "tlsclient_lib: start_openssl reads s_server's port ($PEER_PORT)"
        stop_peer
    fi
    if start_gnutls ecdsa-p256 --echo -a; then
        ok "tlsclient_lib: start_gnutls reads gnutls-serv's port ($PEER_PORT)"
        stop_peer
    fi
    printf 'x\n' >"$WORK/x"
    TLSCLIENT="cat" tc_pipe "$WORK/o" "$WORK/e" "$WORK/x"
    if cmp -s "$WORK/x" "$WORK/o"; then
        ok "tlsclient_lib: tc_pipe"
    else
        not_ok "tlsclient_lib: tc_pipe"
    fi
    printf 'tlsclient: handshake done version=TLSv1.3 suite=S\n' >"$WORK/e"
    if [ "$(handshake_line "$WORK/e")" = "version=TLSv1.3 suite=S" ]; then
        ok "tlsclient_lib: handshake_line"
    else
        not_ok "tlsclient_lib: handshake_line" "got '$(handshake_line "$WORK/e")'"
    fi
    finish
fi
