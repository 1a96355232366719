#!/bin/sh
# Full vs resumed handshakes per second, TLS 1.3 and TLS 1.2, ECDSA P-256 and RSA-2048,
# for build/tlsserver --tickets, moat (tls.tickets on, its default) with its default crypto
# provider and again with the mbedTLS-only one (MOAT_CRYPTO=mbedtls; issue 9; skipped
# when $BUILD/moat is an mbedTLS-only build) and, as the peer to compare against in the
# same run, `openssl s_server`: same certificate, same client.
#
# Client: one `openssl s_time` process per cell, -new (every connection a full
# handshake) then -reuse (every connection offers the session of the one before), each
# fetching a small page (-www) so that TLS 1.3 NewSessionTickets, sent after the
# handshake, are read. Rates are connections per wall-clock second of the s_time run.
#
# Resumption is checked, never assumed: s_time -reuse prints one mark per connection,
# `r` when the session was resumed (SSL_session_reused) and `*` when it was not; the
# resumed/s figure is shown only when at least 99% of the connections were resumed,
# else "n/a (not resumed)" (or "n/a (N% resumed)"). The last column is an independent
# check: one `openssl s_client -sess_out` connection, then one `-sess_in`, "Reused" or
# "New".
#
# Each s_time run lasts RESUME_SECONDS (default 2) plus at most one second (s_time
# counts whole seconds); the whole script takes about 110 s. Servers listen on
# 127.0.0.1 ports the kernel picks (tlsserver and the backend: port 0; moat and
# s_server: a port probed free just before) and are stopped by PID.
# The table is printed and written to bench/results/resumption.md.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SECS=${RESUME_SECONDS:-2}
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
RESULTS=bench/results/resumption.md
tmp=$(mktemp -d)
pids=""

stop_all() { # SIGTERM every server we started, then reap it (SIGKILL after ~3 s)
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    pids=""
}
trap 'stop_all; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

for b in tlsserver moat backend; do
    [ -x "$BUILD/$b" ] || { echo "resumption bench: $BUILD/$b is missing (make all)"; exit 1; }
done
for c in openssl python3 timeout; do
    command -v $c >/dev/null || { echo "resumption bench: needs $c"; exit 1; }
