from backend.domain.health.controllers import health

__all__ = ("health",)
