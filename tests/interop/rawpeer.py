#!/usr/bin/env python3
"""A deliberately broken TLS client for tests/interop/hostile.sh and tls12_features.sh.

    python3 tests/interop/rawpeer.py [--timeout SECONDS] PORT CASE

Connects to 127.0.0.1:PORT, sends the bytes of CASE (see CASES below), reads what
the server answers and prints ONE line on stdout:

    <alert name>      the server sent a plaintext fatal alert and closed, e.g.
                      "illegal_parameter"; "<name> (level N)" if the level was not
                      fatal (2; close_notify and user_canceled may be warnings, 1);
                      "<name> (not closed)" if the connection stayed open
    server_hello      (case "hello") a well-formed ServerHello arrived
    hello_retry_request  (case "hrr-hello") a well-formed HelloRetryRequest arrived
    full_handshake    (case "tls12-resume") a TLS 1.2 ServerHello not resuming the
                      session id / ticket we made up, followed by a Certificate
    tls12_server_hello sentinel=S  (cases "tls12-hello", "tls12-sv-hello",
                      "tls12-scsv-hello") a
                      well-formed TLS 1.2 ServerHello arrived; S is what the last 8
                      bytes of its random say (RFC 8446 section 4.1.3): DOWNGRD01
                      (44 4F 57 4E 47 52 44 01, a TLS 1.3 server answering 1.2),
                      DOWNGRD00 (... 00, answering 1.1 or below) or none
    closed            EOF without an alert
    reset             connection reset without an alert
    timeout           nothing conclusive within the timeout
    no-alert          records arrived but no plaintext alert (e.g. an encrypted
                      flight: the server got further than it should have)
    bad-hello: ...    a ServerHello/HRR arrived but was malformed

Details (every record seen) go to stderr. Standard library only; no cryptography:
the key share is 32 random bytes, so the server must fail before it would use it
(or, for "hello", just answer with its ServerHello).
"""

import os
import select
import socket
import struct
import sys
import time

ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
    22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
    43: "unsupported_certificate", 46: "certificate_unknown", 47: "illegal_parameter",
    48: "unknown_ca", 50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
    90: "user_canceled", 109: "missing_extension", 110: "unsupported_extension",
    112: "unrecognized_name", 116: "certificate_required",
    120: "no_application_protocol",
}

HRR_RANDOM = bytes.fromhex(
    "CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")

CT_CCS, CT_ALERT, CT_HANDSHAKE, CT_APPDATA = 20, 21, 22, 23
HS_CLIENT_HELLO, HS_SERVER_HELLO, HS_FINISHED = 1, 2, 20

DOWNGRADE_SENTINELS = {
    bytes.fromhex("444F574E47524401"): "DOWNGRD01",
    bytes.fromhex("444F574E47524400"): "DOWNGRD00",
}

EXT_SERVER_NAME = 0
EXT_SUPPORTED_GROUPS = 10
EXT_EC_POINT_FORMATS = 11
EXT_EXTENDED_MASTER_SECRET = 23
EXT_SESSION_TICKET = 35
EXT_RENEGOTIATION_INFO = 0xFF01
EXT_SIGNATURE_ALGORITHMS = 13
EXT_SUPPORTED_VERSIONS = 43
EXT_COOKIE = 44
EXT_PSK_MODES = 45
EXT_KEY_SHARE = 51

X25519, SECP256R1, SECP384R1 = 0x001D, 0x0017, 0x0018
SUITES = [0x1301, 0x1302, 0x1303]
# TLS_ECDHE_{ECDSA,RSA}_WITH_{AES_128_GCM_SHA256,AES_256_GCM_SHA384,CHACHA20_POLY1305_SHA256}
TLS12_SUITES = [0xC02B, 0xC02C, 0xCCA9, 0xC02F, 0xC030, 0xCCA8]
SIG_SCHEMES = [0x0403, 0x0503, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601]


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


def record(ct, payload, version=0x0301):
    return u8(ct) + u16(version) + vec16(payload)


