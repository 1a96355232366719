#!/bin/sh
# Many connections at once: 1,000 concurrent TLS connections through moat, each
# doing GET / and staying open until all 1,000 have their answer; while they are
# held moat has a client and a backend descriptor for each; after they close, moat's
# descriptor count is back at its baseline and the access log has 1,000 ended lines.
# Then max_connections: with a limit of 5, a 6th connection waits in the kernel's
# queue (TCP completes, no ServerHello) until one of the 5 closes.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

COUNT=${MOAT_CONNECTIONS:-1000}

need python3 timeout || finish
need_binaries || finish

# The backend holds COUNT connections too; it inherits our descriptor limit.
# (ulimit -n is not in POSIX but dash and bash both have it.)
# shellcheck disable=SC3045
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((COUNT * 2 + 100)) ] ||
    ulimit -n $((COUNT * 2 + 100)) 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
diag "descriptor limit: $(ulimit -n)"

start_backend web --quiet || finish
P_WEB=$BACKEND_PORT
start_backend echo --mode echo --quiet || finish
P_ECHO=$BACKEND_PORT
set -- $(free_ports 2)
PORT=$1 PORT5=$2
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF2
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 20s, idle: 60s, connect: 5s, drain: 2s }
limits: { max_connections: 2500 }
listeners:
  - address: "127.0.0.1:$PORT"
    certificates: [ $(cert_item ecdsa-p256) ]
    alpn: [http/1.1]
    backend: web
backends:
  web: { servers: ["127.0.0.1:$P_WEB"] }
EOF2
start_moat "$CONF" || finish
sleep 0.3 2>/dev/null || sleep 1
fd0=$(moat_fds "$MOAT_PID")
diag "moat descriptors before: $fd0"

CLIENT_TIMEOUT=120 mc many --port "$PORT" --count "$COUNT" --alpn http/1.1 \
    --expect 'hello from web\n' --parallel-handshakes 100 --timeout 60 \
    --ready "$WORK/many.ready" --go "$WORK/many.go" --limit 30 \
    >"$WORK/many.out" 2>"$WORK/many.err" &
MANY=$!
track_pid "$MANY"
if wait_for_size "$WORK/many.ready" 1 100; then
    held=$(moat_fds "$MOAT_PID")
    open_lines=$(access_count ' client=')
    # Each held connection: its client socket and its backend socket.
    if [ "$held" -ge $((fd0 + 2 * COUNT)) ]; then
        ok "all $COUNT answered and held open: moat has $held descriptors (baseline $fd0 + 2 x $COUNT)"
    else
        not_ok "all $COUNT held open: moat has >= $((fd0 + 2 * COUNT)) descriptors" "it has $held" \
            "client: $(cat "$WORK/many.ready")"
    fi
    expect_eq "while held: no access-log line yet (none has ended)" "$open_lines" 0
else
    not_ok "the client reports all $COUNT requests answered" "$WORK/many.err"
fi
: >"$WORK/many.go"
wait "$MANY"
st=$?
_forget_pid "$MANY"
sed 's/^/# client: /' "$WORK/many.out"
if [ "$st" -eq 0 ] && [ "$(kv ok "$WORK/many.out")" = "$COUNT" ] && [ "$(kv bad "$WORK/many.out")" = 0 ] &&
    [ "$(kv connect_failed "$WORK/many.out")" = 0 ]; then
    ok "$COUNT concurrent connections: every one got 'hello from web' ($(kv seconds "$WORK/many.out") s)"
else
    not_ok "$COUNT concurrent connections: every one got 'hello from web'" "client exit $st" \
        "$WORK/many.out" "$WORK/many.err"
fi
expect_eq "all $COUNT were still open when the last answer came" \
    "$(kv open_at_end "$WORK/many.out")" "$COUNT"

if wait_access ' client=127\.0\.0\.1:.* end="[^"]+"$' 20 "$COUNT"; then
    ok "access log: $COUNT lines with end= set"
else
    not_ok "access log: $COUNT lines with end= set" "got $(access_count ' end="[^"]+"$')"
fi
expect_eq "access log: every line says backend=web and a normal end" \
    "$(access_count " backend=web/127\\.0\\.0\\.1:$P_WEB .* end=\"(closed|client closed without close_notify)\"$")" \
    "$COUNT" "$(grep -v 'end="closed"\|end="client closed without' "$ACCESS_LOG" | head -n 5)"

# Back to the baseline: no descriptor (client or backend socket) left behind.
i=0
fd1=$(moat_fds "$MOAT_PID")
while [ "$fd1" -gt "$fd0" ] && [ "$i" -lt 100 ]; do
    sleep_short
    i=$((i + 1))
    fd1=$(moat_fds "$MOAT_PID")
done
expect_eq "afterwards moat's descriptors are back to the baseline ($fd0)" "$fd1" "$fd0" \
    "$(ls -l "/proc/$MOAT_PID/fd" 2>/dev/null | tail -n 5)"
check_alive "moat still running"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# ---- max_connections: 5 ---------------------------------------------------------------
: >"$ACCESS_LOG"
cat >"$WORK/limit.yaml" <<EOF2
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 20s, idle: 60s, connect: 5s, drain: 2s }
limits: { max_connections: 5 }
listeners:
  - address: "127.0.0.1:$PORT5"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: echo
backends:
  echo: { servers: ["127.0.0.1:$P_ECHO"] }
EOF2
start_moat "$WORK/limit.yaml" || finish
CLIENT_TIMEOUT=40 mc maxconn --port "$PORT5" --conns 5 --wait 2 --limit-after 10 \
    >"$WORK/mx.out" 2>"$WORK/mx.err"
st=$?
sed 's/^/# client: /' "$WORK/mx.out"
expect_eq "max_connections 5: 5 connections established and echoing" \
    "$st $(kv held "$WORK/mx.out")" "0 5" "$WORK/mx.err"
expect_eq "max_connections 5: the 6th completes TCP (kernel queue)" \
    "$(kv extra_tcp "$WORK/mx.out")" connected "$WORK/mx.err"
expect_eq "max_connections 5: the 6th gets no ServerHello within 2 s" \
    "$(kv extra_before_close "$WORK/mx.out")" nothing "$WORK/mx.err"
expect_eq "max_connections 5: once one of the 5 closes, the 6th's handshake completes" \
    "$(kv extra_after_close "$WORK/mx.out")" handshake_ok "$WORK/mx.err" "$MOAT_LOG"
expect_eq "max_connections 5: the 6th connection then echoes" "$(kv extra_echo "$WORK/mx.out")" ok
grep -q 'max_connections (5) reached: accepting paused' "$MOAT_LOG" &&
    ok "moat logs 'max_connections (5) reached: accepting paused'" ||
    not_ok "moat logs 'max_connections (5) reached: accepting paused'" "$MOAT_LOG"
wait_access ' end=' 10 6 && ok "access log: the 6 connections ended" ||
    not_ok "access log: the 6 connections ended" "$ACCESS_LOG"
check_alive "moat still running"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
finish
