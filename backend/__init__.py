"""Sufler backend: the Litestar service behind the cockpit and the customer bots."""
