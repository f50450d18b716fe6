"""The panel under a wallet's lists keeps what identifies a record at any width: the whole
amount and time, the file's line number, both ends of the hash (docs/tui.md)."""

from __future__ import annotations

from typing import ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region

from reconcile_tui.store.ledger import RecordRow
from reconcile_tui.tui.widgets.record_detail import RecordDetail

TX_HASH = "0xa0b510e02e59981ec54a811e674eb6511c16068f7c6f405463e8ed0a722a453b"
PATH = "/home/ana/month-end/2025-01/exports/gateway-merchant-export-final.csv"

ROW = RecordRow(
    reference="ORD-000275",
    occurred_at="2025-01-08T22:25:01Z",
    currency="ETH",
    wallet_id="550e8400-e29b-41d4-a716-446655440000",
    wallet_name=None,
    type="deposit",
    amount="0.042336328068000525",
    fee="0.000423363280680005",
    status="confirmed",
    tx_hash=TX_HASH,
    path=PATH,
    line=342,
)


class _Panel(App[None]):
    # As the app's: under 32 rows the panel has four lines and does not wrap.
    VERTICAL_BREAKPOINTS: ClassVar = [(0, "-short"), (32, "-tall")]
    CSS = """
    RecordDetail { height: auto; padding: 0 1; }
    .-short RecordDetail { height: 4; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def compose(self) -> ComposeResult:
        yield RecordDetail()


def _lines(widget: RecordDetail) -> list[str]:
    size = widget.outer_size
    return [
        strip.text.strip() for strip in widget.render_lines(Region(0, 0, size.width, size.height))
    ]


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (60, 20)])
async def test_the_record_panel_keeps_amount_time_line_and_both_ends_of_the_hash(size):
    app = _Panel()
    async with app.run_test(size=size) as pilot:
        panel = app.query_one(RecordDetail)
        panel.show_record(ROW, 18, [])
        await pilot.pause()
        lines = _lines(panel)
        shown = "\n".join(lines)
        assert "0.042336328068000525" in shown
        assert "fee 0.000423363280680005" in shown
        assert "2025-01-08 22:25:01Z" in shown  # it ended `22:25:0…` at 80 columns
        assert ":342" in shown
        (tx_line,) = [line for line in lines if "tx " in line]
        written = tx_line.split("tx ", 1)[1].strip()
        head, _, tail = written.partition("…")
        assert TX_HASH.startswith(head)
        assert TX_HASH.endswith(tail)
        assert len(head) >= 8
        assert len(tail) >= 8 or written == TX_HASH
        assert not lines[0].endswith("…")  # the amount line is whole
