#!/bin/sh
# moat and the PROXY protocol: toward backends (v1, then v2 with the ALPN, authority
# and SSL TLVs) the header carries the real client address and port and the listener
# address; with proxy_protocol_in a listener takes the address from a load
# balancer's v1/v2 header, and refuses a connection that has no valid header.
# The backend (--proxy-protocol) answers GET /proxy with what its header said.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need python3 timeout || finish
need_binaries || finish

start_backend ppv1 --proxy-protocol || finish
P_B1=$BACKEND_PORT
start_backend ppv2 --proxy-protocol || finish
P_B2=$BACKEND_PORT
set -- $(free_ports 3)
P1=$1 P2=$2 P3=$3
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 3s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
  - address: "127.0.0.1:$P1"
    certificates: [ $(cert_item ecdsa-p256) ]
    alpn: [h2, http/1.1]
    backend: v1
  - address: "127.0.0.1:$P2"
    certificates: [ $(cert_item ecdsa-p256) ]
    alpn: [h2, http/1.1]
    backend: v2
  - address: "127.0.0.1:$P3"
    certificates: [ $(cert_item ecdsa-p256) ]
    alpn: [http/1.1]
    backend: v1
    proxy_protocol_in: true
backends:
  v1: { servers: ["127.0.0.1:$P_B1"], proxy_protocol: v1 }
  v2: { servers: ["127.0.0.1:$P_B2"], proxy_protocol: v2 }
EOF
start_moat "$CONF" 3 || finish

# proxy_get DESC PORT WANT_FILE [CLIENT-ARGS...]: GET /proxy through moat's listener
# on PORT; the body, without its "peer:" line (moat's own upstream socket), must equal
# WANT_FILE after @LP@ there is replaced by the client's local port and @CIPHER@ by the
# negotiated suite's name in moat's spelling (TLS13_...).
proxy_get() {
    _desc=$1 _port=$2 _want=$3
    shift 3
    mc get --port "$_port" --path /proxy --out "$WORK/pp.body" "$@" >"$WORK/pp.out" 2>"$WORK/pp.err"
    _st=$?
    LAST_LP=$(kv local_port "$WORK/pp.out")
    _cipher=$(kv cipher "$WORK/pp.out" | sed 's/^TLS_/TLS13_/')
    sed "s/@LP@/$LAST_LP/; s/@CIPHER@/$_cipher/" "$_want" >"$WORK/pp.want"
    grep -v '^peer: ' "$WORK/pp.body" >"$WORK/pp.got" 2>/dev/null
    if [ "$_st" -eq 0 ] && [ "$(kv status "$WORK/pp.out")" = 200 ] &&
        cmp -s "$WORK/pp.want" "$WORK/pp.got" && grep -q '^peer: 127\.0\.0\.1:' "$WORK/pp.body"; then
        ok "$_desc"
    else
        not_ok "$_desc" "client exit $_st; want:" "$(sed 's/^/    /' "$WORK/pp.want")" "got:" \
            "$(sed 's/^/    /' "$WORK/pp.body" 2>/dev/null)" "$WORK/pp.err"
    fi
}

# ---- v1 toward the backend -------------------------------------------------------------
cat >"$WORK/want.v1" <<EOF
version: 1
src: 127.0.0.1:@LP@
dst: 127.0.0.1:$P1
alpn: -
authority: -
tls_version: -
tls_cipher: -
EOF
proxy_get "v1: backend sees src = the client's address and port, dst = the listener" \
    "$P1" "$WORK/want.v1" --alpn http/1.1
lp1=$LAST_LP
if wait_access " client=127\\.0\\.0\\.1:$lp1 .* backend=v1/127\\.0\\.0\\.1:$P_B1 " 5; then
    ok "v1: access log names the client port and backend v1"
else
    not_ok "v1: access log names the client port and backend v1" "$ACCESS_LOG"
fi

