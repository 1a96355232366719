#!/bin/sh
# moat: OCSP stapling (issue 10), with `openssl ocsp` as the responder on 127.0.0.1 and
# `openssl s_client -status` as the client.
#
# Test certificates are made here, in $WORK, since the responder's port (named in each
# certificate's authorityInfoAccess) is probed at run time: a CA, a responder certificate
# it signed (id-kp-OCSPSigning), and end entities a.test and b.test whose responder is
# the running one, c.test whose responder is down. The responder answers with -nmin 1,
# so every response is valid one minute and moat refreshes it after 30 s.
#
# One moat, two listeners: the first has a.test, b.test and c.test with "ocsp: fetch";
# the second has a.test with "ocsp: FILE" (a response fetched here at start).
#   - a.test and b.test get good staples in TLS 1.3 and TLS 1.2; c.test is served
#     without one, and moat logs why its fetch failed;
#   - SIGHUP keeps the fetched staples (logged), so they are served right after;
#   - b.test is then revoked (the responder restarts with the new index): its refresh is
#     refused (the engine staples only "good"), and once its last good response reaches
#     nextUpdate moat stops stapling it; a.test's staple is refreshed meanwhile (a later
#     thisUpdate is served);
#   - the file staple is dropped at its nextUpdate, and the same file is then refused
#     by moat -t as expired.
# The whole script takes about 75 s (one response lifetime and some margin).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need openssl timeout python3 || finish
need_binaries || finish

set -- $(free_ports 4)
PORT=$1 PORT_FILE=$2 RPORT=$3 DEAD=$4
P=$WORK/pki
mkdir -p "$P"

# ---- certificates ---------------------------------------------------------------------

genkey() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}
# issue NAME SUBJECT EXTENSIONS: NAME.cert signed by the CA, with the given v3 extensions.
issue() {
    genkey "$P/$1.key" &&
        openssl req -new -key "$P/$1.key" -subj "$2" -out "$P/$1.csr" 2>/dev/null &&
        printf '%s\n' "$3" >"$P/$1.ext" &&
        openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.cert" -CAkey "$P/ca.key" \
            -CAcreateserial -days 30 -extfile "$P/$1.ext" -out "$P/$1.cert" 2>/dev/null &&
        cat "$P/$1.cert" "$P/ca.cert" >"$P/$1.fullchain"
}
aia() {
    printf 'subjectAltName = DNS:%s\nextendedKeyUsage = serverAuth\nauthorityInfoAccess = OCSP;URI:http://127.0.0.1:%s/\n' "$1" "$2"
}
if genkey "$P/ca.key" &&
    openssl req -x509 -new -key "$P/ca.key" -subj "/O=moat tests/CN=moat OCSP test CA" \
        -days 30 -out "$P/ca.cert" 2>/dev/null &&
    issue responder "/O=moat tests/CN=moat OCSP responder" \
        "extendedKeyUsage = OCSPSigning" &&
    issue a "/CN=a.test" "$(aia a.test "$RPORT")" &&
    issue b "/CN=b.test" "$(aia b.test "$RPORT")" &&
    issue c "/CN=c.test" "$(aia c.test "$DEAD")"; then
    ok "test PKI made (responder on port $RPORT, port $DEAD has none)"
else
    not_ok "test PKI made"
    finish
fi

# index_line V|R NAME: the responder's index entry for NAME.cert (valid or revoked).
index_line() {
    _serial=$(openssl x509 -in "$P/$2.cert" -noout -serial | sed 's/^serial=//')
    if [ "$1" = R ]; then
        printf 'R\t491231235959Z\t%s\t%s\tunknown\t/CN=%s.test\n' "$(date -u +%y%m%d%H%M%SZ)" \
            "$_serial" "$2"
    else
        printf 'V\t491231235959Z\t\t%s\tunknown\t/CN=%s.test\n' "$_serial" "$2"
    fi
}

RESPONDER_PID=""
RESPONDER_SEQ=0
# start_responder: openssl ocsp on RPORT with $P/index.txt; waits until it answers.
start_responder() {
    RESPONDER_SEQ=$((RESPONDER_SEQ + 1))
    printf 'unique_subject = no\n' >"$P/index.txt.attr"
    openssl ocsp -index "$P/index.txt" -port "$RPORT" -rsigner "$P/responder.cert" \
        -rkey "$P/responder.key" -CA "$P/ca.cert" -nmin 1 -ignore_err \
        >"$WORK/responder$RESPONDER_SEQ.log" 2>&1 </dev/null &
    RESPONDER_PID=$!
    track_pid "$RESPONDER_PID"
    _ticks=50
    while [ "$_ticks" -gt 0 ]; do
        if tmo openssl ocsp -issuer "$P/ca.cert" -cert "$P/a.cert" \
            -url "http://127.0.0.1:$RPORT/" -noverify -respout "$WORK/probe.der" \
            >/dev/null 2>&1; then
            return 0
        fi
        sleep_short
        _ticks=$((_ticks - 1))
    done
    not_ok "openssl ocsp responder answers on port $RPORT" "$WORK/responder$RESPONDER_SEQ.log"
    return 1
}

