#!/usr/bin/env python3
"""moat's soak test (issue 8; `make soak`): a bounded, mixed load through moat, then
checks that nothing was corrupted, leaked or left open.

    SOAK_SECONDS=120 python3 tests/soak/soak.py      # from anywhere; BUILD=build
                                                     # MOAT=path: another moat binary

Setup, all on 127.0.0.1: two build/backend processes on ports the kernel picks (mode
http, mode echo); moat (build/moat, SOAK_WORKERS workers, default 2) with two listeners
on ports probed free just before, one per backend, the ECDSA P-256 certificate of
tests/certs, an access log, timeouts handshake 3s / idle 6s.

Warm-up: one probe (GET / and an echo round trip), a second of full and resumed
handshakes; then the "before" values (RSS, descriptors) are taken with no connection
open. The load then runs for SOAK_SECONDS (default 120), all of it at once:

  loadgen full       build/bench/loadgen --mode handshake, TLS 1.3, SOAK_HS_CONNS (4)
                     connections at a time: full handshake, GET /, close_notify
  loadgen resumed    the same with --resume, TLS 1.3 (2 connections) and TLS 1.2 (2)
  soakclient.py      bulk transfers checked end to end (echo, GET /bytes, POST /sha256;
                     TLS 1.3 and 1.2), abrupt disconnects (RST at every stage), garbage
                     clients (random bytes, tests/interop/rawpeer.py cases, bad records
                     after the handshake), stalled and idle connections (see its header)
  reload             at 1/2 of the run: the configuration is rewritten to use a new
                     certificate file (RSA 2048) and moat gets SIGHUP; at 3/4 (unless
                     SOAK_BAD_RELOAD=0) a configuration naming a missing key gets SIGHUP
                     and must be refused, the running one kept

moat's RSS, descriptors and threads are sampled every 0.25 s. Afterwards, checks (each
PASS or FAIL; any FAIL makes the exit status 1):
  - every completed transfer's bytes matched, and transfers did not fail;
  - loadgen: no errors; the resumed runs resumed (>= 90% of handshakes, across the
    reload: ticket keys survive it);
  - abrupt, garbage and slow clients got what they should (rawpeer outcomes as
    tests/interop/hostile.sh expects them, moat's timeouts honoured);
  - the reload took effect (new certificate served after it, the old one not) and the
    bad one was refused;
  - connections back to zero within SOAK_SETTLE s (default 30): none of moat's sockets
    other than its listeners (/proc/PID/fd against /proc/PID/net/tcp*), no established
    TCP connection to its ports nor from it to the backends (ss), its descriptor count
    back to the "before" value;
  - RSS after <= before + max(SOAK_RSS_SLACK_KIB (8192 KiB), SOAK_RSS_SLACK_PCT (20) %);
  - moat still alive and serving (probe, loadgen request run);
  - moat's log: no WARN or ERROR line except the expected "reload failed" of the bad
    reload; access-log end reasons all of known kinds;
  - SIGTERM: moat logs "stopping; 0 connections draining" (its own count) and exits 0.
The report (stdout and SOAK_RESULTS, default tests/soak/results.md): duration,
connections served by kind (client side and moat's access log), bytes checked, errors
by kind, RSS before/peak/after, descriptors, PASS/FAIL per check. Every process is
started here and stopped by its PID; the whole run is bounded (the load's length plus
about a minute at most).
"""

import datetime
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.chdir(ROOT)
BUILD = os.path.abspath(os.environ.get("BUILD", "build"))
SECS = float(os.environ.get("SOAK_SECONDS", "120"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "2"))
HS_CONNS = int(os.environ.get("SOAK_HS_CONNS", "4"))
RSS_SLACK_KIB = int(os.environ.get("SOAK_RSS_SLACK_KIB", "8192"))
RSS_SLACK_PCT = float(os.environ.get("SOAK_RSS_SLACK_PCT", "20"))
SETTLE = float(os.environ.get("SOAK_SETTLE", "30"))
BAD_RELOAD = os.environ.get("SOAK_BAD_RELOAD", "1") != "0"
RESULTS = os.environ.get("SOAK_RESULTS", "tests/soak/results.md")
HS_TIMEOUT, IDLE_TIMEOUT = 3, 6
CERTS = os.path.join(ROOT, "tests/certs")
CLIENT = os.path.join(ROOT, "tests/soak/soakclient.py")
MOAT, BACKEND, LOADGEN = (os.path.join(BUILD, p) for p in ("moat", "backend", "bench/loadgen"))
MOAT = os.environ.get("MOAT", MOAT)  # e.g. a sanitizer build (its RSS is not comparable)

