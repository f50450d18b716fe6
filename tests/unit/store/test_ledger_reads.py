"""What a check reads beside the sums, on both stores: the latest opening of each wallet,
and the files the current records came from (docs/performance.md, "PostgreSQL")."""

from __future__ import annotations

from decimal import Decimal

from reconcile_tui.reconcile.books import load_books
from tests.conftest import DEFAULT_HEADER, WALLET_A, WALLET_B

USDT = "USDTERC20"
WALLET_C = "770e8400-e29b-41d4-a716-446655440002"


def _row(
    reference: str, at: str, kind: str, amount: str, status: str, wallet: str = WALLET_A
) -> str:
    return f"{reference},{at},{USDT},{wallet},{kind},{amount},0,{status},\n"


def test_the_latest_opening_of_each_wallet_wins_by_time_then_by_import_order(workspace, write_csv):
    first = write_csv(
        DEFAULT_HEADER
        + _row("OPEN-A-LATE", "2025-01-05T00:00:00Z", "opening", "50", "")
        + _row("OPEN-A-EARLY", "2025-01-01T00:00:00Z", "opening", "10", "")
        + _row("OPEN-B-1", "2025-01-03T00:00:00Z", "opening", "7", "", WALLET_B)
        + _row("OPEN-C", "2025-01-03T00:00:00Z", "opening", "3", "", WALLET_C)
        + _row("D-1", "2025-01-06T00:00:00Z", "deposit", "1", "confirmed"),
        "first.csv",
    )
    # Imported later: an opening at the same time as wallet B's (it wins: imported last;
    # wallet C's, at that time too, is listed before it: imported first), and one older
    # than wallet A's latest (it does not win: time comes first).
    second = write_csv(
        DEFAULT_HEADER
        + _row("OPEN-B-2", "2025-01-03T00:00:00Z", "opening", "8", "", WALLET_B)
        + _row("OPEN-A-OLD", "2024-12-01T00:00:00Z", "opening", "99", ""),
        "second.csv",
    )
    workspace.import_files([first])
    workspace.import_files([second])

    books = load_books(workspace.store, None, workspace.rules()).currency(USDT)
    found = [(opening.reference, opening.amount) for opening in books.openings]

    assert [reference for reference, _ in found] == ["OPEN-C", "OPEN-B-2", "OPEN-A-LATE"]
    assert [Decimal(amount) for _, amount in found] == [3, 8, 50]


def test_of_two_openings_in_one_second_the_one_a_fraction_later_is_the_latest(workspace, write_csv):
    # Stored, `…:00Z` sorts after `…:00.5Z` as text ('Z' after '.'), though it is half a
    # second earlier: the latest opening is the later instant, in a day's sums and across
    # them. Wallet B's two are in one file and group; wallet A's come from two imports, so
    # two groups' latest times are compared.
    first = write_csv(
        DEFAULT_HEADER
        + _row("OPEN-B-WHOLE", "2025-01-05T10:00:00Z", "opening", "10", "", WALLET_B)
        + _row("OPEN-B-HALF", "2025-01-05T10:00:00.500000Z", "opening", "20", "", WALLET_B)
        + _row("OPEN-A-HALF", "2025-01-05T10:00:00.250000Z", "opening", "30", ""),
        "first.csv",
    )
    second = write_csv(
        DEFAULT_HEADER + _row("OPEN-A-WHOLE", "2025-01-05T10:00:00Z", "opening", "40", ""),
        "second.csv",
    )
    workspace.import_files([first])
    workspace.import_files([second])

    books = load_books(workspace.store, None, workspace.rules()).currency(USDT)
    found = {opening.reference: opening.amount for opening in books.openings}

    assert sorted(found) == ["OPEN-A-HALF", "OPEN-B-HALF"]
    # Listed by time: A's at a quarter second before B's at a half.
    assert [opening.reference for opening in books.openings] == ["OPEN-A-HALF", "OPEN-B-HALF"]


def test_the_check_names_the_files_of_the_current_records_once_each_in_import_order(
    workspace, write_csv
):
    january = write_csv(
        DEFAULT_HEADER + _row("R-1", "2024-11-02T00:00:00Z", "deposit", "5", "pending"),
        "january.csv",
    )
    # A newer export of R-1 takes it over: january.csv then holds no current record.
    february = write_csv(
        DEFAULT_HEADER
        + _row("R-1", "2024-11-02T00:00:00Z", "deposit", "5", "confirmed")
        + _row("R-2", "2024-12-02T00:00:00Z", "deposit", "6", "confirmed"),
        "february.csv",
    )
    march = write_csv(
        DEFAULT_HEADER
        + _row("R-3", "2025-01-02T00:00:00Z", "withdrawal", "1", "confirmed", WALLET_B),
        "march.csv",
    )
    # The same file under another name, imported last: both names are its records' files.
    again = write_csv(march.read_text().replace("R-3", "R-4"), "march-again.csv")
    for path in (january, february, march, again):
        workspace.import_files([path])

    books = load_books(workspace.store, None, workspace.rules())

    assert [name.rsplit("/", 1)[-1] for name in books.record_files] == [
        "february.csv",
        "march.csv",
        "march-again.csv",
    ]
    counted = workspace.store.query_one("SELECT count(*) FROM records")[0]
    assert books.record_count == 4 == counted
