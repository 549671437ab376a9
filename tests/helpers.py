"""Helpers the tests share: databases on real PostgreSQL servers and the backend on a real socket."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from sqlalchemy.engine import make_url

from backend.db import asyncpg_dsn
from backend.runtime import SOCKET_OPTIONS, bind_socket


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server for the duration of the block; dropped afterwards."""
    name = f"sufler_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(server_url, name)
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(server_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def serving(app: Any, port: int = 0) -> AsyncIterator[str]:
    """Run an ASGI app under uvicorn on a loopback port (a free one by default); yields its base URL."""
    sock = bind_socket("127.0.0.1", port)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", **SOCKET_OPTIONS))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces a start-up error
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def restartable_port() -> int:
    """A free port for a server a test stops and starts again, chosen below the ephemeral range: a client
    reconnecting to a port in that range while nothing listens can be given that very port as its own local
    port (a TCP self-connect), and the restarted server could then not bind it."""
    for port in random.sample(range(20_000, 32_000), 200):
        try:
            bind_socket("127.0.0.1", port).close()
        except OSError:
            continue
        return port
    raise RuntimeError("no free port below the ephemeral range")
