#!/bin/sh
# moat's limits under hostile load (moat.yaml(5): limits, timeouts), with real processes:
#
#  1. Slowloris: 5 clients trickling a ClientHello one byte per second are cut at the
#     handshake timeout (2 s), each logged "handshake timeout", while a normal client
#     is served at once.
#  2. max_handshakes 2 (one worker, handshake timeout 1 s): an established connection
#     echoes every 0.1 s throughout while 10 slowloris clients take the two handshake
#     places; they are served two at a time (so their ends spread over seconds, not all
#     at 1 s), and a normal client that came after them is served once they have timed
#     out, not before; moat logs that accepting paused.
#  3. per_source max_connections 3: of 5 connections from 127.0.0.1, 3 are served and 2
#     reset before any ServerHello; once one closes, another is served; 127.0.0.2 has
#     its own count. A rate of 5/s: a quick burst of 10 gets 5 (or one more if a token
#     came back meanwhile) and the rest reset; a second later 5 more are served. Both
#     refusals are logged, rate-limited.
#  4. max_handshake_message 4KiB: a ClientHello of 4096 bytes gets a ServerHello, 4097
#     and a bare header claiming 1 MiB get decode_error (the access log names
#     InvalidMessage(HandshakePayloadTooLarge)); with the default limit a 5000-byte one
#     is served. max_certificate_chain 1KiB: a TLS backend's 2.6 KiB chain is refused
#     (backend tls error logged); with the default it serves.
#  5. Floods (tests/tools/floodclient, a TLS 1.3 client that can send them): 32 empty
#     records or 16 KeyUpdates are tolerated; 33 empty records, 33 user_canceled
#     warnings, 17 KeyUpdates (answered ones too) get unexpected_message, and the access
#     log names PeerMisbehaved(TooManyEmptyFragments) / (TooManyKeyUpdates).
#  7. max_empty_records / max_key_updates set below and above the defaults move the
#     thresholds (4 empty records tolerated, the 5th closes; 40 KeyUpdates tolerated).
#  6. max_buffered: an upload to a backend that never reads grows moat's memory by
#     less than 8 MiB with max_buffered 64KiB, and by more than 16 MiB with 48MiB
#     (what the limit allows is what moat holds; backpressure does the rest).
# Bounds are loose on time and tight on counts; every wait is bounded.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

LIMITS=tests/interop/moat_limits.py
FLOOD=${FLOODCLIENT:-$BUILD/tools/floodclient}
P256=$CERTS/ecdsa-p256

need python3 timeout || finish
need_binaries || finish
CLIENT_TIMEOUT=30 # every client below bounds its own waits; this is the backstop
WORKERS=2

# ml COMMAND ARGS...: the limits client, bounded by the client timeout.
ml() {
    tmo python3 "$LIMITS" "$@"
}

# in_range VALUE LOW HIGH: LOW <= VALUE <= HIGH (decimals allowed).
in_range() {
    python3 -c "import sys; v = float(sys.argv[1]); sys.exit(0 if $2 <= v <= $3 else 1)" "$1" \
        2>/dev/null
}

# wait_file FILE SECONDS
wait_file() {
    _ticks=$(($2 * 10))
    while [ "$_ticks" -gt 0 ]; do
        [ -e "$1" ] && return 0
        sleep_short
        _ticks=$((_ticks - 1))
    done
    return 1
}

# conf FILE PORT BACKEND_PORT LIMITS [TIMEOUTS]: a one-listener config in front of an
# echo backend.
conf() {
    _timeouts=${5:-"{ handshake: 2s, idle: 10s, connect: 2s, drain: 1s }"}
    cat >"$1" <<EOF2
workers: $WORKERS
log: { level: info, access: $ACCESS_LOG }
timeouts: $_timeouts
limits: $4
listeners:
  - address: "127.0.0.1:$2"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: echo
backends:
  echo: { servers: ["127.0.0.1:$3"] }
EOF2
}

start_backend echo --mode echo --quiet || finish
P_ECHO=$BACKEND_PORT

# ---- 1. slowloris against the handshake timeout ------------------------------------------
set -- $(free_ports 1)
P=$1
conf "$WORK/a.yaml" "$P" "$P_ECHO" "{ max_connections: 1000 }"
start_moat "$WORK/a.yaml" || finish
ml slowloris --port "$P" --count 5 --interval 1 --limit 20 --ready "$WORK/sl.ready" \
    >"$WORK/sl.out" 2>"$WORK/sl.err" &
