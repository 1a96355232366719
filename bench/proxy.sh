#!/bin/sh
# moat against the TLS-terminating proxies Debian ships — HAProxy, nginx (stream module),
# hitch and stunnel — through the same load generator (build/bench/loadgen, OpenSSL's
# libssl as the client), under the same conditions: the ECDSA P-256 certificate of
# tests/certs/ecdsa-p256, TLS 1.3 only with TLS_AES_128_GCM_SHA256 and X25519, one
# worker (thread or process), one build/backend behind every proxy, all on 127.0.0.1.
# Each proxy's configuration is a template under bench/peers/.
#
# Per proxy, one fresh process for the load cells, then another for the idle test:
#   full       handshake rate: 32 connections at a time, each a full handshake, one GET /
#              answered by the backend, close (loadgen --mode handshake)
#   resumed    the same, offering the last ticket the proxy gave (--resume); the
#              resumed share is reported, not assumed
#   request    64 keep-alive connections sending GET / in a loop: requests/s, p50/p99
#   down, up   4 keep-alive connections repeating GET /bytes?n=16 MiB (down) or
#              POST /sha256 with 16 MiB (up): MB/s (10^6 bytes) of application data
#   idle       IDLE connections (10,000 unless the descriptor limit is too low: stunnel
#              takes at most limit*125/256 clients, the others need two descriptors each),
#              each with its handshake done and one request answered, then held: the
#              proxy's RSS, summed over its processes (VmRSS), before and while holding
#              them; KiB per connection = the difference / connections held
# Each load cell lasts PROXY_SECONDS (default 5); proxy CPU% is the proxy's CPU time
# (utime+stime over its processes) during the cell over the cell's wall-clock time.
# With two or more CPUs the proxy is pinned to CPU 0 and the client and backend to the
# others, so the proxy has one core to itself; a proxy below ~100% was not the bottleneck.
#
# moat runs twice (issue 9): "moat" with its default crypto provider (each algorithm
# from its fastest back end) and "moat-mbedtls", the same binary with MOAT_CRYPTO=mbedtls
# (the mbedTLS-only provider; load cells only, no idle test: skipped when the binary was
# built with CRYPTO=mbedtls, whose moat row already is mbedTLS-only).
#
# Environment: BUILD (default build), PROXY_SECONDS, PROXY_PEERS (default "moat
# moat-mbedtls haproxy nginx hitch stunnel"), PROXY_IDLE_CONNS (default 10000), PROXY_RSA=1 (adds a full
# handshake row with tests/certs/rsa2048), PROXY_UPLOAD=0 (skips the up cell).
# The whole run takes about 3.5 minutes (193 s with 2 CPUs). Everything listens on
# 127.0.0.1 ports the kernel picks (the backend: port 0; proxies: a port probed free just
# before); every process is stopped by the PID we started. Results: the table on stdout,
# bench/results/proxy.md and the chart bench/results/proxy.png (gnuplot).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SECS=${PROXY_SECONDS:-5}
PEERS=${PROXY_PEERS:-moat moat-mbedtls haproxy nginx hitch stunnel}
IDLE_WANT=${PROXY_IDLE_CONNS:-10000}
RSA=${PROXY_RSA:-0}
UPLOAD=${PROXY_UPLOAD:-1}
RESULTS=bench/results/proxy.md
CHART=bench/results/proxy.png
LOADGEN=$BUILD/bench/loadgen
CERTDIR=$ROOT/tests/certs
HZ=$(getconf CLK_TCK)
t_begin=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
tmp=$(mktemp -d)
pids=""

stop_pid() { # PID: SIGTERM, wait up to ~5 s, then SIGKILL; always reaped
    kill "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    pids=$(echo "$pids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}
stop_all() {
    for p in $pids; do stop_pid "$p"; done
}
trap 'stop_all; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

for b in moat backend bench/loadgen; do
    [ -x "$BUILD/$b" ] || { echo "proxy bench: $BUILD/$b is missing (make $BUILD/$b)"; exit 1; }
