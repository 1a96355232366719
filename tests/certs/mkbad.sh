#!/bin/sh
# Regenerates tests/certs/bad/: certificates that the server-certificate verifier
# (tls/verify.c) must reject, each for one reason, plus a few unusual-but-valid ones.
# See bad/README.md for the list and the error each one must give.
#
# The issuers are the test PKI made by mkcerts.sh (mostly ecdsa-p256/ca and
# ecdsa-p256/inter), so run this again whenever mkcerts.sh has run: the chains here
# embed those certificates. New leaf keys are P-256. Dates are fixed with
# `openssl ca -startdate/-enddate`.
#
# Usage: sh tests/certs/mkbad.sh   (from anywhere). Needs only the openssl CLI (3.x).
set -eu

cd "$(dirname "$0")"
OPENSSL=${OPENSSL:-openssl}
START=20200101000000Z
END=20451231235959Z
P256=ecdsa-p256
OUT=bad

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

mkdir -p "$OUT"
rm -f "$OUT"/*.cert "$OUT"/*.key "$OUT"/*.fullchain

genkey() { # genkey OUT [rsa BITS]
    if [ "${2:-}" = rsa ]; then
        "$OPENSSL" genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$3" -out "$1" 2>/dev/null
    else
        "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -pkeyopt ec_param_enc:named_curve -out "$1"
    fi
}

cat >"$tmp/req.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
EOF

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

# Extension sections; SAN lines are added per certificate through $SAN.
cat >"$tmp/ext.cnf" <<'EOF'
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN

[ leaf_clientauth ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN

[ leaf_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN

[ leaf_selfsigned ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = $ENV::SAN

[ leaf_critical_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN
1.3.6.1.4.1.55555.1 = critical, ASN1:NULL

[ inter ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ inter_notca ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ inter_nocertsign ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ inter_nc ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
nameConstraints = critical, permitted;DNS:allowed.test, permitted;IP:127.0.0.0/255.0.0.0, excluded;DNS:bad.allowed.test
EOF

# issue NAME SUBJECT SECTION SAN ISSUER_CERT ISSUER_KEY [START END [MD]]
# Makes $OUT/NAME.cert for $OUT/NAME.key (made here unless it exists), signed with
# ISSUER_KEY ("self" as ISSUER_CERT: self-signed); $SIGOPTS are extra -sigopt values.
issue() {
    name=$1 subj=$2 section=$3 san=$4 icert=$5 ikey=$6
    start=${7:-$START} end=${8:-$END} md=${9:-sha256}
    [ -f "$OUT/$name.key" ] || genkey "$OUT/$name.key"
    "$OPENSSL" req -new -config "$tmp/req.cnf" -key "$OUT/$name.key" -subj "$subj" \
        -out "$tmp/$name.csr"
    : >"$tmp/index.txt"
    echo 01 >"$tmp/serial"
    if [ "$icert" = self ]; then
        set -- -selfsign -keyfile "$OUT/$name.key"
    else
        set -- -cert "$icert" -keyfile "$ikey"
    fi
    for opt in $SIGOPTS; do
        set -- "$@" -sigopt "$opt"
    done
    SAN=${san:-DNS:unused.invalid} "$OPENSSL" ca -batch -config "$tmp/ca.cnf" "$@" \
        -in "$tmp/$name.csr" -out "$OUT/$name.cert" -notext -preserveDN -rand_serial \
        -md "$md" -startdate "$start" -enddate "$end" \
        -extfile "$tmp/ext.cnf" -extensions "$section" 2>"$tmp/ca.log" ||
        { cat "$tmp/ca.log" >&2; exit 1; }
}
SIGOPTS=

ICERT=$P256/inter.cert IKEY=$P256/inter.key
CHAIN="$P256/inter.cert $P256/ca.cert"
LOCAL=DNS:localhost
leaf_subj() { echo "/O=moat tests/CN=$1"; }

# fullchain NAME CERT...: $OUT/NAME.fullchain is the concatenation.
fullchain() {
    n=$1
    shift
    cat "$@" >"$OUT/$n.fullchain"
}

# ---- the end entity itself is wrong ----------------------------------------------------
issue expired "$(leaf_subj expired.test)" leaf "$LOCAL" "$ICERT" "$IKEY" \
    20000101000000Z 20010101000000Z
fullchain expired "$OUT/expired.cert" $CHAIN

issue notyet "$(leaf_subj notyet.test)" leaf "$LOCAL" "$ICERT" "$IKEY" \
    20900101000000Z 20991231235959Z
fullchain notyet "$OUT/notyet.cert" $CHAIN

issue selfsigned "$(leaf_subj localhost)" leaf_selfsigned "$LOCAL" self self
fullchain selfsigned "$OUT/selfsigned.cert"

issue ca_as_leaf "$(leaf_subj localhost)" leaf_ca "$LOCAL" "$ICERT" "$IKEY"
fullchain ca_as_leaf "$OUT/ca_as_leaf.cert" $CHAIN

issue wrongname "$(leaf_subj localhost)" leaf DNS:wrong.example "$ICERT" "$IKEY"
fullchain wrongname "$OUT/wrongname.cert" $CHAIN

issue clientauth "$(leaf_subj localhost)" leaf_clientauth "$LOCAL" "$ICERT" "$IKEY"
fullchain clientauth "$OUT/clientauth.cert" $CHAIN

issue sha1 "$(leaf_subj localhost)" leaf "$LOCAL" "$ICERT" "$IKEY" "$START" "$END" sha1
fullchain sha1 "$OUT/sha1.cert" $CHAIN

issue critical_ext "$(leaf_subj localhost)" leaf_critical_ext "$LOCAL" "$ICERT" "$IKEY"
fullchain critical_ext "$OUT/critical_ext.cert" $CHAIN

# ---- the chain is wrong --------------------------------------------------------------------
fullchain nointer $P256/end.cert $P256/ca.cert

# An intermediate under ecdsa-p256/inter (pathlen:0), and a leaf under it.
issue pathlen_inter "/O=moat tests/CN=moat test sub-intermediate CA" inter "" "$ICERT" "$IKEY"
issue pathlen "$(leaf_subj localhost)" leaf "$LOCAL" "$OUT/pathlen_inter.cert" \
    "$OUT/pathlen_inter.key"
fullchain pathlen "$OUT/pathlen.cert" "$OUT/pathlen_inter.cert" $CHAIN

# Intermediates directly under ecdsa-p256/ca, each wrong in one way.
RCERT=$P256/ca.cert RKEY=$P256/ca.key
issue expired_inter_ca "/O=moat tests/CN=moat test expired intermediate CA" inter "" \
    "$RCERT" "$RKEY" 20000101000000Z 20010101000000Z
issue expired_inter "$(leaf_subj localhost)" leaf "$LOCAL" "$OUT/expired_inter_ca.cert" \
    "$OUT/expired_inter_ca.key"
fullchain expired_inter "$OUT/expired_inter.cert" "$OUT/expired_inter_ca.cert" $P256/ca.cert

issue notca_inter_ca "/O=moat tests/CN=moat test not-a-CA intermediate" inter_notca "" \
    "$RCERT" "$RKEY"
issue notca_inter "$(leaf_subj localhost)" leaf "$LOCAL" "$OUT/notca_inter_ca.cert" \
    "$OUT/notca_inter_ca.key"
fullchain notca_inter "$OUT/notca_inter.cert" "$OUT/notca_inter_ca.cert" $P256/ca.cert

issue nocertsign_inter_ca "/O=moat tests/CN=moat test no-keyCertSign intermediate" \
    inter_nocertsign "" "$RCERT" "$RKEY"
issue nocertsign_inter "$(leaf_subj localhost)" leaf "$LOCAL" \
    "$OUT/nocertsign_inter_ca.cert" "$OUT/nocertsign_inter_ca.key"
fullchain nocertsign_inter "$OUT/nocertsign_inter.cert" "$OUT/nocertsign_inter_ca.cert" \
    $P256/ca.cert

# ---- name constraints (critical): permitted allowed.test and 127/8, excluded bad.allowed.test
issue nc_inter "/O=moat tests/CN=moat test name-constrained CA" inter_nc "" "$RCERT" "$RKEY"
NC="$OUT/nc_inter.cert $P256/ca.cert"
issue nc_ok "$(leaf_subj www.allowed.test)" leaf "DNS:www.allowed.test, IP:127.0.0.1" \
    "$OUT/nc_inter.cert" "$OUT/nc_inter.key"
fullchain nc_ok "$OUT/nc_ok.cert" $NC
issue nc_outside "$(leaf_subj www.allowed.test)" leaf "DNS:www.allowed.test, DNS:evil.example" \
    "$OUT/nc_inter.cert" "$OUT/nc_inter.key"
fullchain nc_outside "$OUT/nc_outside.cert" $NC
issue nc_excluded "$(leaf_subj www.allowed.test)" leaf \
    "DNS:www.allowed.test, DNS:x.bad.allowed.test" "$OUT/nc_inter.cert" "$OUT/nc_inter.key"
fullchain nc_excluded "$OUT/nc_excluded.cert" $NC
issue nc_wildcard "$(leaf_subj allowed.test)" leaf "DNS:*.allowed.test" \
    "$OUT/nc_inter.cert" "$OUT/nc_inter.key"
fullchain nc_wildcard "$OUT/nc_wildcard.cert" $NC
issue nc_ip "$(leaf_subj www.allowed.test)" leaf "DNS:www.allowed.test, IP:10.0.0.1" \
    "$OUT/nc_inter.cert" "$OUT/nc_inter.key"
fullchain nc_ip "$OUT/nc_ip.cert" $NC

# ---- signature algorithms ------------------------------------------------------------------
# RSASSA-PSS by rsa2048/inter: salt = hash length (accepted) and salt 20 (refused).
SIGOPTS="rsa_padding_mode:pss rsa_pss_saltlen:digest rsa_mgf1_md:sha256"
issue pss "$(leaf_subj localhost)" leaf "$LOCAL" rsa2048/inter.cert rsa2048/inter.key
fullchain pss "$OUT/pss.cert" rsa2048/inter.cert rsa2048/ca.cert
SIGOPTS="rsa_padding_mode:pss rsa_pss_saltlen:20 rsa_mgf1_md:sha256"
issue pss_salt20 "$(leaf_subj localhost)" leaf "$LOCAL" rsa2048/inter.cert rsa2048/inter.key
fullchain pss_salt20 "$OUT/pss_salt20.cert" rsa2048/inter.cert rsa2048/ca.cert
SIGOPTS=

# ECDSA with a hash that does not match the curve: P-384 signing with SHA-256 and
# P-256 signing with SHA-512 (both allowed).
issue p384_sha256 "$(leaf_subj localhost)" leaf "$LOCAL" ecdsa-p384/inter.cert \
    ecdsa-p384/inter.key "$START" "$END" sha256
fullchain p384_sha256 "$OUT/p384_sha256.cert" ecdsa-p384/inter.cert ecdsa-p384/ca.cert
issue p256_sha512 "$(leaf_subj localhost)" leaf "$LOCAL" "$ICERT" "$IKEY" "$START" "$END" sha512
fullchain p256_sha512 "$OUT/p256_sha512.cert" $CHAIN

# A 1024-bit RSA intermediate under rsa2048/ca: its signature on the leaf is refused.
genkey "$OUT/rsa1024_inter_ca.key" rsa 1024
issue rsa1024_inter_ca "/O=moat tests/CN=moat test RSA-1024 intermediate" inter "" \
    rsa2048/ca.cert rsa2048/ca.key
issue rsa1024_inter "$(leaf_subj localhost)" leaf "$LOCAL" "$OUT/rsa1024_inter_ca.cert" \
    "$OUT/rsa1024_inter_ca.key"
fullchain rsa1024_inter "$OUT/rsa1024_inter.cert" "$OUT/rsa1024_inter_ca.cert" rsa2048/ca.cert

# Sanity: the accepted ones verify with openssl too, the refused ones where openssl agrees.
"$OPENSSL" verify -CAfile $P256/ca.cert -untrusted $P256/inter.cert "$OUT/wrongname.cert" \
    "$OUT/clientauth.cert" >/dev/null
"$OPENSSL" verify -CAfile $P256/ca.cert -untrusted "$OUT/nc_inter.cert" "$OUT/nc_ok.cert" \
    >/dev/null
"$OPENSSL" verify -CAfile rsa2048/ca.cert -untrusted rsa2048/inter.cert "$OUT/pss.cert" >/dev/null
"$OPENSSL" verify -CAfile ecdsa-p384/ca.cert -untrusted ecdsa-p384/inter.cert \
    "$OUT/p384_sha256.cert" >/dev/null
if "$OPENSSL" verify -CAfile $P256/ca.cert -untrusted "$OUT/nc_inter.cert" \
    "$OUT/nc_outside.cert" >/dev/null 2>&1; then
    echo "mkbad.sh: openssl accepts nc_outside.cert" >&2
    exit 1
fi
# Intermediate keys are only needed to sign; the leaf keys stay for servers in tests.
rm -f "$OUT"/*_inter_ca.key "$OUT/nc_inter.key" "$OUT/pathlen_inter.key"
chmod 0644 "$OUT"/*
echo "mkbad.sh: wrote $OUT/"
