#!/bin/sh
# tlsclient's failures: each must print its one specific line on stderr and exit
# non-zero, and where the protocol calls for an alert the server must have received the
# right one.
#  - Certificates (served by openssl s_server -cert LEAF -cert_chain REST, TLS 1.3 and
#    TLS 1.2): wrong name, unknown issuer (another key type's CA, or the system bundle),
#    missing intermediate, expired and not-yet-valid leaf, self-signed leaf, CA
#    certificate as the leaf, and the rest of tests/certs/bad/README.md's table (purpose,
#    intermediates, pathLen, name constraints, weak signatures), whose valid entries
#    must connect.
#  - A forged ServerHello (tests/interop/fakeserver.py): a cipher suite, version or key
#    share group the client never offered, and a TLS 1.2 answer carrying the RFC 8446
#    downgrade sentinel to a client that offered TLS 1.3; a close_notify instead of a
#    ServerHello is a refusal, not a clean end.
#  - Alerts from the server (tlsserver): no common suite, version or ALPN protocol.
#  - Truncation: TCP FIN without close_notify after data.
#  - Connection and usage errors; --insecure connects despite a bad certificate, with a
#    warning.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/tlsclient_lib.sh

BAD=$CERTS/bad
P256=$CERTS/ecdsa-p256

# Alert numbers as "openssl s_server" reports them ("SSL alert number 48").
alert_number() {
    case $1 in
    bad_certificate) echo 42 ;;
    unsupported_certificate) echo 43 ;;
    certificate_expired) echo 45 ;;
    illegal_parameter) echo 47 ;;
    unknown_ca) echo 48 ;;
    decrypt_error) echo 51 ;;
    protocol_version) echo 70 ;;
    esac
}

# one_line_is ERR WANT: stderr is exactly the line WANT (nothing else is printed
# without --verbose).
one_line_is() {
    [ "$(wc -l <"$1" | tr -d ' ')" = 1 ] && [ "$(cat "$1")" = "$2" ]
}

# split_chain FULLCHAIN: $WORK/leaf.pem (first certificate) and $WORK/rest.pem (the
# others, possibly none).
split_chain() {
    awk -v leaf="$WORK/leaf.pem" -v rest="$WORK/rest.pem" '
        BEGIN { n = 0; printf "" > leaf; printf "" > rest }
        /-----BEGIN CERTIFICATE-----/ { n++ }
        { if (n <= 1) print > leaf; else print > rest }' "$1"
}

# start_openssl_files LEAF KEY [S_SERVER-ARGS...]: s_server -rev for one connection.
start_openssl_files() {
    _sf_c=$1 _sf_k=$2
    shift 2
    start_peer "openssl s_server" 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
        openssl s_server -accept 127.0.0.1:0 -naccept 1 -rev -cert "$_sf_c" -key "$_sf_k" "$@"
}

# serve_chain FULLCHAIN KEY: start_openssl_files with the first certificate as the leaf
# and the others (if any) as -cert_chain; $SSERVER_EXTRA adds s_server arguments.
SSERVER_EXTRA=""
serve_chain() {
    split_chain "$1"
    # shellcheck disable=SC2086 # SSERVER_EXTRA is a word list on purpose
    if [ -s "$WORK/rest.pem" ]; then
        start_openssl_files "$WORK/leaf.pem" "$2" -cert_chain "$WORK/rest.pem" $SSERVER_EXTRA
    else
        start_openssl_files "$WORK/leaf.pem" "$2" $SSERVER_EXTRA
    fi
}

# wait_exit: until the current peer has exited by itself (3 s at most): s_server
# -naccept 1 and fakeserver.py exit after their one connection, having logged it.
wait_exit() {
    _we_t=30
    while [ "$_we_t" -gt 0 ] && pid_alive "$PEER_PID"; do
        sleep_short
        _we_t=$((_we_t - 1))
    done
}

