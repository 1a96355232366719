#!/usr/bin/env python3
"""TLS 1.3 test client for the moat interop scripts (tests/interop/moat_*.sh).

    python3 tests/interop/moatclient.py COMMAND [OPTIONS]

Standard library only. Every command connects to 127.0.0.1:PORT (--port), offers
TLS 1.3 only, and (unless --no-verify) verifies the chain against --ca (default
tests/certs/ecdsa-p256/ca.cert), without checking the host name (the scripts compare
the certificate itself). Results go to stdout as "key=value" lines; diagnostics go
to stderr. Exit status 0 means the client itself ran to the end (the calling script
judges the values); 1 means it failed, with "error=..." on stdout and a reason on
stderr.

Commands:
  get      one HTTP/1.1 request (Connection: close); body to --out (or a body= line);
           prints status, local address, TLS parameters and how the stream ended
  cert     handshake only: prints the peer certificate's sha256, subject and SANs
  fp       sha256 of the first certificate in a PEM file (--file)
  echo     round trips over one connection to an echo backend
  expect-close  handshake, send a request, report how the server ends the stream
  stall    connect and send nothing (or half a ClientHello): time until closed
  idle     handshake + one echo round trip, then time until the server closes
  hold     connection A for the reload test: echo, wait for --go, echo again
  halfclose  --size bytes to an echo backend, then close_notify (socket left open):
           the whole echo must still come back, then the server's close_notify
  late     (proxy_protocol_in) PROXY header after --wait s, ClientHello --interval s
           later, then one echo round trip
  slowget  GET --path and read the response --chunk bytes per --interval seconds
  abort    send up to --size bytes without reading, then reset the connection
  bulk     --size bytes each way through an echo backend with a slow reader,
           sha256 of both directions, max RSS of --rss-pid
  many     --count concurrent connections (asyncio), each does GET --path and holds
           the connection until all are done
  maxconn  with max_connections = --conns: --conns idle connections, then one more
           that must not get a ServerHello until one of them closes
"""

import argparse
import asyncio
import hashlib
import os
import random
import resource
import select
import socket
import ssl
import struct
import sys
import time

DEFAULT_CA = "tests/certs/ecdsa-p256/ca.cert"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def out(key, value):
    print(f"{key}={value}", flush=True)


def make_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    if args.no_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.load_verify_locations(args.ca)
        # The name is checked by the scripts where it matters (cert command): an
        # unknown SNI must still complete to see which certificate is served.
        ctx.check_hostname = bool(args.check_hostname)
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn.split(","))
    return ctx


def unescape(s):
    return s.encode().decode("unicode_escape").encode("latin-1")


def tcp_connect(args):
    s = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def tls_connect(args, raw=None):
    """A connected, handshaken SSLSocket (suppress_ragged_eofs off: a FIN without
    close_notify raises SSLEOFError, so the two endings can be told apart)."""
    ctx = make_context(args)
    if raw is None:
        raw = tcp_connect(args)
        if args.proxy_header:
            raw.sendall(unescape(args.proxy_header))
    sni = args.sni if args.sni else None
    s = ctx.wrap_socket(raw, server_hostname=sni, suppress_ragged_eofs=False,
                        do_handshake_on_connect=False)
    s.settimeout(args.timeout)
    s.do_handshake()
    return s


def tls_params(s):
    la = s.getsockname()
    out("local", f"{la[0]}:{la[1]}")
    out("local_port", la[1])
    out("version", s.version())
    out("cipher", s.cipher()[0])
    out("alpn", s.selected_alpn_protocol() or "-")


def read_to_end(s):
    """Reads until the peer ends the stream: (data, how) with how one of
    close_notify, eof (FIN without close_notify), reset, timeout."""
    chunks = []
    how = "close_notify"
    while True:
        try:
            d = s.recv(65536)
        except ssl.SSLEOFError:
            how = "eof"
            break
        except (ConnectionResetError, BrokenPipeError):
            how = "reset"
            break
        except (socket.timeout, TimeoutError):
            how = "timeout"
            break
        except ssl.SSLError as e:
            how = f"ssl-error:{e.reason}"
            break
        if not d:
            break
        chunks.append(d)
    return b"".join(chunks), how


