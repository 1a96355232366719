# Shared helpers for the interop scripts: sourced (". tests/interop/lib.sh") from
# the repository root. POSIX sh.
#
# Reporting: TAP-like "ok N - what" / "not ok N - what" lines, diagnostics as
# "# ..." lines, and a final "SUMMARY <passed> <failed>" (see tests/run.sh).
# Servers: start_server runs $TLSSERVER with "-p 0", waits for its
# "listening on ADDR:PORT" line and sets SERVER_PID, SERVER_PORT, SERVER_LOG
# (its stderr) and SERVER_OUT (its stdout). Every server started is killed on exit.
#
# Environment: BUILD (default build), TLSSERVER (default $BUILD/tlsserver),
# CLIENT_TIMEOUT (seconds for one client run, default 10), START_TIMEOUT (seconds
# to wait for the listening line, default 10).

# tests/run.sh runs every tests/interop/*.sh, this file included: run directly,
# it checks its own helpers and reports like any other script.
case ${0##*/} in
lib.sh) LIB_SELFTEST=1 ;;
*) LIB_SELFTEST=0 ;;
esac

BUILD=${BUILD:-build}
TLSSERVER=${TLSSERVER:-$BUILD/tlsserver}
CERTS=tests/certs
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-10}
START_TIMEOUT=${START_TIMEOUT:-10}
# shellcheck disable=SC2034 # used by the scripts that source this file
INTEROP_DIR=tests/interop
KEY_TYPES="rsa2048 ecdsa-p256 ecdsa-p384"

T_NUM=0
T_PASS=0
T_FAIL=0
SERVER_PIDS=""
SERVER_PID=""
SERVER_PORT=""
SERVER_LOG=""
SERVER_OUT=""
SERVER_SEQ=0
SERVER_REAPED=""

WORK=$(mktemp -d "${TMPDIR:-/tmp}/moat-interop.XXXXXX") || {
    echo "not ok 1 - mktemp"
    echo "SUMMARY 0 1"
    exit 1
}

_lib_cleanup() {
    for _p in $SERVER_PIDS; do
        kill -KILL "$_p" 2>/dev/null
    done
    SERVER_PIDS=""
    if [ -n "${KEEP_WORK:-}" ]; then
        echo "# logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap '_lib_cleanup' EXIT
trap '_lib_cleanup; trap - EXIT; echo "# interrupted"; echo "SUMMARY $T_PASS $((T_FAIL + 1))"; exit 1' INT TERM HUP

# ---- reporting ---------------------------------------------------------------

ok() {
    T_NUM=$((T_NUM + 1))
    T_PASS=$((T_PASS + 1))
    echo "ok $T_NUM - $*"
}

# not_ok DESCRIPTION [DIAGNOSTIC...]: each diagnostic is a line, or a file (whose
# last 20 lines are shown).
not_ok() {
    T_NUM=$((T_NUM + 1))
    T_FAIL=$((T_FAIL + 1))
    echo "not ok $T_NUM - $1"
    shift
    for _d in "$@"; do
        if [ -f "$_d" ]; then
            echo "#   --- $_d (last 20 lines):"
            tail -n 20 "$_d" | sed 's/^/#   /'
        else
            echo "# $_d"
        fi
    done
}

diag() {
    echo "# $*"
}

# check DESCRIPTION CMD...: ok if CMD succeeds.
check() {
    _desc=$1
    shift
    if "$@"; then
        ok "$_desc"
    else
        not_ok "$_desc" "command failed: $*"
    fi
}

# finish: prints the summary and exits (non-zero when something failed).
finish() {
    echo "SUMMARY $T_PASS $T_FAIL"
    [ "$T_FAIL" -eq 0 ]
    exit
}

# need TOOL...: true when all are on PATH; otherwise reports one failure per
# missing tool (nothing is skipped silently).
need() {
    _ok=0
    for _t in "$@"; do
        if ! command -v "$_t" >/dev/null 2>&1; then
            not_ok "required tool '$_t' is on PATH" "install it (make deps)"
            _ok=1
        fi
    done
    return $_ok
}

# ---- processes -------------------------------------------------------------------

# tmo CMD...: runs CMD with the client timeout (SIGKILL 2 s after SIGTERM).
# Exit status 124 (or 137) means the time ran out.
tmo() {
    timeout -k 2 "$CLIENT_TIMEOUT" "$@"
}

# sleep_short: a tenth of a second (whole seconds where fractions are not understood).
sleep_short() {
    sleep 0.1 2>/dev/null || sleep 1
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    if [ -r "/proc/$1/stat" ]; then
        # Field 3 of /proc/PID/stat is the state; the command name (field 2) is in
        # parentheses and may contain spaces.
        _st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
        [ "$_st" != Z ] && [ -n "$_st" ]
    else
        _st=$(ps -o stat= -p "$1" 2>/dev/null)
        case $_st in Z* | "") return 1 ;; esac
    fi
}