# cert_case DESC WANT_ERROR WANT_ALERT CHAIN KEY HOSTNAME [CLIENT-ARGS...]: s_server
# presents CHAIN (its first certificate as the leaf); the client must fail with exactly
# "TLS error: WANT_ERROR" on stderr and the server must have received WANT_ALERT. Once
# with TLS 1.3 and once with --protover 1.2.
cert_case() {
    _cc_d=$1 _cc_want=$2 _cc_alert=$3 _cc_chain=$4 _cc_key=$5 _cc_host=$6
    shift 6
    for _cc_v in 1.3 1.2; do
        serve_chain "$_cc_chain" "$_cc_key" || continue
        tc "$WORK/out" "$WORK/err" null -p "$PEER_PORT" --connect 127.0.0.1 --protover "$_cc_v" \
            "$@" "$_cc_host"
        _cc_st=$?
        wait_exit
        stop_peer
        _cc_num=$(sed -n 's/.*SSL alert number \([0-9][0-9]*\).*/\1/p' "$PEER_LOG" | head -n 1)
        _cc_why=""
        [ "$_cc_st" -ne 0 ] && [ "$_cc_st" -ne 124 ] || _cc_why="exit status $_cc_st"
        one_line_is "$WORK/err" "TLS error: $_cc_want" ||
            _cc_why="$_cc_why; stderr is not just 'TLS error: $_cc_want'"
        [ "${_cc_num:-none}" = "$(alert_number "$_cc_alert")" ] ||
            _cc_why="$_cc_why; server got alert ${_cc_num:-none}, not $_cc_alert"
        if [ -z "$_cc_why" ]; then
            ok "$_cc_d (TLS $_cc_v) -> $_cc_want, alert $_cc_alert"
        else
            not_ok "$_cc_d (TLS $_cc_v) -> $_cc_want, alert $_cc_alert" "${_cc_why#; }" \
                "$WORK/err" "$PEER_LOG"
        fi
    done
}

# fake_case DESC MODE WANT_ERROR [CLIENT-ARGS...]: fakeserver.py MODE; the client must
# fail with WANT_ERROR and send illegal_parameter (RFC 8446 4.1.3, 4.2.1, 4.2.8).
fake_case() {
    _fc_d=$1 _fc_m=$2 _fc_want=$3
    shift 3
    start_fake "$_fc_m" || return
    tc "$WORK/out" "$WORK/err" null -p "$PEER_PORT" --connect 127.0.0.1 --cafile "$P256/ca.cert" \
        "$@" localhost
    _fc_st=$?
    wait_exit
    stop_peer
    _fc_why=""
    [ "$_fc_st" -ne 0 ] && [ "$_fc_st" -ne 124 ] || _fc_why="exit status $_fc_st"
    one_line_is "$WORK/err" "TLS error: $_fc_want" ||
        _fc_why="$_fc_why; stderr is not just 'TLS error: $_fc_want'"
    grep -qx 'client alert fatal illegal_parameter' "$PEER_LOG" ||
        _fc_why="$_fc_why; fakeserver did not get a fatal illegal_parameter"
    if [ -z "$_fc_why" ]; then
        ok "$_fc_d -> $_fc_want, alert illegal_parameter"
    else
        not_ok "$_fc_d -> $_fc_want, alert illegal_parameter" "${_fc_why#; }" "$WORK/err" \
            "$PEER_LOG"
    fi
}

# expect_fail DESC WANT_STATUS WANT_STDERR_ERE [CLIENT-ARGS...]: stdin /dev/null.
expect_fail() {
    _ef_d=$1 _ef_st=$2 _ef_ere=$3
    shift 3
    tc "$WORK/out" "$WORK/err" null "$@"
    _ef_got=$?
    if [ "$_ef_got" = "$_ef_st" ] && grep -Eq -- "$_ef_ere" "$WORK/err"; then
        ok "$_ef_d -> status $_ef_st, $(head -n 1 "$WORK/err")"
    else
        not_ok "$_ef_d -> status $_ef_st, /$_ef_ere/" "status $_ef_got" "$WORK/err"
    fi
}

