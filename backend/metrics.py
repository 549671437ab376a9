"""Sufler's own Prometheus metrics, beside the HTTP metrics of Litestar's Prometheus middleware.

All labels are low-cardinality by construction: languages, call kinds, configured model names, channels,
outcomes — never a client, user, lead or conversation id. One scrape per backend process (each process serves its
own ``/metrics``; Prometheus scrapes every process as a target and sums): Sufler's processes are separate servers
(containers, hosts), not forked workers sharing a folder, which is what prometheus-client's multiprocess mode is
for. Gauges read from the database (open leads, outbox backlog) are the same in every process: query them with
``max``, not ``sum``.

The metrics are module-level: created once per process however many apps (tests) it builds.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

__all__ = (
    "BOT_ANSWER_CACHE",
    "BOT_ANSWER_SECONDS",
    "BOT_UPDATES",
    "DB_POOL_IN_USE",
    "FAST_PATH_SECONDS",
    "KNOWLEDGE_INDEX_POINTS",
    "LEADS_CLAIMED",
    "LEADS_CREATED",
    "LEADS_OPEN",
    "LEAD_CLAIM_SECONDS",
    "LLM_CALLS",
    "LLM_DEGRADED_SECONDS",
    "LLM_FIRST_TOKEN_SECONDS",
    "LLM_MODEL_FAILURES",
    "LLM_SECONDS",
    "LLM_STATE",
    "LLM_SUPERSEDED",
    "LLM_TOKENS",
    "OBSERVATIONS",
    "OUTBOX_BACKLOG",
    "RULE_FILE_ERRORS",
    "SOCKETS_OPEN",
    "SOCKET_RESUMES",
    "WEBHOOK_DELIVERIES",
    "WEBHOOK_DELIVERY_SECONDS",
    "DegradedClock",
)

FAST = (0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.1, 0.2, 0.5, 1.0)
LLM = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
# a webhook: a few ms when the receiver is up; minutes to a day through retries when it was down
DELIVERY = (0.01, 0.05, 0.1, 0.25, 1.0, 10.0, 60.0, 600.0, 3600.0, 24 * 3600.0)
HUMAN = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0, 24 * 3600.0)

# ---- the fast path -----------------------------------------------------------------------------------------
OBSERVATIONS = Counter("sufler_observations", "Observations run through the fast path", ["language"])
FAST_PATH_SECONDS = Histogram(
    "sufler_fast_path_seconds", "Observation to fast result (archetypes, knowledge, indicators)", ["language"],
    buckets=FAST,
)  # fmt: skip

# ---- the LLM -----------------------------------------------------------------------------------------------
LLM_CALLS = Counter(
    "sufler_llm_calls",
    "LLM calls by kind and outcome: ok (first model), fallback (a later model answered), invalid (no valid "
    "answer after the repair), unavailable (no model answered), cancelled (superseded)",
    ["kind", "model", "outcome"],
)
LLM_MODEL_FAILURES = Counter(
    "sufler_llm_model_failures", "A model skipped for the next in the chain, by why", ["model", "reason"]
)
LLM_FIRST_TOKEN_SECONDS = Histogram(
    "sufler_llm_first_token_seconds", "From asking to the first token", ["kind", "model"], buckets=LLM
)
LLM_SECONDS = Histogram("sufler_llm_seconds", "A whole LLM answer", ["kind", "model"], buckets=LLM)
LLM_TOKENS = Counter(
    "sufler_llm_tokens", "Tokens the server reported, prompt and completion", ["kind", "model", "direction"]
)
LLM_STATE = Gauge("sufler_llm_state", "1 for the LLM's current state (up, degraded, off)", ["state"])
LLM_DEGRADED_SECONDS = Counter("sufler_llm_degraded_seconds", "Seconds the LLM spent in degraded mode")
LLM_SUPERSEDED = Counter("sufler_llm_superseded", "LLM work cancelled because a newer observation came")

# ---- sockets -----------------------------------------------------------------------------------------------
SOCKETS_OPEN = Gauge("sufler_sockets_open", "Open WebSockets", ["socket"])  # cockpit | widget
SOCKET_RESUMES = Counter("sufler_socket_resumes", "Cockpit sockets resumed after a reconnect")

# ---- bots and leads ----------------------------------------------------------------------------------------
BOT_UPDATES = Counter(
    "sufler_bot_updates", "Customer messages received, by outcome (stored, duplicate)", ["channel", "outcome"]
)
BOT_ANSWER_SECONDS = Histogram(
    "sufler_bot_answer_seconds", "A customer message to the bot's answer being queued", ["channel"], buckets=LLM
)
BOT_ANSWER_CACHE = Counter(
    "sufler_bot_answer_cache", "Bot answers looked up in the FAQ cache: hit, miss, unavailable", ["outcome"]
)
LEADS_CREATED = Counter("sufler_leads_created", "Leads handed over by a bot", ["channel"])
LEADS_CLAIMED = Counter("sufler_leads_claimed", "Leads taken by a salesperson", ["channel"])
LEAD_CLAIM_SECONDS = Histogram(
    "sufler_lead_claim_seconds", "From a lead's creation to its claim", ["channel"], buckets=HUMAN
)
LEADS_OPEN = Gauge("sufler_leads_open", "Leads nobody has taken yet (read from the database at scrape)")
WEBHOOK_DELIVERIES = Counter(
    "sufler_webhook_deliveries", "Webhook (CRM) delivery attempts, by event and outcome", ["event", "outcome"]
)
WEBHOOK_DELIVERY_SECONDS = Histogram(
    "sufler_webhook_delivery_seconds", "From a CRM event's commit to its receiver's 2xx", buckets=DELIVERY
)
OUTBOX_BACKLOG = Gauge("sufler_outbox_backlog", "Outbox messages not yet delivered (database, at scrape)", ["topic"])

# ---- resources ---------------------------------------------------------------------------------------------
DB_POOL_IN_USE = Gauge("sufler_db_pool_in_use", "Database connections checked out of the pool")
RULE_FILE_ERRORS = Gauge("sufler_rule_file_errors", "1 while the scoring rules on disk do not load")
KNOWLEDGE_INDEX_POINTS = Gauge("sufler_knowledge_index_points", "Knowledge entries in the vector index")


class DegradedClock:
    """Counts the seconds spent in degraded mode into LLM_DEGRADED_SECONDS as the state changes and at scrape."""

    def __init__(self) -> None:
        self._since: float | None = None

    def state(self, state: str) -> None:
        self.tick()
        for name in ("up", "degraded", "off"):
            LLM_STATE.labels(name).set(1 if name == state else 0)
        self._since = time.monotonic() if state == "degraded" else None

    def tick(self) -> None:
        if self._since is not None:
            now = time.monotonic()
            LLM_DEGRADED_SECONDS.inc(now - self._since)
            self._since = now
