"""uvicorn's httptools protocol, writing each response's head and body to the socket in one call.

uvicorn writes the status line and headers, then the body, each with its own ``transport.write``:
two send() system calls per response. Here writes wait, and go together as soon as the response
is complete (or at the end of the event loop's turn, for a response that streams); a close sends
what waits first.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _JoinedWrites:
    """A transport whose writes wait, then go as one: when the protocol says the response is
    complete (`send_now`), or at the latest at the end of the loop's turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._waiting: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._waiting:
            self._loop.call_soon(self.send_now)
        self._waiting.append(data)

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def send_now(self) -> None:
        if not self._waiting:
            return
        data = self._waiting[0] if len(self._waiting) == 1 else b"".join(self._waiting)
        self._waiting = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._waiting)

    def close(self) -> None:
        self.send_now()
        self._transport.close()

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


class JoinedWritesProtocol(HttpToolsProtocol):
    """Pass as uvicorn's ``http`` protocol class."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_JoinedWrites(transport, self.loop))  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        self.transport.send_now()  # the response's last write was just made: no need to wait
        super().on_response_complete()
