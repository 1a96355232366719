#!/bin/sh
# Where the engine's work goes: the crypto library or our protocol code (issue 7).
#
# Profiles build/bench/engine --profile (see bench/engine.c) in two scenarios, for moat
# and, to compare, for OpenSSL's libssl:
#   hs    full TLS 1.3 ECDSA-P256 X25519 AES-128-GCM handshakes, both sides in-process;
#   bulk  MiB of 16 KiB records server to client, TLS 1.3 AES-128-GCM.
# Only work inside the measured function counts (profile_handshakes/profile_transfer):
# certificate loading, configs and warm-up are left out.
#
# Two views:
# 1. callgrind (valgrind): instructions, exactly repeatable from run to run on a noisy
#    machine (times are not). PROFILE_HS (default 50) handshakes, PROFILE_MIB (16) MiB.
#    Caveats: an instruction is not a cycle (bignum, AES-NI and `rep movsb` copies retire
#    at very different rates; valgrind counts each `rep` iteration, which inflates the
#    memcpy/memset share of bulk transfers), and valgrind's CPU has no AVX-512.
# 2. perf (when the kernel lets us sample our own process): CPU time, sampled at
#    PERF_FREQ Hz (default 2000) with DWARF call stacks; sampling error is a percent or
#    so. PERF_HS / PERF_MIB scale the runs to about 1.5 s each.
#
# "Crypto" is counted inclusively in both: an instruction or a sample counts as crypto
# when it runs inside a call into the crypto library, so memcpy, malloc and getrandom
# that the library calls are crypto too. moat: the back ends' libraries (nettle, hogweed,
# gmp, gcrypt, gpg-error, sodium) and libmbedcrypto, except its parsing helpers
# (mbedtls_asn1_*, _oid_, _pem_, _base64_, mbedtls_pk_parse*; counted as X.509 parsing)
# and the wipe/compare helpers the engine calls for its own buffers
# (mbedtls_platform_zeroize, mbedtls_ct_memcmp). OpenSSL: all of libcrypto, whose X.509,
# ASN.1 and EVP/provider layers live there too, so its crypto share is an upper bound.
# The rest is split by where it runs.
#
# Prints both and replaces the profile section at the end of bench/results/engine.md
# (the rest of that file is written by build/bench/engine). About a minute.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
ENGINE=$BUILD/bench/engine
RESULTS=${BENCH_RESULTS:-bench/results/engine.md}
HS=${PROFILE_HS:-50}
MIB=${PROFILE_MIB:-16}
PERF_FREQ=${PERF_FREQ:-2000}
PERF_HS=${PERF_HS:-200}
PERF_MIB=${PERF_MIB:-256}
PERF_OSSL_HS=${PERF_OSSL_HS:-1500}
PERF_OSSL_MIB=${PERF_OSSL_MIB:-2048}
MARK='<!-- bench/profile.sh -->'