SL=$!
wait_file "$WORK/sl.ready" 10
ml timed --port "$P" >"$WORK/t1.out" 2>"$WORK/t1.err"
hs=$(kv handshake_seconds "$WORK/t1.out")
if in_range "$hs" 0 1.5 && [ "$(kv echo "$WORK/t1.out")" = ok ]; then
    ok "slowloris: a normal client is served meanwhile (handshake in $hs s)"
else
    not_ok "slowloris: a normal client is served meanwhile" "handshake $hs" "$WORK/t1.out" "$WORK/t1.err"
fi
wait "$SL"
if [ "$(kv closed "$WORK/sl.out")" = 5 ] && [ "$(kv answered "$WORK/sl.out")" = 0 ] &&
    in_range "$(kv min_closed "$WORK/sl.out")" 1.5 6 && in_range "$(kv max_closed "$WORK/sl.out")" 1.5 6; then
    ok "slowloris: 5 clients sending 1 byte/s cut at the 2 s handshake timeout ($(kv min_closed "$WORK/sl.out")..$(kv max_closed "$WORK/sl.out") s, $(kv max_sent "$WORK/sl.out") of $(kv hello_len "$WORK/sl.out") bytes sent)"
else
    not_ok "slowloris: 5 clients cut at the handshake timeout" "$WORK/sl.out" "$WORK/sl.err"
fi
if wait_access 'end="handshake timeout"' 5 5; then
    ok "slowloris: access log says end=\"handshake timeout\" for each"
else
    not_ok "slowloris: access log says handshake timeout 5 times" "$ACCESS_LOG"
fi

# ---- 5. floods (same moat: an echo backend, the default limits) ----------------------------
# flood DESC MODE COUNT WANT_ALERT [END]: floodclient's alert is WANT_ALERT (none: the
# connection survives and echoes) and, if given, that connection's access-log end is END.
flood() {
    _desc=$1 _mode=$2 _count=$3 _want=$4 _words=${5:-}
    tmo "$FLOOD" "$P" "$_mode" "$_count" >"$WORK/fl.out" 2>"$WORK/fl.err"
    _st=$?
    _alert=$(kv alert "$WORK/fl.out")
    if [ "$_st" -eq 0 ] && [ "$(kv handshake "$WORK/fl.out")" = ok ] &&
        [ "$(kv echo_before "$WORK/fl.out")" = ok ] && [ "$_alert" = "$_want" ] &&
        { [ "$_want" != none ] || [ "$(kv echo_after "$WORK/fl.out")" = ok ]; } &&
        { [ "$_want" = none ] || [ "$(kv alert_level "$WORK/fl.out")" = 2 ]; }; then
        ok "flood: $_desc -> ${_want}"
    else
        not_ok "flood: $_desc -> $_want" "exit $_st" "$WORK/fl.out" "$WORK/fl.err"
    fi
    if [ -n "$_words" ]; then
        _lp=$(kv local_port "$WORK/fl.out")
        if wait_access " client=127\\.0\\.0\\.1:$_lp " 5; then
            expect_eq "flood: $_desc: access log" \
                "$(field end "$(access_lines " client=127\\.0\\.0\\.1:$_lp " | tail -n 1)")" "$_words"
        else
            not_ok "flood: $_desc: access-log line for client port $_lp" "$ACCESS_LOG"
        fi
    fi
}

if [ -x "$FLOOD" ]; then
    flood "32 empty records (tolerated)" empty 32 none
    flood "33 empty records" empty 33 unexpected_message \
        "tls error: PeerMisbehaved(TooManyEmptyFragments) (sent unexpected_message)"
    flood "33 user_canceled warnings" user-canceled 33 unexpected_message \
        "tls error: PeerMisbehaved(TooManyEmptyFragments) (sent unexpected_message)"
    flood "16 KeyUpdates (tolerated)" key-update 16 none
    flood "17 KeyUpdates" key-update 17 unexpected_message \
        "tls error: PeerMisbehaved(TooManyKeyUpdates) (sent unexpected_message)"
    flood "17 KeyUpdates asking for an answer" key-update-requested 17 unexpected_message \
        "tls error: PeerMisbehaved(TooManyKeyUpdates) (sent unexpected_message)"
    expect_eq "flood: the 16 requested KeyUpdates were answered, the 17th was not" \
        "$(kv key_updates "$WORK/fl.out")" 16 "$WORK/fl.out"
    ml timed --port "$P" >"$WORK/t2.out" 2>&1
    expect_eq "flood: moat still serves afterwards" "$(kv echo "$WORK/t2.out")" ok "$WORK/t2.out"
else
    not_ok "$FLOOD is built" "run: make $FLOOD (make test builds it)"