done
for c in python3 awk sed ps timeout; do
    command -v $c >/dev/null || { echo "proxy bench: needs $c"; exit 1; }
done

# The descriptor limit: every proxy needs two per idle connection (client and backend).
ulimit -n "$(ulimit -H -n)" 2>/dev/null
NOFILE=$(ulimit -n)
# stunnel takes at most NOFILE*125/256 clients: every proxy gets the same count.
IDLE=$IDLE_WANT
if [ "$NOFILE" != unlimited ]; then
    cap=$((NOFILE * 125 / 256 - 16))
    [ "$cap" -lt "$IDLE" ] && IDLE=$cap
fi
MAXCONN=$((IDLE + 16))
[ "$NOFILE" = unlimited ] && NOFILE=$((4 * MAXCONN))

NCPU=$(nproc)
if [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
    PIN_PROXY="taskset -c 0"
    cpus=1-$((NCPU - 1))
    [ "$NCPU" = 2 ] && cpus=1
    PIN_CLIENT="taskset -c $cpus"
    THREADS=$((NCPU - 1))
    [ $THREADS -gt 4 ] && THREADS=4
    pinning="proxy on CPU 0; loadgen ($THREADS thread(s)) and backend on CPU $cpus"
else
    PIN_PROXY=""
    PIN_CLIENT=""
    THREADS=1
    pinning="no pinning (one CPU or no taskset); loadgen 1 thread"
fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_line() { # FILE SED-EXPR PID SECONDS -> the first line SED-EXPR prints
    i=0
    while [ $i -lt $(($4 * 10)) ]; do
        v=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
        [ -n "$v" ] && { echo "$v"; return 0; }
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

listening() { # PORT: someone listens on 127.0.0.1:PORT (/proc/net/tcp, state 0A)
    hex=$(printf '0100007F:%04X' "$1")
    awk -v a="$hex" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}

tree_pids() { # ROOT-PID: it and all its descendants
    ps -e -o pid= -o ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            keep[root] = 1; n = 1
            while (n) { n = 0
                for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; n = 1 } }
            for (p in keep) print p
        }'
}

rss_kib() { # ROOT-PID: VmRSS summed over the tree, KiB
    for p in $(tree_pids "$1"); do cat "/proc/$p/status" 2>/dev/null; done |
        awk '/^VmRSS:/ { s += $2 } END { print s + 0 }'
}

nprocs() { # ROOT-PID: processes and threads in the tree ("P/T")
    for p in $(tree_pids "$1"); do cat "/proc/$p/status" 2>/dev/null; done |
        awk '/^Threads:/ { p++; t += $2 } END { printf "%d/%d", p, t }'
}

cpu_ticks() { # ROOT-PID: utime+stime summed over the tree, clock ticks
    for p in $(tree_pids "$1"); do cat "/proc/$p/stat" 2>/dev/null; echo; done |
        awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { print s + 0 }'
}

kv() { # KEY LINE: the value of KEY=... in a loadgen line
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

render() { # NAME KEYDIR -> the peer's configuration in $tmp; sets conf
    case $1 in moat*) ext=yaml ;; haproxy) ext=cfg ;; *) ext=conf ;; esac
    tpl=$1
    [ "$1" = moat-mbedtls ] && tpl=moat
    conf=$tmp/$1.$ext
    sed -e "s|@PORT@|$port|g" -e "s|@BACKEND_PORT@|$bport|g" -e "s|@TMP@|$tmp|g" \
        -e "s|@CERT@|$CERTDIR/$2/end.fullchain|g" -e "s|@KEY@|$CERTDIR/$2/end.key|g" \
        -e "s|@PEM@|$tmp/$2.pem|g" -e "s|@MAXCONN@|$MAXCONN|g" -e "s|@NOFILE@|$NOFILE|g" \
        -e "s|@WORKER_CONNECTIONS@|$((2 * MAXCONN + 64))|g" "bench/peers/$tpl.$ext" >"$conf"
    # hitch refuses to run its workers as root
    [ "$1" = hitch ] && [ "$(id -u)" = 0 ] && echo 'user = "nobody"' >>"$conf"
    return 0
}

