# Shared helpers for the moat daemon's interop scripts (tests/interop/moat_*.sh):
# sourced from the repository root after tests/interop/lib.sh's conventions. POSIX sh.
#
# Everything runs on 127.0.0.1. Backends listen on port 0 and report theirs; moat's
# listeners need concrete ports, probed free just before use (never fixed ones).
# Every process started here is recorded in lib.sh's SERVER_PIDS, so the EXIT trap of
# lib.sh kills exactly those PIDs (and removes $WORK); nothing is ever killed by name.
# Configurations are generated into $WORK; certificate paths are relative to the
# repository root, where the scripts run.
#
# Processes:
#   start_backend NAME [BACKEND-ARGS...]  build/backend --listen 127.0.0.1:0; sets
#       BACKEND_PID, BACKEND_PORT (from its "listening on" line), BACKEND_LOG
#   start_moat CONFIG [LISTENERS]  build/moat -c CONFIG; waits for LISTENERS (default 1)
#       "listening on" lines; sets MOAT_PID, MOAT_LOG (its stderr). SERVER_PID and
#       SERVER_LOG are set too, so lib.sh's log_mark/wait_log/check_alive/stop_server
#       work on moat.
#   stop_moat  SIGTERM, wait up to STOP_WAIT (default 10) s; sets MOAT_STATUS
#   stop_pid PID  SIGTERM + wait (SIGKILL after 5 s) for any PID we started
# Ports: free_ports N prints N distinct free ports (held together while probing).
# Access log: ACCESS_LOG=$WORK/access.log (point the config's log.access at it);
#   wait_access ERE [SECONDS [COUNT]]; access_count ERE; access_lines ERE;
#   field NAME LINE (a field of an access-log line; end is unquoted).
# Client: mc COMMAND ARGS...  runs tests/interop/moatclient.py under tmo;
#   kv KEY FILE  prints the value of "KEY=..." from a moatclient output file;
#   expect_eq DESC GOT WANT [DIAG...]; moat_rss PID / moat_fds PID; cert_item KEYTYPE [end|other].
# Run directly (as tests/run.sh does with every *.sh here), this file tests itself.
#
# Environment: MOAT (default $BUILD/moat), BACKEND (default $BUILD/backend).

case ${0##*/} in
moat_lib.sh)
    MOAT_LIB_SELFTEST=1
    cd "$(dirname "$0")/../.." || exit 1
    ;;
*) MOAT_LIB_SELFTEST=0 ;;
esac

. tests/interop/lib.sh

MOAT=${MOAT:-$BUILD/moat}
BACKEND=${BACKEND:-$BUILD/backend}
MOATCLIENT=tests/interop/moatclient.py
# shellcheck disable=SC2034 # CA and MOAT_STATUS are read by the scripts that source this
CA=$CERTS/ecdsa-p256/ca.cert
ACCESS_LOG=$WORK/access.log
MOAT_PID=""
MOAT_LOG=""
MOAT_SEQ=0
BACKEND_SEQ=0

# free_ports N: N distinct ports that were free on 127.0.0.1 a moment ago.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# track_pid PID: killed by the EXIT trap unless stopped (and forgotten) before.
track_pid() {
    SERVER_PIDS="$SERVER_PIDS $1"
}

# stop_pid PID [SECONDS]: SIGTERM, wait (default 5 s), SIGKILL if still there.
# Sets STOPPED_STATUS (exit status, or "killed").
stop_pid() {
    _sp=$1
    _ticks=$((${2:-5} * 10))
    STOPPED_STATUS=""
    kill -TERM "$_sp" 2>/dev/null
    while [ "$_ticks" -gt 0 ] && pid_alive "$_sp"; do
        sleep_short
        _ticks=$((_ticks - 1))
    done
    if pid_alive "$_sp"; then
        kill -KILL "$_sp" 2>/dev/null
        wait "$_sp" 2>/dev/null
        STOPPED_STATUS=killed
    else
        wait "$_sp" 2>/dev/null
        STOPPED_STATUS=$?
    fi
    _forget_pid "$_sp"
}