[ -x "$ENGINE" ] || { echo "profile: $ENGINE is missing (make $ENGINE)"; exit 1; }
for c in valgrind python3 nm; do
    command -v $c >/dev/null || { echo "profile: needs $c"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# The bench harness's own functions (everything else in the binary is the engine).
nm --defined-only "$BUILD"/rel/bench/engine*.o "$BUILD"/rel/bench/primitives.o 2>/dev/null |
    awk '$2 ~ /^[tT]$/ { sub(/\..*/, "", $3); print $3 }' | sort -u >"$tmp/harness"

cg() { # IMPL WHAT N
    fn=profile_handshakes; [ "$2" = bulk ] && fn=profile_transfer
    if ! valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1.$2" \
        "--toggle-collect=$fn*" "$ENGINE" --profile "$1" "$2" "$3" \
        >"$tmp/cgout.$1.$2" 2>"$tmp/cgerr.$1.$2"; then
        echo "profile: callgrind run $1 $2 failed:"
        tail -n 5 "$tmp/cgerr.$1.$2"
        exit 1
    fi
}

pf() { # IMPL WHAT N -> $tmp/pf.IMPL.WHAT (perf script), or nothing when perf cannot run
    perf record -q -o "$tmp/perf.data" -F "$PERF_FREQ" --call-graph dwarf,16384 \
        "$ENGINE" --profile "$1" "$2" "$3" >"$tmp/pfout.$1.$2" 2>"$tmp/pferr.$1.$2" || return 1
    perf script -i "$tmp/perf.data" -F ip,sym,dso >"$tmp/pf.$1.$2" 2>/dev/null || return 1
    rm -f "$tmp/perf.data"
}

valgrind --version >"$tmp/vg" 2>&1
t0=$(date +%s)
cg moat hs "$HS"
cg moat bulk "$MIB"
cg openssl hs "$HS"
cg openssl bulk "$MIB"
t1=$(date +%s)
perf_ok=0
if command -v perf >/dev/null && pf moat hs "$PERF_HS" && pf moat bulk "$PERF_MIB" &&
    pf openssl hs "$PERF_OSSL_HS" && pf openssl bulk "$PERF_OSSL_MIB"; then
    perf_ok=1
else
    echo "profile: perf sampling unavailable here; callgrind only" \
        "($(tail -n 1 "$tmp"/pferr.* 2>/dev/null | tail -n 1))"
fi
t2=$(date +%s)

python3 - "$tmp" "$HS" "$MIB" "$perf_ok" "$PERF_HS" "$PERF_MIB" "$PERF_OSSL_HS" \
    "$PERF_OSSL_MIB" "$PERF_FREQ" "$((t1 - t0))" "$((t2 - t1))" >"$tmp/report" <<'EOF'
import collections, re, sys

(tmp, hs, mib, perf_ok, perf_hs, perf_mib, perf_ohs, perf_omib, freq, cg_secs,
 pf_secs) = sys.argv[1:]
PARSE = re.compile(r'^mbedtls_(asn1|oid|pem|base64)_|^mbedtls_pk_parse|^mbedtls_pk_load')
UTIL = re.compile(r'^mbedtls_platform_zeroize$|^mbedtls_ct_memcmp$')
HARNESS = set(open(f'{tmp}/harness').read().split())

def base(sym):
    return re.sub(r'(@plt|@@?GLIBC\S*|\.(isra|constprop|part|cold)\S*)$', '', sym or '')

# The default provider's other back ends (issue 9): all their code is crypto.
FAST = re.compile(r'lib(nettle|hogweed|gmp|gcrypt|gpg-error|sodium)\.so')

def crypto(impl, ob, fn):
    fn = base(fn)
    if impl == 'moat':
        if FAST.search(ob):
            return True
        return 'libmbedcrypto' in ob and not PARSE.match(fn) and not UTIL.match(fn)
    return 'libcrypto.so' in ob

def category(ob, fn):
    fn = base(fn)
    if 'libmbedcrypto' in ob and UTIL.match(fn):
        return 'wipe/compare helpers'
    if 'libmbedx509' in ob or 'libmbedcrypto' in ob:
        return 'X.509/ASN.1 parsing'
    if 'libssl.so' in ob:
        return 'libssl (protocol code)'
    if re.search(r'(^|/)engine$', ob):
        return 'bench harness' if fn in HARNESS else 'engine (tls/)'
    if 'libc.so' in ob:
        return 'libc (memcpy, malloc, ...)'
    if 'kernel' in ob or ob == '[vdso]':
        return 'kernel (page faults, the bench\'s CPU clock)'
    return 'other'

def pct(a, b):
    return 100.0 * a / b if b else 0.0

# ---- callgrind -------------------------------------------------------------------------

def cg_parse(path):
    """Self cost per (object, function), call edges with inclusive costs, total."""
    names = {'ob': {}, 'fl': {}, 'fn': {}}
    def name(kind, val):
        m = re.match(r'\((\d+)\)(?: (.*))?$', val)
        if not m:
            return val
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), '?')
    self_cost, edges = collections.Counter(), []
    ob = fn = cob = cfn = None
    call = False
    total = 0
    for line in open(path):
        line = line.rstrip('\n')
        if not line or line[0] == '#':
            continue
        if line[0].isdigit() or line[0] in '+-*':
            parts = line.split()
            cost = int(parts[1]) if len(parts) > 1 else 0
            if call:
                edges.append(((ob, fn), (cob or ob, cfn), cost))
                call, cob, cfn = False, None, None
            else:
                self_cost[(ob, fn)] += cost
            continue
        if line.startswith(('summary:', 'totals:')):
            total = max(total, int(line.split(':', 1)[1].split()[0]))
            continue
        key, _, val = line.partition('=')
        if key == 'ob':
            ob = name('ob', val)
        elif key in ('fl', 'fi', 'fe', 'cfi', 'cfl'):
            name('fl', val)
        elif key == 'fn':
            fn = name('fn', val)
        elif key == 'cob':
            cob = name('ob', val)
        elif key == 'cfn':
            cfn = name('fn', val)
        elif key == 'calls':
            call = True
    return self_cost, edges, total

