#!/bin/sh
# run.sh — what `make run` does once build/moat and build/backend are built: start
# a demonstration backend and moat in front of it, on the loopback interface.
#
#   1. build/run/moat.fullchain and build/run/moat.key: a self-signed ECDSA P-256
#      certificate for localhost and 127.0.0.1, valid one year, made with the
#      openssl command (kept between runs, remade when missing, expiring or not
#      usable as its own trust anchor);
#   2. build/backend --listen 127.0.0.1:8080 --name demo in the background (on
#      another free port when 8080 is taken), its output in build/run/backend.log;
#   3. moat -c config/moat.yaml in the foreground (TLS on 127.0.0.1:8443). When a
#      port differs from config/moat.yaml's, moat runs from a copy,
#      build/run/moat.yaml, with the ports changed.
# Ctrl-C stops moat (open connections get timeouts.drain to finish) and then the
# backend. SIGTERM to this script is passed on to moat.
#
# Environment: PORT (moat's port; default 8443, or a free one when 8443 is taken),
# BACKEND_PORT (default 8080, or a free one), BUILD (default build).
set -eu

cd "$(dirname "$0")/.."

build=${BUILD:-build}
run_dir=$build/run
config=config/moat.yaml
cert=$run_dir/moat.fullchain
key=$run_dir/moat.key
backend_log=$run_dir/backend.log
# What config/moat.yaml says; a copy is made when any of these must change.
config_listen=127.0.0.1:8443
config_backend=127.0.0.1:8080
config_run_dir=build/run

backend_pid=
backend_port=
moat_pid=

say() {
    printf 'run.sh: %s\n' "$*"
}

die() {
    printf 'run.sh: %s\n' "$*" >&2
    exit 1
}

# shellcheck disable=SC2317 # called from a trap
cleanup() {
    if [ -n "$moat_pid" ]; then
        kill -TERM "$moat_pid" 2>/dev/null || :
    fi
    if [ -n "$backend_pid" ]; then
        kill -TERM "$backend_pid" 2>/dev/null || :
        wait "$backend_pid" 2>/dev/null || :
        backend_pid=
    fi
}

# INT and TERM: while moat runs, it does the stopping (the terminal's Ctrl-C reaches
# it directly; a TERM sent to this script only is passed on); before that, stop here.
# shellcheck disable=SC2317 # called from a trap
on_signal() {
    if [ -n "$moat_pid" ]; then
        kill -"$1" "$moat_pid" 2>/dev/null || :
    else
        exit 130
    fi
}

trap cleanup EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

# 0 when nothing listens on 127.0.0.1:$1. SO_REUSEADDR, as moat's own sockets have, so
# connections of an earlier run still in TIME_WAIT do not count (python3 is among make
# deps' packages; without it the port is assumed free and moat says if it is not).
port_free() {
    command -v python3 >/dev/null 2>&1 || return 0
    python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}

# A port the kernel considers free right now.
any_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# $1: the port asked for in the environment (may be empty), $2: the default, $3: what
# it is for. Prints the port to use.
choose_port() {
    if [ -n "$1" ]; then
        printf '%s\n' "$1"
    elif port_free "$2"; then
        printf '%s\n' "$2"
    else
        port=$(any_free_port) || die "port $2 ($3) is taken and no free port was found"
        say "port $2 is taken: $3 uses port $port" >&2
        printf '%s\n' "$port"
    fi
}

# True when $cert and $key exist, belong together, name localhost, stay valid for
# another day and $cert verifies against itself (so curl --cacert $cert accepts it).
certificate_usable() {
    [ -s "$cert" ] && [ -s "$key" ] || return 1
    openssl verify -CAfile "$cert" "$cert" >/dev/null 2>&1 || return 1
    openssl x509 -in "$cert" -noout -checkend 86400 >/dev/null 2>&1 || return 1
    openssl x509 -in "$cert" -noout -checkhost localhost 2>/dev/null |
        grep -q 'does match' || return 1
    cert_pub=$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null) || return 1
    key_pub=$(openssl pkey -in "$key" -pubout 2>/dev/null) || return 1
    [ "$cert_pub" = "$key_pub" ]
}

