#!/bin/sh
# TLS 1.2 against "tlsserver ... echo": every ECDHE suite x key-exchange group x
# matching key type (ECDHE_RSA with rsa2048; ECDHE_ECDSA with ecdsa-p256 and
# ecdsa-p384), once with openssl s_client and once with gnutls-cli, each allowing
# exactly one suite, verifying the chain and host name, checking the negotiated
# version, suite, group and signature (client side and the server's --verbose line)
# and echoing a random line: 27 + 27 handshakes. One server per key type x group,
# restricted to that group with --group (the client also offers the certificate's
# curve: OpenSSL refuses an ECDSA certificate on a curve it did not list, and RFC 8422
# 5.1 has the server pick ECDHE_ECDSA only when the client lists it). Plus one ~100 KB
# echo per key type and client, server-chosen signature schemes (PSS first, PKCS#1
# when that is all the client takes, ECDSA hash by key curve), the RFC 8422 curve
# rule, and --suite with OpenSSL and IANA names.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh

# kx openssl-name gnutls-cipher IANA-name
SUITES12="ECDSA:ECDHE-ECDSA-AES128-GCM-SHA256:AES-128-GCM:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
ECDSA:ECDHE-ECDSA-AES256-GCM-SHA384:AES-256-GCM:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
ECDSA:ECDHE-ECDSA-CHACHA20-POLY1305:CHACHA20-POLY1305:TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
RSA:ECDHE-RSA-AES128-GCM-SHA256:AES-128-GCM:TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
RSA:ECDHE-RSA-AES256-GCM-SHA384:AES-256-GCM:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
RSA:ECDHE-RSA-CHACHA20-POLY1305:CHACHA20-POLY1305:TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
KX_GROUPS="X25519 P-256 P-384"

# Group names: for s_client -groups (as given), gnutls GROUP-, tlsserver --group and
# its log, and s_client -brief's "Server Temp Key".
gnutls_group() {
    case $1 in X25519) echo X25519 ;; P-256) echo SECP256R1 ;; P-384) echo SECP384R1 ;; esac
}
server_group() {
    case $1 in X25519) echo X25519 ;; P-256) echo secp256r1 ;; P-384) echo secp384r1 ;; esac
}
temp_key() {
    case $1 in X25519) echo "X25519" ;; P-256) echo "ECDH, prime256v1" ;; P-384) echo "ECDH, secp384r1" ;; esac
}

# Per key type: kx, the certificate's curve (s_client name) or -, the signature
# scheme the server must pick for clients offering everything (server log name,
# s_client "Signature type"/"Hash used", gnutls description part).
key_kx() { case $1 in rsa2048) echo RSA ;; *) echo ECDSA ;; esac; }
key_curve() { case $1 in ecdsa-p256) echo P-256 ;; ecdsa-p384) echo P-384 ;; *) echo - ;; esac; }
key_sig() {
    case $1 in
    rsa2048) echo "rsa_pss_rsae_sha256 RSA-PSS SHA256 RSA-PSS-RSAE-SHA256" ;;
    ecdsa-p256) echo "ecdsa_secp256r1_sha256 ECDSA SHA256 ECDSA-SHA256" ;;
    ecdsa-p384) echo "ecdsa_secp384r1_sha384 ECDSA SHA384 ECDSA-SHA384" ;;
    esac
}

# server_line IANA GROUP SIG: waits for the server's log line of the connection just
# made (after log_mark) and checks it; prints the reason on failure.
server_line() {
    if ! wait_log 'handshake done|error' 3; then
        echo "no server log line"
        return
    fi
    _sl=$(log_since | grep -E 'handshake done|error' | head -n 1)
    case $_sl in
    *"handshake done version=TLSv1.2 suite=$1 group=$(server_group "$2") sig=$3 "*) ;;
    *) echo "server logged: $_sl" ;;
    esac
}

