#!/bin/sh
# Session resumption against tlsserver: openssl s_client saves the session
# (-sess_out) and resumes it (-sess_in); gnutls-cli --resume reconnects with it.
# TLS 1.3 (RFC 8446 §2.2) with stateless tickets (--tickets), with and without a
# HelloRetryRequest, and with stateful single-use tickets (--resumption); TLS 1.2
# with RFC 5077 tickets (--tickets) and session IDs (--resumption). Without either
# flag no session is resumed. Each resumption is also checked in the server's
# --verbose handshake line (resumed=yes, sig=- as no certificate is used).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

KT=ecdsa-p256
CA=$CERTS/$KT/ca.cert
SESSION_CA=$CA
TLSV=1.3 # the protocol version s_client_session speaks

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
    grep -q "^New, TLSv$TLSV" "$WORK/s1.out" || _why="$_why; first connection not 'New, TLSv$TLSV'"
    if [ "$_want" = yes ]; then
        [ -s "$WORK/sess" ] || _why="$_why; no session saved"
        cp "$WORK/sess" "$WORK/sess.keep" 2>/dev/null
        s_client_session "$WORK/s2.out" -sess_in "$WORK/sess" "$@" ||
            _why="$_why; second echo failed"
        grep -q "^Reused, TLSv$TLSV" "$WORK/s2.out" || _why="$_why; second connection not 'Reused'"
        wait_log 'handshake done .* sig=- .* resumed=yes early_data=' ||
            _why="$_why; no 'resumed=yes' handshake line"
    else
        grep -q 'New Session Ticket arrived' "$WORK/s1.out" && _why="$_why; a ticket was sent"
        # No ticket, so no session to save: offer the one another server issued.
        s_client_session "$WORK/s2.out" -sess_in "$WORK/sess.keep" "$@" ||
            _why="$_why; second echo failed"
        grep -q "^New, TLSv$TLSV" "$WORK/s2.out" || _why="$_why; second connection not 'New'"
        grep -q '^Reused' "$WORK/s2.out" && _why="$_why; second connection reused"
        log_since | grep -q 'resumed=yes' && _why="$_why; server says resumed=yes"
    fi
    log_since | grep -q 'handshake done .* resumed=no early_data=' ||
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
        --verify-hostname=localhost --priority="NORMAL:-VERS-ALL:+VERS-TLS$TLSV${GNUTLS_EXTRA:-}" \
        127.0.0.1
    _st=$?
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; gnutls-cli exit status $_st"
    cmp -s "$WORK/g.in" "$WORK/g.out" || _why="$_why; echo differs"
    if [ "$_want" = yes ]; then
        grep -q 'This is a resumed session' "$WORK/g.info" "$WORK/g.err" 2>/dev/null ||
            _why="$_why; not resumed"
        wait_log 'resumed=yes early_data=' || _why="$_why; no 'resumed=yes' handshake line"
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
    if log_since | grep -q 'hrr=yes resumed=yes early_data='; then
        ok "the resumption went through an HRR"
    else
        not_ok "the resumption went through an HRR" "$SERVER_LOG"
    fi
    stop_server
fi

# openssl_reuse_twice DESC WANT_SECOND(yes|no): a session saved, offered twice.
# Stateful TLS 1.3 tickets are single-use: the second offer of the same ticket
# must be a full handshake.
openssl_reuse_twice() {
    _desc=$1 _want=$2
    rm -f "$WORK/sess"
    _why=""
    s_client_session "$WORK/t1.out" -sess_out "$WORK/sess" || _why="$_why; first echo failed"
    s_client_session "$WORK/t2.out" -sess_in "$WORK/sess" || _why="$_why; second echo failed"
    grep -q "^Reused, TLSv$TLSV" "$WORK/t2.out" || _why="$_why; first offer not 'Reused'"
    s_client_session "$WORK/t3.out" -sess_in "$WORK/sess" || _why="$_why; third echo failed"
    if [ "$_want" = yes ]; then
        grep -q "^Reused, TLSv$TLSV" "$WORK/t3.out" || _why="$_why; second offer not 'Reused'"
    else
        grep -q "^New, TLSv$TLSV" "$WORK/t3.out" || _why="$_why; second offer not 'New'"
    fi
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/t2.out" "$WORK/t3.out" "$SERVER_LOG"
    fi
}

if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose echo; then
    openssl_resume "without --tickets openssl s_client is not resumed" no
    gnutls_resume "without --tickets gnutls-cli is not resumed" no
    stop_server
fi

# TLS 1.3 stateful tickets: a server-side session cache, each ticket used once.
if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --resumption \
    --verbose echo; then
    openssl_resume "--resumption: openssl s_client resumes a stateful TLS 1.3 ticket" yes
    gnutls_resume "--resumption: gnutls-cli --resume resumes a stateful TLS 1.3 ticket" yes
    openssl_reuse_twice "--resumption: a stateful TLS 1.3 ticket is good once" no
    stop_server
fi

TLSV=1.2
# RFC 5077 tickets.
if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --tickets \
    --verbose echo; then
    openssl_resume "--tickets: openssl s_client resumes a TLS 1.2 session from its ticket" yes
    openssl_resume "--tickets: TLS 1.2 ticket resumption with ECDHE-ECDSA-CHACHA20-POLY1305" \
        yes -cipher ECDHE-ECDSA-CHACHA20-POLY1305
    openssl_reuse_twice "--tickets: a TLS 1.2 ticket resumes again (it is reissued)" yes
    gnutls_resume "--tickets: gnutls-cli --resume resumes a TLS 1.2 session ticket" yes
    openssl_resume "--tickets only: a TLS 1.2 client without tickets is not resumed" no -no_ticket
    check_alive "server alive after TLS 1.2 resumptions"
    stop_server
fi

# Session IDs.
if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --resumption \
    --verbose echo; then
    openssl_resume "--resumption: openssl s_client -no_ticket resumes a TLS 1.2 session ID" yes \
        -no_ticket
    openssl_resume "--resumption: a client asking for a ticket gets a session ID instead" yes
    openssl_reuse_twice "--resumption: a TLS 1.2 session ID resumes more than once" yes
    GNUTLS_EXTRA=:%NO_TICKETS gnutls_resume \
        "--resumption: gnutls-cli --resume resumes a TLS 1.2 session ID" yes
    stop_server
fi

if start_server --certs "$CERTS/$KT/end.fullchain" --key "$CERTS/$KT/end.key" --verbose echo; then
    openssl_resume "without --tickets or --resumption TLS 1.2 is not resumed" no
    stop_server
fi

finish