# start_server [TLSSERVER-ARGS...]: starts "$SERVER_WRAPPER $TLSSERVER -p 0
# --address 127.0.0.1 ARGS" in the background and waits up to START_TIMEOUT
# seconds for its "listening on ADDR:PORT" line. Sets SERVER_PID, SERVER_PORT,
# SERVER_LOG, SERVER_OUT. Returns non-zero (after one not_ok) on failure.
start_server() {
    SERVER_SEQ=$((SERVER_SEQ + 1))
    SERVER_OUT=$WORK/server$SERVER_SEQ.out
    SERVER_LOG=$WORK/server$SERVER_SEQ.log
    SERVER_PORT=""
    SERVER_PID=""
    SERVER_REAPED=""
    if [ ! -x "$TLSSERVER" ]; then
        not_ok "start server: $TLSSERVER exists" "$TLSSERVER is missing or not executable (make all)"
        return 1
    fi
    : >"$SERVER_OUT"
    : >"$SERVER_LOG"
    # shellcheck disable=SC2086 # SERVER_WRAPPER is a word list on purpose
    ${SERVER_WRAPPER:-} "$TLSSERVER" -p 0 --address 127.0.0.1 "$@" \
        >"$SERVER_OUT" 2>"$SERVER_LOG" </dev/null &
    SERVER_PID=$!
    SERVER_PIDS="$SERVER_PIDS $SERVER_PID"
    _ticks=$((START_TIMEOUT * 10))
    while [ "$_ticks" -gt 0 ]; do
        SERVER_PORT=$(sed -n 's/^listening on [^ ]*:\([0-9][0-9]*\)[[:space:]]*$/\1/p' \
            "$SERVER_OUT" | head -n 1)
        [ -n "$SERVER_PORT" ] && return 0
        if ! pid_alive "$SERVER_PID"; then
            wait "$SERVER_PID" 2>/dev/null
            not_ok "start server ($*)" "server exited (status $?) before listening" \
                "$SERVER_LOG" "$SERVER_OUT"
            _forget_pid "$SERVER_PID"
            return 1
        fi
        sleep_short
        _ticks=$((_ticks - 1))
    done
    not_ok "start server ($*)" "no 'listening on ADDR:PORT' line within ${START_TIMEOUT}s" \
        "$SERVER_LOG" "$SERVER_OUT"
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    _forget_pid "$SERVER_PID"
    return 1
}

# stop_server: SIGTERM to the current server, wait (STOP_WAIT seconds, default 5),
# then SIGKILL. Sets SERVER_STATUS to the exit status ("killed" if SIGKILL was needed).
stop_server() {
    _pid=$SERVER_PID
    _wait=${STOP_WAIT:-5}
    SERVER_STATUS=""
    [ -n "$_pid" ] || return 0
    kill -TERM "$_pid" 2>/dev/null
    _ticks=$((_wait * 10))
    while [ "$_ticks" -gt 0 ] && pid_alive "$_pid"; do
        sleep_short
        _ticks=$((_ticks - 1))
    done
    if pid_alive "$_pid"; then
        kill -KILL "$_pid" 2>/dev/null
        wait "$_pid" 2>/dev/null
        SERVER_STATUS=killed
    elif [ -n "$SERVER_REAPED" ]; then
        SERVER_STATUS="$SERVER_REAPED (it had died before)"
    else
        wait "$_pid" 2>/dev/null
        # shellcheck disable=SC2034 # read by the scripts that source this file
        SERVER_STATUS=$?
    fi
    _forget_pid "$_pid"
}

# _forget_pid PID: a reaped server is no longer ours to kill at exit.
_forget_pid() {
    _np=""
    for _p in $SERVER_PIDS; do
        [ "$_p" = "$1" ] || _np="$_np $_p"
    done
    SERVER_PIDS=$_np
}

# check_alive DESCRIPTION: ok if the current server is still running.
check_alive() {
    if pid_alive "$SERVER_PID"; then
        ok "$1"
    else
        wait "$SERVER_PID" 2>/dev/null
        SERVER_REAPED=$?
        _forget_pid "$SERVER_PID"
        not_ok "$1" "server (pid $SERVER_PID) died, status $SERVER_REAPED" "$SERVER_LOG"
    fi
}

# ---- files and logs ------------------------------------------------------------

# file_size FILE: size in bytes (0 if missing).
file_size() {
    if [ -f "$1" ]; then
        wc -c <"$1" | tr -d ' '
    else
        echo 0
    fi
}

