#!/usr/bin/env python3
"""The mixed client load of moat's soak test (tests/soak/soak.py; `make soak`).

    python3 tests/soak/soakclient.py --http-port P --echo-port Q --duration S \
        --handshake-timeout H --idle-timeout I --out FILE.json [--seed N]
    python3 tests/soak/soakclient.py --http-port P --echo-port Q --probe

Every connection goes to 127.0.0.1: --http-port is a moat listener in front of
build/backend (mode http), --echo-port one in front of build/backend --mode echo.
Threads run operations of one family each, back to back, until --duration seconds have
passed (an operation started before the end runs to its end; each socket operation is
bounded by IO_TIMEOUT):

  bulk (4 threads)    transfers whose bytes are checked end to end, TLS 1.3 or 1.2:
                      echo      N random bytes to the echo backend, read back with at
                                most WINDOW in flight; SHA-256 and length of both
                                directions compared
                      http      1-4 keep-alive requests on one connection, each either
                                GET /bytes?n=N (every byte compared with the backend's
                                pattern (i*31+7)&255) or POST /sha256 with N random
                                bytes (the backend's SHA-256 and length compared)
                      Sizes: log-uniform 1 KiB..8 MiB, 3% 32..64 MiB. Each connection
                      ends with close_notify, and moat must answer with its own.
  abrupt (2 threads)  connections dropped on purpose, by RST (SO_LINGER 0) unless said:
                      after connect; after half a ClientHello; after the ClientHello and
                      the first server bytes; after half an HTTP request; in the middle
                      of a 64 MiB download, of a 64 MiB upload, of an echo (1 MiB sent,
                      nothing read); after one request, a FIN without close_notify; a
                      close_notify in the middle of a download, then RST
  garbage (2 threads) random bytes; every case of tests/interop/rawpeer.py that a
                      default server answers (oversized records among them), each
                      checked against the outcome tests/interop/hostile.sh expects;
                      after a full handshake: a record of random bytes (bad_record_mac),
                      an oversized record (record_overflow), plaintext HTTP
  slow (2 threads)    silent connection / half a ClientHello: moat must close it
                      within --handshake-timeout + SLACK s; after a handshake and one
                      echo: moat must close it within --idle-timeout + SLACK s

Half of the bulk connections offer the thread's last session for that listener and
version (chained: each connection's session replaces it), and count whether it resumed.
An operation either goes as planned ("ok", counted per kind) or is an error, counted
by kind ("what: why"). The certificate served in each full handshake (SHA-256 of the
DER) is recorded with the first and last time it was seen, so the caller can tell when
a reload took effect.
The result is one JSON object written to --out; progress goes to stderr every 10 s.
--probe: one GET / and one echo round trip; prints "probe ok" (exit 0) or the failure
(exit 1). Standard library only.
"""

import argparse
import hashlib
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import rawpeer  # noqa: E402  (tests/interop/rawpeer.py: the hostile ClientHellos)

rawpeer.Peer.log = lambda self, msg: None  # its per-record details are not wanted here