def parse_http(data):
    """(status, headers dict, body) of one HTTP/1.1 response."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError(f"no end of headers in {data[:200]!r}")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line.split(b";")[0], 16)
            if n == 0:
                break
            body += rest[:n]
            rest = rest[n + 2:]
        return status, headers, bytes(body)
    if "content-length" in headers:
        n = int(headers["content-length"])
        if len(rest) < n:
            raise ValueError(f"body truncated: {len(rest)} of {n} bytes")
        return status, headers, rest[:n]
    return status, headers, rest


def http_request(method, path, host, body=b"", keep_alive=False):
    req = (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
           f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n")
    if body or method == "POST":
        req += f"Content-Length: {len(body)}\r\n"
    return req.encode() + b"\r\n" + body


# ---- commands ------------------------------------------------------------------------


def cmd_get(args):
    s = tls_connect(args)
    tls_params(s)
    body = b""
    if args.body_file:
        with open(args.body_file, "rb") as f:
            body = f.read()
    s.sendall(http_request(args.method, args.path, args.sni or "localhost", body))
    data, how = read_to_end(s)
    if args.unwrap and how == "close_notify":
        s.unwrap()  # our close_notify in answer to the server's
    s.close()
    out("end", how)
    status, headers, rbody = parse_http(data)
    out("status", status)
    out("body_len", len(rbody))
    if args.out:
        with open(args.out, "wb") as f:
            f.write(rbody)
    else:
        out("body", rbody.decode("latin-1").replace("\n", "\\n"))
    return 0


def cert_der_from_pem(path):
    with open(path) as f:
        pem = f.read()
    start = pem.index("-----BEGIN CERTIFICATE-----")
    end = pem.index("-----END CERTIFICATE-----", start) + len("-----END CERTIFICATE-----")
    return ssl.PEM_cert_to_DER_cert(pem[start:end])


def cmd_fp(args):
    print(hashlib.sha256(cert_der_from_pem(args.file)).hexdigest())
    return 0


def cmd_cert(args):
    s = tls_connect(args)
    der = s.getpeercert(binary_form=True)
    info = s.getpeercert() if not args.no_verify else {}
    tls_params(s)
    out("sha256", hashlib.sha256(der).hexdigest())
    subj = ",".join(f"{k}={v}" for rdn in info.get("subject", ()) for (k, v) in rdn)
    out("subject", subj)
    out("san", ",".join(f"{k}:{v}" for k, v in info.get("subjectAltName", ())))
    s.close()
    return 0


def echo_round(s, payload):
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        d = s.recv(65536)
        if not d:
            break
        got += d
    return got == payload


def cmd_echo(args):
    s = tls_connect(args)
    tls_params(s)
    good = 0
    for i in range(args.rounds):
        if i and args.interval:
            time.sleep(args.interval)
        payload = f"round {i} {os.urandom(8).hex()}\n".encode() * 10
        try:
            if echo_round(s, payload):
                good += 1
        except (OSError, ssl.SSLError) as e:
            log(f"round {i}: {e!r}")
            break
    out("rounds_ok", good)
    s.close()
    return 0


def cmd_expect_close(args):
    t0 = time.monotonic()
    try:
        s = tls_connect(args)
    except (ssl.SSLError, OSError) as e:
        out("handshake", f"failed:{e.__class__.__name__}")
        return 0
    out("handshake", "ok")
    tls_params(s)
    try:
        s.sendall(http_request("GET", args.path, args.sni or "localhost"))
    except OSError as e:
        log(f"send: {e}")
    data, how = read_to_end(s)
    out("end", how)
    out("bytes", len(data))
    out("seconds", f"{time.monotonic() - t0:.2f}")
    return 0


def client_hello_bytes(args):
    """A real TLS 1.3 ClientHello from the ssl module, via memory BIOs."""
    ctx = make_context(args)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname=args.sni or "localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return obj, inc, outg, outg.read()


def wait_closed(s, limit):
    """Seconds until the peer closed s (EOF or reset), or None after limit seconds;
    also the number of bytes received meanwhile."""
    t0 = time.monotonic()
    got = 0
    while True:
        left = limit - (time.monotonic() - t0)
        if left <= 0:
            return None, got
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            return time.monotonic() - t0, got
        if not d:
            return time.monotonic() - t0, got
        got += len(d)


def cmd_stall(args):
    s = tcp_connect(args)
    s.setblocking(True)
    out("local_port", s.getsockname()[1])
    if args.proxy_header:
        s.sendall(unescape(args.proxy_header))
    if args.mode == "half-hello":
        _, _, _, hello = client_hello_bytes(args)
        s.sendall(hello[: len(hello) // 2])
        out("sent", len(hello) // 2)
    t, got = wait_closed(s, args.limit)
    out("closed_after", "never" if t is None else f"{t:.2f}")
    out("received", got)
    s.close()
    return 0


def cmd_idle(args):
    s = tls_connect(args)
    out("local_port", s.getsockname()[1])
    ok = echo_round(s, b"before idling\n")
    out("echo", "ok" if ok else "bad")
    t0 = time.monotonic()
    s.settimeout(args.limit)
    data, how = read_to_end(s)
    out("end", how)
    out("closed_after", f"{time.monotonic() - t0:.2f}")
    out("extra_bytes", len(data))
    return 0


def cmd_hold(args):
    s = tls_connect(args)
    out("local_port", s.getsockname()[1])
    der = s.getpeercert(binary_form=True)
    out("sha256", hashlib.sha256(der).hexdigest())
    out("first", "ok" if echo_round(s, b"first request on A\n") else "bad")
    with open(args.ready, "w") as f:
        f.write("ready\n")
    t0 = time.monotonic()
    while not os.path.exists(args.go):
        if time.monotonic() - t0 > args.limit:
            out("second", "no-go-signal")
            return 1
        time.sleep(0.05)
    try:
        ok = echo_round(s, b"second request on A, after the reload\n")
        out("second", "ok" if ok else "bad")
    except (OSError, ssl.SSLError) as e:
        out("second", f"error:{e.__class__.__name__}")
    s.close()
    return 0


def cmd_halfclose(args):
    """Half-close (RFC 8446 6.1): sends --size seeded bytes, then close_notify at once
    (no FIN: the socket stays open), and keeps reading: an echo backend's whole answer
    must still arrive, followed by the server's close_notify."""
    ctx = make_context(args)
    raw = tcp_connect(args)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname=args.sni or "localhost")
    raw.settimeout(args.timeout)

    def feed():
        d = raw.recv(65536)
        if not d:
            raise EOFError
        inc.write(d)

    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            o = outg.read()
            if o:
                raw.sendall(o)
            feed()
    o = outg.read()
    if o:
        raw.sendall(o)
    data = random.Random(args.seed).randbytes(args.size)
    obj.write(data)
    try:
        obj.unwrap()
    except ssl.SSLWantReadError:
        pass  # our close_notify is out; the server's is still to come
    raw.sendall(outg.read())
    out("close_notify_sent", "yes")
    got = bytearray()
    how = "close_notify"
    while True:
        try:
            p = obj.read(262144)
            if not p:
                break
            got += p
            continue
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            break
        try:
            feed()
        except EOFError:
            how = "eof"
            break
        except (socket.timeout, TimeoutError):
            how = "timeout"
            break
        except ConnectionResetError:
            how = "reset"
            break
    raw.close()
    out("end", how)
    out("received", len(got))
    out("echo", "exact" if bytes(got) == data else "different")
    return 0