class Hello:
    """Builds a ClientHello; fields may be changed before build()."""

    def __init__(self):
        self.legacy_version = 0x0303
        self.random = os.urandom(32)
        self.session_id = os.urandom(32)
        self.suites = list(SUITES)
        self.compression = b"\x00"
        self.versions = [0x0304]           # None: no supported_versions extension
        self.groups = [X25519, SECP256R1, SECP384R1]
        self.shares = [(X25519, os.urandom(32))]  # None: no key_share extension
        self.cookie = None
        self.server_name = b"localhost"
        self.extra = []                    # extra raw extensions, appended
        self.trailing = b""                # bytes after the extensions block

    def extensions(self):
        exts = []
        if self.server_name is not None:
            name = u8(0) + vec16(self.server_name)
            exts.append(ext(EXT_SERVER_NAME, vec16(name)))
        exts.append(ext(EXT_SUPPORTED_GROUPS, vec16(b"".join(u16(g) for g in self.groups))))
        exts.append(ext(EXT_SIGNATURE_ALGORITHMS,
                        vec16(b"".join(u16(s) for s in SIG_SCHEMES))))
        if self.versions is not None:
            exts.append(ext(EXT_SUPPORTED_VERSIONS,
                            vec8(b"".join(u16(v) for v in self.versions))))
        if self.cookie is not None:
            exts.append(ext(EXT_COOKIE, vec16(self.cookie)))
        exts.append(ext(EXT_PSK_MODES, vec8(b"\x01")))
        if self.shares is not None:
            entries = b"".join(u16(g) + vec16(k) for g, k in self.shares)
            exts.append(ext(EXT_KEY_SHARE, vec16(entries)))
        exts.extend(self.extra)
        return b"".join(exts)

    def body(self):
        return (u16(self.legacy_version) + self.random + vec8(self.session_id)
                + vec16(b"".join(u16(s) for s in self.suites)) + vec8(self.compression)
                + vec16(self.extensions()) + self.trailing)

    def message(self):
        return handshake(HS_CLIENT_HELLO, self.body())

    def record(self):
        return record(CT_HANDSHAKE, self.message())