def cg_split(impl, what):
    self_cost, edges, total = cg_parse(f'{tmp}/cg.{impl}.{what}')
    is_c = lambda k: crypto(impl, k[0], k[1])
    # The share of each function's instructions that runs under a call into crypto:
    # 1 for crypto functions; for any other, the share of its incoming (inclusive) call
    # costs whose caller runs under crypto, weighted by that caller's own share. A
    # malloc called from both sides splits in proportion; nothing counts twice.
    incl_in = collections.Counter()
    for a, b, c in edges:
        incl_in[b] += c
    frac = {k: 1.0 if is_c(k) else 0.0 for k in self_cost}
    for _ in range(100):
        under = collections.Counter()
        for a, b, c in edges:
            under[b] += c * frac.get(a, 1.0 if is_c(a) else 0.0)
        changed = False
        for k in self_cost:
            if is_c(k) or not incl_in[k]:
                continue
            f = min(1.0, under[k] / incl_in[k])
            if abs(f - frac[k]) > 1e-9:
                frac[k], changed = f, True
        if not changed:
            break
    in_crypto = sum(c * frac[k] for k, c in self_cost.items())
    cats = collections.Counter()
    for k, c in self_cost.items():
        if not is_c(k):
            cats[category(k[0], k[1])] += c * (1 - frac[k])
    top = sorted(((c * (1 - frac[k]), base(k[1])) for k, c in self_cost.items() if not is_c(k)),
                 reverse=True)[:6]
    return total, in_crypto, cats, top

# ---- perf --------------------------------------------------------------------------------

def pf_split(impl, what):
    marker = 'profile_handshakes' if what == 'hs' else 'profile_transfer'
    samples, in_crypto, cats, leaves = 0, 0, collections.Counter(), collections.Counter()
    def flush(frames):
        nonlocal samples, in_crypto
        frames = resolve_inlined(frames)
        if not frames or not any(base(f).startswith(marker) for f, _ in frames):
            return
        samples += 1
        if any(crypto(impl, ob, f) for f, ob in frames):
            in_crypto += 1
        else:
            f, ob = frames[0]
            cats[category(ob, f)] += 1
            leaves[base(f)] += 1
    frames = []
    for line in open(f'{tmp}/pf.{impl}.{what}', errors='replace'):
        m = re.match(r'\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$', line)
        if m:
            frames.append((re.sub(r'\+0x[0-9a-f]+$', '', m.group(1)), m.group(2)))
        elif not line.strip():
            flush(frames)
            frames = []
    flush(frames)
    return samples, in_crypto, cats, leaves.most_common(6)

def resolve_inlined(frames):
    # perf prints an inlined function with "(inlined)" where the object goes; it is in
    # the object of the next real frame below it.
    out = []
    for i, (f, ob) in enumerate(frames):
        j = i
        while ob == 'inlined' and j + 1 < len(frames):
            j += 1
            ob = frames[j][1]
        out.append((f, ob))
    return out

# ---- report ------------------------------------------------------------------------------

label = {'hs': 'full handshakes (TLS 1.3 ECDSA-P256 X25519, both sides)',
         'bulk': 'bulk, 16 KiB records (TLS 1.3 AES-128-GCM)'}