started = []  # every process we started (Popen), stopped by PID at the end


def say(msg):
    print("soak: " + msg, flush=True)


def start(cmd, **kw):
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kw)
    started.append(p)
    return p


def stop(p, sig=signal.SIGTERM, wait=5.0):
    """Signals the process we started and reaps it (SIGKILL after `wait`); its status."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
            return p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return "killed"
    return p.returncode


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def read_line(p, secs):
    """The first stdout line of p within secs, or None."""
    end = time.monotonic() + secs
    buf = b""
    while time.monotonic() < end and b"\n" not in buf:
        r, _, _ = select.select([p.stdout], [], [], 0.1)
        if r:
            d = os.read(p.stdout.fileno(), 4096)
            if not d:
                break
            buf += d
    return buf.decode(errors="replace").split("\n")[0] if b"\n" in buf else None


def start_backend(name, *args):
    p = start([BACKEND, "--listen", "127.0.0.1:0", "--name", name, "--quiet", *args],
              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = read_line(p, 10)
    m = re.match(r"^listening on 127\.0\.0\.1:(\d+)$", line or "")
    if not m:
        raise SystemExit("soak: backend %s did not start (%r)" % (name, line))
    return p, int(m.group(1))


# ---- measurements of moat ---------------------------------------------------------------

def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
              "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
              "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING"}


def moat_sockets(pid):
    """moat's sockets by TCP state ('LISTEN', 'ESTABLISHED', ..., 'other' for non-TCP)."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            m = re.match(r"socket:\[(\d+)\]", link)
            if m:
                inodes.add(m.group(1))
    except OSError:
        return {}
    states = {}
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[9] in inodes:
                        inodes.discard(parts[9])
                        st = TCP_STATES.get(parts[3], parts[3])
                        states[st] = states.get(st, 0) + 1
        except OSError:
            pass
    if inodes:
        states["other"] = len(inodes)
    return states


def ss_count(expr):
    """Established TCP connections matching an ss filter, e.g. '( sport = :1 )'."""
    try:
        out = subprocess.run(["ss", "-Htn", "state", "established", expr], capture_output=True,
                             text=True, timeout=10).stdout
        return len([line for line in out.splitlines() if line.strip()])
    except (OSError, subprocess.TimeoutExpired):
        return None


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.stop_flag = threading.Event()
        self.peak_rss = self.peak_fds = self.peak_threads = 0
        self.peak_at = 0.0
        self.samples = 0
        self.t0 = time.monotonic()

    def run(self):
        while not self.stop_flag.wait(0.25):
            rss = status_kib(self.pid, "VmRSS")
            fds = fd_count(self.pid)
            thr = status_kib(self.pid, "Threads")
            if rss is None:
                continue
            self.samples += 1
            if rss > self.peak_rss:
                self.peak_rss, self.peak_at = rss, time.monotonic() - self.t0
            self.peak_fds = max(self.peak_fds, fds or 0)
            self.peak_threads = max(self.peak_threads, thr or 0)


# ---- configuration -----------------------------------------------------------------------

def write_config(path, ports, bports, cert, key, access):
    listeners = "".join(
        '  - address: "127.0.0.1:%d"\n'
        "    certificates: [ { cert: %s, key: %s } ]\n"
        "    backend: %s\n" % (p, cert, key, b) for p, b in zip(ports, ("http", "echo")))
    text = ("# moat soak test (tests/soak/soak.py)\n"
            "workers: %d\n"
            "log: { level: info, access: %s }\n"
            "timeouts: { handshake: %ds, idle: %ds, connect: 2s, drain: 3s }\n"
            "limits: { max_connections: 4096 }\n"
            "listeners:\n%s"
            "backends:\n"
            '  http: { servers: ["127.0.0.1:%d"] }\n'
            '  echo: { servers: ["127.0.0.1:%d"] }\n'
            % (WORKERS, access, HS_TIMEOUT, IDLE_TIMEOUT, listeners, bports[0], bports[1]))
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return text


def cert_fp(fullchain):
    with open(fullchain) as f:
        pem = f.read()
    first = pem[:pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).hexdigest()


# ---- logs ------------------------------------------------------------------------------------

