"""The cockpit app: one screen, mobile-first.

Layout: `pages/` (login, live, review) are built from `components/`; `state/` holds the Reflex states, which
apply the pure `view_models/` to server events; `api.py` is the link to the backend, `texts.py` every UI word.
"""

from __future__ import annotations

import reflex as rx

from backend.http_headers import with_security_headers
from cockpit.components.page import page_extras
from cockpit.pages.live import cockpit_page
from cockpit.pages.login import login_page
from cockpit.state.live import CockpitState as S


def index() -> rx.Component:
    return rx.fragment(rx.cond(S.logged_in, cockpit_page(), login_page()), page_extras())


app = rx.App(api_transformer=with_security_headers)  # page, assets and state socket all pass through it
app.add_page(index, title="Sufler", on_load=S.on_load)
