#!/bin/sh
# Handshake rate and bulk throughput over loopback: build/tlsserver against
# `openssl s_server`, same certificate, same client (openssl s_time / s_client),
# printed side by side. Bounded: each measurement runs SECONDS seconds (default 5).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECONDS_EACH=${SECONDS:-5}
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$tmp"' EXIT INT TERM

wait_port() { # file -> port printed by the server
    i=0
    while [ $i -lt 100 ]; do
        port=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
        [ -n "$port" ] && { echo "$port"; return 0; }
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# Servers start in this shell (not in $(...)) so the trap knows their pids.
start_moat() { # keydir -> sets moat_port
    "$BUILD/tlsserver" --certs "tests/certs/$1/end.fullchain" --key "tests/certs/$1/end.key" \
        -p 0 --address 127.0.0.1 http >"$tmp/moat.out" 2>&1 &
    pids="$pids $!"
    moat_port=$(wait_port "$tmp/moat.out" 's/^listening on .*:\([0-9]*\)$/\1/p')
}

start_openssl() { # keydir -> sets openssl_port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    openssl s_server -quiet -tls1_3 -accept "127.0.0.1:$port" -www \
        -cert "tests/certs/$1/end.fullchain" -key "tests/certs/$1/end.key" >/dev/null 2>&1 &
    pids="$pids $!"
    i=0
    while ! (echo | timeout 2 openssl s_client -connect "127.0.0.1:$port" >/dev/null 2>&1); do
        i=$((i + 1)); [ $i -gt 50 ] && return 1; sleep 0.1
    done
    openssl_port=$port
}

rate() { # port -> handshakes per wall-clock second
    t0=$(date +%s.%N)
    n=$(timeout $((SECONDS_EACH + 10)) openssl s_time -connect "127.0.0.1:$1" -new \
        -time "$SECONDS_EACH" 2>/dev/null | sed -n 's/^\([0-9]*\) connections in [0-9]* real.*/\1/p')
    t1=$(date +%s.%N)
    echo "$n $t0 $t1" | awk '{ if ($1 != "") printf "%.0f", $1 / ($3 - $2); else printf "?" }'
}

printf '%-12s %18s %18s\n' "key" "moat hs/s" "openssl hs/s"
for key in ecdsa-p256 rsa2048; do
    start_moat "$key"
    [ -n "$moat_port" ] || { echo "moat did not start"; exit 1; }
    start_openssl "$key" || { echo "openssl s_server did not start"; exit 1; }
    printf '%-12s %18s %18s\n' "$key" "$(rate "$moat_port")" "$(rate "$openssl_port")"
    for p in $pids; do kill "$p" 2>/dev/null; done
    pids=""
done
echo "(loopback, one client process: openssl s_time -new, $SECONDS_EACH s each; TLS 1.3, default suite/group)"