fi
check_alive "moat still running after slowloris and floods"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# ---- 2. max_handshakes --------------------------------------------------------------------
WORKERS=1
conf "$WORK/b.yaml" "$P" "$P_ECHO" "{ max_handshakes: 2 }" \
    "{ handshake: 1s, idle: 20s, connect: 2s, drain: 1s }"
WORKERS=2
start_moat "$WORK/b.yaml" || finish
ml stream --port "$P" --seconds 9 --interval 0.1 --ready "$WORK/st.ready" \
    >"$WORK/st.out" 2>"$WORK/st.err" &
ST=$!
wait_file "$WORK/st.ready" 10
log_mark
ml slowloris --port "$P" --count 10 --interval 1 --limit 30 --ready "$WORK/sl2.ready" \
    >"$WORK/sl2.out" 2>"$WORK/sl2.err" &
SL=$!
wait_file "$WORK/sl2.ready" 10
sleep 0.3
ml timed --port "$P" --timeout 20 >"$WORK/t3.out" 2>"$WORK/t3.err"
wait "$SL"
wait "$ST"
hs=$(kv handshake_seconds "$WORK/t3.out")
if in_range "$hs" 2.5 15 && [ "$(kv echo "$WORK/t3.out")" = ok ]; then
    ok "max_handshakes 2: a client behind 10 slow handshakes waits in the backlog, then is served ($hs s)"
else
    not_ok "max_handshakes 2: a client behind 10 slow handshakes is served after they time out (2.5..15 s)" \
        "handshake $hs" "$WORK/t3.out" "$WORK/t3.err" "$WORK/sl2.out"
fi
if [ "$(kv closed "$WORK/sl2.out")" = 10 ] && [ "$(kv answered "$WORK/sl2.out")" = 0 ] &&
    in_range "$(kv spread "$WORK/sl2.out")" 2 15; then
    ok "max_handshakes 2: the 10 slow handshakes were let in two at a time (ends spread over $(kv spread "$WORK/sl2.out") s)"
else
    not_ok "max_handshakes 2: the 10 slow handshakes were let in two at a time" "$WORK/sl2.out"
fi
if [ "$(kv failed "$WORK/st.out")" = 0 ] && [ "$(kv rounds "$WORK/st.out")" -ge 40 ] &&
    in_range "$(kv max_rtt "$WORK/st.out")" 0 1; then
    ok "max_handshakes 2: the established connection kept echoing throughout ($(kv rounds "$WORK/st.out") rounds, slowest $(kv max_rtt "$WORK/st.out") s)"
else
    not_ok "max_handshakes 2: the established connection kept echoing" "$WORK/st.out" "$WORK/st.err"
fi
if log_since | grep -q 'max_handshakes (2) reached: accepting paused'; then
    ok "max_handshakes 2: moat logged that accepting paused"
else
    not_ok "max_handshakes 2: moat logged that accepting paused" "$MOAT_LOG"
fi
ml timed --port "$P" >"$WORK/t4.out" 2>&1
hs=$(kv handshake_seconds "$WORK/t4.out")
if in_range "$hs" 0 1.5; then
    ok "max_handshakes 2: once they are gone, a client is served at once ($hs s)"
else
    not_ok "max_handshakes 2: once they are gone, a client is served at once" "$WORK/t4.out"
fi
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# ---- 3. per-source limits ------------------------------------------------------------------
conf "$WORK/c.yaml" "$P" "$P_ECHO" "{ per_source: { max_connections: 3 } }"
start_moat "$WORK/c.yaml" || finish
log_mark
ml hold --port "$P" --count 5 --other-source 127.0.0.2 >"$WORK/h.out" 2>"$WORK/h.err"
expect_eq "per_source max_connections 3: 3 of 5 connections from 127.0.0.1 served" \
    "$(kv served "$WORK/h.out")" 3 "$WORK/h.out" "$WORK/h.err"
expect_eq "per_source max_connections 3: the other 2 reset before a ServerHello" \
    "$(kv refused "$WORK/h.out"):$(kv refused_how "$WORK/h.out")" 2:reset "$WORK/h.out"
expect_eq "per_source max_connections 3: once one closes, another is served" \
    "$(kv after_close "$WORK/h.out")" ok "$WORK/h.out"
expect_eq "per_source max_connections 3: 127.0.0.2 counts on its own" \
    "$(kv other_source "$WORK/h.out")" ok "$WORK/h.out"
if wait_log 'per_source max_connections \(3\) reached by 127\.0\.0\.1: connection refused' 3; then
    ok "per_source max_connections 3: the refusal is logged"
else
    not_ok "per_source max_connections 3: the refusal is logged" "$MOAT_LOG"
fi
stop_moat

