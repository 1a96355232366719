#!/usr/bin/env python3
"""A backend for tests/interop/moat_early_data.sh: records exactly what moat forwards.

Listens on 127.0.0.1:0 and prints "listening on 127.0.0.1:PORT" (flushed). Each
connection may start with a PROXY v2 header (--proxy-v2: required); its TLVs are
read, and moat's early-data TLV (type 0xE0, one byte 0x01) noted. Then bytes are read
until the end of an HTTP request head ("\\r\\n\\r\\n"); the answer is

    HTTP/1.0 200 OK
    <blank line>
    early_tlv=yes|no
    request=<the request bytes, Python-escaped>

and the connection is closed. One line per connection is appended to --log:
"conn N early_tlv=yes|no tlvs=<types> request=<escaped>", so a test can count how
often a given request (or an early-data marker in it) reached the backend.
"""
import argparse
import socket
import struct
import sys
import threading

PP2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
PP2_TYPE_MOAT_EARLY_DATA = 0xE0
MAX_REQUEST = 1 << 20


def recv_exact(sock, n, buf):
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def read_proxy_v2(sock):
    """Returns (tlvs as {type: value}, bytes after the header)."""
    buf = recv_exact(sock, 16, b"")
    if buf[:12] != PP2_SIG:
        raise ValueError("no PROXY v2 signature: %r" % buf[:16])
    length = struct.unpack("!H", buf[14:16])[0]
    buf = recv_exact(sock, 16 + length, buf)
    fam = buf[13] >> 4
    addr_len = {0x1: 12, 0x2: 36, 0x3: 216}.get(fam, 0)
    if buf[12] & 0x0F == 0:  # LOCAL: the whole block is skipped
        addr_len = length
    block = buf[16 + addr_len:16 + length]
    tlvs = {}
    i = 0
    while i < len(block):
        if i + 3 > len(block):
            raise ValueError("truncated TLV header")
        t = block[i]
        n = struct.unpack("!H", block[i + 1:i + 3])[0]
        if i + 3 + n > len(block):
            raise ValueError("TLV 0x%02x runs past the header" % t)
        tlvs[t] = block[i + 3:i + 3 + n]
        i += 3 + n
    return tlvs, buf[16 + length:]


class Backend:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.count = 0

    def log(self, line):
        with self.lock:
            with open(self.args.log, "a") as f:
                f.write(line + "\n")

    def serve(self, sock):
        with self.lock:
            self.count += 1
            n = self.count
        try:
            tlvs, rest = read_proxy_v2(sock) if self.args.proxy_v2 else ({}, b"")
            req = rest
            while b"\r\n\r\n" not in req and len(req) < MAX_REQUEST:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                req += chunk
            early = tlvs.get(PP2_TYPE_MOAT_EARLY_DATA)
            if early is None:
                flag = "no"
            elif early == b"\x01":
                flag = "yes"
            else:
                flag = "bad(%s)" % early.hex()
            types = ",".join("0x%02x" % t for t in sorted(tlvs)) or "-"
            self.log("conn %d early_tlv=%s tlvs=%s request=%r" % (n, flag, types, req))
            body = "early_tlv=%s\nrequest=%r\n" % (flag, req)
            sock.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body.encode())
        except (OSError, ValueError, EOFError) as e:
            self.log("conn %d error=%r" % (n, str(e)))
        finally:
            sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--proxy-v2", action="store_true")
    args = ap.parse_args()
    backend = Backend(args)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    print("listening on 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=backend.serve, args=(s,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
