#!/usr/bin/env python3
"""A version-downgrading man in the middle, for tests/interop/tls12_features.sh.

    python3 tests/interop/downgrade_mitm.py TARGET_PORT [--strip EXT]...

Listens on 127.0.0.1 (a port the kernel picks), prints "listening on
127.0.0.1:PORT" on stdout (flushed), and forwards every connection to
127.0.0.1:TARGET_PORT. The client's first ClientHello is rewritten: the
supported_versions extension (43) is removed (or the extensions named by --strip,
as numbers), and the extensions block, handshake and record lengths are fixed up;
every other byte is kept. A TLS 1.3 client is so pushed down to TLS 1.2 as far as
the server can tell. Everything after the ClientHello is relayed untouched, both
ways.

On stderr, per connection: "conn N: ClientHello rewritten: removed extension 43 (M
bytes), legacy_version 0303" (or "... not found" when there was nothing to remove,
or "not a ClientHello"), and "conn N: closed (c->s BYTES, s->c BYTES)".
Standard library only. Stops on SIGTERM/SIGINT.
"""

import signal
import socket
import struct
import sys
import threading

EXT_SUPPORTED_VERSIONS = 43

lock = threading.Lock()


def log(msg):
    with lock:
        print("downgrade_mitm: " + msg, file=sys.stderr, flush=True)


def recv_exact(sock, n, buf):
    """Reads from sock until buf holds n bytes; returns the new buf, or None on EOF."""
    while len(buf) < n:
        data = sock.recv(65536)
        if not data:
            return None
        buf += data
    return buf


def rewrite_hello(msg, strip):
    """msg is a whole handshake message (type, u24 length, body). Returns
    (new message, removed list of (type, length), legacy_version) or (None, why)."""
    if len(msg) < 4 or msg[0] != 1:
        return None, "not a ClientHello (handshake type %d)" % (msg[0] if msg else -1)
    body = msg[4:]
    try:
        p = 0
        legacy_version = struct.unpack("!H", body[p:p + 2])[0]
        p += 2 + 32                      # version, random
        p += 1 + body[p]                 # session id
        p += 2 + struct.unpack("!H", body[p:p + 2])[0]  # cipher suites
        p += 1 + body[p]                 # compression methods
        ext_start = p
        ext_len = struct.unpack("!H", body[p:p + 2])[0]
        exts = body[p + 2:p + 2 + ext_len]
        if p + 2 + ext_len != len(body) or len(exts) != ext_len:
            return None, "ClientHello lengths do not add up"
    except (IndexError, struct.error):
        return None, "truncated ClientHello"
    kept, removed, q = [], [], 0
    while q < len(exts):
        if q + 4 > len(exts):
            return None, "truncated extension header"
        typ, n = struct.unpack("!HH", exts[q:q + 4])
        raw = exts[q:q + 4 + n]
        if len(raw) != 4 + n:
            return None, "truncated extension"
        if typ in strip:
            removed.append((typ, n))
        else:
            kept.append(raw)
        q += 4 + n
    new_exts = b"".join(kept)
    new_body = body[:ext_start] + struct.pack("!H", len(new_exts)) + new_exts
    new_msg = msg[:1] + struct.pack("!I", len(new_body))[1:] + new_body
    return (new_msg, removed, legacy_version), None


def pump(src, dst, counter, key):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            counter[key] += len(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(num, client, target_port, strip):
    counter = {"c2s": 0, "s2c": 0}
    try:
        server = socket.create_connection(("127.0.0.1", target_port), timeout=5)
        server.settimeout(None)
    except OSError as e:
        log("conn %d: cannot reach 127.0.0.1:%d: %s" % (num, target_port, e))
        client.close()
        return
    try:
        # Reassemble the first handshake message from the client's handshake records.
        buf, hs, rec_version = b"", b"", None
        while True:
            buf = recv_exact(client, 5, buf)
            if buf is None:
                raise EOFError
            ct, ver, n = struct.unpack("!BHH", buf[:5])
            if ct != 22:
                log("conn %d: first record has content type %d; relaying as is" % (num, ct))
                server.sendall(buf)
                counter["c2s"] += len(buf)
                buf = b""
                break
            buf = recv_exact(client, 5 + n, buf)
            if buf is None:
                raise EOFError
            rec_version = rec_version or ver
            hs += buf[5:5 + n]
            buf = buf[5 + n:]
            if len(hs) >= 4 and len(hs) >= 4 + struct.unpack("!I", b"\x00" + hs[1:4])[0]:
                break
        if hs:
            mlen = 4 + struct.unpack("!I", b"\x00" + hs[1:4])[0]
            msg, rest = hs[:mlen], hs[mlen:]
            res, why = rewrite_hello(msg, strip)
            if res is None:
                log("conn %d: %s; relaying as is" % (num, why))
                new_msg = msg
            else:
                new_msg, removed, lv = res
                if removed:
                    log("conn %d: ClientHello rewritten: removed %s, legacy_version %04x"
                        % (num, ", ".join("extension %d (%d bytes)" % r for r in removed), lv))
                else:
                    log("conn %d: ClientHello rewritten: extension(s) %s not found"
                        % (num, ",".join(str(s) for s in sorted(strip))))
            out = new_msg + rest
            recs = b""
            for i in range(0, len(out), 16384):
                chunk = out[i:i + 16384]
                recs += struct.pack("!BHH", 22, rec_version, len(chunk)) + chunk
            server.sendall(recs + buf)
            counter["c2s"] += len(recs) + len(buf)
    except (EOFError, OSError) as e:
        log("conn %d: client went away before its ClientHello: %r" % (num, e))
        client.close()
        server.close()
        return
    t = threading.Thread(target=pump, args=(server, client, counter, "s2c"), daemon=True)
    t.start()
    pump(client, server, counter, "c2s")
    t.join()
    client.close()
    server.close()
    log("conn %d: closed (c->s %d, s->c %d)" % (num, counter["c2s"], counter["s2c"]))


def main(argv):
    args = argv[1:]
    if not args:
        print("usage: downgrade_mitm.py TARGET_PORT [--strip EXT]...", file=sys.stderr)
        return 2
    target = int(args[0])
    strip = set()
    rest = args[1:]
    while rest:
        if rest[0] == "--strip" and len(rest) >= 2:
            strip.add(int(rest[1]))
            rest = rest[2:]
        else:
            print("downgrade_mitm: bad argument %r" % rest[0], file=sys.stderr)
            return 2
    if not strip:
        strip = {EXT_SUPPORTED_VERSIONS}
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening on 127.0.0.1:%d" % lsock.getsockname()[1], flush=True)
    num = 0
    try:
        while True:
            client, _ = lsock.accept()
            num += 1
            threading.Thread(target=handle, args=(num, client, target, strip),
                             daemon=True).start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lsock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