def cmd_abort(args):
    """Handshake, send --size bytes without reading anything back, then reset the
    connection (SO_LINGER 0): moat must clean up whatever it had queued."""
    s = tls_connect(args)
    out("local_port", s.getsockname()[1])
    s.setblocking(False)
    data = random.Random(args.seed).randbytes(65536)
    sent = 0
    t0 = time.monotonic()
    while sent < args.size and time.monotonic() - t0 < args.limit:
        try:
            sent += s.send(data)
        except (ssl.SSLWantWriteError, BlockingIOError):
            time.sleep(0.01)
        except ssl.SSLWantReadError:
            time.sleep(0.01)
    out("sent", sent)
    time.sleep(0.3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    out("reset", "yes")
    return 0


def cmd_slowget(args):
    """GET --path, then read the response slowly: --chunk bytes per --interval
    seconds (a small receive buffer keeps the kernel from soaking it all up)."""
    ctx = make_context(args)
    raw = tcp_connect(args)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s = ctx.wrap_socket(raw, server_hostname=args.sni, suppress_ragged_eofs=False)
    s.settimeout(args.timeout)
    out("local_port", s.getsockname()[1])
    s.sendall(http_request("GET", args.path, args.sni or "localhost"))
    t0 = time.monotonic()
    chunks = []
    how = "close_notify"
    while True:
        try:
            d = s.recv(args.chunk)
        except ssl.SSLEOFError:
            how = "eof"
            break
        except (ConnectionResetError, BrokenPipeError):
            how = "reset"
            break
        except (socket.timeout, TimeoutError):
            how = "timeout"
            break
        if not d:
            break
        chunks.append(d)
        time.sleep(args.interval)
    data = b"".join(chunks)
    out("end", how)
    out("seconds", f"{time.monotonic() - t0:.1f}")
    try:
        status, headers, body = parse_http(data)
        out("status", status)
        out("body_len", len(body))
        out("body_sha256", hashlib.sha256(body).hexdigest())
    except ValueError as e:
        out("status", f"unparsable: {e}")
        out("body_len", len(data))
    return 0


def cmd_late(args):
    """With proxy_protocol_in: connect, wait --wait s, send the PROXY header, wait
    --interval s, then handshake and do one echo round trip."""
    raw = tcp_connect(args)
    out("local_port", raw.getsockname()[1])
    t0 = time.monotonic()
    time.sleep(args.wait)
    try:
        raw.sendall(unescape(args.proxy_header))
        t, _ = wait_closed(raw, args.interval)
        if t is not None:
            out("handshake", f"closed by the server {time.monotonic() - t0:.2f} s after connecting")
            return 0
        s = tls_connect(args, raw=raw)
        out("handshake", f"ok after {time.monotonic() - t0:.2f}")
        out("echo", "ok" if echo_round(s, b"late but fine\n") else "bad")
        s.close()
    except (OSError, ssl.SSLError) as e:
        out("handshake", f"failed after {time.monotonic() - t0:.2f}: {e.__class__.__name__}")
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


def cmd_bulk(args):
    """Sends args.size pseudo-random bytes (seeded) through an echo backend and reads
    the echo back: not at all for --stall seconds, then in small pieces with short
    pauses until --slow bytes came back, then at full speed. One thread: the SSL
    object works on memory BIOs over a non-blocking socket, so both directions are
    served by one select loop and nothing is ever read faster than intended."""
    ctx = make_context(args)
    raw = tcp_connect(args)
    # Small socket buffers: the stall must reach moat quickly, not sit in the kernel.
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 128 * 1024)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 128 * 1024)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname=args.sni or "localhost")
    raw.setblocking(False)
    deadline = time.monotonic() + args.limit
    pending = b""

    def send_some():
        nonlocal pending
        if not pending:
            pending = outg.read()
        if pending:
            try:
                n = raw.send(pending)
                pending = pending[n:]
            except BlockingIOError:
                pass

    # Handshake.
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pass
        send_some()
        r, _, _ = select.select([raw], [], [], 0.1)
        if r:
            d = raw.recv(65536)
            if not d:
                log("EOF during the handshake")
                return 1
            inc.write(d)
        if time.monotonic() > deadline:
            log("handshake timed out")
            return 1
    out("version", obj.version())

    rng = random.Random(args.seed)
    sent = received = 0
    h_sent, h_recv = hashlib.sha256(), hashlib.sha256()
    max_rss = rss_kib(args.rss_pid) if args.rss_pid else 0
    rss_samples = 0
    t_start = time.monotonic()
    next_rss = t_start
    stall_until = t_start + args.stall
    sent_at_stall_end = None
    end = "complete"

    while received < args.size:
        now = time.monotonic()
        if now > deadline:
            end = "time limit"
            break
        if args.rss_pid and now >= next_rss:
            max_rss = max(max_rss, rss_kib(args.rss_pid))
            rss_samples += 1
            next_rss = now + 0.5
        stalled = now < stall_until
        if not stalled and sent_at_stall_end is None:
            sent_at_stall_end = sent
        slow = not stalled and received < args.slow
        if not pending:
            pending = outg.read()
        if not pending and sent < args.size:
            chunk = rng.randbytes(min(65536, args.size - sent))
            obj.write(chunk)  # a memory BIO takes the whole chunk
            h_sent.update(chunk)
            sent += len(chunk)
            pending = outg.read()
        r, w, _ = select.select([] if stalled else [raw], [raw] if pending else [], [], 0.05)
        if w:
            send_some()
        if r:
            try:
                d = raw.recv(8192 if slow else 262144)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                end = "reset"
                break
            if not d:
                end = "eof"
                break
            inc.write(d)
            while True:
                try:
                    p = obj.read(8192 if slow else 262144)
                except ssl.SSLWantReadError:
                    break
                except ssl.SSLZeroReturnError:
                    p = b""
                if not p:
                    break
                h_recv.update(p)
                received += len(p)
            if slow:
                time.sleep(0.0005)
    elapsed = time.monotonic() - t_start
    if args.rss_pid:
        max_rss = max(max_rss, rss_kib(args.rss_pid))
    try:
        obj.unwrap()
    except ssl.SSLError:
        pass
    send_some()
    raw.close()
    out("end", end)
    out("sent", sent)
    out("received", received)
    out("sent_during_stall", sent_at_stall_end)
    out("sha256_sent", h_sent.hexdigest())
    out("sha256_received", h_recv.hexdigest())
    out("seconds", f"{elapsed:.1f}")
    out("rss_samples", rss_samples)
    out("max_rss_kib", max_rss)
    return 0