LOG_RE = re.compile(r"^\S+ moat\[(debug|info|warn|error)\]: (.*)$")
# (level, message pattern, why it is expected)
EXPECTED_LOG = [
    ("info", r"listening on .*", "start"),
    ("info", r"SIGHUP: reloading .*", "reload"),
    ("info", r"listener .*: ticket keys kept: earlier tickets still resume", "reload"),
    ("info", r"configuration reloaded", "reload"),
    ("info", r"SIGTERM: stopping; \d+ connections draining", "stop"),
    ("info", r"stopped", "stop"),
    ("error", r"reload failed, keeping the running configuration: .*", "the bad reload"),
]


def log_kind(msg):
    msg = re.sub(r"0x[0-9a-f]+", "P", msg)
    msg = re.sub(r"/\S+", "PATH", msg)
    msg = re.sub(r"\d+", "N", msg)
    return msg[:140]


def classify_log(path):
    """moat's stderr: {(level, kind): count}, unexpected [(level, line)]."""
    kinds, unexpected = {}, []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = LOG_RE.match(line)
            if not m:
                key = ("?", log_kind(line))
                kinds[key] = kinds.get(key, 0) + 1
                unexpected.append(("?", line))
                continue
            level, msg = m.groups()
            key = (level, log_kind(msg))
            kinds[key] = kinds.get(key, 0) + 1
            if level in ("warn", "error") and not any(
                    level == lv and re.fullmatch(rx, msg) for lv, rx, _ in EXPECTED_LOG):
                unexpected.append((level, line))
    return kinds, unexpected


ACCESS_RE = re.compile(r"^\S+ access: (.*) end=\"(.*)\"$")
# End reasons a connection of this load may have; anything else is reported as unexpected.
EXPECTED_ENDS = [
    r"closed", r"client closed without close_notify", r"client connection reset",
    r"client closed during the handshake", r"handshake timeout", r"idle timeout",
    r"client write failed", r"tls error: .*",
]


def end_kind(end):
    return re.sub(r"\d+", "N", end)


def parse_access(path, ports):
    res = {"lines": 0, "ends": {}, "listeners": {}, "versions": {}, "resumed": 0,
           "bytes_in": 0, "bytes_out": 0, "unparsed": 0, "unexpected_ends": {}}
    names = {"127.0.0.1:%d" % ports[0]: "http", "127.0.0.1:%d" % ports[1]: "echo"}
    try:
        f = open(path, errors="replace")
    except OSError:
        return res
    with f:
        for line in f:
            m = ACCESS_RE.match(line.rstrip("\n"))
            if not m:
                res["unparsed"] += 1
                continue
            res["lines"] += 1
            kv = dict(p.split("=", 1) for p in m.group(1).split() if "=" in p)
            end = end_kind(m.group(2))
            res["ends"][end] = res["ends"].get(end, 0) + 1
            if not any(re.fullmatch(rx, m.group(2)) for rx in EXPECTED_ENDS):
                res["unexpected_ends"][end] = res["unexpected_ends"].get(end, 0) + 1
            lst = names.get(kv.get("listener"), kv.get("listener", "?"))
            res["listeners"][lst] = res["listeners"].get(lst, 0) + 1
            v = kv.get("version", "-")
            res["versions"][v] = res["versions"].get(v, 0) + 1
            res["resumed"] += kv.get("resumed") == "yes"
            res["bytes_in"] += int(kv.get("bytes_in", 0) or 0)
            res["bytes_out"] += int(kv.get("bytes_out", 0) or 0)
    return res


def loadgen_kv(text):
    line = ([ln for ln in text.splitlines() if ln.startswith("loadgen ")] or [""])[-1]
    return dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)


