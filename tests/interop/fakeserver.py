#!/usr/bin/env python3
"""A scripted TLS "server" for tlsclient's error tests (python3 standard library only).

Listens on 127.0.0.1 (port 0 unless -p is given), prints "listening on 127.0.0.1:PORT"
(flushed), accepts one connection, reads the ClientHello and answers with one forged
ServerHello chosen by MODE. It holds no keys, so it can only script the first flight:
every MODE is a ServerHello a correct client must refuse. Then it reports what the
client did, one line each on stdout:

    clienthello versions=0304,0303 suites=1302,1301,... groups=001d,... shares=001d
    sent <what>
    client alert fatal illegal_parameter        (or: client closed / client timeout /
                                                 client sent <type> record)

MODEs:
    unoffered-suite    TLS 1.3 ServerHello choosing TLS_AES_128_CCM_SHA256 (0x1304),
                       which the client never offers -> SelectedUnofferedParameter
    unoffered-suite12  TLS 1.2 ServerHello choosing TLS_RSA_WITH_AES_128_GCM_SHA256
                       (0x009c, no forward secrecy: never offered)
    downgrade          TLS 1.2 ServerHello (an offered 1.2 suite) whose random ends in
                       the RFC 8446 4.1.3 sentinel "DOWNGRD\\x01", to a client that
                       offered TLS 1.3 -> AttemptedDowngradeToTls12WhenTls13IsSupported
    unoffered-version  TLS 1.3-style ServerHello whose supported_versions says 0x0305
    unoffered-group    TLS 1.3 ServerHello with a key share for a group the client
                       did not list (0x0019, secp521r1)
    close-notify       a plaintext close_notify alert instead of a ServerHello: the
                       handshake was refused, not completed
    truncate CHAIN KEY a real TLS server (python's ssl module) presenting CHAIN that
                       reads one line, sends it back with "truncated\n" appended, and
                       closes TCP without close_notify (prints "sent N bytes, no
                       close_notify")

Exit status: 0 when the script ran (whatever the client did), 1 on a setup failure or
an unparseable ClientHello, 2 on bad usage.
"""

import os
import socket
import ssl
import struct
import sys

HANDSHAKE = 22
ALERT = 21
CLIENT_HELLO = 1
SERVER_HELLO = 2
EXT_SUPPORTED_GROUPS = 10
EXT_EMS = 23
EXT_SUPPORTED_VERSIONS = 43
EXT_KEY_SHARE = 51
EXT_RENEGOTIATION_INFO = 0xFF01
DOWNGRADE_TLS12 = b"DOWNGRD\x01"

ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
    22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
    43: "unsupported_certificate", 45: "certificate_expired", 46: "certificate_unknown",
    47: "illegal_parameter", 48: "unknown_ca", 50: "decode_error", 51: "decrypt_error",
    70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
    86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
    110: "unsupported_extension", 112: "unrecognized_name",
    120: "no_application_protocol",
}

TIMEOUT = float(os.environ.get("FAKESERVER_TIMEOUT", "10"))


def out(line):
    print(line, flush=True)


def u8(n):
    return struct.pack("!B", n)


def u16(n):
    return struct.pack("!H", n)


def u24(n):
    return struct.pack("!I", n)[1:]


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def ext(typ, body):
    return u16(typ) + vec16(body)


def handshake(typ, body):
    return u8(typ) + u24(len(body)) + body


def record(ct, payload):
    return u8(ct) + u16(0x0303) + vec16(payload)


