#!/bin/sh
# TLS 1.2 features of "tlsserver", with openssl s_client, gnutls-cli, curl and the
# python helpers here:
#   - extended master secret: used when offered; --require-ems refuses clients
#     without it (handshake_failure), accepts the others; without --require-ems a
#     client without it still gets through;
#   - TLS 1.1 and 1.0 are refused with protocol_version (openssl and raw hellos);
#   - TLS_FALLBACK_SCSV: inappropriate_fallback when 1.3 was possible, accepted by a
#     --protover 1.2 server;
#   - renegotiation: refused with a warning-level no_renegotiation alert; openssl
#     s_client then gives up (its choice); renegclient.py (libgnutls through ctypes)
#     shows the connection still echoes data after the refusal; a second request is
#     fatal (unexpected_message), which gnutls-cli --rehandshake's retry runs into;
#   - the RFC 8446 4.1.3 downgrade sentinel, through downgrade_mitm.py (strips
#     supported_versions from a TLS 1.3 client's ClientHello);
#   - ALPN and SNI over 1.2; --max-frag-size 512 on 1.2 records.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

KT=ecdsa-p256
CA=$CERTS/$KT/ca.cert
RAWPEER=$INTEROP_DIR/rawpeer.py
MITM=$INTEROP_DIR/downgrade_mitm.py
RENEG=$INTEROP_DIR/renegclient.py

srv() {
    start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose "$@"
}

# why_ok DESC WHY [DIAG...]: ok if WHY (a "; "-separated list of problems) is empty.
why_ok() {
    _d=$1 _w=$2
    shift 2
    if [ -z "$_w" ]; then
        ok "$_d"
    else
        not_ok "$_d" "${_w#; }" "$@"
    fi
}

# sc12 OUT ERR [S_CLIENT-ARGS...]: s_client (full, not -brief, output) with stdin at
# EOF: handshake, session summary, close. SNI "localhost" unless NO_SNI=1.
sc12() {
    _o=$1 _e=$2
    shift 2
    if [ "${NO_SNI:-0}" = 1 ]; then
        set -- -noservername "$@"
    else
        set -- -servername localhost "$@"
    fi
    tmo openssl s_client -connect "127.0.0.1:$SERVER_PORT" -CAfile "$CA" "$@" \
        </dev/null >"$_o" 2>"$_e"
}

# echo12 DESC [S_CLIENT-ARGS...]: a verified TLS 1.2 handshake and an echoed line.
echo12() {
    _desc=$1
    shift
    make_payload "$WORK/e.in" 40
    openssl_echo "$WORK/e.out" "$WORK/e.err" "$WORK/e.in" -tls1_2 -servername localhost \
        -verify_return_error -CAfile "$CA" "$@"
    _st=$?
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; s_client status $_st"
    cmp -s "$WORK/e.in" "$WORK/e.out" || _why="$_why; echo differs"
    grep -q '^Protocol version: TLSv1.2$' "$WORK/e.err" || _why="$_why; not TLSv1.2"
    why_ok "$_desc" "$_why" "$WORK/e.err" "$SERVER_LOG"
}

# refused DESC WANT_ALERT LOG_ERE [S_CLIENT-ARGS...]: the s_client handshake fails
# with WANT_ALERT from the server, whose log matches LOG_ERE.
refused() {
    _desc=$1 _want=$2 _ere=$3
    shift 3
    log_mark
    sc12 "$WORK/rf.out" "$WORK/rf.err" "$@"
    _st=$?
    _got=$(alert_from_openssl "$WORK/rf.err")
    if [ "$_st" -ne 0 ] && [ "$_st" -ne 124 ] && [ "$_got" = "$_want" ] && wait_log "$_ere" 3; then
        ok "$_desc -> $_got; server: $(log_since | grep -Eo "$_ere" | head -n 1)"
    else
        not_ok "$_desc -> $_want, server log /$_ere/" "s_client status $_st, alert $_got" \
            "$WORK/rf.err" "$SERVER_LOG"
    fi
}

