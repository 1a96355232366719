#!/bin/sh
# Regenerates the test PKI under tests/certs/ (laid out like rustls's test-ca).
#
# For each key type (rsa2048, ecdsa-p256, ecdsa-p384, ed25519) it makes a directory with
#   ca.cert ca.key         root CA (self-signed, CA:TRUE pathlen:1)
#   inter.cert inter.key   intermediate CA (CA:TRUE pathlen:0), signed by the root
#   end.cert end.key       end entity "testserver.com", signed by the intermediate,
#                          SAN DNS:localhost, DNS:testserver.com, DNS:*.wild.test,
#                          IP:127.0.0.1
#   end.chain              inter.cert + ca.cert
#   end.fullchain          end.cert + inter.cert + ca.cert
#   other.cert other.key other.fullchain
#                          a second end entity (CN=other.test), SAN DNS:other.test only
#   end.rsa.pkcs1.key      end.key as PKCS#1 ("BEGIN RSA PRIVATE KEY"), rsa2048 only
#   end.sec1.key           end.key as SEC1 ("BEGIN EC PRIVATE KEY"), ecdsa-* only
#   end.der.key            end.key as PKCS#8 DER, ed25519 only
# All keys of a directory are of its type; every other *.key is PKCS#8 PEM
# ("BEGIN PRIVATE KEY"; RFC 8410 for Ed25519). Certificates are valid from 2020-01-01
# to 2045-12-31 (fixed dates: a skewed clock never sees them "not yet valid");
# signatures use SHA-256 (SHA-384 for the P-384 chain; Ed25519 is PureEdDSA and takes
# no digest, RFC 8410 §3); serial numbers are random.
#
# Usage: sh tests/certs/mkcerts.sh [KEYTYPE...]   (from anywhere; rewrites the
# directories next to this script: all four, or only those named). Needs only the
# openssl command-line tool (1.1.1 or 3.x).
set -eu

cd "$(dirname "$0")"
OPENSSL=${OPENSSL:-openssl}
START=20200101000000Z
END=20451231235959Z

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# genkey TYPE OUT: a new private key of TYPE in PKCS#8 PEM.
genkey() {
    case $1 in
    rsa2048)
        "$OPENSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" 2>/dev/null ;;
    ecdsa-p256)
        "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -pkeyopt ec_param_enc:named_curve -out "$2" ;;
    ecdsa-p384)
        "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
            -pkeyopt ec_param_enc:named_curve -out "$2" ;;
    ed25519)
        "$OPENSSL" genpkey -algorithm ED25519 -out "$2" ;;
    *)
        echo "mkcerts.sh: unknown key type $1" >&2
        exit 1 ;;
    esac
}

# A minimal request config, so that the system openssl.cnf adds nothing.
cat >"$tmp/req.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
EOF

# A minimal "openssl ca" setup; its database lives in $tmp and is thrown away.
cat >"$tmp/ca.cnf" <<EOF
[ ca ]
default_ca = ca_default
[ ca_default ]
database = $tmp/index.txt
new_certs_dir = $tmp
serial = $tmp/serial
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
organizationName = optional
commonName = supplied
EOF

# write_ext KEYTYPE FILE: the extension sections for the four certificates.
write_ext() {
    if [ "$1" = rsa2048 ]; then
        ku="critical, digitalSignature, keyEncipherment"
    else
        ku="critical, digitalSignature"
    fi
    cat >"$2" <<EOF
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

[ v3_end ]
basicConstraints = critical, CA:FALSE
keyUsage = $ku
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost, DNS:testserver.com, DNS:*.wild.test, IP:127.0.0.1

[ v3_other ]
basicConstraints = critical, CA:FALSE
keyUsage = $ku
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:other.test
EOF
}

