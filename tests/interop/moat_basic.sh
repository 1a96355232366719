#!/bin/sh
# moat end to end: curl, openssl s_client and the python client through moat to an
# HTTP backend get the backend's exact responses (GET /, a 10 MB /bytes download
# checked against the backend's pattern, a 10 MB POST /sha256); every connection has
# an access-log line with the right fields and end reason; moat -t accepts the
# config; SIGTERM stops moat with status 0. TLS 1.2 is on by default (a 1.2-only
# curl gets through); tls.versions: ["1.3"] refuses it with protocol_version;
# tls.require_ems: true refuses a 1.2 client without extended master secret.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need curl openssl python3 timeout sha256sum || finish
need_binaries || finish

start_backend web || finish
BPORT=$BACKEND_PORT
# A second backend on a unix socket, behind a second listener.
USOCK=$WORK/web.sock
"$BACKEND" --listen "unix:$USOCK" --name unixweb >"$WORK/unix-backend.log" 2>&1 </dev/null &
track_pid $!
_wait_line "$WORK/unix-backend.log" 'listening on' 1 $! ||
    not_ok "unix-socket backend starts" "$WORK/unix-backend.log"
set -- $(free_ports 2)
PORT=$1 UPORT=$2
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 5s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
  - address: "127.0.0.1:$PORT"
    certificates: [ $(cert_item ecdsa-p256) ]
    alpn: [http/1.1]
    backend: web
  - address: "127.0.0.1:$UPORT"
    certificates: [ $(cert_item rsa2048) ]
    backend: unixweb
backends:
  web: { servers: ["127.0.0.1:$BPORT"], balance: round-robin }
  unixweb: { servers: ["unix:$USOCK"] }
EOF

# ---- moat -t ------------------------------------------------------------------------
tmo "$MOAT" -t -c "$CONF" >"$WORK/t.out" 2>"$WORK/t.err"
st=$?
if [ "$st" -eq 0 ] &&
    [ "$(cat "$WORK/t.out")" = "moat: $CONF is valid: 2 listeners, 2 backends, 2 certificates loaded" ] &&
    [ ! -s "$WORK/t.err" ]; then
    ok "moat -t on the good config: exit 0, 'is valid' line"
else
    not_ok "moat -t on the good config: exit 0, 'is valid' line" "exit $st" "$WORK/t.out" "$WORK/t.err"
fi

start_moat "$CONF" 2 || finish
grep -q "listening on 127.0.0.1:$PORT (2 workers)" "$MOAT_LOG" &&
    ok "moat logs 'listening on 127.0.0.1:$PORT (2 workers)'" ||
    not_ok "moat logs 'listening on 127.0.0.1:$PORT (2 workers)'" "$MOAT_LOG"

# curl_get DESC PATH OUT [CURL-ARGS...]: GET through moat; sets CURL_PORT (curl's
# local port, to find its access-log line) and CURL_CODE.
curl_get() {
    _desc=$1 _path=$2 _out=$3
    shift 3
    tmo curl -sS --tlsv1.3 --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" \
        -o "$_out" -w '%{http_code} %{local_port} %{ssl_verify_result}\n' "$@" \
        "https://localhost:$PORT$_path" >"$WORK/curl.w" 2>"$WORK/curl.err"
    _st=$?
    CURL_CODE=$(cut -d' ' -f1 "$WORK/curl.w")
    CURL_PORT=$(cut -d' ' -f2 "$WORK/curl.w")
    if [ "$_st" -ne 0 ] || [ "$CURL_CODE" != 200 ]; then
        not_ok "$_desc: curl exit 0, HTTP 200" "curl exit $_st, code '$CURL_CODE'" \
            "$WORK/curl.err" "$MOAT_LOG"
        return 1
    fi
    return 0
}