command_of() { # NAME -> how it is started (conf already rendered)
    case $1 in
    moat) echo "$BUILD/moat -c $conf" ;;
    moat-mbedtls) echo "env MOAT_CRYPTO=mbedtls $BUILD/moat -c $conf" ;;
    haproxy) echo "haproxy -db -f $conf" ;;
    nginx) echo "nginx -e $tmp/nginx.err -p $tmp -c $conf" ;;
    hitch) echo "hitch --config=$conf" ;;
    stunnel) echo "stunnel $conf" ;;
    esac
}

# start_peer NAME KEYDIR: sets ppid (the process we started) and port, or why=... and fails.
start_peer() {
    why=""
    port=$(free_port)
    render "$1" "$2"
    cmd=$(command_of "$1")
    # shellcheck disable=SC2086 # the command line, split on purpose
    $PIN_PROXY $cmd >"$tmp/$1.out" 2>"$tmp/$1.stderr" </dev/null &
    ppid=$!
    pids="$pids $ppid"
    i=0
    until listening "$port"; do
        if ! kill -0 "$ppid" 2>/dev/null || [ $i -ge 100 ]; then
            why="did not start: $(cat "$tmp/$1.stderr" "$tmp/$1.out" "$tmp"/*.err \
                "$tmp/stunnel.log" 2>/dev/null | grep -v '^$' | tail -n 2 | tr '\n' ' ')"
            stop_pid "$ppid"
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    # Works end to end: requests through it come back from the backend.
    chk=$($PIN_CLIENT "$LOADGEN" --connect "127.0.0.1:$port" --mode request -c 1 -d 0.5 2>&1)
    if [ "$(kv errors "$chk")" != 0 ] || [ "$(kv requests "$chk")" = 0 ]; then
        why="no answer through it: $(kv err "$chk")"
        stop_pid "$ppid"
        return 1
    fi
    return 0
}

# cell NAME LOADGEN-ARGS...: one measurement; sets line (loadgen's) and cpu (proxy CPU%).
cell() {
    name=$1
    shift
    c0=$(cpu_ticks "$ppid")
    w0=$(date +%s.%N)
    line=$($PIN_CLIENT "$LOADGEN" --connect "127.0.0.1:$port" --label "$name" \
        -t "$THREADS" -d "$SECS" "$@" 2>&1 | tail -n 1)
    w1=$(date +%s.%N)
    c1=$(cpu_ticks "$ppid")
    cpu=$(echo "$c0 $c1 $HZ $w0 $w1" | awk '{ printf "%.0f", ($2 - $1) / $3 / ($5 - $4) * 100 }')
    echo "$line cpu=$cpu" >>"$tmp/lines"
    loadgen_cmd="loadgen --connect 127.0.0.1:PORT -t $THREADS -d $SECS $*"
    grep -qxF "$loadgen_cmd" "$tmp/cmds" 2>/dev/null || echo "$loadgen_cmd" >>"$tmp/cmds"
}

ok_line() { # the last cell measured something without errors
    [ "$(kv errors "$line")" = 0 ] && [ -n "$(kv secs "$line")" ]
}

val() { # KEY: its value in the last cell's line, "!" appended if the cell had errors, "-" if none
    v=$(kv "$1" "$line")
    if [ -z "$v" ]; then echo "-"; elif ok_line; then echo "$v"; else echo "$v!"; fi
}

note_errors() { # WHAT: a note when the last cell had errors
    ok_line || echo "- $peer $1: $(kv errors "$line") errors, first: $(kv err "$line")" >>"$notes"
}