# ---- v2 toward the backend, with TLVs ----------------------------------------------------
cat >"$WORK/want.v2" <<EOF
version: 2
src: 127.0.0.1:@LP@
dst: 127.0.0.1:$P2
alpn: http/1.1
authority: localhost
tls_version: TLSv1.3
tls_cipher: @CIPHER@
EOF
proxy_get "v2: src/dst, alpn http/1.1, authority localhost, tls_version TLSv1.3, tls_cipher" \
    "$P2" "$WORK/want.v2" --alpn http/1.1 --sni localhost
sed 's/^alpn: .*/alpn: h2/; s/^authority: .*/authority: foo.wild.test/' "$WORK/want.v2" >"$WORK/want.v2b"
proxy_get "v2: alpn h2, authority foo.wild.test" "$P2" "$WORK/want.v2b" --alpn h2 --sni foo.wild.test
sed 's/^alpn: .*/alpn: -/; s/^authority: .*/authority: -/' "$WORK/want.v2" >"$WORK/want.v2c"
proxy_get "v2: no ALPN and no SNI: no alpn/authority TLVs" "$P2" "$WORK/want.v2c" --sni ''
# Each cipher suite is reported under its own name (openssl s_client picks the suite).
printf 'GET /proxy HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >"$WORK/req"
for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
    want="tls_cipher: $(echo "$suite" | sed 's/^TLS_/TLS13_/')"
    tmo openssl s_client -connect "127.0.0.1:$P2" -servername localhost -tls1_3 \
        -ciphersuites "$suite" -CAfile "$CA" -verify_return_error -alpn http/1.1 -quiet \
        <"$WORK/req" >"$WORK/s.out" 2>"$WORK/s.err"
    st=$?
    if [ "$st" -eq 0 ] && tr -d '\r' <"$WORK/s.out" | grep -qx "$want" &&
        tr -d '\r' <"$WORK/s.out" | grep -qx 'tls_version: TLSv1.3'; then
        ok "v2: openssl s_client with $suite -> '$want'"
    else
        not_ok "v2: openssl s_client with $suite -> '$want'" "exit $st" "$WORK/s.out" "$WORK/s.err"
    fi
done

# ---- proxy_protocol_in: a load balancer's header in front of TLS --------------------------
cat >"$WORK/want.in1" <<EOF
version: 1
src: 203.0.113.7:4242
dst: 127.0.0.1:$P3
alpn: -
authority: -
tls_version: -
tls_cipher: -
EOF
proxy_get "proxy_protocol_in, v1 header from the client: backend sees src 203.0.113.7:4242" \
    "$P3" "$WORK/want.in1" --alpn http/1.1 \
    --proxy-header "PROXY TCP4 203.0.113.7 127.0.0.1 4242 $P3\\r\\n"
if wait_access ' client=203\.0\.113\.7:4242 ' 5; then
    l=$(access_lines ' client=203\.0\.113\.7:4242 ' | tail -n 1)
    if [ "$(field listener "$l")" = "127.0.0.1:$P3" ] &&
        [ "$(field backend "$l")" = "v1/127.0.0.1:$P_B1" ] && [ "$(field end "$l")" != "" ]; then
        ok "proxy_protocol_in: access log shows client=203.0.113.7:4242"
    else
        not_ok "proxy_protocol_in: access log shows client=203.0.113.7:4242" "line: $l"
    fi
else
    not_ok "proxy_protocol_in: access log shows client=203.0.113.7:4242" "$ACCESS_LOG"
fi

