#!/bin/sh
# moat: certificate selection by SNI on a listener with two certificates, and
# routing by SNI and by ALPN to different backends (each backend answers GET / with
# "hello from NAME", which shows where a connection went).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need curl openssl python3 timeout || finish
need_binaries || finish

start_backend web || finish
P_WEB=$BACKEND_PORT
start_backend api || finish
P_API=$BACKEND_PORT
start_backend h2only || finish
P_H2=$BACKEND_PORT
set -- $(free_ports 2)
PORT=$1 P_STRICT=$2
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 5s, idle: 30s, connect: 2s, drain: 2s }
limits: { max_connections: 1000 }
listeners:
  - address: "127.0.0.1:$PORT"
    certificates:
      - $(cert_item ecdsa-p256 end)
      - $(cert_item ecdsa-p256 other)
    alpn: [h2, http/1.1]
    backend: web
    routes:
      - { sni: other.test, backend: api }
      - { sni: "*.wild.test", backend: api }
      - { alpn: h2, backend: h2only }
  - address: "127.0.0.1:$P_STRICT"
    certificates:
      - $(cert_item ecdsa-p256 end)
      - $(cert_item ecdsa-p256 other)
    sni_strict: true
    backend: web
backends:
  web: { servers: ["127.0.0.1:$P_WEB"] }
  api: { servers: ["127.0.0.1:$P_API"] }
  h2only: { servers: ["127.0.0.1:$P_H2"] }
EOF

tmo "$MOAT" -t -c "$CONF" >"$WORK/t.out" 2>&1
expect_eq "moat -t: 1 listener, 3 backends, 2 certificates" "$(cat "$WORK/t.out")" \
    "moat: $CONF is valid: 2 listeners, 3 backends, 4 certificates loaded"

start_moat "$CONF" 2 || finish

FP_END=$(python3 "$MOATCLIENT" fp --file "$CERTS/ecdsa-p256/end.fullchain")
FP_OTHER=$(python3 "$MOATCLIENT" fp --file "$CERTS/ecdsa-p256/other.fullchain")
[ -n "$FP_END" ] && [ "$FP_END" != "$FP_OTHER" ] || not_ok "certificate fingerprints differ"

# cert_is DESC SNI WANT_FP WANT_SUBJECT_ERE: the certificate served for SNI ('' for
# none) is the expected one (sha256 of the DER) and its subject/SAN look right.
cert_is() {
    _desc=$1 _sni=$2 _fp=$3 _subj=$4
    mc cert --port "$PORT" --sni "$_sni" >"$WORK/c.out" 2>"$WORK/c.err"
    _st=$?
    _got=$(kv sha256 "$WORK/c.out")
    _s="$(kv subject "$WORK/c.out") $(kv san "$WORK/c.out")"
    if [ "$_st" -eq 0 ] && [ "$_got" = "$_fp" ] && printf '%s\n' "$_s" | grep -Eq -- "$_subj"; then
        ok "$_desc"
    else
        not_ok "$_desc" "exit $_st, sha256 $_got (want $_fp), subject/SAN: $_s" \
            "$WORK/c.err" "$MOAT_LOG"
    fi
}

cert_is "SNI localhost gets the end certificate" localhost "$FP_END" \
    'commonName=testserver.com .*DNS:localhost'
cert_is "SNI other.test gets the other.test certificate" other.test "$FP_OTHER" \
    '(^|,)commonName=other\.test DNS:other\.test$'
cert_is "SNI foo.wild.test gets the end certificate (its *.wild.test SAN)" foo.wild.test \
    "$FP_END" 'DNS:\*\.wild\.test'
cert_is "unknown SNI (nobody.example) gets the default (first) certificate" nobody.example \
    "$FP_END" 'commonName=testserver.com'
cert_is "no SNI gets the default (first) certificate" "" "$FP_END" 'commonName=testserver.com'

# openssl s_client -showcerts sees the other.test chain for SNI other.test.
tmo openssl s_client -connect "127.0.0.1:$PORT" -servername other.test -tls1_3 \
    -CAfile "$CA" -verify_return_error -verify_hostname other.test -showcerts \
    </dev/null >"$WORK/s.out" 2>"$WORK/s.err"
st=$?
if [ "$st" -eq 0 ] && grep -Eq '^ *0 s:.*CN ?= ?other\.test' "$WORK/s.out" &&
    grep -q 'Verify return code: 0 (ok)' "$WORK/s.out"; then
    ok "s_client -showcerts, SNI other.test: leaf CN=other.test, verified for other.test"
else
    not_ok "s_client -showcerts, SNI other.test: leaf CN=other.test, verified" "exit $st" \
        "$WORK/s.out" "$WORK/s.err"
fi

# curl verifies the name it asked for: other.test must get a certificate for it.
tmo curl -sS --tlsv1.3 --http1.1 --cacert "$CA" --resolve "other.test:$PORT:127.0.0.1" \
    "https://other.test:$PORT/" >"$WORK/curl.out" 2>"$WORK/curl.err"
