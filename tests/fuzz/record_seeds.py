#!/usr/bin/env python3
"""Records the fuzz corpora's seeds that come from real peers and from files
(`make fuzz-seeds` runs it after seedgen).

    python3 tests/fuzz/record_seeds.py [--build build] tests/fuzz/corpus

- server/: what OpenSSL's s_client and GnuTLS's gnutls-cli send to build/tlsserver,
  recorded per read by a TCP relay (the idea of tests/interop/replayrelay.py, both
  directions kept), in fuzz_server's chunked format (harness.h). The real server's
  randomness is not the fuzzer's, so these replay up to the ClientHello (and a TLS 1.2
  client's plaintext flight): they bring other clients' hellos, extension orders,
  PSK and early_data offers.
- client/: what openssl s_server and gnutls-serv send to build/tlsclient, the same way
  (ServerHello, HelloRetryRequest, TLS 1.2 certificate and key exchange messages).
- msgs/: every handshake message `openssl s_client -msg` prints (decrypted TLS 1.3
  EncryptedExtensions, Certificate, CertificateVerify, NewSessionTicket included).
- config/: tests/config/good and bad, config/*.yaml.
- proxy/: PROXY v1 and v2 headers (TCP4/TCP6/UNKNOWN, LOCAL/UNSPEC/UNIX, TLVs).
- certkey/, verify/: the PEM and DER files of tests/certs.

Standard library only; needs openssl, gnutls-cli and gnutls-serv (make deps).
"""

import argparse
import base64
import glob
import os
import re
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CERTS = os.path.join(ROOT, "tests", "certs")

# harness.h
CHUNK_NEWCONN = 0x8000
CHUNK_MAX = 0x1FFF
S_RSA, S_P384, S_TICKETS, S_CACHE, S_EARLY = 1, 2, 0x04, 0x08, 0x10
S_V13, S_V12, S_VHRR, S_EXTRAS = 1 << 5, 2 << 5, 3 << 5, 0x80
C_VERIFY, C_STORE, C_EARLY, C_V13, C_V12, C_ALPN = 0x01, 0x02, 0x04, 1 << 4, 2 << 4, 0x40

written = 0


def write_seed(out, target, name, data):
    global written
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    written += 1


def chunked(flags, conns):
    """conns: list of lists of byte chunks -> harness.h's format."""
    out = bytearray([flags])
    for k, chunks in enumerate(conns):
        first = True
        for c in chunks:
            for i in range(0, max(len(c), 1), CHUNK_MAX):
                piece = c[i:i + CHUNK_MAX]
                h = len(piece) | (CHUNK_NEWCONN if (first and k > 0) else 0)
                out += struct.pack(">H", h) + piece
                first = False
    return bytes(out)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Relay:
    """Relays one connection at a time to 127.0.0.1:target, recording each recv."""

    def __init__(self, target):
        self.target = target
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.conns = []  # per connection: (client->server chunks, server->client chunks)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.stop = False
        self.thread.start()

    def run(self):
        self.lsock.settimeout(0.5)
        while not self.stop:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            c2s, s2c = [], []
            self.conns.append((c2s, s2c))
            ends = {client: (server, c2s), server: (client, s2c)}
            deadline = time.time() + 15
            while ends and time.time() < deadline:
                r, _, _ = select.select(list(ends), [], [], 0.3)
                for sock in r:
                    peer, rec = ends[sock]
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        del ends[sock]
                        try:
                            peer.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        continue
                    rec.append(data)
                    try:
                        peer.sendall(data)
                    except OSError:
                        pass
            client.close()
            server.close()

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.lsock.close()


def wait_listening(proc, pattern, timeout=10):
    deadline = time.time() + timeout
    buf = b""
    while time.time() < deadline:
        r, _, _ = select.select([proc.stderr, proc.stdout], [], [], 0.2)
        for f in r:
            line = f.readline()
            buf += line
            m = re.search(pattern, line)
            if m:
                return m
    raise RuntimeError("server did not start: %r" % buf[-500:])


def run_client(cmd, stdin=b"GET / HTTP/1.0\r\n\r\n", timeout=8):
    try:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        return (e.stdout or b"") + (e.stderr or b"")


def key_paths(kind):
    d = os.path.join(CERTS, kind)
    return os.path.join(d, "end.fullchain"), os.path.join(d, "end.key"), os.path.join(d, "ca.cert")


# ---- msgs from openssl -msg ----------------------------------------------------------

MSG_MODE = {1: 0, 2: 1, 8: 2, 15: 5, 12: 9}