# raw CASE WANT_ERE DESC: rawpeer.py's outcome line must match WANT_ERE.
raw() {
    tmo python3 "$RAWPEER" "$SERVER_PORT" "$1" >"$WORK/raw.out" 2>"$WORK/raw.err"
    _got=$(head -n 1 "$WORK/raw.out")
    if printf '%s\n' "$_got" | grep -Eqx -- "$2"; then
        ok "raw $3 -> $_got"
    else
        not_ok "raw $3 -> $2" "got '$_got'" "$WORK/raw.err" "$SERVER_LOG"
    fi
}

# start_mitm TARGET_PORT: downgrade_mitm.py in front of TARGET_PORT; sets MITM_PID,
# MITM_PORT, MITM_LOG. Killed by lib.sh's EXIT trap if not stopped.
MITM_SEQ=0
start_mitm() {
    MITM_SEQ=$((MITM_SEQ + 1))
    MITM_LOG=$WORK/mitm$MITM_SEQ.log
    MITM_PORT=""
    : >"$WORK/mitm$MITM_SEQ.out"
    python3 "$MITM" "$1" >"$WORK/mitm$MITM_SEQ.out" 2>"$MITM_LOG" </dev/null &
    MITM_PID=$!
    SERVER_PIDS="$SERVER_PIDS $MITM_PID"
    _ticks=$((START_TIMEOUT * 10))
    while [ "$_ticks" -gt 0 ]; do
        MITM_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
            "$WORK/mitm$MITM_SEQ.out")
        [ -n "$MITM_PORT" ] && return 0
        pid_alive "$MITM_PID" || break
        sleep_short
        _ticks=$((_ticks - 1))
    done
    not_ok "downgrade_mitm.py starts" "$MITM_LOG"
    stop_mitm
    return 1
}
stop_mitm() {
    kill -TERM "$MITM_PID" 2>/dev/null
    _ticks=30
    while [ "$_ticks" -gt 0 ] && pid_alive "$MITM_PID"; do
        sleep_short
        _ticks=$((_ticks - 1))
    done
    kill -KILL "$MITM_PID" 2>/dev/null
    wait "$MITM_PID" 2>/dev/null
    _forget_pid "$MITM_PID"
}

need openssl gnutls-cli curl python3 timeout || finish

# ==== extended master secret ==============================================================
if srv echo; then
    log_mark
    sc12 "$WORK/ems.out" "$WORK/ems.err" -tls1_2
    st=$?
    why=""
    [ "$st" -eq 0 ] || why="$why; s_client status $st"
    grep -q '^New, TLSv1.2, Cipher is ECDHE-ECDSA-' "$WORK/ems.out" || why="$why; not TLSv1.2 ECDHE-ECDSA"
    grep -q '^ *Extended master secret: yes$' "$WORK/ems.out" || why="$why; no 'Extended master secret: yes'"
    why_ok "openssl -tls1_2: session shows 'Extended master secret: yes'" "$why" \
        "$WORK/ems.out" "$WORK/ems.err"

    # Without --require-ems a client that does not offer EMS is served (RFC 5246 PRF).
    make_payload "$WORK/g.in" 40
    feed_client "$WORK/g.in" "$WORK/g.out" "$WORK/g.err" gnutls-cli --logfile="$WORK/g.info" \
        --x509cafile="$CA" --port="$SERVER_PORT" --sni-hostname=localhost \
        --verify-hostname=localhost --priority='NORMAL:-VERS-ALL:+VERS-TLS1.2:%NO_SESSION_HASH' \
        127.0.0.1
    st=$?
    why=""
    [ "$st" -eq 0 ] || why="$why; gnutls-cli status $st"
    cmp -s "$WORK/g.in" "$WORK/g.out" || why="$why; echo differs"
    grep -q '^- Description: (TLS1.2-X.509)' "$WORK/g.info" || why="$why; not TLS 1.2"
    grep -q '^- Options:.*extended master secret' "$WORK/g.info" && why="$why; EMS used anyway"
    why_ok "default server: gnutls 1.2 with %NO_SESSION_HASH (no EMS) is served, data echoed" \
        "$why" "$WORK/g.info" "$WORK/g.err" "$SERVER_LOG"
    stop_server
fi

