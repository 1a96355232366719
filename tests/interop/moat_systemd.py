#!/usr/bin/env python3
"""moat under systemd's protocols, without systemd: run by moat_systemd.sh from the
repository root (python3 standard library only).

    python3 tests/interop/moat_systemd.py

1. sd_notify: a unix datagram socket stands in for systemd's NOTIFY_SOCKET. moat
   sends READY=1 (then STATUS=) once it listens; on SIGHUP RELOADING=1 with
   MONOTONIC_USEC= (CLOCK_MONOTONIC, in one datagram), then READY=1, also when the
   new configuration is refused; on SIGTERM STOPPING=1, and exits 0.
2. Socket activation: the test binds the listening socket, forks, and the child
   puts it on fd 3 with LISTEN_FDS=1 and LISTEN_PID=<its own pid> before exec'ing
   moat. The test keeps its own copy open, so a moat that bound the port itself
   would fail with EADDRINUSE (a control run with a wrong LISTEN_PID shows that it
   does); the kernel's socket table shows one listening socket on the port, the
   inherited one. A passed socket that matches no listener is warned about.
3. Privilege drop (only as root): `user: nobody` gives uid/gid nobody in all four
   fields of every thread, no groups and no capabilities, and the certificate,
   readable by root only, was loaded before the drop; an unknown user: exit 1.
4. RLIMIT_NOFILE: a low soft limit is raised to what limits.max_connections needs;
   when the hard limit is too low moat warns, naming LimitNOFILE.
5. systemd-analyze verify on the units (installed the way `make install` does).

Output: "ok N - ..." / "not ok N - ..." lines, "# ..." diagnostics, and a final
"SUMMARY <passed> <failed>". Only processes started here are ever signalled (by
their PID). Environment: BUILD (default build), MOAT, BACKEND, START_TIMEOUT,
CLIENT_TIMEOUT, KEEP_WORK.
"""

import ctypes
import fcntl
import os
import pwd
import random
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD", "build")
MOAT = os.environ.get("MOAT", f"{BUILD}/moat")
BACKEND = os.environ.get("BACKEND", f"{BUILD}/backend")
CERTS = "tests/certs"
CA = f"{CERTS}/ecdsa-p256/ca.cert"
MOATCLIENT = "tests/interop/moatclient.py"
START_TIMEOUT = float(os.environ.get("START_TIMEOUT", "10"))
CLIENT_TIMEOUT = float(os.environ.get("CLIENT_TIMEOUT", "10"))
OVERALL_TIMEOUT = 240  # moat_systemd.sh allows more, so the cleanup here still runs
WORKERS = 2
UNMATCHED_WARNING = ("moat[warn]: inherited socket (fd {fd}) matches no listener in the "
                     "configuration: its connections will not be served")

# ---- reporting -------------------------------------------------------------------

T = {"n": 0, "pass": 0, "fail": 0}


def emit(line):
    print(line, flush=True)


def diag(*lines):
    for d in lines:
        if isinstance(d, str) and os.path.isfile(d):
            emit(f"#   --- {d} (last 20 lines):")
            with open(d, errors="replace") as f:
                for line in f.read().splitlines()[-20:]:
                    emit(f"#   {line}")
        else:
            for line in str(d).splitlines() or [""]:
                emit(f"# {line}")


def ok(desc):
    T["n"] += 1
    T["pass"] += 1
    emit(f"ok {T['n']} - {desc}")


def not_ok(desc, *diags):
    T["n"] += 1
    T["fail"] += 1
    emit(f"not ok {T['n']} - {desc}")
    diag(*diags)


def skip(reason):
    T["n"] += 1
    T["pass"] += 1
    emit(f"ok {T['n']} - # SKIP {reason}")


def check(cond, desc, *diags):
    if cond:
        ok(desc)
    else:
        not_ok(desc, *diags)
    return bool(cond)


# ---- processes -------------------------------------------------------------------

