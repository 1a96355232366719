#!/bin/sh
# moat's session tickets across instances and reloads:
# - two moat processes with the same tls.tickets.key_file (a fleet): a session from
#   instance A resumes on instance B (`openssl s_client -sess_out` on A, `-sess_in`
#   on B prints "Reused"), in TLS 1.3 and in TLS 1.2 (RFC 5077 tickets);
# - an instance with another key file does not resume it;
# - after SIGHUP with the same key_file a session still resumes, and rotating the
#   fleet's keys (a new key first, the old one after it, then SIGHUP) keeps old
#   tickets working while new ones are sealed under the new key;
# - without key_file, a reload that leaves tls.tickets alone keeps the listener's
#   ticketer (sessions from before the reload resume); changing tickets.rotate makes
#   new keys (they do not);
# - a key file readable by group or others is refused by `moat -t`, naming the file.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need openssl python3 timeout || finish
need_binaries || finish

start_backend web || finish
P_WEB=$BACKEND_PORT
set -- $(free_ports 4)
PA=$1 PB=$2 PC=$3 PD=$4

KEYS1=$WORK/fleet1.keys
KEYS2=$WORK/fleet2.keys
openssl rand -hex 32 >"$KEYS1"
openssl rand -hex 32 >"$KEYS2"
chmod 600 "$KEYS1" "$KEYS2"

# write_conf FILE PORT TLS-SECTION
write_conf() {
    cat >"$1" <<EOC
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 3s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
tls:
$3
listeners:
  - address: "127.0.0.1:$2"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: web
backends:
  web: { servers: ["127.0.0.1:$P_WEB"] }
EOC
}

# sclient PORT OUT VERSION-FLAG SESSION-ARGS...: one GET through s_client.
sclient() {
    _port=$1 _out=$2 _ver=$3
    shift 3
    printf 'GET / HTTP/1.0\r\n\r\n' | tmo openssl s_client -connect "127.0.0.1:$_port" \
        -servername localhost "$_ver" -CAfile "$CA" -ign_eof "$@" >"$_out" 2>&1
}

SEQ=0
# get_session PORT VERSION-FLAG: a full handshake that saves its session; prints the
# session file's name (empty when no session was saved or the backend did not answer).
get_session() {
    SEQ=$((SEQ + 1))
    _s=$WORK/sess$SEQ.pem
    sclient "$1" "$WORK/get$SEQ.out" "$2" -sess_out "$_s"
    if [ -s "$_s" ] && grep -q "hello from web" "$WORK/get$SEQ.out"; then
        echo "$_s"
    else
        echo ""
    fi
}

# resumes DESC PORT VERSION-FLAG SESSION WANT(Reused|New): resume SESSION on PORT.
resumes() {
    _d=$1 _p=$2 _v=$3 _s=$4 _w=$5
    SEQ=$((SEQ + 1))
    _o=$WORK/resume$SEQ.out
    if [ -z "$_s" ]; then
        not_ok "$_d: $_w" "no session was saved by the first connection (see the $WORK/get*.out files)"
        return
    fi
    sclient "$_p" "$_o" "$_v" -sess_in "$_s"
    if grep -q "^Reused, TLSv1\.[23]" "$_o"; then _got=Reused; else _got=New; fi
    if ! grep -q "hello from web" "$_o"; then
        not_ok "$_d: $_w (the backend did not answer)" "$_o"
    elif [ "$_got" = "$_w" ]; then
        ok "$_d: $_w"
    else
        not_ok "$_d: $_w (got $_got)" "$_o"
    fi
}

# reload PID LOG: SIGHUP; true once the reload is logged as applied.
reload() {
    _n=$(grep -Ec 'configuration reloaded|reload failed' "$2")
    kill -HUP "$1"
    if _wait_line "$2" 'configuration reloaded|reload failed' $((_n + 1)) "$1" &&
        grep -E 'configuration reloaded|reload failed' "$2" | tail -n 1 |
        grep -q 'configuration reloaded'; then
        return 0
    fi
    not_ok "SIGHUP is applied" "$2"
    return 1
}

# ---- two instances with one key file, a third with another ----------------------------
write_conf "$WORK/a.yaml" "$PA" "  tickets: { key_file: $KEYS1 }"
write_conf "$WORK/b.yaml" "$PB" "  tickets: { key_file: $KEYS1 }"
write_conf "$WORK/c.yaml" "$PC" "  tickets: { key_file: $KEYS2 }"
start_moat "$WORK/a.yaml" || finish
A_PID=$MOAT_PID A_LOG=$MOAT_LOG
start_moat "$WORK/b.yaml" || finish
B_PID=$MOAT_PID B_LOG=$MOAT_LOG
start_moat "$WORK/c.yaml" || finish
C_PID=$MOAT_PID C_LOG=$MOAT_LOG

s13=$(get_session "$PA" -tls1_3)
resumes "TLS 1.3: a session from instance A resumes on instance B (same key_file)" \
    "$PB" -tls1_3 "$s13" Reused
if wait_access " listener=127\\.0\\.0\\.1:$PB .* resumed=yes .*" 5; then
    ok "TLS 1.3: B's access log says resumed=yes"
else
    not_ok "TLS 1.3: B's access log says resumed=yes" "$ACCESS_LOG"
fi
resumes "TLS 1.3: the same session resumes on A itself" "$PA" -tls1_3 "$s13" Reused
resumes "TLS 1.3: a session from A is not resumed by C (another key file)" \
    "$PC" -tls1_3 "$s13" New
