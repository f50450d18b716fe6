"""The fast path and the careful reader import every file to exactly the same database."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile_tui.errors import BadFile
from reconcile_tui.ingest import fast
from reconcile_tui.ingest.importer import import_file
from reconcile_tui.ingest.mapping import Layout
from reconcile_tui.store.db import Store
from tests.conftest import DEFAULT_HEADER, PAGE_CLOCK, WALLET_A

HEADER = DEFAULT_HEADER.strip().split(",")

# Cells of every shape a real export has, plain and unusual, valid and not.
references = st.one_of(
    st.from_regex(r"[A-Z]{2,4}-\d{1,6}", fullmatch=True),
    st.sampled_from([" padded ", "tab\tinside", "ümlaut-1", "x", ""]),
)
times = st.one_of(
    st.from_regex(
        r"202[0-4]-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ",
        fullmatch=True,
    ),
    st.sampled_from([
        "2025-02-30T10:00:00Z", "2024-06-01 10:00:00", "2024-06-01",
        "2024-06-01T10:00:00+02:00", "0000-01-01T00:00:00Z", "2031-01-01T00:00:00Z",
        "2025-01-16T09:59:59Z", "2025-01-16T10:00:01Z", " 2024-06-01T10:00:00Z", "yesterday",
    ]),
)  # fmt: skip
currencies = st.sampled_from(["USDTERC20", "ETH", "BTC", "DOGE", "usdterc20", "US DT", "X", ""])
wallets = st.sampled_from([WALLET_A, WALLET_A.upper(), "hot-wallet", "Hot-Wallet", " padded", ""])
kinds = st.sampled_from(
    ["deposit", "withdrawal", "payment", "payout", "Deposit", "opening", "refund", ""]
)
amounts = st.one_of(
    st.from_regex(r"\d{1,12}(\.\d{1,19})?", fullmatch=True),
    st.sampled_from(
        ["0", "0.000", "007.50", "5.", ".5", "1e5", "1,5", "-3", "5.000000000000000000000"]
    ),
)
fees = st.one_of(st.just(""), st.just("0"), amounts)
statuses = st.sampled_from(
    ["confirmed", "pending", "failed", "completed", "confirming", "Completed", "settled", ""]
)
hashes = st.sampled_from(["", "0xabc", " 0xabc", "0xABC"])
rows = st.lists(
    st.tuples(references, times, currencies, wallets, kinds, amounts, fees, statuses, hashes),
    min_size=1,
    max_size=25,
)


def write(path: Path, body: list[tuple[str, ...]]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER, *body])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def outcome(db: Path, path: Path, careful: bool, quarantine: bool) -> object:
    with Store(db) as store:
        try:
            result = import_file(
                store, path, now=PAGE_CLOCK, careful=careful, quarantine=quarantine
            )
        except BadFile as refused:
            return ("refused", str(refused), [str(p) for p in refused.problems])
        dump = [line for line in store.conn.iterdump() if "_sqlite_migrations" not in line]
        return (result.summary(), dump)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=rows, quarantine=st.booleans(), repeat=st.booleans())
def test_both_paths_store_the_same_records_or_refuse_with_the_same_problems(
    tmp_path_factory, body, quarantine, repeat
):
    folder = tmp_path_factory.mktemp("differential")
    if repeat:
        body = [*body, body[0]]
    path = folder / "records.csv"
    write(path, body)
    assert outcome(folder / "fast.db", path, False, quarantine) == outcome(
        folder / "careful.db", path, True, quarantine
    )


def test_a_plain_file_really_takes_the_fast_path(tmp_path, monkeypatch):
    write(
        tmp_path / "plain.csv",
        [("R-1", "2024-06-01T10:00:00Z", "ETH", WALLET_A, "deposit", "1.5", "0", "confirmed", "")],
    )
    staged = []
    real = fast.stage_fast
    monkeypatch.setattr(
        fast, "stage_fast", lambda *a, **k: staged.append(real(*a, **k)) or staged[-1]
    )
    with Store(tmp_path / "books.db") as store:
        assert import_file(store, tmp_path / "plain.csv", now=PAGE_CLOCK).inserted == 1
    assert [s.rows_read for s in staged] == [1]


@pytest.mark.parametrize(
    "layout",
    [
        Layout.model_validate({"csv": {"decimal_comma": True}}),
        Layout.model_validate({"amount": {"signed": True}}),
        Layout.model_validate({"csv": {"timezone": "Europe/Berlin"}}),
        Layout.model_validate({"values": {"status": {"ok": "confirmed"}}}),
    ],
)
def test_layouts_beyond_the_plain_shapes_use_the_careful_reader(layout):
    assert not fast.eligible(layout)
    assert fast.eligible(Layout())


@pytest.mark.parametrize(
    "trouble",
    [b"\r", b"\x00", b"\xff", "\u00e9".encode("cp1252")],
    ids=["lone-carriage-return", "nul", "bad-utf8", "cp1252-byte"],
)
def test_bytes_the_fast_path_cannot_take_send_the_file_to_the_careful_reader(tmp_path, trouble):
    line = f"R-1,2024-06-01T10:00:00Z,ETH,{WALLET_A},deposit,1.5,0,confirmed,0x".encode()
    path = tmp_path / "odd.csv"
    path.write_bytes(DEFAULT_HEADER.encode() + line + trouble + b"\n")
    results = [
        outcome(tmp_path / f"{n}.db", path, careful, False)
        for n, careful in (("f", False), ("c", True))
    ]
    assert results[0] == results[1]


PLAIN_ROW = f"R-1,2024-06-01T10:00:00Z,ETH,{WALLET_A},deposit,1.5,0,confirmed,0x"


@pytest.mark.parametrize(
    ("body", "fast_rows"),
    [
        (f'{PLAIN_ROW}\n"R-2",2024-06-01T11:00:00Z,ETH,{WALLET_A},deposit,"2.5",0,confirmed,\n', 2),
        (
            f"\n{PLAIN_ROW}\r\n\r\nR-2,2024-06-01T11:00:00Z,BTC,{WALLET_A},deposit,3,,pending,\n\n",
            2,
        ),
        (
            f'{PLAIN_ROW}\nR-2,2024-06-01T11:00:00Z,ETH,{WALLET_A},deposit,1,0,confirmed,"a\nb"\n',
            None,
        ),
    ],
    ids=["quoted-fields", "blank-lines", "a-field-spanning-lines"],
)
def test_quoted_fields_and_blank_lines_keep_their_lines_on_the_fast_path(
    tmp_path, monkeypatch, body, fast_rows
):
    """Quoted rows go through the csv module, blank lines are no rows, and a field holding
    a line break sends the file to the careful reader: each record keeps its line."""
    path = tmp_path / "records.csv"
    path.write_bytes((DEFAULT_HEADER + body).encode())
    staged = []
    real = fast.stage_fast
    monkeypatch.setattr(
        fast, "stage_fast", lambda *a, **k: staged.append(real(*a, **k)) or staged[-1]
    )
    results = [
        outcome(tmp_path / f"{n}.db", path, careful, False)
        for n, careful in (("f", False), ("c", True))
    ]
    assert results[0] == results[1]
    assert [s.rows_read for s in staged] == ([fast_rows] if fast_rows else [])
    with Store(tmp_path / "f.db") as store:
        lines = [row[0] for row in store.query("SELECT line FROM records ORDER BY line")]
    expected = [i + 1 for i, text in enumerate(body.split("\n")) if text.startswith(("R-", '"R-'))]
    assert lines == [n + 1 for n in expected]  # the header is line 1


def test_a_file_bigger_than_a_block_keeps_every_line(tmp_path, monkeypatch):
    monkeypatch.setattr(fast, "BLOCK_BYTES", 256)
    body = [
        (
            f"R-{n}",
            "2024-06-01T10:00:00Z",
            "ETH",
            WALLET_A,
            "deposit",
            f"{n}.5",
            "0",
            "confirmed",
            "",
        )
        for n in range(1, 60)
    ]
    write(tmp_path / "many.csv", body)
    results = [
        outcome(tmp_path / f"{n}.db", tmp_path / "many.csv", careful, False)
        for n, careful in (("f", False), ("c", True))
    ]
    assert results[0] == results[1]
    with Store(tmp_path / "f.db") as store:
        lines = [row[0] for row in store.query("SELECT line FROM records ORDER BY line")]
    assert lines == list(range(2, 61))
