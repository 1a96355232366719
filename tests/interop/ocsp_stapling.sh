#!/bin/sh
# OCSP stapling (RFC 6066 §8; RFC 8446 §4.4.2.1) and SCT stapling (RFC 6962 §3.3) by
# tlsserver, checked with openssl s_client, using tests/certs/ocsp/ (tests/certs/mkocsp.sh)
# for tests/certs/ecdsa-p256's end entity:
#   - --ocsp good.der: `s_client -status` shows "OCSP Response Status: successful" and
#     "Cert Status: good" in TLS 1.3 and TLS 1.2; without -status nothing is stapled;
#   - --ocsp with an expired, revoked or wrong-certificate response: tlsserver refuses to
#     start, naming the file and the reason;
#   - --sct sct.list: `s_client -ct` reports the two SCTs in TLS 1.3 and TLS 1.2 (their
#     log is unknown: they are made up); without -ct no SCT extension arrives.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

D=$CERTS/ecdsa-p256
O=$CERTS/ocsp

need openssl timeout || finish

# sc OUT PROTO [S_CLIENT-ARGS...]: one s_client handshake, a line then EOF.
sc() {
    _o=$1 _p=$2
    shift 2
    printf 'hello\n' | tmo openssl s_client -connect "127.0.0.1:$SERVER_PORT" -CAfile "$D/ca.cert" \
        -servername localhost -verify_return_error -"$_p" "$@" >"$_o" 2>&1
}

# ---- OCSP ----------------------------------------------------------------------------------

if start_server --certs "$D/end.fullchain" --key "$D/end.key" --ocsp "$O/good.der" echo; then
    for p in tls1_3 tls1_2; do
        out=$WORK/status-$p.out
        sc "$out" "$p" -status
        if grep -q "OCSP Response Status: successful" "$out" && grep -q "Cert Status: good" "$out" &&
            grep -q "Verify return code: 0 (ok)" "$out"; then
            ok "$p: s_client -status gets a good staple"
        else
            not_ok "$p: s_client -status gets a good staple" "$out" "$SERVER_LOG"
        fi
        out=$WORK/nostatus-$p.out
        sc "$out" "$p" -tlsextdebug
        if grep -q "Verify return code: 0 (ok)" "$out" && ! grep -q "OCSP response" "$out" &&
            ! grep -q "status request" "$out"; then
            ok "$p: without -status nothing is stapled"
        else
            not_ok "$p: without -status nothing is stapled" "$out"
        fi
    done
    stop_server
fi

for bad in expired:expired revoked:revoked wrongcert:CertID nonext:nextUpdate; do
    f=${bad%%:*} why=${bad#*:}
    out=$WORK/refuse-$f.out err=$WORK/refuse-$f.err
    tmo "$TLSSERVER" -p 0 --address 127.0.0.1 --certs "$D/end.fullchain" --key "$D/end.key" \
        --ocsp "$O/$f.der" echo </dev/null >"$out" 2>"$err"
    st=$?
    if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && grep -q "$f.der" "$err" && grep -q "$why" "$err" &&
        ! grep -q '^listening' "$out"; then
        ok "tlsserver refuses the $f staple at load ($(head -n 1 "$err"))"
    else
        not_ok "tlsserver refuses the $f staple at load" "exit status $st" "$err" "$out"
    fi
done

# ---- SCTs ----------------------------------------------------------------------------------

# A CT log list for s_client -ct: one made-up log, so the SCTs are "unknown log".
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/log.key" 2>/dev/null
printf 'enabled_logs = testlog\n\n[testlog]\ndescription = moat test log\nkey = %s\n' \
    "$(openssl pkey -in "$WORK/log.key" -pubout -outform DER | base64 | tr -d '\n')" \
    >"$WORK/ctlog.cnf"

if start_server --certs "$D/end.fullchain" --key "$D/end.key" --sct "$O/sct.list" \
    --ocsp "$O/good.der" echo; then
    for p in tls1_3 tls1_2; do
        out=$WORK/ct-$p.out
        sc "$out" "$p" -ct -ctlogfile "$WORK/ctlog.cnf"
        if grep -q "SCTs present (2)" "$out" && grep -q "Verify return code: 0 (ok)" "$out"; then
            ok "$p: s_client -ct sees the two stapled SCTs"
        else
            not_ok "$p: s_client -ct sees the two stapled SCTs" "$out" "$SERVER_LOG"
        fi
        out=$WORK/noct-$p.out
        sc "$out" "$p" -tlsextdebug
        if grep -q "Verify return code: 0 (ok)" "$out" &&
            ! grep -q "signed certificate timestamps" "$out"; then
            ok "$p: without -ct no SCT extension is sent"
        else
            not_ok "$p: without -ct no SCT extension is sent" "$out"
        fi
    done
    stop_server
fi

out=$WORK/badsct.out err=$WORK/badsct.err
printf '\000\002\000\000' >"$WORK/bad.sct"
tmo "$TLSSERVER" -p 0 --address 127.0.0.1 --certs "$D/end.fullchain" --key "$D/end.key" \
    --sct "$WORK/bad.sct" echo </dev/null >"$out" 2>"$err"
st=$?
if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && grep -q "SignedCertificateTimestampList" "$err"; then
    ok "tlsserver refuses a malformed SCT list ($(head -n 1 "$err"))"
else
    not_ok "tlsserver refuses a malformed SCT list" "exit status $st" "$err" "$out"
fi

finish