sc=$(get_session "$PC" -tls1_3)
resumes "TLS 1.3: a session from C is not resumed by A" "$PA" -tls1_3 "$sc" New

# TLS 1.2 resumes across instances only with RFC 5077 tickets (a session ID names an
# entry of one instance's own cache).
s12=$(get_session "$PA" -tls1_2)
resumes "TLS 1.2: a session from instance A resumes on instance B (RFC 5077 ticket)" \
    "$PB" -tls1_2 "$s12" Reused
resumes "TLS 1.2: a session from A is not resumed by C (another key file)" \
    "$PC" -tls1_2 "$s12" New

# ---- reloads with key_file --------------------------------------------------------------
s13=$(get_session "$PA" -tls1_3)
if reload "$A_PID" "$A_LOG"; then
    ok "SIGHUP with key_file: A reloads"
    if grep -q "listener 127\\.0\\.0\\.1:$PA: ticket keys loaded from $KEYS1" "$A_LOG"; then
        ok "SIGHUP with key_file: A logs that its ticket keys were loaded from the file"
    else
        not_ok "SIGHUP with key_file: A logs that its ticket keys were loaded from the file" "$A_LOG"
    fi
fi
resumes "SIGHUP with the same key_file: a session from before the reload resumes on A" \
    "$PA" -tls1_3 "$s13" Reused

# Fleet key rotation: the new key first, the old one still there to open old tickets.
old_on_b=$(get_session "$PB" -tls1_3)
{
    openssl rand -hex 32
    cat "$KEYS1"
} >"$WORK/rotated.keys"
chmod 600 "$WORK/rotated.keys"
cat "$WORK/rotated.keys" >"$KEYS1" # same file (and mode), new content
if reload "$A_PID" "$A_LOG"; then
    ok "key rotation: A reloads with a new first key"
fi
resumes "key rotation: a ticket B sealed under the old key still resumes on A" \
    "$PA" -tls1_3 "$old_on_b" Reused
new_on_a=$(get_session "$PA" -tls1_3)
resumes "key rotation: a ticket A seals under the new key does not resume on B (not reloaded)" \
    "$PB" -tls1_3 "$new_on_a" New
if reload "$B_PID" "$B_LOG"; then
    resumes "key rotation: after B's reload it does" "$PB" -tls1_3 "$new_on_a" Reused
fi

# A reload that fails (the key file became group-readable) keeps the running keys.
chmod 640 "$KEYS1"
_n=$(grep -c 'reload failed' "$B_LOG")
kill -HUP "$B_PID"
if _wait_line "$B_LOG" 'reload failed' $((_n + 1)) "$B_PID" &&
    grep 'reload failed' "$B_LOG" | tail -n 1 | grep -qF "$KEYS1 is accessible to group or others"; then
    ok "SIGHUP with a group-readable key file: refused, naming the file"
else
    not_ok "SIGHUP with a group-readable key file: refused, naming the file" "$B_LOG"
fi
resumes "... and B keeps resuming with the keys it had" "$PB" -tls1_3 "$new_on_a" Reused
chmod 600 "$KEYS1"

stop_pid "$A_PID"
stop_pid "$B_PID"
stop_pid "$C_PID"

# ---- `moat -t` refuses a key file others may read ------------------------------------------
chmod 644 "$KEYS2"
tmo "$MOAT" -t -c "$WORK/c.yaml" >"$WORK/t.out" 2>&1
st=$?
if [ "$st" -ne 0 ] &&
    grep -qF "ticket key file refused: $KEYS2 is accessible to group or others (mode 0644)" "$WORK/t.out"; then
    ok "moat -t: a group/other-readable key file is a config error naming the file"
else
    not_ok "moat -t: a group/other-readable key file is a config error naming the file" \
        "exit $st" "$WORK/t.out"
fi
chmod 600 "$KEYS2"

# ---- without key_file: the ticketer survives a reload that leaves tickets alone ----------
write_conf "$WORK/d.yaml" "$PD" "  tickets: { rotate: 1h }"
start_moat "$WORK/d.yaml" || finish
D_PID=$MOAT_PID D_LOG=$MOAT_LOG
sd=$(get_session "$PD" -tls1_3)
# An unrelated change rides along, so the reload really builds a new config.
write_conf "$WORK/d.yaml" "$PD" "  tickets: { rotate: 1h }
  session_cache: 100"
if reload "$D_PID" "$D_LOG"; then
    if grep -q "listener 127\\.0\\.0\\.1:$PD: ticket keys kept" "$D_LOG"; then
        ok "SIGHUP without key_file: D logs that the listener kept its ticket keys"
    else
        not_ok "SIGHUP without key_file: D logs that the listener kept its ticket keys" "$D_LOG"
    fi
fi
resumes "SIGHUP without key_file: a session from before the reload resumes (ticketer kept)" \
    "$PD" -tls1_3 "$sd" Reused
sd=$(get_session "$PD" -tls1_3)
write_conf "$WORK/d.yaml" "$PD" "  tickets: { rotate: 2h }"
if reload "$D_PID" "$D_LOG"; then
    if grep -q "listener 127\\.0\\.0\\.1:$PD: ticket keys new" "$D_LOG"; then
        ok "SIGHUP with another tickets.rotate: D logs new ticket keys"
    else
        not_ok "SIGHUP with another tickets.rotate: D logs new ticket keys" "$D_LOG"
    fi
fi
resumes "SIGHUP with another tickets.rotate: a session from before the reload is not resumed" \
    "$PD" -tls1_3 "$sd" New
stop_pid "$D_PID"
finish