# sign DIR NAME ISSUER SUBJECT SECTION DIGEST: makes DIR/NAME.cert for DIR/NAME.key,
# signed with DIR/ISSUER.key (ISSUER = NAME: self-signed). DIGEST "none": the key
# type hashes nothing itself (Ed25519), so no digest is named.
sign() {
    d=$1 name=$2 issuer=$3 subj=$4 section=$5 md=$6
    if [ "$md" = none ]; then
        reqmd= camd=
    else
        reqmd=-$md camd="-md $md"
    fi
    # shellcheck disable=SC2086 # $reqmd and $camd are empty or one option
    "$OPENSSL" req -new -config "$tmp/req.cnf" -key "$d/$name.key" -subj "$subj" \
        $reqmd -out "$tmp/$name.csr"
    : >"$tmp/index.txt"
    echo 01 >"$tmp/serial"
    if [ "$issuer" = "$name" ]; then
        set -- -selfsign
    else
        set -- -cert "$d/$issuer.cert"
    fi
    "$OPENSSL" ca -batch -config "$tmp/ca.cnf" "$@" -keyfile "$d/$issuer.key" \
        -in "$tmp/$name.csr" -out "$d/$name.cert" -notext -preserveDN -rand_serial \
        $camd -startdate "$START" -enddate "$END" \
        -extfile "$tmp/ext.cnf" -extensions "$section" 2>"$tmp/ca.log" ||
        { cat "$tmp/ca.log" >&2; exit 1; }
}

[ $# -gt 0 ] || set -- rsa2048 ecdsa-p256 ecdsa-p384 ed25519
for kt in "$@"; do
    case $kt in
    ecdsa-p384) md=sha384 ;;
    ed25519) md=none ;;
    rsa2048 | ecdsa-p256) md=sha256 ;;
    *)
        echo "mkcerts.sh: unknown key type $kt" >&2
        exit 1 ;;
    esac
    d=$kt
    rm -rf "$d"
    mkdir -p "$d"
    write_ext "$kt" "$tmp/ext.cnf"
    for k in ca inter end other; do
        genkey "$kt" "$d/$k.key"
    done

    sign "$d" ca ca "/O=moat tests/CN=moat test root CA ($kt)" v3_root "$md"
    sign "$d" inter ca "/O=moat tests/CN=moat test intermediate CA ($kt)" v3_inter "$md"
    sign "$d" end inter "/O=moat tests/CN=testserver.com" v3_end "$md"
    sign "$d" other inter "/O=moat tests/CN=other.test" v3_other "$md"

    cat "$d/inter.cert" "$d/ca.cert" >"$d/end.chain"
    cat "$d/end.cert" "$d/inter.cert" "$d/ca.cert" >"$d/end.fullchain"
    cat "$d/other.cert" "$d/inter.cert" "$d/ca.cert" >"$d/other.fullchain"

    # Alternate encodings of end.key for the key loader's tests.
    case $kt in
    rsa2048)
        "$OPENSSL" pkey -in "$d/end.key" -traditional -out "$d/end.rsa.pkcs1.key" ;;
    ecdsa-*)
        "$OPENSSL" pkey -in "$d/end.key" -traditional -out "$d/end.sec1.key" ;;
    ed25519)
        "$OPENSSL" pkey -in "$d/end.key" -outform DER -out "$d/end.der.key" ;;
    esac

    # Sanity checks: the chains verify, and the keys match the certificates.
    "$OPENSSL" verify -CAfile "$d/ca.cert" -untrusted "$d/inter.cert" \
        "$d/end.cert" "$d/other.cert" >/dev/null
    for k in ca inter end other; do
        a=$("$OPENSSL" x509 -in "$d/$k.cert" -noout -pubkey)
        b=$("$OPENSSL" pkey -in "$d/$k.key" -pubout)
        [ "$a" = "$b" ] || { echo "mkcerts.sh: $d/$k.key does not match $d/$k.cert" >&2; exit 1; }
    done
    chmod 0644 "$d"/*
    echo "mkcerts.sh: wrote $d/"
done