conf "$WORK/d.yaml" "$P" "$P_ECHO" "{ per_source: { rate: 5/s } }"
start_moat "$WORK/d.yaml" || finish
log_mark
ml burst --port "$P" --count 10 >"$WORK/r1.out" 2>"$WORK/r1.err"
served=$(kv served "$WORK/r1.out")
secs=$(kv seconds "$WORK/r1.out")
# 5 at once, then one more per 200 ms the burst lasted.
most=$(python3 -c "import math, sys; print(5 + math.ceil(float(sys.argv[1]) * 5))" "${secs:-99}")
if [ -n "$served" ] && [ "$served" -ge 5 ] && [ "$served" -le "$most" ] && [ "$served" -lt 10 ] &&
    [ "$(kv refused "$WORK/r1.out")" -eq $((10 - served)) ]; then
    ok "per_source rate 5/s: a burst of 10 in $secs s: $served served (at most $most), the rest reset"
else
    not_ok "per_source rate 5/s: a burst of 10 gets 5 served (plus one per 200 ms it lasted)" \
        "$WORK/r1.out" "$WORK/r1.err"
fi
sleep 1.2
ml burst --port "$P" --count 5 >"$WORK/r2.out" 2>"$WORK/r2.err"
expect_eq "per_source rate 5/s: a second later, 5 more are served" "$(kv served "$WORK/r2.out")" 5 \
    "$WORK/r2.out"
if wait_log 'per_source rate \(5 per 1000 ms\) reached by 127\.0\.0\.1' 3; then
    ok "per_source rate 5/s: the refusal is logged"
else
    not_ok "per_source rate 5/s: the refusal is logged" "$MOAT_LOG"
fi
n=$(log_since | grep -c 'per_source rate')
if [ "$n" -ge 1 ] && [ "$n" -le 2 ]; then
    ok "per_source rate 5/s: refusals are logged at most once per worker per 10 s ($n lines for $(kv refused "$WORK/r1.out") refusals)"
else
    not_ok "per_source rate 5/s: refusals are logged at most once per worker (2) per 10 s" "$n lines" "$MOAT_LOG"
fi
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# ---- 4. handshake message and certificate chain sizes ----------------------------------------
TB_LOG=$WORK/tb.log
"$TLSSERVER" -p 0 --address 127.0.0.1 --certs "$P256/end.fullchain" --key "$P256/end.key" http \
    >"$WORK/tb.out" 2>"$TB_LOG" </dev/null &
TB_PID=$!
track_pid "$TB_PID"
if _wait_line "$WORK/tb.out" '^listening on 127\.0\.0\.1:[0-9]+' 1 "$TB_PID"; then
    P_TB=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/tb.out" | head -n 1)
else
    not_ok "tlsserver (TLS backend) starts" "$WORK/tb.out" "$TB_LOG"
    finish
fi
set -- $(free_ports 2)
P2=$2
# sizes_conf FILE LIMITS: the echo listener on $P, a TLS-backend listener on $P2.
sizes_conf() {
    cat >"$1" <<EOF2
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 2s, idle: 10s, connect: 2s, drain: 1s }
limits: $2
listeners:
  - address: "127.0.0.1:$P"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: echo
  - address: "127.0.0.1:$P2"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: tb
backends:
  echo: { servers: ["127.0.0.1:$P_ECHO"] }
  tb:
    servers: ["127.0.0.1:$P_TB"]
    tls: { ca: $P256/ca.cert, server_name: localhost }
EOF2
}
# hello_is DESC BODY WANT
hello_is() {
    ml hello --port "$P" --body "$2" --timeout 3 >"$WORK/hl.out" 2>"$WORK/hl.err"
    expect_eq "$1" "$(head -n 1 "$WORK/hl.out")" "$3" "$WORK/hl.err"
}
sizes_conf "$WORK/e.yaml" "{ max_handshake_message: 4KiB, max_certificate_chain: 1KiB }"
start_moat "$WORK/e.yaml" 2 || finish
hello_is "max_handshake_message 4KiB: a 4096-byte ClientHello gets a ServerHello" 4096 server_hello
hello_is "max_handshake_message 4KiB: a 4097-byte ClientHello gets decode_error" 4097 decode_error
ml header --port "$P" --length 1048576 --timeout 3 >"$WORK/hd.out" 2>"$WORK/hd.err"
expect_eq "max_handshake_message 4KiB: a header claiming 1 MiB gets decode_error at once" \
    "$(head -n 1 "$WORK/hd.out")" decode_error "$WORK/hd.err"
