#!/bin/sh
# Writes bench/results/latest.md: one report from what the benches of this run wrote
# (bench/results/engine.md, proxy.md, resumption.md), with the machine, the peers'
# versions and the targets of issues 7 and 9 first, then (issue 9) which crypto back end
# serves each algorithm and why, from the primitive table, and the default-provider vs
# mbedTLS-only vs peer figures with their verdicts, computed from the numbers. `make bench` runs it last; it measures
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


# ver PACKAGE: its installed Debian version, or "?".
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }

# routes FILE: one line per primitive of engine.md's primitive table: the back end the
# default provider routes it to, every back end's rate and OpenSSL's, and why (fastest
# of ours, or the only one that has it). Then the libraries used, per route.
routes() {
    awk -F'|' '
    function trim(x) { gsub(/^ +| +$/, "", x); return x }
    function val(x) { x = trim(x); gsub(/,/, "", x); return (x ~ /^[0-9.]+$/) ? x + 0 : -1 }
    /^#+ Primitives/ { inp = 1; next }
    inp && /^#+ / { inp = 0 }
    inp && /^\| primitive/ {
        for (i = 2; i < NF; i++) { h = trim($i); col[h] = i; hdr[i] = h }
        nf = NF; next
    }
    inp && /^\| ---/ { next }
    inp && /^\| / && nf {
        prim = trim($2); route = trim($(col["route"]))
        list = ""; best = ""; bv = -1; n = 0
        for (i = 3; i < col["OpenSSL"]; i++) {
            v = val($i)
            if (v < 0) continue
            n++
            list = list (list == "" ? "" : ", ") hdr[i] " " trim($i)
            if (v > bv) { bv = v; best = hdr[i] }
        }
        why = n == 1 ? "the only back end of ours that has it" \
            : best == route ? "the fastest of ours" \
            : "NOT the fastest of ours in this run (" best ")"
        printf "- %s: **%s**, %s (%s; OpenSSL %s): %sx mbedTLS; OpenSSL / it %s.\n", prim,
            route, why, list, trim($(col["OpenSSL"])), trim($(col["×mbedTLS"])),
            trim($(col["OpenSSL÷route"]))
        short = prim; sub(/ \((\/s|MB\/s)\)$/, "", short); sub(/ (seal|open) 16 KiB$/, "", short)
        if (!((route, short) in seen)) {
            seen[route, short] = 1
            uses[route] = uses[route] (uses[route] == "" ? "" : ", ") short
        }
        if (!(route in order)) { order[route] = ++no; names[no] = route }
    }
    END {
        if (!no) exit
        printf "\nLibraries the default provider uses, by what the numbers above chose:"
        for (i = 1; i <= no; i++)
            printf "%s %s for %s", (i > 1 ? ";" : ""), names[i], uses[names[i]]
        printf ".\n"
    }' "$1"
}

# proxy_gap FILE: why moat is below HAProxy where it is, from proxy.md's table: the CPU
# share of each in the full-handshake and download cells and the per-core rates.
proxy_gap() {
    awk '
    /^as measured/ { t = 1; next }
    t && /^proxy/ { next }
    t && NF == 0 { t = 0 }
    t && ($1 == "moat" || $1 == "haproxy") {
        r[$1, "hs"] = $2 + 0; c[$1, "hs"] = $3; r[$1, "dn"] = $9 + 0; c[$1, "dn"] = $10
        gsub(/[()%]/, "", c[$1, "hs"]); gsub(/[()%]/, "", c[$1, "dn"])
    }
    END {
        split("hs dn", k, " "); split("full handshakes/s,download MB/s", lab, ",")
        for (j = 1; j <= 2; j++) {
            m = r["moat", k[j]]; h = r["haproxy", k[j]]
            if (m <= 0 || h <= 0) continue
            cm = c["moat", k[j]] + 0; ch = c["haproxy", k[j]] + 0
            pm = cm > 0 ? m / (cm / 100) : 0; ph = ch > 0 ? h / (ch / 100) : 0
            printf "- %s: moat %s vs HAProxy %s = %.2fx (%s). Proxy CPU share: moat %d%%, " \
                "HAProxy %d%%; per proxy core %.0f vs %.0f = %.2fx.", lab[j], m, h, m / h,
                (m >= h ? "target met" : "below the target"), cm, ch, pm, ph, (ph > 0 ? pm / ph : 0)
            if (m < h && cm < 90)
                printf " moat was not CPU-bound (%d%% < 90%%): the one-core OpenSSL load " \
                    "generator, not moat, set the pace; the per-core ratio is the fairer " \
                    "comparison.", cm
            else if (m < h)
                printf " moat was CPU-bound: its per-connection cost (the crypto primitives " \
                    "in the primitive table, then protocol and event-loop code) is what " \
                    "stands in the way."
            printf "\n"
        }
    }' "$1"
}

issue9() {
    echo
    echo "## Crypto provider: default vs mbedTLS-only (issue 9)"
    echo
    echo "Which back end serves each algorithm in the default provider"
    echo "(\`tls__crypto()\`), with every back end that implements it and OpenSSL's libcrypto"
    echo "measured in the same run (\`bench/results/engine.md\`, primitive table):"
    echo
    if [ -s $R/engine.md ]; then
        routes $R/engine.md
    else
        echo "Not measured in this run: \`$R/engine.md\` is missing."
    fi
    echo
    echo "Key figures (default provider vs mbedTLS-only, beside OpenSSL's libssl / HAProxy"
    echo "in the same run; verdicts computed from the numbers):"
    echo
    [ -s $R/engine.md ] && grep -E '^- Target \(issue 9\)' $R/engine.md
    if [ -s $R/proxy.md ]; then
        sed -n '/^moat (default crypto provider) beside HAProxy/,/^target (issue 9)/p' $R/proxy.md |
            sed 's/^  */  - /; s/^\([a-z]\)/- \1/'
        echo
        echo "Through the proxy, where moat stands against HAProxy:"
        echo
        proxy_gap $R/proxy.md
    fi
    if [ -s $R/resumption.md ]; then
        echo
        echo "openssl s_time against moat, both providers (\`$R/resumption.md\`):"
        echo
        echo '```'
        grep -E '^(server|moat)' $R/resumption.md
        echo '```'
    fi
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
    echo "- moat: commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- tls bench proxy src config 2>/dev/null || echo ' + uncommitted changes'); crypto back ends: mbedTLS $(ver libmbedcrypto7), nettle $(ver libnettle8), libgcrypt $(ver libgcrypt20), libsodium $(ver libsodium23)"
    echo "- peers: $(openssl version 2>/dev/null); $(haproxy -v 2>/dev/null | head -n 1);" \
        "$(nginx -v 2>&1 | head -n 1); $(hitch --version 2>&1 | head -n 1);" \
        "$(stunnel -version 2>&1 | grep -m 1 '^stunnel')"
    echo
    echo "## Targets (issues 7 and 9)"
    echo
    targets $R/engine.md
    targets $R/proxy.md
    issue9
    echo
    echo "![handshakes/s, MB/s and idle memory per proxy](proxy.png)"
    section "Engine: moat's engine vs OpenSSL's libssl, in memory" $R/engine.md
    section "Proxies: moat vs HAProxy, nginx, hitch, stunnel" $R/proxy.md
    section "Resumed vs full handshakes" $R/resumption.md
} >"$TMP" && mv "$TMP" "$OUT"
echo "bench report: $OUT"
