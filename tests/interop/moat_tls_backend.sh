#!/bin/sh
# moat speaking TLS to its backends (backends.NAME.tls: ca, server_name, alpn).
#  - Through moat, curl gets exactly what a TLS backend sends when asked directly:
#    build/tlsserver (ECDSA P-256 chain, and RSA 2048), openssl s_server -www, a python
#    server on a unix socket. The backend's --verbose log shows moat's handshake:
#    TLSv1.3; sni=localhost with server_name: localhost (or a server written
#    localhost:PORT); no SNI when server_name is absent and the server is 127.0.0.1
#    (checked against the certificate's IP SAN); server_name: wrong.example verifies
#    tests/certs/bad/wrongname. The access log says end="closed".
#  - alpn: [http/1.1] reaches a tlsserver --proto http/1.1 (its log: alpn=http/1.1);
#    alpn: [h2] toward it is refused (no_application_protocol).
#  - 5 MB each way: a download and an upload through tlsserver `forward` in front of
#    build/backend, and a 5 MB echo round trip, SHA-256 equal.
#  - A PROXY header (v1 and v2) is sent in the clear before the ClientHello (a python
#    TLS server reads the header, then sees a TLS handshake record).
#  - Refusals: a backend certificate that does not verify (wrong CA: UnknownIssuer;
#    the system bundle by default: UnknownIssuer; server_name wrong.example:
#    NotValidForName; tests/certs/bad/expired: Expired) closes the client cleanly
#    (handshake, then close_notify, no data), the access log says
#    end="no backend available: 1 of 1 servers failed (last: ADDR: tls error: ...)",
#    moat logs a warning, and the backend receives moat's alert; "2 of 2" when both
#    servers of a backend fail.
#  - Failover: with a first server whose certificate does not verify and a good
#    second one, every request succeeds and the bad server, marked down after 3
#    failures, is tried at most 3 times.
#  - A backend that ends its stream without close_notify (truncation) is not logged
#    as a clean end="closed".
#  - moat -t: a missing tls.ca file is reported as "FILE:LINE:COLUMN: cannot read PATH";
#    an unknown key and an empty alpn name are refused; so must be a server_name that
#    is no host name or IP address, and a unix: server without server_name.
#  - SIGHUP reads the ca file again; a reload whose ca file is gone is refused and the
#    running configuration keeps serving.
#  - tls.versions applies to the backends wherever the tls section is in the file.
#  - Resumption toward the backends (a client session store per TLS backend): of four
#    requests through moat, one after the other, the backend's log shows the first
#    handshake resumed=no and the next three resumed=yes with sig=- (tlsserver --tickets
#    and --resumption in TLS 1.3; --tickets and --resumption with --protover 1.2: RFC 5077
#    tickets and session IDs), and every request gets the backend's page; a tlsserver
#    issuing neither is never resumed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need curl openssl python3 timeout sha256sum || finish
need_binaries || finish
if [ ! -x "$TLSSERVER" ]; then
    not_ok "$TLSSERVER is built" "run: make $TLSSERVER"
    finish
fi
# A backend without tls.ca loads the system bundle when the file is loaded.
if [ ! -r /etc/ssl/certs/ca-certificates.crt ]; then
    not_ok "the system bundle /etc/ssl/certs/ca-certificates.crt exists" "install ca-certificates"
    finish
fi

P256=$CERTS/ecdsa-p256
RSA=$CERTS/rsa2048
BAD=$CERTS/bad

# start_tb NAME CHAIN KEY [TLSSERVER-ARGS...]: build/tlsserver --verbose on
# 127.0.0.1:0; sets TB_PID, TB_PORT, TB_LOG (its stderr: one line per handshake or error).
start_tb() {
    tb_name=$1 tb_chain=$2 tb_key=$3
    shift 3
    TB_LOG=$WORK/tb-$tb_name.log
    tb_out=$WORK/tb-$tb_name.out
    TB_PID="" TB_PORT=""
    : >"$tb_out"
    "$TLSSERVER" -p 0 --address 127.0.0.1 --verbose --certs "$tb_chain" --key "$tb_key" "$@" \
        >"$tb_out" 2>"$TB_LOG" </dev/null &
    TB_PID=$!
    track_pid "$TB_PID"
    if _wait_line "$tb_out" '^listening on 127\.0\.0\.1:[0-9]+' 1 "$TB_PID"; then
        TB_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tb_out" | head -n 1)
        return 0
    fi
    not_ok "start tlsserver $tb_name ($*)" "no 'listening on' line" "$TB_LOG" "$tb_out"
    return 1
}

# ---- the backends -----------------------------------------------------------------------------
start_tb sni "$P256/end.fullchain" "$P256/end.key" http || finish
P_SNI=$TB_PORT LOG_SNI=$TB_LOG
start_tb ip "$P256/end.fullchain" "$P256/end.key" http || finish
P_IP=$TB_PORT LOG_IP=$TB_LOG
start_tb rsa "$RSA/end.fullchain" "$RSA/end.key" http || finish
P_RSA=$TB_PORT LOG_RSA=$TB_LOG
start_tb alpn "$P256/end.fullchain" "$P256/end.key" --proto http/1.1 http || finish
P_ALPN=$TB_PORT LOG_ALPN=$TB_LOG
start_tb echo "$P256/end.fullchain" "$P256/end.key" echo || finish
P_ECHO=$TB_PORT
start_backend web --quiet || finish
start_tb fwd "$P256/end.fullchain" "$P256/end.key" forward "$BACKEND_PORT" || finish
P_FWD=$TB_PORT
start_tb wrongca "$P256/end.fullchain" "$P256/end.key" http || finish
P_WCA=$TB_PORT LOG_WCA=$TB_LOG
start_tb sysca "$P256/end.fullchain" "$P256/end.key" http || finish
P_SYS=$TB_PORT LOG_SYS=$TB_LOG
start_tb wrongname "$P256/end.fullchain" "$P256/end.key" http || finish
P_WN=$TB_PORT LOG_WN=$TB_LOG
start_tb expired "$BAD/expired.fullchain" "$BAD/expired.key" http || finish
P_EXP=$TB_PORT LOG_EXP=$TB_LOG
start_tb fobad "$BAD/selfsigned.fullchain" "$BAD/selfsigned.key" http || finish
P_FOBAD=$TB_PORT LOG_FOBAD=$TB_LOG
start_tb fogood "$P256/end.fullchain" "$P256/end.key" http || finish
P_FOGOOD=$TB_PORT
start_tb byname "$P256/end.fullchain" "$P256/end.key" http || finish
P_BYNAME=$TB_PORT LOG_BYNAME=$TB_LOG
start_tb wrongnameok "$BAD/wrongname.fullchain" "$BAD/wrongname.key" http || finish
P_WNOK=$TB_PORT LOG_WNOK=$TB_LOG

