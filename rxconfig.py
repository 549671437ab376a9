"""Reflex configuration of the cockpit."""

import reflex as rx

config = rx.Config(
    app_name="cockpit",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.SitemapPlugin()],
)
