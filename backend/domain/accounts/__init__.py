from backend.domain.accounts.auth import AuthMiddleware
from backend.domain.accounts.controllers import AuthController, UserController
from backend.domain.accounts.services import AccountService

__all__ = ("AccountService", "AuthController", "AuthMiddleware", "UserController")