# openssl s_server -www (serves until killed): prints "ACCEPT 127.0.0.1:PORT".
openssl s_server -accept 127.0.0.1:0 -cert "$P256/end.cert" -cert_chain "$P256/end.chain" \
    -key "$P256/end.key" -www >"$WORK/ossl.out" 2>"$WORK/ossl.err" </dev/null &
OSSL_PID=$!
track_pid "$OSSL_PID"
_wait_line "$WORK/ossl.out" '^ACCEPT 127\.0\.0\.1:[0-9]+$' 1 "$OSSL_PID" || {
    not_ok "openssl s_server -www starts" "$WORK/ossl.out" "$WORK/ossl.err"
    finish
}
P_OSSL=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$WORK/ossl.out" | head -n 1)

# A python TLS server behind a PROXY header: reads the header in the clear (v1 up to
# CRLF, v2 by its length), looks at the next byte without taking it, then does TLS
# and answers one HTTP request with what it saw.
cat >"$WORK/proxytls.py" <<'EOF'
import socket, ssl, sys
cert, key = sys.argv[1], sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
seen = {}
def on_sni(obj, name, c):
    seen["sni"] = name
ctx.sni_callback = on_sni
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
print("listening on 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
V2 = b"\r\n\r\n\x00\r\nQUIT\n"
def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError("eof after %r" % b)
        b += d
    return b
while True:
    c, _ = ls.accept()
    c.settimeout(10)
    seen.clear()
    try:
        head = recv_exact(c, 12)
        if head == V2:
            rest = recv_exact(c, 4)
            head += rest + recv_exact(c, int.from_bytes(rest[2:4], "big"))
            shown = "v2 " + head.hex()
        else:
            while not head.endswith(b"\r\n") and len(head) < 107:
                head += recv_exact(c, 1)
            shown = "v1 " + head.decode("latin-1").rstrip("\r\n")
        nxt = c.recv(1, socket.MSG_PEEK)
        s = ctx.wrap_socket(c, server_side=True)
        req = b""
        while b"\r\n\r\n" not in req:
            d = s.recv(4096)
            if not d:
                break
            req += d
        body = ("header: %s\nnext: %s\nversion: %s\nsni: %s\n" % (
            shown, nxt.hex(), s.version(), seen.get("sni") or "-")).encode()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                  % len(body) + body)
        print("conn " + body.decode().replace("\n", "; "), file=sys.stderr, flush=True)
        try:
            s.unwrap()
        except (OSError, ssl.SSLError):
            pass
        s.close()
    except Exception as e:  # noqa: BLE001 - log and serve the next one
        print("conn error %r" % (e,), file=sys.stderr, flush=True)
        c.close()
EOF
python3 "$WORK/proxytls.py" "$P256/end.fullchain" "$P256/end.key" >"$WORK/pp.out" \
    2>"$WORK/pp.log" </dev/null &
PP_PID=$!
track_pid "$PP_PID"
_wait_line "$WORK/pp.out" '^listening on 127\.0\.0\.1:[0-9]+$' 1 "$PP_PID" || {
    not_ok "the python TLS server (PROXY header first) starts" "$WORK/pp.out" "$WORK/pp.log"
    finish
}
P_PP=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$WORK/pp.out")

# A python TLS server (pytls.py CERT KEY MODE [UNIX-PATH]) on 127.0.0.1:0 or a unix
# socket, answering one HTTP request per connection. MODE ok: a whole response, then
# close_notify. MODE trunc: half of the response, then a FIN without close_notify, a
# truncated stream (RFC 8446 section 6.1).
cat >"$WORK/pytls.py" <<'EOF'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
mode = sys.argv[3]
if len(sys.argv) > 4:
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(sys.argv[4])
    where = "unix:" + sys.argv[4]
else:
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    where = "127.0.0.1:%d" % ls.getsockname()[1]
ls.listen(16)
print("listening on " + where, flush=True)
while True:
    c, _ = ls.accept()
    c.settimeout(10)
    try:
        s = ctx.wrap_socket(c, server_side=True)
        req = b""
        while b"\r\n\r\n" not in req:
            d = s.recv(4096)
            if not d:
                break
            req += d
        if mode == "trunc":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b"x" * 1000)
            s.shutdown(socket.SHUT_RDWR)  # the socket's FIN, no close_notify
        else:
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\nConnection: close\r\n\r\n"
                      b"hello over tls\n")
            try:
                s.unwrap()
            except (OSError, ssl.SSLError):
                pass
        s.close()
        print("conn %s done" % mode, file=sys.stderr, flush=True)
    except Exception as e:  # noqa: BLE001 - log and serve the next one
        print("conn error %r" % (e,), file=sys.stderr, flush=True)
        c.close()
EOF
# start_pytls NAME MODE [UNIX-PATH]: sets PY_PORT (empty for a unix socket), PY_LOG.
start_pytls() {
    PY_LOG=$WORK/py-$1.log
    PY_PORT=""
    python3 "$WORK/pytls.py" "$P256/end.fullchain" "$P256/end.key" "$2" ${3:+"$3"} \
        >"$WORK/py-$1.out" 2>"$PY_LOG" </dev/null &
    py_pid=$!
    track_pid "$py_pid"
    if ! _wait_line "$WORK/py-$1.out" '^listening on ' 1 "$py_pid"; then
        not_ok "the python TLS server $1 starts" "$WORK/py-$1.out" "$PY_LOG"
        return 1
    fi
    PY_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$WORK/py-$1.out")
}
start_pytls trunc trunc || finish
P_TR=$PY_PORT LOG_TR=$PY_LOG
USOCK=$WORK/tls.sock
start_pytls unix ok "$USOCK" || finish
# A server that never answers: a listening socket nobody accepts on (the kernel
# completes the TCP handshake; the ClientHello gets no reply).
python3 -c '
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
time.sleep(600)' >"$WORK/silent.out" 2>&1 </dev/null &
SILENT_PID=$!
track_pid "$SILENT_PID"
_wait_line "$WORK/silent.out" '^listening on ' 1 "$SILENT_PID" || {
    not_ok "the silent server starts" "$WORK/silent.out"
    finish
}
P_SILENT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$WORK/silent.out")

