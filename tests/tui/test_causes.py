"""The app counts and shows causes (docs/tui.md, "Causes"): on the demo's sample scenario,
fetched from the built-in sandbox with its gateway transactions, so every planted mistake
is one cause with its record and its gateway transaction."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.widgets import DataTable

from reconcile_tui.config import Settings
from reconcile_tui.sandbox import SandboxConfig, generate_scenario
from reconcile_tui.store import acks
from reconcile_tui.tui.app import ReconcileApp, build_app
from reconcile_tui.tui.cells import end_cut, middle_cut
from reconcile_tui.tui.dialogs.acknowledge import AcknowledgeDialog, WithdrawDialog
from reconcile_tui.tui.launch import SAMPLE, prepare_demo
from reconcile_tui.tui.screens.cause import CauseScreen
from reconcile_tui.tui.screens.currency import CurrencyScreen
from reconcile_tui.tui.screens.discrepancies import DiscrepanciesScreen
from reconcile_tui.tui.screens.wallet import WalletScreen
from reconcile_tui.tui.widgets.fitted_table import room_of
from reconcile_tui.tui.widgets.paged_table import PagedTable
from reconcile_tui.workspace import Workspace
from tests.tui.conftest import Notifications, settle, shown_text

SIZE = (120, 40)
#: The sample scenario's wrong-wallet deposit: booked to one DAI wallet, at the gateway in another.
WRONG_WALLET = "ORD-000020"
#: A pending deposit the gateway completed: the reference behind a balance gap.
STATUS_LAG = "ORD-000303"


@pytest.fixture
def demo(tmp_path: Path, sandbox_factory: Any, db_path: Path | str) -> Settings:
    """The demo's database, on each store: sample records, the sandbox's balances, history
    and transactions."""
    config = SandboxConfig(seed=SAMPLE["seed"], records=SAMPLE["records"])
    generate_scenario(tmp_path / "scenario", config, discrepancies=SAMPLE["discrepancies"])
    sandbox = sandbox_factory(config)
    return prepare_demo(tmp_path, sandbox.url, sandbox.token, db_path)


def app_on(settings: Settings) -> ReconcileApp:
    app = build_app(settings, db_path=settings.db_path, offline=True)
    app.animation_level = "none"
    return app


def open_causes(settings: Settings) -> tuple[int, int]:
    """(errors, warnings) of open causes, as `check` counts them."""
    with Workspace(settings) as workspace:
        causes = workspace.latest_document()["summary"]["causes"]
    return causes["errors"], causes["warnings"]


async def test_the_overview_count_loses_no_letter_at_any_width(demo: Settings):
    """The status line wraps at the terminal's width; wherever the wrap falls, even at the
    very edge of the padded line, every letter of the count is on screen."""
    errors, warnings = open_causes(demo)
    count = f"{errors + warnings} open causes: ✖ {errors} errors ▲ {warnings} warnings"
    app = app_on(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = app.screen.query_one("#run-status")
        for width in range(60, 171):
            await pilot.resize_terminal(width, 40)
            await pilot.pause()
            assert count in shown_text(status), f"at {width} columns"


def row_of(table: PagedTable[Any], kind: str, reference: str) -> int:
    return next(
        i
        for i, row in enumerate(table.page_rows)
        if row["kind"] == kind and reference in row["references"]
    )


async def test_every_screen_counts_the_open_causes_check_prints(demo: Settings):
    errors, warnings = open_causes(demo)
    assert errors + warnings < 20  # causes, not the dozens of discrepancies they explain
    app = app_on(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = shown_text(app.screen.query_one("#run-status"))
        assert f"{errors + warnings} open causes: ✖ {errors} errors ▲ {warnings} warnings" in status
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiscrepanciesScreen)
        assert screen.query_one("#findings", PagedTable).total_rows == errors + warnings
        assert f"{errors + warnings} open causes" in shown_text(
            screen.query_one("#findings-counts")
        )
        await pilot.press("escape")
        await settle(pilot)
        app.open_currency("DAIERC20")
        await settle(pilot)
        assert isinstance(app.screen, CurrencyScreen)
        view = app.screen.view
        assert view is not None
        # The wrong wallet is one cause of the currency, and a cause of both its wallets:
        # the one it was booked to and the one the gateway has it in, whose gap it
        # explains too (that one used to say "clean" with its gap open).
        assert (view.open_counts.errors, view.open_counts.warnings) == (1, 0)
        assert len(view.open_by_wallet) == 2
        for counts in view.open_by_wallet.values():
            assert (counts.errors, counts.warnings) == (1, 0)


async def test_the_count_does_not_change_with_the_interval(demo: Settings):
    before = open_causes(demo)

    def hourly() -> None:
        with Workspace(demo) as workspace:
            fetched = workspace.fetch(interval="hourly", refresh=True)
            workspace.check(fetched.snapshot_id, fetched.snapshot)
            assert workspace.latest_run().header["api"]["interval"] == "hourly"

    await asyncio.to_thread(hourly)  # the client runs its own event loop
    assert open_causes(demo) == before
    app = app_on(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = shown_text(app.screen.query_one("#run-status"))
        assert f"{sum(before)} open causes" in status


async def open_cause(
    pilot: Any, choose: Callable[[PagedTable[Any]], int]
) -> tuple[dict[str, Any], CauseScreen]:
    """From the overview to Causes (`d`), then Enter on the row `choose` picks: that
    cause's row, and the screen it opens."""
    await settle(pilot)
    await pilot.press("d")
    await settle(pilot)
    causes = pilot.app.screen.query_one("#findings", PagedTable)
    causes.move_cursor(row=choose(causes))
    cause = causes.current_row
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CauseScreen)
    return cause, screen