# wait_for_size FILE BYTES [SECONDS [STOPFILE]]: until FILE holds at least BYTES
# (default CLIENT_TIMEOUT seconds), or STOPFILE exists.
wait_for_size() {
    _ticks=$((${3:-$CLIENT_TIMEOUT} * 10))
    while [ "$_ticks" -gt 0 ]; do
        [ "$(file_size "$1")" -ge "$2" ] && return 0
        [ -n "${4:-}" ] && [ -e "$4" ] && return 1
        sleep_short
        _ticks=$((_ticks - 1))
    done
    return 1
}

# log_mark: remembers how many lines the server log has; log_since prints what
# came after the mark; wait_log PATTERN [SECONDS] waits (default 3 s) until the
# lines after the mark match the extended regex PATTERN.
log_mark() {
    LOG_MARK=$(wc -l <"$SERVER_LOG" | tr -d ' ')
}
log_since() {
    tail -n +"$((LOG_MARK + 1))" "$SERVER_LOG"
}
wait_log() {
    _ticks=$((${2:-3} * 10))
    while [ "$_ticks" -gt 0 ]; do
        log_since | grep -Eq -- "$1" && return 0
        sleep_short
        _ticks=$((_ticks - 1))
    done
    return 1
}

# rand_hex BYTES: 2*BYTES random hex digits.
rand_hex() {
    od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n'
}

# make_payload FILE BYTES: about BYTES of random hex in 80-column lines, each
# ending in "\n". Hex never starts a line with an s_client command letter.
make_payload() {
    rand_hex $((($2 + 1) / 2)) | fold -w 80 >"$1"
    echo >>"$1"
}

# ---- clients -----------------------------------------------------------------------

# _tlsv_minor: 3 for TLSV=1.3 (the default), 2 for 1.2.
_tlsv_minor() {
    _v=${TLSV:-1.3}
    echo "${_v#1.}"
}

# wait_for_text FILE TEXT SECONDS: until FILE contains the fixed string TEXT.
wait_for_text() {
    _ticks=$(($3 * 10))
    while [ "$_ticks" -gt 0 ]; do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep_short
        _ticks=$((_ticks - 1))
    done
    return 1
}

# s_client_session OUT SESSION_ARG... : one verified connection to the current echo
# server (TLS $TLSV, default 1.3; CA file $SESSION_CA; name localhost), not -brief:
# only the full output says "New," or "Reused,". It echoes a line; stdin stays open
# until the echo is back, so the NewSessionTickets (sent before it) have arrived.
# SERVER_PORT may be overridden for one call (a relay in front of the server).
s_client_session() {
    _out=$1
    shift
    _line="resume-$(rand_hex 8)"
    : >"$_out"
    # shellcheck disable=SC2094 # waiting on the output while it is written is the point
    {
        echo "$_line"
        wait_for_text "$_out" "$_line" "$CLIENT_TIMEOUT"
    } | tmo openssl s_client -connect "127.0.0.1:$SERVER_PORT" "-tls1_$(_tlsv_minor)" \
        -servername localhost -verify_return_error -verify_hostname localhost \
        -CAfile "$SESSION_CA" "$@" >"$_out" 2>&1
    grep -qF -- "$_line" "$_out"
}

# feed_client PAYLOAD OUT ERR CMD...: runs CMD (bounded by tmo) with PAYLOAD on
# its stdin, and keeps stdin open until OUT (CMD's stdout) is as long as PAYLOAD or
# CMD has exited; then stdin reaches EOF, which makes a well-behaved client close
# the connection. Returns CMD's status.
feed_client() {
    _pl=$1 _out=$2 _err=$3
    shift 3
    _n=$(file_size "$_pl")
    _stf=$WORK/client.status
    rm -f "$_stf"
    : >"$_out"
    {
        cat "$_pl"
        wait_for_size "$_out" "$_n" "$CLIENT_TIMEOUT" "$_stf"
    } | {
        tmo "$@" >"$_out" 2>"$_err"
        echo $? >"$_stf"
    }
    return "$(cat "$_stf" 2>/dev/null || echo 125)"
}

# openssl_echo OUT ERR PAYLOAD [S_CLIENT-ARGS...]: PAYLOAD through "openssl
# s_client -brief" to the current server. OUT gets the echoed data only, ERR the
# -brief connection summary ("Protocol version: TLSv1.3", "Ciphersuite: ...",
# "Verification: OK", "Server Temp Key: ..."). Returns s_client's status.
openssl_echo() {
    _o=$1 _e=$2 _p=$3
    shift 3
    feed_client "$_p" "$_o" "$_e" openssl s_client -brief -nocommands \
        -connect "127.0.0.1:$SERVER_PORT" "$@"
}