# _wait_line FILE ERE COUNT PID: until FILE has COUNT lines matching ERE (true), or
# PID died / START_TIMEOUT passed (false).
_wait_line() {
    _ticks=$((START_TIMEOUT * 10))
    while [ "$_ticks" -gt 0 ]; do
        _n=$(grep -Ec -- "$2" "$1" 2>/dev/null)
        [ "${_n:-0}" -ge "$3" ] && return 0
        pid_alive "$4" || return 1
        sleep_short
        _ticks=$((_ticks - 1))
    done
    return 1
}

# start_backend NAME [ARGS...]: build/backend --listen 127.0.0.1:0 --name NAME ARGS;
# the port is read from its "listening on 127.0.0.1:PORT" line (no race for a port).
start_backend() {
    _name=$1
    shift
    BACKEND_SEQ=$((BACKEND_SEQ + 1))
    BACKEND_LOG=$WORK/backend$BACKEND_SEQ-$_name.log
    BACKEND_PID=""
    BACKEND_PORT=""
    if [ ! -x "$BACKEND" ]; then
        not_ok "start backend $_name: $BACKEND exists" "build it: make $BACKEND"
        return 1
    fi
    : >"$BACKEND_LOG"
    "$BACKEND" --listen 127.0.0.1:0 --name "$_name" "$@" >"$BACKEND_LOG" 2>&1 </dev/null &
    BACKEND_PID=$!
    track_pid "$BACKEND_PID"
    if _wait_line "$BACKEND_LOG" '^listening on 127\.0\.0\.1:[0-9]+' 1 "$BACKEND_PID"; then
        BACKEND_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
            "$BACKEND_LOG" | head -n 1)
        return 0
    fi
    not_ok "start backend $_name ($*)" "no 'listening on' line" "$BACKEND_LOG"
    stop_pid "$BACKEND_PID" 1
    BACKEND_PID=""
    return 1
}

# start_moat CONFIG [LISTENERS]: runs moat in the foreground (background job).
start_moat() {
    _conf=$1
    _nl=${2:-1}
    MOAT_SEQ=$((MOAT_SEQ + 1))
    MOAT_LOG=$WORK/moat$MOAT_SEQ.log
    MOAT_PID=""
    if [ ! -x "$MOAT" ]; then
        not_ok "start moat: $MOAT exists" "build it: make $MOAT"
        return 1
    fi
    : >"$MOAT_LOG"
    "$MOAT" -c "$_conf" 2>"$MOAT_LOG" >"$WORK/moat$MOAT_SEQ.out" </dev/null &
    MOAT_PID=$!
    track_pid "$MOAT_PID"
    SERVER_PID=$MOAT_PID
    SERVER_LOG=$MOAT_LOG
    SERVER_REAPED=""
    if _wait_line "$MOAT_LOG" 'moat\[info\]: listening on ' "$_nl" "$MOAT_PID"; then
        return 0
    fi
    not_ok "start moat -c $_conf" "moat did not log $_nl 'listening on' line(s)" \
        "$MOAT_LOG" "$_conf"
    stop_pid "$MOAT_PID" 1
    MOAT_PID=""
    return 1
}

# stop_moat: SIGTERM and wait; MOAT_STATUS is the exit status or "killed".
stop_moat() {
    MOAT_STATUS=""
    [ -n "$MOAT_PID" ] || return 0
    stop_pid "$MOAT_PID" "${STOP_WAIT:-10}"
    # shellcheck disable=SC2034
    MOAT_STATUS=$STOPPED_STATUS
    MOAT_PID=""
}

# ---- access log ------------------------------------------------------------------

# access_count ERE: number of access-log lines matching ERE.
access_count() {
    _c=$(grep -Ec -- "$1" "$ACCESS_LOG" 2>/dev/null)
    echo "${_c:-0}"
}

# access_lines ERE: the matching access-log lines.
access_lines() {
    grep -E -- "$1" "$ACCESS_LOG" 2>/dev/null
}

# wait_access ERE [SECONDS [COUNT]]: until COUNT (default 1) lines match.
wait_access() {
    _ticks=$((${2:-5} * 10))
    while [ "$_ticks" -gt 0 ]; do
        [ "$(access_count "$1")" -ge "${3:-1}" ] && return 0
        sleep_short
        _ticks=$((_ticks - 1))
    done
    return 1
}