async def test_from_the_overview_to_a_cause_its_record_and_its_transaction(demo: Settings):
    app = app_on(demo)
    async with app.run_test(size=SIZE) as pilot:
        cause, screen = await open_cause(
            pilot, lambda causes: row_of(causes, "wrong_wallet", WRONG_WALLET)
        )
        record = shown_text(screen.query_one("#cause-record"))
        gateway = shown_text(screen.query_one("#cause-transaction"))
        assert WRONG_WALLET in record
        assert "merchant.csv:" in record  # where the record came from
        assert cause["gateway_ids"][0] in gateway
        assert "payment" in gateway
        explains = screen.query_one("#cause-explains", PagedTable)
        assert explains.total_rows == len(cause["explains"]) == 2
        assert {row["id"] for row in explains.page_rows} == set(cause["explains"])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_each_side_of_a_cause_shows_where_the_record_is_from_and_its_hash_at_any_width(
    demo: Settings, size: tuple[int, int]
):
    # At 80x24 the record's source and hash fell below the side's height: the 66-character
    # hash wrapped onto two lines, and a long path onto three.
    app = app_on(demo)
    async with app.run_test(size=size) as pilot:
        cause, screen = await open_cause(
            pilot, lambda causes: [row["kind"] for row in causes.page_rows].index("status_differs")
        )
        (reference,) = cause["references"]
        with Workspace(demo) as workspace:
            record = workspace.record_by_reference(reference)
            (tx,) = workspace.gateway_transactions(cause["gateway_ids"])
        assert record is not None
        assert record.tx_hash
        assert tx["transaction_hash"]
        for side, tx_hash in (("#cause-record", record.tx_hash),
                              ("#cause-transaction", tx["transaction_hash"])):  # fmt: skip
            widget = screen.query_one(side)
            lines = widget.render_lines(Region(0, 0, widget.outer_size.width,
                                               widget.outer_size.height))  # fmt: skip
            shown = [" ".join(strip.text.split()) for strip in lines]
            (tx_line,) = [line for line in shown if line.startswith("tx ")]
            head, _, tail = tx_line.removeprefix("tx ").partition("…")
            assert tx_hash.startswith(head)
            assert tx_hash.endswith(tail)
            assert len(head) >= 10
            assert len(tail) >= 10
        source = f"merchant.csv:{record.line}"
        assert any(line.startswith("from ") and line.endswith(source) for line in
                   (" ".join(s.text.split()) for s in screen.query_one("#cause-record")
                    .render_lines(Region(0, 0, 200, 20))))  # fmt: skip