NAME = {'moat': 'moat', 'openssl': 'OpenSSL'}
print('### Instructions (callgrind)')
print()
print(f'{hs} handshakes, {mib} MiB. "outside" per handshake / per MiB is in instructions.')
print()
print('| run | instructions | in the crypto library | outside it | outside per unit | outside, by where it runs |')
print('| --- | ---: | ---: | ---: | ---: | --- |')
units = {'hs': int(hs), 'bulk': int(mib)}
cgres = {}
notes = []
for what in ('hs', 'bulk'):
    for impl in ('moat', 'openssl'):
        total, c, cats, top = cg_split(impl, what)
        cgres[(impl, what)] = (total, c)
        rest = ', '.join(f'{k} {pct(v, total):.2f}%' for k, v in cats.most_common()
                         if pct(v, total) >= 0.005)
        print(f'| {NAME[impl]}: {label[what]} | {total:,} | {pct(c, total):.1f}% | '
              f'{pct(total - c, total):.1f}% | {(total - c) / units[what]:,.0f} | {rest or "-"} |')
        notes.append(f'- {NAME[impl]} {what}, top functions outside crypto (instructions): ' +
                     ', '.join(f'{f} {pct(v, total):.2f}%' for v, f in top))
print()
print('\n'.join(notes))
print()

pfres = {}
if perf_ok == '1':
    print('### CPU time (perf, sampled)')
    print()
    print(f'{perf_hs} moat / {perf_ohs} OpenSSL handshakes, {perf_mib} / {perf_omib} MiB; '
          f'{freq} Hz, DWARF call stacks; only samples inside the measured function.')
    print()
    print('| run | samples | in the crypto library | outside it | outside, by where it runs |')
    print('| --- | ---: | ---: | ---: | --- |')
    notes = []
    for what in ('hs', 'bulk'):
        for impl in ('moat', 'openssl'):
            n, c, cats, leaves = pf_split(impl, what)
            pfres[(impl, what)] = (n, c)
            rest = ', '.join(f'{k} {pct(v, n):.1f}%' for k, v in cats.most_common()
                             if pct(v, n) >= 0.05)
            print(f'| {NAME[impl]}: {label[what]} | {n:,} | {pct(c, n):.1f}% | '
                  f'{pct(n - c, n):.1f}% | {rest or "-"} |')
            notes.append(f'- {NAME[impl]} {what}, top functions outside crypto (samples): ' +
                         ', '.join(f'{f} {pct(v, n):.1f}%' for f, v in leaves))
    print()
    print('\n'.join(notes))
    print()

print('### Targets, from the profiles')
print()

def pf_time(impl, what):
    """CPU microseconds per handshake (both sides) or per MiB (send + receive)."""
    text = open(f'{tmp}/pfout.{impl}.{what}').read()
    if what == 'hs':
        m = re.search(r'server ([0-9.]+) us, client ([0-9.]+) us', text)
        return float(m.group(1)) + float(m.group(2)) if m else 0.0
    m = re.search(r'send ([0-9.]+) MB/s, receive ([0-9.]+) MB/s', text)
    return 1.048576e6 / float(m.group(1)) + 1.048576e6 / float(m.group(2)) if m else 0.0

(t, c) = cgres[('moat', 'hs')]
out_cg = pct(t - c, t)
line = (f'- Protocol overhead on a full handshake <= 10%: {out_cg:.1f}% of the instructions '
        'run outside the crypto library')
out_pf = out_cg
if pfres:
    n, c2 = pfres[('moat', 'hs')]
    out_pf = pct(n - c2, n)
    line += f', {out_pf:.1f}% of the CPU time (perf)'
line += f': {"MET" if max(out_cg, out_pf) <= 10 else "NOT MET"}.'
print(line)
(ot, oc) = cgres[('openssl', 'hs')]
mo, ocu = (t - c) / units['hs'], oc / units['hs']
print(f'- Per handshake (both sides) the engine runs {mo:,.0f} instructions outside the crypto '
      f'library, OpenSSL {(ot - oc) / units["hs"]:,.0f} outside libcrypto. Were our crypto as '
      f'cheap as OpenSSL\'s libcrypto ({ocu:,.0f} instructions per handshake, X.509 and EVP '
      f'included), ours would be {pct(mo, mo + ocu):.1f}% of the total.')
