"""How every screen looks at 80x24 and at 120x40, on the scenario at a fixed clock.

Update after a deliberate change with `make snapshot-update`, then look at every changed
SVG before committing it.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.conftest import WALLET_A, WALLET_B
from tests.tui.conftest import settle

EXPORTS = Path(__file__).parent.parent / "data" / "exports"

Steps = Callable[[Pilot[Any]], Awaitable[None]]


async def steady(pilot: Pilot[Any]) -> None:
    """Settled, with text cursors that do not blink (a blink would differ run to run)."""
    await settle(pilot)
    for screen in pilot.app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False
    await pilot.pause()


def keys(*pressed: str) -> Steps:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
        await steady(pilot)

    return run


def wallet(code: str, wallet_id: str, *pressed: str) -> Steps:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.open_wallet(code, wallet_id)  # type: ignore[attr-defined]
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
        await steady(pilot)

    return run


BAD_CSV = (
    "reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash\n"
    f"B-1,2025-01-14T10:00:00Z,USDTERC20,{WALLET_A},deposit,10,0,confirmed,0x1\n"
    f"B-2,not-a-date,USDTERC20,{WALLET_A},deposit,10,0,confirmed,0x2\n"
    f"B-3,2025-01-14T11:00:00Z,USDTERC20,{WALLET_A},deposit,1.1234567,0,confirmed,0x3\n"
)


class _Screens:
    """Every screen; subclasses fix the terminal size."""

    SIZE: ClassVar[tuple[int, int]]

    @pytest.fixture(autouse=True)
    def _same_everywhere(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        # The acknowledging user defaults to the OS user; files are typed relative.
        monkeypatch.setenv("LOGNAME", "auditor")
        (tmp_path / "bad.csv").write_text(BAD_CSV)
        monkeypatch.chdir(tmp_path)

    def _compare(self, snap_compare: Any, app: Any, steps: Steps) -> None:
        assert snap_compare(app, terminal_size=self.SIZE, run_before=steps)

    def test_overview(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), steady)

    def test_overview_empty(self, snap_compare, make_app, tmp_path):
        self._compare(snap_compare, make_app(db_path=tmp_path / "new.db"), steady)

    def test_overview_demo(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(demo_note="sandbox seed 7"), steady)

    def test_currency_wallets(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("enter"))

    def test_currency_history(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("enter", "h"))

    def test_currency_chart(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("enter", "c"))

    def test_currency_volume(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("enter", "v"))

    def test_wallet_pending_items(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), wallet("USDTERC20", WALLET_A))

    def test_wallet_repeated_references(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), wallet("USDTERC20", WALLET_B, "v", "v", "v"))

    def test_discrepancies(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("d"))

    def test_discrepancies_behind_the_causes(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("d", "t"))

    def test_cause(self, snap_compare, make_app):
        # The repeated reference D-7: its record on the left, no gateway transaction.
        self._compare(snap_compare, make_app(), keys("d", "down", "down", "enter"))

    def test_acknowledge_dialog(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("d", "down", "down", "down", "a"))

    def test_import_preview(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("i", *"bad.csv", "enter"))

    def test_import_rejected_rows(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("i", *"bad.csv", "ctrl+s"))

    def test_mapping_draft_dialog(self, snap_compare, make_app, tmp_path):
        shutil.copy(EXPORTS / "paypal-activity.csv", tmp_path / "paypal.csv")
        self._compare(snap_compare, make_app(), keys("i", *"paypal.csv", "ctrl+t"))

    def test_export_dialog(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("e"))

    def test_help(self, snap_compare, make_app):
        self._compare(snap_compare, make_app(), keys("question_mark"))


class TestScreensAt80x24(_Screens):
    SIZE = (80, 24)


class TestScreensAt120x40(_Screens):
    SIZE = (120, 40)