# ---- moat: one listener per backend -------------------------------------------------------------
NL=21
# shellcheck disable=SC2046
set -- $(free_ports $NL)
L_SNI=$1 L_IP=$2 L_RSA=$3 L_OSSL=$4 L_ALPN=$5 L_FWD=$6 L_ECHO=$7 L_PP1=$8 L_PP2=$9
shift 9
L_WCA=$1 L_SYS=$2 L_WN=$3 L_EXP=$4 L_FO=$5 L_H2=$6 L_TR=$7 L_NAME=$8 L_WNOK=$9
shift 9
L_ALLBAD=$1 L_UNIX=$2 L_SILENT=$3
CONF=$WORK/moat.yaml
{
    cat <<EOF
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 5s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
EOF
    for lb in "$L_SNI sni" "$L_IP ip" "$L_RSA rsa" "$L_OSSL ossl" "$L_ALPN alpn" "$L_FWD fwd" \
        "$L_ECHO echo" "$L_PP1 pp1" "$L_PP2 pp2" "$L_WCA wrongca" "$L_SYS sysca" \
        "$L_WN wrongname" "$L_EXP expired" "$L_FO fo" "$L_H2 h2" "$L_TR trunc" "$L_NAME byname" \
        "$L_WNOK wrongnameok" "$L_ALLBAD allbad" "$L_UNIX unix" \
        "$L_SILENT silent"; do
        # shellcheck disable=SC2086 # "PORT NAME": two words on purpose
        set -- $lb
        printf '  - { address: "127.0.0.1:%s", certificates: [ %s ], backend: %s }\n' \
            "$1" "$(cert_item ecdsa-p256)" "$2"
    done
    cat <<EOF
backends:
  sni: { servers: ["127.0.0.1:$P_SNI"], tls: { ca: $P256/ca.cert, server_name: localhost } }
  ip: { servers: ["127.0.0.1:$P_IP"], tls: { ca: $P256/ca.cert } }
  rsa: { servers: ["127.0.0.1:$P_RSA"], tls: { ca: $RSA/ca.cert, server_name: localhost } }
  ossl: { servers: ["127.0.0.1:$P_OSSL"], tls: { ca: $P256/ca.cert, server_name: localhost } }
  alpn:
    servers: ["127.0.0.1:$P_ALPN"]
    tls: { ca: $P256/ca.cert, server_name: localhost, alpn: [http/1.1] }
  fwd: { servers: ["127.0.0.1:$P_FWD"], tls: { ca: $P256/ca.cert, server_name: localhost } }
  echo: { servers: ["127.0.0.1:$P_ECHO"], tls: { ca: $P256/ca.cert } }
  pp1:
    servers: ["127.0.0.1:$P_PP"]
    proxy_protocol: v1
    tls: { ca: $P256/ca.cert, server_name: localhost }
  pp2:
    servers: ["127.0.0.1:$P_PP"]
    proxy_protocol: v2
    tls: { ca: $P256/ca.cert, server_name: localhost }
  wrongca: { servers: ["127.0.0.1:$P_WCA"], tls: { ca: $RSA/ca.cert, server_name: localhost } }
  sysca: { servers: ["127.0.0.1:$P_SYS"], tls: { server_name: localhost } }
  wrongname:
    servers: ["127.0.0.1:$P_WN"]
    tls: { ca: $P256/ca.cert, server_name: wrong.example }
  expired: { servers: ["127.0.0.1:$P_EXP"], tls: { ca: $P256/ca.cert, server_name: localhost } }
  fo:
    servers: ["127.0.0.1:$P_FOBAD", "127.0.0.1:$P_FOGOOD"]
    balance: round-robin
    tls: { ca: $P256/ca.cert, server_name: localhost }
  h2:
    servers: ["127.0.0.1:$P_ALPN"]
    tls: { ca: $P256/ca.cert, server_name: localhost, alpn: [h2] }
  trunc: { servers: ["127.0.0.1:$P_TR"], tls: { ca: $P256/ca.cert, server_name: localhost } }
  byname: { servers: ["localhost:$P_BYNAME"], tls: { ca: $P256/ca.cert } }
  wrongnameok:
    servers: ["127.0.0.1:$P_WNOK"]
    tls: { ca: $P256/ca.cert, server_name: wrong.example }
  unix: { servers: ["unix:$USOCK"], tls: { ca: $P256/ca.cert, server_name: localhost } }
  silent: { servers: ["127.0.0.1:$P_SILENT"], tls: { ca: $P256/ca.cert, server_name: localhost } }
  allbad:
    servers: ["127.0.0.1:$P_EXP", "127.0.0.1:$P_FOBAD"]
    tls: { ca: $P256/ca.cert, server_name: localhost }
EOF
} >"$CONF"

tmo "$MOAT" -t -c "$CONF" >"$WORK/t.out" 2>"$WORK/t.err"
st=$?
if [ "$st" -eq 0 ] && grep -Eqx "moat: $CONF is valid: $NL listeners, $NL backends, [0-9]+ certificates loaded" "$WORK/t.out" &&
    [ ! -s "$WORK/t.err" ]; then
    ok "moat -t accepts $NL backends with tls (ca, server_name, alpn; system bundle by default)"
else
    not_ok "moat -t accepts the TLS backends" "exit $st" "$WORK/t.out" "$WORK/t.err"
fi
start_moat "$CONF" "$NL" || finish

# curl_via LPORT OUT [CURL-ARGS...]: GET through moat's listener LPORT, headers
# included (-i); sets CURL_ST, CURL_LP (curl's local port).
curl_via() {
    cv_lp=$1 cv_out=$2
    shift 2
    tmo curl -sS -i --tlsv1.3 --http1.1 --cacert "$CA" --resolve "localhost:$cv_lp:127.0.0.1" \
        -o "$cv_out" -w '%{local_port}\n' "$@" "https://localhost:$cv_lp/" >"$WORK/curl.w" 2>"$WORK/curl.err"
    CURL_ST=$?
    CURL_LP=$(cat "$WORK/curl.w")
}

# access_of CLIENT_PORT: the access-log line of that client connection (waits up to 5 s).
access_of() {
    wait_access " client=127\\.0\\.0\\.1:$1 " 5 && access_lines " client=127\\.0\\.0\\.1:$1 " | tail -n 1
}

# check_line DESC CLIENT_PORT BACKEND END: backend= and end= of that connection's line.
check_line() {
    cl_line=$(access_of "$2")
    if [ -z "$cl_line" ]; then
        not_ok "$1: access-log line for client port $2" "$ACCESS_LOG" "$MOAT_LOG"
        return
    fi
    expect_eq "$1: access log backend=$3 end=\"$4\"" \
        "$(field backend "$cl_line") $(field end "$cl_line")" "$3 $4" "line: $cl_line"
}

# since_mark FILE MARK: the lines of FILE after its first MARK lines.
since_mark() {
    tail -n +"$(($2 + 1))" "$1"
}
lines_of() {
    wc -l <"$1" | tr -d ' '
}