# openssl_handshake DESCRIPTION CAFILE [S_CLIENT-ARGS...]: one verified TLS 1.3
# handshake + a line echoed, against the current echo server; ok / not ok.
openssl_handshake() {
    _desc=$1 _ca=$2
    shift 2
    make_payload "$WORK/hs.in" 40
    openssl_echo "$WORK/hs.out" "$WORK/hs.err" "$WORK/hs.in" -tls1_3 -servername localhost \
        -verify_return_error -verify_hostname localhost -CAfile "$_ca" "$@"
    _st=$?
    if [ "$_st" -eq 0 ] && cmp -s "$WORK/hs.in" "$WORK/hs.out" &&
        grep -q '^Verification: OK' "$WORK/hs.err"; then
        ok "$_desc"
    else
        not_ok "$_desc" "s_client exit status $_st" "$WORK/hs.err" "$SERVER_LOG"
    fi
}

# alert_from_openssl FILE: the alert s_client says it received ("SSL alert number
# 40" -> handshake_failure), or "none".
alert_from_openssl() {
    _num=$(sed -n 's/.*SSL alert number \([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
    alert_name "${_num:-none}"
}

# alert_name NUMBER: RFC 8446 (or RFC 5246, for no_renegotiation) name of an alert
# description.
alert_name() {
    case $1 in
    0) echo close_notify ;;
    10) echo unexpected_message ;;
    20) echo bad_record_mac ;;
    22) echo record_overflow ;;
    40) echo handshake_failure ;;
    42) echo bad_certificate ;;
    47) echo illegal_parameter ;;
    50) echo decode_error ;;
    51) echo decrypt_error ;;
    70) echo protocol_version ;;
    71) echo insufficient_security ;;
    80) echo internal_error ;;
    86) echo inappropriate_fallback ;;
    90) echo user_canceled ;;
    100) echo no_renegotiation ;;
    109) echo missing_extension ;;
    110) echo unsupported_extension ;;
    112) echo unrecognized_name ;;
    120) echo no_application_protocol ;;
    none) echo none ;;
    *) echo "alert_$1" ;;
    esac
}

# ---- self-test (only when this file is run directly) -------------------------------

if [ "$LIB_SELFTEST" = 1 ]; then
    cd "$(dirname "$0")/../.." || exit 1
    if pid_alive $$; then ok "lib: pid_alive sees this shell"; else not_ok "lib: pid_alive sees this shell"; fi
    sh -c 'exit 0' &
    _zp=$!
    sleep 1
    if pid_alive "$_zp"; then not_ok "lib: pid_alive ignores an exited (zombie) child"; else ok "lib: pid_alive ignores an exited (zombie) child"; fi
    wait "$_zp"
    CLIENT_TIMEOUT=1 tmo sleep 5
    _st=$?
    if [ "$_st" -eq 124 ]; then ok "lib: tmo bounds a command"; else not_ok "lib: tmo bounds a command" "status $_st"; fi
    make_payload "$WORK/p" 1000
    _sz=$(file_size "$WORK/p")
    if [ "$_sz" -ge 1000 ] && [ "$_sz" -le 1020 ] && ! grep -q '[^0-9a-f]' "$WORK/p"; then
        ok "lib: make_payload"
    else
        not_ok "lib: make_payload" "size $_sz"
    fi
    if [ "$(alert_name 47)" = illegal_parameter ]; then ok "lib: alert_name"; else not_ok "lib: alert_name"; fi
    echo "x: SSL alert number 70" >"$WORK/a"
    if [ "$(alert_from_openssl "$WORK/a")" = protocol_version ]; then ok "lib: alert_from_openssl"; else not_ok "lib: alert_from_openssl"; fi
    _missing=""
    for _kt in $KEY_TYPES; do
        for _f in ca.cert inter.cert end.cert end.fullchain end.key other.fullchain other.key; do
            [ -s "$CERTS/$_kt/$_f" ] || _missing="$_missing $CERTS/$_kt/$_f"
        done
    done
    if [ -z "$_missing" ]; then ok "lib: test certificates present"; else not_ok "lib: test certificates present" "missing:$_missing"; fi
    printf 'hello\n' >"$WORK/p"
    feed_client "$WORK/p" "$WORK/o" "$WORK/e" cat
    _st=$?
    if [ "$_st" -eq 0 ] && cmp -s "$WORK/p" "$WORK/o"; then ok "lib: feed_client"; else not_ok "lib: feed_client" "status $_st"; fi
    feed_client "$WORK/p" "$WORK/o" "$WORK/e" sh -c 'exit 3'
    _st=$?
    if [ "$_st" -eq 3 ]; then ok "lib: feed_client returns the client's status"; else not_ok "lib: feed_client returns the client's status" "status $_st"; fi
    finish
fi