def msgs_from_trace(out, trace, tag):
    """Handshake messages in `openssl s_client -msg` output."""
    n = 0
    lines = trace.decode("latin-1").splitlines()
    i = 0
    tls13 = "TLS 1.3" in trace.decode("latin-1")
    while i < len(lines):
        m = re.match(r"(<<<|>>>) (TLS 1\.[23]), Handshake \[length ([0-9a-f]+)\]", lines[i])
        i += 1
        if not m:
            continue
        hexbytes = []
        while i < len(lines) and re.match(r"^    [0-9a-f]{2}( |$)", lines[i]):
            hexbytes += lines[i].split()
            i += 1
        data = bytes(int(h, 16) for h in hexbytes if re.fullmatch(r"[0-9a-f]{2}", h))
        if len(data) < 4:
            continue
        t = data[0]
        if t == 11:
            mode = 3 if tls13 else 4
        elif t == 13:
            mode = 6 if tls13 else 10
        elif t == 4:
            mode = 7 if tls13 else 8
        else:
            mode = MSG_MODE.get(t)
        if mode is None:
            continue
        write_seed(out, "msgs", "openssl-%s-%d-type%d" % (tag, n, t), bytes([mode]) + data[4:])
        n += 1


# ---- server target: clients against build/tlsserver --------------------------------------