# openssl_one DESC KT OSSL-SUITE IANA GROUP BYTES
openssl_one() {
    _desc=$1 _kt=$2 _os=$3 _iana=$4 _g=$5 _bytes=$6
    _curve=$(key_curve "$_kt")
    _groups=$_g
    [ "$_curve" != - ] && [ "$_curve" != "$_g" ] && _groups="$_g:$_curve"
    # shellcheck disable=SC2046 # key_sig prints four words on purpose
    set -- $(key_sig "$_kt")
    _ssig=$1 _otype=$2 _ohash=$3
    make_payload "$WORK/in" "$_bytes"
    log_mark
    openssl_echo "$WORK/out" "$WORK/err" "$WORK/in" -tls1_2 -cipher "$_os" \
        -groups "$_groups" -servername localhost -verify_hostname localhost \
        -CAfile "$CERTS/$_kt/ca.cert" -verify_return_error
    _st=$?
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; s_client exit status $_st"
    cmp -s "$WORK/in" "$WORK/out" ||
        _why="$_why; echo differs (sent $(file_size "$WORK/in") bytes, got $(file_size "$WORK/out"))"
    grep -q '^Verification: OK' "$WORK/err" || _why="$_why; no 'Verification: OK'"
    grep -q '^Protocol version: TLSv1.2$' "$WORK/err" || _why="$_why; not TLSv1.2"
    grep -q "^Ciphersuite: $_os\$" "$WORK/err" || _why="$_why; suite is not $_os"
    grep -q "^Server Temp Key: $(temp_key "$_g")," "$WORK/err" ||
        _why="$_why; Server Temp Key is not $_g"
    grep -q "^Signature type: $_otype\$" "$WORK/err" && grep -q "^Hash used: $_ohash\$" "$WORK/err" ||
        _why="$_why; signature is not $_otype with $_ohash"
    _sv=$(server_line "$_iana" "$_g" "$_ssig")
    [ -z "$_sv" ] || _why="$_why; $_sv"
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/err" "$SERVER_LOG"
    fi
}

# gnutls_one DESC KT KX CIPHER IANA GROUP BYTES
gnutls_one() {
    _desc=$1 _kt=$2 _kx=$3 _cipher=$4 _iana=$5 _g=$6 _bytes=$7
    _gg=$(gnutls_group "$_g")
    _curve=$(key_curve "$_kt")
    _prio="NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-$_kx:-CIPHER-ALL:+$_cipher:-GROUP-ALL:+GROUP-$_gg"
    [ "$_curve" != - ] && [ "$_curve" != "$_g" ] && _prio="$_prio:+GROUP-$(gnutls_group "$_curve")"
    # shellcheck disable=SC2046 # key_sig prints four words on purpose
    set -- $(key_sig "$_kt")
    _ssig=$1 _gsig=$4
    make_payload "$WORK/in" "$_bytes"
    rm -f "$WORK/info"
    log_mark
    feed_client "$WORK/in" "$WORK/out" "$WORK/err" gnutls-cli --logfile="$WORK/info" \
        --x509cafile="$CERTS/$_kt/ca.cert" --port="$SERVER_PORT" \
        --sni-hostname=localhost --verify-hostname=localhost --priority="$_prio" 127.0.0.1
    _st=$?
    _why=""
    [ "$_st" -eq 0 ] || _why="$_why; gnutls-cli exit status $_st"
    cmp -s "$WORK/in" "$WORK/out" ||
        _why="$_why; echo differs (sent $(file_size "$WORK/in") bytes, got $(file_size "$WORK/out"))"
    grep -q 'Status: The certificate is trusted' "$WORK/info" 2>/dev/null ||
        _why="$_why; certificate not trusted"
    _want="- Description: (TLS1.2-X.509)-(ECDHE-$_gg)-($_gsig)-($_cipher)"
    grep -qxF -- "$_want" "$WORK/info" 2>/dev/null ||
        _why="$_why; not '$_want' ($(grep '^- Description' "$WORK/info" 2>/dev/null))"
    grep -q '^- Options: .*extended master secret' "$WORK/info" 2>/dev/null ||
        _why="$_why; no extended master secret"
    _sv=$(server_line "$_iana" "$_g" "$_ssig")
    [ -z "$_sv" ] || _why="$_why; $_sv"
    if [ -z "$_why" ]; then
        ok "$_desc"
    else
        not_ok "$_desc" "${_why#; }" "$WORK/err" "$WORK/info" "$SERVER_LOG"
    fi
}

# refused DESC WANT_ALERT WANT_LOG_ERE [S_CLIENT-ARGS...]: a TLS 1.2 s_client handshake
# fails with WANT_ALERT and the server log names why.
refused() {
    _desc=$1 _want=$2 _ere=$3
    shift 3
    log_mark
    tmo openssl s_client -connect "127.0.0.1:$SERVER_PORT" -tls1_2 "$@" </dev/null \
        >"$WORK/rf.out" 2>"$WORK/rf.err"
    _st=$?
    _got=$(alert_from_openssl "$WORK/rf.err")
    if [ "$_st" -ne 0 ] && [ "$_got" = "$_want" ] && wait_log "$_ere" 3; then
        ok "$_desc -> $_got ($(log_since | grep -Eo "$_ere" | head -n 1))"
    else
        not_ok "$_desc -> $_want, server log /$_ere/" "s_client status $_st, alert $_got" \
            "$WORK/rf.err" "$SERVER_LOG"
    fi
}