PROCS = []
WORK = tempfile.mkdtemp(prefix="moat-systemd.")  # mode 0700: root only, when root
# sd_notify sockets live apart, reachable by the unprivileged user of test 3
NOTIFY_DIR = tempfile.mkdtemp(prefix="moat-notify.")
os.chmod(NOTIFY_DIR, 0o711)
SCRUB_ENV = ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC",
             "WATCHDOG_PID")

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


class Proc:
    """A child we forked: reaped with waitpid, signalled only by its own PID."""

    def __init__(self, pid, name, log):
        self.pid, self.name, self.log = pid, name, log
        self.status = None  # exit status, or -signal

    def poll(self):
        if self.status is None:
            r, st = os.waitpid(self.pid, os.WNOHANG)
            if r == self.pid:
                self.status = os.waitstatus_to_exitcode(st)
                if self in PROCS:
                    PROCS.remove(self)
        return self.status

    def alive(self):
        return self.poll() is None

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.status

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after timeout: the exit status or "killed"."""
        self.signal(signal.SIGTERM)
        if self.wait(timeout) is None:
            self.signal(signal.SIGKILL)
            self.wait(5)
            return "killed"
        return self.status

    def kill(self):
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            self.wait(5)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def spawn(argv, name, env=None, inherit=(), listen_pid=None, nofile=None):
    """fork + execve argv with stderr (and stdout) to WORK/name.log and stdin from
    /dev/null. inherit: sockets placed on fds 3, 4, ... (CLOEXEC cleared) with
    LISTEN_FDS=len(inherit) and LISTEN_PID=the child's own pid (or listen_pid).
    nofile: (soft, hard) RLIMIT_NOFILE set in the child before exec."""
    full_env = {k: v for k, v in os.environ.items() if k not in SCRUB_ENV}
    full_env.update(env or {})
    log = os.path.join(WORK, f"{name}.log")
    logfd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    nullfd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    fds = [s.fileno() for s in inherit]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child: nothing but descriptor work, then exec
        try:
            if _libc is not None:
                _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
            # Move everything above the target numbers first, so no dup2 is a no-op
            # (dup2(fd, fd) would leave CLOEXEC set).
            hi = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in [nullfd, logfd] + fds]
            os.dup2(hi[0], 0)
            os.dup2(hi[1], 1)
            os.dup2(hi[1], 2)
            for i, fd in enumerate(hi[2:]):
                os.dup2(fd, 3 + i)
                os.set_inheritable(3 + i, True)
            if fds:
                full_env["LISTEN_FDS"] = str(len(fds))
                full_env["LISTEN_PID"] = str(listen_pid if listen_pid else os.getpid())
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
            os.execve(argv[0], argv, full_env)
        except BaseException as e:  # noqa: BLE001 - the child must never return
            try:
                os.write(2, f"spawn {argv[0]}: {e!r}\n".encode())
            finally:
                os._exit(127)
    os.close(logfd)
    os.close(nullfd)
    p = Proc(pid, name, log)
    PROCS.append(p)
    return p


def cleanup():
    for p in list(PROCS):
        try:
            p.kill()
        except OSError:
            pass
    if os.environ.get("KEEP_WORK"):
        emit(f"# logs kept in {WORK}")
    else:
        shutil.rmtree(WORK, ignore_errors=True)
    shutil.rmtree(NOTIFY_DIR, ignore_errors=True)


class Interrupted(Exception):
    pass


def on_signal(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


# ---- sd_notify -------------------------------------------------------------------


class Notify:
    """The systemd side of NOTIFY_SOCKET: a unix datagram socket, with the sender's
    credentials (SO_PASSCRED) to check that the datagrams come from moat's PID."""

    seq = 0

    def __init__(self):
        Notify.seq += 1
        self.path = os.path.join(NOTIFY_DIR, f"notify{Notify.seq}.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.seen = []  # every datagram, for diagnostics

    def env(self):
        return {"NOTIFY_SOCKET": self.path}

    def next(self, timeout):
        """The next datagram as a dict (text, lines, pid, uid, gid, mono), or None."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None
        data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        msg = {"text": data.decode(errors="replace"), "pid": None, "uid": None, "gid": None,
               "mono": time.clock_gettime(time.CLOCK_MONOTONIC)}
        msg["lines"] = [l for l in msg["text"].split("\n") if l]
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS and len(cdata) >= 12:
                msg["pid"], msg["uid"], msg["gid"] = struct.unpack("iII", cdata[:12])
        self.seen.append(msg["text"])
        return msg

    def wait_for(self, line, timeout, proc=None):
        """Datagrams until one has the line `line`: (that one, all received), or
        (None, all received) on timeout or when proc exits."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.next(0.1)
            if m:
                got.append(m)
                if line in m["lines"]:
                    return m, got
            elif proc is not None and not proc.alive():
                m = self.next(0.2)  # one that was sent just before the exit
                if m:
                    got.append(m)
                    if line in m["lines"]:
                        return m, got
                return None, got
        return None, got

    def history(self):
        return "datagrams so far: " + (" | ".join(repr(t) for t in self.seen) or "none")

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


# ---- moat, backend, client -----------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_socket(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", port))
    s.listen(128)
    return s


def start_backend(name):
    p = spawn([BACKEND, "--listen", "127.0.0.1:0", "--name", name, "--quiet"], f"backend-{name}")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and p.alive():
        m = re.search(r"^listening on 127\.0\.0\.1:(\d+)", p.log_text(), re.M)
        if m:
            return p, int(m.group(1))
        time.sleep(0.05)
    return p, None


def write_conf(name, listeners, backend_port, extra="", cert=None, key=None):
    cert = cert or f"{CERTS}/ecdsa-p256/end.fullchain"
    key = key or f"{CERTS}/ecdsa-p256/end.key"
    if "limits:" not in extra:  # the default (50000) would warn about RLIMIT_NOFILE here
        extra += "limits: { max_connections: 1000 }\n"
    text = (f"workers: {WORKERS}\n{extra}"
            "log: { level: info, access: off }\n"
            "timeouts: { handshake: 3s, idle: 30s, connect: 2s, drain: 2s }\n"
            "listeners:\n")
    for addr in listeners:
        text += (f'  - address: "{addr}"\n'
                 f"    certificates:\n      - {{ cert: {cert}, key: {key} }}\n"
                 "    backend: web\n")
    text += f'backends:\n  web: {{ servers: ["127.0.0.1:{backend_port}"] }}\n'
    path = os.path.join(WORK, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


MOAT_SEQ = [0]


def start_moat(conf, notify=None, n_listeners=1, **kw):
    """moat -c conf; waits for READY=1 on notify if given (and returns at once: test 1
    checks that moat listens by then), else for n_listeners "listening on" lines.
    (proc, the READY=1 datagram or None, the datagrams up to it)."""
    MOAT_SEQ[0] += 1
    env = notify.env() if notify else {}
    p = spawn([MOAT, "-c", conf], f"moat{MOAT_SEQ[0]}", env=env, **kw)
    if notify:
        ready, got = notify.wait_for("READY=1", START_TIMEOUT, p)
        return p, ready, got
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and p.alive():
        if p.log_text().count("moat[info]: listening on ") >= n_listeners:
            break
        time.sleep(0.05)
    return p, None, []


def get(port):
    """GET / through moat with moatclient.py (chain verified against the test CA):
    (whether the backend's answer came back, what moatclient said)."""
    try:
        r = subprocess.run([sys.executable, MOATCLIENT, "get", "--port", str(port), "--ca", CA,
                            "--timeout", str(CLIENT_TIMEOUT)],
                           capture_output=True, text=True, timeout=CLIENT_TIMEOUT + 5)
    except subprocess.TimeoutExpired:
        return False, "moatclient timed out"
    kv = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    good = r.returncode == 0 and kv.get("status") == "200" and kv.get("body") == "hello from web\\n"
    return good, f"moatclient exit {r.returncode}: {r.stdout.strip()} {r.stderr.strip()[-300:]}"


def tcp_listeners(port):
    """(local address, inode) of every listening IPv4 TCP socket on port (this netns)."""
    with open("/proc/net/tcp") as f:
        rows = f.read().splitlines()[1:]
    found = []
    for row in rows:
        c = row.split()
        if len(c) > 9 and c[3] == "0A" and int(c[1].rsplit(":", 1)[1], 16) == port:
            found.append((c[1], int(c[9])))
    return found


def fds_on_inode(pid, inode):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                n += 1
        except OSError:
            pass
    return n


def stop_and_check(p, what):
    st = p.stop(10)
    check(st == 0, f"{what}: SIGTERM, exit status 0", f"status {st}", p.log)


# ---- 1. sd_notify ----------------------------------------------------------------------


def test_notify(bport):
    port = free_port()
    good = write_conf("notify", [f"127.0.0.1:{port}"], bport)
    conf = os.path.join(WORK, "notify-live.yaml")
    shutil.copy(good, conf)
    n = Notify()
    moat, ready, got = start_moat(conf, n)
    if not check(ready is not None, "sd_notify: READY=1 arrives after start",
                 n.history(), moat.log):
        moat.kill()
        return
    # At READY=1 the listener must already be open: connect right away, no retry.
    listening = "moat[info]: listening on 127.0.0.1:" in moat.log_text()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        accepts = True
    except OSError as e:
        accepts = e
    check(len(got) == 1 and ready["lines"] == ["READY=1"] and listening and accepts is True,
          "sd_notify: READY=1 is the first datagram, sent once moat listens "
          "(logged 'listening on', the port accepts at once)",
          n.history(), f"listening logged: {listening}; connect: {accepts}", moat.log)
    ok_req, d = get(port)
    check(ok_req, "sd_notify: a TLS request right after READY=1 works", d, moat.log)
    st = n.next(3)
    want_status = f"STATUS=running: 1 listeners, 1 backends, {WORKERS} workers"
    check(st is not None and st["lines"] == [want_status],
          f"sd_notify: then '{want_status}'", n.history())
    check(ready["pid"] == moat.pid and (st is None or st["pid"] == moat.pid),
          "sd_notify: datagrams come from moat's own PID (NotifyAccess=main)",
          f"moat pid {moat.pid}, sender pids {ready['pid']}, {st and st['pid']}")

    # -- SIGHUP with a valid configuration
    def hup(desc, want_log):
        before = time.clock_gettime(time.CLOCK_MONOTONIC)
        mark = len(moat.log_text())
        moat.signal(signal.SIGHUP)
        rel = n.next(10)
        lines = rel["lines"] if rel else []
        m = [re.fullmatch(r"MONOTONIC_USEC=(\d+)", l) for l in lines]
        usec = next((int(x.group(1)) for x in m if x), None)
        check(rel is not None and "RELOADING=1" in lines and usec is not None,
              f"{desc}: RELOADING=1 and MONOTONIC_USEC= in one datagram", n.history())
        if usec is not None:
            now = time.clock_gettime(time.CLOCK_MONOTONIC)
            sec = usec / 1e6
            check(abs(now - sec) < 3 and before - 0.001 <= sec <= rel["mono"] + 0.001,
                  f"{desc}: MONOTONIC_USEC is CLOCK_MONOTONIC in microseconds, taken "
                  "between the signal and the datagram",
                  f"MONOTONIC_USEC={usec} ({sec:.6f} s); kill at {before:.6f}, "
                  f"received at {rel['mono']:.6f}, now {now:.6f}")
        else:
            not_ok(f"{desc}: MONOTONIC_USEC is CLOCK_MONOTONIC in microseconds",
                   "no MONOTONIC_USEC= line", n.history())
        rdy = n.next(10)
        check(rdy is not None and rdy["lines"] == ["READY=1"],
              f"{desc}: READY=1 is the next datagram", n.history(), moat.log)
        st = n.next(3)
        check(st is not None and st["lines"] == [want_status],
              f"{desc}: then '{want_status}'", n.history())
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and want_log not in moat.log_text()[mark:]:
            time.sleep(0.05)
        tail = moat.log_text()[mark:]
        ok_req, d = get(port)
        check(want_log in tail and moat.alive() and ok_req,
              f"{desc}: moat logs '{want_log}', keeps running and serving", tail, d)

    hup("SIGHUP (valid configuration)", "moat[info]: configuration reloaded")
    with open(conf, "w") as f:
        f.write(f'workers: 2\nlisteners: [\n  - address: "127.0.0.1:{port}"\n')
    hup("SIGHUP (broken configuration)",
        "moat[error]: reload failed, keeping the running configuration: ")
    shutil.copy(good, conf)

    # -- SIGTERM
    moat.signal(signal.SIGTERM)
    stopping, _ = n.wait_for("STOPPING=1", 5, moat)
    check(stopping is not None and stopping["lines"] == ["STOPPING=1"],
          "SIGTERM: STOPPING=1 arrives", n.history(), moat.log)
    st = moat.wait(10)
    if st is None:
        moat.kill()
    check(st == 0 and "moat[info]: stopped" in moat.log_text(),
          "SIGTERM: moat logs 'stopped' and exits with status 0", f"status {st}", moat.log)
    n.close()


# ---- 2. socket activation --------------------------------------------------------------


def test_activation(bport):
    # -- the inherited socket is the listener; ours stays open all along
    lsock = listening_socket()
    port = lsock.getsockname()[1]
    inode = os.fstat(lsock.fileno()).st_ino
    conf = write_conf("activated", [f"127.0.0.1:{port}"], bport)
    n = Notify()
    moat, ready, _ = start_moat(conf, n, inherit=[lsock])
    log = moat.log_text()
    started = ready is not None and moat.alive()
    check(started and "cannot listen" not in log,
          f"socket activation: moat starts with fd 3 = 127.0.0.1:{port} (LISTEN_FDS=1, "
          "LISTEN_PID=its pid) although the test still holds the bound port",
          n.history(), moat.log)
    if not started:
        moat.kill()
        lsock.close()
        n.close()
    else:
        ok_req, d = get(port)
        check(ok_req, "socket activation: a TLS request through the inherited socket works",
              d, moat.log)
        lst = tcp_listeners(port)
        held = fds_on_inode(moat.pid, inode)
        check([i for _, i in lst] == [inode] and held >= 1,
              "socket activation: the port's only listening socket is the inherited one, "
              f"and moat holds it ({held} descriptors)",
              f"listening sockets on {port}: {lst}; inherited inode {inode}")
        check("matches no listener" not in log,
              "socket activation: no 'matches no listener' warning when fd 3 matches",
              moat.log)
        lsock.close()  # the parent's copy: moat's copies keep the socket open
        ok_req, d = get(port)
        check(ok_req, "socket activation: still served after the test closed its copy",
              d, moat.log)
        stop_and_check(moat, "socket activation")
        n.close()

    # -- control: with LISTEN_PID naming another process the fds are not moat's, so
    # moat binds the port itself, which the test's socket makes fail: the proof above
    # (moat started although the port was held) is sound.
    lsock = listening_socket()
    port = lsock.getsockname()[1]
    conf = write_conf("control", [f"127.0.0.1:{port}"], bport)
    moat, ready, _ = start_moat(conf, None, inherit=[lsock], listen_pid=os.getpid())
    st = moat.wait(START_TIMEOUT)
    if st is None:
        moat.kill()
    want = f"moat: 127.0.0.1:{port}: cannot listen: Address already in use"
    check(st == 1 and want in moat.log_text(),
          "control: LISTEN_PID of another process: moat ignores fd 3, binds the held "
          f"port itself and exits 1 with '{want}'", f"status {st}", moat.log)
    lsock.close()

    # -- an inherited socket that matches no listener
    stray = listening_socket()
    port = free_port()
    conf = write_conf("unmatched", [f"127.0.0.1:{port}"], bport)
    moat, ready, _ = start_moat(conf, None, inherit=[stray])
    warn = UNMATCHED_WARNING.format(fd=3)
    log = moat.log_text()
    check(moat.alive() and log.count(warn) == 1,
          f"unmatched inherited socket: moat logs '{warn}' once", moat.log)
    ok_req, d = get(port)
    check(ok_req, "unmatched inherited socket: the listener moat bound itself serves",
          d, moat.log)
    stop_and_check(moat, "unmatched inherited socket")
    stray.close()

    # -- two inherited sockets: fd 3 matches, fd 4 does not
    lsock, stray = listening_socket(), listening_socket()
    port = lsock.getsockname()[1]
    conf = write_conf("two-fds", [f"127.0.0.1:{port}"], bport)
    moat, ready, _ = start_moat(conf, None, inherit=[lsock, stray])
    log = moat.log_text()
    check(moat.alive() and log.count(UNMATCHED_WARNING.format(fd=4)) == 1
          and UNMATCHED_WARNING.format(fd=3) not in log and "cannot listen" not in log,
          "LISTEN_FDS=2: only fd 4 (no listener) is warned about, fd 3 is used", moat.log)
    ok_req, d = get(port)
    check(ok_req, "LISTEN_FDS=2: a request through fd 3's socket works", d, moat.log)
    stop_and_check(moat, "LISTEN_FDS=2")
    lsock.close()
    stray.close()


# ---- 3. privilege drop -----------------------------------------------------------------


def privileged_port():
    """A free port below 1024 (we are root), or a free ordinary one."""
    for port in random.sample(range(600, 1024), 100):
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
                return port
        except OSError:
            continue
    return free_port()


def proc_ids(pid):
    """{tid: (uid fields, gid fields, groups, CapEff)} for every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                st = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except OSError:
            continue
        out[tid] = (st["Uid"].split(), st["Gid"].split(), st.get("Groups", "").split(),
                    st.get("CapEff", "").strip())
    return out


def test_privileges(bport):
    if os.geteuid() != 0:
        skip("not root")
        return
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        not_ok("privilege drop: the user 'nobody' exists", "no 'nobody' in the passwd database")
        return
    # Certificate, key and configuration in WORK (mode 0700, root's): only readable
    # before the drop.
    cert, key = os.path.join(WORK, "priv.fullchain"), os.path.join(WORK, "priv.key")
    shutil.copy(f"{CERTS}/ecdsa-p256/end.fullchain", cert)
    shutil.copy(f"{CERTS}/ecdsa-p256/end.key", key)
    os.chmod(key, 0o600)
    mode = os.stat(WORK).st_mode & 0o777
    port = privileged_port()
    conf = write_conf("user-nobody", [f"127.0.0.1:{port}"], bport, extra="user: nobody\n",
                      cert=cert, key=key)
    n = Notify()
    moat, ready, _ = start_moat(conf, n)
    if not check(ready is not None and moat.alive(),
                 f"user: nobody: moat (started as root) listens on 127.0.0.1:{port} and "
                 "sends READY=1", n.history(), moat.log):
        moat.kill()
        n.close()
    else:
        ids = proc_ids(moat.pid)
        want_u, want_g = [str(pw.pw_uid)] * 4, [str(pw.pw_gid)] * 4
        bad = {t: v for t, v in ids.items() if v[0] != want_u or v[1] != want_g}
        check(ids and not bad,
              f"user: nobody: Uid: and Gid: of all {len(ids)} threads are "
              f"{pw.pw_uid}/{pw.pw_gid} (real, effective, saved, filesystem)",
              f"threads not switched: {bad}")
        bad = {t: v[2:] for t, v in ids.items() if v[2] or v[3] != "0000000000000000"}
        check(ids and not bad, "user: nobody: no supplementary groups, no capabilities left",
              f"threads with groups/CapEff: {bad}")
        check(ready["uid"] == pw.pw_uid,
              "user: nobody: READY=1 was sent after the drop (sender uid nobody)",
              f"sender uid {ready['uid']}")
        ok_req, d = get(port)
        check(ok_req, "user: nobody: a TLS request works (certificate and key, readable by "
              f"root only (dir mode {mode:o}), were loaded before the drop)", d, moat.log)
        # A reload now reads the files as nobody and is refused (documented): moat
        # must say so, notify READY=1 again and keep serving.
        moat.signal(signal.SIGHUP)
        rdy, got = n.wait_for("READY=1", 10, moat)
        ok_req, d = get(port)
        check(rdy is not None and ok_req and moat.alive(),
              "user: nobody: after SIGHUP (files now unreadable) READY=1 follows and "
              "moat keeps serving", n.history(), d, moat.log)
        stop_and_check(moat, "user: nobody")
        n.close()

    conf = write_conf("user-unknown", [f"127.0.0.1:{free_port()}"], bport,
                      extra="user: no-such-user-xyz\n")
    n = Notify()
    moat, ready, _ = start_moat(conf, n)
    st = moat.wait(START_TIMEOUT)
    if st is None:
        moat.kill()
    log = moat.log_text()
    check(st == 1 and re.search(r'moat\[error\]: user "no-such-user-xyz": ', log)
          and ready is None,
          "user: no-such-user-xyz: exit status 1, the error names the user, no READY=1",
          f"status {st}", n.history(), moat.log)
    n.close()


# ---- 4. RLIMIT_NOFILE --------------------------------------------------------------------


def nofile_of(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line[len("Max open files"):].split()[:2]
                conv = lambda v: resource.RLIM_INFINITY if v == "unlimited" else int(v)
                return conv(soft), conv(hard)
    return None


def test_nofile(bport):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    mc = 5000
    need = 2 * mc + 64 + WORKERS * 1
    extra = f"limits: {{ max_connections: {mc} }}\n"

    def run(name, nofile, conf_extra=extra):
        """moat under RLIMIT_NOFILE nofile: (proc, its (soft, hard) once ready, served)."""
        port = free_port()
        conf = write_conf(name, [f"127.0.0.1:{port}"], bport, extra=conf_extra)
        n = Notify()
        moat, ready, _ = start_moat(conf, n, nofile=nofile)
        lim = nofile_of(moat.pid) if ready is not None and moat.alive() else None
        ok_req = get(port)[0] if lim else False
        moat.stop(10)
        n.close()
        return moat, lim, ok_req

    moat, lim, ok_req = run("nofile-raise", (1024, hard))
    warned = "LimitNOFILE" in moat.log_text()
    hard_s = "unlimited" if hard == resource.RLIM_INFINITY else hard
    if hard == resource.RLIM_INFINITY or hard >= need:
        check(lim is not None and lim[0] >= 10064 and lim[0] == need and lim[1] == hard
              and not warned and ok_req,
              f"RLIMIT_NOFILE: soft 1024 (hard {hard_s}), max_connections {mc}: moat raises "
              f"the soft limit to {need} (2 x {mc} + 64 + {WORKERS} workers x 1 listener), "
              "no warning, serves", f"limits now {lim}", moat.log)
    else:
        check(lim is not None and lim[0] == hard and warned and ok_req,
              f"RLIMIT_NOFILE: soft 1024, hard {hard} < {need}: soft raised to the hard "
              "limit, warning logged", f"limits now {lim}", moat.log)

    low = 4096
    moat, lim, ok_req = run("nofile-low-hard", (1024, low))
    want = (f"moat[warn]: max_connections {mc} needs {need} file descriptors but the limit "
            f"is {low} (hard {low}): beyond about {(low - 64) // 2} connections accept() "
            "will fail; raise LimitNOFILE= or lower limits.max_connections")
    check(lim == (low, low) and want in moat.log_text() and ok_req,
          f"RLIMIT_NOFILE: hard limit {low} < {need}: soft raised to {low}, warning naming "
          "LimitNOFILE=, moat still serves", f"limits now {lim}", f"want: {want}", moat.log)

    soft = min(2048, hard)
    moat, lim, ok_req = run("nofile-enough", (soft, hard), "limits: { max_connections: 100 }\n")
    check(lim == (soft, hard) and "LimitNOFILE" not in moat.log_text() and ok_req,
          f"RLIMIT_NOFILE: soft {soft} already enough for max_connections 100: left as is",
          f"limits now {lim}", moat.log)


# ---- 5. systemd-analyze verify ------------------------------------------------------------


def test_units():
    sa = shutil.which("systemd-analyze")
    if not sa:
        skip("systemd-analyze not installed")
        return
    # As `make install` would lay them out: the units with "=/usr/local/" replaced by
    # the prefix (its bin/moat is the built binary), and the man pages their
    # Documentation= names found through MANPATH.
    root = os.path.join(WORK, "install")
    prefix, units, man = (os.path.join(root, d) for d in ("prefix", "units", "man"))
    os.makedirs(os.path.join(prefix, "bin"))
    os.makedirs(units)
    os.symlink(os.path.abspath(MOAT), os.path.join(prefix, "bin", "moat"))
    for sec, page in (("8", "moat.8"), ("5", "moat.yaml.5")):
        os.makedirs(os.path.join(man, f"man{sec}"), exist_ok=True)
        os.symlink(os.path.abspath(f"man/{page}"), os.path.join(man, f"man{sec}", page))
    paths = []
    for unit in ("moat.service", "moat.socket"):
        with open(f"systemd/{unit}") as f:
            text = f.read().replace("=/usr/local/", f"={prefix}/")
        paths.append(os.path.join(units, unit))
        with open(paths[-1], "w") as f:
            f.write(text)
    env = dict(os.environ, MANPATH=man, SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER="")
    try:
        r = subprocess.run([sa, "verify", *paths], capture_output=True, text=True, env=env,
                           cwd=units, timeout=60)
        res, outp = r.returncode, (r.stdout + r.stderr).strip()
    except subprocess.TimeoutExpired:
        res, outp = "timeout", ""
    check(res == 0 and not outp,
          "systemd-analyze verify moat.service moat.socket (as installed): exit 0, "
          "no warnings", f"exit {res}", outp)


# ---- main ------------------------------------------------------------------------------


def main():
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, on_signal)
    signal.alarm(OVERALL_TIMEOUT)
    try:
        missing = [b for b in (MOAT, BACKEND) if not os.access(b, os.X_OK)]
        if missing:
            not_ok("moat and the backend are built", f"missing: {missing}; run: make {' '.join(missing)}")
            return
        backend, bport = start_backend("web")
        if not bport:
            not_ok("backend starts", backend.log)
            return
        test_notify(bport)
        test_activation(bport)
        test_privileges(bport)
        test_nofile(bport)
        test_units()
        backend.stop(5)
    except Interrupted as e:
        not_ok(f"moat_systemd.py ran to the end ({e} after at most {OVERALL_TIMEOUT}s)")
    finally:
        signal.alarm(0)
        cleanup()
        emit(f"SUMMARY {T['pass']} {T['fail']}")


if __name__ == "__main__":
    main()
    sys.exit(1 if T["fail"] else 0)