need openssl python3 timeout || finish
need_tlsclient || finish

# ---- certificates -------------------------------------------------------------------------
cert_case "wrong name (HOSTNAME wrong.example, good certificate)" \
    "InvalidCertificate(NotValidForName)" bad_certificate "$P256/end.fullchain" \
    "$P256/end.key" wrong.example --cafile "$P256/ca.cert"
cert_case "certificate for another name (bad/wrongname)" "InvalidCertificate(NotValidForName)" \
    bad_certificate "$BAD/wrongname.fullchain" "$BAD/wrongname.key" localhost \
    --cafile "$P256/ca.cert"
cert_case "unknown issuer (--cafile of rsa2048's CA)" "InvalidCertificate(UnknownIssuer)" \
    unknown_ca "$P256/end.fullchain" "$P256/end.key" localhost --cafile "$CERTS/rsa2048/ca.cert"
cert_case "unknown issuer (--cafile of ecdsa-p384's CA)" "InvalidCertificate(UnknownIssuer)" \
    unknown_ca "$P256/end.fullchain" "$P256/end.key" localhost --cafile "$CERTS/ecdsa-p384/ca.cert"
cert_case "unknown issuer (system bundle, no --cafile)" "InvalidCertificate(UnknownIssuer)" \
    unknown_ca "$P256/end.fullchain" "$P256/end.key" localhost
cert_case "missing intermediate (server sends end.cert only)" \
    "InvalidCertificate(UnknownIssuer)" unknown_ca "$P256/end.cert" "$P256/end.key" \
    localhost --cafile "$P256/ca.cert"
cert_case "missing intermediate (bad/nointer: end + root)" "InvalidCertificate(UnknownIssuer)" \
    unknown_ca "$BAD/nointer.fullchain" "$P256/end.key" localhost --cafile "$P256/ca.cert"
cert_case "expired leaf (bad/expired)" "InvalidCertificate(Expired)" certificate_expired \
    "$BAD/expired.fullchain" "$BAD/expired.key" localhost --cafile "$P256/ca.cert"
cert_case "not-yet-valid leaf (bad/notyet)" "InvalidCertificate(NotValidYet)" \
    certificate_expired "$BAD/notyet.fullchain" "$BAD/notyet.key" localhost --cafile "$P256/ca.cert"
cert_case "self-signed leaf (bad/selfsigned)" "InvalidCertificate(UnknownIssuer)" unknown_ca \
    "$BAD/selfsigned.fullchain" "$BAD/selfsigned.key" localhost --cafile "$P256/ca.cert"
cert_case "CA certificate as the leaf (bad/ca_as_leaf)" "InvalidCertificate(CaUsedAsEndEntity)" \
    bad_certificate "$BAD/ca_as_leaf.fullchain" "$BAD/ca_as_leaf.key" localhost \
    --cafile "$P256/ca.cert"
cert_case "leaf for clientAuth only (bad/clientauth)" "InvalidCertificate(InvalidPurpose)" \
    unsupported_certificate "$BAD/clientauth.fullchain" "$BAD/clientauth.key" \
    localhost --cafile "$P256/ca.cert"
cert_case "expired intermediate (bad/expired_inter)" "InvalidCertificate(Expired)" \
    certificate_expired "$BAD/expired_inter.fullchain" "$BAD/expired_inter.key" \
    localhost --cafile "$P256/ca.cert"
cert_case "intermediate with CA:FALSE (bad/notca_inter)" \
    "InvalidCertificate(EndEntityUsedAsCa)" bad_certificate "$BAD/notca_inter.fullchain" \
    "$BAD/notca_inter.key" localhost --cafile "$P256/ca.cert"
