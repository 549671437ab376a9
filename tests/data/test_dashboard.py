"""The Grafana dashboard (ops/grafana/dashboards/sufler.json) is well-formed and asks only for metrics Sufler
exports; the real-Prometheus test (tests/socket/test_metrics.py) runs every one of its queries."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import backend.metrics  # noqa: F401  # registers Sufler's metrics

OPS = Path(__file__).resolve().parents[2] / "ops"
DASHBOARD = json.loads((OPS / "grafana" / "dashboards" / "sufler.json").read_text())
# Litestar's middleware registers these on the first request (backend/asgi.py, prefix "sufler_http").
HTTP = {"sufler_http_requests", "sufler_http_request_duration_seconds", "sufler_http_requests_in_progress"}


def exported() -> set[str]:
    return {metric.name for collector in list(REGISTRY._collector_to_names) for metric in collector.collect()} | HTTP


def queries() -> list[str]:
    return [target["expr"] for panel in DASHBOARD["panels"] for target in panel["targets"]]


def test_the_dashboard_has_the_structure_grafana_loads() -> None:
    assert DASHBOARD["uid"] and DASHBOARD["title"] and isinstance(DASHBOARD["schemaVersion"], int)
    ids = [panel["id"] for panel in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    source = yaml.safe_load((OPS / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = source["datasources"][0]["uid"]
    for panel in DASHBOARD["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"]) and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert panel["datasource"]["uid"] == uid and panel["targets"], panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])


def test_every_query_asks_for_a_metric_sufler_exports() -> None:
    names = exported()
    for expr in queries():
        for used in re.findall(r"\bsufler_\w+", expr):
            base = re.sub(r"_(bucket|total|count|sum|created)$", "", used)
            assert base in names, f"{used} in {expr!r} is not exported"


def test_the_main_loop_llm_bots_leads_and_errors_are_on_it() -> None:
    text = " ".join(queries())
    for metric in ("sufler_fast_path_seconds", "sufler_llm_calls_total", "sufler_llm_model_failures_total",
                   "sufler_bot_answer_seconds", "sufler_lead_claim_seconds", "sufler_http_requests_total"):  # fmt: skip
        assert metric in text, metric