done

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_line() { # FILE SED-EXPR PID -> the first line SED-EXPR prints (up to 10 s)
    i=0
    while [ $i -lt 100 ]; do
        v=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
        [ -n "$v" ] && { echo "$v"; return 0; }
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# Each start_* runs in this shell (not in $(...)) so that $pids knows the server,
# and sets port (where to connect) and path (what s_time -www fetches).
start_tlsserver() { # KEYDIR
    "$BUILD/tlsserver" --certs "tests/certs/$1/end.fullchain" --key "tests/certs/$1/end.key" \
        -p 0 --address 127.0.0.1 --tickets http >"$tmp/tlsserver.out" 2>&1 </dev/null &
    pids="$pids $!"
    port=$(wait_line "$tmp/tlsserver.out" 's/^listening on .*:\([0-9]*\)$/\1/p' $!) || return 1
    path=/
}

start_moat() { # KEYDIR: moat, one worker, in front of build/backend
    "$BUILD/backend" --listen 127.0.0.1:0 --name bench --quiet >"$tmp/backend.out" \
        2>"$tmp/backend.err" </dev/null &
    pids="$pids $!"
    bport=$(wait_line "$tmp/backend.out" 's/^listening on .*:\([0-9]*\)$/\1/p' $!) || return 1
    port=$(free_port)
    cat >"$tmp/moat.yaml" <<EOF
workers: 1
log: { level: info, access: off }
timeouts: { handshake: 10s, idle: 30s, connect: 2s, drain: 1s }
limits: { max_connections: 10000 }
listeners:
  - address: "127.0.0.1:$port"
    certificates:
      - { cert: $ROOT/tests/certs/$1/end.fullchain, key: $ROOT/tests/certs/$1/end.key }
    backend: web
backends:
  web: { servers: ["127.0.0.1:$bport"] }
EOF
    env ${MOAT_ENV:-} "$BUILD/moat" -c "$tmp/moat.yaml" >"$tmp/moat.out" 2>"$tmp/moat.err" </dev/null &
    pids="$pids $!"
    wait_line "$tmp/moat.err" '/listening on /p' $! >/dev/null || return 1
    path=/
}

start_moat_mbedtls() { # KEYDIR: the same with the mbedTLS-only provider
    MOAT_ENV=MOAT_CRYPTO=mbedtls
    start_moat "$1"
    rc=$?
    MOAT_ENV=
    return $rc
}

start_openssl() { # KEYDIR: s_server -WWW serving a small file, like tlsserver's answer
    port=$(free_port)
    mkdir -p "$tmp/www"
    echo "Hello from openssl s_server" >"$tmp/www/hello.txt"
    (cd "$tmp/www" && exec openssl s_server -quiet -accept "127.0.0.1:$port" -WWW \
        -cert "$ROOT/tests/certs/$1/end.fullchain" -key "$ROOT/tests/certs/$1/end.key" \
        >/dev/null 2>&1 </dev/null) &
    pids="$pids $!"
    i=0
    while ! printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | timeout 2 openssl s_client -quiet \
        -connect "127.0.0.1:$port" 2>/dev/null | grep -q Hello; do
        i=$((i + 1)); [ $i -gt 50 ] && return 1; sleep 0.1
    done
    path=/hello.txt
}

# s_time_run MODE(new|reuse) VERSION(tls1_3|tls1_2) -> "CONNECTIONS REUSED SECONDS"
# (empty on failure). The marks line follows "starting" (-reuse) or "Collecting ..." (-new).
s_time_run() {
    t0=$(date +%s.%N)
    timeout $((SECS + 15)) openssl s_time -connect "127.0.0.1:$port" "-$1" "-$2" \
        -www "$path" -time "$SECS" >"$tmp/s_time.out" 2>&1
    t1=$(date +%s.%N)
    n=$(sed -n 's/^\([0-9][0-9]*\) connections in [0-9.]*s;.*/\1/p' "$tmp/s_time.out" | head -n 1)
    [ -n "$n" ] || return 0
    r=$(awk 'f { print; exit } /^starting$/ || /^Collecting connection statistics/ { f = 1 }' \
        "$tmp/s_time.out" | tr -cd r | wc -c)
    echo "$n $r $(echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }')"
}

# s_client_check VERSION -> Reused | New | "New (none saved)" | error
s_client_check() {
    rm -f "$tmp/sess"
    printf 'GET %s HTTP/1.0\r\n\r\n' "$path" | timeout 10 openssl s_client -ign_eof \
        -connect "127.0.0.1:$port" "-$1" -sess_out "$tmp/sess" >"$tmp/c1.out" 2>&1
    grep -q '^New,' "$tmp/c1.out" || { echo error; return; }
    [ -s "$tmp/sess" ] || { echo "New (none saved)"; return; }
    printf 'GET %s HTTP/1.0\r\n\r\n' "$path" | timeout 10 openssl s_client -ign_eof \
        -connect "127.0.0.1:$port" "-$1" -sess_in "$tmp/sess" >"$tmp/c2.out" 2>&1
    if grep -q '^Reused,' "$tmp/c2.out"; then echo Reused
    elif grep -q '^New,' "$tmp/c2.out"; then echo New
    else echo error; fi
}

FMT='%-20s %-11s %-8s %8s %-18s %-13s %s\n'
table=$tmp/table
# (÷ is two bytes in UTF-8: one more byte of padding keeps the columns aligned)
printf '%-20s %-11s %-8s %8s %-18s %-14s %s\n' server cert version full/s resumed/s \
    "resumed÷full" "s_client -sess_in" >"$table"
cat "$table"

row() { # SERVER-LABEL CERT-LABEL VERSION-FLAG
    ver=$(echo "$3" | sed 's/^tls1_\([23]\)$/TLS1.\1/')
    full=$(s_time_run new "$3")
    reuse=$(s_time_run reuse "$3")
    check=$(s_client_check "$3")
    full_s=$(echo "$full" | awk 'NF == 3 { printf "%.0f", $1 / $3 }')
    [ -n "$full_s" ] || full_s=error
    # shellcheck disable=SC2086 # "N R SECONDS", split on purpose
    set -- "$1" "$2" $reuse
    if [ $# -eq 5 ]; then
        if [ "$4" -eq 0 ]; then
            res_s="n/a (not resumed)"
        elif [ $(($4 * 100)) -lt $(($3 * 99)) ]; then
            res_s="n/a ($(($4 * 100 / $3))% resumed)"
        else
            res_s=$(echo "$3 $5" | awk '{ printf "%.0f", $1 / $2 }')
        fi
    else
        res_s=error
    fi
    case $res_s/$full_s in
    n/a*|error*|*/error) ratio=- ;;
    *) ratio=$(echo "$res_s $full_s" | awk '{ printf "%.2fx", $1 / $2 }') ;;
    esac
    # shellcheck disable=SC2059
    printf "$FMT" "$1" "$2" "$ver" "$full_s" "$res_s" "$ratio" "$check" | tee -a "$table"
}

