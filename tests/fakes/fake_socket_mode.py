"""A Socket Mode endpoint for process tests: the WebSocket URL FakeSlack's apps.connections.open
hands out (FakeSlack.socket_mode). It greets each connection as Slack does, with a `hello`,
and keeps it open (the `websockets` library answers the client's pings); it can push an
envelope to the connected app and collect what the app sends back (its acknowledgements).

slack_sdk's built-in client speaks plain `ws://` to any port but 443 ("only for library
testing"), which is what this is."""

from __future__ import annotations

import json
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self, app_id: str = "A0PMOBOT") -> None:
        self.app_id = app_id
        self.connected = threading.Event()
        self.received: list[dict[str, Any]] = []
        self._connections: list[ServerConnection] = []
        self._sequence = 0
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def push_event(self, body: dict[str, Any], *, retry_attempt: int = 0) -> str:
        """Send an Events API payload (`event_callback` body) to the connected app, in the
        envelope Slack's Socket Mode uses; its envelope id (the app's ack names it)."""
        self._sequence += 1
        envelope_id = f"fake-envelope-{self._sequence}"
        envelope = {
            "envelope_id": envelope_id,
            "payload": body,
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": retry_attempt,
            "retry_reason": "" if retry_attempt == 0 else "timeout",
        }
        for connection in list(self._connections):
            connection.send(json.dumps(envelope))
        return envelope_id

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake-ticket&app_id={self.app_id}"

    def _handle(self, connection: ServerConnection) -> None:
        self._connections.append(connection)
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._connections),
                    "debug_info": {
                        "host": "fake-socket-mode",
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        self.connected.set()
        try:
            for message in connection:
                self.received.append(json.loads(message))
        except ConnectionClosed:
            pass