# Every proxy gets one key+chain PEM for the configs that want one file.
for k in ecdsa-p256 rsa2048; do
    cat "$CERTDIR/$k/end.key" "$CERTDIR/$k/end.fullchain" >"$tmp/$k.pem"
done

# shellcheck disable=SC2086
$PIN_CLIENT "$BUILD/backend" --listen 127.0.0.1:0 --name bench --quiet >"$tmp/backend.out" \
    2>"$tmp/backend.err" </dev/null &
backend_pid=$!
pids="$pids $backend_pid"
bport=$(wait_line "$tmp/backend.out" 's/^listening on .*:\([0-9]*\)$/\1/p' $backend_pid 10) || {
    echo "proxy bench: build/backend did not start"
    exit 1
}

notes=$tmp/notes
data=$tmp/data # one line per proxy, the fields of format_tables below
: >"$notes"
: >"$data"
: >"$tmp/peers_cmds"

# Whether $BUILD/moat has the fast back ends (else MOAT_CRYPTO=mbedtls changes nothing).
moat_fast=0
command -v nm >/dev/null && nm "$BUILD/moat" 2>/dev/null | grep -q ' tls__crypto_nettle$' &&
    moat_fast=1

for peer in $PEERS; do
    bin=$peer
    if [ "$peer" = moat-mbedtls ] && [ "$moat_fast" = 0 ]; then
        echo "- moat-mbedtls: not run: $BUILD/moat is an mbedTLS-only build (or nm is missing)," \
            "so the moat row already is mbedTLS-only" >>"$notes"
        echo "moat-mbedtls: skipped (mbedTLS-only build)"
        continue
    fi
    command -v "$bin" >/dev/null || case $peer in moat*) true ;; *) false ;; esac || {
        echo "- $peer: not installed (make bench-deps)" >>"$notes"
        echo "$peer: not installed"
        continue
    }
    if ! start_peer "$peer" ecdsa-p256; then
        echo "- $peer: $why" >>"$notes"
        echo "$peer: failed: $why"
        continue
    fi
    echo "$(command_of "$peer" | sed "s|$tmp|\$TMP|g; s|$ROOT/||g")  # bench/peers/$peer.$ext" \
        >>"$tmp/peers_cmds"
    cell "$peer" --mode handshake -c 32
    full=$(val hs_per_s) full_cpu=$cpu hs50=$(kv p50_ms "$line") hs99=$(kv p99_ms "$line")
    note_errors "full handshakes"
    cell "$peer" --mode handshake -c 32 --resume
    res=$(val hs_per_s) res_cpu=$cpu
    rpct=$(echo "$(kv resumed "$line") $(kv handshakes "$line")" |
        awk '$2 > 0 { printf "%.0f", 100 * $1 / $2; exit } { print "-" }')
    note_errors "resumed handshakes"
    cell "$peer" --mode request -c 64
    req=$(val req_per_s) req_cpu=$cpu rq50=$(kv p50_ms "$line") rq99=$(kv p99_ms "$line")
    note_errors requests
    cell "$peer" --mode bulk -c 4 --size 16777216
    down=$(val mb_per_s) down_cpu=$cpu
    note_errors download
    up=- up_cpu=-
    if [ "$UPLOAD" = 1 ]; then
        cell "$peer" --mode bulk -c 4 --size 16777216 --upload
        up=$(val mb_per_s) up_cpu=$cpu
        note_errors upload
    fi
    stop_pid "$ppid"

    # Idle connections, on a fresh process: RSS before (after one request) and while held.
    # Not for moat-mbedtls: the crypto provider is not what the idle test is about.
    idle_kib=-
    if [ "$peer" = moat-mbedtls ]; then
        :
    elif start_peer "$peer" ecdsa-p256; then
        sleep 0.5
        rss0=$(rss_kib "$ppid")
        # shellcheck disable=SC2086
        $PIN_CLIENT "$LOADGEN" --connect "127.0.0.1:$port" --label "$peer" --mode idle \
            -c "$IDLE" --inflight 100 -t "$THREADS" -d 60 --hold 120 >"$tmp/idle.out" 2>&1 &
        lg=$!
        pids="$pids $lg"
        ready=$(wait_line "$tmp/idle.out" 's/^ready //p' $lg 70)
        sleep 1 # let the proxy finish what the last connections started
        rss1=$(rss_kib "$ppid")
        procs=$(nprocs "$ppid")
        kill -USR1 "$lg" 2>/dev/null
        i=0
        while kill -0 "$lg" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        stop_pid "$lg"
        line=$(grep '^loadgen ' "$tmp/idle.out")
        echo "$line rss_before=$rss0 rss_held=$rss1" >>"$tmp/lines"
        held=$(kv established "$line")
        if [ -n "$held" ] && [ "$held" -gt 0 ]; then
            idle_kib=$(echo "$rss0 $rss1 $held" | awk '{ printf "%.1f", ($2 - $1) / $3 }')
            [ "$held" -lt "$IDLE" ] && idle_kib="$idle_kib!"
            echo "- $peer idle: RSS $rss0 KiB before, $rss1 KiB holding $held connections" \
                "(opened in $(kv open_secs "$line") s, $(kv dropped "$line") dropped while held;" \
                "processes/threads while held: $procs)" >>"$notes"
        else
            echo "- $peer idle: no connection held (${ready:-no ready line}): $(kv err "$line")" >>"$notes"
        fi
        note_errors idle
        stop_pid "$ppid"
    else
        echo "- $peer idle: $why" >>"$notes"
    fi

    echo "$peer $full $full_cpu $res $res_cpu $rpct $req $req_cpu $down $down_cpu $up $up_cpu" \
        "$idle_kib $hs50 $hs99 $rq50 $rq99" >>"$data"
    echo "$peer: full $full hs/s ($full_cpu% CPU), resumed $res ($rpct% resumed), $req req/s," \
        "down $down MB/s ($down_cpu%), up $up MB/s, idle $idle_kib KiB/conn"

    if [ "$RSA" = 1 ] && start_peer "$peer" rsa2048; then
        cell "$peer" --mode handshake -c 32
        echo "$peer $(val hs_per_s) $cpu" >>"$tmp/rsa"
        stop_pid "$ppid"
    fi
