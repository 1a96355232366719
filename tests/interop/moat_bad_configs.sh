#!/bin/sh
# moat -t on every configuration under tests/config/: each tests/config/bad/*.yaml
# starts with "# expect: <message>" and must make "moat -t -c FILE" exit 1 with
# exactly "moat: <message>" on stderr (and nothing on stdout); each
# tests/config/good/*.yaml must exit 0 with "moat: FILE is valid: ..." on stdout.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/moat_lib.sh

need timeout || finish
if [ ! -x "$MOAT" ]; then
    not_ok "$MOAT is built" "run: make $MOAT"
    finish
fi

# Git keeps no permission bits but the executable one: the ticket key files get the
# modes their cases are about (as test_config.c does), whatever the checkout made.
chmod 600 tests/config/keys/fleet.keys tests/config/keys/bad_hex.keys
chmod 644 tests/config/keys/readable.keys

n_bad=0
for f in tests/config/bad/*.yaml; do
    [ -e "$f" ] || continue
    n_bad=$((n_bad + 1))
    want=$(sed -n '1s/^# expect: //p' "$f")
    if [ -z "$want" ]; then
        not_ok "$f: first line is '# expect: <message>'" "first line: $(head -n 1 "$f")"
        continue
    fi
    tmo "$MOAT" -t -c "$f" >"$WORK/out" 2>"$WORK/err"
    st=$?
    printf 'moat: %s\n' "$want" >"$WORK/want"
    if [ "$st" -eq 1 ] && cmp -s "$WORK/want" "$WORK/err" && [ ! -s "$WORK/out" ]; then
        ok "$f: exit 1, '$want'"
    else
        not_ok "$f: exit 1 with the expected message" "exit status $st" \
            "want: moat: $want" "got:  $(head -n 3 "$WORK/err")" \
            "stdout: $(head -n 3 "$WORK/out")"
    fi
done
[ "$n_bad" -gt 0 ] || not_ok "tests/config/bad/ holds configurations" "no tests/config/bad/*.yaml"

n_good=0
for f in tests/config/good/*.yaml; do
    [ -e "$f" ] || continue
    n_good=$((n_good + 1))
    tmo "$MOAT" -t -c "$f" >"$WORK/out" 2>"$WORK/err"
    st=$?
    if [ "$st" -eq 0 ] && grep -Eqx "moat: $f is valid: [0-9]+ listeners, [0-9]+ backends, [0-9]+ certificates loaded" "$WORK/out" &&
        [ ! -s "$WORK/err" ]; then
        ok "$f: exit 0, '$(cat "$WORK/out")'"
    else
        not_ok "$f: exit 0, 'is valid'" "exit status $st" "$WORK/out" "$WORK/err"
    fi
done
[ "$n_good" -gt 0 ] || not_ok "tests/config/good/ holds configurations" "no tests/config/good/*.yaml"

# Not a configuration problem: a missing file and a bad option.
tmo "$MOAT" -t -c "$WORK/missing.yaml" >"$WORK/out" 2>"$WORK/err"
st=$?
if [ "$st" -eq 1 ] && grep -q "^moat: $WORK/missing.yaml: " "$WORK/err"; then
    ok "moat -t on a missing file: exit 1, '$(head -n 1 "$WORK/err")'"
else
    not_ok "moat -t on a missing file: exit 1, 'moat: FILE: ...'" "exit $st" "$WORK/err"
fi
tmo "$MOAT" --no-such-option >"$WORK/out" 2>"$WORK/err"
st=$?
expect_eq "moat with an unknown option: exit 2" "$st" 2 "$WORK/err"
finish