# good_http DESC LPORT BACKEND-FIELD BACKEND-PORT BACKEND-CA TB-LOG WANT-HANDSHAKE-ERE
# [DIRECT-NAME]: the
# response through moat is byte for byte what the backend answers to a direct curl;
# the backend's new handshake line (moat's) matches WANT-HANDSHAKE-ERE; the access
# log says backend=BACKEND-FIELD (NAME/SERVER) and end="closed". The direct curl asks
# for DIRECT-NAME (default localhost).
good_http() {
    gh_desc=$1 gh_lp=$2 gh_bn=$3 gh_bp=$4 gh_ca=$5 gh_log=$6 gh_hs=$7 gh_host=${8:-localhost}
    tmo curl -sS -i --http1.1 --cacert "$gh_ca" --resolve "$gh_host:$gh_bp:127.0.0.1" \
        -o "$WORK/direct.resp" "https://$gh_host:$gh_bp/" 2>"$WORK/direct.err" ||
        not_ok "$gh_desc: direct curl to the backend" "$WORK/direct.err"
    gh_mark=$(lines_of "$gh_log")
    curl_via "$gh_lp" "$WORK/via.resp"
    if [ "$CURL_ST" -eq 0 ] && [ -s "$WORK/via.resp" ] && cmp -s "$WORK/direct.resp" "$WORK/via.resp"; then
        ok "$gh_desc: through moat, curl gets the backend's exact response ($(head -n 1 "$WORK/via.resp" | tr -d '\r'))"
    else
        not_ok "$gh_desc: through moat, curl gets the backend's exact response" "curl exit $CURL_ST" \
            "$WORK/curl.err" "$WORK/via.resp" "$WORK/direct.resp" "$MOAT_LOG"
    fi
    if since_mark "$gh_log" "$gh_mark" | grep -Eq -- "$gh_hs"; then
        ok "$gh_desc: backend log: $(since_mark "$gh_log" "$gh_mark" | grep -Eo 'handshake done.*' | head -n 1)"
    else
        not_ok "$gh_desc: backend log has a handshake matching '$gh_hs'" "$gh_log"
    fi
    [ -n "$CURL_LP" ] && check_line "$gh_desc" "$CURL_LP" "$gh_bn" closed
}

HS13='handshake done version=TLSv1\.3 suite=TLS13_[A-Z0-9_]+ '
# ---- (1) good backends: exact responses, SNI or none -------------------------------------------
good_http "tlsserver P-256, server_name: localhost" "$L_SNI" "sni/127.0.0.1:$P_SNI" "$P_SNI" \
    "$CA" "$LOG_SNI" "${HS13}group=[^ ]+ sig=ecdsa_secp256r1_sha256 sni=localhost alpn=- "
good_http "tlsserver P-256, no server_name, server 127.0.0.1 (IP SAN, no SNI)" "$L_IP" \
    "ip/127.0.0.1:$P_IP" "$P_IP" "$CA" "$LOG_IP" "${HS13}.* sni=- alpn=- "
good_http "tlsserver P-256, no server_name, server localhost:PORT (SNI localhost)" "$L_NAME" \
    "byname/localhost:$P_BYNAME" "$P_BYNAME" "$CA" "$LOG_BYNAME" "${HS13}.* sni=localhost alpn=- "
good_http "tests/certs/bad/wrongname with server_name: wrong.example" "$L_WNOK" \
    "wrongnameok/127.0.0.1:$P_WNOK" "$P_WNOK" "$CA" "$LOG_WNOK" "${HS13}.* sni=wrong\\.example alpn=- " \
    wrong.example
good_http "tlsserver RSA 2048 chain, rsa2048 ca" "$L_RSA" "rsa/127.0.0.1:$P_RSA" "$P_RSA" \
    "$RSA/ca.cert" "$LOG_RSA" "${HS13}group=[^ ]+ sig=rsa_pss_rsae_sha[0-9]+ sni=localhost alpn=- "

# A unix-socket server, server_name: localhost.
curl_via "$L_UNIX" "$WORK/unix.resp"
if [ "$CURL_ST" -eq 0 ] && [ "$(tail -n 1 "$WORK/unix.resp")" = "hello over tls" ]; then
    ok "a TLS server on a unix socket (server_name: localhost): curl gets its answer"
else
    not_ok "a TLS server on a unix socket: curl gets its answer" "curl exit $CURL_ST" \
        "$WORK/unix.resp" "$WORK/curl.err" "$WORK/py-unix.log"
fi
[ -n "$CURL_LP" ] && check_line "unix socket" "$CURL_LP" "unix/unix:$USOCK" closed

# openssl s_server -www: its page describes each session, so it is checked, not compared.
curl_via "$L_OSSL" "$WORK/ossl.resp"
if [ "$CURL_ST" -eq 0 ] && head -n 1 "$WORK/ossl.resp" | grep -q '^HTTP/1\.0 200 ok' &&
    grep -q 'New, TLSv1\.3, Cipher is TLS_' "$WORK/ossl.resp" &&
    grep -q '</BODY></HTML>' "$WORK/ossl.resp"; then
    ok "openssl s_server -www: through moat, curl gets the whole page (TLSv1.3 session to moat)"
else
    not_ok "openssl s_server -www: through moat, curl gets the whole page" "curl exit $CURL_ST" \
        "$WORK/curl.err" "$WORK/ossl.resp" "$WORK/ossl.err" "$MOAT_LOG"
fi
[ -n "$CURL_LP" ] && check_line "openssl s_server -www" "$CURL_LP" "ossl/127.0.0.1:$P_OSSL" closed

# ---- (2) alpn --------------------------------------------------------------------------------------
good_http "alpn: [http/1.1] to tlsserver --proto http/1.1" "$L_ALPN" "alpn/127.0.0.1:$P_ALPN" \
    "$P_ALPN" "$CA" "$LOG_ALPN" "${HS13}.* sni=localhost alpn=http/1\\.1 "

# A backend that does not speak the one protocol moat offers refuses the handshake.
mc expect-close --port "$L_H2" >"$WORK/h2.out" 2>"$WORK/h2.err"
lp=$(kv local_port "$WORK/h2.out")
l=$([ -n "$lp" ] && access_of "$lp")
e=$(field end "$l")
case $e in
"no backend available: 1 of 1 servers failed (last: 127.0.0.1:$P_ALPN: tls error: AlertReceived (backend sent no_application_protocol))")
    ok "alpn: [h2] to a backend with only http/1.1: refused, end=\"$e\"" ;;
*) not_ok "alpn: [h2] to a backend with only http/1.1: end=\"no backend available: ... (backend sent no_application_protocol))\"" \
    "line: $l" "$WORK/h2.out" "$LOG_ALPN" ;;
esac