cert_case "path longer than pathlen:0 allows (bad/pathlen)" \
    "InvalidCertificate(PathLenConstraintViolated)" bad_certificate "$BAD/pathlen.fullchain" \
    "$BAD/pathlen.key" localhost --cafile "$P256/ca.cert"

# The rest of tests/certs/bad/README.md's table, end to end. OpenSSL refuses to serve
# the weak ones at its default security level.
SSERVER_EXTRA="-cipher DEFAULT:@SECLEVEL=0"
cert_case "leaf signed with ecdsa-with-SHA1 (bad/sha1)" \
    "InvalidCertificate(UnsupportedSignatureAlgorithm)" bad_certificate "$BAD/sha1.fullchain" \
    "$BAD/sha1.key" localhost --cafile "$P256/ca.cert"
SSERVER_EXTRA=""
cert_case "unknown critical extension (bad/critical_ext)" "InvalidCertificate(BadEncoding)" \
    bad_certificate "$BAD/critical_ext.fullchain" "$BAD/critical_ext.key" localhost \
    --cafile "$P256/ca.cert"
cert_case "intermediate without keyCertSign (bad/nocertsign_inter)" \
    "InvalidCertificate(InvalidPurpose)" unsupported_certificate \
    "$BAD/nocertsign_inter.fullchain" "$BAD/nocertsign_inter.key" localhost \
    --cafile "$P256/ca.cert"
for nc in nc_outside nc_excluded nc_wildcard nc_ip; do
    cert_case "name constraints violated (bad/$nc)" "InvalidCertificate(NotValidForName)" \
        bad_certificate "$BAD/$nc.fullchain" "$BAD/$nc.key" www.allowed.test \
        --cafile "$P256/ca.cert"
done
cert_case "RSASSA-PSS with a 20-byte salt (bad/pss_salt20)" \
    "InvalidCertificate(UnsupportedSignatureAlgorithm)" bad_certificate \
    "$BAD/pss_salt20.fullchain" "$BAD/pss_salt20.key" localhost \
    --cafile "$CERTS/rsa2048/ca.cert"
SSERVER_EXTRA="-cipher DEFAULT:@SECLEVEL=0"
cert_case "RSA-1024 intermediate (bad/rsa1024_inter)" \
    "InvalidCertificate(UnsupportedSignatureAlgorithm)" bad_certificate \
    "$BAD/rsa1024_inter.fullchain" "$BAD/rsa1024_inter.key" localhost \
    --cafile "$CERTS/rsa2048/ca.cert"
SSERVER_EXTRA=""

# cert_ok DESC CHAIN KEY HOSTNAME CAFILE: the unusual-but-valid ones connect (TLS 1.3).
cert_ok() {
    serve_chain "$2" "$3" || return
    printf 'olleh\n' >"$WORK/in"
    tc "$WORK/out" "$WORK/err" "$WORK/in" -p "$PEER_PORT" --connect 127.0.0.1 --cafile "$5" "$4"
    _ok_st=$?
    stop_peer
    if [ "$_ok_st" = 0 ] && [ "$(cat "$WORK/out")" = hello ] && [ ! -s "$WORK/err" ]; then
        ok "accepted: $1"
    else
        not_ok "accepted: $1" "status $_ok_st" "$WORK/err" "$PEER_LOG"
    fi
}
cert_ok "name constraints respected (bad/nc_ok, www.allowed.test)" "$BAD/nc_ok.fullchain" \
    "$BAD/nc_ok.key" www.allowed.test "$P256/ca.cert"
cert_ok "name constraints respected (bad/nc_ok, IP 127.0.0.1)" "$BAD/nc_ok.fullchain" \
    "$BAD/nc_ok.key" 127.0.0.1 "$P256/ca.cert"
cert_ok "RSASSA-PSS, salt = hash length (bad/pss)" "$BAD/pss.fullchain" "$BAD/pss.key" \
    localhost "$CERTS/rsa2048/ca.cert"
