"""Settings, one class per concern, read from ``SUFLER_<AREA>_<FIELD>`` environment variables.

Every default serves the embedded mode on one laptop; production mode (``SUFLER_ENV=production``)
refuses to start when a secret has no real value, instead of silently using a development one.
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.errors import ConfigurationError

if TYPE_CHECKING:
    from backend.crypto import DataCipher

__all__ = (
    "AuthSettings",
    "DatabaseSettings",
    "EmbeddingSettings",
    "Environment",
    "LogSettings",
    "PackSettings",
    "QdrantSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "load_settings",
)

MIN_SECRET_LENGTH = 32
WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{32,}={0,2}")  # Standard Webhooks: whsec_ and 24+ bytes, base64


class SettingsError(ConfigurationError, ValueError):
    """Raised when the configuration cannot be used; the message says which variable and why."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class _Section(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)


class DatabaseSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_DATABASE_", extra="ignore", frozen=True)

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (postgresql+asyncpg://...). Unset: start an embedded PostgreSQL.",
    )
    pool_size: int = Field(default=10, ge=1, le=200, description="Connections kept open per process.")
    connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for a connection.")
    pool_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a request waits for a free pooled connection before it is answered `busy` (load "
        "shedding: a quick typed answer instead of an internal error after SQLAlchemy's default 30 s).",
    )

    @model_validator(mode="after")
    def _async_driver(self) -> Self:
        if self.url is not None and not self.url.startswith("postgresql+asyncpg://"):
            raise ValueError("SUFLER_DATABASE_URL must start with postgresql+asyncpg://")
        return self


class ServerSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_SERVER_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Interface the backend listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port of the backend (HTTP and WebSocket).")


class AuthSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_AUTH_", extra="ignore", frozen=True)

    secret_key: SecretStr | None = Field(
        default=None,
        description="Server secret (keys session-token hashes). Development: generated into the data dir. "
        "Production: required, at least 32 characters.",
    )
    session_ttl_hours: float = Field(default=12.0, gt=0, description="Hours a login stays valid.")
    cookie_name: str = Field(default="sufler_session", description="Name of the browser session cookie.")
    admin_username: str = Field(default="admin", description="First admin account created by `sufler up`.")


class DataSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_DATA_", extra="ignore", frozen=True)

    keys: SecretStr | None = Field(
        default=None,
        description="Keys for contact data at rest: comma-separated id:key (32 bytes, URL-safe base64), the current "
        "key first, older ones after it for reading. Development: generated into the data dir. Production: required.",
    )


class PackSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_PACK_", extra="ignore", frozen=True)

    dir: Path = Field(
        default=Path("."), description="Folder holding archetypes/, knowledge/ and scoring_rules/ (the domain pack)."
    )


class EmbeddingSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_EMBEDDING_", extra="ignore", frozen=True)

    model: str = Field(
        default="sufler/all-minilm-l6-v2-int8",
        description="fastembed model; the default is assembled offline from PyPI packages.",
    )


class QdrantSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_QDRANT_", extra="ignore", frozen=True)

    url: str | None = Field(default=None, description="Qdrant server URL; unset: local mode in the data dir.")
    api_key: SecretStr | None = Field(default=None, description="Qdrant API key, when the server needs one.")


# Token limits per call: each at least the longest answer its schema allows (llm_outputs.py) at 1.5 characters a
# token (the worst measured: gemma3 rambling in Polish, 1.7; a test keeps limits and schemas together), so a valid
# answer is never cut, while a model that rambles stops in bounded time. advisor and bot_answer are free text.
MAX_TOKENS = {
    "assessment": 1800,
    "moves": 1200,
    "advisor": 600,
    "strategy": 2850,
    "summary": 700,
    "key_facts": 1400,
    "bot_answer": 300,
}
DEFAULT_MAX_TOKENS = 800


class LLMSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_LLM_", extra="ignore", frozen=True)

    api: Literal["ollama", "openai"] = Field(
        default="ollama",
        description="The model server's API: `ollama` (Ollama's own) or `openai` (any OpenAI-compatible "
        "chat-completions server: vLLM, llama.cpp, LM Studio, hosted APIs, Ollama's /v1).",
    )
    host: str | None = Field(
        default="http://127.0.0.1:11434",
        description="The model server's URL (for `openai` the base URL including /v1); empty: no LLM, every "
        "answer comes from the degraded (playbook) path.",
    )
    api_key: SecretStr | None = Field(default=None, description="API key sent as a bearer token (`openai` only).")
    models: str = Field(
        default="gpt-oss:120b,gpt-oss:20b",
        pattern=r"^[^,\s]+(,[^,\s]+)*$",
        description="Comma-separated model fallback chain, best first.",
    )
    first_token_timeout: float = Field(
        default=20.0, gt=0, description="Seconds to wait for a model's first token before falling back."
    )
    request_timeout: float = Field(default=120.0, gt=0, description="Seconds one whole LLM answer may take.")
    think: str = Field(
        default="low",
        pattern="^(|low|medium|high|true|false)$",
        description="Reasoning effort sent to the model server (Ollama `think`, OpenAI `reasoning_effort`).",
    )
    retry_after: float = Field(
        default=15.0, ge=0, description="Seconds to stay in degraded mode after no model answered."
    )
    memory_token_budget: int = Field(
        default=1500, ge=200, description="Session history size (tokens) above which older turns are summarised."
    )

    max_tokens: dict[str, int] = Field(
        default_factory=lambda: dict(MAX_TOKENS),
        description='Most tokens one answer may have, per call (JSON, e.g. `{"moves": 600}`; calls not named '
        "keep their default: " + ", ".join(f"{k} {v}" for k, v in MAX_TOKENS.items()) + ").",
    )

    @property
    def chain(self) -> tuple[str, ...]:
        return tuple(self.models.split(","))

    def max_tokens_for(self, kind: str) -> int:
        return self.max_tokens.get(kind) or MAX_TOKENS.get(kind, DEFAULT_MAX_TOKENS)


class CockpitSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_COCKPIT_", extra="ignore", frozen=True)

    enabled: bool = Field(default=True, description="`sufler up` also starts the cockpit (Reflex).")
    port: int = Field(default=3000, ge=1, le=65535, description="Port of the cockpit (page and its socket).")
    backend_url: str | None = Field(
        default=None, description="How the cockpit reaches the backend; unset: the backend `sufler up` started."
    )
    origins: str | None = Field(
        default=None,
        pattern=r"^[^,\s]+(,[^,\s]+)*$",
        description="Comma-separated origins (e.g. https://sufler.example) whose pages may use a salesperson's "
        "login cookie (cockpit socket, login, writes); unset: the cockpit and backend on localhost/127.0.0.1.",
    )


class SessionSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_SESSIONS_", extra="ignore", frozen=True)

    idle_seconds: float = Field(
        default=300.0,
        ge=0,
        description="A cockpit session nobody watches leaves memory after this long (rebuilt from the database "
        "when opened again).",
    )
    message_burst: int = Field(
        default=10,
        ge=1,
        description="Observations, advisor questions, regenerate and strategy requests one cockpit socket may send "
        "at once (a user's sockets together: twice that); beyond it they are refused as rate_limited, unstored.",
    )
    messages_per_second: float = Field(
        default=1.0, gt=0, description="The steady rate of those messages per socket (per user: twice that)."
    )


class BotSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_BOTS_", extra="ignore", frozen=True)

    answer_cache_seconds: float = Field(
        default=600.0,
        ge=0,
        description="How long a bot's grounded LLM answer is reused for the same question (same knowledge, same "
        "pack); 0: never. In this process, or in Redis with SUFLER_REDIS_URL.",
    )


class TelegramSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_TELEGRAM_", extra="ignore", frozen=True)

    bot_token: SecretStr | None = Field(default=None, description="Bot API token from @BotFather; unset: no bot.")
    webhook_secret: SecretStr | None = Field(
        default=None, description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (set with set-webhook)."
    )
    api_base: str = Field(default="https://api.telegram.org", description="Bot API base URL.")


class GraphApiSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_GRAPH_API_", extra="ignore", frozen=True)

    base: str = Field(
        default="https://graph.facebook.com",
        description="Meta Graph API base URL (WhatsApp, Messenger and Instagram replies go there).",
    )
    version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$", description="Graph API version in the path.")


class _MetaChannelSettings(_Section):
    """What every Meta channel needs: the webhook's verify token and app secret, and a token to reply with."""

    verify_token: SecretStr | None = Field(
        default=None, description="The Verify Token typed into the Meta app's webhook settings; unset: no channel."
    )
    app_secret: SecretStr | None = Field(
        default=None, description="The Meta app's App Secret: every webhook POST must be signed with it."
    )
    access_token: SecretStr | None = Field(default=None, description="The token replies are sent with.")

    def configured(self) -> bool:
        return None not in (self.verify_token, self.app_secret, self.access_token)