def record_server(out, build):
    tlsserver = os.path.join(build, "tlsserver")
    setups = [
        # (tag, server flags, tlsserver options, key kind)
        ("p256", 0, [], "ecdsa-p256"),
        ("rsa-tickets", S_RSA | S_TICKETS, ["--tickets", "--max-early-data", "16384"], "rsa2048"),
        ("p384-cache", S_P384 | S_CACHE, ["--resumption"], "ecdsa-p384"),
    ]
    for tag, flags, opts, kind in setups:
        chain, key, ca = key_paths(kind)
        proc = subprocess.Popen([tlsserver, "--certs", chain, "--key", key, "-p", "0",
                                 "--address", "127.0.0.1"] + opts + ["echo"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            m = wait_listening(proc, rb"listening on [0-9.]+:(\d+)")
            port = int(m.group(1))
            relay = Relay(port)
            sess = tempfile.NamedTemporaryFile(delete=False).name
            early = sess + "early"
            with open(early, "wb") as f:
                f.write(b"GET /early HTTP/1.1\r\nHost: localhost\r\n\r\n")
            rp = str(relay.port)
            clients = [
                ("openssl13", ["openssl", "s_client", "-connect", "127.0.0.1:" + rp,
                               "-servername", "localhost", "-CAfile", ca]),
                ("openssl12", ["openssl", "s_client", "-connect", "127.0.0.1:" + rp,
                               "-tls1_2", "-servername", "localhost", "-CAfile", ca]),
                ("openssl-p384", ["openssl", "s_client", "-connect", "127.0.0.1:" + rp,
                                  "-groups", "P-384:X25519", "-alpn", "h2,http/1.1"]),
                ("openssl-hrr", ["openssl", "s_client", "-connect", "127.0.0.1:" + rp,
                                 "-groups", "P-521:P-256", "-servername", "localhost"]),
                ("openssl-sess-out", ["openssl", "s_client", "-connect", "127.0.0.1:" + rp,
                                      "-sess_out", sess, "-ign_eof"]),
                ("openssl-sess-in", ["openssl", "s_client", "-connect", "127.0.0.1:" + rp,
                                     "-sess_in", sess, "-early_data", early]),
                ("openssl12-sess", ["openssl", "s_client", "-connect", "127.0.0.1:" + rp,
                                    "-tls1_2", "-sess_out", sess + "12", "-no_ticket"]),
                ("openssl12-sess-in", ["openssl", "s_client", "-connect", "127.0.0.1:" + rp,
                                       "-tls1_2", "-sess_in", sess + "12", "-no_ticket"]),
                ("gnutls13", ["gnutls-cli", "--port", rp, "--x509cafile", ca, "localhost"]),
                ("gnutls12", ["gnutls-cli", "--port", rp, "--insecure", "--priority",
                              "NORMAL:-VERS-ALL:+VERS-TLS1.2", "127.0.0.1"]),
                ("gnutls-secp384", ["gnutls-cli", "--port", rp, "--insecure", "--priority",
                                    "NORMAL:-GROUP-ALL:+GROUP-SECP384R1", "localhost"]),
            ]
            for name, cmd in clients:
                before = len(relay.conns)
                trace = run_client(cmd + (["-msg"] if cmd[0] == "openssl" else []),
                                   timeout=3 if "-ign_eof" in cmd else 6)
                time.sleep(0.3)
                if cmd[0] == "openssl":
                    msgs_from_trace(out, trace, "%s-%s" % (tag, name))
                for i, (c2s, _) in enumerate(relay.conns[before:]):
                    if c2s:
                        write_seed(out, "server", "peer-%s-%s-%d" % (tag, name, i),
                                   chunked(flags, [c2s]))
            relay.close()
            for f in (sess, sess + "12", early):
                if os.path.exists(f):
                    os.unlink(f)
        finally:
            proc.kill()
            proc.wait()


# ---- client target: build/tlsclient against openssl s_server / gnutls-serv ---------------

def record_client(out, build):
    tlsclient = os.path.join(build, "tlsclient")
    chain, key, ca = key_paths("ecdsa-p256")
    rchain, rkey, rca = key_paths("rsa2048")
    servers = [
        ("openssl13", C_VERIFY, ["openssl", "s_server", "-accept", "{port}", "-cert", chain,
                                 "-key", key, "-www", "-naccept", "4"], ca),
        ("openssl12-rsa", C_VERIFY, ["openssl", "s_server", "-accept", "{port}", "-cert", rchain,
                                     "-key", rkey, "-tls1_2", "-www", "-naccept", "4"], rca),
        ("openssl-hrr", C_VERIFY, ["openssl", "s_server", "-accept", "{port}", "-cert", chain,
                                   "-key", key, "-groups", "P-256", "-www", "-naccept", "4"], ca),
        ("gnutls", C_VERIFY, ["gnutls-serv", "--port", "{port}", "--x509certfile", chain,
                              "--x509keyfile", key, "--http"], ca),
        ("gnutls12", C_VERIFY | C_V12, ["gnutls-serv", "--port", "{port}", "--x509certfile", rchain,
                                        "--x509keyfile", rkey, "--http", "--priority",
                                        "NORMAL:-VERS-ALL:+VERS-TLS1.2"], rca),
    ]
    for name, flags, cmd, cafile in servers:
        port = free_port()
        proc = subprocess.Popen([c.replace("{port}", str(port)) for c in cmd],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            relay = Relay(port)
            before = len(relay.conns)
            run_client([tlsclient, "--http", "--cafile", cafile, "--connect", "127.0.0.1",
                        "-p", str(relay.port), "localhost"], stdin=b"")
            time.sleep(0.3)
            for i, (_, s2c) in enumerate(relay.conns[before:]):
                if s2c:
                    write_seed(out, "client", "peer-%s-%d" % (name, i), chunked(flags, [s2c]))
            relay.close()
        finally:
            proc.kill()
            proc.wait()


# ---- file seeds -----------------------------------------------------------------------

def pem_blocks(path):
    text = open(path, "rb").read()
    return [base64.b64decode(b"".join(m.group(1).split()))
            for m in re.finditer(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----",
                                 text, re.S)]


def file_seeds(out):
    for f in sorted(glob.glob(os.path.join(ROOT, "tests/config/good/*.yaml")) +
                    glob.glob(os.path.join(ROOT, "config/*.yaml"))):
        write_seed(out, "config", "good-" + os.path.basename(f), open(f, "rb").read())
    for f in sorted(glob.glob(os.path.join(ROOT, "tests/config/bad/*.yaml"))):
        write_seed(out, "config", "bad-" + os.path.basename(f), open(f, "rb").read())

    v1 = [b"PROXY TCP4 192.168.0.1 10.0.0.2 56324 443\r\n",
          b"PROXY TCP6 2001:db8::1 ::1 65535 8443\r\n",
          b"PROXY TCP6 ::ffff:10.0.0.1 ::ffff:10.0.0.2 1 2\r\n",
          b"PROXY UNKNOWN\r\n",
          b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n",
          b"PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r\n\x16\x03\x01\x00\x05hello"]
    for i, h in enumerate(v1):
        write_seed(out, "proxy", "v1-%d" % i, h)
    sig = b"\r\n\r\n\x00\r\nQUIT\n"

    def tlv(t, v):
        return bytes([t]) + struct.pack(">H", len(v)) + v
    tlvs = (tlv(1, b"h2") + tlv(2, b"example.com") +
            tlv(0x20, b"\x01\x00\x00\x00\x00" + tlv(0x21, b"TLSv1.3") + tlv(0x23, b"TLS13_AES_128_GCM_SHA256")) +
            tlv(0xE0, b"\x01"))
    v2 = [
        (0x21, 0x11, bytes([127, 0, 0, 1, 10, 0, 0, 1]) + struct.pack(">HH", 1234, 443)),
        (0x21, 0x11, bytes([127, 0, 0, 1, 10, 0, 0, 1]) + struct.pack(">HH", 1234, 443) + tlvs),
        (0x21, 0x21, bytes(15) + b"\x01" + bytes(15) + b"\x02" + struct.pack(">HH", 1, 2)),
        (0x21, 0x31, b"/tmp/a".ljust(108, b"\0") + b"/tmp/b".ljust(108, b"\0")),
        (0x20, 0x00, b""),
        (0x20, 0x11, bytes(12)),
        (0x21, 0x00, b"anything"),
        (0x21, 0x12, bytes(12)),
    ]
    for i, (vc, fam, body) in enumerate(v2):
        write_seed(out, "proxy", "v2-%d" % i, sig + bytes([vc, fam]) + struct.pack(">H", len(body)) + body)
    write_seed(out, "proxy", "v2-then-tls", sig + b"\x21\x11\x00\x0c" + bytes(12) + b"\x16\x03\x01")
    write_seed(out, "proxy", "tls-hello", b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03")

    sep = b"\n==KEY==\n"
    for kind in ("ecdsa-p256", "ecdsa-p384", "rsa2048"):
        d = os.path.join(CERTS, kind)
        for leaf in ("end", "other"):
            chain = open(os.path.join(d, leaf + ".fullchain"), "rb").read()
            key = open(os.path.join(d, leaf + ".key"), "rb").read()
            write_seed(out, "certkey", "pem-%s-%s" % (kind, leaf), b"\x00" + chain + sep + key)
        for alt in ("end.sec1.key", "end.rsa.pkcs1.key"):
            p = os.path.join(d, alt)
            if os.path.exists(p):
                chain = open(os.path.join(d, "end.cert"), "rb").read()
                write_seed(out, "certkey", "pem-%s-%s" % (kind, alt), b"\x00" + chain + sep + open(p, "rb").read())
        der_chain = pem_blocks(os.path.join(d, "end.cert"))[0]
        der_key = subprocess.run(["openssl", "pkey", "-in", os.path.join(d, "end.key"), "-outform", "DER"],
                                 stdout=subprocess.PIPE, check=True).stdout
        write_seed(out, "certkey", "der-%s" % kind, b"\x00" + der_chain + sep + der_key)
        write_seed(out, "certkey", "roots-%s" % kind, b"\x01" + open(os.path.join(d, "ca.cert"), "rb").read())
    write_seed(out, "certkey", "mismatch", b"\x00" + open(os.path.join(CERTS, "ecdsa-p256/end.cert"), "rb").read()
               + sep + open(os.path.join(CERTS, "ecdsa-p384/end.key"), "rb").read())
    allcas = b"".join(open(os.path.join(CERTS, k, "ca.cert"), "rb").read()
                      for k in ("ecdsa-p256", "ecdsa-p384", "rsa2048"))
    write_seed(out, "certkey", "roots-all", b"\x01" + allcas)
    write_seed(out, "certkey", "bundle-all", b"\x02" + allcas + b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    bundle = "/etc/ssl/certs/ca-certificates.crt"
    if os.path.exists(bundle):
        text = open(bundle, "rb").read()
        blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", text, re.S)
        write_seed(out, "certkey", "bundle-system-3", b"\x02" + b"".join(blocks[:3]))

    names = {"localhost": 0, "127.0.0.1": 1, "a.wild.test": 2, "www.allowed.test": 5,
             "wrong.example": 6}
    chains = sorted(glob.glob(os.path.join(CERTS, "*/*.fullchain")))
    for path in chains:
        ders = pem_blocks(path)
        base = os.path.basename(os.path.dirname(path)) + "-" + os.path.basename(path)
        sel = names["www.allowed.test"] if "nc_" in path else names["wrong.example"] if "wrongname" in path else 0
        body = b"".join(struct.pack(">H", len(d)) + d for d in ders[:-1] or ders)
        write_seed(out, "verify", base, bytes([sel]) + body)
    for path in sorted(glob.glob(os.path.join(CERTS, "*/end.fullchain")))[:1]:
        ders = pem_blocks(path)
        body = b"".join(struct.pack(">H", len(d)) + d for d in ders)
        for sel in (1, 2, 3, 4, 7, 8, 16, 24):
            write_seed(out, "verify", "sel%d-%s" % (sel, os.path.basename(os.path.dirname(path))),
                       bytes([sel]) + body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--no-peers", action="store_true", help="file seeds only")
    ap.add_argument("out")
    a = ap.parse_args()
    os.chdir(ROOT)
    file_seeds(a.out)
    if not a.no_peers:
        record_server(a.out, a.build)
        record_client(a.out, a.build)
    print("record_seeds: %d seeds written under %s" % (written, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