done

# Tables from $data. A value "-" was not measured; "N!" had errors (see the notes).
AWK_LIB='
function num(x) { sub(/!$/, "", x); return x == "-" ? 0 : x + 0 }
function mark(x) { return x ~ /!$/ ? "!" : "" }
function with_cpu(v, cpu, d) {
    if (v == "-") return "-"
    return sprintf("%." d "f%s (%s%%)", num(v), mark(v), cpu)
}
function per_core(v, cpu, d) {
    if (v == "-" || cpu == "-" || cpu + 0 <= 0) return "-"
    return sprintf("%." d "f%s", num(v) / (cpu / 100), mark(v))
}'
tables=$tmp/tables
awk "$AWK_LIB"'
{ row[NR] = $0 }
END {
    f = "%-8s %14s %14s %5s %14s %14s %14s %9s\n"
    printf "as measured; the proxy CPU share during the cell in parentheses\n"
    printf f, "proxy", "full hs/s", "resumed hs/s", "res%", "req/s", "down MB/s", "up MB/s", "idle KiB"
    for (i = 1; i <= NR; i++) { $0 = row[i]
        printf f, $1, with_cpu($2, $3, 0), with_cpu($4, $5, 0), $6, with_cpu($7, $8, 0),
            with_cpu($9, $10, 1), with_cpu($11, $12, 1), $13 }
    f = "%-8s %10s %12s %10s %10s %10s\n"
    printf "\nper proxy core: rate / CPU share (a floor for a proxy far below 100%%)\n"
    printf f, "proxy", "full hs/s", "resumed hs/s", "req/s", "down MB/s", "up MB/s"
    for (i = 1; i <= NR; i++) { $0 = row[i]
        printf f, $1, per_core($2, $3, 0), per_core($4, $5, 0), per_core($7, $8, 0),
            per_core($9, $10, 1), per_core($11, $12, 1) }
    f = "%-8s %18s %18s\n"
    printf "\nlatency under those loads, ms: p50 / p99\n"
    printf f, "proxy", "full handshake", "request"
    for (i = 1; i <= NR; i++) { $0 = row[i]
        printf f, $1, $14 " / " $15, $16 " / " $17 }
}' "$data" >"$tables"

