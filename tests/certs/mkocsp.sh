#!/bin/sh
# Regenerates tests/certs/ocsp/: OCSP stapling test data for tests/certs/ecdsa-p256's
# end entity (issued by its intermediate), made with `openssl ocsp` as the responder.
#
#   responder.cert/.key        delegated responder: signed by ecdsa-p256/inter,
#                              extendedKeyUsage id-kp-OCSPSigning
#   responder-noeku.cert/.key  signed by the intermediate, EKU serverAuth only
#   rogue.cert/.key            self-signed, same subject as responder.cert, OCSPSigning
#   aia.cert/.key/.fullchain   an end entity (CN=aia.test) with AuthorityInfoAccess
#                              OCSP http://127.0.0.1:8889/ (for the request builder)
#   end-req.der                `openssl ocsp -reqout` for ecdsa-p256/end.cert (SHA-1, no nonce)
#   aia-req.der                the same for aia.cert
#   good.der                   good, signed by responder.cert, nextUpdate +36500 days
#   good-issuer.der            good, signed by the intermediate itself
#   good-sha256.der            good, CertID hashed with SHA-256
#   good-bykey.der             good, ResponderID byKey
#   aia-good.der               good, for aia.cert
#   revoked.der                revoked
#   unknown.der                unknown (the responder's index does not list it)
#   expired.der                good, but nextUpdate = thisUpdate + 1 minute
#   nonext.der                 good, without nextUpdate
#   wrongcert.der              good, for ecdsa-p256/other.cert instead
#   noeku.der                  good, signed by responder-noeku.cert
#   rogue.der                  good, signed by rogue.cert
#   sct.list                   a TLS-encoded SignedCertificateTimestampList (RFC 6962
#                              §3.3) of two made-up SCTs (structure only: no log signed it)
# thisUpdate is when the script ran (openssl ocsp cannot set it), so tests pass `now`
# explicitly: 2040-01-01 is inside every long-lived response (and the responder
# certificates) and after expired.der's.
# Responder certificates are valid 2020-01-01 .. 2045-12-31 (like mkcerts.sh's).
#
# Usage: sh tests/certs/mkocsp.sh   (needs the openssl command-line tool, 1.1.1 or 3.x)
set -eu

cd "$(dirname "$0")"
OPENSSL=${OPENSSL:-openssl}
src=ecdsa-p256
d=ocsp
rm -rf "$d"
mkdir -p "$d"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