class WhatsAppSettings(_MetaChannelSettings):
    model_config = SettingsConfigDict(env_prefix="SUFLER_WHATSAPP_", extra="ignore", frozen=True)

    phone_number_id: str | None = Field(
        default=None, description="The WhatsApp Business phone number ID replies are sent from."
    )
    template: str | None = Field(
        default=None,
        description="An approved message template (name:language, e.g. follow_up:pl) sent when a salesperson "
        "replies more than 24 hours after the customer last wrote; unset: such a reply is refused and the client "
        "is marked 'reply by phone or e-mail'.",
    )

    def configured(self) -> bool:
        return super().configured() and self.phone_number_id is not None


class MessengerSettings(_MetaChannelSettings):
    model_config = SettingsConfigDict(env_prefix="SUFLER_MESSENGER_", extra="ignore", frozen=True)


class InstagramSettings(_MetaChannelSettings):
    model_config = SettingsConfigDict(env_prefix="SUFLER_INSTAGRAM_", extra="ignore", frozen=True)


class WidgetSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_WIDGET_", extra="ignore", frozen=True)

    enabled: bool = Field(default=True, description="Serve the web chat widget (/bots/web) and its demo page.")
    allowed_origins: str = Field(
        default="*",
        pattern=r"^(\*|[^,\s]+(,[^,\s]+)*)$",
        description="Comma-separated sites (e.g. https://shop.example) allowed to open the widget; * for any.",
    )

    new_chats_per_address: int = Field(
        default=10,
        ge=1,
        description="New widget chats one address may start at once (then one a minute). Behind a proxy, have it "
        "send X-Forwarded-For (uvicorn trusts it from 127.0.0.1) or every visitor shares one address.",
    )
    messages_per_address: int = Field(
        default=60,
        ge=1,
        description="Widget messages one address may send at once over all its chats (then a tenth of that per s).",
    )
    connections_per_address: int = Field(
        default=30,
        ge=1,
        description="Widget sockets one address may open at once, reconnects included (then one every 2 s); "
        "beyond it the handshake is refused.",
    )

    def allows(self, origin: str | None) -> bool:
        return self.allowed_origins == "*" or (origin is not None and origin in self.allowed_origins.split(","))


class CrmSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_CRM_", extra="ignore", frozen=True)

    webhook_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="A CRM's URL that gets every lead and client-file event (besides those an admin adds in the "
        "app); unset: none from settings.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="Its Standard Webhooks signing secret (whsec_ and base64); required with the URL."
    )
    webhook_events: str = Field(
        default="*",
        pattern=r"^(\*|[a-z_]+\.[a-z_]+(,[a-z_]+\.[a-z_]+)*)$",
        description="Comma-separated events it gets (lead.created, lead.claimed, lead.replied, lead.closed, "
        "client.created, client.updated, client.archived), * for all.",
    )
    webhook_personal_data: bool = Field(
        default=False, description="Whether its bodies carry names, contacts and chat text (off: ids and status)."
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated API keys a CRM or a website form sends (Authorization: Bearer) to "
        "POST /integrations/leads; unset: that endpoint is off.",
    )

    leads_burst: int = Field(
        default=100, ge=1, description="Leads one API key may create at once (a CRM's backlog), then the rate below."
    )
    leads_per_second: float = Field(default=5.0, gt=0, description="The steady rate of leads per API key.")

    @model_validator(mode="after")
    def _url_needs_secret(self) -> Self:
        if (self.webhook_url is None) != (self.webhook_secret is None):
            raise ValueError("SUFLER_CRM_WEBHOOK_URL and SUFLER_CRM_WEBHOOK_SECRET are set together")
        if self.webhook_secret is not None and not WEBHOOK_SECRET.fullmatch(self.webhook_secret.get_secret_value()):
            raise ValueError("SUFLER_CRM_WEBHOOK_SECRET must be whsec_ followed by base64 (24 bytes or more)")
        return self

    def keys(self) -> list[str]:
        given = self.api_keys.get_secret_value() if self.api_keys is not None else ""
        return [key.strip() for key in given.split(",") if key.strip()]


class MetricsSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_METRICS_", extra="ignore", frozen=True)

    token: SecretStr | None = Field(
        default=None,
        description="Bearer token Prometheus sends to GET /metrics (required in production); unset: /metrics "
        "answers loopback only.",
    )


class TracingSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_TRACING_", extra="ignore", frozen=True)

    endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector URL for traces (e.g. http://otel-collector:4318); unset: "
        "OTEL_EXPORTER_OTLP_ENDPOINT if set, else no tracing.",
    )


class LogSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_LOG_", extra="ignore", frozen=True)

    level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$", description="Log level.")
    format: Literal["json", "console"] = Field(default="json", description="json lines or console text.")


class Settings(_Section):
    model_config = SettingsConfigDict(env_prefix="SUFLER_", extra="ignore", frozen=True)

    env: Environment = Field(default=Environment.DEVELOPMENT, description="development | production.")
    data_dir: Path = Field(
        default=Path(".sufler"), description="Folder for the embedded database and generated secrets."
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    pack: PackSettings = Field(default_factory=PackSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    qdrant: QdrantSettings = Field(default_factory=QdrantSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    cockpit: CockpitSettings = Field(default_factory=CockpitSettings)
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    redis_url: str | None = Field(
        default=None,
        pattern=r"^rediss?://",
        description="Redis (redis://host:6379/0) for what backend processes share: the bots' answer cache; unset: "
        "each process keeps its own.",
    )
    bots: BotSettings = Field(default_factory=BotSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    widget: WidgetSettings = Field(default_factory=WidgetSettings)
    graph_api: GraphApiSettings = Field(default_factory=GraphApiSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    messenger: MessengerSettings = Field(default_factory=MessengerSettings)
    instagram: InstagramSettings = Field(default_factory=InstagramSettings)
    crm: CrmSettings = Field(default_factory=CrmSettings)

    @property
    def production(self) -> bool:
        return self.env is Environment.PRODUCTION

    def trusted_origins(self) -> frozenset[str]:
        """Origins whose pages may act with a salesperson's cookie: set, else the embedded default's URLs."""
        if self.cockpit.origins:
            return frozenset(self.cockpit.origins.split(","))
        ports = {self.cockpit.port, self.server.port}
        return frozenset(f"http://{host}:{port}" for host in ("localhost", "127.0.0.1") for port in ports)

    @model_validator(mode="after")
    def _production_secrets(self) -> Self:
        if not self.production:
            return self
        key = self.auth.secret_key
        if key is None or len(key.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SUFLER_AUTH_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} "
                "characters in production (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if self.database.url is None:
            raise ValueError("SUFLER_DATABASE_URL must be set in production (the embedded database is for laptops)")
        if self.data.keys is None:
            raise ValueError(
                "SUFLER_DATA_KEYS must be set in production: contact data is encrypted with it "
                "(e.g. `python -c 'import backend.crypto as c; print(\"k1:\" + c.new_key())'`)"
            )
        if self.metrics.token is None:
            raise ValueError(
                "SUFLER_METRICS_TOKEN must be set in production: Prometheus sends it to GET /metrics "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return self

    def secret_key(self) -> str:
        """The server secret; in development a random one is generated once and kept in the data dir."""
        if self.auth.secret_key is not None:
            return self.auth.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def data_keys(self) -> list[tuple[str, str]]:
        """(id, key) pairs for contact data, the current first; in development generated once into the data dir."""
        if self.data.keys is not None:
            text = self.data.keys.get_secret_value()
        else:
            path = self.data_dir / "data_keys"
            if not path.exists():
                from backend.crypto import new_key

                self.data_dir.mkdir(parents=True, exist_ok=True)
                path.write_text(f"k1:{new_key()}")
                path.chmod(0o600)
            text = path.read_text().strip()
        pairs = [item.strip().split(":", 1) for item in text.split(",") if item.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise SettingsError("SUFLER_DATA_KEYS: each key is id:key, separated by commas.")
        return [(key_id, key) for key_id, key in pairs]

    def data_cipher(self) -> DataCipher:
        """The cipher for contact data: these data keys, and lookup hashes keyed by the server secret."""
        from backend.crypto import DataCipher

        return DataCipher(self.data_keys(), self.secret_key())


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, turning validation errors into one readable message."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"  {where}: {err['msg']}")
        raise SettingsError("Invalid configuration:\n" + "\n".join(lines)) from None
