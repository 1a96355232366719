#!/bin/sh
# moat failover and balancing: a backend with one live server and one closed port serves every
# request (the dead server is skipped or retried on the live one); a backend whose
# servers are all down ends the client's connection cleanly (TLS completes, then
# close_notify; curl fails fast, no hang) with end="no backend available: ..." in
# the access log; once a server of that backend listens again, requests get through.
# Balancing with two live servers: round-robin alternates, least-connections avoids
# the server that holds an open connection.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need curl python3 timeout || finish
need_binaries || finish

start_backend web || finish
P_LIVE=$BACKEND_PORT
# Ports nobody listens on (probed free, never bound): connecting gets a refusal.
set -- $(free_ports 5)
P1=$1 P2=$2 P_DEAD=$3 P_DEAD1=$4 P_DEAD2=$5
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 3s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
  - address: "127.0.0.1:$P1"
    certificates: [ $(cert_item ecdsa-p256) ]
    alpn: [http/1.1]
    backend: web
  - address: "127.0.0.1:$P2"
    certificates: [ $(cert_item ecdsa-p256) ]
    alpn: [http/1.1]
    backend: dead
backends:
  web: { servers: ["127.0.0.1:$P_DEAD", "127.0.0.1:$P_LIVE"], balance: round-robin }
  dead: { servers: ["127.0.0.1:$P_DEAD1", "127.0.0.1:$P_DEAD2"], balance: round-robin }
EOF
start_moat "$CONF" 2 || finish

curl_moat() { # PORT PATH [ARGS...]
    _p=$1 _path=$2
    shift 2
    tmo curl -sS --tlsv1.3 --http1.1 --cacert "$CA" --resolve "localhost:$_p:127.0.0.1" \
        "$@" "https://localhost:$_p$_path"
}

# ---- one server down: every request succeeds -------------------------------------------
good=0
bad=""
i=0
while [ "$i" -lt 20 ]; do
    i=$((i + 1))
    body=$(curl_moat "$P1" / 2>>"$WORK/curl.err")
    st=$?
    if [ "$st" -eq 0 ] && [ "$body" = "hello from web" ]; then
        good=$((good + 1))
    else
        bad="$bad #$i(exit $st: $body)"
    fi
done
expect_eq "one of two servers down: 20 of 20 requests succeed" "$good" 20 "failed:$bad" \
    "$WORK/curl.err"
if wait_access " listener=127\\.0\\.0\\.1:$P1 " 5 20; then
    n_live=$(access_count " listener=127\\.0\\.0\\.1:$P1 .* backend=web/127\\.0\\.0\\.1:$P_LIVE .* end=\"(closed|client closed without close_notify)\"$")
    expect_eq "access log: 20 lines, each backend=web/127.0.0.1:$P_LIVE, ended normally" \
        "$n_live" 20 "$ACCESS_LOG"
else
    not_ok "access log: 20 lines for the first listener" "$ACCESS_LOG"
fi
if grep -q "backend web server 127.0.0.1:$P_DEAD: connection refused" "$MOAT_LOG"; then
    ok "moat logs the refused connect to the dead server"
else
    not_ok "moat logs the refused connect to the dead server" "$MOAT_LOG"
fi

# ---- every server down --------------------------------------------------------------------
t0=$(date +%s)
curl_moat "$P2" / -o "$WORK/dead.body" 2>"$WORK/dead.err"
st=$?
t1=$(date +%s)
case $st in
0 | 124 | 137) not_ok "all servers down: curl fails (not a hang, not a success)" \
    "curl exit $st after $((t1 - t0)) s" "$WORK/dead.err" ;;
*) ok "all servers down: curl fails fast (exit $st after $((t1 - t0)) s: $(head -c 80 "$WORK/dead.err"))" ;;
esac
[ "$(file_size "$WORK/dead.body")" -eq 0 ] && ok "all servers down: curl got no body" ||
    not_ok "all servers down: curl got no body" "$WORK/dead.body"

mc expect-close --port "$P2" --alpn http/1.1 >"$WORK/py.out" 2>"$WORK/py.err"
st=$?
if [ "$st" -eq 0 ] && [ "$(kv handshake "$WORK/py.out")" = ok ] &&
    [ "$(kv end "$WORK/py.out")" = close_notify ] && [ "$(kv bytes "$WORK/py.out")" = 0 ]; then
    ok "all servers down: python: handshake completes, then close_notify and no data ($(kv seconds "$WORK/py.out") s)"
else
    not_ok "all servers down: python: handshake completes, then close_notify and no data" \
        "exit $st" "$WORK/py.out" "$WORK/py.err"
fi
lp=$(kv local_port "$WORK/py.out")
want_end="no backend available: 2 of 2 servers failed \\(last: 127\\.0\\.0\\.1:($P_DEAD1|$P_DEAD2): connection refused\\)"
if [ -n "$lp" ] && wait_access " client=127\\.0\\.0\\.1:$lp " 5; then
    l=$(access_lines " client=127\\.0\\.0\\.1:$lp " | tail -n 1)
    e=$(field end "$l")
    if printf '%s\n' "$e" | grep -Eqx -- "$want_end" && [ "$(field backend "$l")" = - ] &&
        [ "$(field version "$l")" = TLSv1.3 ] && [ "$(field bytes_in "$l")" = 0 ]; then
        ok "all servers down: access log end=\"$e\", backend=-"
    else
        not_ok "all servers down: access log end=\"no backend available: ...\", backend=-" "line: $l"
    fi
