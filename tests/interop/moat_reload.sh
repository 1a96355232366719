#!/bin/sh
# moat reloads on SIGHUP: a certificate replaced on disk is served to new connections
# while an established connection keeps working; an invalid configuration (YAML
# syntax error, then an unloadable certificate) is refused with "reload failed" and
# the running one (with its certificate) stays in service; a later valid reload
# applies; SIGTERM ends moat with status 0.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need python3 timeout || finish
need_binaries || finish

start_backend echo --mode echo || finish
P_ECHO=$BACKEND_PORT
PORT=$(free_ports 1)
CONF=$WORK/moat.yaml
CERT=$WORK/server.fullchain
KEY=$WORK/server.key
cp "$CERTS/ecdsa-p256/end.fullchain" "$CERT"
cp "$CERTS/ecdsa-p256/end.key" "$KEY"
cat >"$CONF" <<EOF2
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 3s, idle: 30s, connect: 2s, drain: 3s }
limits: { max_connections: 1000 }
listeners:
  - address: "127.0.0.1:$PORT"
    certificates:
      - { cert: $CERT, key: $KEY }
    backend: echo
backends:
  echo: { servers: ["127.0.0.1:$P_ECHO"] }
EOF2
cp "$CONF" "$WORK/good.yaml"
start_moat "$CONF" || finish

FP_EC=$(python3 "$MOATCLIENT" fp --file "$CERTS/ecdsa-p256/end.fullchain")
FP_RSA=$(python3 "$MOATCLIENT" fp --file "$CERTS/rsa2048/end.fullchain")

# served DESC CA WANT_FP: a new connection gets the certificate WANT_FP (its chain
# verified against CA) and an echo round trip works on it.
served() {
    mc cert --port "$PORT" --ca "$2" >"$WORK/c.out" 2>"$WORK/c.err"
    _st=$?
    expect_eq "$1: new connection gets the expected certificate" \
        "$_st $(kv sha256 "$WORK/c.out")" "0 $3" "$WORK/c.err" "$MOAT_LOG"
    mc echo --port "$PORT" --ca "$2" --rounds 2 >"$WORK/e.out" 2>"$WORK/e.err"
    expect_eq "$1: new connection echoes" "$(kv rounds_ok "$WORK/e.out")" 2 "$WORK/e.err"
}

# hup DESC ERE: SIGHUP, then wait for a log line matching ERE.
hup() {
    log_mark
    kill -HUP "$MOAT_PID"
    if wait_log "$2" 10; then
        ok "$1: moat logs '$(log_since | grep -E -- "$2" | head -n 1 | sed 's/^[^ ]* //')'"
    else
        not_ok "$1: moat logs /$2/" "$MOAT_LOG"
    fi
}

# replace FILE SOURCE: atomically replaces FILE with a copy of SOURCE.
replace() {
    cp "$2" "$1.new" && mv -f "$1.new" "$1"
}

served "before any reload (ECDSA certificate)" "$CA" "$FP_EC"

# ---- connection A stays open across the reload -----------------------------------------
CLIENT_TIMEOUT=40 mc hold --port "$PORT" --ready "$WORK/a.ready" --go "$WORK/a.go" --limit 30 \
    >"$WORK/a.out" 2>"$WORK/a.err" &
A_PID=$!
track_pid "$A_PID"
wait_for_size "$WORK/a.ready" 1 10 || not_ok "connection A is established" "$WORK/a.err"
expect_eq "connection A: ECDSA certificate, first round trip" \
    "$(kv sha256 "$WORK/a.out") $(kv first "$WORK/a.out")" "$FP_EC ok" "$WORK/a.err"

replace "$CERT" "$CERTS/rsa2048/end.fullchain"
replace "$KEY" "$CERTS/rsa2048/end.key"
hup "SIGHUP with a replaced certificate" 'moat\[info\]: configuration reloaded'
log_since | grep -q 'SIGHUP: reloading' && ok "moat logs 'SIGHUP: reloading ...'" ||
    not_ok "moat logs 'SIGHUP: reloading ...'" "$MOAT_LOG"
served "after the reload (RSA certificate)" "$CERTS/rsa2048/ca.cert" "$FP_RSA"

: >"$WORK/a.go"
wait "$A_PID"
st=$?
_forget_pid "$A_PID"
expect_eq "connection A: still works after the reload (second round trip)" \
    "$st $(kv second "$WORK/a.out")" "0 ok" "$WORK/a.err" "$MOAT_LOG"

# ---- an invalid configuration is refused ------------------------------------------------
printf 'workers: 2\nlisteners: [\n  - address: "127.0.0.1:%s"\n' "$PORT" >"$CONF"
hup "SIGHUP with a YAML syntax error" \
    "moat\\[error\\]: reload failed, keeping the running configuration: $CONF:[0-9]+:[0-9]+: "
check_alive "moat still running after a failed reload"
served "after the failed reload (still RSA)" "$CERTS/rsa2048/ca.cert" "$FP_RSA"