# ---- PROXY header in the clear, before the ClientHello -------------------------------------------
for v in 1 2; do
    lpp=$L_PP1
    [ "$v" = 2 ] && lpp=$L_PP2
    curl_via "$lpp" "$WORK/pp$v.resp"
    hdr=$(sed -n 's/^header: //p' "$WORK/pp$v.resp" | tr -d '\r')
    case $v in
    1) want_hdr="v1 PROXY TCP4 127.0.0.1 127.0.0.1 $CURL_LP $lpp" ;;
    2) want_hdr="v2 0d0a0d0a000d0a515549540a2111*" ;; # PROXY, TCP over IPv4
    esac
    # shellcheck disable=SC2254
    case $hdr in
    $want_hdr) hdr_ok=1 ;;
    *) hdr_ok=0 ;;
    esac
    if [ "$CURL_ST" -eq 0 ] && [ "$hdr_ok" = 1 ] &&
        grep -q '^next: 16$' "$WORK/pp$v.resp" && grep -q '^version: TLSv1\.3$' "$WORK/pp$v.resp" &&
        grep -q '^sni: localhost$' "$WORK/pp$v.resp"; then
        ok "proxy_protocol: v$v: the header arrives in the clear, then a TLS handshake record (0x16), TLSv1.3, sni=localhost"
    else
        not_ok "proxy_protocol: v$v header in the clear, then TLS" "curl exit $CURL_ST" \
            "header: '$hdr' (want '$want_hdr')" "$WORK/pp$v.resp" "$WORK/pp.log" "$WORK/curl.err"
    fi
    [ -n "$CURL_LP" ] && check_line "proxy_protocol: v$v" "$CURL_LP" "pp$v/127.0.0.1:$P_PP" closed
done

