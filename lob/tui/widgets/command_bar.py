"""The command line at the foot of every screen, and the answer to the last command.

The user types ``buy 100 AAPL 187.25 ioc``, ``sell 50 MSFT mkt``, ``cancel T3``
or ``replace T3 187.30``; the app runs it and shows the exchange's answer (or
the error with its stable code) on the line above, in place.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

__all__ = ["CommandBar"]

PLACEHOLDER = ": buy 100 AAPL 187.25 ioc | sell 50 MSFT mkt | cancel T1 | replace T1 187.30 200"


class CommandBar(Vertical):
    """An input line and a one-line answer (see the module docstring)."""

    BINDINGS = [("escape", "leave", "Leave command line")]  # noqa: RUF012

    class Submitted(Message):
        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    def compose(self) -> ComposeResult:
        yield Static("", id="answer")
        yield Input(placeholder=PLACEHOLDER, id="command")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value.strip()
        if line:
            event.input.value = ""
            self.post_message(self.Submitted(line))

    def show(self, ok: bool, message: str) -> None:
        """Show the answer to the last command: green when accepted, red with the code if not."""
        self.query_one("#answer", Static).update(
            Text(("✔ " if ok else "✘ ") + message, style="green" if ok else "bold red")
        )

    def action_leave(self) -> None:
        focus_body = getattr(self.screen, "focus_body", None)
        if focus_body is not None:
            focus_body()

    def focus_input(self) -> None:
        self.query_one("#command", Input).focus()
