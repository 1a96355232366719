#!/bin/sh
# 256 MiB each way through moat with a deliberately slow reader: the python client
# sends 256 MiB of seeded pseudo-random data to an echo backend through moat while it
# reads the echo back not at all for 2 s, then in 8 KiB pieces with pauses until
# 32 MiB came back, then at full speed. Both directions' SHA-256 must match, and
# moat's resident memory (VmRSS, sampled every 0.5 s) must stay under RSS_LIMIT_KIB
# (64 MiB): backpressure, not buffering. The bound is on memory, not on time.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

SIZE=${BULK_SIZE:-268435456}
RSS_LIMIT_KIB=${RSS_LIMIT_KIB:-65536}

need python3 timeout || finish
need_binaries || finish

start_backend echo --mode echo --quiet || finish
P_ECHO=$BACKEND_PORT
PORT=$(free_ports 1)
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF2
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 5s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
  - address: "127.0.0.1:$PORT"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: echo
backends:
  echo: { servers: ["127.0.0.1:$P_ECHO"] }
EOF2
start_moat "$CONF" || finish
rss0=$(moat_rss "$MOAT_PID")
diag "moat RSS before the transfer: $rss0 KiB"

CLIENT_TIMEOUT=100 mc bulk --port "$PORT" --size "$SIZE" --seed 7 --stall 2 \
    --slow $((32 * 1024 * 1024)) --rss-pid "$MOAT_PID" --limit 90 \
    >"$WORK/bulk.out" 2>"$WORK/bulk.err"
st=$?
sed 's/^/# /' "$WORK/bulk.out"
sent=$(kv sent "$WORK/bulk.out")
recv=$(kv received "$WORK/bulk.out")
hs=$(kv sha256_sent "$WORK/bulk.out")
hr=$(kv sha256_received "$WORK/bulk.out")
if [ "$st" -eq 0 ] && [ "$sent" = "$SIZE" ] && [ "$recv" = "$SIZE" ] && [ -n "$hs" ] && [ "$hs" = "$hr" ]; then
    ok "$SIZE bytes each way in $(kv seconds "$WORK/bulk.out") s, SHA-256 of both directions match ($hs)"
else
    not_ok "$SIZE bytes each way, SHA-256 of both directions match" "client exit $st, end $(kv end "$WORK/bulk.out")" \
        "sent $sent, received $recv" "$WORK/bulk.err" "$MOAT_LOG"
fi
# The seeded data is what the client says it sent (the hash of a known stream).
want=$(python3 -c "
import hashlib, random
r = random.Random(7); h = hashlib.sha256(); left = $SIZE
while left:
    n = min(65536, left); h.update(r.randbytes(n)); left -= n
print(h.hexdigest())")
expect_eq "the data sent is the seeded stream" "$hs" "$want"

during=$(kv sent_during_stall "$WORK/bulk.out")
if [ -n "$during" ] && [ "$during" != None ] && [ "$during" -lt $((64 * 1024 * 1024)) ]; then
    ok "while the client read nothing, moat (and the backend) accepted only $during bytes"
else
    not_ok "while the client read nothing, moat accepted less than 64 MiB" "sent during the stall: $during"
fi

max=$(kv max_rss_kib "$WORK/bulk.out")
n=$(kv rss_samples "$WORK/bulk.out")
echo "moat max RSS: ${max:-?} KiB"
if [ -n "$max" ] && [ "${n:-0}" -ge 4 ] && [ "$max" -lt "$RSS_LIMIT_KIB" ]; then
    ok "moat max RSS $max KiB < $RSS_LIMIT_KIB KiB over $n samples (before: $rss0 KiB)"
else
    not_ok "moat max RSS < $RSS_LIMIT_KIB KiB" "max $max KiB over $n samples"
fi

if wait_access ' client=127\.0\.0\.1:' 5; then
    l=$(access_lines ' client=127\.0\.0\.1:' | tail -n 1)
    if [ "$(field bytes_in "$l")" = "$SIZE" ] && [ "$(field bytes_out "$l")" = "$SIZE" ] &&
        [ "$(field end "$l")" = closed ]; then
        ok "access log: bytes_in = bytes_out = $SIZE, end=\"closed\""
    else
        not_ok "access log: bytes_in = bytes_out = $SIZE, end=\"closed\"" "line: $l"
    fi
else
    not_ok "access log has the transfer's line" "$ACCESS_LOG"
fi

# Half-close: the client's close_notify ends only its own direction; the echo of
# everything it sent still arrives, then moat's close_notify.
: >"$ACCESS_LOG"
mc halfclose --port "$PORT" --size 4194304 --seed 3 >"$WORK/hc.out" 2>"$WORK/hc.err"
st=$?
if [ "$st" -eq 0 ] && [ "$(kv echo "$WORK/hc.out")" = exact ] && [ "$(kv end "$WORK/hc.out")" = close_notify ]; then
    ok "half-close: after the client's close_notify, the whole 4 MiB echo arrives, then close_notify"
else
    not_ok "half-close: after the client's close_notify, the whole echo arrives, then close_notify" \
        "exit $st" "$WORK/hc.out" "$WORK/hc.err"
fi
if wait_access ' end=' 5; then
    l=$(access_lines ' end=' | tail -n 1)
    expect_eq "half-close: access log bytes_in, bytes_out, end" \
        "$(field bytes_in "$l") $(field bytes_out "$l") $(field end "$l")" "4194304 4194304 closed" "line: $l"
else
    not_ok "half-close: access-log line" "$ACCESS_LOG"
fi

# A client that sends without reading and then resets the connection: moat must let
# go of everything (both sockets) it held for it.
fd0=$(moat_fds "$MOAT_PID")
: >"$ACCESS_LOG"
mc abort --port "$PORT" --size 33554432 --limit 5 >"$WORK/ab.out" 2>"$WORK/ab.err"
st=$?
expect_eq "abort: the client sent data without reading, then reset" \
    "$st $(kv reset "$WORK/ab.out")" "0 yes" "$WORK/ab.err"
diag "abort: sent $(kv sent "$WORK/ab.out") bytes before the reset"
if wait_access ' end=' 10; then
    ok "abort: access log end=\"$(field end "$(access_lines ' end=' | tail -n 1)")\""
else
    not_ok "abort: the connection ended (access-log line)" "$ACCESS_LOG"
fi
i=0
fd1=$(moat_fds "$MOAT_PID")
while [ "$fd1" -gt "$fd0" ] && [ "$i" -lt 100 ]; do
    sleep_short
    i=$((i + 1))
    fd1=$(moat_fds "$MOAT_PID")
done
expect_eq "abort: moat's descriptors back to $fd0" "$fd1" "$fd0"

check_alive "moat still running"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
finish
