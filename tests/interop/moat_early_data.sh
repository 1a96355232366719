#!/bin/sh
# moat and TLS 1.3 early data (0-RTT), with `openssl s_client -early_data FILE -sess_in`:
# - on a listener with early_data: true the ticket allows 0-RTT (Max Early Data 16384),
#   the early data is accepted, and the backend receives it once, first, followed by
#   the 1-RTT bytes, as one request; the PROXY v2 header carries moat's early-data TLV
#   (type 0xE0, value 0x01) and the access-log line says resumed=yes early_data=N;
# - the same session offered again for 0-RTT (a replay of the ticket) is refused: the
#   backend never sees those early bytes a second time;
# - on a listener with early_data: false (the default) 0-RTT is declined: no early
#   bytes reach the backend, the TLV is absent, early_data=0, and the 1-RTT data still
#   flows.
# The backend is tests/interop/moat_early_backend.py, which logs what each connection
# carried.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need openssl python3 timeout || finish
[ -x "$MOAT" ] || { not_ok "$MOAT is built" "run: make $MOAT"; finish; }

BLOG=$WORK/early-backend.log
: >"$BLOG"
python3 tests/interop/moat_early_backend.py --proxy-v2 --log "$BLOG" >"$WORK/eb.out" 2>&1 </dev/null &
EB_PID=$!
track_pid "$EB_PID"
if ! _wait_line "$WORK/eb.out" '^listening on 127\.0\.0\.1:[0-9]+' 1 "$EB_PID"; then
    not_ok "start the early-data backend" "$WORK/eb.out"
    finish
fi
P_EB=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/eb.out" | head -n 1)