for key in ecdsa-p256 rsa2048; do
    case $key in ecdsa-p256) cert=ECDSA-P256 ;; rsa2048) cert=RSA-2048 ;; esac
    for server in tlsserver moat moat_mbedtls openssl; do
        case $server in
        tlsserver) label="tlsserver --tickets" ;;
        moat) label=moat ;;
        moat_mbedtls)
            label="moat (mbedTLS-only)"
            nm "$BUILD/moat" 2>/dev/null | grep -q ' tls__crypto_nettle$' || continue ;;
        openssl) label="openssl s_server" ;;
        esac
        if ! "start_$server" "$key"; then
            echo "$label did not start ($key)"
            cat "$tmp"/*.err "$tmp/tlsserver.out" 2>/dev/null | tail -n 5
            exit 1
        fi
        for v in tls1_3 tls1_2; do row "$label" "$cert" "$v"; done
        stop_all
    done
done

note="(loopback, $SECS s (+<1 s) per figure; one openssl s_time client, -new or -reuse, -www
 fetching a small page; moat: workers 1 in front of build/backend; tickets: tlsserver
 --tickets, moat's default tls.tickets, s_server's default; moat (mbedTLS-only): the same
 moat binary run with MOAT_CRYPTO=mbedtls. Client and server each get
 about one core, so a rate is bounded by the slower side: compare within one run)"
echo "$note"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mkdir -p "$(dirname "$RESULTS")"
{
    echo "# Resumed vs full handshakes per second"
    echo
    echo "Written by \`bench/resumption.sh\` (\`make bench\`); rerun to refresh."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: ${cpu:-unknown CPU}; nproc $(nproc), $(grep -c '^processor' /proc/cpuinfo) processors in /proc/cpuinfo"
    echo "- load average (1, 5, 15 min) before / after the run: $load_before / $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
    echo "- $(openssl version)"
    echo "- binaries: ${BUILD#"$ROOT"/}, source tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- tls proxy src config 2>/dev/null || echo ' + uncommitted changes')"
    echo
    echo '```'
    cat "$table"
    echo
    echo "$note"
    echo '```'
    echo
    echo "resumed/s counts only connections openssl s_time marked as resumed (\`r\`);"
    echo "\"n/a (not resumed)\" means the server did a full handshake every time. The last"
    echo "column is one \`openssl s_client -sess_out\` / \`-sess_in\` pair against the same server"
    echo "(\"New (none saved)\": the first connection left no session id or ticket to offer)."
} >"$RESULTS"
echo "(written to $RESULTS)"
