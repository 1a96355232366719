#!/bin/sh
# moat's shutdown: on SIGTERM it stops accepting (new connections are refused) and
# lets established connections finish, then exits 0 as soon as the last one has
# ended; on SIGINT with a connection that never ends, the drain timeout (1 s here)
# closes it (access log end="shutdown: drain timeout") and moat exits 0.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need python3 timeout || finish
need_binaries || finish

start_backend echo --mode echo --quiet || finish
P_ECHO=$BACKEND_PORT
PORT=$(free_ports 1)

# conf FILE DRAIN: a listener on PORT in front of the echo backend.
conf() {
    cat >"$1" <<EOF2
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 3s, idle: 60s, connect: 2s, drain: $2 }
limits: { max_connections: 100 }
listeners:
  - address: "127.0.0.1:$PORT"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: echo
backends:
  echo: { servers: ["127.0.0.1:$P_ECHO"] }
EOF2
}

# hold NAME: a connection that did one round trip and waits for $WORK/NAME.go.
hold() {
    rm -f "$WORK/$1.ready" "$WORK/$1.go"
    CLIENT_TIMEOUT=40 mc hold --port "$PORT" --ready "$WORK/$1.ready" --go "$WORK/$1.go" \
        --limit 30 >"$WORK/$1.out" 2>"$WORK/$1.err" &
    HOLD_PID=$!
    track_pid "$HOLD_PID"
    if wait_for_size "$WORK/$1.ready" 1 10 && [ "$(kv first "$WORK/$1.out")" = ok ]; then
        ok "connection $1 established (first round trip)"
    else
        not_ok "connection $1 established (first round trip)" "$WORK/$1.out" "$WORK/$1.err"
    fi
}

# wait_exit SECONDS: until moat has exited (true), or the time is up.
wait_exit() {
    _ticks=$(($1 * 10))
    while [ "$_ticks" -gt 0 ] && pid_alive "$MOAT_PID"; do
        sleep_short
        _ticks=$((_ticks - 1))
    done
    ! pid_alive "$MOAT_PID"
}

# ---- SIGTERM: drain, then exit when the last connection ends --------------------------------
conf "$WORK/long.yaml" 30s
start_moat "$WORK/long.yaml" || finish
hold B
log_mark
kill -TERM "$MOAT_PID"
if wait_log 'moat\[info\]: SIGTERM: stopping; 1 connections draining' 5; then
    ok "SIGTERM: moat logs 'stopping; 1 connections draining'"
else
    not_ok "SIGTERM: moat logs 'stopping; 1 connections draining'" "$MOAT_LOG"
fi
sleep 0.5 2>/dev/null || sleep 1
mc cert --port "$PORT" >"$WORK/new.out" 2>"$WORK/new.err"
case $(kv error "$WORK/new.out") in
*ConnectionRefused*) ok "while draining, a new connection is refused" ;;
*) not_ok "while draining, a new connection is refused" "$WORK/new.out" "$WORK/new.err" ;;
esac
pid_alive "$MOAT_PID" && ok "while draining, moat waits for connection B" ||
    not_ok "while draining, moat waits for connection B" "$MOAT_LOG"
: >"$WORK/B.go"
wait "$HOLD_PID"
_forget_pid "$HOLD_PID"
expect_eq "while draining, connection B still works (second round trip)" \
    "$(kv second "$WORK/B.out")" ok "$WORK/B.err" "$MOAT_LOG"
# B has closed: moat exits long before the 30 s drain timeout.
if wait_exit 10; then
    ok "moat exits once the last connection has ended (well before the drain timeout)"
else
    not_ok "moat exits once the last connection has ended" "$MOAT_LOG"
fi
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
grep -q 'drain timeout' "$MOAT_LOG" && not_ok "no drain timeout was needed" "$MOAT_LOG" ||
    ok "no drain timeout was needed"
wait_log 'moat\[info\]: stopped' 1 && ok "moat logs 'stopped'" || not_ok "moat logs 'stopped'" "$MOAT_LOG"

# ---- drain: 0 closes connections at once ------------------------------------------------------
: >"$ACCESS_LOG"
conf "$WORK/zero.yaml" 0
start_moat "$WORK/zero.yaml" || finish
hold Z
kill -TERM "$MOAT_PID"
if wait_exit 6; then
    ok "drain: 0: moat exits at once (within the short linger)"
else
    not_ok "drain: 0: moat exits within 6 s" "$MOAT_LOG"
fi
stop_moat
expect_eq "drain: 0: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
wait_access 'end="shutdown: drain timeout"' 1 &&
    ok "drain: 0: the connection ended with \"shutdown: drain timeout\"" ||
    not_ok "drain: 0: the connection ended with \"shutdown: drain timeout\"" "$ACCESS_LOG"
: >"$WORK/Z.go"
wait "$HOLD_PID"
_forget_pid "$HOLD_PID"

# ---- SIGINT: a connection that never ends is closed at the drain timeout -------------------
: >"$ACCESS_LOG"
conf "$WORK/short.yaml" 1s
start_moat "$WORK/short.yaml" || finish
hold C
lp=$(kv local_port "$WORK/C.out")
log_mark
kill -INT "$MOAT_PID"
wait_log 'moat\[info\]: SIGINT: stopping; 1 connections draining' 5 &&
    ok "SIGINT: moat logs 'stopping; 1 connections draining'" ||
    not_ok "SIGINT: moat logs 'stopping; 1 connections draining'" "$MOAT_LOG"
if wait_exit 10; then
    ok "SIGINT: moat exits after the 1 s drain timeout (and the short linger)"
else
    not_ok "SIGINT: moat exits within 10 s" "$MOAT_LOG"
fi
stop_moat
expect_eq "SIGINT: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
grep -q 'drain timeout: closing 1 connections' "$MOAT_LOG" &&
    ok "moat logs 'drain timeout: closing 1 connections'" ||
    not_ok "moat logs 'drain timeout: closing 1 connections'" "$MOAT_LOG"
if wait_access 'end="shutdown: drain timeout"' 1; then
    l=$(access_lines 'end="shutdown: drain timeout"' | tail -n 1)
    expect_eq "access log: connection C ended with \"shutdown: drain timeout\"" \
        "$(field client "$l")" "127.0.0.1:$lp" "line: $l"
else
    not_ok "access log: connection C ended with \"shutdown: drain timeout\"" "$ACCESS_LOG"
fi
: >"$WORK/C.go"
wait "$HOLD_PID"
_forget_pid "$HOLD_PID"
case $(kv second "$WORK/C.out") in
ok) not_ok "connection C is closed by the drain timeout" "$WORK/C.out" ;;
*) ok "connection C is closed by the drain timeout (second round: $(kv second "$WORK/C.out"))" ;;
esac
finish
