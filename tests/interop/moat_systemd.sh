#!/bin/sh
# moat and systemd's protocols, checked without systemd by tests/interop/moat_systemd.py
# (python3 standard library only; it prints the ok/not ok lines and the SUMMARY):
#   1. sd_notify on a NOTIFY_SOCKET of our own: READY=1 (then STATUS=) once moat
#      listens; SIGHUP: RELOADING=1 + MONOTONIC_USEC (CLOCK_MONOTONIC) in one
#      datagram, then READY=1, also when the new configuration is refused; SIGTERM:
#      STOPPING=1 and exit status 0;
#   2. socket activation: a listening socket passed as fd 3 (LISTEN_FDS=1,
#      LISTEN_PID=moat's pid) while the test keeps the port bound is used, not
#      re-bound; a passed socket no listener claims is warned about;
#   3. `user: nobody` when run as root: uid/gid nobody in every thread, the
#      certificate loaded before the drop; an unknown user: exit 1 (skipped,
#      saying so, when not root);
#   4. RLIMIT_NOFILE raised for limits.max_connections, or a warning naming
#      LimitNOFILE when the hard limit is too low;
#   5. systemd-analyze verify on the units (skipped, saying so, when it is not
#      installed).
# This wrapper bounds the whole run; a run cut short still ends with a SUMMARY.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need python3 timeout || finish
need_binaries || finish

# The script stops itself after 240 s (and kills what it started); this is the backstop.
{
    BUILD=$BUILD MOAT=$MOAT BACKEND=$BACKEND START_TIMEOUT=$START_TIMEOUT \
        CLIENT_TIMEOUT=$CLIENT_TIMEOUT timeout -k 5 300 python3 tests/interop/moat_systemd.py
    echo $? >"$WORK/py.status"
} 2>&1 | tee "$WORK/py.out"
st=$(cat "$WORK/py.status" 2>/dev/null || echo 125)
if grep -q '^SUMMARY ' "$WORK/py.out"; then
    exit "$st"
fi
# No summary: count what it reported, and fail once for the run itself.
T_NUM=$(grep -Ec '^(not )?ok [0-9]+ ' "$WORK/py.out")
T_PASS=$(grep -Ec '^ok [0-9]+ ' "$WORK/py.out")
T_FAIL=$(grep -Ec '^not ok [0-9]+ ' "$WORK/py.out")
not_ok "moat_systemd.py ends with a SUMMARY" "exit status $st (124/137: timed out)"
finish
