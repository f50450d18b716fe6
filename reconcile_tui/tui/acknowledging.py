"""Acknowledging and withdrawing, shared by the screens that show causes and discrepancies.

A screen mixes `Acknowledging` in and says which item is highlighted (`acknowledgeable`).
`a` reads the acknowledgement in force first, so the dialog shows the old note, who and
when; `w` shows the item's own acknowledgement and asks before withdrawing it
(docs/tui.md, "Acknowledging").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from reconcile_tui.report.visible import visible
from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.cells import kind_words, short_time
from reconcile_tui.tui.dialogs.acknowledge import (
    AcknowledgeDialog,
    Acknowledgement,
    WithdrawDialog,
)

if TYPE_CHECKING:
    from reconcile_tui.store.acks import Acknowledgement as Held

__all__ = ["Acknowledging", "acknowledge_bindings", "held_text"]

Item = dict[str, Any]


def held_text(held: Held | None) -> str:
    """`acknowledged by ana at 2025-01-15 09:58Z: "fee schedule changed"`, or ''."""
    if held is None:
        return ""
    # Who and why are a person's own text: a control character in them would drive the
    # terminal (docs/report.md, "Control characters").
    return (
        f"acknowledged by {visible(held.acknowledged_by)} at"
        f" {short_time(held.acknowledged_at)}: “{visible(held.note)}”"
    )


def acknowledge_bindings(screen: str, *, acknowledge: str, withdraw: str) -> list[Binding]:
    """`a` and `w` for a screen that mixes `Acknowledging` in, with its own tooltips."""
    return [
        Binding("a", "acknowledge", "Acknowledge", id=f"{screen}.acknowledge", tooltip=acknowledge),
        Binding("w", "withdraw", "Withdraw ack", id=f"{screen}.withdraw", tooltip=withdraw),
    ]


def _what(item: Item) -> str:
    kind = "cause" if "explains" in item else "discrepancy"
    return f"{kind_words(item['kind'])} {item['currency'] or 'summary'} ({kind} {item['id'][:8]})"


class Acknowledging:
    """`action_acknowledge` and `action_withdraw` for a screen (mixed into a Screen)."""

    def acknowledgeable(self) -> Item | None:
        """The highlighted cause or discrepancy, if any."""
        raise NotImplementedError

    def action_acknowledge(self) -> None:
        item = self.acknowledgeable()
        if item is None:
            return
        app: Any = self.app  # type: ignore[attr-defined]

        def read() -> None:
            with access_of(app).open() as workspace:
                held = workspace.acknowledgement_of(item["id"])
            app.call_from_thread(
                app.push_screen, AcknowledgeDialog(item, previous=held), self._answered
            )

        self.run_worker(read, thread=True, exit_on_error=False, group="acknowledge")  # type: ignore[attr-defined]

    def _answered(self, answer: Acknowledgement | None) -> None:
        if answer is None:
            return
        app: Any = self.app  # type: ignore[attr-defined]

        def write() -> None:
            with access_of(app).open() as workspace:
                found = workspace.acknowledge(answer.discrepancy_id, answer.note, by=answer.by)
            app.call_from_thread(
                self._done,
                f"Acknowledged {_what(found)}: it no longer counts as open.",
                "Acknowledged",
            )

        self.run_worker(write, thread=True, exit_on_error=False, group="acknowledge")  # type: ignore[attr-defined]

    def action_withdraw(self) -> None:
        item = self.acknowledgeable()
        if item is None:
            return
        app: Any = self.app  # type: ignore[attr-defined]

        def read() -> None:
            with access_of(app).open() as workspace:
                held = workspace.acknowledgement_of(item["id"])
            if held is None:
                app.call_from_thread(
                    app.notify,
                    f"{_what(item)} has no acknowledgement of its own to withdraw.",
                    title="Nothing to withdraw",
                    severity="warning",
                    markup=False,
                )
                return
            app.call_from_thread(
                app.push_screen, WithdrawDialog(item, previous=held), self._withdrawn
            )

        self.run_worker(read, thread=True, exit_on_error=False, group="acknowledge")  # type: ignore[attr-defined]

    def _withdrawn(self, answer: Acknowledgement | None) -> None:
        if answer is None:
            return
        app: Any = self.app  # type: ignore[attr-defined]

        def write() -> None:
            with access_of(app).open() as workspace:
                found = workspace.withdraw_acknowledgement(
                    answer.discrepancy_id, answer.note, by=answer.by
                )
            state = "still acknowledged" if found["acknowledged"] else "open again"
            app.call_from_thread(
                self._done, f"Withdrew the acknowledgement of {_what(found)}: {state}.", "Withdrawn"
            )

        self.run_worker(write, thread=True, exit_on_error=False, group="acknowledge")  # type: ignore[attr-defined]

    def _done(self, message: str, title: str) -> None:
        self.app.notify(  # type: ignore[attr-defined]
            message, title=title, markup=False
        )
        self.app.data_changed()  # type: ignore[attr-defined]
