"""Database: SQLAlchemy models, engine and session factory, alembic migrations, embedded server."""

from backend.db._base import Base
from backend.db._engine import Database, asyncpg_dsn

__all__ = ("Base", "Database", "asyncpg_dsn")