async def one_conn(i, args, ctx, sem, done_evt, release_evt, counters):
    async with sem:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", args.port, ssl=ctx,
                                        server_hostname=args.sni or "localhost"),
                args.timeout)
        except Exception as e:  # noqa: BLE001 - any failure counts
            counters["connect_failed"] += 1
            if counters["connect_failed"] <= 3:
                log(f"conn {i}: connect: {e!r}")
            counters["finished"] += 1
            if counters["finished"] == args.count:
                done_evt.set()
            return
    try:
        writer.write(http_request("GET", args.path, args.sni or "localhost",
                                  keep_alive=True))
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), args.timeout)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await asyncio.wait_for(reader.readexactly(length), args.timeout)
        if head.startswith(b"HTTP/1.1 200") and body == unescape(args.expect):
            counters["ok"] += 1
        else:
            counters["bad"] += 1
            if counters["bad"] <= 3:
                log(f"conn {i}: unexpected response {head[:60]!r} {body[:60]!r}")
    except Exception as e:  # noqa: BLE001
        counters["bad"] += 1
        if counters["bad"] <= 3:
            log(f"conn {i}: request: {e!r}")
    counters["finished"] += 1
    if counters["finished"] == args.count:
        done_evt.set()
    await done_evt.wait()
    await release_evt.wait()
    # All requests done: now every connection still open is counted, then closed.
    try:
        counters["open_at_end"] += 0 if reader.at_eof() else 1
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), args.timeout)
    except Exception:  # noqa: BLE001 - the close itself is not judged
        pass


