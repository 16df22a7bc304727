"""The order ticket and the replace dialog: modal forms with a confirmation step.

The ticket collects side, type (limit/market), quantity, price, time in force
and post-only. ``Review`` (or Enter) checks the fields and shows the order in
words; ``Confirm`` (or Enter again) sends it. Anything the exchange refuses is
shown in place, with its stable code (``invalid_price: ...``), and the ticket
stays open so the user can fix the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from lob.engine.prices import PriceError, format_price, parse_price
from lob.engine.types import OrderType, Side, TimeInForce
from lob.tui.source import OrderRequest

if TYPE_CHECKING:
    from lob.tui.app import WorkstationApp

__all__ = ["OrderTicket", "ReplaceDialog", "TicketError"]


class TicketError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parse_qty(text: str) -> int:
    text = text.strip().replace(",", "")
    if not text.isdigit() or int(text) <= 0:
        raise TicketError("invalid_quantity", f"quantity must be a positive integer: {text!r}")
    return int(text)


def _parse_price(text: str) -> int:
    try:
        price = parse_price(text.strip().lstrip("$"))
    except PriceError as exc:
        raise TicketError("invalid_price", str(exc)) from None
    if price <= 0:
        raise TicketError("invalid_price", "price must be positive")
    return price


def describe(request: OrderRequest) -> str:
    """An order in words, as the confirmation step shows it."""
    where = "at market" if request.price is None else f"@ {format_price(request.price)}"
    extra = " post-only" if request.post_only else ""
    return (
        f"{request.side.upper()} {request.qty:,} {request.symbol} {where} "
        f"{request.order_type.value} {request.tif.value.upper()}{extra}"
    )


class OrderTicket(ModalScreen[None]):
    """A new order (see the module docstring)."""

    BINDINGS = [Binding("escape", "back", "Back")]  # noqa: RUF012

    def __init__(self, symbol: str, side: Side = Side.BUY, price: int | None = None) -> None:
        super().__init__(id="ticket")
        self.symbol = symbol
        self.side = side
        self.price = price
        self.pending: OrderRequest | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="ticket-box"):
            yield Label(Text(f"Order ticket  {self.symbol}", style="bold"), id="ticket-title")
            with Horizontal(classes="field"):
                yield Label("Side", classes="label")
                yield Select(
                    [("Buy", "buy"), ("Sell", "sell")],
                    value=self.side.value,
                    allow_blank=False,
                    id="side",
                )
            with Horizontal(classes="field"):
                yield Label("Type", classes="label")
                yield Select(
                    [("Limit", "limit"), ("Market", "market")],
                    value="limit",
                    allow_blank=False,
                    id="type",
                )
            with Horizontal(classes="field"):
                yield Label("Quantity", classes="label")
                yield Input("100", id="qty")
            with Horizontal(classes="field"):
                yield Label("Price", classes="label")
                yield Input(format_price(self.price) if self.price else "", id="price")
            with Horizontal(classes="field"):
                yield Label("Time in force", classes="label")
                yield Select(
                    [(t.value.upper(), t.value) for t in TimeInForce],
                    value="day",
                    allow_blank=False,
                    id="tif",
                )
            with Horizontal(classes="field"):
                yield Label("", classes="label")
                yield Checkbox("Post-only", id="post-only")
            yield Static("", id="ticket-review")
            yield Static("", id="ticket-error")
            with Horizontal(id="ticket-buttons"):
                yield Button("Review", id="review", variant="primary")
                yield Button("Confirm", id="confirm", variant="success", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#qty", Input).focus()

    def build(self) -> OrderRequest:
        """The request the form describes, or ``TicketError``."""
        side = Side(cast(str, self.query_one("#side", Select).value))
        order_type = OrderType(cast(str, self.query_one("#type", Select).value))
        qty = _parse_qty(self.query_one("#qty", Input).value)
        price_text = self.query_one("#price", Input).value
        price = None
        if order_type is OrderType.LIMIT:
            if not price_text.strip():
                raise TicketError("missing_field", "a limit order needs a price")
            price = _parse_price(price_text)
        tif = TimeInForce(cast(str, self.query_one("#tif", Select).value))
        post_only = self.query_one("#post-only", Checkbox).value
        return OrderRequest(self.symbol, side, qty, price, order_type, tif, post_only)

    def show_error(self, code: str, message: str) -> None:
        self.query_one("#ticket-error", Static).update(
            Text(f"✘ {code}: {message}", style="bold red")
        )

    def review(self) -> None:
        try:
            self.pending = self.build()
        except TicketError as exc:
            self.pending = None
            self.show_error(exc.code, exc.message)
            return
        self.query_one("#ticket-error", Static).update("")
        self.query_one("#ticket-review", Static).update(
            Text(f"Send {describe(self.pending)}?  Enter or Confirm to send.", style="bold")
        )
        confirm = self.query_one("#confirm", Button)
        confirm.disabled = False
        confirm.focus()

    async def confirm(self) -> None:
        if self.pending is None:
            self.review()
            return
        request, self.pending = self.pending, None
        self.query_one("#confirm", Button).disabled = True
        self.query_one("#ticket-review", Static).update("")
        app = cast("WorkstationApp", self.app)
        result = await app.source.submit(request)
        if result.ok:
            app.notify(f"{result.id}: {describe(request)}", title="Order sent")
            self.dismiss(None)
        else:
            self.show_error(result.code or "error", result.message)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.review()

    def on_input_changed(self) -> None:
        self.pending = None
        self.query_one("#confirm", Button).disabled = True
        self.query_one("#ticket-review", Static).update("")

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "review":
            self.review()
        elif event.button.id == "confirm":
            await self.confirm()
        else:
            self.dismiss(None)

    def action_back(self) -> None:
        if self.pending is not None:
            self.pending = None
            self.query_one("#confirm", Button).disabled = True
            self.query_one("#ticket-review", Static).update("")
            self.query_one("#qty", Input).focus()
        else:
            self.dismiss(None)


class ReplaceDialog(ModalScreen[None]):
    """New price and/or quantity for one working order."""

    BINDINGS = [Binding("escape", "dismiss_dialog", "Back")]  # noqa: RUF012

    def __init__(self, id: str, symbol: str, price: int | None, qty: int) -> None:
        super().__init__(id="replace")
        self.order_id = id
        self.symbol = symbol
        self.price = price
        self.qty = qty

    def compose(self) -> ComposeResult:
        with Vertical(id="ticket-box"):
            yield Label(
                Text(f"Replace {self.order_id}  {self.symbol}", style="bold"), id="ticket-title"
            )
            with Horizontal(classes="field"):
                yield Label("Price", classes="label")
                yield Input(format_price(self.price) if self.price else "", id="price")
            with Horizontal(classes="field"):
                yield Label("Quantity", classes="label")
                yield Input(str(self.qty), id="qty")
            yield Static("", id="ticket-error")
            with Horizontal(id="ticket-buttons"):
                yield Button("Replace", id="confirm", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#price", Input).focus()

    async def send(self) -> None:
        try:
            price = _parse_price(self.query_one("#price", Input).value)
            qty = _parse_qty(self.query_one("#qty", Input).value)
        except TicketError as exc:
            self.query_one("#ticket-error", Static).update(
                Text(f"✘ {exc.code}: {exc.message}", style="bold red")
            )
            return
        app = cast("WorkstationApp", self.app)
        result = await app.source.replace(
            self.order_id, None if price == self.price else price, None if qty == self.qty else qty
        )
        if result.ok:
            app.notify(f"{self.order_id} replaced", title="Replace")
            self.dismiss(None)
        else:
            self.query_one("#ticket-error", Static).update(
                Text(f"✘ {result.code}: {result.message}", style="bold red")
            )

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.send()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            await self.send()
        else:
            self.dismiss(None)

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)