if wait_access 'end="tls error: InvalidMessage\(HandshakePayloadTooLarge\) \(sent decode_error\)"' 5 2; then
    ok "max_handshake_message 4KiB: the access log names InvalidMessage(HandshakePayloadTooLarge)"
else
    not_ok "max_handshake_message 4KiB: the access log names the error" "$ACCESS_LOG"
fi
log_mark
mc get --port "$P2" >"$WORK/g1.out" 2>"$WORK/g1.err"
if [ "$(kv status "$WORK/g1.out")" != 200 ] &&
    wait_log 'tls error: InvalidMessage\(HandshakePayloadTooLarge\)' 5; then
    ok "max_certificate_chain 1KiB: the TLS backend's chain is refused (backend tls error logged)"
else
    not_ok "max_certificate_chain 1KiB: the TLS backend's chain is refused" "$WORK/g1.out" "$MOAT_LOG"
fi
stop_moat
sizes_conf "$WORK/f.yaml" "{ max_connections: 1000 }"
start_moat "$WORK/f.yaml" 2 || finish
hello_is "default max_handshake_message: a 5000-byte ClientHello gets a ServerHello" 5000 server_hello
mc get --port "$P2" >"$WORK/g2.out" 2>"$WORK/g2.err"
expect_eq "default max_certificate_chain: the TLS backend serves (status 200)" \
    "$(kv status "$WORK/g2.out")" 200 "$WORK/g2.out" "$WORK/g2.err"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
stop_pid "$TB_PID"

# ---- 6. max_buffered --------------------------------------------------------------------------
python3 "$LIMITS" stallserver >"$WORK/stall.out" 2>&1 </dev/null &
STALL=$!
track_pid "$STALL"
if _wait_line "$WORK/stall.out" '^listening on 127\.0\.0\.1:[0-9]+' 1 "$STALL"; then
    P_STALL=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/stall.out")
    # upload_growth SIZE: moat's RSS growth (KiB) while 64 MiB go toward the stalled backend.
    upload_growth() {
        WORKERS=1
        conf "$WORK/g.yaml" "$P" "$P_STALL" "{ max_buffered: $1 }"
        WORKERS=2
        start_moat "$WORK/g.yaml" || return 1
        ml upload --port "$P" --size $((64 << 20)) --seconds 4 --rss-pid "$MOAT_PID" \
            >"$WORK/up-$1.out" 2>"$WORK/up-$1.err"
        GROWTH=$(($(kv rss_max_kib "$WORK/up-$1.out") - $(kv rss_start_kib "$WORK/up-$1.out")))
        diag "max_buffered $1: sent $(kv sent "$WORK/up-$1.out") bytes, moat RSS grew $GROWTH KiB"
        stop_moat
    }
    if upload_growth 64KiB; then
        if [ "$GROWTH" -lt 8192 ]; then
            ok "max_buffered 64KiB: a stalled backend holds moat's growth to $GROWTH KiB (< 8 MiB)"
        else
            not_ok "max_buffered 64KiB: moat grows less than 8 MiB" "grew $GROWTH KiB" "$WORK/up-64KiB.out"
        fi
    fi
    if upload_growth 48MiB; then
        if [ "$GROWTH" -gt 16384 ]; then
            ok "max_buffered 48MiB: moat buffers what the limit allows (grew $GROWTH KiB > 16 MiB)"
        else
            not_ok "max_buffered 48MiB: moat buffers more than 16 MiB" "grew $GROWTH KiB" "$WORK/up-48MiB.out"
        fi
    fi
    stop_pid "$STALL"
else
    not_ok "stallserver starts" "$WORK/stall.out"
fi

# ---- 7. configured flood bounds: lower and higher than the defaults ----------------------------
if [ -x "$FLOOD" ]; then
    conf "$WORK/h.yaml" "$P" "$P_ECHO" "{ max_empty_records: 4, max_key_updates: 40 }"
    if start_moat "$WORK/h.yaml"; then
        flood "max_empty_records 4: 4 empty records (tolerated)" empty 4 none
        flood "max_empty_records 4: 5 empty records" empty 5 unexpected_message \
            "tls error: PeerMisbehaved(TooManyEmptyFragments) (sent unexpected_message)"
        flood "max_key_updates 40: 40 KeyUpdates (tolerated, above the default 16)" key-update 40 none
        flood "max_key_updates 40: 41 KeyUpdates asking for an answer" key-update-requested 41 \
            unexpected_message "tls error: PeerMisbehaved(TooManyKeyUpdates) (sent unexpected_message)"
        expect_eq "max_key_updates 40: 40 requested KeyUpdates answered" \
            "$(kv key_updates "$WORK/fl.out")" 40 "$WORK/fl.out"
        stop_moat
    fi
fi
finish
