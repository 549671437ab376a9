"""The `sufler` command as a user runs it: real processes, real databases."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx

from backend.domain.accounts import AccountService

SUFLER = [sys.executable, "-m", "backend.cli"]


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUFLER_")}
    env.update(extra)
    return env


async def run(args: list[str], env: dict[str, str], stdin: str = "", wait: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *SUFLER,
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=wait)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_user_add_creates_an_account_that_can_log_in(
    migrated_db_url: str, tmp_path: Path, accounts: AccountService
) -> None:
    env = env_for(SUFLER_DATABASE_URL=migrated_db_url, SUFLER_DATA_DIR=str(tmp_path))
    # The CLI and the test's service must key tokens with the same secret.
    (tmp_path / "secret_key").write_text(accounts._key.decode())
    code, out, err = await run(["user", "add", "anna.nowak", "--role", "lead"], env, stdin="a long password\n")
    assert code == 0, err
    assert "anna.nowak" in out
    issued = await accounts.login("anna.nowak", "a long password")
    assert issued.user.role == "lead"

    code, _, err = await run(["user", "add", "anna.nowak"], env, stdin="a long password\n")
    assert code == 1 and "already exists" in err
    code, _, err = await run(["user", "add", "jan"], env, stdin="short\n")
    assert code == 1 and "at least 8" in err


async def test_invalid_configuration_is_refused_with_a_message(tmp_path: Path) -> None:
    code, _, err = await run(["migrate"], env_for(SUFLER_ENV="production", SUFLER_DATA_DIR=str(tmp_path)))
    assert code == 2
    assert "SUFLER_AUTH_SECRET_KEY" in err


async def test_up_runs_the_embedded_default_and_stops_cleanly(tmp_path: Path) -> None:
    """`sufler up` with nothing configured: its own PostgreSQL, migrations, a first admin, the backend."""
    data = tmp_path / "data"
    env = env_for(SUFLER_DATA_DIR=str(data), SUFLER_SERVER_PORT="0", SUFLER_COCKPIT_ENABLED="false")
    proc = await asyncio.create_subprocess_exec(
        *SUFLER, "up", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert proc.stdout is not None
    printed = ""
    try:
        async with asyncio.timeout(60):
            while "Press Ctrl-C" not in printed:
                line = await proc.stdout.readline()
                assert line, f"sufler up exited early:\n{printed}"
                printed += line.decode()
        base = re.search(r"backend\s+(http://\S+)", printed)
        login = re.search(r"log in as '(\w+)' with password '([^']+)'", printed)
        assert base and login, printed
        async with httpx.AsyncClient(base_url=base.group(1)) as http:
            checks = (await http.get("/health")).json()["checks"]
            # No Ollama runs here: the LLM is degraded (the cockpit runs on playbooks), the rest is up.
            assert checks["database"] == "ok" and checks["vector_store"] == "ok"
            response = await http.post("/auth/login", json={"username": login.group(1), "password": login.group(2)})
            assert response.status_code == 200
            assert response.json()["user"]["role"] == "admin"
    finally:
        proc.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(proc.stdout.read(), timeout=30)
        await proc.wait()
    assert proc.returncode == 0
    assert "Sufler stopped." in rest.decode()
    # The embedded server went down with it.
    assert not (data / "pg" / "postmaster.pid").exists()
