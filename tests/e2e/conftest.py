"""The browser tests drive the same backend fixture as the socket tests."""

from tests.socket.conftest import start_backend

__all__ = ("start_backend",)
