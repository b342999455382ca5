"""Serve a demo peer (or any WSGI app) on loopback from a daemon thread.

Used by ``ncconnect demo`` and by the tests: each peer gets its own threaded
werkzeug server, so peers can call each other (metadata, discovery, token
requests) while a browser is being served.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """No access log: query strings carry codes and SAML messages."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


def free_port() -> int:
    """A port free on 127.0.0.1 now (the OS picks it; another process could take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BackgroundServer:
    """One app on ``host:port`` (0: any free port); the socket is bound by ``start()``."""

    def __init__(self, app: Callable, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        """Bind (``OSError`` if the port is taken) and serve from a daemon thread."""
        if self._thread is None:
            # Bound here, not by werkzeug: on a busy port werkzeug exits the process.
            listener = socket.create_server((self.host, self.port))
            try:
                self._server = make_server(self.host, listener.getsockname()[1], self.app,
                                           threaded=True, request_handler=_QuietHandler,
                                           fd=listener.fileno())
            finally:
                listener.close()  # werkzeug serves from its own duplicate of the socket
            self.port = self._server.port
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name=f"demo-peer-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