# Chart data: proxy, full hs/s, per core, down MB/s, per core, idle KiB/conn (0: none).
awk "$AWK_LIB"'{ print $1, num($2), num(per_core($2, $3, 0)), num($9), num(per_core($9, $10, 1)),
    num($13) }' "$data" >"$tmp/chart.dat"

# Two rows of this run side by side.
pair() { # A B FIELD CPU-FIELD DECIMALS LABEL
    awk "$AWK_LIB"' $1 == an { m = $0 } $1 == bn { h = $0 }
    END {
        if (m == "" || h == "") { print l ": n/a (both must run)"; exit }
        split(m, a); split(h, b)
        r = num(b[f]) > 0 ? sprintf("%.2f", num(a[f]) / num(b[f])) : "n/a"
        pm = num(per_core(a[f], a[c], d)); ph = num(per_core(b[f], b[c], d))
        rc = ph > 0 ? sprintf("%.2f", pm / ph) : "n/a"
        printf "%s: %s %s, %s %s, ratio %s; per proxy core %." d "f vs %." d "f, ratio %s\n",
            l, an, a[f], bn, b[f], r, pm, ph, rc
    }' an="$1" bn="$2" f="$3" c="$4" d="$5" l="$6" "$data"
}
targets=$tmp/targets
{
    echo "moat (default crypto provider) beside HAProxy, this run:"
    echo "  $(pair moat haproxy 2 3 0 'full handshakes/s')"
    echo "  $(pair moat haproxy 9 10 1 'download MB/s')"
    [ "$UPLOAD" = 1 ] && echo "  $(pair moat haproxy 11 12 1 'upload MB/s')"
    echo "moat-mbedtls (the same binary, MOAT_CRYPTO=mbedtls) beside HAProxy, this run:"
    echo "  $(pair moat-mbedtls haproxy 2 3 0 'full handshakes/s')"
    echo "  $(pair moat-mbedtls haproxy 9 10 1 'download MB/s')"
    echo "moat default provider / mbedTLS-only, this run:"
    echo "  $(pair moat moat-mbedtls 2 3 0 'full handshakes/s')"
    echo "  $(pair moat moat-mbedtls 4 5 0 'resumed handshakes/s')"
    echo "  $(pair moat moat-mbedtls 9 10 1 'download MB/s')"
    # Issue 9's target: moat >= HAProxy for ECDSA certificates, full handshakes and MB/s.
    hs_v=$(awk "$AWK_LIB"' $1 == "moat" { m = num($2) } $1 == "haproxy" { h = num($2) }
        END { if (m <= 0 || h <= 0) print "not measured"
              else printf "%s (%.2fx)", (m >= h ? "met" : "NOT met"), m / h }' "$data")
    mb_v=$(awk "$AWK_LIB"' $1 == "moat" { m = num($9) } $1 == "haproxy" { h = num($9) }
        END { if (m <= 0 || h <= 0) print "not measured"
              else printf "%s (%.2fx)", (m >= h ? "met" : "NOT met"), m / h }' "$data")
    echo "target (issue 9) \"moat >= 1.0x HAProxy, ECDSA P-256\": full handshakes/s $hs_v; download MB/s $mb_v"
    verdict=$(awk '$1 == "moat" { m = $13 + 0 } $1 != "moat" && $13 + 0 > 0 { p[$1] = $13 + 0 }
        END {
            for (k in p) { n++; if (m <= 0 || m >= p[k]) bad = bad " " k; peers = peers " " k " " p[k] }
            if (m <= 0) print "not measured"
            else if (n == 0) print "no peer measured"
            else if (bad == "") printf "met (moat %s KiB;%s)\n", m, peers
            else printf "NOT met: not below%s (moat %s KiB;%s)\n", bad, m, peers
        }' "$data")
    echo "target \"moat's RSS per idle connection below every peer's\": $verdict"
} >"$targets"

# Cells the proxy did not saturate: their rate says more about the client side.
unsaturated=$(awk '{
    n = split("3 full,5 resumed,8 req/s,10 down,12 up", spec, ",")
    out = ""
    for (j = 1; j <= n; j++) {
        split(spec[j], kv, " ")
        f = kv[1]
        if ($f != "-" && $f + 0 < 90) out = out (out == "" ? " " : ", ") kv[2] " " $f "%"
    }
    if (out != "") { printf "%s%s:%s", sep, $1, out; sep = "; " }
}' "$data")

legend="(full, resumed: 32 connections at a time, each a handshake then one GET / answered by
 the backend, then close; res%: share of the resumed cell's handshakes that did resume;
 req/s: 64 keep-alive connections; down/up: MB/s (10^6 bytes) of application data, 4
 connections repeating 16 MiB transfers; idle KiB: RSS growth per held connection, $IDLE
 connections, each after its handshake and one request; latency: handshake = connect()
 to handshake done, request = request to whole answer, at the full and req/s loads;
 ! = errors or fewer connections held (notes). $SECS s per cell; TLS 1.3,
 TLS_AES_128_GCM_SHA256, X25519, ECDSA P-256; one worker each; $pinning)"
echo
cat "$tables"
echo
cat "$targets"
echo "$legend"
[ -s "$notes" ] && cat "$notes"
[ -s "$tmp/rsa" ] && awk '{ print $1 " RSA-2048 full handshakes/s " $2 " (" $3 "% CPU)" }' "$tmp/rsa"

# The chart: handshakes/s, MB/s and idle KiB per connection, one bar group per proxy.
chart_note=""
if command -v gnuplot >/dev/null && [ -s "$tmp/chart.dat" ]; then
    mkdir -p "$(dirname "$CHART")"
    gnuplot <<EOF 2>"$tmp/gnuplot.err" || chart_note="gnuplot failed: $(head -n 2 "$tmp/gnuplot.err")"
set terminal pngcairo size 1500,500 font ",10"
set output "$ROOT/$CHART"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set key top left
set multiplot layout 1,3 title "TLS-terminating proxies on 127.0.0.1, one worker each; TLS 1.3, AES-128-GCM, X25519, ECDSA P-256 ($(date -u '+%Y-%m-%d'))"
set title "full handshakes/s (each with one GET /)"
plot "$tmp/chart.dat" using 2:xtic(1) title "measured", "" using 3 title "per proxy core"
set title "download MB/s through the proxy (4 connections)"
plot "$tmp/chart.dat" using 4:xtic(1) title "measured", "" using 5 title "per proxy core"
set title "RSS per idle TLS connection, KiB (lower is better)"
plot "$tmp/chart.dat" using 6:xtic(1) title "KiB per connection ($IDLE held)" lc rgb "#888888"
unset multiplot
EOF
else
    chart_note="no chart: gnuplot missing or nothing measured"
fi
[ -n "$chart_note" ] && echo "$chart_note"

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mkdir -p "$(dirname "$RESULTS")"
{
    echo "# moat against other TLS-terminating proxies"
    echo
    echo "Written by \`bench/proxy.sh\` (\`make bench\`); rerun to refresh. Chart: [proxy.png](proxy.png)."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); the run took $(($(date +%s) - t_begin)) s"
    echo "- machine: ${cpu_model:-unknown CPU}; nproc $NCPU; $pinning"
    echo "- load average (1, 5, 15 min) before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
    echo "- descriptor limit $NOFILE (hard $(ulimit -H -n)): idle test with $IDLE connections (two descriptors each in the proxy)"
    echo "- moat: ${BUILD#"$ROOT"/}/moat (row moat-mbedtls: the same binary with MOAT_CRYPTO=mbedtls), source tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- tls proxy src config 2>/dev/null || echo ' + uncommitted changes')"
    echo "- $(haproxy -v 2>/dev/null | head -n 1)"
    echo "- $(nginx -v 2>&1 | head -n 1)"
    echo "- $(hitch --version 2>&1 | head -n 1)"
    echo "- $(stunnel -version 2>&1 | grep -m 1 '^stunnel')"
    echo "- client: build/bench/loadgen on $(openssl version)"
    echo
    echo '```'
    cat "$tables"
    echo
    cat "$targets"
    echo
    echo "$legend"
    echo '```'
    echo
    echo "Reading the numbers:"
    echo
    echo "- Each proxy has CPU 0 to itself; one loadgen thread (OpenSSL 3.0) and the backend"
    echo "  share the rest ($pinning). Where a proxy's CPU share stayed well below 100%, the"
    echo "  client side set the pace, not the proxy, and the measured rates of such proxies"
    echo "  say little about them; the per-core figure (rate / CPU share) compares them"
    echo "  instead. It is a floor: a proxy usually spends less per operation when busier."
    echo "  Cells below 90% in this run: ${unsaturated:-none}."
    echo "- A full handshake costs the OpenSSL client more than the server (it parses the"
    echo "  three-certificate chain and checks the CertificateVerify signature; the chain"
    echo "  itself is not verified), so the proxies with fast handshakes wait for the client."
    echo "- Upload: build/backend hashes every byte it is sent (POST /sha256, SHA-256 in"
    echo "  portable C) on the client's CPU, which bounds the upload rate of every proxy"
    echo "  that is fast enough."
    echo "- Handshake latency includes queueing: 32 connections are always in flight."
    echo "- Nothing is tuned beyond the same worker count, suite, group, certificate and"
    echo "  connection limits; each proxy keeps its own defaults (session tickets included)."
    echo "  hitch runs its workers as nobody when started as root (it refuses root);"
    echo "  stunnel (Debian's build) runs one thread per connection."
    echo
    if [ -s "$notes" ]; then
        echo "Notes from the run:"
        echo
        cat "$notes"
        echo
    fi
    if [ -s "$tmp/rsa" ]; then
        echo "RSA-2048 (tests/certs/rsa2048), full handshakes/s, same settings:"
        echo
        awk '{ print "- " $1 ": " $2 " (" $3 "% CPU)" }' "$tmp/rsa"
        echo
    fi
    echo "Proxies as started (each pinned with \`$PIN_PROXY\`; \$TMP/NAME.* is the template from"
    echo "bench/peers/ with ports and paths filled in; hitch and HAProxy get one PEM file, key"
    echo "then tests/certs/ecdsa-p256/end.fullchain):"
    echo
    echo '```'
    echo "ulimit -n $NOFILE"
    echo "backend --listen 127.0.0.1:0 --name bench --quiet"
    cat "$tmp/peers_cmds"
    echo '```'
    echo
    echo "Load (\`$PIN_CLIENT\`, PORT the proxy's); idle: loadgen --mode idle -c $IDLE --inflight 100"
    echo "-t $THREADS -d 60 --hold 120, RSS read once it prints \`ready\` (plus 1 s), then SIGUSR1:"
    echo
    echo '```'
    cat "$tmp/cmds"
    echo '```'
    echo
    echo "Raw loadgen lines (cpu= appended by the script):"
    echo
    echo '```'
    cat "$tmp/lines"
    echo '```'
} >"$RESULTS"
echo "(written to $RESULTS$([ -z "$chart_note" ] && echo " and $CHART"); $(($(date +%s) - t_begin)) s)"