# check_access DESC CLIENT_PORT END_ERE [MIN_BYTES_OUT]: the access-log line of the
# connection from 127.0.0.1:CLIENT_PORT has every field right.
check_access() {
    _desc=$1 _cp=$2 _end=$3 _min=${4:-1}
    if ! wait_access " client=127\\.0\\.0\\.1:$_cp " 5; then
        not_ok "$_desc: access-log line for client port $_cp" "$ACCESS_LOG" "$MOAT_LOG"
        return
    fi
    _l=$(access_lines " client=127\\.0\\.0\\.1:$_cp " | tail -n 1)
    _why=""
    [ "$(field listener "$_l")" = "127.0.0.1:$PORT" ] || _why="$_why; listener"
    [ "$(field sni "$_l")" = localhost ] || _why="$_why; sni"
    [ "$(field alpn "$_l")" = "${WANT_ALPN:-http/1.1}" ] || _why="$_why; alpn"
    _ver=$(field version "$_l")
    [ "$_ver" = "${WANT_VERSION:-TLSv1.3}" ] || _why="$_why; version $_ver"
    _su=$(field suite "$_l")
    case ${WANT_VERSION:-TLSv1.3}:$_su in
    TLSv1.3:TLS13_AES_128_GCM_SHA256 | TLSv1.3:TLS13_AES_256_GCM_SHA384 | \
        TLSv1.3:TLS13_CHACHA20_POLY1305_SHA256) ;;
    # The listener's certificate is ECDSA P-256: only ECDHE_ECDSA suites fit it.
    TLSv1.2:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 | \
        TLSv1.2:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 | \
        TLSv1.2:TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256) ;;
    *) _why="$_why; suite $_su" ;;
    esac
    [ "$(field backend "$_l")" = "web/127.0.0.1:$BPORT" ] || _why="$_why; backend"
    _bo=$(field bytes_out "$_l")
    _bi=$(field bytes_in "$_l")
    _du=$(field duration_ms "$_l")
    case "$_bo$_bi$_du" in '' | *[!0-9]*) _why="$_why; bytes/duration not numbers" ;; esac
    [ "${_bo:-0}" -ge "$_min" ] 2>/dev/null || _why="$_why; bytes_out $_bo < $_min"
    [ "${_bi:-0}" -gt 0 ] 2>/dev/null || _why="$_why; bytes_in 0"
    _e=$(field end "$_l")
    printf '%s\n' "$_e" | grep -Eqx -- "$_end" || _why="$_why; end=\"$_e\" (want $_end)"
    if [ -z "$_why" ]; then
        ok "$_desc: access log (sni, version=$_ver, suite=$_su, backend, bytes, end=\"$_e\")"
    else
        not_ok "$_desc: access log" "${_why#; }" "line: $_l"
    fi
}

CURL_END='closed|client closed without close_notify'

# ---- curl GET / ---------------------------------------------------------------------
printf 'hello from web\n' >"$WORK/hello.want"
if curl_get "curl GET /" / "$WORK/hello.got"; then
    if cmp -s "$WORK/hello.want" "$WORK/hello.got"; then
        ok "curl GET /: body is exactly 'hello from web' and a newline"
    else
        not_ok "curl GET /: body is exactly 'hello from web' and a newline" "got: $(od -c "$WORK/hello.got" | head -n 3)"
    fi
    check_access "curl GET /" "$CURL_PORT" "$CURL_END" 15
fi

