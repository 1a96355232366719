#!/bin/sh
# Regenerates tests/certs/client-auth/: a PKI for client authentication (mTLS) tests.
# The server side uses the existing directories (e.g. ecdsa-p256/end.fullchain); this
# script never touches them.
#
#   ca.cert ca.key           client root CA "moat test client CA" (P-256, pathlen:1)
#   inter.cert inter.key     intermediate CA (pathlen:0), signed by the root
#   client.cert client.key   CN=client.test, EKU clientAuth, signed by inter
#   client.fullchain         client.cert + inter.cert (what a client sends)
#   client-rsa.*             the same for an RSA 2048 key (CN=rsa.client.test)
#   expired.*                CN=expired.client.test, valid 2020-01-01 .. 2021-01-01
#   serveronly.*             CN=serveronly.client.test, EKU serverAuth only
#   revoked.*                CN=revoked.client.test, listed in inter.crl.*
#   inter.crl.pem inter.crl.der  the intermediate's CRL revoking revoked.cert
#   ca.crl.pem               the root's CRL revoking nothing
#   other-ca.cert other-ca.key   an unrelated root "moat test other CA"
#   other.cert other.key other.fullchain  CN=other.client.test, signed by other-ca
# Every *.fullchain is the certificate and its intermediate (none for other.*).
# Validity is 2020-01-01 .. 2045-12-31 except expired.*; keys are P-256 except
# client-rsa.*; signatures are SHA-256; serials are random.
#
# Usage: sh tests/certs/mkclientauth.sh   (needs only the openssl command-line tool)
set -eu

cd "$(dirname "$0")"
OPENSSL=${OPENSSL:-openssl}
d=client-auth
mkdir -p "$d"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/req.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
EOF

# One database per issuer, so that "openssl ca -revoke" and "-gencrl" work.
mkca() {
    mkdir -p "$tmp/$1"
    : >"$tmp/$1/index.txt"
    echo 1000 >"$tmp/$1/crlnumber"
    cat >"$tmp/$1/ca.cnf" <<EOF
[ ca ]
default_ca = ca_default
[ ca_default ]
database = $tmp/$1/index.txt
new_certs_dir = $tmp/$1
serial = $tmp/$1/serial
crlnumber = $tmp/$1/crlnumber
policy = policy_any
unique_subject = no
copy_extensions = none
default_md = sha256
default_crl_days = 9000
[ policy_any ]
commonName = supplied
EOF
}

cat >"$tmp/ext.cnf" <<'EOF'
[ v3_root ]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_server_only ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

genkey() {
    if [ "$1" = rsa ]; then
        "$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" 2>/dev/null
    else
        "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -pkeyopt ec_param_enc:named_curve -out "$2"
    fi
}

# sign CADB NAME ISSUER SUBJECT SECTION [START END]
sign() {
    db=$1 name=$2 issuer=$3 subj=$4 section=$5 start=${6:-20200101000000Z} end=${7:-20451231235959Z}
    "$OPENSSL" req -new -config "$tmp/req.cnf" -key "$d/$name.key" -subj "$subj" -sha256 \
        -out "$tmp/$name.csr"
    if [ "$issuer" = "$name" ]; then
        set -- -selfsign
    else
        set -- -cert "$d/$issuer.cert"
    fi
    "$OPENSSL" ca -batch -config "$tmp/$db/ca.cnf" "$@" -keyfile "$d/$issuer.key" \
        -in "$tmp/$name.csr" -out "$d/$name.cert" -notext -preserveDN -rand_serial \
        -md sha256 -startdate "$start" -enddate "$end" \
        -extfile "$tmp/ext.cnf" -extensions "$section" 2>"$tmp/ca.log" ||
        { cat "$tmp/ca.log" >&2; exit 1; }
}

mkca root
mkca inter
mkca other
for k in ca inter client expired serveronly revoked other-ca other; do genkey ec "$d/$k.key"; done
genkey rsa "$d/client-rsa.key"

sign root ca ca "/CN=moat test client CA" v3_root
sign root inter ca "/CN=moat test client intermediate" v3_inter
sign inter client inter "/CN=client.test" v3_client
sign inter client-rsa inter "/CN=rsa.client.test" v3_client
sign inter expired inter "/CN=expired.client.test" v3_client 20200101000000Z 20210101000000Z
sign inter serveronly inter "/CN=serveronly.client.test" v3_server_only
sign inter revoked inter "/CN=revoked.client.test" v3_client
sign other other-ca other-ca "/CN=moat test other CA" v3_root
sign other other other-ca "/CN=other.client.test" v3_client

"$OPENSSL" ca -batch -config "$tmp/inter/ca.cnf" -cert "$d/inter.cert" -keyfile "$d/inter.key" \
    -revoke "$d/revoked.cert" 2>"$tmp/ca.log" || { cat "$tmp/ca.log" >&2; exit 1; }
"$OPENSSL" ca -batch -config "$tmp/inter/ca.cnf" -cert "$d/inter.cert" -keyfile "$d/inter.key" \
    -gencrl -out "$d/inter.crl.pem" 2>"$tmp/ca.log" || { cat "$tmp/ca.log" >&2; exit 1; }
"$OPENSSL" crl -in "$d/inter.crl.pem" -outform DER -out "$d/inter.crl.der"
"$OPENSSL" ca -batch -config "$tmp/root/ca.cnf" -cert "$d/ca.cert" -keyfile "$d/ca.key" \
    -gencrl -out "$d/ca.crl.pem" 2>"$tmp/ca.log" || { cat "$tmp/ca.log" >&2; exit 1; }

for n in client client-rsa expired serveronly revoked; do
    cat "$d/$n.cert" "$d/inter.cert" >"$d/$n.fullchain"
done
cp "$d/other.cert" "$d/other.fullchain"

"$OPENSSL" verify -CAfile "$d/ca.cert" -untrusted "$d/inter.cert" -purpose sslclient \
    "$d/client.cert" "$d/client-rsa.cert"
cat "$d/ca.cert" "$d/ca.crl.pem" "$d/inter.crl.pem" >"$tmp/crlstore.pem"
if "$OPENSSL" verify -crl_check_all -CAfile "$tmp/crlstore.pem" -untrusted "$d/inter.cert" \
    "$d/revoked.cert" >/dev/null 2>&1; then
    echo "mkclientauth.sh: revoked.cert is not revoked" >&2
    exit 1
fi
