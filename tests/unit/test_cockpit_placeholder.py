"""The placeholder cockpit is a valid Reflex app (the real one comes with the cockpit issue)."""

from __future__ import annotations

import reflex as rx


def test_cockpit_app_has_its_index_page() -> None:
    from cockpit import cockpit

    assert isinstance(cockpit.app, rx.App)
    assert isinstance(cockpit.index(), rx.Component)