def wait_log(path, pattern, since, secs):
    """A line matching pattern after byte offset `since` within secs."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        with open(path, errors="replace") as f:
            f.seek(since)
            for line in f:
                if re.search(pattern, line):
                    return line.rstrip("\n")
        time.sleep(0.1)
    return None


def kib(v):
    return "-" if v is None else "%d KiB (%.1f MiB)" % (v, v / 1024)


# ---- the run ------------------------------------------------------------------------------

def main():
    for b in (MOAT, BACKEND, LOADGEN):
        if not os.access(b, os.X_OK):
            raise SystemExit("soak: %s is missing (make soak builds it)" % b)
    if shutil.which("ss") is None:
        raise SystemExit("soak: needs ss (iproute2)")
    t_begin = time.monotonic()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tmp = tempfile.mkdtemp(prefix="moat-soak.")
    checks = []  # (name, ok, detail)

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))
        say("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))

    try:
        http_p, http_port = start_backend("soak")
        echo_p, echo_port = start_backend("soak-echo", "--mode", "echo")
        bports = (http_port, echo_port)
        ports = free_ports(2)
        conf = os.path.join(tmp, "moat.yaml")
        access = os.path.join(tmp, "access.log")
        moat_log = os.path.join(tmp, "moat.log")
        cert1 = (os.path.join(CERTS, "ecdsa-p256/end.fullchain"),
                 os.path.join(CERTS, "ecdsa-p256/end.key"))
        # The reload's new certificate file: a copy of the RSA one, under a new name.
        cert2 = (os.path.join(tmp, "reloaded.fullchain"), os.path.join(tmp, "reloaded.key"))
        shutil.copy(os.path.join(CERTS, "rsa2048/end.fullchain"), cert2[0])
        shutil.copy(os.path.join(CERTS, "rsa2048/end.key"), cert2[1])
        fp1, fp2 = cert_fp(cert1[0]), cert_fp(cert2[0])
        config_text = write_config(conf, ports, bports, cert1[0], cert1[1], access)
        with open(moat_log, "w") as logf:
            moat = start([MOAT, "-c", conf], stdout=subprocess.DEVNULL, stderr=logf)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and moat.poll() is None:
            with open(moat_log, errors="replace") as f:
                if sum("moat[info]: listening on" in ln for ln in f) >= 2:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit("soak: moat did not start:\n" + open(moat_log).read())
        pid = moat.pid
        say("moat pid %d on 127.0.0.1:%d (http) and :%d (echo); backends :%d, :%d; work dir %s"
            % (pid, ports[0], ports[1], bports[0], bports[1], tmp))
        rss_start = status_kib(pid, "VmRSS")
        fds_start = fd_count(pid)

        def client(*args, **kw):
            return subprocess.run([sys.executable, CLIENT, "--http-port", str(ports[0]),
                                   "--echo-port", str(ports[1]), *args], capture_output=True,
                                  text=True, timeout=kw.get("timeout", 60))

        def loadgen(*args, secs=1.0):
            return subprocess.run([LOADGEN, "--connect", "127.0.0.1:%d" % ports[0],
                                   "-d", str(secs), *args], capture_output=True, text=True,
                                  timeout=secs + 60)

        def quiet():
            """Waits until moat holds no connection; (zero?, seconds, state)."""
            t0 = time.monotonic()
            sport = "( sport = :%d or sport = :%d )" % tuple(ports)
            dport = "( dport = :%d or dport = :%d )" % bports
            while True:
                socks = moat_sockets(pid)
                conns = sum(v for k, v in socks.items() if k != "LISTEN")
                st = {"sockets": socks, "ss_client": ss_count(sport),
                      "ss_backend": ss_count(dport), "fds": fd_count(pid)}
                if not socks:  # no /proc/PID: moat is gone, nothing to count
                    return False, time.monotonic() - t0, st
                if conns == 0 and st["ss_client"] == 0 and st["ss_backend"] == 0:
                    return True, time.monotonic() - t0, st
                if time.monotonic() - t0 > SETTLE:
                    return False, time.monotonic() - t0, st
                time.sleep(0.25)

        # Warm-up: every path once, so one-time allocations are not counted as growth.
        probe = client("--probe")
        if probe.returncode != 0:
            raise SystemExit("soak: moat does not serve: %s%s" % (probe.stdout, probe.stderr))
        loadgen("--mode", "handshake", "-c", "2", "--resume", secs=1.0)
        loadgen("--mode", "handshake", "-c", "2", "--resume", "--tls", "1.2", "--groups",
                "X25519:P-256", secs=1.0)
        quiet()
        time.sleep(1)
        rss_before = status_kib(pid, "VmRSS")
        fds_before = fd_count(pid)
        threads_before = status_kib(pid, "Threads")
        socks_before = moat_sockets(pid)
        say("before the load: RSS %s, %d descriptors, sockets %s"
            % (kib(rss_before), fds_before, socks_before))

        sampler = Sampler(pid)
        sampler.start()
        t0 = time.monotonic()
        t0_wall = time.time()
        lg_specs = [
            ("full TLS 1.3", ["--mode", "handshake", "-c", str(HS_CONNS)]),
            ("resumed TLS 1.3", ["--mode", "handshake", "-c", str(max(1, HS_CONNS // 2)),
                                 "--resume"]),
            # P-256 too: in TLS 1.2 the client's groups also bound the ECDSA
            # certificate's curve (RFC 8422 section 5.1), and X25519 is loadgen's only one.
            ("resumed TLS 1.2", ["--mode", "handshake", "-c", str(max(1, HS_CONNS // 2)),
                                 "--resume", "--tls", "1.2", "--groups", "X25519:P-256"]),
        ]
        lgs = []
        for name, args in lg_specs:
            out = open(os.path.join(tmp, "loadgen-%d.out" % len(lgs)), "w+")
            p = start([LOADGEN, "--connect", "127.0.0.1:%d" % ports[0], "-d", str(SECS),
                       "--label", name.replace(" ", "_"), *args], stdout=out,
                      stderr=subprocess.STDOUT)
            lgs.append((name, p, out))
        client_json = os.path.join(tmp, "client.json")
        cl = start([sys.executable, CLIENT, "--http-port", str(ports[0]), "--echo-port",
                    str(ports[1]), "--duration", str(SECS), "--handshake-timeout",
                    str(HS_TIMEOUT), "--idle-timeout", str(IDLE_TIMEOUT), "--out", client_json])

        # The reload at half time: a new certificate file in a rewritten configuration.
        reload_info = {}
        time.sleep(max(0.0, t0 + SECS / 2 - time.monotonic()))
        config2 = write_config(conf, ports, bports, cert2[0], cert2[1], access)
        off = os.path.getsize(moat_log)
        reload_info["at"] = time.time()
        reload_info["at_s"] = time.monotonic() - t0
        os.kill(pid, signal.SIGHUP)
        reload_info["line"] = wait_log(moat_log, r"configuration reloaded|reload failed", off, 15)
        reload_info["tickets"] = wait_log(moat_log, r"ticket keys", off, 1)
        say("t=%.0fs SIGHUP (new certificate file): %s" % (reload_info["at_s"],
                                                           reload_info["line"]))
        if BAD_RELOAD:
            time.sleep(max(0.0, t0 + SECS * 3 / 4 - time.monotonic()))
            write_config(conf, ports, bports, cert2[0], os.path.join(tmp, "missing.key"), access)
            off = os.path.getsize(moat_log)
            reload_info["bad_at_s"] = time.monotonic() - t0
            os.kill(pid, signal.SIGHUP)
            reload_info["bad_line"] = wait_log(moat_log, r"configuration reloaded|reload failed",
                                               off, 15)
            write_config(conf, ports, bports, cert2[0], cert2[1], access)  # the good one back
            say("t=%.0fs SIGHUP (missing key): %s" % (reload_info["bad_at_s"],
                                                      reload_info["bad_line"]))

        lg_results = []
        for name, p, out in lgs:
            try:
                p.wait(timeout=max(1.0, t0 + SECS + 60 - time.monotonic()))
            except subprocess.TimeoutExpired:
                stop(p)
            out.seek(0)
            text = out.read()
            lg_results.append((name, p.returncode, loadgen_kv(text), text.strip()))
        try:
            cl.wait(timeout=max(1.0, t0 + SECS + 90 - time.monotonic()))
        except subprocess.TimeoutExpired:
            stop(cl)
        load_secs = time.monotonic() - t0
        try:
            with open(client_json) as f:
                cres = json.load(f)
        except (OSError, ValueError):
            cres = None
        say("load over after %.0f s; waiting for moat's connections to close" % load_secs)

        zero, settle_secs, st_after = quiet()
        time.sleep(2)
        sampler.stop_flag.set()
        sampler.join()
        rss_after = status_kib(pid, "VmRSS")
        fds_after = fd_count(pid)
        threads_after = status_kib(pid, "Threads")
        socks_after = moat_sockets(pid)

        # Still alive and serving.
        alive = moat.poll() is None
        probe = client("--probe")
        lg_after = loadgen_kv(loadgen("--mode", "request", "-c", "1", secs=1.0).stdout)
        zero2, _, _ = quiet()

        # Stop: moat's own connection count, then the exit status.
        off = os.path.getsize(moat_log)
        status = stop(moat, wait=10)
        stop_line = wait_log(moat_log, r"stopping; \d+ connections draining", off, 1)
        stop(http_p)
        stop(echo_p)

        # ---- checks -------------------------------------------------------------------
        c = cres or {}
        transfers = sum(c.get("transfers", {}).values())
        check("client finished and reported", cres is not None and cl.returncode == 0,
              "exit %s" % cl.returncode)
        check("every completed transfer's bytes matched",
              cres is not None and transfers > 0 and not c.get("mismatches"),
              "%d transfers, %s bytes compared, %d mismatches%s"
              % (transfers, format(c.get("bytes_checked", 0), ","), len(c.get("mismatches", [])),
                 "".join("; " + m for m in c.get("mismatches", [])[:3])))
        bulk_err = {k: v for k, v in c.get("errors", {}).items()
                    if k.startswith("bulk/") or k.startswith("slow/idle")}
        check("no transfer failed", cres is not None and not bulk_err,
              ", ".join("%s x%d" % kv for kv in bulk_err.items()) or "0 failed")
        for name, rc, kv, text in lg_results:
            hs = int(kv.get("handshakes", 0) or 0)
            res = int(kv.get("resumed", 0) or 0)
            err = int(kv.get("errors", -1) or 0) if kv else -1
            detail = "%d handshakes, %d resumed, %s errors%s" % (
                hs, res, kv.get("errors", "?"),
                "" if err == 0 else " (first: %s)" % kv.get("err", text[-200:]))
            ok = hs > 0 and err == 0
            if "resumed" in name:
                # loadgen keeps the session of its last full handshake; when a resumed
                # TLS 1.2 handshake brings a renewed ticket, OpenSSL marks that session
                # not resumable and does not pass the new one to loadgen's callback
                # (new_session_cb is not called on a TLS 1.2 hit), so against a server
                # that renews tickets every other TLS 1.2 connection is a full one.
                want = 90 if "1.3" in name else 45
                ok = ok and res * 100 >= want * hs
                detail += ", %.1f%% resumed (>= %d%%)" % (100.0 * res / hs if hs else 0, want)
            check("loadgen %s: no errors" % name, ok, detail)
        for ver in ("1.3", "1.2"):
            key = "resumption offered, TLS %s -> " % ver
            res = c.get("outcomes", {}).get(key + "resumed", 0)
            full = c.get("outcomes", {}).get(key + "full handshake", 0)
            check("soakclient TLS %s: offered sessions resumed (>= 90%%)" % ver,
                  res + full > 0 and res >= 0.9 * (res + full),
                  "%d of %d resumed (sessions chained across the reload)" % (res, res + full))
        other_err = {k: v for k, v in c.get("errors", {}).items() if k not in bulk_err}
        check("abrupt, garbage and slow clients got what they should",
              cres is not None and not other_err,
              ", ".join("%s x%d" % kv for kv in sorted(other_err.items())) or "no surprise")
        certs = c.get("certs", {})
        old, new = certs.get(fp1), certs.get(fp2)
        t_rel = reload_info.get("at", 0)
        check("SIGHUP reload applied: the new certificate is served after it, the old not",
              reload_info.get("line") and "configuration reloaded" in reload_info["line"]
              and new is not None and old is not None and new[1] >= t_rel - 0.05
              and old[2] <= t_rel + 2.0,
              "old cert: %s connections, last %+.1f s from the reload; new cert: %s, first %+.1f s"
              % (old[0] if old else 0, old[2] - t_rel if old else 0, new[0] if new else 0,
                 new[1] - t_rel if new else 0))
        check("ticket keys kept across the reload",
              reload_info.get("tickets") and "kept" in reload_info["tickets"],
              (reload_info.get("tickets") or "no line").split("]: ", 1)[-1])
        if BAD_RELOAD:
            check("bad reload (missing key) refused, moat kept running",
                  reload_info.get("bad_line") and "reload failed" in reload_info["bad_line"]
                  and alive, (reload_info.get("bad_line") or "no line").split("]: ", 1)[-1])
        check("connections back to zero after the load",
              zero, "in %.1f s: moat sockets %s, ss established to moat %s, moat to backends %s"
              % (settle_secs, st_after["sockets"], st_after["ss_client"], st_after["ss_backend"]))
        check("descriptors back to the start", fds_after == fds_before,
              "%s before, %s after (peak %d)" % (fds_before, fds_after, sampler.peak_fds))
        slack = max(RSS_SLACK_KIB, rss_before * RSS_SLACK_PCT / 100.0)
        check("RSS back near the start",
              rss_after is not None and rss_after <= rss_before + slack,
              "before %d KiB, peak %d KiB, after %d KiB (%+d KiB; allowed +%d KiB)"
              % (rss_before, sampler.peak_rss, rss_after or 0, (rss_after or 0) - rss_before,
                 slack))
        acc = parse_access(access, ports)
        if acc["lines"]:
            say("RSS after - before: %.2f KiB per 1000 connections served"
                % (((rss_after or 0) - rss_before) * 1000.0 / acc["lines"]))
        check("moat alive and serving after the soak",
              alive and probe.returncode == 0 and int(lg_after.get("requests", 0) or 0) > 0
              and lg_after.get("errors") == "0",
              "%s; loadgen request: %s requests, %s errors" % (
                  (probe.stdout or probe.stderr).strip(), lg_after.get("requests"),
                  lg_after.get("errors")))
        kinds, unexpected = classify_log(moat_log)
        bad_reloads = sum(v for (lv, k), v in kinds.items() if lv == "error"
                          and k.startswith("reload failed"))
        check("moat log: no WARN/ERROR beyond the expected",
              not unexpected and bad_reloads == (1 if BAD_RELOAD else 0),
              "%d unexpected%s; %d 'reload failed' (expected %d)"
              % (len(unexpected), "".join("; " + ln for _, ln in unexpected[:3]), bad_reloads,
                 1 if BAD_RELOAD else 0))
        check("access log: every end reason of a known kind",
              acc["lines"] > 0 and not acc["unexpected_ends"] and not acc["unparsed"],
              "%d lines, unexpected: %s" % (acc["lines"], acc["unexpected_ends"] or "none"))
        # Every connection a client made reached moat and was logged (the access log
        # also has the warm-up's, the probes' and loadgen's cut off by its window's end).
        n_client = sum(int(kv.get("handshakes", 0) or 0) + int(kv.get("errors", 0) or 0)
                       for _, _, kv, _ in lg_results)
        n_client += sum(c.get("ok", {}).values()) + sum(c.get("errors", {}).values())
        check("moat logged every client connection", acc["lines"] >= n_client > 0,
              "%d access-log lines >= %d connections counted by the clients"
              % (acc["lines"], n_client))
        m = re.search(r"stopping; (\d+) connections draining", stop_line or "")
        check("SIGTERM: moat's own count is 0 connections, exit status 0",
              m and m.group(1) == "0" and status == 0 and zero2,
              "%s; exit status %s" % ((stop_line or "no stopping line").split("]: ", 1)[-1],
                                       status))

        # ---- report -------------------------------------------------------------------
        report = render(locals())
        print()
        print(report)
        with open(RESULTS, "w") as f:
            f.write(report)
        say("written to %s (%d s in all)" % (RESULTS, time.monotonic() - t_begin))
        return 0 if all(ok for _, ok, _ in checks) else 1
    finally:
        for p in started:
            stop(p, wait=3)
        shutil.rmtree(tmp, ignore_errors=True)


def table(rows, head):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(out)


def render(v):
    c = v["cres"] or {}
    acc = v["acc"]
    lines = []
    add = lines.append
    fails = sum(1 for _, ok, _ in v["checks"] if not ok)
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        head, dirty = "?", ""
    add("# moat soak test — results")
    add("")
    add("`make soak` (tests/soak/soak.py, tests/soak/soakclient.py), run of %s: "
        "**%s** (%d of %d checks failed)." % (v["when"], "PASS" if not fails else "FAIL", fails,
                                             len(v["checks"])))
    add("")
    add("- load: SOAK_SECONDS=%g (ran %.1f s; whole test %.0f s); moat %s%s, %d workers, "
        "on %d CPUs" % (SECS, v["load_secs"], time.monotonic() - v["t_begin"], head,
                        " with local changes" if dirty else "", WORKERS, os.cpu_count() or 0))
    add("- SIGHUP with a new certificate file (ECDSA P-256 -> RSA 2048) at t=%.0f s%s"
        % (v["reload_info"].get("at_s", 0),
           "; SIGHUP with a missing key (refused) at t=%.0f s" % v["reload_info"]["bad_at_s"]
           if "bad_at_s" in v["reload_info"] else ""))
    add("- moat timeouts: handshake %d s, idle %d s; RSS tolerance: +max(%d KiB, %g%%)"
        % (HS_TIMEOUT, IDLE_TIMEOUT, RSS_SLACK_KIB, RSS_SLACK_PCT))
    add("")
    add("## Checks")
    add("")
    add(table([("PASS" if ok else "**FAIL**", n, d.replace("|", "/")) for n, ok, d in v["checks"]],
              ["result", "check", "detail"]))
    add("")
    add("## Connections served, by kind (client side)")
    add("")
    rows = []
    for name, rc, kv, text in v["lg_results"]:
        rows.append(("loadgen " + name, kv.get("handshakes", "?"),
                     "%s resumed, %s hs/s" % (kv.get("resumed", "?"), kv.get("hs_per_s", "?")),
                     kv.get("errors", "?")))
    errs_by_kind = {}
    for k, n in c.get("errors", {}).items():
        kind = k.split(": ", 1)[0]
        errs_by_kind[kind] = errs_by_kind.get(kind, 0) + n
    for kind in sorted(set(c.get("ok", {})) | set(errs_by_kind)):
        rows.append((kind, c.get("ok", {}).get(kind, 0) + errs_by_kind.get(kind, 0), "",
                     errs_by_kind.get(kind, 0)))
    add(table(rows, ["kind", "connections / operations", "notes", "errors"]))
    add("")
    total_client = sum(int(kv.get("handshakes", 0) or 0) for _, _, kv, _ in v["lg_results"])
    add("loadgen counts handshakes completed inside its window (those cut by the end are "
        "not counted); an `http` operation is one connection with 1-4 requests. "
        "loadgen total: %d handshakes." % total_client)
    add("")
    add("## Bytes checked")
    add("")
    add(table([(k, n) for k, n in sorted(c.get("transfers", {}).items())],
              ["transfer kind", "completed transfers"]))
    add("")
    add("%s bytes compared end to end (echo: both directions; download: each byte against "
        "the backend's pattern; upload: the backend's SHA-256 and length), %d mismatches."
        % (format(c.get("bytes_checked", 0), ","), len(c.get("mismatches", []))))
    add("moat's access log counts %s bytes in and %s bytes out over all connections."
        % (format(acc["bytes_in"], ","), format(acc["bytes_out"], ",")))
    add("")
    add("## Errors by kind")
    add("")
    add("Client side, unexpected (each is a failed operation):")
    add("")
    if c.get("errors"):
        add(table([(k, n, c.get("error_examples", {}).get(k, "")[:160].replace("|", "/"))
                   for k, n in sorted(c["errors"].items())], ["error", "count", "first"]))
    else:
        add("none")
    add("")
    add("Client side, expected outcomes of abrupt, garbage and slow clients:")
    add("")
    add(table(sorted(c.get("outcomes", {}).items()), ["case -> outcome", "count"]))
    add("")
    waits = c.get("waits", {})
    if waits:
        add("Time until moat closed stalled/idle connections (min-max s): "
            + "; ".join("%s %.2f-%.2f" % (k, a, b) for k, (a, b) in sorted(waits.items())))
        add("")
    add("How moat answered our close_notify: "
        + (", ".join("%s x%d" % kv for kv in sorted(c.get("ends", {}).items())) or "-"))
    add("")
    add("moat's access log (%d connections: %s; %s; %d resumed), by end reason:"
        % (acc["lines"], ", ".join("%s %d" % kv for kv in sorted(acc["listeners"].items())),
           ", ".join("%s %d" % kv for kv in sorted(acc["versions"].items())), acc["resumed"]))
    add("")
    add(table(sorted(acc["ends"].items(), key=lambda kv: -kv[1]), ["end", "connections"]))
    add("")
    add("moat's log (stderr) by level and kind:")
    add("")
    add(table([(lv, k, n) for (lv, k), n in sorted(v["kinds"].items())],
              ["level", "message", "count"]))
    add("")
    add("## Resources (moat process)")
    add("")
    s = v["sampler"]
    add(table([
        ("RSS (VmRSS)", kib(v["rss_start"]), kib(v["rss_before"]), kib(s.peak_rss),
         kib(v["rss_after"])),
        ("descriptors", v["fds_start"], v["fds_before"], s.peak_fds, v["fds_after"]),
        ("threads", "", v["threads_before"], s.peak_threads, v["threads_after"]),
        ("sockets", "", v["socks_before"], "", v["socks_after"]),
    ], ["", "at start", "before the load (after warm-up)", "peak", "after"]))
    add("")
    add("%d samples every 0.25 s; the peak RSS was at t=%.0f s. RSS after - before: %+d KiB "
        "over %d connections (%.2f KiB per 1000). After the load the connections were gone "
        "in %.1f s (the client itself ends only once its last stalled and idle connections "
        "were closed by moat)." % (
            s.samples, s.peak_at, (v["rss_after"] or 0) - v["rss_before"], acc["lines"],
            ((v["rss_after"] or 0) - v["rss_before"]) * 1000.0 / max(1, acc["lines"]),
            v["settle_secs"]))
    add("")
    add("## Setup")
    add("")
    add("moat's configuration (ports chosen at run time; at the reload the certificates "
        "became $TMP/reloaded.{fullchain,key}, a copy of tests/certs/rsa2048/end.*):")
    add("")
    add("```yaml")
    add(re.sub(re.escape(ROOT) + "/", "", v["config_text"]).replace(v["tmp"], "$TMP").rstrip())
    add("```")
    add("")
    add("Load: " + "; ".join("loadgen %s: `%s`" % (n, " ".join(a)) for n, a in v["lg_specs"])
        + "; soakclient.py threads %s." % c.get("threads", "?"))
    add("")
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