# A v2 header (binary) from the load balancer.
V2HDR=$(python3 -c "
import socket, struct
sig = b'\r\n\r\n\x00\r\nQUIT\n'
addr = socket.inet_aton('198.51.100.9') + socket.inet_aton('127.0.0.1') + struct.pack('!HH', 5555, $P3)
h = sig + bytes([0x21, 0x11]) + struct.pack('!H', len(addr)) + addr
print(''.join('\\\\x%02x' % b for b in h))")
sed 's/^src: .*/src: 198.51.100.9:5555/' "$WORK/want.in1" >"$WORK/want.in2"
proxy_get "proxy_protocol_in, v2 header from the client: backend sees src 198.51.100.9:5555" \
    "$P3" "$WORK/want.in2" --alpn http/1.1 --proxy-header "$V2HDR"

# The header's destination is the original one (passed on as is), IPv6 works, and
# "PROXY UNKNOWN" means: use the connection's own addresses.
sed 's/^src: .*/src: 203.0.113.7:4242/; s/^dst: .*/dst: 192.0.2.10:443/' "$WORK/want.in1" >"$WORK/want.in3"
proxy_get "proxy_protocol_in: the header's destination (192.0.2.10:443) is passed on" \
    "$P3" "$WORK/want.in3" --alpn http/1.1 \
    --proxy-header "PROXY TCP4 203.0.113.7 192.0.2.10 4242 443\\r\\n"
sed 's/^src: .*/src: [2001:db8::7]:4242/; s/^dst: .*/dst: [2001:db8::1]:443/' "$WORK/want.in1" >"$WORK/want.in4"
proxy_get "proxy_protocol_in, TCP6 header: the v1 backend sees [2001:db8::7]:4242" \
    "$P3" "$WORK/want.in4" --alpn http/1.1 \
    --proxy-header "PROXY TCP6 2001:db8::7 2001:db8::1 4242 443\\r\\n"
sed "s/^dst: .*/dst: 127.0.0.1:$P3/; s/^src: .*/src: 127.0.0.1:@LP@/" "$WORK/want.in1" >"$WORK/want.in5"
proxy_get "proxy_protocol_in, 'PROXY UNKNOWN': the connection's own addresses are used" \
    "$P3" "$WORK/want.in5" --alpn http/1.1 --proxy-header "PROXY UNKNOWN\\r\\n"

# refused DESC PROXY-HEADER: the connection is closed without a TLS session and the
# access log says "PROXY header refused: ...".
refused() {
    _desc=$1
    _before=$(access_count 'end="PROXY header refused: ')
    mc expect-close --port "$P3" --proxy-header "$2" --timeout 10 >"$WORK/rf.out" 2>"$WORK/rf.err"
    _hs=$(kv handshake "$WORK/rf.out")
    case $_hs in
    failed:*) ok "$_desc: connection closed before any TLS session ($_hs)" ;;
    *) not_ok "$_desc: connection closed before any TLS session" "handshake: $_hs" "$WORK/rf.out" "$WORK/rf.err" ;;
    esac
    if wait_access 'end="PROXY header refused: ' 5 $((_before + 1)); then
        ok "$_desc: access log end=\"$(field end "$(access_lines 'end="PROXY header refused: ' | tail -n 1)")\""
    else
        not_ok "$_desc: access log end=\"PROXY header refused: ...\"" "$ACCESS_LOG"
    fi
}
refused "proxy_protocol_in, plain TLS without a header" ""
refused "proxy_protocol_in, malformed v1 header (bad address)" \
    "PROXY TCP4 203.0.113.999 127.0.0.1 4242 $P3\\r\\n"
refused "proxy_protocol_in, HTTP instead of a header" "GET / HTTP/1.1\\r\\n\\r\\n"

# The listeners without proxy_protocol_in treat a PROXY line as a bad ClientHello.
mc expect-close --port "$P1" --proxy-header "PROXY TCP4 203.0.113.7 127.0.0.1 4242 $P1\\r\\n" \
    >"$WORK/x.out" 2>"$WORK/x.err"
case $(kv handshake "$WORK/x.out") in
failed:*) ok "a listener without proxy_protocol_in does not accept a PROXY header" ;;
*) not_ok "a listener without proxy_protocol_in does not accept a PROXY header" "$WORK/x.out" ;;
esac

check_alive "moat still running"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
finish
