#!/usr/bin/env python3
"""A TCP relay that records what a client sends, and replays it later: the attacker
of RFC 8446 section 8 who copies a 0-RTT ClientHello and its early data.

    python3 tests/interop/replayrelay.py record SERVER_PORT CAPTURE_FILE
        Listens on 127.0.0.1 (a port the kernel picks, printed as "listening on
        127.0.0.1:PORT"), relays ONE connection to 127.0.0.1:SERVER_PORT both ways,
        writes every byte the client sent to CAPTURE_FILE, and exits when both sides
        are done (or after 20 s).
    python3 tests/interop/replayrelay.py replay SERVER_PORT CAPTURE_FILE
        Connects to 127.0.0.1:SERVER_PORT, sends CAPTURE_FILE's bytes, reads until
        the server closes (or 5 s), prints "replayed N bytes, got M back".

Standard library only.
"""

import select
import socket
import sys
import time


def record(server_port, capture):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    print("listening on 127.0.0.1:%d" % lsock.getsockname()[1], flush=True)
    lsock.settimeout(20)
    client, _ = lsock.accept()
    server = socket.create_connection(("127.0.0.1", server_port), timeout=5)
    sent = bytearray()
    open_ends = {client: server, server: client}
    deadline = time.time() + 20
    while open_ends and time.time() < deadline:
        readable, _, _ = select.select(list(open_ends), [], [], 0.5)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            peer = open_ends[sock]
            if not data:
                del open_ends[sock]
                try:
                    peer.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            if sock is client:
                sent += data
            try:
                peer.sendall(data)
            except OSError:
                pass
    with open(capture, "wb") as f:
        f.write(sent)
    client.close()
    server.close()


def replay(server_port, capture):
    with open(capture, "rb") as f:
        data = f.read()
    sock = socket.create_connection(("127.0.0.1", server_port), timeout=5)
    try:
        sock.sendall(data)
    except OSError:
        pass
    got = 0
    deadline = time.time() + 5
    while time.time() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.5)
        if not readable:
            continue
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        got += len(chunk)
    sock.close()
    print("replayed %d bytes, got %d back" % (len(data), got))


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("record", "replay"):
        sys.stderr.write(__doc__)
        return 2
    (record if sys.argv[1] == "record" else replay)(int(sys.argv[2]), sys.argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