def test_a_cut_keeps_both_ends_of_a_hash_and_the_end_of_a_path():
    tx_hash = "0x" + "ab" * 32
    assert middle_cut(tx_hash, 66) == tx_hash
    cut = middle_cut(tx_hash, 21)
    assert len(cut) == 21
    assert cut == tx_hash[:10] + "…" + tx_hash[-10:]
    assert end_cut("/tmp/demo/scenario/merchant.csv:305", 20) == "…io/merchant.csv:305"
    assert end_cut("merchant.csv:3", 20) == "merchant.csv:3"


async def test_a_wrong_wallet_says_which_wallet_each_gap_it_explains_is_in(demo: Settings):
    """Its two gaps are of opposite amounts in two wallets: at 80 columns as at 120, the
    table names each one's wallet beside its whole amount."""
    for size in ((80, 24), SIZE):
        app = app_on(demo)
        async with app.run_test(size=size) as pilot:
            _, screen = await open_cause(
                pilot, lambda causes: row_of(causes, "wrong_wallet", WRONG_WALLET)
            )
            explains = screen.query_one("#cause-explains", PagedTable)
            shown = [
                [cell.plain.strip() for cell in explains.get_row_at(index)]
                for index in range(explains.row_count)
            ]
            wallets = {str(row["wallet_id"])[:8] for row in explains.page_rows}
            assert len(wallets) == 2
            assert {row[2] for row in shown} == wallets, shown
            assert {row[3] for row in shown} == {"34.940000", "-34.940000"}, shown


async def test_a_cause_with_one_side_says_which_side_has_nothing(demo: Settings):
    app = app_on(demo)
    async with app.run_test(size=SIZE) as pilot:
        cause, screen = await open_cause(
            pilot,
            lambda causes: [row["kind"] for row in causes.page_rows].index("missing_at_gateway"),
        )
        assert cause["references"][0] in shown_text(screen.query_one("#cause-record"))
        gateway = shown_text(screen.query_one("#cause-transaction"))
        assert "The gateway lists no such transaction." in gateway