st=$?
expect_eq "curl https://other.test/ (hostname verified) routes to api" \
    "$st $(cat "$WORK/curl.out")" "0 hello from api" "$WORK/curl.err"

# route DESC SNI ALPN WANT_BACKEND: GET / lands on WANT_BACKEND, and the access log
# says so (backend, sni, alpn).
route() {
    _desc=$1 _sni=$2 _alpn=$3 _want=$4
    mc get --port "$PORT" --sni "$_sni" --alpn "$_alpn" >"$WORK/r.out" 2>"$WORK/r.err"
    _st=$?
    _body=$(kv body "$WORK/r.out")
    _lp=$(kv local_port "$WORK/r.out")
    case $_want in web) _bp=$P_WEB ;; api) _bp=$P_API ;; *) _bp=$P_H2 ;; esac
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; client exit $_st"
    [ "$_body" = "hello from $_want\\n" ] || _why="$_why; body '$_body'"
    [ "$(kv alpn "$WORK/r.out")" = "${_alpn:--}" ] ||
        _why="$_why; negotiated ALPN '$(kv alpn "$WORK/r.out")'"
    if [ -n "$_lp" ] && wait_access " client=127\\.0\\.0\\.1:$_lp " 5; then
        _l=$(access_lines " client=127\\.0\\.0\\.1:$_lp " | tail -n 1)
        [ "$(field backend "$_l")" = "$_want/127.0.0.1:$_bp" ] || _why="$_why; log backend"
        # Names compare case-insensitively (the log may show them lowercased).
        [ "$(field sni "$_l" | tr 'A-Z' 'a-z')" = "$(printf '%s' "${_sni:--}" | tr 'A-Z' 'a-z')" ] ||
            _why="$_why; log sni"
        [ "$(field alpn "$_l")" = "${_alpn:--}" ] || _why="$_why; log alpn"
    else
        _why="$_why; no access-log line"
        _l=""
    fi
    if [ -z "$_why" ]; then
        ok "$_desc -> $_want"
    else
        not_ok "$_desc -> $_want" "${_why#; }" "access: $_l" "$WORK/r.out" "$WORK/r.err"
    fi
}

route "SNI localhost, ALPN http/1.1: default backend" localhost http/1.1 web
route "SNI localhost, no ALPN offered: default backend" localhost "" web
route "no SNI, ALPN http/1.1: default backend" "" http/1.1 web
route "SNI other.test, ALPN http/1.1: route by SNI" other.test http/1.1 api
route "SNI foo.wild.test: wildcard route by SNI" foo.wild.test http/1.1 api
route "SNI wild.test: not matched by *.wild.test" wild.test http/1.1 web
route "SNI a.b.wild.test: not matched by *.wild.test (one label only)" a.b.wild.test http/1.1 web
route "SNI localhost, ALPN h2: route by ALPN" localhost h2 h2only
route "SNI OTHER.TEST (case differs), ALPN http/1.1: route by SNI" OTHER.TEST http/1.1 api
route "SNI other.test, ALPN h2: the first matching route wins" other.test h2 api

# ---- sni_strict: names no certificate covers are refused --------------------------------
for name in localhost other.test foo.wild.test; do
    mc cert --port "$P_STRICT" --sni "$name" >"$WORK/c.out" 2>"$WORK/c.err"
    case $name in other.test) want=$FP_OTHER ;; *) want=$FP_END ;; esac
    expect_eq "sni_strict: $name is covered and gets its certificate" \
        "$(kv sha256 "$WORK/c.out")" "$want" "$WORK/c.err"
done
mc cert --port "$P_STRICT" --sni nobody.example >"$WORK/c.out" 2>"$WORK/c.err"
case $(kv error "$WORK/c.out") in
*UNRECOGNIZED_NAME*) ok "sni_strict: nobody.example is refused with unrecognized_name" ;;
*) not_ok "sni_strict: nobody.example is refused with unrecognized_name" "$WORK/c.out" "$WORK/c.err" ;;
esac
# (The refused name itself is not in the line: moat logs sni=- for it.)
if wait_access " listener=127\\.0\\.0\\.1:$P_STRICT .*end=\"tls error: " 5; then
    l=$(access_lines " listener=127\\.0\\.0\\.1:$P_STRICT .*end=\"tls error: " | tail -n 1)
    case $(field end "$l") in
    "tls error: "*unrecognized_name*) ok "sni_strict: access log end=\"$(field end "$l")\"" ;;
    *) not_ok "sni_strict: access log end=\"tls error: ... unrecognized_name ...\"" "line: $l" ;;
    esac
    expect_eq "sni_strict: the refused connection never reached a backend" "$(field backend "$l")" -
else
    not_ok "sni_strict: access-log line for the refused name" "$ACCESS_LOG"
fi
expect_eq "sni_strict: exactly one connection refused" \
    "$(access_count " listener=127\\.0\\.0\\.1:$P_STRICT .*end=\"tls error: ")" 1

check_alive "moat still running"
stop_moat
expect_eq "SIGTERM: exit status 0" "$MOAT_STATUS" 0 "$MOAT_LOG"
finish
