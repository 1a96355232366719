#!/usr/bin/env python3
"""A TLS 1.2 client that asks for a renegotiation mid-connection and keeps going,
for tests/interop/tls12_features.sh.

    python3 tests/interop/renegclient.py PORT CAFILE [--again]

Neither the ssl module (no renegotiation API) nor openssl s_client (a
no_renegotiation warning aborts it) nor gnutls-cli --rehandshake (it retries at
once, then aborts) can show that the server's side of the connection is still
usable after it refused a renegotiation. This drives the system's GnuTLS library
(libgnutls.so.30, which gnutls-cli itself uses) through ctypes, standard library
only:

  1. TLS 1.2 handshake to 127.0.0.1:PORT, chain and host name "localhost" verified;
  2. a line is sent and must come back (echo server);
  3. gnutls_handshake() again: a renegotiation ClientHello, under the current keys;
     the result must be GNUTLS_E_WARNING_ALERT_RECEIVED with alert no_renegotiation
     (100);
  4. another line is sent and must come back unchanged;
  5. without --again: gnutls_bye(), close_notify both ways;
     with --again: a second renegotiation, which the server must answer with a
     fatal unexpected_message (10) (it refuses once, then takes it as abuse).

Prints "key=value" lines on stdout (handshake=, description=, reneg1=, alert1=,
echo_before=, echo_after=, bye= or reneg2=/alert2=) and a last line "result=ok" or
"result=FAIL: why". Exit status 0 only for result=ok.
"""

import ctypes
import os
import socket
import sys

GNUTLS_CLIENT = 1 << 1
GNUTLS_CRD_CERTIFICATE = 1
GNUTLS_X509_FMT_PEM = 1
GNUTLS_NAME_DNS = 1
GNUTLS_SHUT_RDWR = 0
E_AGAIN = -28
E_INTERRUPTED = -52
E_WARNING_ALERT_RECEIVED = -16
E_FATAL_ALERT_RECEIVED = -12
NO_RENEGOTIATION = 100
UNEXPECTED_MESSAGE = 10


