"""Personal data planted in every input path the backend has never reaches its logs.

The real `sufler serve` runs in its own process at DEBUG; everything it writes (stdout and stderr: our
lines, uvicorn's, tracebacks) is captured and searched for the planted names, e-mails and phone numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.cockpit_client import cockpit
from tests.conftest import TEST_DATA_KEYS
from tests.helpers import restartable_port
from tests.integration.conftest import PASSWORD, MakeUser

ROOT = Path(__file__).resolve().parents[2]
NAME = "Zbigniew Brzęczyszczykiewicz"
EMAIL = "zbigniew.b@example.com"
PHONE = "+48 601 234 567"
SOCKET_NAME = "Genowefa Pigwa-Kłębuszek"
SOCKET_EMAIL = "genowefa@pigwa.example.pl"
SOCKET_PHONE = "502-111-333"
LOGIN_EMAIL = "kto.to.jest@example.org"
REQUEST_ID_EMAIL = "naglowek@example.com"
PLANTED = [
    NAME,
    "Brzęczyszczykiewicz",
    EMAIL,
    PHONE,
    "601234567",
    "601 234 567",
    SOCKET_NAME,
    SOCKET_EMAIL,
    SOCKET_PHONE,
    "502111333",
    LOGIN_EMAIL,
    REQUEST_ID_EMAIL,
]


async def exercise(base: str, username: str) -> None:
    """Every cheap way in: login, client files (create, search, change, a failing write), the cockpit socket."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        wrong = await http.post("/auth/login", json={"username": LOGIN_EMAIL, "password": PASSWORD})
        assert wrong.status_code == 401
        login = await http.post("/auth/login", json={"username": username, "password": PASSWORD})
        token = login.json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"

        created = await http.post("/clients/", json={"name": NAME, "contact_info": f"{EMAIL}, tel. {PHONE}"})
        assert created.status_code == 201
        client_id = created.json()["id"]
        for q in (NAME, EMAIL, PHONE, "601234567"):
            assert (await http.get("/clients/", params={"q": q})).status_code == 200
        patched = await http.patch(f"/clients/{client_id}", json={"contact_info": f"tel. {PHONE.replace(' ', '')}"})
        assert patched.status_code == 200
        assert (await http.post("/clients/", json={"name": 12, "contact_info": EMAIL})).status_code == 400
        # PostgreSQL cannot store NUL: refused before the database, naming the field (not quoting the value).
        broken = {"name": NAME.replace(" ", "\x00"), "contact_info": f"{EMAIL} {PHONE}"}
        refused = await http.post("/clients/", json=broken)
        assert refused.status_code == 400 and NAME.split()[0] not in refused.text
        assert (await http.get("/health", headers={"X-Request-ID": REQUEST_ID_EMAIL})).status_code == 200

    async with cockpit(base, token) as ws:
        await ws.open_new_client(SOCKET_NAME, f"{SOCKET_EMAIL} / {SOCKET_PHONE}")
        await ws.observe(f"{SOCKET_NAME} poda numer {SOCKET_PHONE} i mail {SOCKET_EMAIL}; cena za wysoka")
        await ws.next("moves")  # the whole path ran: stored, fast path, playbook moves


async def test_no_personal_data_in_the_logs(migrated_db_url: str, make_user: MakeUser, tmp_path: Path) -> None:
    user = await make_user()
    port = restartable_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUFLER_")}
    env.update(
        SUFLER_DATABASE_URL=migrated_db_url,
        SUFLER_DATA_DIR=str(tmp_path / "data"),
        SUFLER_DATA_KEYS=TEST_DATA_KEYS,
        SUFLER_SERVER_PORT=str(port),
        SUFLER_LLM_HOST="",
        SUFLER_LOG_LEVEL="DEBUG",
    )
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backend.cli", "serve", cwd=ROOT, env=env, stdout=out, stderr=err
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(120), httpx.AsyncClient() as probe:
            while True:
                assert proc.returncode is None, err_path.read_text()
                try:
                    if (await probe.get(f"{base}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        await exercise(base, user.username)
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), timeout=30)

    logged = out_path.read_text() + err_path.read_text()
    lines = [json.loads(line) for line in logged.splitlines() if line.strip()]  # every line went through structlog
    # JSON escapes non-ASCII letters; search the decoded text as well as the bytes written.
    decoded = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for value in PLANTED:
        assert value not in logged and value not in decoded, f"{value!r} was logged"
    # The paths were really taken: the refused write was logged (a database error's parameters: see the
    # redaction properties, since unstorable input no longer reaches the database).
    assert any(line.get("path") == "/clients" and line.get("status") == 400 for line in lines)
    assert any(line.get("path") == "/ws/cockpit" for line in lines)