class Peer:
    def __init__(self, port, timeout):
        self.deadline = time.monotonic() + timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.eof = None  # None, "closed" or "reset"
        self.hs_buf = b""

    def log(self, msg):
        print("rawpeer: " + msg, file=sys.stderr)

    def send(self, data):
        """Sends data; False if the server already closed or reset."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError) as e:
            self.log("send failed: %s" % e)
            return False

    def send_staged(self, parts, gap=0.5):
        """Sends parts one by one, stopping early when the server answers (so a
        server that rejects a record header at once is not reset by the rest)."""
        for i, part in enumerate(parts):
            if not self.send(part):
                return
            if i + 1 < len(parts):
                r, _, _ = select.select([self.sock], [], [], gap)
                if r:
                    self.log("server answered after part %d of %d" % (i + 1, len(parts)))
                    return

    def fill(self):
        """Reads more bytes into buf; False on EOF/reset/timeout."""
        if self.eof:
            return False
        left = self.deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.eof = "reset"
            return False
        if not data:
            self.eof = "closed"
            return False
        self.buf += data
        return True

    def next_record(self):
        """(content_type, version, payload), or "closed"/"reset"/"timeout"/"bad-record"."""
        while len(self.buf) < 5 or len(self.buf) < 5 + struct.unpack("!H", self.buf[3:5])[0]:
            if not self.fill():
                if self.buf:
                    self.log("%d stray bytes: %s" % (len(self.buf), self.buf[:16].hex()))
                return self.eof or "timeout"
        ct, ver, n = struct.unpack("!BHH", self.buf[:5])
        payload, self.buf = self.buf[5:5 + n], self.buf[5 + n:]
        self.log("record type %d version %04x length %d" % (ct, ver, n))
        return ct, ver, payload

    def wait_closed(self):
        while self.fill():
            pass
        return self.eof is not None


def describe_alert(peer, payload):
    if len(payload) != 2:
        return "bad-alert-record (%d bytes)" % len(payload)
    level, desc = payload[0], payload[1]
    name = ALERTS.get(desc, "alert_%d" % desc)
    peer.log("alert level %d description %d (%s)" % (level, desc, name))
    out = name
    # Everything but close_notify and user_canceled is fatal (RFC 8446 section 6);
    # those two are conventionally sent as warnings.
    if level != 2 and not (level == 1 and desc in (0, 90)):
        out += " (level %d)" % level
    if not peer.wait_closed():
        out += " (not closed)"
    return out


def parse_server_hello(body, hello):
    """Checks a ServerHello body against our ClientHello; returns
    (is_hrr, problem or None, extensions dict)."""
    try:
        ver = struct.unpack("!H", body[0:2])[0]
        rnd = body[2:34]
        sid_len = body[34]
        sid = body[35:35 + sid_len]
        p = 35 + sid_len
        suite = struct.unpack("!H", body[p:p + 2])[0]
        comp = body[p + 2]
        ext_len = struct.unpack("!H", body[p + 3:p + 5])[0]
        exts_raw = body[p + 5:p + 5 + ext_len]
        if p + 5 + ext_len != len(body):
            return False, "length mismatch", {}
        exts = {}
        q = 0
        while q < len(exts_raw):
            t, n = struct.unpack("!HH", exts_raw[q:q + 4])
            exts[t] = exts_raw[q + 4:q + 4 + n]
            q += 4 + n
    except (IndexError, struct.error):
        return False, "truncated", {}
    is_hrr = rnd == HRR_RANDOM
    if ver != 0x0303:
        return is_hrr, "legacy_version %04x" % ver, exts
    if sid != hello.session_id:
        return is_hrr, "session id not echoed", exts
    if suite not in hello.suites:
        return is_hrr, "suite %04x not offered" % suite, exts
    if comp != 0:
        return is_hrr, "compression %d" % comp, exts
    if exts.get(EXT_SUPPORTED_VERSIONS) != u16(0x0304):
        return is_hrr, "supported_versions is not TLS 1.3", exts
    ks = exts.get(EXT_KEY_SHARE)
    if is_hrr:
        if ks is None or len(ks) != 2:
            return is_hrr, "HRR without a selected group", exts
        group = struct.unpack("!H", ks)[0]
        if group not in hello.groups:
            return is_hrr, "HRR selects group %04x not offered" % group, exts
        if any(g == group for g, _ in hello.shares or []):
            return is_hrr, "HRR selects group %04x we sent a share for" % group, exts
    else:
        if ks is None or len(ks) < 4:
            return is_hrr, "no key_share", exts
        group, n = struct.unpack("!HH", ks[:4])
        if not any(g == group for g, _ in hello.shares or []) or len(ks) != 4 + n:
            return is_hrr, "key_share for group %04x we did not send" % group, exts
    return is_hrr, None, exts


def parse_server_hello12(body, hello):
    """Checks a TLS 1.2 ServerHello body against our ClientHello; returns
    (sentinel name, problem or None)."""
    try:
        ver = struct.unpack("!H", body[0:2])[0]
        rnd = body[2:34]
        sid_len = body[34]
        p = 35 + sid_len
        suite = struct.unpack("!H", body[p:p + 2])[0]
        comp = body[p + 2]
        exts = {}
        if p + 3 < len(body):
            ext_len = struct.unpack("!H", body[p + 3:p + 5])[0]
            exts_raw = body[p + 5:p + 5 + ext_len]
            if p + 5 + ext_len != len(body):
                return None, "length mismatch"
            q = 0
            while q < len(exts_raw):
                t, n = struct.unpack("!HH", exts_raw[q:q + 4])
                if t in exts:
                    return None, "extension %d twice" % t
                exts[t] = exts_raw[q + 4:q + 4 + n]
                q += 4 + n
    except (IndexError, struct.error):
        return None, "truncated"
    sentinel = DOWNGRADE_SENTINELS.get(rnd[24:], "none")
    if ver != 0x0303:
        return sentinel, "version %04x, want 0303" % ver
    if sid_len > 32:
        return sentinel, "session id of %d bytes" % sid_len
    if sid_len and body[35:35 + sid_len] == hello.session_id:
        # Echoing the client's session id means resuming it: we never had a session.
        return sentinel, "our random session id echoed (resumption?)"
    if suite not in hello.suites or suite not in TLS12_SUITES:
        return sentinel, "suite %04x is not a TLS 1.2 suite we offered" % suite
    if comp != 0:
        return sentinel, "compression %d" % comp
    if EXT_SUPPORTED_VERSIONS in exts:
        return sentinel, "supported_versions in a TLS 1.2 ServerHello"
    if EXT_KEY_SHARE in exts:
        return sentinel, "key_share in a TLS 1.2 ServerHello"
    offered = {struct.unpack("!H", e[:2])[0] for e in hello.extra}
    if 0x00FF in hello.suites:  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 3.3)
        offered.add(EXT_RENEGOTIATION_INFO)
    if EXT_EXTENDED_MASTER_SECRET in offered and exts.get(EXT_EXTENDED_MASTER_SECRET) != b"":
        return sentinel, "extended_master_secret offered but not (emptily) answered"
    if EXT_RENEGOTIATION_INFO in offered and exts.get(EXT_RENEGOTIATION_INFO) != b"\x00":
        return sentinel, "renegotiation_info offered but not answered with an empty one"
    for t in exts:
        if t not in offered and t not in (EXT_SERVER_NAME, EXT_EC_POINT_FORMATS):
            return sentinel, "unsolicited extension %d" % t
    return sentinel, None


def read_server_hello(peer, hello, tls12=False):
    """Reads records up to the first ServerHello. Returns (kind, exts) with kind
    "server_hello"/"hello_retry_request", or (outcome line, None)."""
    while True:
        rec = peer.next_record()
        if isinstance(rec, str):
            return rec, None
        ct, _, payload = rec
        if ct == CT_ALERT:
            return describe_alert(peer, payload), None
        if ct == CT_CCS:
            continue
        if ct != CT_HANDSHAKE:
            return "no-alert", None
        peer.hs_buf += payload
        if len(peer.hs_buf) < 4:
            continue
        typ = peer.hs_buf[0]
        n = struct.unpack("!I", b"\x00" + peer.hs_buf[1:4])[0]
        if len(peer.hs_buf) < 4 + n:
            continue
        body, peer.hs_buf = peer.hs_buf[4:4 + n], peer.hs_buf[4 + n:]
        if typ != HS_SERVER_HELLO:
            return "bad-hello: first handshake message has type %d" % typ, None
        if tls12:
            sentinel, problem = parse_server_hello12(body, hello)
            if problem:
                return "bad-hello: " + problem, None
            return "tls12_server_hello sentinel=" + sentinel, None
        is_hrr, problem, exts = parse_server_hello(body, hello)
        if problem:
            return "bad-hello: " + problem, None
        return ("hello_retry_request" if is_hrr else "server_hello"), exts


def read_outcome(peer):
    """Reads until an alert, EOF or timeout; returns the outcome line."""
    seen_other = False
    while True:
        rec = peer.next_record()
        if isinstance(rec, str):
            return "no-alert" if seen_other and rec == "closed" else rec
        ct, _, payload = rec
        if ct == CT_ALERT:
            return describe_alert(peer, payload)
        seen_other = True


# ---- cases ----------------------------------------------------------------------

def case_hello(peer):
    h = Hello()
    peer.send(h.record())
    return read_server_hello(peer, h)[0]


def case_http(peer):
    peer.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    return read_outcome(peer)


def case_random(peer):
    # Content type 0 (invalid) followed by random bytes.
    peer.send(b"\x00" + os.urandom(63))
    return read_outcome(peer)


def case_garbage_hello(peer):
    # A ClientHello message of random bytes whose session id length (255) runs
    # past the end of the message.
    body = u16(0x0303) + os.urandom(32) + b"\xff" + os.urandom(40)
    peer.send(record(CT_HANDSHAKE, handshake(HS_CLIENT_HELLO, body)))
    return read_outcome(peer)


def oversized(peer, length):
    header = u8(CT_HANDSHAKE) + u16(0x0301) + u16(length)
    h = Hello().message()
    peer.send_staged([header, (h + b"\x00" * length)[:length]])
    return read_outcome(peer)


def case_oversized(peer):
    return oversized(peer, 2 ** 14 + 1)  # plaintext limit is 2^14


def case_oversized_huge(peer):
    return oversized(peer, 0xFFFF)


def case_empty_handshake(peer):
    peer.send(record(CT_HANDSHAKE, b""))
    return read_outcome(peer)


def case_finished_first(peer):
    peer.send(record(CT_HANDSHAKE, handshake(HS_FINISHED, b"\x00" * 32)))
    return read_outcome(peer)


def case_serverhello_first(peer):
    peer.send(record(CT_HANDSHAKE, handshake(HS_SERVER_HELLO, Hello().body())))
    return read_outcome(peer)


def case_appdata_first(peer):
    peer.send(record(CT_APPDATA, os.urandom(40), version=0x0303))
    return read_outcome(peer)


def case_ccs_first(peer):
    peer.send(record(CT_CCS, b"\x01", version=0x0303))
    return read_outcome(peer)


def case_trunc_suites(peer):
    # cipher_suites claims 0xfffe bytes; the message ends long before.
    h = Hello()
    body = u16(h.legacy_version) + h.random + vec8(h.session_id) + u16(0xFFFE) + u16(0x1301)
    peer.send(record(CT_HANDSHAKE, handshake(HS_CLIENT_HELLO, body)))
    return read_outcome(peer)


def case_trunc_ext(peer):
    # The last extension claims more bytes than the extensions block holds.
    h = Hello()
    h.extra = [u16(0x7A7A) + u16(100) + b"\x00" * 10]
    peer.send(h.record())
    return read_outcome(peer)


def case_trailing(peer):
    # Bytes after the extensions block, inside the ClientHello.
    h = Hello()
    h.trailing = b"\x00\x00\x00"
    peer.send(h.record())
    return read_outcome(peer)


def case_dup_ext(peer):
    h = Hello()
    h.extra = [ext(EXT_SUPPORTED_GROUPS, vec16(u16(X25519)))]
    peer.send(h.record())
    return read_outcome(peer)


def case_legacy_only(peer):
    # A TLS 1.1 client: legacy_version 1.1, no supported_versions, no key_share.
    h = Hello()
    h.legacy_version = 0x0302
    h.versions = None
    h.shares = None
    h.suites = [0x002F, 0x0035, 0x000A]  # TLS_RSA_WITH_AES_128_CBC_SHA, ...
    peer.send(h.record())
    return read_outcome(peer)


def case_tls12_only(peer):
    # A TLS 1.2 client: no supported_versions.
    h = Hello()
    h.versions = None
    h.shares = None
    h.suites = [0xC02B, 0xC02F, 0x009C] + SUITES
    peer.send(h.record())
    return read_outcome(peer)


def tls12_hello():
    """A TLS 1.2 client's ClientHello: the six ECDHE AEAD suites, extended master
    secret and renegotiation_info offered, no key_share, no supported_versions."""
    h = Hello()
    h.versions = None
    h.shares = None
    h.suites = list(TLS12_SUITES)
    h.extra = [ext(EXT_EC_POINT_FORMATS, vec8(b"\x00")),
               ext(EXT_EXTENDED_MASTER_SECRET, b""),
               ext(EXT_RENEGOTIATION_INFO, vec8(b""))]
    return h


def case_tls12_hello(peer):
    h = tls12_hello()
    peer.send(h.record())
    return read_server_hello(peer, h, tls12=True)[0]


def case_tls12_sv_hello(peer):
    # supported_versions present but listing TLS 1.2 only.
    h = tls12_hello()
    h.versions = [0x0303]
    peer.send(h.record())
    return read_server_hello(peer, h, tls12=True)[0]


def case_tls12_scsv_hello(peer):
    # Secure renegotiation signalled with TLS_EMPTY_RENEGOTIATION_INFO_SCSV instead of
    # the extension: the ServerHello must still carry an empty renegotiation_info.
    h = tls12_hello()
    h.extra = h.extra[:2]
    h.suites = h.suites + [0x00FF]
    peer.send(h.record())
    return read_server_hello(peer, h, tls12=True)[0]


def case_tls10_only(peer):
    # A TLS 1.0 client: legacy_version 1.0, no supported_versions, no key_share.
    h = Hello()
    h.legacy_version = 0x0301
    h.versions = None
    h.shares = None
    h.suites = [0xC00A, 0xC014, 0x002F, 0x0035]  # ECDHE/RSA with AES-CBC-SHA
    peer.send(h.record())
    return read_outcome(peer)


def hrr_first(peer):
    """Sends a ClientHello with only an X25519 share (server must prefer another
    group); returns (hello, outcome, exts)."""
    h = Hello()
    peer.send(h.record())
    kind, exts = read_server_hello(peer, h)
    return h, kind, exts


def second_hello(h, exts):
    h2 = Hello()
    h2.random, h2.session_id = h.random, h.session_id
    h2.shares = h.shares
    cookie = exts.get(EXT_COOKIE)
    if cookie is not None:
        h2.cookie = cookie[2:]
    return h2


def case_hrr_hello(peer):
    return hrr_first(peer)[1]


def case_hrr_finished(peer):
    h, kind, exts = hrr_first(peer)
    if kind != "hello_retry_request":
        return "no HRR: " + kind
    peer.send(record(CT_HANDSHAKE, handshake(HS_FINISHED, b"\x00" * 32), version=0x0303))
    return read_outcome(peer)


def case_hrr_same_hello(peer):
    # After the HRR, a second ClientHello that again only has the X25519 share.
    h, kind, exts = hrr_first(peer)
    if kind != "hello_retry_request":
        return "no HRR: " + kind
    peer.send(second_hello(h, exts).record())
    return read_outcome(peer)


def case_half_record(peer):
    # Three bytes of a record header, then our side of the connection closes.
    peer.send(b"\x16\x03\x01")
    peer.sock.shutdown(socket.SHUT_WR)
    return read_outcome(peer)


# ---- TLS 1.2 flights ------------------------------------------------------------------
# A default server answers tls12_hello() with ServerHello .. ServerHelloDone; these
# cases then misbehave. No cryptography: an X25519 public key is any 32 bytes, so a
# ClientKeyExchange can be random, but the Finished cannot be right.

HS_SERVER_HELLO_DONE, HS_CLIENT_KEY_EXCHANGE = 14, 16


def tls12_flight(peer):
    """Sends a TLS 1.2 ClientHello and reads the server's first flight up to
    ServerHelloDone, which must have picked X25519 (the certificate's curve is offered
    too: RFC 8422 5.1). Returns None, or an outcome line if that went wrong."""
    h = tls12_hello()
    peer.send(h.record())
    seen = []
    while True:
        rec = peer.next_record()
        if isinstance(rec, str):
            return "flight: " + rec
        ct, _, payload = rec
        if ct == CT_ALERT:
            return "flight: " + describe_alert(peer, payload)
        if ct != CT_HANDSHAKE:
            return "flight: record type %d" % ct
        peer.hs_buf += payload
        while len(peer.hs_buf) >= 4:
            n = struct.unpack("!I", b"\x00" + peer.hs_buf[1:4])[0]
            if len(peer.hs_buf) < 4 + n:
                break
            typ, body = peer.hs_buf[0], peer.hs_buf[4:4 + n]
            peer.hs_buf = peer.hs_buf[4 + n:]
            seen.append(typ)
            # ServerKeyExchange: curve_type named_curve(3), group, public key, signature.
            if typ == 12 and (body[:3] != b"\x03" + u16(X25519) or body[3] != 32):
                return "flight: ServerKeyExchange is not X25519 (%s)" % body[:4].hex()
            if typ == HS_SERVER_HELLO_DONE:
                # ServerHello, Certificate, ServerKeyExchange, ServerHelloDone.
                if seen != [2, 11, 12, 14]:
                    return "flight: messages %s" % seen
                return None


def case_tls12_resume(peer):
    # A random session id and a session ticket of random bytes: neither names a
    # session the server has, so it must do a full handshake.
    h = tls12_hello()
    h.extra.append(ext(EXT_SESSION_TICKET, os.urandom(100)))
    peer.send(h.record())
    kind = read_server_hello(peer, h, tls12=True)[0]
    if not kind.startswith("tls12_server_hello"):
        return kind
    while True:
        while len(peer.hs_buf) >= 4:
            n = struct.unpack("!I", b"\x00" + peer.hs_buf[1:4])[0]
            if len(peer.hs_buf) < 4 + n:
                break
            typ, peer.hs_buf = peer.hs_buf[0], peer.hs_buf[4 + n:]
            if typ != 11:
                return "abbreviated? message %d after the ServerHello" % typ
            return "full_handshake"
        rec = peer.next_record()
        if isinstance(rec, str):
            return rec
        ct, _, payload = rec
        if ct != CT_HANDSHAKE:
            return "record type %d after the ServerHello" % ct
        peer.hs_buf += payload


def client_key_exchange(pub):
    return record(CT_HANDSHAKE, handshake(HS_CLIENT_KEY_EXCHANGE, vec8(pub)), version=0x0303)


def tls12_then(peer, *records):
    bad = tls12_flight(peer)
    if bad:
        return bad
    peer.send_staged(list(records), gap=0.2)
    return read_outcome(peer)


def case_tls12_finished_early(peer):
    # A plaintext Finished instead of the ClientKeyExchange.
    return tls12_then(peer, record(CT_HANDSHAKE, handshake(HS_FINISHED, b"\x00" * 12),
                                   version=0x0303))


def case_tls12_ccs_early(peer):
    # ChangeCipherSpec before the ClientKeyExchange.
    return tls12_then(peer, record(CT_CCS, b"\x01", version=0x0303))


def case_tls12_appdata_early(peer):
    return tls12_then(peer, record(CT_APPDATA, os.urandom(40), version=0x0303))


def case_tls12_second_hello(peer):
    # Another ClientHello instead of the ClientKeyExchange.
    return tls12_then(peer, tls12_hello().record())


def case_tls12_short_cke(peer):
    # An X25519 ClientKeyExchange of 31 bytes.
    return tls12_then(peer, client_key_exchange(os.urandom(31)))


def case_tls12_cke_trailing(peer):
    # A ClientKeyExchange with a byte after its public key.
    body = vec8(os.urandom(32)) + b"\x00"
    return tls12_then(peer, record(CT_HANDSHAKE, handshake(HS_CLIENT_KEY_EXCHANGE, body),
                                   version=0x0303))


def case_tls12_finished_plain(peer):
    # ClientKeyExchange, then a plaintext Finished without ChangeCipherSpec.
    return tls12_then(peer, client_key_exchange(os.urandom(32)),
                      record(CT_HANDSHAKE, handshake(HS_FINISHED, b"\x00" * 12),
                             version=0x0303))


def case_tls12_bad_finished(peer):
    # ClientKeyExchange, ChangeCipherSpec, then a "protected" Finished of random bytes
    # (8-byte explicit nonce, 16 bytes, 16-byte tag): it cannot decrypt.
    return tls12_then(peer, client_key_exchange(os.urandom(32)),
                      record(CT_CCS, b"\x01", version=0x0303),
                      record(CT_HANDSHAKE, os.urandom(40), version=0x0303))


def case_tls12_ccs_twice(peer):
    # ClientKeyExchange, then two ChangeCipherSpec records.
    return tls12_then(peer, client_key_exchange(os.urandom(32)),
                      record(CT_CCS, b"\x01\x01", version=0x0303))


def case_tls12_ccs_unaligned(peer):
    # ClientKeyExchange and the first 2 bytes of another handshake message in one
    # record, then ChangeCipherSpec: the key change would split that message across
    # two epochs.
    cke = handshake(HS_CLIENT_KEY_EXCHANGE, vec8(os.urandom(32)))
    return tls12_then(peer, record(CT_HANDSHAKE, cke + b"\x14\x00", version=0x0303),
                      record(CT_CCS, b"\x01", version=0x0303))


def tls12_variant(peer, change):
    h = tls12_hello()
    change(h)
    peer.send(h.record())
    return read_outcome(peer)


def case_tls12_no_null_compression(peer):
    def change(h):
        h.compression = b"\x01"
    return tls12_variant(peer, change)


def case_tls12_compressed_points(peer):
    # ec_point_formats without "uncompressed" (0).
    def change(h):
        h.extra[0] = ext(EXT_EC_POINT_FORMATS, vec8(b"\x01"))
    return tls12_variant(peer, change)


def case_tls12_reneg_info_nonempty(peer):
    # renegotiation_info with renegotiated_connection data on an initial handshake
    # (RFC 5746 3.6: handshake_failure).
    def change(h):
        h.extra[2] = ext(EXT_RENEGOTIATION_INFO, vec8(b"\x00" * 12))
    return tls12_variant(peer, change)


def case_tls12_no_common_group(peer):
    # Only ffdhe2048 in supported_groups: no ECDHE possible.
    def change(h):
        h.groups = [0x0100]
    return tls12_variant(peer, change)


CASES = {
    "hello": case_hello,
    "http": case_http,
    "random": case_random,
    "garbage-hello": case_garbage_hello,
    "oversized": case_oversized,
    "oversized-huge": case_oversized_huge,
    "empty-handshake": case_empty_handshake,
    "finished-first": case_finished_first,
    "serverhello-first": case_serverhello_first,
    "appdata-first": case_appdata_first,
    "ccs-first": case_ccs_first,
    "trunc-suites": case_trunc_suites,
    "trunc-ext": case_trunc_ext,
    "trailing": case_trailing,
    "dup-ext": case_dup_ext,
    "legacy-only": case_legacy_only,
    "tls12-only": case_tls12_only,
    "tls12-hello": case_tls12_hello,
    "tls12-sv-hello": case_tls12_sv_hello,
    "tls12-scsv-hello": case_tls12_scsv_hello,
    "tls12-resume": case_tls12_resume,
    "tls10-only": case_tls10_only,
    "hrr-hello": case_hrr_hello,
    "hrr-finished": case_hrr_finished,
    "hrr-same-hello": case_hrr_same_hello,
    "half-record": case_half_record,
    "tls12-finished-early": case_tls12_finished_early,
    "tls12-ccs-early": case_tls12_ccs_early,
    "tls12-appdata-early": case_tls12_appdata_early,
    "tls12-second-hello": case_tls12_second_hello,
    "tls12-short-cke": case_tls12_short_cke,
    "tls12-cke-trailing": case_tls12_cke_trailing,
    "tls12-finished-plain": case_tls12_finished_plain,
    "tls12-bad-finished": case_tls12_bad_finished,
    "tls12-ccs-twice": case_tls12_ccs_twice,
    "tls12-ccs-unaligned": case_tls12_ccs_unaligned,
    "tls12-no-null-compression": case_tls12_no_null_compression,
    "tls12-compressed-points": case_tls12_compressed_points,
    "tls12-reneg-info-nonempty": case_tls12_reneg_info_nonempty,
    "tls12-no-common-group": case_tls12_no_common_group,
}


def main(argv):
    timeout = 3.0
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--timeout":
        timeout = float(args[1])
        args = args[2:]
    if len(args) != 2 or args[1] not in CASES:
        print("usage: rawpeer.py [--timeout S] PORT CASE\ncases: " + " ".join(CASES),
              file=sys.stderr)
        return 2
    try:
        peer = Peer(int(args[0]), timeout)
    except OSError as e:
        print("connect-failed")
        print("rawpeer: %s" % e, file=sys.stderr)
        return 1
    try:
        out = CASES[args[1]](peer)
    except socket.timeout:
        out = "timeout"
    except ConnectionResetError:
        out = "reset"
    finally:
        peer.sock.close()
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
