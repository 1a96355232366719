#!/bin/sh
# Regenerates tests/certs/clientauth-client/: the certificates the engine's *client*
# presents in client-auth tests (tests/tls/test_client_auth_client.c,
# tests/interop/tlsclient_auth.sh, tests/interop/moat_backend_client_cert.sh). The
# server-side PKI (intermediates, CRLs, expired and wrong-purpose certificates) is
# tests/certs/client-auth/, made by mkclientauth.sh.
#
#   ca.cert ca.key            root "moat test client CA" (P-256, pathlen:0)
#   ecdsa.* rsa.* ed25519.*   CN=client-{ecdsa,rsa,ed25519}.test, EKU clientAuth,
#                             P-256 / RSA 2048 / Ed25519 keys, signed by the root
#   *.fullchain               the certificate, then the root
# Validity 2020-01-01 .. 2045-12-31; SHA-256 signatures; random serials.
#
# Usage: sh tests/certs/mkclientauth-client.sh   (needs only the openssl tool)
set -eu

cd "$(dirname "$0")"
OPENSSL=${OPENSSL:-openssl}
d=clientauth-client
mkdir -p "$d"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/ca.ext" <<'EOF'
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
cat >"$tmp/client.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# x509 -not_before/-not_after need OpenSSL 3.4; ca -startdate/-enddate work in 3.0.
sign() { # NAME SUBJECT-CN EXTFILE [ISSUER]
    "$OPENSSL" req -new -key "$d/$1.key" -subj "/O=moat tests/CN=$2" -out "$tmp/$1.csr"
    mkdir -p "$tmp/db"
    : >"$tmp/db/index"
    "$OPENSSL" rand -hex 16 >"$tmp/db/serial"
    cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = c
[c]
database = $tmp/db/index
serial = $tmp/db/serial
new_certs_dir = $tmp/db
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[p]
organizationName = supplied
commonName = supplied
EOF
    if [ $# -ge 4 ]; then
        "$OPENSSL" ca -batch -config "$tmp/ca.cnf" -cert "$d/$4.cert" -keyfile "$d/$4.key" \
            -startdate 20200101000000Z -enddate 20451231235959Z -extfile "$3" \
            -in "$tmp/$1.csr" -out "$d/$1.cert" -notext 2>/dev/null
    else
        "$OPENSSL" ca -batch -selfsign -config "$tmp/ca.cnf" -keyfile "$d/$1.key" \
            -startdate 20200101000000Z -enddate 20451231235959Z -extfile "$3" \
            -in "$tmp/$1.csr" -out "$d/$1.cert" -notext 2>/dev/null
    fi
}

"$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/ca.key"
sign ca "moat test client CA" "$tmp/ca.ext"

"$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/ecdsa.key"
"$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/rsa.key"
"$OPENSSL" genpkey -algorithm ED25519 -out "$d/ed25519.key"
for k in ecdsa rsa ed25519; do
    sign "$k" "client-$k.test" "$tmp/client.ext" ca
    cat "$d/$k.cert" "$d/ca.cert" >"$d/$k.fullchain"
    "$OPENSSL" verify -purpose sslclient -CAfile "$d/ca.cert" "$d/$k.cert" >/dev/null
done
echo "wrote $d/"