cert_ok "ECDSA P-384 with SHA-256 (bad/p384_sha256)" "$BAD/p384_sha256.fullchain" \
    "$BAD/p384_sha256.key" localhost "$CERTS/ecdsa-p384/ca.cert"
cert_ok "ECDSA P-256 with SHA-512 (bad/p256_sha512)" "$BAD/p256_sha512.fullchain" \
    "$BAD/p256_sha512.key" localhost "$P256/ca.cert"
cert_ok "a wildcard SAN (*.wild.test) covers a.wild.test" "$P256/end.fullchain" \
    "$P256/end.key" a.wild.test "$P256/ca.cert"

# ---- forged ServerHellos ---------------------------------------------------------------------
fake_case "ServerHello picks TLS_AES_128_CCM_SHA256 (never offered)" unoffered-suite \
    "PeerMisbehaved(SelectedUnofferedParameter)"
fake_case "TLS 1.2 ServerHello picks TLS_RSA_WITH_AES_128_GCM_SHA256 (never offered)" \
    unoffered-suite12 "PeerMisbehaved(SelectedUnofferedParameter)" --protover 1.2
fake_case "TLS 1.2 ServerHello with the downgrade sentinel to a 1.3 client" downgrade \
    "PeerMisbehaved(AttemptedDowngradeToTls12WhenTls13IsSupported)"
fake_case "ServerHello selects version 0x0305 (never offered)" unoffered-version \
    "PeerMisbehaved(SelectedUnofferedParameter)"
fake_case "ServerHello key share for secp521r1 (never offered)" unoffered-group \
    "PeerMisbehaved(SelectedUnofferedParameter)"
if start_fake close-notify; then
    tc "$WORK/out" "$WORK/err" null -p "$PEER_PORT" --connect 127.0.0.1 \
        --cafile "$P256/ca.cert" localhost
    _cn_st=$?
    wait_exit
    stop_peer
    if [ "$_cn_st" = 1 ] && one_line_is "$WORK/err" "TLS error: AlertReceived(close_notify)"; then
        ok "close_notify instead of a ServerHello -> AlertReceived(close_notify), status 1"
    else
        not_ok "close_notify instead of a ServerHello -> AlertReceived(close_notify), status 1" \
            "status $_cn_st" "$WORK/err" "$PEER_LOG"
    fi
fi

# ---- alerts from the server ---------------------------------------------------------------
if start_server --certs "$P256/end.fullchain" --key "$P256/end.key" --protover 1.3 \
    --suite TLS13_AES_256_GCM_SHA384 --proto h2 --verbose echo; then
    COMMON="-p $SERVER_PORT --connect 127.0.0.1 --cafile $P256/ca.cert"
    # shellcheck disable=SC2086 # COMMON is a word list on purpose
    expect_fail "no common cipher suite" 1 '^TLS error: AlertReceived\(handshake_failure\)$' \
        $COMMON --suite TLS13_AES_128_GCM_SHA256 localhost
    # shellcheck disable=SC2086
    expect_fail "no common version (client 1.2 only, server 1.3 only)" 1 \
        '^TLS error: AlertReceived\(protocol_version\)$' $COMMON --protover 1.2 localhost
    # shellcheck disable=SC2086
    expect_fail "no common ALPN protocol" 1 \
        '^TLS error: AlertReceived\(no_application_protocol\)$' $COMMON --proto foo localhost
    stop_server
fi

# ---- truncation ------------------------------------------------------------------------------
printf 'hello\n' >"$WORK/hello"
if start_fake truncate "$P256/end.fullchain" "$P256/end.key"; then
    tc "$WORK/out" "$WORK/err" "$WORK/hello" -p "$PEER_PORT" --connect 127.0.0.1 \
        --cafile "$P256/ca.cert" localhost
    _tr_st=$?
    stop_peer
    printf 'hello\ntruncated\n' >"$WORK/want"
    _tr_d="TCP FIN without close_notify -> data printed, 'TLS error: unexpected EOF', status 1"
    if [ "$_tr_st" = 1 ] && one_line_is "$WORK/err" "TLS error: unexpected EOF" &&
        cmp -s "$WORK/want" "$WORK/out"; then
        ok "$_tr_d"
    else
        not_ok "$_tr_d" "status $_tr_st" "$WORK/err" "$WORK/out" "$PEER_LOG"
    fi