else
    not_ok "all servers down: access-log line for the python client" "$ACCESS_LOG"
fi
expect_eq "all servers down: both connections logged 'no backend available'" \
    "$(access_count " listener=127\\.0\\.0\\.1:$P2 .*end=\"no backend available: 2 of 2 servers failed")" 2 \
    "$ACCESS_LOG"

# ---- a server of the dead backend comes back ------------------------------------------------
# Both are marked down after repeated failures; when every server is down moat still
# tries the one whose down period ends first, so a revived server is found at once.
"$BACKEND" --listen "127.0.0.1:$P_DEAD2" --name revived >"$WORK/revived.log" 2>&1 </dev/null &
REVIVED=$!
track_pid "$REVIVED"
if _wait_line "$WORK/revived.log" 'listening on' 1 "$REVIVED"; then
    good=0
    for i in 1 2 3 4; do
        body=$(curl_moat "$P2" / 2>>"$WORK/curl2.err")
        [ "$body" = "hello from revived" ] && good=$((good + 1))
    done
    expect_eq "a revived server is used again: 4 of 4 requests succeed" "$good" 4 "$WORK/curl2.err"
else
    diag "could not listen on 127.0.0.1:$P_DEAD2 again (taken meanwhile?): skipping the revival check"
    cat "$WORK/revived.log"
fi

check_alive "moat still running"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# ---- balancing between two live servers -------------------------------------------------------
start_backend a --quiet || finish
P_A=$BACKEND_PORT
start_backend b --quiet || finish
P_B=$BACKEND_PORT
start_backend ea --mode echo --quiet || finish
P_EA=$BACKEND_PORT
start_backend eb --mode echo --quiet || finish
P_EB=$BACKEND_PORT
cat >"$WORK/balance.yaml" <<EOF
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 3s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
  - address: "127.0.0.1:$P1"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: rr
  - address: "127.0.0.1:$P2"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: lc
backends:
  rr: { servers: ["127.0.0.1:$P_A", "127.0.0.1:$P_B"], balance: round-robin }
  lc: { servers: ["127.0.0.1:$P_EA", "127.0.0.1:$P_EB"], balance: least-connections }
EOF
start_moat "$WORK/balance.yaml" 2 || finish
: >"$WORK/rr"
for i in 1 2 3 4 5 6 7 8 9 10; do
    curl_moat "$P1" / >>"$WORK/rr" 2>>"$WORK/rr.err"
done
na=$(grep -c '^hello from a$' "$WORK/rr")
nb=$(grep -c '^hello from b$' "$WORK/rr")
expect_eq "round-robin: 10 requests split 5/5 between the two servers" "$na/$nb" 5/5 "$WORK/rr" "$WORK/rr.err"
if [ "$(sed -n '1p' "$WORK/rr")" != "$(sed -n '2p' "$WORK/rr")" ] &&
    [ "$(sed -n '2p' "$WORK/rr")" != "$(sed -n '3p' "$WORK/rr")" ]; then
    ok "round-robin: consecutive requests alternate"
else
    not_ok "round-robin: consecutive requests alternate" "$WORK/rr"
fi

# least-connections: one connection held open on one server; the next ones (each
# closed before the next starts) all go to the other.
CLIENT_TIMEOUT=40 mc hold --port "$P2" --ready "$WORK/lc.ready" --go "$WORK/lc.go" --limit 30 \
    >"$WORK/lc.out" 2>"$WORK/lc.err" &
LC=$!
track_pid "$LC"
wait_for_size "$WORK/lc.ready" 1 10 || not_ok "least-connections: a held connection" "$WORK/lc.err"
: >"$WORK/lc.ports"
for i in 1 2 3 4 5 6; do
    mc echo --port "$P2" >"$WORK/lc1.out" 2>&1
    kv local_port "$WORK/lc1.out" >>"$WORK/lc.ports"
done
: >"$WORK/lc.go"
wait "$LC"
_forget_pid "$LC"
held_port=$(kv local_port "$WORK/lc.out")
wait_access " client=127\\.0\\.0\\.1:$held_port " 5
held_srv=$(field backend "$(access_lines " client=127\\.0\\.0\\.1:$held_port " | tail -n 1)")
others=""
for p in $(cat "$WORK/lc.ports"); do
    wait_access " client=127\\.0\\.0\\.1:$p " 5
    others="$others $(field backend "$(access_lines " client=127\\.0\\.0\\.1:$p " | tail -n 1)")"
done
set -- $others
distinct=$(printf '%s\n' $others | sort -u)
if [ $# -eq 6 ] && [ "$(printf '%s\n' "$distinct" | wc -l)" -eq 1 ] && [ -n "$held_srv" ] &&
    [ "$distinct" != "$held_srv" ] && [ "$held_srv" != - ]; then
    ok "least-connections: with one connection held on $held_srv, 6 of 6 new ones go to $distinct"
else
    not_ok "least-connections: new connections avoid the server holding one" \
        "held on '$held_srv'; the others:$others"
fi
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
finish
