"""The data tests use the session-wide `built` engine from tests/conftest.py."""