IO_TIMEOUT = 30.0           # any single socket wait
WINDOW = 256 * 1024         # echo: bytes in flight at most
CHUNK = 64 * 1024
BLOB = 4 * 1024 * 1024      # random data each thread sends slices of
SLACK = 3.0                 # seconds beyond a moat timeout before it counts as missed
RAW_TIMEOUT = 10.0          # rawpeer cases: time for moat to answer and close
PATTERN = bytes((i * 31 + 7) & 0xFF for i in range(256)) * (CHUNK // 256 + 2)

# What a default moat listener (TLS 1.3 and 1.2, every group) answers to each
# rawpeer.py case, as tests/interop/hostile.sh expects it of the engine.
RAW_EXPECT = {
    "hello": "server_hello",
    "tls12-hello": "tls12_server_hello sentinel=DOWNGRD01",
    "tls12-sv-hello": "tls12_server_hello sentinel=DOWNGRD01",
    "tls12-scsv-hello": "tls12_server_hello sentinel=DOWNGRD01",
    "tls12-resume": "full_handshake",
    "tls12-no-null-compression": "illegal_parameter",
    "tls12-compressed-points": "illegal_parameter",
    "tls12-reneg-info-nonempty": "handshake_failure",
    "tls12-no-common-group": "handshake_failure",
    "tls12-finished-early": "unexpected_message",
    "tls12-ccs-early": "unexpected_message",
    "tls12-appdata-early": "unexpected_message",
    "tls12-second-hello": "unexpected_message",
    "tls12-short-cke": "illegal_parameter|decode_error",
    "tls12-cke-trailing": "decode_error",
    "tls12-finished-plain": "unexpected_message",
    "tls12-ccs-twice": "unexpected_message|decode_error",
    "tls12-ccs-unaligned": "unexpected_message",
    "tls12-bad-finished": "bad_record_mac",
    "legacy-only": "protocol_version",
    "http": "unexpected_message|decode_error",
    "random": "unexpected_message|decode_error",
    "garbage-hello": "decode_error",
    "oversized": "record_overflow",
    "oversized-huge": "record_overflow",
    "empty-handshake": "unexpected_message|decode_error",
    "finished-first": "unexpected_message",
    "serverhello-first": "unexpected_message",
    "appdata-first": "unexpected_message",
    "ccs-first": "unexpected_message",
    "trunc-suites": "decode_error",
    "trunc-ext": "decode_error",
    "trailing": "decode_error",
    "dup-ext": "illegal_parameter",
    "half-record": "[a-z_]+|closed|reset",
}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = {}            # kind -> operations that went as planned
        self.errors = {}        # "kind: why" -> count
        self.examples = {}      # "kind: why" -> first full message
        self.outcomes = {}      # "kind -> outcome" -> count (garbage, slow)
        self.ends = {}          # how moat ended connections we closed with close_notify
        self.transfers = {}     # kind -> transfers completed (all bytes received)
        self.bytes_checked = 0  # bytes compared end to end (both directions count)
        self.mismatches = []    # completed transfers whose bytes differed
        self.certs = {}         # fingerprint -> [count, first, last] (unix time)
        self.waits = {}         # slow kind -> [min, max] seconds until moat closed

    def add_ok(self, kind):
        with self.lock:
            self.ok[kind] = self.ok.get(kind, 0) + 1

    def add_error(self, kind, why, full=None):
        key = "%s: %s" % (kind, why)
        with self.lock:
            self.errors[key] = self.errors.get(key, 0) + 1
            self.examples.setdefault(key, full or why)

    def add_outcome(self, kind, outcome):
        key = "%s -> %s" % (kind, outcome)
        with self.lock:
            self.outcomes[key] = self.outcomes.get(key, 0) + 1

    def add_end(self, end):
        with self.lock:
            self.ends[end] = self.ends.get(end, 0) + 1

    def add_transfer(self, kind, nbytes, matched, note=""):
        with self.lock:
            self.transfers[kind] = self.transfers.get(kind, 0) + 1
            self.bytes_checked += nbytes
            if not matched:
                self.mismatches.append("%s: %s" % (kind, note))

    def add_cert(self, fp):
        now = time.time()
        with self.lock:
            c = self.certs.setdefault(fp, [0, now, now])
            c[0] += 1
            c[2] = now

    def add_wait(self, kind, secs):
        with self.lock:
            w = self.waits.setdefault(kind, [secs, secs])
            w[0] = min(w[0], secs)
            w[1] = max(w[1], secs)

    def snapshot(self):
        with self.lock:
            return {
                "ok": dict(self.ok), "errors": dict(self.errors),
                "error_examples": dict(self.examples), "outcomes": dict(self.outcomes),
                "ends": dict(self.ends), "transfers": dict(self.transfers),
                "bytes_checked": self.bytes_checked, "mismatches": list(self.mismatches),
                "certs": {k: list(v) for k, v in self.certs.items()},
                "waits": {k: list(v) for k, v in self.waits.items()},
            }


class Failure(Exception):
    """An operation did not go as planned; the message is the error's kind."""


def why(e):
    """A short, stable name for an exception (the error's kind)."""
    if isinstance(e, Failure):
        return str(e)
    if isinstance(e, ssl.SSLError):
        return "%s(%s)" % (type(e).__name__, e.reason or e.library or "?")
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "timeout"
    return type(e).__name__


def alert_of(e):
    """The alert name in an OpenSSL error reason, e.g. SSLV3_ALERT_BAD_RECORD_MAC."""
    r = (getattr(e, "reason", None) or "").upper()
    m = re.match(r"^(?:SSLV3|TLSV1|TLSV13)_ALERT_(.*)$", r)
    return m.group(1).lower() if m else None


def contexts():
    def make(lo, hi):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE  # the certificate is recorded, not verified
        c.minimum_version, c.maximum_version = lo, hi
        return c
    v12, v13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    return {"1.3": make(v13, v13), "1.2": make(v12, v12)}


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def rst(sock):
    """Closes with a TCP RST (SO_LINGER 0)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def wait_closed(sock, limit):
    """Reads and discards until the peer closes; (how, seconds). how: eof, reset, timeout."""
    t0 = time.monotonic()
    sock.settimeout(0.5)
    while True:
        left = limit - (time.monotonic() - t0)
        if left <= 0:
            return "timeout", time.monotonic() - t0
        try:
            d = sock.recv(65536)
            if not d:
                return "eof", time.monotonic() - t0
        except (socket.timeout, TimeoutError):
            continue
        except ConnectionResetError:
            return "reset", time.monotonic() - t0


def client_hello(ctx):
    """The bytes of a real ClientHello from ctx (nothing is sent)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


class Tls:
    """A TLS client over a blocking socket through memory BIOs, so that raw bytes can
    be injected and the connection dropped at any point."""

    def __init__(self, sock, ctx, stats, session=None):
        self.sock = sock
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_hostname="localhost",
                                session=session)
        self.stats = stats
        self.rbuf = b""

    def flush(self):
        d = self.out.read()
        if d:
            self.sock.sendall(d)

    def fill(self):
        d = self.sock.recv(262144)
        if not d:
            self.inc.write_eof()
            return False
        self.inc.write(d)
        return True

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self.flush()
                break
            except ssl.SSLWantReadError:
                self.flush()
                if not self.fill():
                    raise Failure("moat closed during the handshake")
        if not self.obj.session_reused:  # a resumed session reports its old certificate
            der = self.obj.getpeercert(binary_form=True)
            self.stats.add_cert(hashlib.sha256(der).hexdigest() if der else "none")

    def write(self, data):
        self.obj.write(data)
        self.flush()

    def recv(self):
        """Application data; b"" at moat's close_notify; Failure at a bare EOF."""
        if self.rbuf:
            d, self.rbuf = self.rbuf, b""
            return d
        while True:
            try:
                return self.obj.read(262144)
            except ssl.SSLWantReadError:
                self.flush()
                if not self.fill():
                    try:
                        return self.obj.read(262144)
                    except ssl.SSLZeroReturnError:
                        return b""
                    except ssl.SSLError:
                        raise Failure("EOF from moat without close_notify")
            except ssl.SSLZeroReturnError:
                return b""

    def read_some(self, limit):
        d = self.recv()
        if not d:
            raise Failure("close_notify from moat in the middle of a response")
        if len(d) > limit:
            d, self.rbuf = d[:limit], d[limit:]
        return d

    def read_head(self):
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = self.recv()
            if not d:
                raise Failure("close_notify from moat before a response head")
            buf += d
            if len(buf) > 65536:
                raise Failure("response head too long")
        head, rest = buf.split(b"\r\n\r\n", 1)
        self.rbuf = rest
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 200 "):
            raise Failure("status %s" % lines[0][9:12])
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                return int(v.strip())
        raise Failure("response without Content-Length")

    def read_exact(self, n):
        buf = b""
        while len(buf) < n:
            buf += self.read_some(n - len(buf))
        return buf

    def shutdown(self):
        """Our close_notify, then until moat's: 'close_notify', 'eof' or 'reset'."""
        try:
            while True:
                try:
                    self.obj.unwrap()
                    self.flush()
                    return "close_notify"
                except ssl.SSLWantReadError:
                    self.flush()
                    if not self.fill():
                        return "eof"
        except ConnectionResetError:
            return "reset"
        except ssl.SSLError as e:
            return "ssl error " + why(e)

    def raw_alert(self):
        """After raw bytes were injected: what moat answered, decrypted ('bad_record_mac',
        'close_notify', 'eof', 'reset', 'timeout', or 'data')."""
        try:
            while True:
                try:
                    d = self.obj.read(262144)
                    if d:
                        return "data"
                except ssl.SSLWantReadError:
                    if not self.fill():
                        try:
                            self.obj.read(1)
                        except ssl.SSLError as e:
                            return alert_of(e) or "eof"
                        return "eof"
                except ssl.SSLZeroReturnError:
                    return "close_notify"
                except ssl.SSLError as e:
                    return alert_of(e) or "ssl error " + why(e)
        except ConnectionResetError:
            return "reset"
        except (socket.timeout, TimeoutError):
            return "timeout"


