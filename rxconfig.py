"""Reflex configuration of the cockpit."""

import os

import reflex as rx

config = rx.Config(
    app_name="cockpit",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="large")),
    ],
    frontend_port=int(os.environ.get("SUFLER_COCKPIT_PORT", "3000")),
    backend_port=int(os.environ.get("SUFLER_COCKPIT_PORT", "3000")),
)
