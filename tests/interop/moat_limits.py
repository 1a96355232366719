#!/usr/bin/env python3
"""Clients for tests/interop/moat_limits.sh: what moat's limits (moat.yaml(5) limits and
timeouts) must hold against.

    python3 tests/interop/moat_limits.py COMMAND [OPTIONS]

Standard library only; everything connects to 127.0.0.1:PORT (--port). Results go to
stdout as "key=value" lines, diagnostics to stderr. Exit status 0 means the client ran
to the end (the script judges the values); 1 means it could not, with "error=...".

Commands:
  slowloris  --count N connections, each sending a real TLS 1.3 ClientHello one byte
             every --interval s; reports how long each lasted until the server closed
             it (closed=, never=, min_closed=, max_closed=, spread=) and whether any
             got a byte back (answered=). --ready FILE is written once all are connected.
  stream     one TLS connection to an echo backend: a round trip every --interval s
             for --seconds; rounds=, failed=, max_rtt=. --ready FILE once connected.
  timed      one TLS handshake and echo round trip; handshake_seconds=, echo=.
  hold       --count N TLS connections opened one after the other and kept open:
             served= (handshake done), refused= (closed or reset before a ServerHello);
             then one of the served is closed and one more is tried (after_close=), and
             one from source address --other-source (other_source=).
  burst      --count N connections opened one after the other, each closed as soon as
             the server answers its ClientHello: served= (a handshake record came
             back), refused= (reset or closed first), seconds=.
  hello      a ClientHello (rawpeer.py's) padded to exactly --body bytes of message
             body: prints rawpeer's outcome (server_hello, decode_error, ...).
  header     only a handshake message header claiming --length bytes: the outcome.
  upload     sends --size bytes as fast as the server takes them for --seconds, then
             stops; samples --rss-pid's VmRSS every 0.1 s: sent=, rss_start_kib=,
             rss_max_kib=.
  stallserver  a TCP server on 127.0.0.1:0 that accepts and never reads; prints
             "listening on 127.0.0.1:PORT" and runs until killed.
"""

import argparse
import os
import select
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawpeer  # noqa: E402 - the hostile client's ClientHello builder and outcome reader

DEFAULT_CA = "tests/certs/ecdsa-p256/ca.cert"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def out(key, value):
    print(f"{key}={value}", flush=True)


def context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(args.ca)
    ctx.check_hostname = False
    return ctx