make_certificate() {
    say "creating a self-signed ECDSA P-256 certificate for localhost in $run_dir"
    rm -f "$cert" "$key"
    (
        umask 077
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
            -days 365 -subj /CN=localhost \
            -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
            -addext 'basicConstraints=critical,CA:FALSE' \
            -addext 'keyUsage=critical,digitalSignature' \
            -addext 'extendedKeyUsage=serverAuth' \
            -keyout "$key" -out "$cert" 2>"$run_dir/openssl.log"
    ) || {
        cat "$run_dir/openssl.log" >&2
        die "openssl could not create the certificate"
    }
    rm -f "$run_dir/openssl.log"
    chmod 0644 "$cert"
}

# Starts the backend on 127.0.0.1:$1 in the background and waits for its "listening
# on ADDR" line; sets backend_pid and backend_port (the port it bound). 1 if it exits
# first (its output is then in $backend_log).
start_backend() {
    : >"$backend_log"
    # In a session of its own (setsid), so the terminal's Ctrl-C reaches moat but not
    # the backend: it keeps serving while moat drains, and is stopped after moat.
    if command -v setsid >/dev/null 2>&1; then
        setsid "$build/backend" --listen "127.0.0.1:$1" --name demo >"$backend_log" 2>&1 &
    else
        "$build/backend" --listen "127.0.0.1:$1" --name demo >"$backend_log" 2>&1 &
    fi
    backend_pid=$!
    tries=0
    until grep -q '^listening on ' "$backend_log"; do
        if ! kill -0 "$backend_pid" 2>/dev/null; then
            wait "$backend_pid" 2>/dev/null || :
            backend_pid=
            return 1
        fi
        tries=$((tries + 1))
        [ "$tries" -le 100 ] ||
            die "the backend did not say \"listening on\" within 10 seconds (see $backend_log)"
        sleep 0.1
    done
    backend_port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$backend_log")
}

for program in "$build/moat" "$build/backend"; do
    [ -x "$program" ] || die "$program is missing: run \"make run\" (or \"make all\") first"
done
command -v openssl >/dev/null 2>&1 || die "the openssl command is needed (make deps)"
[ -f "$config" ] || die "$config is missing"
mkdir -p "$run_dir"

certificate_usable || make_certificate

listen_port=$(choose_port "${PORT:-}" 8443 moat)

# The backend: on BACKEND_PORT if given, else on 8080, else on a port the kernel
# picks (the backend prints the one it got).
if [ -n "${BACKEND_PORT:-}" ]; then
    start_backend "$BACKEND_PORT" || {
        cat "$backend_log" >&2
        die "the backend could not start on port $BACKEND_PORT"
    }
elif ! start_backend 8080; then
    say "port 8080 is taken ($(cat "$backend_log")): the backend takes another one"
    start_backend 0 || {
        cat "$backend_log" >&2
        die "the backend could not start"
    }
fi
say "backend \"demo\" on 127.0.0.1:$backend_port (pid $backend_pid, its log in $backend_log)"

# moat's configuration: config/moat.yaml itself, or a copy with other ports or paths.
run_config=$config
if [ "127.0.0.1:$listen_port" != "$config_listen" ] ||
    [ "127.0.0.1:$backend_port" != "$config_backend" ] ||
    [ "$run_dir" != "$config_run_dir" ]; then
    for expected in "\"$config_listen\"" "\"$config_backend\"" "$config_run_dir/moat.key"; do
        grep -qF "$expected" "$config" ||
            die "$config no longer contains $expected: update scripts/run.sh to match it"
    done
    run_config=$run_dir/moat.yaml
    sed -e "s|\"$config_listen\"|\"127.0.0.1:$listen_port\"|" \
        -e "s|\"$config_backend\"|\"127.0.0.1:$backend_port\"|" \
        -e "s|$config_run_dir/|$run_dir/|g" \
        "$config" >"$run_config"
    say "moat runs from $run_config: $config with the ports above"
fi

cat <<EOF

moat is starting on https://localhost:$listen_port/ in front of it. Try, in another terminal:

    curl --cacert $cert https://localhost:$listen_port/
    openssl s_client -connect localhost:$listen_port -CAfile $cert -alpn http/1.1 -brief </dev/null

Ctrl-C stops moat and the backend. Reload the configuration with kill -HUP <moat's pid>.

EOF

"$build/moat" -c "$run_config" &
moat_pid=$!
say "moat pid $moat_pid"
# wait returns early (above 128) when a signal is trapped; moat may still be draining
# then, so wait again until it has exited, and exit with its status.
while :; do
    status=0
    wait "$moat_pid" || status=$?
    if [ "$status" -gt 128 ] && kill -0 "$moat_pid" 2>/dev/null; then
        continue
    fi
    break
done
moat_pid=
exit "$status"