async def release_when_told(args, done_evt, release_evt, counters):
    """Once every connection has its answer: "ready" in --ready (with how many are
    open), then wait for the file --go (if given) before everyone closes."""
    await done_evt.wait()
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write(f"ok={counters['ok']}\n")
        os.rename(args.ready + ".tmp", args.ready)
    t0 = time.monotonic()
    while args.go and not os.path.exists(args.go) and time.monotonic() - t0 < args.limit:
        await asyncio.sleep(0.05)
    release_evt.set()


async def many_main(args):
    ctx = make_context(args)
    sem = asyncio.Semaphore(args.parallel_handshakes)
    done_evt, release_evt = asyncio.Event(), asyncio.Event()
    counters = {"ok": 0, "bad": 0, "connect_failed": 0, "finished": 0, "open_at_end": 0}
    t0 = time.monotonic()
    ctl = asyncio.ensure_future(release_when_told(args, done_evt, release_evt, counters))
    await asyncio.gather(*(one_conn(i, args, ctx, sem, done_evt, release_evt, counters)
                           for i in range(args.count)))
    await ctl
    out("ok", counters["ok"])
    out("bad", counters["bad"])
    out("connect_failed", counters["connect_failed"])
    out("open_at_end", counters["open_at_end"])
    out("seconds", f"{time.monotonic() - t0:.1f}")


