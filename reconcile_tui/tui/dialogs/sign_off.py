"""Signing a period off: a note saying what was checked, who signs, and, while causes in
the period are open, the explicit choice to accept them (docs/close.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from reconcile_tui.tui.dialogs.acknowledge import os_user

__all__ = ["SignOff", "SignOffDialog"]


@dataclass(frozen=True)
class SignOff:
    """The user's answer: the note, who signs, and whether open causes are accepted."""

    note: str
    by: str | None
    accept_open: bool


class SignOffDialog(ModalScreen[SignOff | None]):
    """Asks for the note (required) and who signs; refuses while causes are open unless
    the box accepting them is ticked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="sign-off.cancel", tooltip="Close unsigned."),
        Binding(
            "ctrl+s",
            "accept",
            "Sign off",
            id="sign-off.accept",
            tooltip="Sign the period off with this note.",
        ),
    ]

    def __init__(self, label: str, open_causes: int, *, user: str | None = None) -> None:
        super().__init__()
        self.label = label
        self.open_causes = open_causes
        self.user = os_user() if user is None else user

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-off-dialog", classes="dialog"):
            open_text = (
                f"{self.open_causes} open cause{'s' if self.open_causes != 1 else ''} in it"
                if self.open_causes
                else "no open cause in it"
            )
            yield Static(
                Content.from_markup("[b]Close $label[/b]\n$open", label=self.label, open=open_text),
                id="sign-off-what",
            )
            yield Label("What was checked?")
            yield Input(placeholder="e.g. matched the bank statement", compact=True, id="so-note")
            yield Label("Signed by")
            yield Input(value=self.user, compact=True, id="so-by")
            if self.open_causes:
                yield Checkbox(
                    f"Accept the {self.open_causes} open"
                    f" cause{'s' if self.open_causes != 1 else ''} and sign anyway",
                    compact=True,
                    id="so-accept-open",
                )
            yield Static(id="so-problem")
            with Horizontal(classes="buttons"):
                yield Button("Sign off", variant="primary", compact=True, id="so-accept")
                yield Button("Cancel", compact=True, id="so-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#so-note").focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "so-note":
            self.query_one("#so-by").focus()
        else:
            self.action_accept()

    def _problem(self, text: str, focus: str) -> None:
        self.query_one("#so-problem", Static).update(
            Content.from_markup("[$text-error]$text[/]", text=text)
        )
        self.query_one(focus).focus()

    @on(Button.Pressed, "#so-accept")
    def action_accept(self) -> None:
        note = self.query_one("#so-note", Input).value.strip()
        if not note:
            self._problem("A note is required: say what was checked.", "#so-note")
            return
        accept_open = bool(self.open_causes) and self.query_one("#so-accept-open", Checkbox).value
        if self.open_causes and not accept_open:
            self._problem(
                "Causes in this period are open: acknowledge them, or tick the box to accept.",
                "#so-accept-open",
            )
            return
        by = self.query_one("#so-by", Input).value.strip() or None
        self.dismiss(SignOff(note, by, accept_open))

    @on(Button.Pressed, "#so-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
