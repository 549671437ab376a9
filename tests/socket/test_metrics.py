"""/metrics as Prometheus sees it: a real Prometheus (Debian's package, configured by ops/prometheus/prometheus.yml)
scrapes a running backend with its token while a salesperson works and a Telegram lead is taken; its HTTP API
then has the fast path's histogram, the LLM calls (fake model server) and the time to claim. Access rules and
label cardinality are checked on the endpoint itself."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import SecretStr

from backend.runtime import bind_socket, wait_answering
from backend.settings import MetricsSettings, TelegramSettings
from tests.data.test_dashboard import queries as dashboard_queries
from tests.fakes.telegram import FakeTelegram
from tests.socket.conftest import Backend, StartBackend
from tests.socket.test_leads import claimed_telegram_lead
from tests.socket.test_telegram_bot import SECRET

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests-0123456789"


async def scrape(backend: Backend, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=backend.url, timeout=10) as http:
        return await http.get("/metrics", headers=headers)


@contextmanager
def prometheus(tmp_path: Path, target: str) -> Iterator[str]:
    """A real Prometheus with the repo's configuration (scraping every 0.5 s here) and ``target`` as its target."""
    binary = shutil.which("prometheus")
    assert binary, "scripts/bootstrap test installs Debian's prometheus"
    config = yaml.safe_load((ROOT / "ops" / "prometheus" / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = "500ms"
    config["scrape_configs"][0]["file_sd_configs"][0]["refresh_interval"] = "1s"
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "metrics-token").write_text(TOKEN)
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "test.json").write_text(json.dumps([{"targets": [target]}]))
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    command = [
        binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]  # fmt: skip
    with open(tmp_path / "prometheus.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_answering(process, f"http://127.0.0.1:{port}/-/ready", 30, "prometheus")  # it needs no backend
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(10)


async def query(http: httpx.AsyncClient, expression: str, within: float = 20.0) -> list[dict[str, Any]]:
    """Prometheus's answer to an instant query, waited for until it has a result (scrapes take a moment)."""
    deadline = time.monotonic() + within
    while True:
        answer = (await http.get("/api/v1/query", params={"query": expression})).json()
        assert answer["status"] == "success", answer
        if answer["data"]["result"] or time.monotonic() > deadline:
            return list(answer["data"]["result"])
        await asyncio.sleep(0.3)


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian's prometheus: scripts/bootstrap test")
async def test_a_real_prometheus_scrapes_the_main_loop_the_llm_and_leads(
    start_backend: StartBackend, telegram: FakeTelegram, tmp_path: Path
) -> None:
    bot = TelegramSettings(bot_token=SecretStr(telegram.token), webhook_secret=SecretStr(SECRET), api_base=telegram.url)
    metrics = MetricsSettings(token=SecretStr(TOKEN))
    async with start_backend(telegram=bot, metrics=metrics) as backend, backend.cockpit() as cockpit:
        target = backend.url.removeprefix("http://")
        with prometheus(tmp_path, target) as prom:
            async with httpx.AsyncClient(base_url=prom, timeout=10) as http:
                await cockpit.open_new_client("Anna Nowak")
                for text in ("Klient pyta o leasing na firmę", "Pyta o zasięg zimą"):
                    await cockpit.observe(text)
                    await cockpit.next("moves", interaction_id=(await cockpit.next("ack"))["interaction_id"])
                await claimed_telegram_lead(backend, cockpit)

                up = await query(http, 'up{job="sufler"} == 1')
                assert up, (tmp_path / "prometheus.log").read_text()[-2000:]  # scraped with the token
                fast = await query(http, 'sum(sufler_fast_path_seconds_count{language="pl"}) >= 2')
                assert fast
                llm = await query(http, 'sum by (kind) (sufler_llm_calls_total{outcome="ok"})')
                assert {row["metric"]["kind"] for row in llm} >= {"assessment", "moves"}
                claimed = await query(http, 'sum(sufler_lead_claim_seconds_count{channel="telegram"}) >= 1')
                assert claimed
                for expr in dashboard_queries():  # the Grafana dashboard's queries all run (and parse)
                    answer = (await http.get("/api/v1/query", params={"query": expr})).json()
                    assert answer["status"] == "success", (expr, answer)
                http_routes = await query(http, "sum by (path) (sufler_http_requests_total)")
                assert all("{" in row["metric"]["path"] or "/" in row["metric"]["path"] for row in http_routes)


async def test_metrics_need_the_token_when_one_is_set(start_backend: StartBackend) -> None:
    async with start_backend(metrics=MetricsSettings(token=SecretStr(TOKEN))) as backend:
        assert (await scrape(backend, token=None)).status_code == 401
        assert (await scrape(backend, token="wrong")).status_code == 401
        assert (await scrape(backend, token=backend.token)).status_code == 401  # a login is not the metrics token
        answer = await scrape(backend)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert "sufler_llm_state" in answer.text


async def test_without_a_token_metrics_are_served_to_loopback(backend: Backend) -> None:
    answer = await scrape(backend, token=None)  # the test client is on loopback
    assert answer.status_code == 200


async def test_labels_carry_no_ids(backend: Backend) -> None:
    async with backend.cockpit() as c:
        session = await c.open_new_client("Jan Kowalski")
        await c.observe("Pyta o dopłaty")
        await c.next("moves")
    async with backend.http() as http:
        assert (await http.get(f"/clients/{session['client']['id']}")).status_code == 200
    text = (await scrape(backend, token=None)).text
    sufler = [line for line in text.splitlines() if line.startswith("sufler_")]
    routes = [line for line in sufler if line.startswith("sufler_http_requests_total")]
    assert any('path="/clients/{client_id}"' in line for line in routes), routes  # the route, not the id
    for line in sufler:
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line.partition("{")[2].partition("}")[0]))
        for name, value in labels.items():
            if name not in ("status_code", "le", "model"):  # a status, a bucket, a configured model name
                assert not re.search(r"\d{2,}", value), line  # no id, no phone number
            assert "Jan" not in value and "Kowalski" not in value, line