async def test_acknowledging_a_cause_closes_its_echoes_and_withdrawing_opens_them(
    demo: Settings, notifications: Notifications
):
    errors, warnings = open_causes(demo)
    app = app_on(demo)
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        causes = app.screen.query_one("#findings", PagedTable)
        # The DAI wallets' gaps have this one cause: acknowledging it closes both.
        causes.move_cursor(row=row_of(causes, "wrong_wallet", WRONG_WALLET))
        cause_id = causes.current_row["id"]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CauseScreen)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AcknowledgeDialog)
        await pilot.press(*"settled late", "enter", "enter")
        await settle(pilot)
        assert app.screen is screen
        explains = screen.query_one("#cause-explains", PagedTable)
        assert explains.total_rows == 2
        assert all(row["acknowledged"] for row in explains.page_rows)  # its echoes close
        summary = shown_text(screen.query_one("#cause-summary"))
        assert "acknowledged by" in summary
        assert "settled late" in summary
        assert open_causes(demo) == (errors - 1, warnings)

        # Again: the dialog shows the note in force.
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, AcknowledgeDialog)
        assert "settled late" in shown_text(dialog.query_one("#ack-previous"))
        await pilot.press("escape")
        await settle(pilot)

        # `w` shows what it withdraws and asks first: escape keeps it.
        await pilot.press("w")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, WithdrawDialog)
        assert "settled late" in shown_text(dialog.query_one("#ack-previous"))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert all(row["acknowledged"] for row in explains.page_rows)
        assert open_causes(demo) == (errors - 1, warnings)

        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, WithdrawDialog)
        await pilot.press(*"not settled", "enter", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert not any(row["acknowledged"] for row in explains.page_rows)
        assert open_causes(demo) == (errors, warnings)

        # Nothing to withdraw now: `w` asks nothing and changes nothing.
        await pilot.press("w")
        await settle(pilot)
        assert app.screen is screen
        assert len(notifications.seen) == 2  # acknowledged, withdrawn
        await pilot.press("escape")
        await settle(pilot)
        status = shown_text(app.screen.query_one("#findings-counts"))
        assert f"{errors + warnings} open causes" in status
    with Workspace(demo) as workspace:
        history = acks.history_of(workspace.store, cause_id)
    assert [row.note for row in history] == ["settled late", "not settled"]


async def test_a_search_finds_the_reference_behind_a_gap_in_causes_and_discrepancies(
    demo: Settings,
):
    app = app_on(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#findings", PagedTable)
        await pilot.press("slash", *STATUS_LAG, "enter")
        await settle(pilot)
        assert [row["kind"] for row in table.page_rows] == ["status_differs"]
        explained = set(table.page_rows[0]["explains"])
        await pilot.press("t")
        await settle(pilot)
        # Balance discrepancies name no reference; the cause behind them does.
        assert {row["id"] for row in table.page_rows} >= explained
        assert any(not row["references"] for row in table.page_rows)
        await pilot.press("slash", *"-nothing", "enter")
        await settle(pilot)
        assert table.total_rows == 0
        assert table.row_count == 0  # no row pulls the header out of line
        assert "No discrepancy matches" in table.border_subtitle


async def test_the_wallet_says_what_explains_its_gap(demo: Settings):
    with Workspace(demo) as workspace:
        dai = next(f for f in workspace.overview() if f.currency == "DAIERC20")
    app = app_on(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for wallet in dai.wallets:
            app.open_wallet("DAIERC20", wallet.wallet_id)
            await settle(pilot)
            assert isinstance(app.screen, WalletScreen)
            view = app.screen.view
            assert view is not None
            # Each DAI wallet's gap is the one wrong-wallet deposit, seen from each side.
            assert wallet.api_available != wallet.records_available
            assert [cause["references"] for cause in view.causes] == [[WRONG_WALLET]]
            assert "gap explained by 1 cause" in shown_text(app.screen.query_one("#wallet-summary"))
            assert view.cause_total == len(view.causes)
            # Counted in all, not from the page shown: a wallet with more causes than one
            # page of them still says how many explain its gap.
            many = dataclasses.replace(view, cause_total=250)
            assert many.explanation() == "gap explained by 250 causes"
            rest = dataclasses.replace(view, cause_total=251, unexplained_count=1,
                                       unexplained="1.000000")  # fmt: skip
            assert rest.explanation() == "unexplained 1.000000 beyond 250 causes"
            await pilot.press("escape")
            await settle(pilot)


async def test_an_acknowledged_cause_is_marked_so_on_its_wallet(demo: Settings):
    # The wallet's panel still marked it ✖, as the list of causes marked it ☑.
    with Workspace(demo) as workspace:
        dai = next(f for f in workspace.overview() if f.currency == "DAIERC20")
        cause = next(c for c in workspace.cause_page()[1] if WRONG_WALLET in c["references"])
        workspace.acknowledge(cause["id"], "moved by the bank")
    app = app_on(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_wallet("DAIERC20", dai.wallets[0].wallet_id)
        await settle(pilot)
        shown = shown_text(app.screen.query_one("#wallet-findings"))
        assert f"☑ {cause['message'][:30]}" in shown
        assert f"✖ {cause['message'][:30]}" not in shown


def test_ack_withdraw_through_the_cli(demo: Settings, tmp_path: Path):
    with Workspace(demo) as workspace:
        cause = next(c for c in workspace.cause_page()[1] if STATUS_LAG in c["references"])
    run = [sys.executable, "-m", "reconcile_tui", "--db", str(demo.db_path), "ack", cause["id"]]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    nothing = subprocess.run([*run, "--withdraw"], capture_output=True, text=True, env=env)
    assert nothing.returncode == 2
    assert "no acknowledgement of its own to withdraw" in nothing.stderr
    accepted = subprocess.run(
        [*run, "--note", "settled late"], capture_output=True, text=True, env=env
    )
    assert accepted.returncode == 0, accepted.stderr
    before = open_causes(demo)
    withdrawn = subprocess.run(
        [*run, "--withdraw", "--note", "not settled after all"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert "open again" in withdrawn.stdout
    assert open_causes(demo) == (before[0] + 1, before[1])


@pytest.mark.parametrize(
    ("size", "last_column"), [((80, 24), "Gateway / records"), ((120, 40), "Records total")]
)
async def test_the_overview_fits_its_columns_whole_as_acknowledgements_widen_them(
    demo: Settings, size: tuple[int, int], last_column: str
):
    # At 120 columns the overview's eight columns ran past the edge: Pending showed
    # `81.345` for 81.345951, and grew worse when an acknowledgement widened the status.
    with Workspace(demo) as workspace:
        eth = next(c for c in workspace.latest_document()["causes"] if c["currency"] == "ETH")
        workspace.acknowledge(eth["id"], "checked with ops")
    app = app_on(demo)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#currencies", DataTable)
        labels = [str(column.label) for column in table.ordered_columns]
        assert labels[-1] == last_column
        # Every cell whole: at most the last column's right padding meets the edge.
        widths = sum(column.get_render_width(table) for column in table.ordered_columns)
        assert widths - table.cell_padding <= room_of(table)
        assert "☑ 1" in " ".join(cell.plain for cell in table.get_row_at(1))


async def test_withdrawing_where_only_a_cause_acknowledges_says_so_and_changes_nothing(
    demo: Settings, notifications: Notifications
):
    # A discrepancy its cause's acknowledgement covers shows as acknowledged, but has no
    # acknowledgement of its own: `w` there used to fail in the worker.
    with Workspace(demo) as workspace:
        cause = next(c for c in workspace.cause_page()[1] if WRONG_WALLET in c["references"])
        workspace.acknowledge(cause["id"], "moved by the bank")
    app = app_on(demo)
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        table = app.screen.query_one("#findings", PagedTable)
        table.move_cursor(row=[row["id"] for row in table.page_rows].index(cause["explains"][0]))
        await settle(pilot)
        assert table.current_row["acknowledged"]
        screen = app.screen
        await pilot.press("w")
        await settle(pilot)
        assert app.screen is screen
        assert notifications.of("warning") == [
            f"Available balance differs DAIERC20 (discrepancy {cause['explains'][0][:8]}) has no"
            " acknowledgement of its own to withdraw."
        ]
    with Workspace(demo) as workspace:
        assert [row.note for row in acks.history_of(workspace.store, cause["id"])] == [
            "moved by the bank"
        ]


@pytest.mark.parametrize(("size", "kind"), [((80, 24), "History: deposit count"),
                                            ((120, 40), "History differs")])  # fmt: skip
async def test_a_count_difference_reads_as_a_count_and_says_its_figure_when_narrow(
    demo: Settings, size: tuple[int, int], kind: str
):
    # Under 110 columns `-1` read like an amount, and a bucket's balance and deposits rows
    # looked alike: no About column said which figure each was.
    with Workspace(demo) as workspace:
        _, found = workspace.discrepancy_page(limit=500)
    counted = next(d for d in found if d["field"] == "deposit_count")
    count = int(counted["difference"])
    app = app_on(demo)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("slash", *counted["id"], "enter")
        await settle(pilot)
        table = app.screen.query_one("#findings", PagedTable)
        assert [row["id"] for row in table.page_rows] == [counted["id"]]
        shown = shown_text(table)
        assert f"{count:+d} deposit" in shown
        assert kind in shown


async def test_an_acknowledgements_note_with_control_characters_never_reaches_the_terminal(
    demo: Settings,
):
    # The cause screen and the dialog put the note on screen as typed: an escape wiped the
    # screen, and U+202E turned the line around.
    note = "esc \x1b[2J bel \x07 rtl \u202e end"
    with Workspace(demo) as workspace:
        cause = next(c for c in workspace.cause_page()[1] if WRONG_WALLET in c["references"])
        workspace.acknowledge(cause["id"], note, by="ana\x1b[31m")
    app = app_on(demo)
    async with app.run_test(size=SIZE) as pilot:
        _, screen = await open_cause(
            pilot, lambda causes: row_of(causes, "wrong_wallet", WRONG_WALLET)
        )
        summary = shown_text(screen.query_one("#cause-summary"))
        assert "\\x1b[2J" in summary
        assert "\\u202e" in summary
        assert "ana\\x1b[31m" in summary
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, AcknowledgeDialog)
        before = shown_text(dialog.query_one("#ack-previous"))
        assert "\\x1b[2J" in before
        for widget in (dialog.query_one("#ack-previous"), screen.query_one("#cause-summary")):
            for strip in widget.render_lines(widget.region.reset_offset):
                assert not any(character in strip.text for character in ("\x1b", "\x07", "\u202e"))
