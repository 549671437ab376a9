"""The cockpit app: ``rx.App`` and its pages only. A placeholder page until the cockpit issue lands."""

import reflex as rx


def index() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Sufler", size="8"),
            rx.text("The cockpit is being built. The backend is running; see /health and /schema/swagger."),
            spacing="3",
        ),
        min_height="100vh",
    )


app = rx.App()
app.add_page(index, title="Sufler")