{ index_line V a && index_line V b && index_line V c; } >"$P/index.txt"
start_responder || finish
ok "openssl ocsp responder up on 127.0.0.1:$RPORT"

# The file staple: a.test's current response, valid one minute from now.
if tmo openssl ocsp -issuer "$P/ca.cert" -cert "$P/a.cert" -url "http://127.0.0.1:$RPORT/" \
    -CAfile "$P/ca.cert" -respout "$P/a.ocsp.der" >"$WORK/fileresp.out" 2>&1 &&
    grep -q "a.cert: good" "$WORK/fileresp.out"; then
    ok "a.test's response saved for the \"ocsp: FILE\" listener"
else
    not_ok "a.test's response saved for the \"ocsp: FILE\" listener" "$WORK/fileresp.out"
fi
FILE_SAVED=$(date +%s)

start_backend web || finish
CONF=$WORK/moat.yaml
cat >"$CONF" <<EOF
workers: 2
log: { level: info, access: $ACCESS_LOG }
timeouts: { handshake: 5s, idle: 30s, connect: 2s, drain: 1s }
listeners:
  - address: "127.0.0.1:$PORT"
    certificates:
      - { cert: $P/a.fullchain, key: $P/a.key, ocsp: fetch }
      - { cert: $P/b.fullchain, key: $P/b.key, ocsp: fetch }
      - { cert: $P/c.fullchain, key: $P/c.key, ocsp: fetch }
    backend: web
  - address: "127.0.0.1:$PORT_FILE"
    certificates:
      - { cert: $P/a.fullchain, key: $P/a.key, ocsp: $P/a.ocsp.der }
    backend: web
backends:
  web: { servers: ["127.0.0.1:$BACKEND_PORT"] }
EOF
start_moat "$CONF" 2 || finish
log_mark
LOG_MARK=0

# staple PORT NAME [S_CLIENT-ARGS...]: s_client -status; sets STAPLE to "good",
# "none" (no staple sent) or "other", and THIS_UPDATE.
staple() {
    _port=$1 _name=$2
    shift 2
    tmo openssl s_client -connect "127.0.0.1:$_port" -servername "$_name" -status \
        -CAfile "$P/ca.cert" -verify_return_error "$@" </dev/null >"$WORK/s.out" 2>"$WORK/s.err"
    THIS_UPDATE=$(sed -n 's/^ *This Update: //p' "$WORK/s.out" | head -n 1)
    if ! grep -q 'Verify return code: 0 (ok)' "$WORK/s.out"; then
        STAPLE=other
    elif grep -q 'OCSP Response Status: successful' "$WORK/s.out" &&
        grep -q 'Cert Status: good' "$WORK/s.out"; then
        STAPLE=good
    elif grep -q 'OCSP response: no response sent' "$WORK/s.out"; then
        STAPLE=none
    else
        STAPLE=other
    fi
}
expect_staple() {
    _desc=$1 _want=$2
    shift 2
    staple "$@"
    expect_eq "$_desc" "$STAPLE" "$_want" "$WORK/s.out" "$WORK/s.err"
}

if wait_log "OCSP staple for $P/a.fullchain refreshed, valid until " 10 &&
    wait_log "OCSP staple for $P/b.fullchain refreshed, valid until " 5; then
    ok "moat fetched a.test's and b.test's staples: $(log_since | grep -m1 'a.fullchain refreshed' | sed 's/.*: OCSP/OCSP/')"
else
    not_ok "moat fetched a.test's and b.test's staples" "$MOAT_LOG"
fi
if wait_log "OCSP staple for $P/c.fullchain: fetch from http://127.0.0.1:$DEAD/ failed: cannot connect .*connection refused.*; retrying in 1 s \\(no staple\\)" 5; then
    ok "c.test's responder is down: moat logs it ($(log_since | grep -m1 'c.fullchain: fetch' | sed 's/.*failed: //'))"
else
    not_ok "c.test's responder is down: moat logs the failed fetch" "$MOAT_LOG"
fi