# A valid YAML file whose certificate cannot be loaded is refused as well.
cp "$WORK/good.yaml" "$CONF"
printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' >"$WORK/garbage.pem"
replace "$CERT" "$WORK/garbage.pem"
hup "SIGHUP with an unloadable certificate" \
    "moat\\[error\\]: reload failed, keeping the running configuration: $CONF:[0-9]+:[0-9]+: "
served "after the second failed reload (still RSA)" "$CERTS/rsa2048/ca.cert" "$FP_RSA"

# ---- a valid configuration applies again -----------------------------------------------
replace "$CERT" "$CERTS/ecdsa-p256/end.fullchain"
replace "$KEY" "$CERTS/ecdsa-p256/end.key"
hup "SIGHUP with the ECDSA certificate back" 'moat\[info\]: configuration reloaded'
served "after the last reload (ECDSA again)" "$CA" "$FP_EC"

# ---- reloads while traffic flows ----------------------------------------------------------
# One long-lived connection doing round trips and a stream of new connections, while
# moat reloads 10 times (each reload waited for before the next signal).
CLIENT_TIMEOUT=60 mc echo --port "$PORT" --rounds 60 --interval 0.05 >"$WORK/busy.out" 2>"$WORK/busy.err" &
BUSY=$!
track_pid "$BUSY"
(
    n=0
    while [ ! -e "$WORK/reloads.done" ] && [ "$n" -lt 200 ]; do
        n=$((n + 1))
        python3 "$MOATCLIENT" echo --port "$PORT" --timeout 5 >"$WORK/new.$n.out" 2>&1
    done
) &
NEWS=$!
track_pid "$NEWS"
reloaded=0
i=0
while [ "$i" -lt 10 ]; do
    i=$((i + 1))
    log_mark
    kill -HUP "$MOAT_PID"
    wait_log 'moat\[info\]: configuration reloaded' 10 && reloaded=$((reloaded + 1))
    sleep 0.2 2>/dev/null || sleep 1
done
wait "$BUSY"
_forget_pid "$BUSY"
: >"$WORK/reloads.done"
wait "$NEWS"
_forget_pid "$NEWS"
expect_eq "10 reloads in a row under traffic: all logged 'configuration reloaded'" "$reloaded" 10 "$MOAT_LOG"
expect_eq "a connection open across the 10 reloads: 60 of 60 round trips" \
    "$(kv rounds_ok "$WORK/busy.out")" 60 "$WORK/busy.err"
n_new=$(cat "$WORK"/new.*.out | grep -c '^rounds_ok=1$')
n_all=$(ls "$WORK"/new.*.out | wc -l | tr -d ' ')
if [ "$n_all" -gt 0 ] && [ "$n_new" = "$n_all" ]; then
    ok "new connections during the reloads: $n_new of $n_all echoed"
else
    not_ok "new connections during the reloads all echo" "$n_new of $n_all" \
        "$(grep -L '^rounds_ok=1$' "$WORK"/new.*.out | head -n 1)"
fi

# ---- log rotation: after the file is moved away, SIGHUP opens a new access log ------------------
mv "$ACCESS_LOG" "$ACCESS_LOG.1"
hup "SIGHUP after moving the access log away" 'moat\[info\]: configuration reloaded'
mc echo --port "$PORT" >"$WORK/rot.out" 2>"$WORK/rot.err"
lp=$(kv local_port "$WORK/rot.out")
if wait_access " client=127\\.0\\.0\\.1:$lp " 5; then
    ok "log rotation: the next connection is logged in a new $ACCESS_LOG"
else
    not_ok "log rotation: the next connection is logged in a new access log" \
        "new file: $(cat "$ACCESS_LOG" 2>/dev/null | tail -n 2)" "old file: $(tail -n 2 "$ACCESS_LOG.1")"
fi

# ---- a reload that points the backend elsewhere --------------------------------------------
start_backend web2 --quiet || finish
P_WEB2=$BACKEND_PORT
sed "s/127.0.0.1:$P_ECHO/127.0.0.1:$P_WEB2/" "$WORK/good.yaml" >"$CONF"
CLIENT_TIMEOUT=40 mc hold --port "$PORT" --ready "$WORK/d.ready" --go "$WORK/d.go" --limit 30 \
    >"$WORK/d.out" 2>"$WORK/d.err" &
D_PID=$!
track_pid "$D_PID"
wait_for_size "$WORK/d.ready" 1 10
hup "SIGHUP moving the backend to another server" 'moat\[info\]: configuration reloaded'
mc get --port "$PORT" >"$WORK/g.out" 2>"$WORK/g.err"
expect_eq "after the reload new connections reach the new backend server" \
    "$(kv body "$WORK/g.out")" 'hello from web2\n' "$WORK/g.err"
: >"$WORK/d.go"
wait "$D_PID"
_forget_pid "$D_PID"
expect_eq "a connection opened before that reload stays with the old (echo) server" \
    "$(kv first "$WORK/d.out") $(kv second "$WORK/d.out")" "ok ok" "$WORK/d.err"

check_alive "moat still running"
log_mark
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
wait_log 'moat\[info\]: stopped' 1 && ok "SIGTERM: moat logs 'stopped'" ||
    not_ok "SIGTERM: moat logs 'stopped'" "$MOAT_LOG"
finish