cat >"$tmp/req.cnf" <<'EOC'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
EOC
cat >"$tmp/ca.cnf" <<EOC
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
EOC
cat >"$tmp/ext.cnf" <<'EOC'
[ v3_responder ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_noeku ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_rogue ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
[ v3_aia ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:aia.test
authorityInfoAccess = OCSP;URI:http://127.0.0.1:8889/, caIssuers;URI:http://127.0.0.1:8889/ca.cert
EOC

# sign NAME SUBJECT SECTION [self]: $d/NAME.cert for a new P-256 key $d/NAME.key, signed
# by $src/inter (or by itself).
sign() {
    "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$d/$1.key"
    "$OPENSSL" req -new -config "$tmp/req.cnf" -key "$d/$1.key" -subj "$2" -sha256 \
        -out "$tmp/$1.csr"
    : >"$tmp/index.txt"
    echo 01 >"$tmp/serial"
    if [ "${4:-}" = self ]; then
        set -- "$1" "$2" "$3" -selfsign -keyfile "$d/$1.key"
    else
        set -- "$1" "$2" "$3" -cert "$src/inter.cert" -keyfile "$src/inter.key"
    fi
    name=$1 section=$3
    shift 3
    "$OPENSSL" ca -batch -config "$tmp/ca.cnf" "$@" -in "$tmp/$name.csr" -out "$d/$name.cert" \
        -notext -preserveDN -rand_serial -md sha256 -startdate 20200101000000Z \
        -enddate 20451231235959Z -extfile "$tmp/ext.cnf" -extensions "$section" \
        2>"$tmp/ca.log" || { cat "$tmp/ca.log" >&2; exit 1; }
}

sign responder "/O=moat tests/CN=moat test OCSP responder" v3_responder
sign responder-noeku "/O=moat tests/CN=moat test OCSP responder without EKU" v3_noeku
sign rogue "/O=moat tests/CN=moat test OCSP responder" v3_rogue self
sign aia "/O=moat tests/CN=aia.test" v3_aia
cat "$d/aia.cert" "$src/inter.cert" "$src/ca.cert" >"$d/aia.fullchain"

# index LINE...: an `openssl ca` database for the responder.
serial_of() { "$OPENSSL" x509 -in "$1" -noout -serial | sed 's/^serial=//'; }
subject_of() { "$OPENSSL" x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//'; }
good_line() { printf 'V\t451231235959Z\t\t%s\tunknown\t%s\n' "$(serial_of "$1")" "$(subject_of "$1")"; }
revoked_line() {
    printf 'R\t451231235959Z\t250101000000Z\t%s\tunknown\t%s\n' "$(serial_of "$1")" \
        "$(subject_of "$1")"
}
{ good_line "$src/end.cert"; good_line "$src/other.cert"; good_line "$d/aia.cert"; } >"$tmp/good.idx"
revoked_line "$src/end.cert" >"$tmp/revoked.idx"
good_line "$src/other.cert" >"$tmp/unknown.idx"

req() { # CERT OUT [digest option]
    # shellcheck disable=SC2086 # $3 is empty or one option
    "$OPENSSL" ocsp -issuer "$src/inter.cert" ${3:-} -cert "$1" -no_nonce -reqout "$2" >/dev/null
}
respond() { # REQ INDEX SIGNER_CERT SIGNER_KEY OUT [options]
    r=$1 idx=$2 rc=$3 rk=$4 out=$5
    shift 5
    "$OPENSSL" ocsp -index "$idx" -CA "$src/inter.cert" -rsigner "$rc" -rkey "$rk" -rmd sha256 \
        -reqin "$r" -respout "$out" "$@" >/dev/null 2>"$tmp/ocsp.log" ||
        { cat "$tmp/ocsp.log" >&2; exit 1; }
}

req "$src/end.cert" "$d/end-req.der"
req "$d/aia.cert" "$d/aia-req.der"
req "$src/end.cert" "$tmp/end-req256.der" -sha256
req "$src/other.cert" "$tmp/other-req.der"
R="$d/responder.cert" K="$d/responder.key"
respond "$d/end-req.der" "$tmp/good.idx" "$R" "$K" "$d/good.der" -ndays 36500
respond "$d/end-req.der" "$tmp/good.idx" "$src/inter.cert" "$src/inter.key" \
    "$d/good-issuer.der" -ndays 36500
respond "$tmp/end-req256.der" "$tmp/good.idx" "$R" "$K" "$d/good-sha256.der" -ndays 36500
respond "$d/end-req.der" "$tmp/good.idx" "$R" "$K" "$d/good-bykey.der" -ndays 36500 -resp_key_id
respond "$d/aia-req.der" "$tmp/good.idx" "$R" "$K" "$d/aia-good.der" -ndays 36500
respond "$d/end-req.der" "$tmp/revoked.idx" "$R" "$K" "$d/revoked.der" -ndays 36500
respond "$d/end-req.der" "$tmp/unknown.idx" "$R" "$K" "$d/unknown.der" -ndays 36500
respond "$d/end-req.der" "$tmp/good.idx" "$R" "$K" "$d/expired.der" -nmin 1
respond "$d/end-req.der" "$tmp/good.idx" "$R" "$K" "$d/nonext.der"
respond "$tmp/other-req.der" "$tmp/good.idx" "$R" "$K" "$d/wrongcert.der" -ndays 36500
respond "$d/end-req.der" "$tmp/good.idx" "$d/responder-noeku.cert" "$d/responder-noeku.key" \
    "$d/noeku.der" -ndays 36500
respond "$d/end-req.der" "$tmp/good.idx" "$d/rogue.cert" "$d/rogue.key" "$d/rogue.der" \
    -ndays 36500

# Two made-up SCTs (v1, a log id, a timestamp, no extensions, a fake signature): only
# their framing matters to the tests.
python3 - "$d/sct.list" <<'EOP'
import struct, sys
def sct(n):
    body = bytes([0]) + bytes([n]) * 32 + struct.pack(">Q", 1700000000000 + n) + b"\0\0"
    body += bytes([4, 3]) + struct.pack(">H", 8) + bytes([0x30, 6, 2, 1, n, 2, 1, n])
    return struct.pack(">H", len(body)) + body
scts = sct(1) + sct(2)
open(sys.argv[1], "wb").write(struct.pack(">H", len(scts)) + scts)
EOP

# Sanity: openssl agrees with what each response should say.
"$OPENSSL" ocsp -respin "$d/good.der" -issuer "$src/inter.cert" -cert "$src/end.cert" \
    -CAfile "$src/ca.cert" -verify_other "$src/inter.cert" 2>&1 | grep -q ': good' ||
    { echo "mkocsp.sh: good.der does not verify" >&2; exit 1; }
"$OPENSSL" ocsp -respin "$d/revoked.der" -issuer "$src/inter.cert" -cert "$src/end.cert" \
    -CAfile "$src/ca.cert" -verify_other "$src/inter.cert" 2>&1 | grep -q ': revoked' ||
    { echo "mkocsp.sh: revoked.der is not revoked" >&2; exit 1; }
chmod 0644 "$d"/*
echo "mkocsp.sh: wrote $d/"