# sig_case DESC KT SIGALGS SERVER-SIG OSSL-TYPE OSSL-HASH: the client offers only
# SIGALGS; the server must sign with SERVER-SIG.
sig_case() {
    _desc=$1 _kt=$2 _sa=$3 _ssig=$4 _otype=$5 _ohash=$6
    make_payload "$WORK/in" 40
    log_mark
    openssl_echo "$WORK/out" "$WORK/err" "$WORK/in" -tls1_2 -sigalgs "$_sa" \
        -servername localhost -CAfile "$CERTS/$_kt/ca.cert" -verify_return_error
    _st=$?
    if [ "$_st" -eq 0 ] && cmp -s "$WORK/in" "$WORK/out" &&
        grep -q "^Signature type: $_otype\$" "$WORK/err" &&
        grep -q "^Hash used: $_ohash\$" "$WORK/err" &&
        wait_log "handshake done version=TLSv1.2 .* sig=$_ssig " 3; then
        ok "$_desc: -sigalgs $_sa -> $_ssig"
    else
        not_ok "$_desc: -sigalgs $_sa -> $_ssig" "s_client status $_st" "$WORK/err" "$SERVER_LOG"
    fi
}

stop_checked() {
    check_alive "server ($1) still running"
    stop_server
    if [ "$SERVER_STATUS" = 0 ]; then
        ok "server ($1) exits with status 0 on SIGTERM"
    else
        not_ok "server ($1) exits with status 0 on SIGTERM" "status $SERVER_STATUS" "$SERVER_LOG"
    fi
}

need openssl gnutls-cli timeout || finish

# ---- the matrix ------------------------------------------------------------------------
for kt in $KEY_TYPES; do
    kx=$(key_kx "$kt")
    for group in $KX_GROUPS; do
        if ! start_server --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" \
            --group "$(server_group "$group")" --verbose echo; then
            continue
        fi
        for entry in $SUITES12; do
            IFS=: read -r skx os gc iana <<EOF
$entry
EOF
            [ "$skx" = "$kx" ] || continue
            openssl_one "openssl 1.2 $kt $os $group" "$kt" "$os" "$iana" "$group" 64
            gnutls_one "gnutls 1.2 $kt $gc $group" "$kt" "$kx" "$gc" "$iana" "$group" 64
        done
        # One ~100 KB echo per key type and client: many full records each way.
        case $kt:$group in
        rsa2048:P-256)
            openssl_one "openssl 1.2 $kt ECDHE-RSA-CHACHA20-POLY1305 $group: 100 KB echoed" \
                "$kt" ECDHE-RSA-CHACHA20-POLY1305 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 \
                "$group" 102400
            gnutls_one "gnutls 1.2 $kt AES-128-GCM $group: 100 KB echoed" "$kt" RSA AES-128-GCM \
                TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 "$group" 102400
            ;;
        ecdsa-p256:X25519)
            openssl_one "openssl 1.2 $kt ECDHE-ECDSA-AES128-GCM-SHA256 $group: 100 KB echoed" \
                "$kt" ECDHE-ECDSA-AES128-GCM-SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 \
                "$group" 102400
            gnutls_one "gnutls 1.2 $kt CHACHA20-POLY1305 $group: 100 KB echoed" "$kt" ECDSA \
                CHACHA20-POLY1305 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 "$group" 102400
            ;;
        ecdsa-p384:P-384)
            openssl_one "openssl 1.2 $kt ECDHE-ECDSA-AES256-GCM-SHA384 $group: 100 KB echoed" \
                "$kt" ECDHE-ECDSA-AES256-GCM-SHA384 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 \
                "$group" 102400
            gnutls_one "gnutls 1.2 $kt AES-256-GCM $group: 100 KB echoed" "$kt" ECDSA \
                AES-256-GCM TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 "$group" 102400
            ;;
        esac
        stop_checked "$kt, $group"
    done
done

# ---- signature schemes: PSS first, PKCS#1 when that is all the client takes ------------
if start_server --certs "$CERTS/rsa2048/end.fullchain" --key "$CERTS/rsa2048/end.key" \
    --verbose echo; then
    sig_case "rsa2048" rsa2048 RSA+SHA256 rsa_pkcs1_sha256 RSA SHA256
    sig_case "rsa2048" rsa2048 RSA+SHA384 rsa_pkcs1_sha384 RSA SHA384
    sig_case "rsa2048" rsa2048 RSA+SHA512 rsa_pkcs1_sha512 RSA SHA512
    sig_case "rsa2048" rsa2048 rsa_pss_rsae_sha384:rsa_pss_rsae_sha512 rsa_pss_rsae_sha384 RSA-PSS SHA384
    sig_case "rsa2048 (PSS preferred over PKCS#1)" rsa2048 RSA+SHA512:rsa_pss_rsae_sha512 \
        rsa_pss_rsae_sha512 RSA-PSS SHA512
    refused "rsa2048: client takes only ECDSA signatures" handshake_failure \
        'NoCipherSuitesInCommon|NoSignatureSchemesInCommon' -sigalgs ECDSA+SHA256
    refused "rsa2048: client offers only ECDHE_ECDSA suites" handshake_failure \
        'NoCipherSuitesInCommon' -cipher ECDHE-ECDSA-AES128-GCM-SHA256
    stop_checked "rsa2048 signature schemes"