if srv --require-ems echo; then
    log_mark
    tmo gnutls-cli --x509cafile="$CA" --port="$SERVER_PORT" --sni-hostname=localhost \
        --verify-hostname=localhost --priority='NORMAL:-VERS-ALL:+VERS-TLS1.2:%NO_SESSION_HASH' \
        127.0.0.1 </dev/null >"$WORK/ne.out" 2>"$WORK/ne.err"
    st=$?
    why=""
    [ "$st" -ne 0 ] && [ "$st" -ne 124 ] || why="$why; gnutls-cli status $st"
    grep -q 'Received alert \[40\]' "$WORK/ne.out" "$WORK/ne.err" || why="$why; no handshake_failure alert"
    wait_log 'PeerIncompatible\(ExtendedMasterSecretExtensionRequired\) \(sent alert handshake_failure\)' 3 ||
        why="$why; server log lacks PeerIncompatible(ExtendedMasterSecretExtensionRequired)"
    why_ok "--require-ems: gnutls 1.2 with %NO_SESSION_HASH -> handshake_failure, logged as PeerIncompatible(ExtendedMasterSecretExtensionRequired)" \
        "$why" "$WORK/ne.out" "$WORK/ne.err" "$SERVER_LOG"

    make_payload "$WORK/g.in" 40
    rm -f "$WORK/g.info"
    feed_client "$WORK/g.in" "$WORK/g.out" "$WORK/g.err" gnutls-cli --logfile="$WORK/g.info" \
        --x509cafile="$CA" --port="$SERVER_PORT" --sni-hostname=localhost \
        --verify-hostname=localhost --priority='NORMAL:-VERS-ALL:+VERS-TLS1.2' 127.0.0.1
    st=$?
    why=""
    [ "$st" -eq 0 ] || why="$why; gnutls-cli status $st"
    cmp -s "$WORK/g.in" "$WORK/g.out" || why="$why; echo differs"
    grep -q '^- Options:.*extended master secret' "$WORK/g.info" || why="$why; no EMS"
    why_ok "--require-ems: a normal gnutls 1.2 client (EMS) is served, data echoed" "$why" \
        "$WORK/g.info" "$WORK/g.err" "$SERVER_LOG"
    echo12 "--require-ems: openssl -tls1_2 (EMS) is served"
    openssl_handshake "--require-ems: TLS 1.3 is unaffected" "$CA"
    check_alive "--require-ems server still running"
    stop_server
fi

