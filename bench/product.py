"""Start the real product (`sufler up`) in its own process for a benchmark; stop it with Ctrl-C (SIGINT)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    base: str
    username: str
    password: str
    pid: int
    cockpit: str | None = None  # the cockpit's page, when started with SUFLER_COCKPIT_ENABLED=true


@asynccontextmanager
async def running_product(data_dir: str, **env: str) -> AsyncIterator[Product]:
    environment = {
        **os.environ,
        "SUFLER_DATA_DIR": data_dir,
        "SUFLER_SERVER_PORT": "0",
        "SUFLER_LOG_LEVEL": "WARNING",
        "SUFLER_COCKPIT_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "up",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        printed = ""
        while "Press Ctrl-C" not in printed:
            line = await asyncio.wait_for(proc.stdout.readline(), 600)  # a first cockpit build takes minutes
            if not line:
                raise SystemExit(f"sufler up failed:\n{printed}")
            printed += line.decode()
        base = re.search(r"backend\s+(http://\S+)", printed)
        login = re.search(r"log in as '(\w+)' with password '([^']+)'", printed)
        assert base and login, printed
        page = re.search(r"cockpit\s+(http://\S+)", printed)
        yield Product(base.group(1), login.group(1), login.group(2), proc.pid, page.group(1) if page else None)
    finally:
        proc.send_signal(signal.SIGINT)
        await proc.wait()
