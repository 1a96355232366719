#!/bin/sh
# TLS 1.3 session resumption (RFC 8446 §2.2) against "tlsserver --tickets echo":
# openssl s_client saves the session (-sess_out) and resumes it (-sess_in), with
# and without a HelloRetryRequest; gnutls-cli --resume reconnects with its ticket.
# Without --tickets no session is resumed. Each resumption is also checked in the
# server's --verbose handshake line (resumed=yes, sig=- as no certificate is used).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

KT=ecdsa-p256
CA=$CERTS/$KT/ca.cert

# wait_for_text FILE TEXT SECONDS: until FILE contains the fixed string TEXT.
wait_for_text() {
    _ticks=$(($3 * 10))
    while [ "$_ticks" -gt 0 ]; do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep_short
        _ticks=$((_ticks - 1))
    done
    return 1
}

# s_client_session OUT SESSION_ARG... : one verified TLS 1.3 connection (not -brief:
# only the full output says "New," or "Reused,") that echoes a line; stdin stays open
# until the echo is back, so the NewSessionTickets (sent before it) have arrived.
s_client_session() {
    _out=$1
    shift
    _line="resume-$(rand_hex 8)"
    : >"$_out"
    # shellcheck disable=SC2094 # waiting on the output while it is written is the point
    {
        echo "$_line"
        wait_for_text "$_out" "$_line" "$CLIENT_TIMEOUT"
    } | tmo openssl s_client -connect "127.0.0.1:$SERVER_PORT" -tls1_3 -servername localhost \
        -verify_return_error -verify_hostname localhost -CAfile "$CA" "$@" >"$_out" 2>&1
    grep -qF -- "$_line" "$_out"
}

# openssl_resume DESC WANT(yes|no) [S_CLIENT-ARGS...]: a full handshake saving the
# session, then one offering it, which must be "Reused". WANT=no: the first must get
# no ticket, and the second offers the session an earlier WANT=yes run kept.
openssl_resume() {
    _desc=$1 _want=$2
    shift 2
    rm -f "$WORK/sess"
    _why=""
    log_mark
    s_client_session "$WORK/s1.out" -sess_out "$WORK/sess" "$@" || _why="$_why; first echo failed"
    grep -q '^New, TLSv1.3' "$WORK/s1.out" || _why="$_why; first connection not 'New, TLSv1.3'"
    if [ "$_want" = yes ]; then
        [ -s "$WORK/sess" ] || _why="$_why; no session saved"
        cp "$WORK/sess" "$WORK/sess.keep" 2>/dev/null
        s_client_session "$WORK/s2.out" -sess_in "$WORK/sess" "$@" ||
            _why="$_why; second echo failed"
        grep -q '^Reused, TLSv1.3' "$WORK/s2.out" || _why="$_why; second connection not 'Reused'"
        wait_log 'handshake done .* sig=- .* resumed=yes$' ||
            _why="$_why; no 'resumed=yes' handshake line"
    else
        grep -q 'New Session Ticket arrived' "$WORK/s1.out" && _why="$_why; a ticket was sent"
        # No ticket, so no session to save: offer the one another server issued.
        s_client_session "$WORK/s2.out" -sess_in "$WORK/sess.keep" "$@" ||
            _why="$_why; second echo failed"
        grep -q '^New, TLSv1.3' "$WORK/s2.out" || _why="$_why; second connection not 'New'"
        grep -q '^Reused' "$WORK/s2.out" && _why="$_why; second connection reused"
        log_since | grep -q 'resumed=yes' && _why="$_why; server says resumed=yes"
    fi
    log_since | grep -q 'handshake done .* resumed=no$' ||
        _why="$_why; no 'resumed=no' line for the full handshake"
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/s1.out" "$WORK/s2.out" "$SERVER_LOG"
    fi
}

# gnutls_resume DESC WANT(yes|no): gnutls-cli --resume (a second connection with the
# ticket of the first), echoing a line on the second.
gnutls_resume() {
    _desc=$1 _want=$2
    make_payload "$WORK/g.in" 40
    rm -f "$WORK/g.info"
    log_mark
    feed_client "$WORK/g.in" "$WORK/g.out" "$WORK/g.err" gnutls-cli --logfile="$WORK/g.info" \
        --resume --x509cafile="$CA" --port="$SERVER_PORT" --sni-hostname=localhost \
        --verify-hostname=localhost --priority="NORMAL:-VERS-ALL:+VERS-TLS1.3" 127.0.0.1
    _st=$?
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; gnutls-cli exit status $_st"
    cmp -s "$WORK/g.in" "$WORK/g.out" || _why="$_why; echo differs"
    if [ "$_want" = yes ]; then
        grep -q 'This is a resumed session' "$WORK/g.info" "$WORK/g.err" 2>/dev/null ||
            _why="$_why; not resumed"
        wait_log 'resumed=yes$' || _why="$_why; no 'resumed=yes' handshake line"
    else
        grep -q 'This is a resumed session' "$WORK/g.info" "$WORK/g.err" 2>/dev/null &&
            _why="$_why; resumed"
    fi
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/g.err" "$WORK/g.info" "$SERVER_LOG"
    fi
}

need openssl gnutls-cli timeout || finish

if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --tickets \
    --verbose echo; then
    openssl_resume "openssl s_client -sess_out/-sess_in: Reused, TLSv1.3" yes
    openssl_resume "openssl s_client resumes with TLS_AES_128_GCM_SHA256" yes \
        -ciphersuites TLS_AES_128_GCM_SHA256
    gnutls_resume "gnutls-cli --resume: a resumed session" yes
    check_alive "server alive after resumptions"
    stop_server
fi

# The server asks for P-384 after an X25519 share: the binders cover the HRR.
if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --tickets \
    --group P-384 --verbose echo; then
    openssl_resume "openssl s_client resumes across a HelloRetryRequest" yes \
        -groups X25519:P-384
    if log_since | grep -q 'hrr=yes resumed=yes$'; then
        ok "the resumption went through an HRR"
    else
        not_ok "the resumption went through an HRR" "$SERVER_LOG"
    fi
    stop_server
fi

if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose echo; then
    openssl_resume "without --tickets openssl s_client is not resumed" no
    gnutls_resume "without --tickets gnutls-cli is not resumed" no
    stop_server
fi

finish