set -- $(free_ports 2)
P_ON=$1 P_OFF=$2
cat >"$WORK/moat.yaml" <<EOF
workers: 2
log: { level: debug, access: $ACCESS_LOG }
timeouts: { handshake: 3s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
  - address: "127.0.0.1:$P_ON"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: eb
    early_data: true
  - address: "127.0.0.1:$P_OFF"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: eb
backends:
  eb: { servers: ["127.0.0.1:$P_EB"], proxy_protocol: v2 }
EOF
start_moat "$WORK/moat.yaml" 2 || finish

# sclient PORT OUT STDIN-FILE ARGS...: s_client with the client timeout.
sclient() {
    _port=$1 _out=$2 _in=$3
    shift 3
    tmo openssl s_client -connect "127.0.0.1:$_port" -servername localhost -tls1_3 \
        -CAfile "$CA" -ign_eof "$@" <"$_in" >"$_out" 2>&1
}

# backend_count ERE: backend log lines matching ERE.
backend_count() {
    _c=$(grep -Ec -- "$1" "$BLOG" 2>/dev/null)
    echo "${_c:-0}"
}

# The request is split: its first part travels as early data, the rest after the
# handshake. Each run uses its own marker, so the backend log tells them apart.
# make_request TAG: writes $WORK/TAG.early and $WORK/TAG.rest.
make_request() {
    printf 'GET /%s HTTP/1.0\r\nX-Early: %s-early-part\r\n' "$1" "$1" >"$WORK/$1.early"
    printf 'X-Late: %s-late-part\r\n\r\n' "$1" >"$WORK/$1.rest"
}
printf 'GET /first HTTP/1.0\r\n\r\n' >"$WORK/first.req"

# ---- early_data: true --------------------------------------------------------------------
sclient "$P_ON" "$WORK/on1.out" "$WORK/first.req" -sess_out "$WORK/on.sess"
if [ -s "$WORK/on.sess" ] && grep -q "early_tlv=no" "$WORK/on1.out"; then
    ok "early_data listener: a first (full) handshake reaches the backend, saves a session, no TLV"
else
    not_ok "early_data listener: a first (full) handshake reaches the backend and saves a session" \
        "$WORK/on1.out"
fi
if grep -q "Max Early Data: 16384" "$WORK/on1.out"; then
    ok "early_data listener: the ticket allows 16384 bytes of early data (tls.max_early_data)"
else
    not_ok "early_data listener: the ticket allows 16384 bytes of early data" \
        "$(grep -i 'early' "$WORK/on1.out")" "$WORK/on1.out"
fi

make_request zrtt1
EARLY_LEN=$(wc -c <"$WORK/zrtt1.early" | tr -d ' ')
sclient "$P_ON" "$WORK/on2.out" "$WORK/zrtt1.rest" -sess_in "$WORK/on.sess" \
    -early_data "$WORK/zrtt1.early"
if grep -q "^Reused, TLSv1.3" "$WORK/on2.out" && grep -q "Early data was accepted" "$WORK/on2.out"; then
    ok "0-RTT: the session resumes and its early data is accepted"
else
    not_ok "0-RTT: the session resumes and its early data is accepted" \
        "$(grep -E 'Reused|New,|Early data' "$WORK/on2.out")" "$WORK/on2.out"
fi
# The listeners offer no ALPN, so the TLVs are AUTHORITY (0x02), SSL (0x20) and 0xE0.
if grep -qF "early_tlv=yes tlvs=0x02,0x20,0xe0 request=b'GET /zrtt1 HTTP/1.0\\r\\nX-Early: zrtt1-early-part\\r\\nX-Late: zrtt1-late-part\\r\\n\\r\\n'" "$BLOG"; then
    ok "0-RTT: the backend got the early bytes first, then the 1-RTT bytes, as one request, with TLV 0xE0"
else
    not_ok "0-RTT: the backend got early then 1-RTT bytes in order, with TLV 0xE0" "$BLOG"
fi
expect_eq "0-RTT: the early bytes reached the backend once" \
    "$(backend_count 'zrtt1-early-part')" 1 "$BLOG"
if grep -q "early_tlv=yes" "$WORK/on2.out"; then
    ok "0-RTT: the client got the backend's answer (which saw the TLV)"
else
    not_ok "0-RTT: the client got the backend's answer" "$WORK/on2.out"
fi
expect_eq "0-RTT: moat connected the backend before the handshake completed (debug log)" \
    "$(grep -c '0-RTT accepted: connecting to the backend before the handshake completes' "$MOAT_LOG")" \
    1 "$MOAT_LOG"
if wait_access " listener=127\\.0\\.0\\.1:$P_ON .* resumed=yes early_data=$EARLY_LEN " 5; then
    ok "0-RTT: the access log says resumed=yes early_data=$EARLY_LEN"
else
    not_ok "0-RTT: the access log says resumed=yes early_data=$EARLY_LEN" "$ACCESS_LOG"
fi

# The same ticket again: 0-RTT is good once per ticket (RFC 8446 §8.1), so these early
# bytes must not reach the backend.
make_request zrtt2
sclient "$P_ON" "$WORK/on3.out" "$WORK/zrtt2.rest" -sess_in "$WORK/on.sess" \
    -early_data "$WORK/zrtt2.early"
if grep -q "Early data was rejected" "$WORK/on3.out"; then
    ok "replayed ticket: the second 0-RTT attempt is rejected"
else
    not_ok "replayed ticket: the second 0-RTT attempt is rejected" \
        "$(grep -E 'Reused|New,|Early data' "$WORK/on3.out")" "$WORK/on3.out"
fi
expect_eq "replayed ticket: its early bytes never reach the backend" \
    "$(backend_count 'zrtt2-early-part')" 0 "$BLOG"
if wait_access " listener=127\\.0\\.0\\.1:$P_ON .* early_data=0 " 5; then
    ok "replayed ticket: the access log says early_data=0"
else
    not_ok "replayed ticket: the access log says early_data=0" "$ACCESS_LOG"
fi
expect_eq "replayed ticket: no early connect either (one such line in all)" \
    "$(grep -c '0-RTT accepted: connecting to the backend' "$MOAT_LOG")" 1 "$MOAT_LOG"
expect_eq "the first 0-RTT request still reached the backend exactly once" \
    "$(backend_count 'zrtt1-early-part')" 1 "$BLOG"

# ---- early_data: false (default) ----------------------------------------------------------
sclient "$P_OFF" "$WORK/off1.out" "$WORK/first.req" -sess_out "$WORK/off.sess"
if [ -s "$WORK/off.sess" ] && ! grep -q "Max Early Data: [1-9]" "$WORK/off1.out"; then
    ok "early_data: false: the ticket allows no early data"
else
    not_ok "early_data: false: a session is saved whose ticket allows no early data" "$WORK/off1.out"
fi
make_request off1
sclient "$P_OFF" "$WORK/off2.out" "$WORK/off1.rest" -sess_in "$WORK/off.sess" \
    -early_data "$WORK/off1.early"
if grep -q "^Reused, TLSv1.3" "$WORK/off2.out" && ! grep -q "Early data was accepted" "$WORK/off2.out"; then
    ok "early_data: false: the session resumes, without early data"
else
    not_ok "early_data: false: the session resumes, without early data" \
        "$(grep -E 'Reused|New,|Early data' "$WORK/off2.out")" "$WORK/off2.out"
fi
expect_eq "early_data: false: no early bytes reach the backend" \
    "$(backend_count 'off1-early-part')" 0 "$BLOG"
if grep -qF "early_tlv=no tlvs=0x02,0x20 request=b'X-Late: off1-late-part\\r\\n\\r\\n'" "$BLOG"; then
    ok "early_data: false: the 1-RTT bytes still arrive, without TLV 0xE0"
else
    not_ok "early_data: false: the 1-RTT bytes still arrive, without TLV 0xE0" "$BLOG"
fi
if wait_access " listener=127\\.0\\.0\\.1:$P_OFF .* resumed=yes early_data=0 " 5; then
    ok "early_data: false: the access log says resumed=yes early_data=0"
else
    not_ok "early_data: false: the access log says resumed=yes early_data=0" "$ACCESS_LOG"
fi

check_alive "moat is still running"
stop_moat
expect_eq "moat exits 0 on SIGTERM" "$MOAT_STATUS" 0
stop_pid "$EB_PID" 1
finish