# ---- (3) 5 MB each way ------------------------------------------------------------------------------
N=5242880
want_bytes=$(python3 -c "
import hashlib
n = $N
pat = bytes(((i * 31 + 7) & 0xff) for i in range(256))
print(hashlib.sha256((pat * (n // 256 + 1))[:n]).hexdigest())")
tmo curl -sS --http1.1 --cacert "$CA" --resolve "localhost:$L_FWD:127.0.0.1" \
    -o "$WORK/bytes.got" -w '%{http_code} %{local_port}\n' \
    "https://localhost:$L_FWD/bytes?n=$N" >"$WORK/bytes.w" 2>"$WORK/bytes.err"
st=$?
got_hash=$(sha256sum "$WORK/bytes.got" | cut -d' ' -f1)
if [ "$st" -eq 0 ] && [ "$(cut -d' ' -f1 "$WORK/bytes.w")" = 200 ] &&
    [ "$(file_size "$WORK/bytes.got")" -eq "$N" ] && [ "$got_hash" = "$want_bytes" ]; then
    ok "5 MB download through a TLS backend (tlsserver forward -> backend): size and sha256 match"
else
    not_ok "5 MB download through a TLS backend: size and sha256 match" "curl exit $st" \
        "size $(file_size "$WORK/bytes.got"), sha256 $got_hash, want $want_bytes" \
        "$WORK/bytes.err" "$MOAT_LOG"
fi
lp=$(cut -d' ' -f2 "$WORK/bytes.w")
l=$([ -n "$lp" ] && access_of "$lp")
bo=$(field bytes_out "$l")
if [ "${bo:-0}" -ge "$N" ] 2>/dev/null && [ "$(field end "$l")" = closed ]; then
    ok "5 MB download: access log bytes_out=$bo, end=\"closed\""
else
    not_ok "5 MB download: access log bytes_out >= $N, end=\"closed\"" "line: $l"
fi

python3 -c "
import random, sys
sys.stdout.buffer.write(random.Random(7).randbytes($N))" >"$WORK/upload"
want_sha="$(sha256sum "$WORK/upload" | cut -d' ' -f1) $N"
got=$(tmo curl -sS --http1.1 --cacert "$CA" --resolve "localhost:$L_FWD:127.0.0.1" \
    --data-binary "@$WORK/upload" -H 'Content-Type: application/octet-stream' \
    "https://localhost:$L_FWD/sha256" 2>"$WORK/up.err")
expect_eq "5 MB upload through a TLS backend: the backend saw the exact bytes (sha256)" "$got" \
    "$want_sha" "$WORK/up.err" "$MOAT_LOG"

CLIENT_TIMEOUT=60 mc bulk --port "$L_ECHO" --size "$N" --stall 0 --slow 0 --limit 50 \
    >"$WORK/bulk.out" 2>"$WORK/bulk.err"
st=$?
if [ "$st" -eq 0 ] && [ "$(kv end "$WORK/bulk.out")" = complete ] &&
    [ "$(kv received "$WORK/bulk.out")" = "$N" ] &&
    [ "$(kv sha256_sent "$WORK/bulk.out")" = "$(kv sha256_received "$WORK/bulk.out")" ]; then
    ok "5 MB echo through a TLS backend (tlsserver echo): sha256 of what came back equals what was sent"
else
    not_ok "5 MB echo through a TLS backend: sha256 equal" "exit $st" "$WORK/bulk.out" \
        "$WORK/bulk.err" "$MOAT_LOG"
fi

# ---- (4) refusals --------------------------------------------------------------------------------
# refused DESC LPORT BACKEND BPORT ERROR ALERT TB-LOG: the python client completes its
# handshake with moat, then gets close_notify and no data; the access log and moat's
# log give the TLS error; the backend got moat's ALERT.
refused() {
    rf_d=$1 rf_l=$2 rf_bn=$3 rf_bp=$4 rf_err=$5 rf_alert=$6 rf_tl=$7
    mc expect-close --port "$rf_l" --alpn http/1.1 >"$WORK/ref.out" 2>"$WORK/ref.err"
    rf_st=$?
    if [ "$rf_st" -eq 0 ] && [ "$(kv handshake "$WORK/ref.out")" = ok ] &&
        [ "$(kv end "$WORK/ref.out")" = close_notify ] && [ "$(kv bytes "$WORK/ref.out")" = 0 ]; then
        ok "$rf_d: the client is closed cleanly (handshake, close_notify, no data, $(kv seconds "$WORK/ref.out") s)"
    else
        not_ok "$rf_d: the client is closed cleanly (handshake, close_notify, no data)" "exit $rf_st" \
            "$WORK/ref.out" "$WORK/ref.err"
    fi
    rf_lp=$(kv local_port "$WORK/ref.out")
    rf_line=$([ -n "$rf_lp" ] && access_of "$rf_lp")
    rf_want="no backend available: 1 of 1 servers failed (last: 127.0.0.1:$rf_bp: tls error: $rf_err)"
    expect_eq "$rf_d: access log end=\"$rf_want\", backend=-" \
        "$(field end "$rf_line") | $(field backend "$rf_line")" "$rf_want | -" "line: $rf_line"
    if grep -Fq "moat[warn]: backend $rf_bn server 127.0.0.1:$rf_bp: tls error: $rf_err" "$MOAT_LOG"; then
        ok "$rf_d: moat warns 'backend $rf_bn server 127.0.0.1:$rf_bp: tls error: $rf_err'"
    else
        not_ok "$rf_d: moat warns about the TLS failure" "$MOAT_LOG"
    fi
    if grep -q "error AlertReceived (peer alert $rf_alert)" "$rf_tl"; then
        ok "$rf_d: the backend got moat's $rf_alert alert"
    else
        not_ok "$rf_d: the backend got moat's $rf_alert alert" "$rf_tl"
    fi
    # curl fails fast too (no hang, no body).
    tmo curl -sS --http1.1 --cacert "$CA" --resolve "localhost:$rf_l:127.0.0.1" -o "$WORK/ref.body" \
        "https://localhost:$rf_l/" 2>"$WORK/ref.cerr"
    rf_st=$?
    case $rf_st in
    0 | 124 | 137) not_ok "$rf_d: curl fails without a hang" "curl exit $rf_st" "$WORK/ref.cerr" ;;
    *)
        if [ "$(file_size "$WORK/ref.body")" -eq 0 ]; then
            ok "$rf_d: curl fails at once, no body (exit $rf_st)"
        else
            not_ok "$rf_d: curl gets no body" "$WORK/ref.body"
        fi
        ;;
    esac
}

refused "wrong CA (rsa2048 ca for a P-256 backend)" "$L_WCA" wrongca "$P_WCA" \
    "InvalidCertificate(UnknownIssuer)" unknown_ca "$LOG_WCA"
refused "no ca: the system bundle does not know the test CA" "$L_SYS" sysca "$P_SYS" \
    "InvalidCertificate(UnknownIssuer)" unknown_ca "$LOG_SYS"
refused "server_name: wrong.example" "$L_WN" wrongname "$P_WN" \
    "InvalidCertificate(NotValidForName)" bad_certificate "$LOG_WN"
refused "expired backend certificate (tests/certs/bad/expired)" "$L_EXP" expired "$P_EXP" \
    "InvalidCertificate(Expired)" certificate_expired "$LOG_EXP"

# A server that never answers the ClientHello: the connect timeout (2 s) covers the
# TLS handshake.
mc expect-close --port "$L_SILENT" >"$WORK/silent.mc" 2>"$WORK/silent.err"
lp=$(kv local_port "$WORK/silent.mc")
l=$([ -n "$lp" ] && access_of "$lp")
e=$(field end "$l")
secs=$(kv seconds "$WORK/silent.mc")
if [ "$(kv end "$WORK/silent.mc")" = close_notify ] &&
    [ "$e" = "no backend available: 1 of 1 servers failed (last: 127.0.0.1:$P_SILENT: TLS handshake timed out)" ] &&
    [ "${secs%%.*}" -ge 1 ] 2>/dev/null && [ "${secs%%.*}" -le 4 ]; then
    ok "a server that never answers: after the connect timeout ($secs s), close_notify, end=\"$e\""
else
    not_ok "a server that never answers: close_notify after about 2 s, end=\"... TLS handshake timed out)\"" \
        "seconds: $secs" "line: $l" "$WORK/silent.mc"
fi

# Both servers of a backend refused: "2 of 2", the last one tried named.
mc expect-close --port "$L_ALLBAD" >"$WORK/allbad.out" 2>"$WORK/allbad.err"
lp=$(kv local_port "$WORK/allbad.out")
l=$([ -n "$lp" ] && access_of "$lp")
e=$(field end "$l")
if [ "$(kv end "$WORK/allbad.out")" = close_notify ] && printf '%s\n' "$e" | grep -Eqx \
    "no backend available: 2 of 2 servers failed \\(last: 127\\.0\\.0\\.1:($P_EXP: tls error: InvalidCertificate\\(Expired\\)|$P_FOBAD: tls error: InvalidCertificate\\(UnknownIssuer\\))\\)"; then
    ok "two servers, both refused (Expired, UnknownIssuer): close_notify, end=\"$e\""
else
    not_ok "two servers, both refused: close_notify, end=\"no backend available: 2 of 2 servers failed (last: ...)\"" \
        "line: $l" "$WORK/allbad.out"
fi

# ---- (5) failover past a server whose certificate does not verify -------------------------------
fo_mark=$(lines_of "$LOG_FOBAD")
: >"$WORK/fo.body"
good=0
bad=""
i=0
while [ "$i" -lt 12 ]; do
    i=$((i + 1))
    body=$(tmo curl -sS --http1.1 --cacert "$CA" --resolve "localhost:$L_FO:127.0.0.1" \
        "https://localhost:$L_FO/" 2>>"$WORK/fo.err" | tr -d '\r')
    st=$?
    if [ "$st" -eq 0 ] && [ "$body" = "Hello from moat tlsserver" ]; then
        good=$((good + 1))
    else
        bad="$bad #$i(exit $st: $body)"
    fi
done
expect_eq "failover: first server self-signed, second good: 12 of 12 requests succeed" "$good" 12 \
    "failed:$bad" "$WORK/fo.err" "$MOAT_LOG"
if wait_access " listener=127\\.0\\.0\\.1:$L_FO " 5 12; then
    n=$(access_count " listener=127\\.0\\.0\\.1:$L_FO .* backend=fo/127\\.0\\.0\\.1:$P_FOGOOD .* end=\"closed\"$")
    expect_eq "failover: 12 access-log lines, each backend=fo/127.0.0.1:$P_FOGOOD, end=\"closed\"" \
        "$n" 12 "$ACCESS_LOG"
else
    not_ok "failover: 12 access-log lines" "$ACCESS_LOG"
fi
nw=$(grep -Fc "moat[warn]: backend fo server 127.0.0.1:$P_FOBAD: tls error: InvalidCertificate(UnknownIssuer)" "$MOAT_LOG")
nb=$(since_mark "$LOG_FOBAD" "$fo_mark" | grep -c 'error AlertReceived (peer alert unknown_ca)')
if [ "$nw" -ge 1 ] && [ "$nw" -le 3 ] && [ "$nb" -eq "$nw" ]; then
    ok "failover: the bad server was tried $nw time(s), then marked down and skipped (12 requests, round-robin)"
else
    not_ok "failover: the bad server is tried 1 to 3 times (marked down after 3 failures)" \
        "moat warnings: $nw, unknown_ca alerts at the bad server: $nb" "$MOAT_LOG" "$LOG_FOBAD"
fi

# ---- a TLS backend that truncates its stream ---------------------------------------------------
# Half a response, then a FIN without close_notify: the access log must not call that
# a clean end ("closed" is what a stream ended with close_notify gets).
curl_via "$L_TR" "$WORK/tr.resp"
tr_st=$CURL_ST
tr_line=$([ -n "$CURL_LP" ] && access_of "$CURL_LP")
tr_end=$(field end "$tr_line")
if [ "$tr_st" -ne 0 ] && [ "$(field backend "$tr_line")" = "trunc/127.0.0.1:$P_TR" ] &&
    [ -n "$tr_end" ] && [ "$tr_end" != closed ]; then
    ok "a backend closing without close_notify is logged as such: end=\"$tr_end\" (curl exit $tr_st)"
else
    not_ok "a backend closing without close_notify (truncation) is not logged as end=\"closed\"" \
        "curl exit $tr_st (18: the response is 1000 bytes short)" "line: $tr_line" "$LOG_TR"
fi

check_alive "moat still running"
if grep -E 'moat\[error\]' "$MOAT_LOG" >/dev/null; then
    not_ok "moat logged no errors" "$MOAT_LOG"
else
    ok "moat logged no errors"
fi
stop_moat
expect_eq "SIGTERM: moat exits with status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"

# ---- (6) moat -t on bad backend tls settings ----------------------------------------------------------
# bad_t DESC TLS-VALUE WANT-ERE [SERVERS [LINE-ERE]]: a one-backend config whose tls
# (line 8) is TLS-VALUE and servers (line 7) SERVERS; moat -t must exit 1 with one line
# "moat: FILE:LINE:COLUMN: ..." matching WANT-ERE, LINE matching LINE-ERE (default 8).
bad_t() {
    bt_f=$WORK/bad.yaml
    cat >"$bt_f" <<EOF
listeners:
  - address: "127.0.0.1:$L_SNI"
    certificates: [ $(cert_item ecdsa-p256) ]
    backend: web
backends:
  web:
    servers: ${4:-["127.0.0.1:$P_SNI"]}
    tls: $2
EOF
    tmo "$MOAT" -t -c "$bt_f" >"$WORK/bad.out" 2>"$WORK/bad.err"
    bt_st=$?
    if [ "$bt_st" -eq 1 ] && [ ! -s "$WORK/bad.out" ] && [ "$(lines_of "$WORK/bad.err")" = 1 ] &&
        grep -Eqx "moat: $bt_f:(${5:-8}):[0-9]+: $3" "$WORK/bad.err"; then
        ok "moat -t, $1: exit 1, '$(cat "$WORK/bad.err")'"
    else
        not_ok "moat -t, $1: exit 1, 'moat: $bt_f:${5:-8}:COLUMN: ...' matching '$3'" "exit $bt_st" \
            "$WORK/bad.err" "$WORK/bad.out"
    fi
}
bad_t "tls.ca names a missing file" "{ ca: $WORK/nope/ca.pem, server_name: localhost }" \
    "cannot read $WORK/nope/ca\\.pem: No such file or directory"
bad_t "an unknown key in a backend's tls" "{ ca: $P256/ca.cert, insecure: true }" \
    'unknown key "insecure" in a backend.s tls'
bad_t "an empty alpn name" "{ ca: $P256/ca.cert, alpn: [\"\"] }" \
    'ALPN protocol names must be 1 to 255 bytes long \(this one is 0\)'
# A server_name the engine cannot use ("not a name!", "a..b", "*.wild.test") must be
# refused when the file is checked, not make every connection fail later
# (General(InvalidArgument)) and take healthy servers down.
for sn in 'not a name!' 'a..b' '*.wild.test'; do
    bad_t "server_name \"$sn\" is not a host name or IP address" \
        "{ ca: $P256/ca.cert, server_name: \"$sn\" }" '.*server_name.*|.*host name.*'
done
# A unix: server has no host name to check the certificate against: without
# server_name, moat would verify (and send as SNI) the name "unix".
bad_t "a unix: server without server_name" "{ ca: $P256/ca.cert }" '.*server_name.*' \
    "[\"unix:$WORK/x.sock\"]" '7|8'

# ---- (7) SIGHUP: the ca file is read again -------------------------------------------------------------
cp "$RSA/ca.cert" "$WORK/rl-ca.pem"
cat >"$WORK/rl.yaml" <<EOF
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 5s, idle: 30s, connect: 3s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
  - { address: "127.0.0.1:$L_SNI", certificates: [ $(cert_item ecdsa-p256) ], backend: rl }
backends:
  rl: { servers: ["127.0.0.1:$P_SNI"], tls: { ca: $WORK/rl-ca.pem, server_name: localhost } }
EOF
# rl_get: curl's body through the reload listener (empty when refused).
rl_get() {
    tmo curl -sS --http1.1 --cacert "$CA" --resolve "localhost:$L_SNI:127.0.0.1" \
        "https://localhost:$L_SNI/" 2>>"$WORK/rl.err" | tr -d '\r'
}
if start_moat "$WORK/rl.yaml" 1; then
    expect_eq "reload: with the wrong CA file, the backend is refused" "$(rl_get)" "" "$WORK/rl.err"
    cp "$P256/ca.cert" "$WORK/rl-ca.pem"
    log_mark
    kill -HUP "$MOAT_PID"
    if wait_log 'moat\[info\]: configuration reloaded' 5; then
        expect_eq "reload: SIGHUP after the CA file was replaced: the backend verifies" \
            "$(rl_get)" "Hello from moat tlsserver" "$WORK/rl.err" "$MOAT_LOG"
    else
        not_ok "reload: SIGHUP after the CA file was replaced: 'configuration reloaded'" "$MOAT_LOG"
    fi
    rm -f "$WORK/rl-ca.pem"
    log_mark
    kill -HUP "$MOAT_PID"
    if wait_log "moat\\[error\\]: reload failed, keeping the running configuration: $WORK/rl\\.yaml:[0-9]+:[0-9]+: cannot read $WORK/rl-ca\\.pem" 5; then
        ok "reload: the CA file gone: 'reload failed, keeping the running configuration: ... cannot read ...'"
    else
        not_ok "reload: the CA file gone: 'reload failed ... cannot read $WORK/rl-ca.pem'" "$MOAT_LOG"
    fi
    expect_eq "reload: the running configuration (its roots loaded) still serves" "$(rl_get)" \
        "Hello from moat tlsserver" "$WORK/rl.err" "$MOAT_LOG"
    stop_moat
    expect_eq "reload: SIGTERM, exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
fi

# ---- (8) the place of the tls section in the file does not matter --------------------------------------
# The backends' TLS client takes tls.versions; "tls:" written before or after
# "backends:" must give the same ClientHello. Seen through a TLS 1.2-only server: both
# orders must end the same way.
start_tb v12 "$P256/end.fullchain" "$P256/end.key" --protover 1.2 http || finish
P_V12=$TB_PORT
for order in before after; do
    {
        echo "log: { level: info, access: $WORK/access-$order.log }"
        echo "limits: { max_connections: 1000 }"
        [ "$order" = before ] && echo 'tls: { versions: ["1.3"] }'
        echo "listeners:"
        echo "  - { address: \"127.0.0.1:$L_SNI\", certificates: [ $(cert_item ecdsa-p256) ], backend: v12 }"
        echo "backends:"
        echo "  v12: { servers: [\"127.0.0.1:$P_V12\"], tls: { ca: $P256/ca.cert, server_name: localhost } }"
        [ "$order" = after ] && echo 'tls: { versions: ["1.3"] }'
    } >"$WORK/order-$order.yaml"
    start_moat "$WORK/order-$order.yaml" 1 || continue
    tmo curl -sS --http1.1 --cacert "$CA" --resolve "localhost:$L_SNI:127.0.0.1" \
        -o /dev/null "https://localhost:$L_SNI/" 2>/dev/null
    ACCESS_LOG=$WORK/access-$order.log wait_access ' access: ' 5
    eval "END_$order=\$(field end \"\$(tail -n 1 \"$WORK/access-$order.log\")\")"
    stop_moat
done
# shellcheck disable=SC2154 # END_before and END_after are set by the eval above
expect_eq "tls: { versions: [\"1.3\"] } before or after backends: the same outcome with a TLS 1.2-only backend" \
    "$END_after" "$END_before" "tls before backends: end=\"$END_before\"" \
    "tls after backends:  end=\"$END_after\""

# ---- (9) moat resumes its sessions with a TLS backend --------------------------------------------
# Each TLS backend has a client session store: moat's first connection to a server is a
# full handshake (the backend logs resumed=no), later ones offer what the server issued
# (resumed=yes): TLS 1.3 tickets (--tickets stateless, --resumption stateful single-use),
# TLS 1.2 RFC 5077 tickets and session IDs. A server issuing nothing is never resumed.
start_tb r13 "$P256/end.fullchain" "$P256/end.key" --tickets http || finish
P_R13=$TB_PORT LOG_R13=$TB_LOG
start_tb r13s "$P256/end.fullchain" "$P256/end.key" --resumption http || finish
P_R13S=$TB_PORT LOG_R13S=$TB_LOG
start_tb r12t "$P256/end.fullchain" "$P256/end.key" --tickets --protover 1.2 http || finish
P_R12T=$TB_PORT LOG_R12T=$TB_LOG
start_tb r12 "$P256/end.fullchain" "$P256/end.key" --resumption --protover 1.2 http || finish
P_R12=$TB_PORT LOG_R12=$TB_LOG
start_tb rnone "$P256/end.fullchain" "$P256/end.key" http || finish
P_RNONE=$TB_PORT LOG_RNONE=$TB_LOG
# shellcheck disable=SC2046
set -- $(free_ports 5)
L_R13=$1 L_R13S=$2 L_R12T=$3 L_R12=$4 L_RNONE=$5
{
    cat <<EOF
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 5s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
EOF
    for lb in "$L_R13 r13" "$L_R13S r13s" "$L_R12T r12t" "$L_R12 r12" "$L_RNONE rnone"; do
        # shellcheck disable=SC2086 # "PORT NAME": two words on purpose
        set -- $lb
        printf '  - { address: "127.0.0.1:%s", certificates: [ %s ], backend: %s }\n' \
            "$1" "$(cert_item ecdsa-p256)" "$2"
    done
    echo "backends:"
    for bp in "r13 $P_R13" "r13s $P_R13S" "r12t $P_R12T" "r12 $P_R12" "rnone $P_RNONE"; do
        # shellcheck disable=SC2086 # "NAME PORT": two words on purpose
        set -- $bp
        echo "  $1: { servers: [\"127.0.0.1:$2\"], tls: { ca: $P256/ca.cert, server_name: localhost } }"
    done
} >"$WORK/res.yaml"

# resume_via DESC LPORT TB-LOG VERSION WANT-LATER(yes|no): four GETs through moat's
# listener LPORT, one after the other; each must get the backend's page. The backend
# logs four handshakes of VERSION: the first resumed=no, each later one
# resumed=WANT-LATER.
resume_via() {
    rv_d=$1 rv_lp=$2 rv_log=$3 rv_v=$4 rv_want=$5
    rv_mark=$(lines_of "$rv_log")
    rv_good=0 rv_bad=""
    for rv_i in 1 2 3 4; do
        curl_via "$rv_lp" "$WORK/res.resp"
        if [ "$CURL_ST" -eq 0 ] && head -n 1 "$WORK/res.resp" | grep -q '^HTTP/1\.[01] 200' &&
            [ "$(tail -n 1 "$WORK/res.resp" | tr -d '\r')" = "Hello from moat tlsserver" ]; then
            rv_good=$((rv_good + 1))
        else
            rv_bad="$rv_bad #$rv_i(curl exit $CURL_ST: $(tail -n 1 "$WORK/res.resp" 2>/dev/null))"
        fi
    done
    expect_eq "$rv_d: 4 of 4 requests through moat get the backend's page" "$rv_good" 4 \
        "failed:$rv_bad" "$WORK/curl.err" "$MOAT_LOG"
    # The handshake lines of moat's four connections, in order: version, resumed= and
    # whether the server signed (sig=-: no certificate signature, as resumption spares).
    rv_got=$(since_mark "$rv_log" "$rv_mark" | grep 'handshake done' |
        sed -n 's/.*handshake done version=\([^ ]*\) .* sig=\([^ ]*\) .* resumed=\([a-z]*\) .*/\1,\3,sig=\2/p' |
        sed 's/,sig=[^-][^,]*$/,signed/; s/,sig=-$/,unsigned/' | tr '\n' ' ' | sed 's/ $//')
    rv_later="$rv_v,no,signed"
    [ "$rv_want" = yes ] && rv_later="$rv_v,yes,unsigned"
    rv_exp="$rv_v,no,signed $rv_later $rv_later $rv_later"
    expect_eq "$rv_d: backend log: resumed=no, then resumed=$rv_want three times ($rv_v$([ "$rv_want" = yes ] && echo ', sig=-'))" \
        "$rv_got" "$rv_exp" "$rv_log" "$MOAT_LOG"
}

if start_moat "$WORK/res.yaml" 5; then
    resume_via "resumption: tlsserver --tickets (TLS 1.3 stateless tickets)" "$L_R13" \
        "$LOG_R13" TLSv1.3 yes
    resume_via "resumption: tlsserver --resumption (TLS 1.3 single-use stateful tickets)" \
        "$L_R13S" "$LOG_R13S" TLSv1.3 yes
    resume_via "resumption: tlsserver --tickets --protover 1.2 (RFC 5077 tickets)" "$L_R12T" \
        "$LOG_R12T" TLSv1.2 yes
    resume_via "resumption: tlsserver --resumption --protover 1.2 (session IDs)" "$L_R12" \
        "$LOG_R12" TLSv1.2 yes
    resume_via "resumption: a tlsserver issuing no tickets or IDs is never resumed" \
        "$L_RNONE" "$LOG_RNONE" TLSv1.3 no
    check_alive "resumption: moat still running"
    if grep -E 'moat\[(error|warn)\]' "$MOAT_LOG" >/dev/null; then
        not_ok "resumption: moat logged no warnings or errors" "$MOAT_LOG"
    else
        ok "resumption: moat logged no warnings or errors"
    fi
    stop_moat
    expect_eq "resumption: SIGTERM, exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
fi

finish