fi

# ---- --insecure --------------------------------------------------------------------------------
# insecure_case DESC CHAIN KEY HOSTNAME: connects and echoes despite the certificate.
insecure_case() {
    serve_chain "$2" "$3" || return
    printf 'olleh\n' >"$WORK/in"
    tc "$WORK/out" "$WORK/err" "$WORK/in" -p "$PEER_PORT" --connect 127.0.0.1 --insecure "$4"
    _ic_st=$?
    stop_peer
    if [ "$_ic_st" = 0 ] && [ "$(cat "$WORK/out")" = hello ] &&
        grep -q 'WARNING.*--insecure' "$WORK/err" && ! grep -q '^TLS error' "$WORK/err"; then
        ok "--insecure: $1 -> connects, echo works, warning printed"
    else
        not_ok "--insecure: $1 -> connects, echo works, warning printed" "status $_ic_st" \
            "$WORK/err" "$WORK/out" "$PEER_LOG"
    fi
}
insecure_case "wrong name" "$P256/end.fullchain" "$P256/end.key" wrong.example
insecure_case "expired, untrusted issuer" "$BAD/expired.fullchain" "$BAD/expired.key" localhost
insecure_case "self-signed" "$BAD/selfsigned.fullchain" "$BAD/selfsigned.key" localhost

# ---- connection and usage errors ----------------------------------------------------------------
CLOSED=$(free_port)
expect_fail "connection refused" 1 '^connection error: connection refused$' -p "$CLOSED" \
    --connect 127.0.0.1 --cafile "$P256/ca.cert" localhost
expect_fail "unresolvable --connect name" 1 '^connection error: ' -p 443 \
    --connect no-such-host.invalid --cafile "$P256/ca.cert" localhost
expect_fail "--cafile that does not exist" 1 'tlsclient: .*' --cafile "$WORK/nonexistent.pem" \
    localhost
printf 'not a certificate\n' >"$WORK/garbage.pem"
expect_fail "--cafile without certificates" 1 'tlsclient: .*' --cafile "$WORK/garbage.pem" \
    localhost
expect_fail "no HOSTNAME" 2 'HOSTNAME is missing'
expect_fail "two HOSTNAMEs" 2 'give one HOSTNAME' a.example b.example
expect_fail "unknown --suite" 2 "unknown cipher suite 'BOGUS'" --suite BOGUS localhost
expect_fail "unknown --group" 2 "unknown key exchange group 'X448'" --group X448 localhost
expect_fail "--protover 1.1" 2 "unknown protocol version" --protover 1.1 localhost
expect_fail "-p 0" 2 '--port wants' -p 0 localhost
expect_fail "--max-frag-size 0" 2 '--max-frag-size wants' --max-frag-size 0 localhost
expect_fail "--max-frag-size 10 (the engine wants 64..16384)" 2 'tlsclient: ' \
    --max-frag-size 10 --cafile "$P256/ca.cert" localhost
expect_fail "unknown option" 2 'Try .tlsclient --help' --bogus localhost
if tc "$WORK/out" "$WORK/err" null --help && grep -q '^Usage:' "$WORK/out"; then
    ok "--help: usage, status 0"
else
    not_ok "--help: usage, status 0" "$WORK/out"
fi
if tc "$WORK/out" "$WORK/err" null --version && grep -q '^tlsclient (moat) ' "$WORK/out"; then
    ok "--version, status 0"
else
    not_ok "--version, status 0" "$WORK/out"
fi
finish