# ---- curl: 10 MB download -------------------------------------------------------------
N=10485760
want_bytes=$(python3 -c "
import hashlib
n = $N
pat = bytes(((i * 31 + 7) & 0xff) for i in range(256))
data = (pat * (n // 256 + 1))[:n]
print(hashlib.sha256(data).hexdigest())")
if curl_get "curl GET /bytes?n=$N" "/bytes?n=$N" "$WORK/bytes.got"; then
    got_size=$(file_size "$WORK/bytes.got")
    got_hash=$(sha256sum "$WORK/bytes.got" | cut -d' ' -f1)
    if [ "$got_size" -eq "$N" ] && [ "$got_hash" = "$want_bytes" ]; then
        ok "curl GET /bytes?n=$N: $N bytes, sha256 matches the backend's pattern"
    else
        not_ok "curl GET /bytes?n=$N: $N bytes, sha256 matches the backend's pattern" \
            "size $got_size, sha256 $got_hash, want $want_bytes"
    fi
    check_access "curl GET /bytes?n=$N" "$CURL_PORT" "$CURL_END" "$N"
fi

# ---- curl: 10 MB upload ---------------------------------------------------------------
python3 -c "
import random, sys
sys.stdout.buffer.write(random.Random(42).randbytes($N))" >"$WORK/upload"
want_sha="$(sha256sum "$WORK/upload" | cut -d' ' -f1) $N"
if curl_get "curl POST /sha256 ($N bytes)" /sha256 "$WORK/sha.got" \
    --data-binary "@$WORK/upload" -H 'Content-Type: application/octet-stream'; then
    expect_eq "curl POST /sha256: backend saw the exact $N bytes" "$(cat "$WORK/sha.got")" \
        "$want_sha"
    check_access "curl POST /sha256" "$CURL_PORT" "$CURL_END" 70
    l=$(access_lines " client=127\\.0\\.0\\.1:$CURL_PORT " | tail -n 1)
    bi=$(field bytes_in "$l")
    if [ "${bi:-0}" -gt "$N" ] 2>/dev/null; then
        ok "access log: bytes_in ($bi) counts the $N-byte upload"
    else
        not_ok "access log: bytes_in counts the $N-byte upload" "line: $l"
    fi
fi

# ---- openssl s_client ------------------------------------------------------------------
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >"$WORK/req"
tmo openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -tls1_3 \
    -CAfile "$CA" -verify_return_error -verify_hostname localhost -alpn http/1.1 \
    -quiet <"$WORK/req" >"$WORK/s.out" 2>"$WORK/s.err"
st=$?
# -quiet: stdout has the HTTP response only; s_client exits when moat closes.
body=$(sed -n '/^\r$/,$p' "$WORK/s.out" | tail -n +2)
if [ "$st" -eq 0 ] && head -n 1 "$WORK/s.out" | grep -q '^HTTP/1.1 200 OK' &&
    grep -qi '^Connection: close' "$WORK/s.out" && [ "$body" = "hello from web" ] &&
    [ "$(tail -c 15 "$WORK/s.out")" = "hello from web" ]; then
    ok "openssl s_client GET /: verified, HTTP 200, body 'hello from web'"
else
    not_ok "openssl s_client GET /: verified, HTTP 200, body 'hello from web'" \
        "s_client exit $st" "$WORK/s.out" "$WORK/s.err"
fi
grep -q 'verify error' "$WORK/s.err" && not_ok "s_client: no verify error" "$WORK/s.err"

# ---- python client: exact end reasons ---------------------------------------------------
# Without close_notify: the backend ends (Connection: close), moat sends close_notify,
# the client just closes its socket.
mc get --port "$PORT" --alpn http/1.1 --out "$WORK/py.body" >"$WORK/py.out" 2>"$WORK/py.err"
st=$?
if [ "$st" -eq 0 ] && [ "$(kv status "$WORK/py.out")" = 200 ] &&
    cmp -s "$WORK/hello.want" "$WORK/py.body" && [ "$(kv end "$WORK/py.out")" = close_notify ] &&
    [ "$(kv version "$WORK/py.out")" = TLSv1.3 ] && [ "$(kv alpn "$WORK/py.out")" = http/1.1 ]; then
    ok "python GET /: 200, exact body, TLSv1.3, ALPN http/1.1, moat ended with close_notify"
else
    not_ok "python GET /: 200, exact body, TLSv1.3, moat ended with close_notify" \
        "exit $st" "$WORK/py.out" "$WORK/py.err"
fi
lp=$(kv local_port "$WORK/py.out")
[ -n "$lp" ] && check_access "python GET / (socket closed without close_notify)" "$lp" \
    'client closed without close_notify'

mc get --port "$PORT" --alpn http/1.1 --unwrap --out "$WORK/py2.body" >"$WORK/py2.out" 2>"$WORK/py2.err"
st=$?
if [ "$st" -eq 0 ] && [ "$(kv status "$WORK/py2.out")" = 200 ] &&
    cmp -s "$WORK/hello.want" "$WORK/py2.body"; then
    ok "python GET / answering close_notify: 200, exact body"
else
    not_ok "python GET / answering close_notify: 200, exact body" "exit $st" "$WORK/py2.out" "$WORK/py2.err"
fi
lp=$(kv local_port "$WORK/py2.out")
[ -n "$lp" ] && check_access "python GET / (close_notify sent back)" "$lp" closed

# Every connection so far has exactly one access-log line.
n_lines=$(access_count ' access: client=')
expect_eq "access log: one line per connection (6)" "$n_lines" 6 "$ACCESS_LOG"

# ---- a TLS 1.2-only client gets through (1.2 is on by default) ----------------------------
# curl -v's "SSL connection using TLSv1.2 / ..." line names what was negotiated.
tmo curl -sS -v --tlsv1.2 --tls-max 1.2 --http1.1 --cacert "$CA" \
    --resolve "localhost:$PORT:127.0.0.1" -o "$WORK/t12.got" \
    -w '%{http_code} %{local_port}\n' "https://localhost:$PORT/" >"$WORK/t12.w" 2>"$WORK/t12.err"
st=$?
code=$(cut -d' ' -f1 "$WORK/t12.w")
cp12=$(cut -d' ' -f2 "$WORK/t12.w")
if [ "$st" -eq 0 ] && [ "$code" = 200 ] && cmp -s "$WORK/hello.want" "$WORK/t12.got" &&
    grep -Eq 'SSL connection using TLSv1\.2 / ECDHE-ECDSA-' "$WORK/t12.err"; then
    ok "curl limited to TLS 1.2: HTTP 200, body exactly 'hello from web', TLSv1.2 ECDHE-ECDSA"
else
    not_ok "curl limited to TLS 1.2: HTTP 200, body exactly 'hello from web', TLSv1.2 ECDHE-ECDSA" \
        "curl exit $st, code '$code'" "$WORK/t12.err" "$MOAT_LOG"
fi
[ -n "$cp12" ] && WANT_VERSION=TLSv1.2 check_access "curl limited to TLS 1.2" "$cp12" "$CURL_END" 15

# ---- a client that rejects the certificate ----------------------------------------------------
tmo curl -sS --tlsv1.3 --resolve "localhost:$PORT:127.0.0.1" -o /dev/null \
    "https://localhost:$PORT/" 2>"$WORK/noca.err"
st=$?
expect_eq "curl without the test CA fails verification (exit 60)" "$st" 60 "$WORK/noca.err"
if wait_access 'end="tls error: [^"]*peer sent unknown_ca' 5; then
    l=$(access_lines 'end="tls error: [^"]*peer sent unknown_ca' | tail -n 1)
    expect_eq "the client's unknown_ca alert is logged; no backend was contacted" \
        "$(field backend "$l") $(field bytes_in "$l")" "- 0" "line: $l"
else
    not_ok "the client's alert is logged: end=\"tls error: ... (peer sent unknown_ca)\"" "$ACCESS_LOG"
fi

# ---- a backend on a unix socket (second listener, RSA certificate) ------------------------
body=$(tmo curl -sS --tlsv1.3 --cacert "$CERTS/rsa2048/ca.cert" \
    --resolve "localhost:$UPORT:127.0.0.1" "https://localhost:$UPORT/" 2>"$WORK/u.err")
expect_eq "curl through the second listener reaches the unix-socket backend" "$body" \
    "hello from unixweb" "$WORK/u.err"
if wait_access " listener=127\\.0\\.0\\.1:$UPORT " 5; then
    l=$(access_lines " listener=127\\.0\\.0\\.1:$UPORT " | tail -n 1)
    expect_eq "access log: backend=unixweb/unix:$USOCK" "$(field backend "$l")" "unixweb/unix:$USOCK" "line: $l"
else
    not_ok "access log: a line for the second listener" "$ACCESS_LOG"
fi

check_alive "moat still running"
log_mark
stop_moat
STATUS1=$MOAT_STATUS
expect_eq "SIGTERM: moat exits with status 0" "$STATUS1" 0 "$MOAT_LOG"
if wait_log 'moat\[info\]: stopped' 1; then
    ok "SIGTERM: moat logs 'stopped'"
else
    not_ok "SIGTERM: moat logs 'stopped'" "$MOAT_LOG"
fi
if grep -E 'moat\[(error|warn)\]' "$MOAT_LOG" >/dev/null; then
    not_ok "moat logged no warnings or errors" "$MOAT_LOG"
else
    ok "moat logged no warnings or errors"
fi

# ---- the tls section: one suite and one group -------------------------------------------------
sed 's/^limits: .*/&\ntls: { suites: [TLS13_CHACHA20_POLY1305_SHA256], groups: [secp384r1] }/' \
    "$CONF" >"$WORK/tls.yaml"
start_moat "$WORK/tls.yaml" 2 || finish
tmo openssl s_client -brief -connect "127.0.0.1:$PORT" -servername localhost -tls1_3 \
    -CAfile "$CA" -verify_return_error -groups X25519:P-256:P-384 -ign_eof <"$WORK/req" \
    >"$WORK/tls.out" 2>"$WORK/tls.err"
st=$?
if [ "$st" -eq 0 ] && grep -q 'Ciphersuite: TLS_CHACHA20_POLY1305_SHA256' "$WORK/tls.err" &&
    grep -Eq 'Server Temp Key: ECDH, (secp384r1|P-384)' "$WORK/tls.err" &&
    grep -q 'hello from web' "$WORK/tls.out"; then
    ok "tls: suites/groups restricted: the client gets CHACHA20 and P-384 (after HRR) and its answer"
else
    not_ok "tls: suites/groups restricted: CHACHA20 and P-384" "exit $st" "$WORK/tls.err" "$WORK/tls.out"
fi
tmo openssl s_client -brief -connect "127.0.0.1:$PORT" -servername localhost -tls1_3 \
    -ciphersuites TLS_AES_128_GCM_SHA256 -CAfile "$CA" </dev/null >"$WORK/tls2.out" 2>"$WORK/tls2.err"
st=$?
if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && grep -qi 'handshake failure' "$WORK/tls2.err"; then
    ok "tls: a client without the configured suite is refused (handshake_failure)"
else
    not_ok "tls: a client without the configured suite is refused (handshake_failure)" "exit $st" "$WORK/tls2.err"
fi
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# ---- tls.versions: ["1.3"]: a TLS 1.2-only client is refused ------------------------------------
sed 's/^limits: .*/&\ntls: { versions: ["1.3"] }/' "$CONF" >"$WORK/v13.yaml"
start_moat "$WORK/v13.yaml" 2 || finish
tmo curl -sS --tlsv1.2 --tls-max 1.2 --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" \
    -o /dev/null "https://localhost:$PORT/" 2>"$WORK/v13.err"
st=$?
if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && grep -qi 'protocol version' "$WORK/v13.err"; then
    ok "versions [1.3]: curl limited to TLS 1.2 is refused with a protocol_version alert (curl exit $st)"
else
    not_ok "versions [1.3]: curl limited to TLS 1.2 is refused with a protocol_version alert" \
        "curl exit $st" "$WORK/v13.err" "$MOAT_LOG"
fi
if wait_access 'end="tls error: [^"]*protocol_version' 5; then
    l=$(access_lines 'end="tls error: [^"]*protocol_version' | tail -n 1)
    expect_eq "versions [1.3]: the refusal is logged (end=\"tls error: ... protocol_version\", version=-, backend=-)" \
        "$(field version "$l") $(field backend "$l")" "- -" "line: $l"
else
    not_ok "versions [1.3]: the refusal is logged with end=\"tls error: ... protocol_version\"" \
        "$ACCESS_LOG" "$MOAT_LOG"
fi
body=$(tmo curl -sS --tlsv1.3 --cacert "$CA" --resolve "localhost:$PORT:127.0.0.1" \
    "https://localhost:$PORT/" 2>"$WORK/v13b.err")
expect_eq "versions [1.3]: a TLS 1.3 client still gets 'hello from web'" "$body" \
    "hello from web" "$WORK/v13b.err"
stop_moat
expect_eq "versions [1.3]: SIGTERM, exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# ---- tls.require_ems: true ---------------------------------------------------------------------
if command -v gnutls-cli >/dev/null 2>&1; then
    sed 's/^limits: .*/&\ntls: { require_ems: true }/' "$CONF" >"$WORK/ems.yaml"
    start_moat "$WORK/ems.yaml" 2 || finish
    tmo gnutls-cli --x509cafile="$CA" --port="$PORT" --sni-hostname=localhost \
        --verify-hostname=localhost --priority='NORMAL:-VERS-ALL:+VERS-TLS1.2:%NO_SESSION_HASH' \
        127.0.0.1 </dev/null >"$WORK/ems.out" 2>&1
    st=$?
    if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && grep -q 'Received alert \[40\]' "$WORK/ems.out"; then
        ok "require_ems: a TLS 1.2 client without extended master secret gets handshake_failure"
    else
        not_ok "require_ems: a TLS 1.2 client without extended master secret gets handshake_failure" \
            "gnutls-cli exit $st" "$WORK/ems.out" "$MOAT_LOG"
    fi
    if wait_access 'end="tls error: [^"]*(ExtendedMasterSecret|handshake_failure)' 5; then
        l=$(access_lines 'end="tls error: [^"]*(ExtendedMasterSecret|handshake_failure)' | tail -n 1)
        # The version is already chosen when EMS is found missing: version=TLSv1.2 or -.
        expect_eq "require_ems: the refusal is logged (backend=-, bytes_in=0)" \
            "$(field backend "$l") $(field bytes_in "$l")" "- 0" "line: $l"
    else
        not_ok "require_ems: the refusal is logged" "$ACCESS_LOG" "$MOAT_LOG"
    fi
    body=$(tmo curl -sS --tlsv1.2 --tls-max 1.2 --cacert "$CA" \
        --resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT/" 2>"$WORK/ems2.err")
    expect_eq "require_ems: curl limited to TLS 1.2 (offers EMS) gets 'hello from web'" "$body" \
        "hello from web" "$WORK/ems2.err"
    stop_moat
    expect_eq "require_ems: SIGTERM, exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
else
    not_ok "required tool 'gnutls-cli' is on PATH (tls.require_ems checks)" "install it (make deps)"
fi

finish