def connect(args, source=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source:
        s.bind((source, 0))
    s.settimeout(args.timeout)
    s.connect(("127.0.0.1", args.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def tls_connect(args, source=None):
    s = context(args).wrap_socket(connect(args, source), server_hostname="localhost")
    s.settimeout(args.timeout)
    return s


def hello_bytes(args):
    """A real TLS 1.3 ClientHello from the ssl module (memory BIOs)."""
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = context(args).wrap_bio(inc, outg, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outg.read()


def touch(path):
    if path:
        with open(path + ".tmp", "w") as f:
            f.write("ready\n")
        os.rename(path + ".tmp", path)


def echo_round(s, payload):
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        d = s.recv(65536)
        if not d:
            break
        got += d
    return got == payload


# ---- commands ---------------------------------------------------------------------------


def cmd_slowloris(args):
    hello = hello_bytes(args)
    conns = []
    t0 = time.monotonic()
    for _ in range(args.count):
        s = connect(args)
        s.setblocking(False)
        conns.append({"s": s, "sent": 0, "closed": None, "got": 0})
    touch(args.ready)
    next_send = time.monotonic()
    while time.monotonic() - t0 < args.limit:
        live = [c for c in conns if c["closed"] is None]
        if not live:
            break
        now = time.monotonic()
        if now >= next_send:
            for c in live:
                if c["sent"] < len(hello):
                    try:
                        c["sent"] += c["s"].send(hello[c["sent"]:c["sent"] + 1])
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        c["closed"] = time.monotonic() - t0
            next_send = now + args.interval
        r, _, _ = select.select([c["s"] for c in live], [], [],
                                max(0.0, min(0.05, next_send - time.monotonic())))
        for s in r:
            c = next(c for c in conns if c["s"] is s)
            try:
                d = s.recv(65536)
            except (ConnectionResetError, OSError):
                d = b""
            if d:
                c["got"] += len(d)
            else:
                c["closed"] = time.monotonic() - t0
    for c in conns:
        c["s"].close()
    closed = sorted(c["closed"] for c in conns if c["closed"] is not None)
    out("closed", len(closed))
    out("never", len(conns) - len(closed))
    out("min_closed", f"{closed[0]:.2f}" if closed else "-")
    out("max_closed", f"{closed[-1]:.2f}" if closed else "-")
    out("spread", f"{closed[-1] - closed[0]:.2f}" if closed else "-")
    out("answered", sum(1 for c in conns if c["got"]))
    out("max_sent", max(c["sent"] for c in conns))
    out("hello_len", len(hello))
    return 0


def cmd_stream(args):
    s = tls_connect(args)
    touch(args.ready)
    t0 = time.monotonic()
    rounds = failed = 0
    max_rtt = 0.0
    while time.monotonic() - t0 < args.seconds:
        payload = f"round {rounds} {os.urandom(6).hex()}\n".encode() * 20
        r0 = time.monotonic()
        try:
            good = echo_round(s, payload)
        except (OSError, ssl.SSLError) as e:
            log(f"round {rounds}: {e!r}")
            good = False
        max_rtt = max(max_rtt, time.monotonic() - r0)
        rounds += 1
        if not good:
            failed += 1
            break
        time.sleep(args.interval)
    s.close()
    out("rounds", rounds)
    out("failed", failed)
    out("max_rtt", f"{max_rtt:.3f}")
    return 0


def cmd_timed(args):
    t0 = time.monotonic()
    try:
        s = tls_connect(args)
    except (OSError, ssl.SSLError) as e:
        out("handshake_seconds", "failed")
        out("error_kind", e.__class__.__name__)
        return 0
    out("handshake_seconds", f"{time.monotonic() - t0:.2f}")
    try:
        out("echo", "ok" if echo_round(s, b"timed\n") else "bad")
    except (OSError, ssl.SSLError) as e:
        out("echo", f"error:{e.__class__.__name__}")
    s.close()
    return 0


def try_tls(args, source=None):
    """A TLS connection, or the reason there is none: (sock, None) / (None, reason)."""
    try:
        return tls_connect(args, source), None
    except ConnectionResetError:
        return None, "reset"
    except ssl.SSLEOFError:
        return None, "closed"
    except (OSError, ssl.SSLError) as e:
        return None, e.__class__.__name__


def cmd_hold(args):
    held, refused = [], []
    for _ in range(args.count):
        s, why = try_tls(args)
        if s:
            held.append(s)
        else:
            refused.append(why)
    out("served", len(held))
    out("refused", len(refused))
    out("refused_how", ",".join(sorted(set(refused))) or "-")
    if held:
        held.pop(0).close()
        time.sleep(0.3)
    s, why = try_tls(args)
    out("after_close", "ok" if s else why)
    if s:
        held.append(s)
    if args.other_source:
        s, why = try_tls(args, args.other_source)
        out("other_source", "ok" if s else why)
        if s:
            held.append(s)
    for s in held:
        s.close()
    return 0


def cmd_burst(args):
    hello = hello_bytes(args)
    served = refused = 0
    t0 = time.monotonic()
    for _ in range(args.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(args.timeout)
        try:
            # Refused connections are reset right after accept: any step may see it.
            s.connect(("127.0.0.1", args.port))
            s.sendall(hello)
            d = s.recv(5)
            if d[:1] == b"\x16":
                served += 1
            else:
                refused += 1
        except (ConnectionResetError, BrokenPipeError):
            refused += 1
        except socket.timeout:
            refused += 1
            log("burst: no answer within the timeout")
        finally:
            s.close()
    out("served", served)
    out("refused", refused)
    out("seconds", f"{time.monotonic() - t0:.2f}")
    return 0


def padded_hello(body_len):
    h = rawpeer.Hello()
    base = len(h.body())
    n = body_len - base - 4
    if n < 0:
        raise ValueError(f"a ClientHello body is at least {base + 4} bytes")
    h.extra.append(rawpeer.ext(21, b"\x00" * n))  # padding (RFC 7685)
    assert len(h.body()) == body_len
    return h


def cmd_hello(args):
    h = padded_hello(args.body)
    peer = rawpeer.Peer(args.port, args.timeout)
    # Records carry at most 2^14 bytes: split the message as a client would.
    msg = h.message()
    peer.send(b"".join(rawpeer.record(rawpeer.CT_HANDSHAKE, msg[i:i + 16384])
                       for i in range(0, len(msg), 16384)))
    kind, _ = rawpeer.read_server_hello(peer, h)
    peer.sock.close()
    print(kind)
    return 0


def cmd_header(args):
    peer = rawpeer.Peer(args.port, args.timeout)
    peer.send(rawpeer.record(rawpeer.CT_HANDSHAKE,
                             rawpeer.u8(rawpeer.HS_CLIENT_HELLO) + rawpeer.u24(args.length)))
    print(rawpeer.read_outcome(peer))
    peer.sock.close()
    return 0


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmd_upload(args):
    s = tls_connect(args)
    state = {"sent": 0, "stop": False}
    chunk = os.urandom(65536)

    def sender():
        s.settimeout(0.2)
        while not state["stop"] and state["sent"] < args.size:
            try:
                state["sent"] += s.send(chunk)
            except (socket.timeout, ssl.SSLWantWriteError):
                continue
            except (OSError, ssl.SSLError) as e:
                log(f"upload: {e!r}")
                break

    rss0 = rss_kib(args.rss_pid)
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    t0 = time.monotonic()
    rss_max = rss0
    while time.monotonic() - t0 < args.seconds:
        rss_max = max(rss_max, rss_kib(args.rss_pid))
        time.sleep(0.1)
    state["stop"] = True
    t.join(2)
    rss_max = max(rss_max, rss_kib(args.rss_pid))
    out("sent", state["sent"])
    out("rss_start_kib", rss0)
    out("rss_max_kib", rss_max)
    s.close()
    return 0


def cmd_stallserver(args):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    print(f"listening on 127.0.0.1:{ls.getsockname()[1]}", flush=True)
    held = []
    while True:
        c, _ = ls.accept()
        held.append(c)  # never read


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ca", default=DEFAULT_CA)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--limit", type=float, default=30.0)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--ready", default="")
    p.add_argument("--other-source", default="")
    p.add_argument("--body", type=int, default=0)
    p.add_argument("--length", type=int, default=0)
    p.add_argument("--size", type=int, default=64 << 20)
    p.add_argument("--rss-pid", type=int, default=0)
    args = p.parse_args()
    cmds = {"slowloris": cmd_slowloris, "stream": cmd_stream, "timed": cmd_timed,
            "hold": cmd_hold, "burst": cmd_burst, "hello": cmd_hello, "header": cmd_header,
            "upload": cmd_upload, "stallserver": cmd_stallserver}
    if args.command not in cmds:
        p.error(f"unknown command {args.command}")
    try:
        return cmds[args.command](args)
    except (OSError, ssl.SSLError, ValueError) as e:
        log(f"{args.command}: {e.__class__.__name__}: {e}")
        out("error", f"{e.__class__.__name__}: {e}".replace("\n", " "))
        return 1


if __name__ == "__main__":
    sys.exit(main())
