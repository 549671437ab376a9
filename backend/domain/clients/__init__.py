from backend.domain.clients.controllers import ClientController, SessionController
from backend.domain.clients.services import ClientService

__all__ = ("ClientController", "ClientService", "SessionController")
