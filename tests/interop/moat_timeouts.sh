#!/bin/sh
# moat's timeouts: a client that connects and sends nothing, or half a ClientHello,
# or stops in the middle of a PROXY header, is cut at the handshake timeout (1 s
# here); an established connection with no traffic either way is closed (with
# close_notify) at the idle timeout (1 s), while one with traffic every 0.4 s is not.
# With proxy_protocol_in the handshake has its own full timeout once the PROXY header
# has arrived (moat.yaml(5): the header's time is "counted separately").
# The bounds checked are loose (closed within 10 s, not before 0.5 s): what matters
# is that the timer is what closes them, and that the access log names it.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need python3 timeout || finish
need_binaries || finish

start_backend echo --mode echo || finish
P_ECHO=$BACKEND_PORT
set -- $(free_ports 2)
P1=$1 P2=$2
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF2
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 1s, idle: 1s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
  - address: "127.0.0.1:$P1"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: echo
  - address: "127.0.0.1:$P2"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: echo
    proxy_protocol_in: true
backends:
  echo: { servers: ["127.0.0.1:$P_ECHO"] }
EOF2
start_moat "$CONF" 2 || finish

# in_range VALUE LOW HIGH: LOW <= VALUE <= HIGH (decimals allowed).
in_range() {
    python3 -c "import sys; v = float(sys.argv[1]); sys.exit(0 if $2 <= v <= $3 else 1)" "$1" \
        2>/dev/null
}

# logged_end DESC CLIENT_PORT END: the access-log line of that connection has END.
logged_end() {
    if wait_access " client=127\\.0\\.0\\.1:$2 " 5; then
        _l=$(access_lines " client=127\\.0\\.0\\.1:$2 " | tail -n 1)
        expect_eq "$1: access log end=\"$3\"" "$(field end "$_l")" "$3" "line: $_l"
    else
        not_ok "$1: access-log line for client port $2" "$ACCESS_LOG"
    fi
}

# stalled DESC PORT MODE [ARGS...]: a connection that never finishes its handshake.
stalled() {
    _desc=$1 _port=$2 _mode=$3
    shift 3
    CLIENT_TIMEOUT=20 mc stall --port "$_port" --mode "$_mode" --limit 10 "$@" \
        >"$WORK/st.out" 2>"$WORK/st.err"
    _t=$(kv closed_after "$WORK/st.out")
    if [ "$_t" != never ] && in_range "$_t" 0.5 10; then
        ok "$_desc: closed by moat after $_t s (handshake timeout 1 s)"
    else
        not_ok "$_desc: closed by moat within 0.5..10 s" "closed_after=$_t" "$WORK/st.out" "$WORK/st.err"
    fi
    logged_end "$_desc" "$(kv local_port "$WORK/st.out")" "handshake timeout"
}

stalled "TCP connect, nothing sent" "$P1" nothing
expect_eq "TCP connect, nothing sent: moat sent nothing either" "$(kv received "$WORK/st.out")" 0
stalled "half a ClientHello" "$P1" half-hello
stalled "proxy_protocol_in, nothing sent" "$P2" nothing
stalled "proxy_protocol_in, half a PROXY v1 line" "$P2" nothing --proxy-header "PROXY TCP4 203.0.113.7 "

# Idle: an established connection (echo round trip done), then silence.
CLIENT_TIMEOUT=20 mc idle --port "$P1" --limit 10 >"$WORK/idle.out" 2>"$WORK/idle.err"
st=$?
t=$(kv closed_after "$WORK/idle.out")
if [ "$st" -eq 0 ] && [ "$(kv echo "$WORK/idle.out")" = ok ] &&
    [ "$(kv end "$WORK/idle.out")" = close_notify ] && in_range "$t" 0.5 10; then
    ok "idle connection: closed with close_notify after $t s (idle timeout 1 s)"
else
    not_ok "idle connection: closed with close_notify within 0.5..10 s" "exit $st" \
        "$WORK/idle.out" "$WORK/idle.err"
fi
logged_end "idle connection" "$(kv local_port "$WORK/idle.out")" "idle timeout"

# Traffic every 0.4 s for 2.4 s keeps a connection alive past the 1 s idle timeout.
mc echo --port "$P1" --rounds 7 --interval 0.4 >"$WORK/busy.out" 2>"$WORK/busy.err"
expect_eq "a connection with traffic every 0.4 s outlives the 1 s idle timeout (7 of 7 rounds)" \
    "$(kv rounds_ok "$WORK/busy.out")" 7 "$WORK/busy.err"

check_alive "moat still running"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# ---- proxy_protocol_in: the handshake timeout starts again after the PROXY header ----------
# handshake: 3s. The header comes at 2.0 s, the ClientHello 1.8 s later (3.8 s after
# connecting, 1.8 s after the header): within the handshake's own 3 s, so it must
# complete. (Counted from the connection's start it would be cut at 3.0 s.)
sed 's/handshake: 1s/handshake: 3s/' "$CONF" >"$WORK/hs3.yaml"
start_moat "$WORK/hs3.yaml" 2 || finish
CLIENT_TIMEOUT=20 mc late --port "$P2" --wait 2.0 --interval 1.8 \
    --proxy-header "PROXY TCP4 203.0.113.9 127.0.0.1 4343 $P2\\r\\n" >"$WORK/late.out" 2>"$WORK/late.err"
case $(kv handshake "$WORK/late.out") in
"ok after"*)
    ok "PROXY header after 2.0 s, ClientHello 1.8 s later: handshake completes ($(kv handshake "$WORK/late.out") s)"
    expect_eq "... and the connection then echoes" "$(kv echo "$WORK/late.out")" ok
    ;;
*) not_ok "PROXY header after 2.0 s, ClientHello 1.8 s later: handshake completes (timeout counted separately)" \
    "$(kv handshake "$WORK/late.out")" \
    "access log: $(access_lines ' client=203\.0\.113\.9:4343 ' | tail -n 1)" "$WORK/late.err" ;;
esac
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
finish
