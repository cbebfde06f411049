"""Running the ASGI app on uvicorn, with a deadline for request headers.

uvicorn bounds idle keep-alive connections but not a client that sends its headers a byte at a
time; `HeaderDeadline` closes a connection whose request headers are not complete within
`header_timeout` seconds of its first byte (or of the connection). Bodies have their own
deadline in bot.http.guard.RequestGuard.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


def header_deadline_protocol(header_timeout: float) -> type[H11Protocol]:
    class HeaderDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.cycle is not None and not self.cycle.response_complete:
                self._disarm()  # the headers are in: the request is being handled
            elif self._deadline is None:
                self._arm()  # the next request on this connection has begun

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(header_timeout, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if self.cycle is None or self.cycle.response_complete:
                log.info("closing a connection whose request headers took over %gs",
                         header_timeout)
                self.transport.close()

    return HeaderDeadline


class HttpServer:
    """uvicorn serving `app`; `serve_forever` in the foreground, or `start` in a thread."""

    def __init__(self, app: Any, host: str, port: int, header_timeout: float) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, http=header_deadline_protocol(header_timeout),
            lifespan="on", log_config=None, access_log=False, server_header=False,
            timeout_keep_alive=5, timeout_graceful_shutdown=10,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.servers[0].sockets[0].getsockname()[1])

    def serve_forever(self) -> None:
        self._server.run()

    def start(self, timeout: float = 30.0) -> None:
        """Serve in a daemon thread; return once it listens."""
        self._thread = threading.Thread(target=self._server.run, name="newsdesk-http",
                                        daemon=True)
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout * 20)):
            if self._server.started:
                return
            deadline.wait(0.05)
        raise RuntimeError("the HTTP server did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
