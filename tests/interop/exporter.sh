#!/bin/sh
# Keying material exporters (RFC 5705, RFC 8446 §7.5): what build/tlsserver exports
# for a connection equals what `openssl s_client -keymatexport` computes for the same
# session, for TLS 1.3 and TLS 1.2 and each key type.
set -u
. "$(dirname "$0")/lib.sh"

LABEL="EXPERIMENTAL moat exporter test"
for kt in ecdsa-p256 rsa2048; do
    for v in 1_3 1_2; do
        start_server --certs "tests/certs/$kt/end.fullchain" --key "tests/certs/$kt/end.key" \
            --verbose --keymatexport "$LABEL" --keymatexportlen 48 echo || {
            not_ok "tlsserver ($kt) started"
            continue
        }
        theirs=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$SERVER_PORT" -tls$v \
            -keymatexport "$LABEL" -keymatexportlen 48 2>/dev/null |
            sed -n 's/.*Keying material: //p')
        ours=""
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            ours=$(sed -n 's/.*exporter label=[^:]*: \([0-9A-F]*\)$/\1/p' "$SERVER_LOG" | head -n 1)
            [ -n "$ours" ] && break
            sleep 0.1
        done
        if [ -n "$theirs" ] && [ "$ours" = "$theirs" ] && [ ${#ours} -eq 96 ]; then
            ok "TLS${v} $kt: exporter output equals OpenSSL's ($ours)"
        else
            not_ok "TLS${v} $kt: exporter output equals OpenSSL's" "ours='$ours' openssl='$theirs'"
        fi
        stop_server
    done
done
finish
