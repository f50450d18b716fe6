"""Acknowledging one discrepancy: a note saying why the difference is accepted, and by whom;
and withdrawing an acknowledgement, with what it withdraws shown first (docs/tui.md)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from reconcile_tui.report.visible import visible
from reconcile_tui.tui.cells import amount_text, kind_words, short_time

if TYPE_CHECKING:
    from reconcile_tui.store.acks import Acknowledgement as Held

__all__ = ["AcknowledgeDialog", "Acknowledgement", "WithdrawDialog", "os_user"]


def os_user() -> str:
    """Who is at the keyboard, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


@dataclass(frozen=True)
class Acknowledgement:
    """The user's answer: which discrepancy, why, and who accepts it."""

    discrepancy_id: str
    note: str
    by: str | None


class AcknowledgeDialog(ModalScreen[Acknowledgement | None]):
    """Asks for the note (required) and who accepts (defaults to the OS user)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="acknowledge.cancel",
            tooltip="Close without acknowledging.",
        ),
        Binding(
            "ctrl+s",
            "accept",
            "Acknowledge",
            id="acknowledge.accept",
            tooltip="Acknowledge with this note.",
        ),
    ]

    #: What the dialog says, and the button that does it.
    VERB = "Acknowledge"
    VARIANT: Literal["primary", "error"] = "primary"
    BEFORE = "Before"
    ASK = "Why is this difference accepted?"
    EXAMPLE = "e.g. fee schedule changed mid-month"
    WHO = "Accepted by"

    def __init__(
        self, finding: dict[str, Any], *, user: str | None = None, previous: Held | None = None
    ) -> None:
        super().__init__()
        self.finding = finding
        self.previous = previous
        self.user = os_user() if user is None else user

    def compose(self) -> ComposeResult:
        finding = self.finding
        # A cause accepts its amount, a discrepancy its difference (docs/causes.md).
        is_cause = "explains" in finding
        accepted = finding["amount"] if is_cause else finding["difference"]
        word = "amount" if is_cause else "difference"
        difference = f"{word} {amount_text(accepted)}" if accepted is not None else "no amount"
        if is_cause:
            count = len(finding["explains"])
            difference += f" · covers {count} discrepanc{'ies' if count != 1 else 'y'}"
        previous = self.previous
        with Vertical(id="acknowledge-dialog", classes="dialog"):
            yield Static(
                Content.from_markup(
                    "[b]$title[/b]\n$kind · $currency · $difference\n$message",
                    title=self.title_text(),
                    kind=kind_words(finding["kind"]),
                    currency=finding["currency"] or "summary",
                    difference=difference,
                    message=visible(finding["message"]),
                ),
                id="acknowledge-what",
            )
            if previous is not None:
                yield Static(
                    Content.from_markup(
                        "[$text-muted]$before: “$note” by $by at $at[/]",
                        before=self.BEFORE,
                        note=visible(previous.note),
                        by=visible(previous.acknowledged_by),
                        at=short_time(previous.acknowledged_at),
                    ),
                    id="ack-previous",
                )
            yield Label(self.ASK)
            yield Input(
                value=self.note_at_start(),
                placeholder=self.EXAMPLE,
                compact=True,
                id="ack-note",
            )
            yield Label(self.WHO)
            yield Input(value=self.user, compact=True, id="ack-by")
            yield Static(id="ack-problem")
            with Horizontal(classes="buttons"):
                yield Button(self.VERB, variant=self.VARIANT, compact=True, id="ack-accept")
                yield Button("Cancel", compact=True, id="ack-cancel")
        yield Footer()

    def title_text(self) -> str:
        return "Acknowledge again (replaces the note)" if self.previous else "Acknowledge"

    def note_at_start(self) -> str:
        return visible(self.previous.note) if self.previous is not None else ""

    def on_mount(self) -> None:
        self.query_one("#ack-note").focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "ack-note":
            self.query_one("#ack-by").focus()
        else:
            self.action_accept()

    @on(Input.Changed, "#ack-note")
    def _note_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self.query_one("#ack-problem", Static).update("")  # said before the note was

    @on(Button.Pressed, "#ack-accept")
    def action_accept(self) -> None:
        note = self.query_one("#ack-note", Input).value.strip()
        if not note:
            self.query_one("#ack-problem", Static).update(
                Content.from_markup("[$text-error]A note is required: say why it is accepted.[/]")
            )
            self.query_one("#ack-note").focus()
            return
        by = self.query_one("#ack-by", Input).value.strip() or None
        self.dismiss(Acknowledgement(self.finding["id"], note, by))

    @on(Button.Pressed, "#ack-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class WithdrawDialog(AcknowledgeDialog):
    """Withdraws the acknowledgement in force (`previous`, shown first): a `w` pressed by
    mistake used to undo someone's acknowledgement at once, with no note. The note is
    optional here, as for `ack --withdraw` (the trail says "withdrawn" without one)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="withdraw.cancel",
            tooltip="Close and keep the acknowledgement.",
        ),
        Binding(
            "ctrl+s",
            "accept",
            "Withdraw",
            id="withdraw.accept",
            tooltip="Withdraw the acknowledgement: it counts as open again.",
        ),
    ]

    VERB = "Withdraw"
    VARIANT = "error"
    BEFORE = "In force"
    ASK = "Why is it withdrawn? (optional)"
    EXAMPLE = "e.g. the refund never arrived"
    WHO = "Withdrawn by"

    def title_text(self) -> str:
        return "Withdraw the acknowledgement (it counts as open again)"

    def note_at_start(self) -> str:
        return ""

    def action_accept(self) -> None:
        note = self.query_one("#ack-note", Input).value.strip()
        by = self.query_one("#ack-by", Input).value.strip() or None
        self.dismiss(Acknowledgement(self.finding["id"], note, by))