class Reader:
    """Exact-consumption parsing: every read checks the length, done() checks the end."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("!H", self.take(2))[0]

    def vec(self, width):
        n = int.from_bytes(self.take(width), "big")
        return Reader(self.take(n))

    def done(self):
        return self.pos == len(self.data)


class Conn:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def record(self):
        while len(self.buf) < 5 or len(self.buf) < 5 + struct.unpack("!H", self.buf[3:5])[0]:
            self.fill()
        n = struct.unpack("!H", self.buf[3:5])[0]
        ct, payload = self.buf[0], self.buf[5:5 + n]
        self.buf = self.buf[5 + n:]
        return ct, payload

    def client_hello(self):
        """The first handshake message, reassembled from as many records as it takes."""
        hs = b""
        while len(hs) < 4 or len(hs) < 4 + int.from_bytes(hs[1:4], "big"):
            ct, payload = self.record()
            if ct != HANDSHAKE:
                raise ValueError("record type %d before the ClientHello" % ct)
            hs += payload
        if hs[0] != CLIENT_HELLO:
            raise ValueError("handshake type %d is not a ClientHello" % hs[0])
        return hs[4:4 + int.from_bytes(hs[1:4], "big")]


def parse_hello(body):
    r = Reader(body)
    hello = {"versions": [], "suites": [], "groups": [], "shares": [], "exts": set()}
    r.u16()
    r.take(32)
    sid = r.vec(1)
    hello["session_id"] = sid.take(len(sid.data))
    suites = r.vec(2)
    while not suites.done():
        hello["suites"].append(suites.u16())
    r.vec(1)  # compression methods
    if r.done():
        return hello
    exts = r.vec(2)
    if not r.done():
        raise ValueError("bytes after the extensions")
    while not exts.done():
        typ = exts.u16()
        data = exts.vec(2)
        hello["exts"].add(typ)
        if typ == EXT_SUPPORTED_VERSIONS:
            v = data.vec(1)
            while not v.done():
                hello["versions"].append(v.u16())
        elif typ == EXT_SUPPORTED_GROUPS:
            g = data.vec(2)
            while not g.done():
                hello["groups"].append(g.u16())
        elif typ == EXT_KEY_SHARE:
            shares = data.vec(2)
            while not shares.done():
                group = shares.u16()
                key = shares.vec(2)
                hello["shares"].append((group, key.take(len(key.data))))
    return hello


def server_hello(hello, version, suite, exts, random=None):
    random = random if random is not None else os.urandom(32)
    body = (u16(version) + random + vec8(hello["session_id"]) + u16(suite) + u8(0) +
            vec16(b"".join(exts)))
    return record(HANDSHAKE, handshake(SERVER_HELLO, body))


def x25519_share(hello):
    """A key share a 1.3 client would accept for shape: its own first group, a fresh
    value of the right size (32 random bytes are a valid X25519 public key)."""
    group, key = hello["shares"][0] if hello["shares"] else (0x001D, b"\x00" * 32)
    if group == 0x001D:
        key = os.urandom(32)
    return ext(EXT_KEY_SHARE, u16(group) + vec16(key))


def tls12_extensions(hello):
    """Only what the client offered: anything else would be an unsolicited extension."""
    exts = []
    if EXT_RENEGOTIATION_INFO in hello["exts"]:
        exts.append(ext(EXT_RENEGOTIATION_INFO, b"\x00"))
    if EXT_EMS in hello["exts"]:
        exts.append(ext(EXT_EMS, b""))
    return exts


def first_tls12_suite(hello):
    for s in hello["suites"]:
        if s >> 8 == 0xC0 or s >> 8 == 0xCC:
            return s
    return 0xC02B


def answer(mode, hello):
    """Returns (bytes to send, what they are)."""
    sv13 = ext(EXT_SUPPORTED_VERSIONS, u16(0x0304))
    if mode == "unoffered-suite":
        return (server_hello(hello, 0x0303, 0x1304, [sv13, x25519_share(hello)]),
                "TLS 1.3 ServerHello with TLS_AES_128_CCM_SHA256 (0x1304)")
    if mode == "unoffered-suite12":
        return (server_hello(hello, 0x0303, 0x009C, tls12_extensions(hello)),
                "TLS 1.2 ServerHello with TLS_RSA_WITH_AES_128_GCM_SHA256 (0x009c)")
    if mode == "downgrade":
        suite = first_tls12_suite(hello)
        random = os.urandom(24) + DOWNGRADE_TLS12
        return (server_hello(hello, 0x0303, suite, tls12_extensions(hello), random),
                "TLS 1.2 ServerHello (suite 0x%04x) with the DOWNGRD\\x01 sentinel" % suite)
    if mode == "unoffered-version":
        sv = ext(EXT_SUPPORTED_VERSIONS, u16(0x0305))
        return (server_hello(hello, 0x0303, 0x1301, [sv, x25519_share(hello)]),
                "ServerHello with supported_versions 0x0305")
    if mode == "unoffered-group":
        share = ext(EXT_KEY_SHARE, u16(0x0019) + vec16(b"\x04" + os.urandom(132)))
        return (server_hello(hello, 0x0303, 0x1301, [sv13, share]),
                "TLS 1.3 ServerHello with a secp521r1 (0x0019) key share")
    if mode == "close-notify":
        return record(ALERT, b"\x01\x00"), "close_notify alert"
    raise KeyError(mode)


MODES = ("unoffered-suite", "unoffered-suite12", "downgrade", "unoffered-version",
         "unoffered-group", "close-notify")


def report_client(conn):
    """What the client does after our ServerHello: normally a plaintext fatal alert."""
    try:
        while True:
            ct, payload = conn.record()
            if ct == ALERT and len(payload) == 2:
                level = {1: "warning", 2: "fatal"}.get(payload[0], str(payload[0]))
                out("client alert %s %s" % (level, ALERTS.get(payload[1],
                                                              "alert_%d" % payload[1])))
                return
            if ct == 20:  # ChangeCipherSpec (middlebox compatibility): keep reading
                continue
            out("client sent %s record (%d bytes)" % (
                {22: "handshake", 23: "application_data"}.get(ct, "type %d" % ct),
                len(payload)))
            return
    except EOFError:
        out("client closed")
    except socket.timeout:
        out("client timeout")
    except ConnectionResetError:
        out("client reset")


def truncate(sock, chain, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    tls = ctx.wrap_socket(sock, server_side=True)
    line = b""
    while not line.endswith(b"\n"):
        data = tls.recv(4096)
        if not data:
            break
        line += data
    reply = line + b"truncated\n"
    tls.sendall(reply)
    # SSLSocket.shutdown() drops the TLS layer without close_notify (only unwrap() sends
    # one): the client sees a bare TCP FIN after the data. Whatever it still sends is
    # read and dropped, so that closing with unread bytes cannot turn the FIN into a
    # RST (which would destroy the reply in the client's kernel before it is read).
    tls.shutdown(socket.SHUT_WR)
    out("sent %d bytes, no close_notify" % len(reply))
    try:
        while tls.recv(4096):
            pass
    except OSError:
        pass
    tls.close()


def main(argv):
    port = 0
    args = argv[1:]
    if len(args) >= 2 and args[0] == "-p":
        port, args = int(args[1]), args[2:]
    if not args or args[0] not in MODES + ("truncate",) or \
            len(args) != (3 if args[0] == "truncate" else 1):
        sys.stderr.write("usage: fakeserver.py [-p PORT] %s|truncate CHAIN KEY\n" %
                         "|".join(MODES))
        return 2
    mode = args[0]
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(1)
    lsock.settimeout(TIMEOUT)
    out("listening on 127.0.0.1:%d" % lsock.getsockname()[1])
    try:
        sock, _ = lsock.accept()
    except socket.timeout:
        out("no client within %g s" % TIMEOUT)
        return 1
    lsock.close()
    sock.settimeout(TIMEOUT)
    if mode == "truncate":
        try:
            truncate(sock, args[1], args[2])
        except (OSError, ssl.SSLError) as e:
            out("tls failed: %s" % e)
        return 0
    conn = Conn(sock)
    try:
        hello = parse_hello(conn.client_hello())
    except (ValueError, EOFError, socket.timeout) as e:
        out("bad clienthello: %s" % (e or type(e).__name__))
        return 1
    out("clienthello versions=%s suites=%s groups=%s shares=%s" % (
        ",".join("%04x" % v for v in hello["versions"]) or "-",
        ",".join("%04x" % s for s in hello["suites"]) or "-",
        ",".join("%04x" % g for g in hello["groups"]) or "-",
        ",".join("%04x" % g for g, _ in hello["shares"]) or "-"))
    data, what = answer(mode, hello)
    sock.sendall(data)
    out("sent %s" % what)
    report_client(conn)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