def rand_size(rng):
    if rng.random() < 0.03:
        return rng.randint(32 << 20, 64 << 20)
    return int(2 ** rng.uniform(10, 23))


class Worker:
    def __init__(self, args, stats, seed):
        self.a = args
        self.stats = stats
        self.rng = random.Random(seed)
        self.blob = memoryview(self.rng.randbytes(BLOB + CHUNK))
        self.ctx = contexts()
        self.sessions = {}  # (port, version) -> the last session moat gave this thread

    def data(self, n):
        off = self.rng.randrange(BLOB)
        return self.blob[off:off + n]

    def version(self):
        return "1.2" if self.rng.random() < 0.3 else "1.3"

    def tls(self, port, version=None, resume=False):
        """A connection with its handshake done; resume: offer this thread's last session
        for the port and version (each bulk connection does, half of the time)."""
        version = version or self.version()
        session = self.sessions.get((port, version)) if resume else None
        t = Tls(connect(port), self.ctx[version], self.stats, session)
        t.key, t.offered = (port, version), session is not None
        try:
            t.handshake()
        except BaseException:
            rst(t.sock)
            raise
        if t.offered:
            self.stats.add_outcome("resumption offered, TLS " + version,
                                   "resumed" if t.obj.session_reused else "full handshake")
        return t

    def close(self, t, kind):
        session = t.obj.session  # after the data: TLS 1.3 tickets came after the handshake
        end = t.shutdown()
        t.sock.close()
        self.stats.add_end(end)
        if end != "close_notify":
            raise Failure("moat answered our close_notify with " + end)
        if session is not None and getattr(t, "key", None):
            self.sessions[t.key] = session

    # ---- bulk ---------------------------------------------------------------------------

    def op_echo(self):
        total = rand_size(self.rng)
        t = self.tls(self.a.echo_port, resume=self.rng.random() < 0.5)
        h_out, h_in = hashlib.sha256(), hashlib.sha256()
        sent = got = 0
        try:
            while got < total:
                if sent < total and sent - got < WINDOW:
                    d = self.data(min(CHUNK, total - sent))
                    t.write(d)
                    h_out.update(d)
                    sent += len(d)
                else:
                    d = t.recv()
                    if not d:
                        raise Failure("close_notify from moat before the whole echo")
                    h_in.update(d)
                    got += len(d)
            if got != total:
                raise Failure("echo longer than what was sent")
        except BaseException:
            rst(t.sock)
            raise
        ok = h_out.digest() == h_in.digest()
        self.stats.add_transfer("echo", sent + got, ok,
                                "%d bytes, SHA-256 sent %s received %s"
                                % (total, h_out.hexdigest(), h_in.hexdigest()))
        self.close(t, "echo")
        if not ok:
            raise Failure("echo bytes differ")

    def download(self, t):
        n = rand_size(self.rng)
        t.write(b"GET /bytes?n=%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % n)
        cl = t.read_head()
        if cl != n:
            raise Failure("Content-Length %d for n=%d" % (cl, n))
        off = 0
        bad = None
        while off < n:
            d = t.read_some(min(CHUNK, n - off))
            p = off % 256
            if bad is None and d != PATTERN[p:p + len(d)]:
                for i in range(len(d)):
                    if d[i] != PATTERN[p + i]:
                        bad = off + i
                        break
            off += len(d)
        self.stats.add_transfer("download", n, bad is None,
                                "%d bytes, first wrong byte at %s" % (n, bad))
        if bad is not None:
            raise Failure("downloaded bytes differ")

    def upload(self, t):
        n = rand_size(self.rng)
        t.write(b"POST /sha256 HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % n)
        h = hashlib.sha256()
        sent = 0
        while sent < n:
            d = self.data(min(CHUNK, n - sent))
            t.write(d)
            h.update(d)
            sent += len(d)
        cl = t.read_head()
        body = t.read_exact(cl).decode("latin-1").split()
        want = [h.hexdigest(), str(n)]
        ok = body == want
        self.stats.add_transfer("upload", n, ok, "%d bytes: backend says %s, we sent %s"
                                % (n, " ".join(body), " ".join(want)))
        if not ok:
            raise Failure("uploaded bytes differ")

    def op_http(self):
        t = self.tls(self.a.http_port, resume=self.rng.random() < 0.5)
        try:
            for _ in range(self.rng.randint(1, 4)):
                if self.rng.random() < 0.5:
                    self.download(t)
                else:
                    self.upload(t)
        except BaseException:
            rst(t.sock)
            raise
        self.close(t, "http")

    # ---- abrupt disconnects ------------------------------------------------------------

    def op_rst_connect(self):
        s = connect(self.rng.choice([self.a.http_port, self.a.echo_port]))
        rst(s)

    def op_rst_half_hello(self):
        ch = client_hello(self.ctx[self.version()])
        s = connect(self.a.http_port)
        s.sendall(ch[:self.rng.randint(1, len(ch) - 1)])
        time.sleep(self.rng.uniform(0, 0.2))
        rst(s)

    def op_rst_after_hello(self):
        ch = client_hello(self.ctx[self.version()])
        s = connect(self.a.http_port)
        s.sendall(ch)
        try:
            if not s.recv(self.rng.randint(1, 2000)):
                raise Failure("moat closed after a valid ClientHello")
        finally:
            rst(s)

    def op_rst_half_request(self):
        t = self.tls(self.a.http_port)
        req = b"GET /bytes?n=1000 HTTP/1.1\r\nHost: localhost\r\n\r\n"
        t.write(req[:self.rng.randint(1, len(req) - 1)])
        time.sleep(self.rng.uniform(0, 0.2))
        rst(t.sock)

    def op_rst_mid_download(self):
        t = self.tls(self.a.http_port)
        try:
            t.write(b"GET /bytes?n=%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % (64 << 20))
            t.read_head()
            want, got = self.rng.randint(1, 2 << 20), 0
            while got < want:
                got += len(t.read_some(want - got))
        finally:
            rst(t.sock)

    def op_rst_mid_upload(self):
        t = self.tls(self.a.http_port)
        try:
            t.write(b"POST /sha256 HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n"
                    % (64 << 20))
            want, sent = self.rng.randint(1, 2 << 20), 0
            while sent < want:
                d = self.data(min(CHUNK, want - sent))
                t.write(d)
                sent += len(d)
        finally:
            rst(t.sock)

    def op_rst_mid_echo(self):
        t = self.tls(self.a.echo_port)
        try:
            for _ in range(16):
                t.write(self.data(CHUNK))
        finally:
            rst(t.sock)

    def op_fin_no_close_notify(self):
        t = self.tls(self.a.http_port)
        try:
            t.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            t.read_exact(t.read_head())
            t.sock.shutdown(socket.SHUT_WR)  # a FIN, no close_notify
            how, _ = wait_closed(t.sock, IO_TIMEOUT)
            self.stats.add_outcome("fin-no-close-notify", how)
            if how == "timeout":
                raise Failure("moat kept the connection after the client's FIN")
        finally:
            t.sock.close()

    def op_close_notify_mid_download(self):
        t = self.tls(self.a.http_port)
        try:
            t.write(b"GET /bytes?n=%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % (64 << 20))
            t.read_head()
            t.read_some(CHUNK)
            try:
                t.obj.unwrap()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:  # response bytes already buffered: close_notify went out
                pass
            t.flush()
        finally:
            rst(t.sock)

    # ---- garbage -------------------------------------------------------------------------

    def op_random_bytes(self):
        peer = rawpeer.Peer(self.rng.choice([self.a.http_port, self.a.echo_port]), RAW_TIMEOUT)
        try:
            peer.send(os.urandom(self.rng.randint(1, 8192)))
            out = rawpeer.read_outcome(peer)
        except (socket.timeout, TimeoutError):
            out = "timeout"
        except ConnectionResetError:
            out = "reset"
        finally:
            peer.sock.close()
        self.stats.add_outcome("random-bytes", out.split(" (")[0])
        if out == "timeout" or out.startswith("no-alert") or "(not closed)" in out:
            raise Failure("moat answered random bytes with " + out)

    def op_rawpeer(self):
        case = self.rng.choice(sorted(RAW_EXPECT))
        peer = rawpeer.Peer(self.a.http_port, RAW_TIMEOUT)
        try:
            out = rawpeer.CASES[case](peer)
        except (socket.timeout, TimeoutError):
            out = "timeout"
        except ConnectionResetError:
            out = "reset"
        finally:
            peer.sock.close()
        self.stats.add_outcome("rawpeer " + case, out)
        if not re.fullmatch(RAW_EXPECT[case], out):
            raise Failure("rawpeer %s: got '%s', want '%s'" % (case, out, RAW_EXPECT[case]))

    def after_handshake(self, name, payload, want):
        t = self.tls(self.rng.choice([self.a.http_port, self.a.echo_port]), "1.3")
        try:
            t.sock.sendall(payload)
            out = t.raw_alert()
        finally:
            t.sock.close()
        self.stats.add_outcome(name, out)
        if not re.fullmatch(want, out):
            raise Failure("%s: got '%s', want '%s'" % (name, out, want))

    def op_bad_record(self):
        body = os.urandom(self.rng.randint(17, 2000))
        self.after_handshake("garbage record after the handshake",
                             b"\x17\x03\x03" + struct.pack("!H", len(body)) + body,
                             "bad_record_mac")

    def op_oversized_record(self):
        n = 2 ** 14 + 256 + 1  # one byte over TLS 1.3's ciphertext limit
        self.after_handshake("oversized record after the handshake",
                             b"\x17\x03\x03" + struct.pack("!H", n) + os.urandom(n),
                             "record_overflow")

    def op_plaintext_after(self):
        self.after_handshake("plaintext HTTP after the handshake",
                             b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
                             "unexpected_message|decode_error")

    # ---- slow ------------------------------------------------------------------------------

    def stall(self, name, payload):
        s = connect(self.rng.choice([self.a.http_port, self.a.echo_port]))
        try:
            if payload:
                s.sendall(payload)
            how, secs = wait_closed(s, self.a.handshake_timeout + SLACK)
        finally:
            s.close()
        self.stats.add_outcome(name, how)
        if how == "timeout":
            raise Failure("still open %.0f s after the handshake timeout" % SLACK)
        self.stats.add_wait(name, round(secs, 2))

    def op_stall_silent(self):
        self.stall("silent", b"")

    def op_stall_half_hello(self):
        ch = client_hello(self.ctx[self.version()])
        self.stall("half ClientHello", ch[:len(ch) // 2])

    def op_idle(self):
        t = self.tls(self.a.echo_port)
        try:
            msg = os.urandom(100)
            t.write(msg)
            if t.read_exact(len(msg)) != msg:
                self.stats.add_transfer("idle echo", 200, False, "100-byte echo differs")
                raise Failure("echo bytes differ")
            self.stats.add_transfer("idle echo", 200, True)
            t0 = time.monotonic()
            t.sock.settimeout(self.a.idle_timeout + SLACK)
            try:
                d = t.recv()
                how = "close_notify" if not d else "data"
            except Failure as e:
                how = str(e)
            except (socket.timeout, TimeoutError):
                how = "timeout"
            except ConnectionResetError:
                how = "reset"
            secs = time.monotonic() - t0
        finally:
            t.sock.close()
        self.stats.add_outcome("idle", how)
        if how in ("timeout", "data"):
            raise Failure("idle connection: %s" % how)
        self.stats.add_wait("idle", round(secs, 2))

    # ---- loop ------------------------------------------------------------------------------

    FAMILIES = {
        "bulk": [("echo", "op_echo", 1), ("http", "op_http", 2)],
        "abrupt": [("rst after connect", "op_rst_connect", 1),
                   ("rst in half a ClientHello", "op_rst_half_hello", 1),
                   ("rst after the ClientHello", "op_rst_after_hello", 1),
                   ("rst in half a request", "op_rst_half_request", 1),
                   ("rst in a download", "op_rst_mid_download", 1),
                   ("rst in an upload", "op_rst_mid_upload", 1),
                   ("rst in an echo", "op_rst_mid_echo", 1),
                   ("FIN without close_notify", "op_fin_no_close_notify", 1),
                   ("close_notify in a download, rst", "op_close_notify_mid_download", 1)],
        "garbage": [("random bytes", "op_random_bytes", 2), ("rawpeer case", "op_rawpeer", 6),
                    ("garbage record after handshake", "op_bad_record", 1),
                    ("oversized record after handshake", "op_oversized_record", 1),
                    ("plaintext after handshake", "op_plaintext_after", 1)],
        "slow": [("stall silent", "op_stall_silent", 1),
                 ("stall half ClientHello", "op_stall_half_hello", 1),
                 ("idle after echo", "op_idle", 1)],
    }

    def run(self, family, deadline):
        ops = self.FAMILIES[family]
        weights = [w for _, _, w in ops]
        while time.monotonic() < deadline:
            kind, meth, _ = self.rng.choices(ops, weights)[0]
            kind = "%s/%s" % (family, kind)
            try:
                getattr(self, meth)()
                self.stats.add_ok(kind)
            except Exception as e:  # every failure is counted by kind, the run goes on
                self.stats.add_error(kind, why(e), "%s: %r" % (why(e), e))
                time.sleep(0.05)  # no busy loop when moat is gone


def probe(args):
    stats = Stats()
    w = Worker(args, stats, 1)
    try:
        t = w.tls(args.http_port, "1.3")
        t.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        body = t.read_exact(t.read_head())
        w.close(t, "probe")
        t = w.tls(args.echo_port, "1.3")
        t.write(b"ping\n")
        echo = t.read_exact(5)
        w.close(t, "probe")
    except Exception as e:
        print("probe failed: %s (%r)" % (why(e), e))
        return 1
    if not body.startswith(b"hello from ") or echo != b"ping\n":
        print("probe failed: GET / -> %r, echo -> %r" % (body, echo))
        return 1
    print("probe ok: %s" % body.decode().strip())
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--echo-port", type=int, required=True)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--handshake-timeout", type=float, default=3)
    ap.add_argument("--idle-timeout", type=float, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", default="bulk=4,abrupt=2,garbage=2,slow=2")
    ap.add_argument("--out")
    ap.add_argument("--probe", action="store_true")
    args = ap.parse_args()
    if args.probe:
        return probe(args)

    stats = Stats()
    t0 = time.monotonic()
    deadline = t0 + args.duration
    threads = []
    n = 0
    for spec in args.threads.split(","):
        family, _, count = spec.partition("=")
        for _ in range(int(count)):
            n += 1
            w = Worker(args, stats, args.seed * 1000 + n)
            th = threading.Thread(target=w.run, args=(family, deadline), daemon=True,
                                  name="%s-%d" % (family, n))
            th.start()
            threads.append(th)
    next_note = t0 + 10
    while any(th.is_alive() for th in threads):
        time.sleep(0.2)
        if time.monotonic() >= next_note:
            next_note += 10
            s = stats.snapshot()
            print("soakclient: %3.0f s: %d operations, %d errors, %d transfers, %.1f MB checked"
                  % (time.monotonic() - t0, sum(s["ok"].values()), sum(s["errors"].values()),
                     sum(s["transfers"].values()), s["bytes_checked"] / 1e6),
                  file=sys.stderr, flush=True)
    result = stats.snapshot()
    result["seconds"] = round(time.monotonic() - t0, 2)
    result["threads"] = args.threads
    text = json.dumps(result, indent=1, sort_keys=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
