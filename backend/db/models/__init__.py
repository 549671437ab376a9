"""One table per module; importing this package registers every table on ``Base.metadata``."""

from backend.db.models.audit import AuditEntry
from backend.db.models.auth_tokens import AuthToken
from backend.db.models.bots import BotConversation, BotUpdate, OutboxMessage
from backend.db.models.clients import Client
from backend.db.models.feedback import Feedback
from backend.db.models.interactions import Interaction
from backend.db.models.leads import Lead, LeadStatus
from backend.db.models.llm_calls import LLMCall
from backend.db.models.proposals import KnowledgeProposal
from backend.db.models.sessions import ClientSession
from backend.db.models.users import Role, User
from backend.db.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = (
    "AuditEntry",
    "AuthToken",
    "BotConversation",
    "BotUpdate",
    "Client",
    "ClientSession",
    "Feedback",
    "Interaction",
    "KnowledgeProposal",
    "LLMCall",
    "Lead",
    "LeadStatus",
    "OutboxMessage",
    "Role",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
)