if pfres:
    n, c2 = pfres[('moat', 'hs')]
    on, oc2 = pfres[('openssl', 'hs')]
    mt = pct(n - c2, n) / 100 * pf_time('moat', 'hs')
    ot_ = pct(oc2, on) / 100 * pf_time('openssl', 'hs')
    print(f'  In CPU time: {mt:.0f} us per handshake outside the crypto library against '
          f'{ot_:.0f} us of OpenSSL\'s libcrypto work: {pct(mt, mt + ot_):.1f}%. The share is '
          'small because mbedTLS\'s primitives are slow, and stays under 10% with fast ones.')
(t, c) = cgres[('moat', 'bulk')]
line = f'- Bulk: {pct(c, t):.1f}% of the instructions are inside the crypto library'
if pfres:
    n, c2 = pfres[('moat', 'bulk')]
    line += f', {pct(c2, n):.1f}% of the CPU time'
print(line + '; the rest is our record path: copies into and out of the engine\'s buffers, '
      'the provider\'s chunked in-place AEAD (aead_crypt), wipes of released buffers.')
(ot, oc) = cgres[('openssl', 'bulk')]
mo, ocu = (t - c) / units['bulk'], oc / units['bulk']
line = (f'- Per MiB the engine runs {mo:,.0f} instructions outside the crypto library '
        f'(OpenSSL: {(ot - oc) / units["bulk"]:,.0f}); against OpenSSL\'s AEAD ({ocu:,.0f} '
        f'instructions per MiB) that would be {pct(mo, mo + ocu):.0f}% of the work (instructions '
        'overstate `rep movsb` copies and wipes)')
if pfres:
    n, c2 = pfres[('moat', 'bulk')]
    on, oc2 = pfres[('openssl', 'bulk')]
    mt = pct(n - c2, n) / 100 * pf_time('moat', 'bulk')
    ot_ = pct(oc2, on) / 100 * pf_time('openssl', 'bulk')
    line += (f'; in CPU time {mt:.0f} us per MiB (send + receive) outside it against {ot_:.0f} us '
             f'of OpenSSL\'s libcrypto: {pct(mt, mt + ot_):.0f}%')
print(line + '. With a fast AEAD back end the record path\'s copies and wipes would dominate: '
      'bulk transfer is near 90% of the raw AEAD today only because mbedTLS\'s AEAD is slow.')
print()
print(f'({open(f"{tmp}/vg").read().strip()}: {cg_secs} s; perf: {pf_secs} s)')
EOF
[ $? -eq 0 ] || { echo "profile: analysis failed"; exit 1; }

echo "== Profile: crypto library vs the rest =="
cat "$tmp/report"
for f in "$tmp"/cgout.* "$tmp"/pfout.*; do
    [ -s "$f" ] && sed "s|^|($(basename "$f")) |" "$f"
done

# Replace the section this script wrote last time (from the marker to the end).
if [ -f "$RESULTS" ]; then
    sed "\\%^$MARK\$%,\$d" "$RESULTS" >"$tmp/results" || exit 1
else
    mkdir -p "$(dirname "$RESULTS")"
    : >"$tmp/results"
fi
{
    echo "$MARK"
    echo "## Profile: crypto library vs the rest (bench/profile.sh)"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); source: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo
    echo "Only the measured function counts (certificate loading, configs and warm-up do not)."
    echo "\"In the crypto library\" is inclusive: anything running inside a call into it (its"
    echo "malloc, memcpy, getrandom) counts as crypto. moat: libnettle/libhogweed/libgmp,"
    echo "libgcrypt/libgpg-error and libsodium (the default provider's back ends), and"
    echo "libmbedcrypto without its ASN.1,"
    echo "OID, PEM, base64 and pk_parse helpers (X.509 parsing) and without"
    echo "mbedtls_platform_zeroize/mbedtls_ct_memcmp (the engine wipes and compares its own"
    echo "buffers with them). OpenSSL: all of libcrypto, X.509/ASN.1/EVP layers included (an"
    echo "upper bound for its crypto). Instruction counts repeat exactly on a noisy machine, times"
    echo "do not; but instructions are not cycles (bignum, AES-NI and \`rep movsb\` code retire at"
    echo "very different rates; valgrind counts every \`rep\` iteration; its CPU has no AVX-512)."
    echo "The perf view samples CPU time instead (about 1% sampling error)."
    echo
    cat "$tmp/report"
} >>"$tmp/results"
cp "$tmp/results" "$RESULTS"
echo "(appended to $RESULTS)"