expect_staple "a.test, TLS 1.3: good staple" good "$PORT" a.test -tls1_3
FIRST_UPDATE=$THIS_UPDATE
expect_staple "a.test, TLS 1.2: good staple" good "$PORT" a.test -tls1_2
expect_staple "b.test, TLS 1.3: good staple" good "$PORT" b.test -tls1_3
expect_staple "b.test, TLS 1.2: good staple" good "$PORT" b.test -tls1_2
expect_staple "c.test (responder down): TLS 1.3 served, without a staple" none "$PORT" c.test -tls1_3
expect_staple "c.test (responder down): TLS 1.2 served, without a staple" none "$PORT" c.test -tls1_2
expect_staple "ocsp: FILE listener, TLS 1.3: good staple" good "$PORT_FILE" a.test -tls1_3
expect_staple "ocsp: FILE listener, TLS 1.2: good staple" good "$PORT_FILE" a.test -tls1_2

# ---- SIGHUP: new keys, the fetched staples carried over ---------------------------------
log_mark
kill -HUP "$MOAT_PID"
if wait_log 'configuration reloaded' 5 &&
    wait_log "OCSP staple for $P/a.fullchain kept across the reload" 1 &&
    wait_log "OCSP staple for $P/b.fullchain kept across the reload" 1; then
    ok "SIGHUP: the fetched staples are kept across the reload"
else
    not_ok "SIGHUP: the fetched staples are kept across the reload" "$MOAT_LOG"
fi
expect_staple "after SIGHUP, a.test: good staple at once" good "$PORT" a.test -tls1_3
expect_staple "after SIGHUP, b.test: good staple at once" good "$PORT" b.test -tls1_2
expect_staple "after SIGHUP, ocsp: FILE listener: good staple" good "$PORT_FILE" a.test

# ---- b.test revoked; a.test refreshed ---------------------------------------------------
stop_pid "$RESPONDER_PID"
{ index_line V a && index_line R b && index_line V c; } >"$P/index.txt"
start_responder || finish
ok "responder restarted with b.test revoked"

if wait_log "OCSP staple for $P/a.fullchain refreshed, valid until " 40; then
    expect_staple "a.test after its refresh: good staple" good "$PORT" a.test -tls1_3
    if [ -n "$THIS_UPDATE" ] && [ "$THIS_UPDATE" != "$FIRST_UPDATE" ]; then
        ok "a.test's refreshed staple is served (thisUpdate $FIRST_UPDATE -> $THIS_UPDATE)"
    else
        not_ok "a.test's refreshed staple is served" "first '$FIRST_UPDATE', now '$THIS_UPDATE'"
    fi
else
    not_ok "a.test's staple is refreshed within 40 s" "$MOAT_LOG"
fi
if wait_log "OCSP staple for $P/b.fullchain: fetch from .* failed: .*revoked.*the current staple is valid until " 10; then
    ok "b.test's revoked response is refused: $(log_since | grep -m1 'b.fullchain: fetch' | sed 's/.*failed: //')"
else
    not_ok "b.test's revoked response is refused and logged" "$MOAT_LOG"
fi
# b.test's last good response was fetched before the reload, a minute's validity.
if wait_log "OCSP staple for $P/b.fullchain expired at .*: no longer stapled" 40; then
    ok "b.test's staple is dropped at its nextUpdate"
else
    not_ok "b.test's staple is dropped at its nextUpdate" "$MOAT_LOG"
fi
expect_staple "b.test, revoked and expired: TLS 1.3 served without a staple" none "$PORT" b.test -tls1_3
expect_staple "b.test, revoked and expired: TLS 1.2 served without a staple" none "$PORT" b.test -tls1_2
expect_staple "a.test still stapled" good "$PORT" a.test -tls1_2

# ---- the file staple expires ------------------------------------------------------------
if wait_log "OCSP staple for $P/a.fullchain \\(ocsp: $P/a.ocsp.der\\) expired at .*: no longer stapled" 15; then
    ok "the ocsp: FILE staple is dropped at its nextUpdate"
else
    not_ok "the ocsp: FILE staple is dropped at its nextUpdate" "$MOAT_LOG"
fi
expect_staple "ocsp: FILE listener after nextUpdate: served without a staple" none "$PORT_FILE" a.test
now=$(date +%s)
[ "$now" -gt $((FILE_SAVED + 61)) ] || sleep $((FILE_SAVED + 61 - now))
tmo "$MOAT" -t -c "$CONF" >"$WORK/t.out" 2>"$WORK/t.err"
st=$?
if [ "$st" -eq 1 ] &&
    grep -Eq "^moat: $CONF:[0-9]+:[0-9]+: $P/a.ocsp.der: OCSP response: expired" "$WORK/t.err"; then
    ok "moat -t refuses the expired staple file: $(cat "$WORK/t.err")"
else
    not_ok "moat -t refuses the expired staple file" "exit $st" "$WORK/t.err" "$WORK/t.out"
fi
check_alive "moat still running"
stop_moat
expect_eq "moat exits 0 on SIGTERM (staplers stopped)" "$MOAT_STATUS" 0 "$MOAT_LOG"
finish