# ==== TLS 1.1 and 1.0 =====================================================================
if srv echo; then
    for v in 1_1:0x302 1:0x301; do
        flag=-tls${v%%:*} hv=${v#*:}
        log_mark
        sc12 "$WORK/old.out" "$WORK/old.err" "$flag" -trace
        st=$?
        how=""
        if ! grep -q 'SSL alert number' "$WORK/old.err"; then
            # This OpenSSL would not even offer the version at its security level.
            how=" -cipher DEFAULT:@SECLEVEL=0"
            log_mark
            sc12 "$WORK/old.out" "$WORK/old.err" "$flag" -trace -cipher 'DEFAULT:@SECLEVEL=0'
            st=$?
        fi
        got=$(alert_from_openssl "$WORK/old.err")
        why=""
        [ "$st" -ne 0 ] && [ "$st" -ne 124 ] || why="$why; s_client status $st"
        [ "$got" = protocol_version ] || why="$why; alert $got"
        grep -q "client_version=$hv " "$WORK/old.out" ||
            why="$why; the ClientHello did not carry client_version=$hv"
        wait_log 'PeerIncompatible\(NoSupportedVersion\) \(sent alert protocol_version\)' 3 ||
            why="$why; server log lacks PeerIncompatible(NoSupportedVersion)"
        why_ok "openssl $flag$how (client_version $hv) -> protocol_version" "$why" \
            "$WORK/old.err" "$SERVER_LOG"
    done
    raw legacy-only protocol_version "TLS 1.1 ClientHello (0x0302, no supported_versions)"
    raw tls10-only protocol_version "TLS 1.0 ClientHello (0x0301, no supported_versions)"
    echo12 "after the refusals: openssl -tls1_2 is served"
    stop_server
fi

# ==== TLS_FALLBACK_SCSV ===================================================================
if srv echo; then
    refused "default server (1.3 and 1.2): openssl -tls1_2 -fallback_scsv" inappropriate_fallback \
        'PeerMisbehaved\(InappropriateFallback\) \(sent alert inappropriate_fallback\)' \
        -tls1_2 -fallback_scsv
    # The SCSV with the client's real best version (1.3) is no fallback.
    make_payload "$WORK/f.in" 40
    openssl_echo "$WORK/f.out" "$WORK/f.err" "$WORK/f.in" -fallback_scsv -CAfile "$CA" \
        -verify_return_error -servername localhost
    st=$?
    if [ "$st" -eq 0 ] && cmp -s "$WORK/f.in" "$WORK/f.out" &&
        grep -q '^Protocol version: TLSv1.3$' "$WORK/f.err"; then
        ok "default server: openssl -fallback_scsv offering 1.3 -> TLSv1.3, echoed"
    else
        not_ok "default server: openssl -fallback_scsv offering 1.3 -> TLSv1.3, echoed" \
            "s_client status $st" "$WORK/f.err" "$SERVER_LOG"
    fi
    stop_server
fi
if srv --protover 1.2 echo; then
    echo12 "--protover 1.2 (1.2 is the server's best): openssl -tls1_2 -fallback_scsv completes" \
        -fallback_scsv
    stop_server
fi

# ==== renegotiation =======================================================================
if srv echo; then
    # openssl s_client in command mode: data, then "R" on its own line. stdin stays
    # open (the left side of the pipe waits) until s_client ends by itself.
    make_payload "$WORK/rn.in" 100
    first=$(head -n 1 "$WORK/rn.in")
    rm -f "$WORK/rn.done"
    : >"$WORK/rn.out"
    log_mark
    {
        cat "$WORK/rn.in"
        t=$((CLIENT_TIMEOUT * 10))
        while [ "$t" -gt 0 ] && ! grep -qxF -- "$first" "$WORK/rn.out"; do
            sleep_short
            t=$((t - 1))
        done
        printf 'R\n'
        t=$((CLIENT_TIMEOUT * 10))
        while [ "$t" -gt 0 ] && [ ! -e "$WORK/rn.done" ]; do
            sleep_short
            t=$((t - 1))
        done
    } | {
        tmo openssl s_client -connect "127.0.0.1:$SERVER_PORT" -tls1_2 -servername localhost \
            -CAfile "$CA" >"$WORK/rn.out" 2>"$WORK/rn.err"
        echo $? >"$WORK/rn.done"
    }
    st=$(cat "$WORK/rn.done")
    why=""
    [ "$st" -ne 0 ] && [ "$st" -ne 124 ] || why="$why; s_client status $st (want an error exit, not a timeout)"
    n_in=$(grep -c . "$WORK/rn.in")
    n_echo=$(grep -cxF -f "$WORK/rn.in" "$WORK/rn.out")
    [ "$n_echo" -eq "$n_in" ] || why="$why; $n_echo of $n_in lines sent before R were echoed"
    grep -q '^RENEGOTIATING' "$WORK/rn.err" || why="$why; s_client did not start renegotiating"
    grep -q 'no renegotiation' "$WORK/rn.err" || why="$why; s_client did not report 'no renegotiation'"
    wait_log 'AlertReceived \(peer alert handshake_failure\)' 3 ||
        why="$why; server log does not show the peer's handshake_failure ending it"
    log_since | grep -q 'sent alert' && why="$why; the server sent a fatal alert"
    why_ok "openssl -tls1_2, data then R: data echoed, s_client reports 'no renegotiation' and ends with handshake_failure (server: peer alert handshake_failure)" \
        "$why" "$WORK/rn.err" "$WORK/rn.out" "$SERVER_LOG"

    # gnutls-cli --rehandshake: renegotiates right after the handshake; gnutls takes
    # no_renegotiation as non-fatal and asks again at once; a second request is abuse
    # to the server (each refusal costs it an encrypted alert): unexpected_message.
    log_mark
    tmo gnutls-cli --rehandshake --x509cafile="$CA" --port="$SERVER_PORT" \
        --sni-hostname=localhost --verify-hostname=localhost \
        --priority='NORMAL:-VERS-ALL:+VERS-TLS1.2' 127.0.0.1 </dev/null \
        >"$WORK/gr.out" 2>"$WORK/gr.err"
    st=$?
    why=""
    [ "$st" -ne 0 ] && [ "$st" -ne 124 ] || why="$why; gnutls-cli status $st"
    grep -q '^- Handshake was completed' "$WORK/gr.out" || why="$why; first handshake failed"
    [ "$(grep -c 'Received alert \[100\]' "$WORK/gr.out")" -eq 1 ] ||
        why="$why; not exactly one no_renegotiation (100) alert"
    grep -q 'Non fatal error: A TLS warning alert has been received' "$WORK/gr.err" ||
        why="$why; the no_renegotiation alert was not a warning"
    grep -q 'Received alert \[10\]' "$WORK/gr.out" ||
        why="$why; the second attempt did not get unexpected_message (10)"
    wait_log 'PeerMisbehaved\(RenegotiationRepeated\) \(sent alert unexpected_message\)' 3 ||
        why="$why; server log lacks PeerMisbehaved(RenegotiationRepeated)"
    why_ok "gnutls-cli --rehandshake: first attempt refused with a warning no_renegotiation, the immediate retry ends it (unexpected_message, RenegotiationRepeated)" \
        "$why" "$WORK/gr.out" "$WORK/gr.err" "$SERVER_LOG"

    # libgnutls through ctypes: echo, one refused renegotiation, echo, close_notify.
    log_mark
    tmo python3 "$RENEG" "$SERVER_PORT" "$CA" >"$WORK/rc.out" 2>"$WORK/rc.err"
    st=$?
    why=""
    [ "$st" -eq 0 ] || why="$why; $(grep '^result=' "$WORK/rc.out" || echo "renegclient.py status $st")"
    grep -q '^description=(TLS1.2)-' "$WORK/rc.out" || why="$why; not TLS 1.2"
    sleep_short
    log_since | grep -q ' error ' && why="$why; the server logged an error for the connection"
    why_ok "renegclient.py (libgnutls): echo, renegotiation refused with warning no_renegotiation, echo still works, close_notify both ways" \
        "$why" "$WORK/rc.out" "$WORK/rc.err" "$SERVER_LOG"
    # The same, then a second renegotiation after the data: fatal.
    log_mark
    tmo python3 "$RENEG" "$SERVER_PORT" "$CA" --again >"$WORK/rc2.out" 2>"$WORK/rc2.err"
    st=$?
    why=""
    [ "$st" -eq 0 ] || why="$why; $(grep '^result=' "$WORK/rc2.out" || echo "renegclient.py status $st")"
    wait_log 'PeerMisbehaved\(RenegotiationRepeated\) \(sent alert unexpected_message\)' 3 ||
        why="$why; server log lacks PeerMisbehaved(RenegotiationRepeated)"
    why_ok "renegclient.py --again: refused, echo works, a second renegotiation later -> unexpected_message (RenegotiationRepeated)" \
        "$why" "$WORK/rc2.out" "$WORK/rc2.err" "$SERVER_LOG"
    check_alive "server still running after the renegotiation attempts"
    stop_server
fi

# ==== downgrade sentinel ==================================================================
if srv echo; then
    if start_mitm "$SERVER_PORT"; then
        log_mark
        tmo openssl s_client -brief -connect "127.0.0.1:$MITM_PORT" -servername localhost \
            -CAfile "$CA" </dev/null >"$WORK/dg.out" 2>"$WORK/dg.err"
        st=$?
        why=""
        [ "$st" -ne 0 ] && [ "$st" -ne 124 ] || why="$why; s_client status $st"
        grep -q 'inappropriate fallback' "$WORK/dg.err" ||
            why="$why; s_client did not report 'inappropriate fallback'"
        grep -q 'ClientHello rewritten: removed extension 43' "$MITM_LOG" ||
            why="$why; the MITM did not strip supported_versions"
        wait_log 'AlertReceived \(peer alert illegal_parameter\)' 3 ||
            why="$why; server log lacks the client's illegal_parameter alert"
        why_ok "MITM strips supported_versions from openssl's 1.3 hello: the 1.2 ServerHello carries DOWNGRD01, s_client aborts (inappropriate fallback, illegal_parameter)" \
            "$why" "$WORK/dg.err" "$MITM_LOG" "$SERVER_LOG"
        stop_mitm
    fi
    stop_server
fi
if srv --protover 1.2 echo; then
    raw tls12-hello 'tls12_server_hello sentinel=none' \
        "TLS 1.2 ClientHello to a --protover 1.2 server (no 1.3, no sentinel)"
    raw hello 'protocol_version' "TLS 1.3-only ClientHello to a --protover 1.2 server"
    if start_mitm "$SERVER_PORT"; then
        # No sentinel, so s_client accepts the 1.2 ServerHello and goes on; the
        # tampering then shows in the Finished exchange (the extended master secret
        # and the Finished MACs cover the ClientHello the client really sent), so
        # this handshake cannot complete: the server refuses the client's Finished.
        log_mark
        tmo openssl s_client -brief -msg -connect "127.0.0.1:$MITM_PORT" -servername localhost \
            -CAfile "$CA" </dev/null >"$WORK/dg2.out" 2>"$WORK/dg2.err"
        st=$?
        got=$(alert_from_openssl "$WORK/dg2.err")
        why=""
        [ "$st" -ne 124 ] || why="$why; s_client timed out"
        grep -q 'inappropriate fallback' "$WORK/dg2.err" && why="$why; s_client saw a sentinel"
        grep -q 'ClientHello rewritten: removed extension 43' "$MITM_LOG" ||
            why="$why; the MITM did not strip supported_versions"
        grep -Eq '^>>> .*Handshake.*Finished' "$WORK/dg2.out" ||
            why="$why; s_client did not get as far as sending its Finished"
        [ "$got" = bad_record_mac ] || why="$why; alert $got (want bad_record_mac)"
        wait_log 'DecryptError \(sent alert bad_record_mac\)' 3 ||
            why="$why; server log lacks DecryptError"
        why_ok "MITM to a --protover 1.2 server: no sentinel, s_client proceeds to its Finished; the tampered transcript is caught there (bad_record_mac)" \
            "$why" "$WORK/dg2.err" "$MITM_LOG" "$SERVER_LOG"
        # Control: a 1.2-only client has no supported_versions to strip; the MITM
        # relays its bytes unchanged and the handshake completes.
        make_payload "$WORK/m.in" 40
        SAVED_PORT=$SERVER_PORT
        SERVER_PORT=$MITM_PORT
        openssl_echo "$WORK/m.out" "$WORK/m.err" "$WORK/m.in" -tls1_2 -servername localhost \
            -CAfile "$CA" -verify_return_error
        st=$?
        SERVER_PORT=$SAVED_PORT
        why=""
        [ "$st" -eq 0 ] || why="$why; s_client status $st"
        cmp -s "$WORK/m.in" "$WORK/m.out" || why="$why; echo differs"
        grep -q '^Protocol version: TLSv1.2$' "$WORK/m.err" || why="$why; not TLSv1.2"
        grep -q 'extension(s) 43 not found' "$MITM_LOG" || why="$why; MITM log"
        why_ok "MITM control: openssl -tls1_2 (nothing to strip) through it completes with TLSv1.2" \
            "$why" "$WORK/m.err" "$MITM_LOG" "$SERVER_LOG"
        stop_mitm
    fi
    stop_server
fi

# ==== ALPN and SNI over 1.2 ===============================================================
if srv --proto http/1.1 http; then
    log_mark
    tmo curl -sS -v --tlsv1.2 --tls-max 1.2 --http1.1 --cacert "$CA" \
        --resolve "localhost:$SERVER_PORT:127.0.0.1" -o "$WORK/body" \
        -w '%{http_code} %{http_version}\n' "https://localhost:$SERVER_PORT/" \
        >"$WORK/cw" 2>"$WORK/cerr"
    st=$?
    why=""
    [ "$st" -eq 0 ] || why="$why; curl status $st"
    [ "$(cat "$WORK/cw")" = "200 1.1" ] || why="$why; '$(cat "$WORK/cw")'"
    grep -q 'Hello from moat tlsserver' "$WORK/body" 2>/dev/null || why="$why; body"
    grep -q 'SSL connection using TLSv1.2 / ECDHE-ECDSA-' "$WORK/cerr" || why="$why; not TLSv1.2"
    grep -q 'ALPN: server accepted http/1.1' "$WORK/cerr" || why="$why; ALPN"
    wait_log 'handshake done version=TLSv1\.2 .* sni=localhost alpn=http/1\.1 ' 3 ||
        why="$why; server log lacks sni=localhost alpn=http/1.1"
    why_ok "curl --tlsv1.2 --tls-max 1.2 --http1.1: ALPN http/1.1, SNI localhost, HTTP 200" \
        "$why" "$WORK/cerr" "$SERVER_LOG"
    refused "openssl -tls1_2 -alpn h2 (no overlap)" no_application_protocol \
        'NoApplicationProtocol \(sent alert no_application_protocol\)' -tls1_2 -alpn h2
    log_mark
    NO_SNI=1 sc12 "$WORK/ns.out" "$WORK/ns.err" -tls1_2
    if wait_log 'handshake done version=TLSv1\.2 .* sni=- ' 3; then
        ok "openssl -tls1_2 -noservername: served, server logs sni=-"
    else
        not_ok "openssl -tls1_2 -noservername: served, server logs sni=-" "$WORK/ns.err" "$SERVER_LOG"
    fi
    stop_server
fi

# ==== --max-frag-size 512 =================================================================
# Records from the server: plaintext handshake records <= 512 bytes, protected ones
# <= 512 + 8 (explicit nonce, AES-GCM) + 16 (tag).
if srv --max-frag-size 512 echo; then
    for cipher in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-CHACHA20-POLY1305; do
        make_payload "$WORK/mf.in" 10240
        rm -f "$WORK/mf.msg"
        feed_client "$WORK/mf.in" "$WORK/mf.out" "$WORK/mf.err" openssl s_client -brief \
            -nocommands -connect "127.0.0.1:$SERVER_PORT" -servername localhost -CAfile "$CA" \
            -verify_return_error -tls1_2 -cipher "$cipher" -msg -msgfile "$WORK/mf.msg"
        st=$?
        # "<<< TLS 1.2, RecordHeader [length 0005]" then "    17 03 03 02 18".
        awk '/^<<< .*RecordHeader/ { getline; print $1, $4 $5 }' "$WORK/mf.msg" |
            while read -r t h; do echo "$t $(printf '%d' "0x$h")"; done >"$WORK/mf.recs"
        max_hs=$(awk '$1 == 16 && $2 > m { m = $2 } END { print m + 0 }' "$WORK/mf.recs")
        max_ad=$(awk '$1 == 17 && $2 > m { m = $2 } END { print m + 0 }' "$WORK/mf.recs")
        n_ad=$(awk '$1 == 17 { n++ } END { print n + 0 }' "$WORK/mf.recs")
        why=""
        [ "$st" -eq 0 ] || why="$why; s_client status $st"
        cmp -s "$WORK/mf.in" "$WORK/mf.out" ||
            why="$why; echo differs (sent $(file_size "$WORK/mf.in"), got $(file_size "$WORK/mf.out"))"
        [ "$max_hs" -gt 0 ] && [ "$max_hs" -le 512 ] || why="$why; largest handshake record $max_hs"
        [ "$max_ad" -gt 0 ] && [ "$max_ad" -le 536 ] || why="$why; largest application data record $max_ad"
        [ "$n_ad" -ge 20 ] || why="$why; only $n_ad application data records for 10 KB"
        why_ok "--max-frag-size 512, TLS 1.2 $cipher: 10 KB echoed whole in $n_ad records (largest $max_ad bytes; handshake records <= $max_hs)" \
            "$why" "$WORK/mf.err" "$SERVER_LOG"
    done
    check_alive "--max-frag-size server still running"
    stop_server
fi

finish