fi
for kt in ecdsa-p256 ecdsa-p384; do
    if ! start_server --certs "$CERTS/$kt/end.fullchain" --key "$CERTS/$kt/end.key" --verbose echo; then
        continue
    fi
    if [ $kt = ecdsa-p256 ]; then
        sig_case "$kt" $kt ECDSA+SHA256:ECDSA+SHA384 ecdsa_secp256r1_sha256 ECDSA SHA256
        refused "$kt: client takes only ECDSA+SHA384 (the key's curve wants SHA-256)" \
            handshake_failure 'NoSignatureSchemesInCommon' -sigalgs ECDSA+SHA384
        # RFC 8422 5.1: no P-256 in the client's groups, so no ECDHE_ECDSA suite.
        refused "$kt: client groups X25519:P-384 lack the certificate's curve" \
            handshake_failure 'NoCipherSuitesInCommon' -groups X25519:P-384
    else
        sig_case "$kt" $kt ECDSA+SHA256:ECDSA+SHA384 ecdsa_secp384r1_sha384 ECDSA SHA384
        refused "$kt: client takes only ECDSA+SHA256 (the key's curve wants SHA-384)" \
            handshake_failure 'NoSignatureSchemesInCommon' -sigalgs ECDSA+SHA256
        refused "$kt: client groups X25519:P-256 lack the certificate's curve" \
            handshake_failure 'NoCipherSuitesInCommon' -groups X25519:P-256
    fi
    stop_checked "$kt signature schemes"
done

# ---- --suite takes OpenSSL and IANA names ----------------------------------------------
if start_server --certs "$CERTS/rsa2048/end.fullchain" --key "$CERTS/rsa2048/end.key" \
    --suite ECDHE-RSA-CHACHA20-POLY1305 --verbose echo; then
    make_payload "$WORK/in" 40
    log_mark
    openssl_echo "$WORK/out" "$WORK/err" "$WORK/in" -tls1_2 -CAfile "$CERTS/rsa2048/ca.cert"
    st=$?
    if [ "$st" -eq 0 ] && cmp -s "$WORK/in" "$WORK/out" &&
        grep -q '^Ciphersuite: ECDHE-RSA-CHACHA20-POLY1305$' "$WORK/err"; then
        ok "--suite ECDHE-RSA-CHACHA20-POLY1305 (OpenSSL name): a default 1.2 client gets it"
    else
        not_ok "--suite ECDHE-RSA-CHACHA20-POLY1305 (OpenSSL name): a default 1.2 client gets it" \
            "s_client status $st" "$WORK/err" "$SERVER_LOG"
    fi
    refused "--suite ECDHE-RSA-CHACHA20-POLY1305: a client with only AES-GCM" handshake_failure \
        'NoCipherSuitesInCommon' -cipher ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384
    stop_checked "--suite OpenSSL name"
fi
if start_server --certs "$CERTS/ecdsa-p256/end.fullchain" --key "$CERTS/ecdsa-p256/end.key" \
    --suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 --suite TLS_AES_128_GCM_SHA256 --verbose echo; then
    make_payload "$WORK/in" 40
    openssl_echo "$WORK/out" "$WORK/err" "$WORK/in" -tls1_2 -CAfile "$CERTS/ecdsa-p256/ca.cert"
    st=$?
    if [ "$st" -eq 0 ] && cmp -s "$WORK/in" "$WORK/out" &&
        grep -q '^Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256$' "$WORK/err"; then
        ok "--suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (IANA name): a default 1.2 client gets it"
    else
        not_ok "--suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (IANA name): a default 1.2 client gets it" \
            "s_client status $st" "$WORK/err" "$SERVER_LOG"
    fi
    openssl_handshake "--suite with a 1.2 and a 1.3 suite: TLS 1.3 still works" "$CERTS/ecdsa-p256/ca.cert" \
        -ciphersuites TLS_AES_128_GCM_SHA256
    stop_checked "--suite IANA name"
fi

finish
