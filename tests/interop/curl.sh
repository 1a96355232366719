#!/bin/sh
# curl (TLS 1.3 only, verifying against the test CA) against "tlsserver ... http":
# every key type, ALPN (http/1.1 chosen, none configured, no overlap), each
# key-exchange group via --curves, each suite via --tls13-ciphers, and the names
# the certificate covers (localhost, testserver.com, a *.wild.test name, 127.0.0.1).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

# fetch DESC KEYTYPE HOST WANT_HTTP_VERSION [CURL-ARGS...]: GET https://HOST:PORT/
# (HOST resolved to 127.0.0.1); expects 200, the server's body and the version.
# WANT_ALPN (if set) must appear in curl's "ALPN: server accepted ..." line, and
# WANT_TLS (if set) in its "SSL connection using ..." line.
fetch() {
    _desc=$1 _kt=$2 _host=$3 _hv=$4
    shift 4
    tmo curl -sS -v --tlsv1.3 --tls-max 1.3 --cacert "$CERTS/$_kt/ca.cert" \
        --resolve "$_host:$SERVER_PORT:127.0.0.1" -o "$WORK/body" \
        -w '%{http_code} %{http_version}\n' "$@" "https://$_host:$SERVER_PORT/" \
        >"$WORK/w" 2>"$WORK/err"
    _st=$?
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; curl exit status $_st"
    [ "$(cat "$WORK/w")" = "200 $_hv" ] ||
        _why="$_why; status/version '$(cat "$WORK/w")', want '200 $_hv'"
    grep -q 'Hello from moat tlsserver' "$WORK/body" 2>/dev/null || _why="$_why; body"
    grep -q 'SSL connection using TLSv1.3 / ' "$WORK/err" || _why="$_why; not TLS 1.3"
    if [ -n "${WANT_TLS:-}" ]; then
        grep -q "SSL connection using .*$WANT_TLS" "$WORK/err" || _why="$_why; not $WANT_TLS"
    fi
    if [ -n "${WANT_ALPN:-}" ]; then
        grep -q "ALPN: server accepted $WANT_ALPN" "$WORK/err" ||
            _why="$_why; ALPN $WANT_ALPN not accepted"
    fi
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/err" "$SERVER_LOG"
    fi
}

need curl timeout || finish

for kt in $KEY_TYPES; do
    if ! start_server --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" \
        --proto http/1.1 --verbose http; then
        continue
    fi
    WANT_ALPN=http/1.1
    fetch "curl $kt --http1.1 localhost: ALPN http/1.1" "$kt" localhost 1.1 --http1.1
    fetch "curl $kt offering h2,http/1.1: server picks http/1.1" "$kt" testserver.com 1.1
    fetch "curl $kt wildcard name foo.wild.test" "$kt" foo.wild.test 1.1 --http1.1
    WANT_ALPN=""
    case $kt in
    ecdsa-p256)
        fetch "curl $kt IP address 127.0.0.1 (no SNI)" "$kt" 127.0.0.1 1.1 --http1.1
        for c in X25519 P-256 P-384; do
            fetch "curl $kt --curves $c" "$kt" localhost 1.1 --http1.1 --curves "$c"
        done
        for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
            WANT_TLS=$s
            fetch "curl $kt --tls13-ciphers $s" "$kt" localhost 1.1 --http1.1 --tls13-ciphers "$s"
            WANT_TLS=""
        done
        ;;
    esac
    check_alive "server ($kt) still running"
    stop_server
done

# No ALPN configured on the server: the client's offer is ignored, HTTP/1.1 is used.
kt=rsa2048
if start_server --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" --verbose http; then
    fetch "curl: server without --proto ignores ALPN" "$kt" localhost 1.1
    if grep -q 'ALPN: server accepted' "$WORK/err"; then
        not_ok "curl: no ALPN protocol agreed when the server has none" "$WORK/err"
    else
        ok "curl: no ALPN protocol agreed when the server has none"
    fi
    stop_server
fi

# ALPN configured but no protocol in common: no_application_protocol.
if start_server --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" \
    --proto moat-test/1 --verbose http; then
    tmo curl -sS -v --tlsv1.3 --tls-max 1.3 --http1.1 --cacert "$CERTS/$kt/ca.cert" \
        --resolve "localhost:$SERVER_PORT:127.0.0.1" -o /dev/null \
        "https://localhost:$SERVER_PORT/" >/dev/null 2>"$WORK/err"
    st=$?
    if [ "$st" -ne 0 ] && grep -qi 'alert no application protocol' "$WORK/err"; then
        ok "curl: no ALPN overlap -> no_application_protocol alert"
    else
        not_ok "curl: no ALPN overlap -> no_application_protocol alert" "curl status $st" \
            "$WORK/err" "$SERVER_LOG"
    fi
    check_alive "server still running after a refused ALPN"
    stop_server
fi

finish