def cmd_many(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count * 2 + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    asyncio.run(many_main(args))
    return 0


def cmd_maxconn(args):
    held = []
    for i in range(args.conns):
        s = tls_connect(args)
        if not echo_round(s, f"conn {i}\n".encode()):
            log(f"conn {i}: echo failed")
        held.append(s)
    out("held", len(held))
    # One more: TCP completes (the kernel's queue) but no ServerHello comes.
    obj, inc, outg, hello = client_hello_bytes(args)
    raw = tcp_connect(args)
    out("extra_tcp", "connected")
    raw.sendall(hello)
    r, _, _ = select.select([raw], [], [], args.wait)
    if r:
        d = raw.recv(65536)
        out("extra_before_close", f"got {len(d)} bytes" if d else "closed")
    else:
        out("extra_before_close", "nothing")
    held.pop().close()
    t0 = time.monotonic()
    raw.settimeout(1)
    state = "timeout"
    while time.monotonic() - t0 < args.limit_after:
        try:
            d = raw.recv(65536)
        except (socket.timeout, TimeoutError):
            continue
        if not d:
            state = "closed"
            break
        inc.write(d)
        try:
            obj.do_handshake()
            state = "handshake_ok"
        except ssl.SSLWantReadError:
            pass
        o = outg.read()
        if o:
            raw.sendall(o)
        if state == "handshake_ok":
            break
    out("extra_after_close", state)
    out("extra_after_close_seconds", f"{time.monotonic() - t0:.2f}")
    if state == "handshake_ok":
        obj.write(b"extra connection\n")
        raw.sendall(outg.read())
        got = b""
        while len(got) < len(b"extra connection\n"):
            try:
                d = raw.recv(65536)
            except (socket.timeout, TimeoutError):
                break
            if not d:
                break
            inc.write(d)
            try:
                got += obj.read(65536)
            except ssl.SSLWantReadError:
                pass
        out("extra_echo", "ok" if got == b"extra connection\n" else f"bad:{got!r}")
    for s in held:
        s.close()
    raw.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--sni", default="localhost", help="server_name ('' for none)")
    p.add_argument("--alpn", default="", help="comma-separated protocols to offer")
    p.add_argument("--ca", default=DEFAULT_CA)
    p.add_argument("--no-verify", action="store_true")
    p.add_argument("--check-hostname", action="store_true")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--proxy-header", default="", help="bytes sent before TLS (\\r\\n escapes)")
    p.add_argument("--path", default="/")
    p.add_argument("--method", default="GET")
    p.add_argument("--body-file", default="")
    p.add_argument("--out", default="")
    p.add_argument("--unwrap", action="store_true", help="get: answer close_notify")
    p.add_argument("--file", default="")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--chunk", type=int, default=4096, help="slowget: bytes per read")
    p.add_argument("--interval", type=float, default=0.0, help="echo: seconds between rounds")
    p.add_argument("--mode", default="nothing", choices=["nothing", "half-hello"])
    p.add_argument("--limit", type=float, default=10.0)
    p.add_argument("--limit-after", type=float, default=10.0)
    p.add_argument("--conns", type=int, default=5, help="maxconn: the configured limit")
    p.add_argument("--wait", type=float, default=2.0)
    p.add_argument("--ready", default="")
    p.add_argument("--go", default="")
    p.add_argument("--size", type=int, default=256 << 20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--stall", type=float, default=2.0)
    p.add_argument("--slow", type=int, default=32 << 20)
    p.add_argument("--rss-pid", type=int, default=0)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--parallel-handshakes", type=int, default=100)
    p.add_argument("--expect", default="")
    args = p.parse_args()
    if args.sni == "":
        args.sni = None
    cmds = {
        "get": cmd_get, "cert": cmd_cert, "fp": cmd_fp, "echo": cmd_echo,
        "expect-close": cmd_expect_close, "stall": cmd_stall, "idle": cmd_idle,
        "hold": cmd_hold, "halfclose": cmd_halfclose,
        "abort": cmd_abort, "slowget": cmd_slowget,
        "late": cmd_late, "bulk": cmd_bulk, "many": cmd_many, "maxconn": cmd_maxconn,
    }
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