# field NAME LINE: the value of NAME=... in an access-log line (end="..." unquoted).
field() {
    case $1 in
    end) printf '%s\n' "$2" | sed -n 's/.* end="\(.*\)"$/\1/p' ;;
    *) printf '%s\n' "$2" | sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" ;;
    esac
}

# ---- clients ---------------------------------------------------------------------

# mc COMMAND ARGS...: the python test client, bounded by the client timeout.
mc() {
    tmo python3 "$MOATCLIENT" "$@"
}

# kv KEY FILE: the value of the first "KEY=..." line of FILE.
kv() {
    sed -n "s/^$1=//p" "$2" | head -n 1
}

# expect_eq DESC GOT WANT [DIAG...]: ok if GOT = WANT.
expect_eq() {
    _d=$1 _g=$2 _w=$3
    shift 3
    if [ "$_g" = "$_w" ]; then
        ok "$_d"
    else
        not_ok "$_d" "got '$_g', want '$_w'" "$@"
    fi
}

# moat_rss PID: VmRSS in KiB. moat_fds PID: number of open descriptors.
moat_rss() {
    sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null
}
moat_fds() {
    ls "/proc/$1/fd" 2>/dev/null | wc -l | tr -d ' '
}

# cert_item KEYTYPE [NAME]: a certificates list item for tests/certs/KEYTYPE/NAME.*
# (NAME: end or other).
cert_item() {
    echo "{ cert: $CERTS/$1/${2:-end}.fullchain, key: $CERTS/$1/${2:-end}.key }"
}

# need_binaries: moat and the backend exist (tests/run.sh runs after make).
need_binaries() {
    _ok=0
    for _b in "$MOAT" "$BACKEND"; do
        if [ ! -x "$_b" ]; then
            not_ok "$_b is built" "run: make $_b"
            _ok=1
        fi
    done
    return $_ok
}

# ---- self-test (only when this file is run directly, as tests/run.sh does) --------

if [ "$MOAT_LIB_SELFTEST" = 1 ]; then
    need python3 timeout curl openssl || finish
    set -- $(free_ports 3)
    if [ $# -eq 3 ] && [ "$1" != "$2" ] && [ "$2" != "$3" ] && [ "$1" != "$3" ] &&
        [ "$1" -gt 0 ] && [ "$3" -lt 65536 ]; then
        ok "moat_lib: free_ports gives distinct ports ($*)"
    else
        not_ok "moat_lib: free_ports gives distinct ports" "got '$*'"
    fi
    _line='2026-01-01T00:00:00.000Z access: client=127.0.0.1:5 listener=127.0.0.1:6 sni=a.test alpn=- version=TLSv1.3 suite=TLS_AES_128_GCM_SHA256 backend=web/127.0.0.1:7 bytes_in=1 bytes_out=2 duration_ms=3 end="no backend available: 2 of 2 servers failed (last: x)"'
    expect_eq "moat_lib: field reads sni" "$(field sni "$_line")" a.test
    expect_eq "moat_lib: field reads backend" "$(field backend "$_line")" web/127.0.0.1:7
    expect_eq "moat_lib: field reads end" "$(field end "$_line")" \
        "no backend available: 2 of 2 servers failed (last: x)"
    printf 'a=1\nb=two=2\nb=3\n' >"$WORK/kv"
    expect_eq "moat_lib: kv" "$(kv b "$WORK/kv")" "two=2"
    _want=$(openssl x509 -in "$CERTS/rsa2048/end.cert" -noout -fingerprint -sha256 |
        sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
    expect_eq "moat_lib: moatclient fp matches openssl's fingerprint" \
        "$(python3 "$MOATCLIENT" fp --file "$CERTS/rsa2048/end.fullchain")" "$_want"
    if start_backend selftest; then
        _b=$(tmo curl -sS "http://127.0.0.1:$BACKEND_PORT/" 2>&1)
        expect_eq "moat_lib: start_backend (port $BACKEND_PORT) serves GET /" "$_b" \
            "hello from selftest" "$BACKEND_LOG"
        stop_pid "$BACKEND_PID"
        expect_eq "moat_lib: stop_pid: the backend exits 0 on SIGTERM" "$STOPPED_STATUS" 0
    fi
    finish
fi