def load():
    for name in ("libgnutls.so.30", "libgnutls.so"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


class Client:
    def __init__(self, lib, sock, cafile):
        self.g = lib
        g = lib
        g.gnutls_strerror.restype = ctypes.c_char_p
        g.gnutls_alert_get_name.restype = ctypes.c_char_p
        g.gnutls_session_get_desc.restype = ctypes.c_void_p
        g.gnutls_record_send.restype = ctypes.c_ssize_t
        g.gnutls_record_send.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        g.gnutls_record_recv.restype = ctypes.c_ssize_t
        g.gnutls_record_recv.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        for fn in ("gnutls_handshake", "gnutls_bye", "gnutls_alert_get",
                   "gnutls_priority_set_direct", "gnutls_credentials_set",
                   "gnutls_server_name_set", "gnutls_certificate_set_x509_trust_file",
                   "gnutls_transport_set_int2", "gnutls_session_set_verify_cert",
                   "gnutls_deinit"):
            getattr(g, fn).argtypes = None
        self.cred = ctypes.c_void_p()
        self.sess = ctypes.c_void_p()
        self.check(g.gnutls_global_init(), "global_init")
        self.check(g.gnutls_certificate_allocate_credentials(ctypes.byref(self.cred)),
                   "allocate_credentials")
        n = g.gnutls_certificate_set_x509_trust_file(self.cred, cafile.encode(),
                                                     GNUTLS_X509_FMT_PEM)
        if n <= 0:
            raise RuntimeError("no CA certificate loaded from %s (%d)" % (cafile, n))
        self.check(g.gnutls_init(ctypes.byref(self.sess), GNUTLS_CLIENT), "init")
        err = ctypes.c_char_p()
        self.check(g.gnutls_priority_set_direct(
            self.sess, b"NORMAL:-VERS-ALL:+VERS-TLS1.2", ctypes.byref(err)), "priority")
        self.check(g.gnutls_credentials_set(self.sess, GNUTLS_CRD_CERTIFICATE, self.cred),
                   "credentials_set")
        self.check(g.gnutls_server_name_set(self.sess, GNUTLS_NAME_DNS, b"localhost",
                                            ctypes.c_size_t(9)), "server_name_set")
        g.gnutls_session_set_verify_cert(self.sess, b"localhost", 0)
        g.gnutls_transport_set_int2(self.sess, sock.fileno(), sock.fileno())

    def err(self, rc):
        return "%d %s" % (rc, self.g.gnutls_strerror(rc).decode(errors="replace"))

    def check(self, rc, what):
        if rc < 0:
            raise RuntimeError("gnutls_%s: %s" % (what, self.err(rc)))

    def handshake(self):
        while True:
            rc = self.g.gnutls_handshake(self.sess)
            if rc not in (E_AGAIN, E_INTERRUPTED):
                return rc

    def alert(self):
        a = self.g.gnutls_alert_get(self.sess)
        name = self.g.gnutls_alert_get_name(a)
        return a, (name or b"?").decode(errors="replace")

    def description(self):
        p = self.g.gnutls_session_get_desc(self.sess)
        if not p:
            return "?"
        # gnutls_free'd memory in principle; one small string, left to the exit.
        return ctypes.string_at(p).decode(errors="replace")

    def send(self, data):
        off = 0
        while off < len(data):
            n = self.g.gnutls_record_send(self.sess, data[off:], len(data) - off)
            if n in (E_AGAIN, E_INTERRUPTED):
                continue
            self.check(n, "record_send")
            off += n

    def recv_exact(self, n):
        buf = ctypes.create_string_buffer(16384)
        got = b""
        while len(got) < n:
            r = self.g.gnutls_record_recv(self.sess, buf, ctypes.c_size_t(16384))
            if r in (E_AGAIN, E_INTERRUPTED):
                continue
            if r == 0:
                break
            if r < 0:
                raise RuntimeError("gnutls_record_recv: %s" % self.err(r))
            got += buf.raw[:r]
        return got

    def echo(self, data):
        self.send(data)
        return self.recv_exact(len(data)) == data

    def bye(self):
        while True:
            rc = self.g.gnutls_bye(self.sess, GNUTLS_SHUT_RDWR)
            if rc not in (E_AGAIN, E_INTERRUPTED):
                return rc


def run(port, cafile, again):
    lib = load()
    if lib is None:
        return "libgnutls.so.30 cannot be loaded"
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    c = Client(lib, sock, cafile)
    rc = c.handshake()
    print("handshake=%s" % (c.err(rc) if rc else "ok"))
    if rc:
        return "initial handshake failed"
    print("description=%s" % c.description())
    before = b"before renegotiation " + os.urandom(8).hex().encode() + b"\n"
    ok = c.echo(before)
    print("echo_before=%s" % ("ok" if ok else "differs"))
    if not ok:
        return "data before the renegotiation was not echoed"
    rc = c.handshake()
    print("reneg1=%s" % (c.err(rc) if rc else "completed"))
    if rc != E_WARNING_ALERT_RECEIVED:
        return "renegotiation: want GNUTLS_E_WARNING_ALERT_RECEIVED"
    num, name = c.alert()
    print("alert1=%d %s" % (num, name))
    if num != NO_RENEGOTIATION:
        return "renegotiation: alert %d, want no_renegotiation (100)" % num
    after = b"after renegotiation " + os.urandom(8).hex().encode() + b"\n"
    ok = c.echo(after)
    print("echo_after=%s" % ("ok" if ok else "differs"))
    if not ok:
        return "data after the refused renegotiation was not echoed"
    if again:
        rc = c.handshake()
        print("reneg2=%s" % (c.err(rc) if rc else "completed"))
        if rc != E_FATAL_ALERT_RECEIVED:
            return "second renegotiation: want GNUTLS_E_FATAL_ALERT_RECEIVED"
        num, name = c.alert()
        print("alert2=%d %s" % (num, name))
        if num != UNEXPECTED_MESSAGE:
            return "second renegotiation: alert %d, want unexpected_message (10)" % num
        return None
    rc = c.bye()
    print("bye=%s" % (c.err(rc) if rc else "ok"))
    if rc:
        return "close_notify exchange failed"
    return None


def main(argv):
    args = argv[1:]
    again = "--again" in args
    args = [a for a in args if a != "--again"]
    if len(args) != 2:
        print("usage: renegclient.py PORT CAFILE [--again]", file=sys.stderr)
        return 2
    try:
        why = run(int(args[0]), args[1], again)
    except (OSError, RuntimeError) as e:
        why = str(e)
    print("result=" + ("ok" if why is None else "FAIL: " + why))
    return 0 if why is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
