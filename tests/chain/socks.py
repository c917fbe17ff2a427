"""A minimal SOCKS5 proxy (RFC 1928, no auth, CONNECT only) standing in for Tor."""

from __future__ import annotations

import socket
import socketserver
import struct
import threading


class _Relay(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock = self.request
        n_methods = sock.recv(2)[1]
        sock.recv(n_methods)
        sock.sendall(b"\x05\x00")  # no authentication
        _, cmd, _, atyp = sock.recv(4)
        if atyp == 1:
            host = socket.inet_ntoa(sock.recv(4))
        elif atyp == 3:
            host = sock.recv(sock.recv(1)[0]).decode()
        else:
            sock.sendall(b"\x05\x08\x00\x01" + bytes(6))
            return
        port = struct.unpack(">H", sock.recv(2))[0]
        self.server.owner.connections += 1
        self.server.owner.targets.append((host, port))
        upstream = socket.create_connection((host, port))
        sock.sendall(b"\x05\x00\x00\x01" + bytes(6))
        pump = threading.Thread(target=_copy, args=(upstream, sock), daemon=True)
        pump.start()
        _copy(sock, upstream)
        pump.join(timeout=2)


def _copy(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Socks5Proxy:
    def __init__(self) -> None:
        self.connections = 0
        self.targets: list[tuple[str, int]] = []
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Relay)
        self.server.daemon_threads = True
        self.server.owner = self
        self.url = f"socks5://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> "Socks5Proxy":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
