#!/bin/sh
# TLS 1.3 0-RTT (RFC 8446 §2.3, §4.2.10, §8) against tlsserver --max-early-data:
# openssl s_client -early_data gets its data accepted once per ticket and echoed; a
# ticket already used for 0-RTT resumes without it; a captured 0-RTT ClientHello
# replayed byte for byte (tests/interop/replayrelay.py) is not accepted as early
# data; a server without --max-early-data refuses early data cleanly and the
# connection goes on. Both stateless tickets (--tickets, the anti-replay record)
# and stateful single-use tickets (--resumption) are covered.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

KT=ecdsa-p256
SESSION_CA=$CERTS/$KT/ca.cert
MAX_EARLY=16384

# early_attempt DESC WANT(accepted|rejected|refused) SESS: offers SESS with early data; the
# early line must come back through the echo when accepted.
early_attempt() {
    _desc=$1 _want=$2 _sess=$3
    _early="early-$(rand_hex 8)"
    echo "$_early" >"$WORK/early.txt"
    _why=""
    log_mark
    s_client_session "$WORK/e.out" -sess_in "$_sess" -early_data "$WORK/early.txt" ||
        _why="$_why; the 1-RTT echo failed"
    grep -q '^Reused, TLSv1.3' "$WORK/e.out" || _why="$_why; not resumed"
    if [ "$_want" = accepted ]; then
        grep -q 'Early data was accepted' "$WORK/e.out" || _why="$_why; s_client: not accepted"
        grep -qF -- "$_early" "$WORK/e.out" || _why="$_why; the early data was not echoed"
        wait_log "resumed=yes early_data=accepted\\($(file_size "$WORK/early.txt") bytes\\)" ||
            _why="$_why; no 'early_data=accepted(N bytes)' handshake line"
        [ "$(log_since | grep -c '0-RTT accepted')" -eq 1 ] ||
            _why="$_why; not exactly one '0-RTT accepted' line"
    else
        # "refused": the ticket allows none, so s_client does not even try.
        [ "$_want" = refused ] || grep -q 'Early data was rejected' "$WORK/e.out" ||
            _why="$_why; s_client: not rejected"
        grep -q 'Early data was accepted' "$WORK/e.out" && _why="$_why; s_client: accepted"
        grep -qF -- "$_early" "$WORK/e.out" && _why="$_why; rejected early data was echoed"
        wait_log 'resumed=yes early_data=no' || _why="$_why; no 'early_data=no' handshake line"
        log_since | grep -q '0-RTT accepted' && _why="$_why; the server says 0-RTT accepted"
    fi
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/e.out" "$SERVER_LOG"
    fi
}

# new_session SESS: a full handshake saving a session whose ticket allows 0-RTT.
new_session() {
    rm -f "$1"
    s_client_session "$WORK/n.out" -sess_out "$1" && [ -s "$1" ] &&
        grep -q "Max Early Data: $MAX_EARLY" "$WORK/n.out"
}

# replay_check DESC: (variables prefixed _r: early_attempt's are global too) records one accepted 0-RTT connection through the relay, then
# replays its bytes: the server must not accept early data a second time.
replay_check() {
    _rdesc=$1
    _rwhy=""
    new_session "$WORK/r.sess" || _rwhy="$_rwhy; no 0-RTT session saved"
    rm -f "$WORK/relay.out" "$WORK/capture"
    python3 tests/interop/replayrelay.py record "$SERVER_PORT" "$WORK/capture" \
        >"$WORK/relay.out" 2>"$WORK/relay.err" &
    _relay=$!
    _ticks=50
    while [ "$_ticks" -gt 0 ] && ! grep -q listening "$WORK/relay.out"; do
        sleep_short
        _ticks=$((_ticks - 1))
    done
    _port=$(sed -n 's/^listening on 127.0.0.1://p' "$WORK/relay.out")
    _real=$SERVER_PORT
    SERVER_PORT=$_port
    early_attempt "$_rdesc: the recorded 0-RTT connection is accepted" accepted "$WORK/r.sess"
    SERVER_PORT=$_real
    wait "$_relay"
    [ -s "$WORK/capture" ] || _rwhy="$_rwhy; nothing captured"
    log_mark
    python3 tests/interop/replayrelay.py replay "$SERVER_PORT" "$WORK/capture" \
        >"$WORK/replay.out" 2>&1 || _rwhy="$_rwhy; replay failed to run"
    sleep 1
    log_since | grep -q '0-RTT accepted' && _rwhy="$_rwhy; the replayed early data was accepted"
    log_since | grep -q 'resumed=yes' && _rwhy="$_rwhy; the replayed handshake completed"
    if [ -z "$_rwhy" ]; then
        ok "$_rdesc: the replayed ClientHello's early data is not accepted"
    else
        not_ok "$_rdesc: the replayed ClientHello's early data is not accepted" "${_rwhy#; }" \
            "$WORK/replay.out" "$SERVER_LOG"
    fi
}

need openssl python3 timeout || finish

for mode in --tickets --resumption; do
    if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" "$mode" \
        --max-early-data "$MAX_EARLY" --verbose echo; then
        if new_session "$WORK/sess"; then
            ok "$mode: the ticket allows $MAX_EARLY bytes of early data"
        else
            not_ok "$mode: the ticket allows $MAX_EARLY bytes of early data" "$WORK/n.out"
        fi
        early_attempt "$mode: openssl s_client -early_data: accepted and echoed" accepted \
            "$WORK/sess"
        if [ "$mode" = --tickets ]; then
            # A stateless ticket resumes again, but its one 0-RTT use is gone.
            early_attempt "$mode: the same ticket again: resumed, early data rejected" \
                rejected "$WORK/sess"
        fi
        replay_check "$mode"
        check_alive "$mode: server alive after 0-RTT and replays"
        stop_server
    fi
done

if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --tickets \
    --verbose echo; then
    rm -f "$WORK/sess"
    s_client_session "$WORK/n.out" -sess_out "$WORK/sess"
    if grep -q 'Max Early Data: 0' "$WORK/n.out"; then
        ok "without --max-early-data tickets allow no early data"
    else
        not_ok "without --max-early-data tickets allow no early data" "$WORK/n.out"
    fi
    early_attempt "without --max-early-data no early data is taken, the connection goes on" \
        refused "$WORK/sess"
    stop_server
fi

finish
