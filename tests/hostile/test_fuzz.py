"""Generated input: the importer and the API models never fail with anything but a clear error,
and what goes into the store is exactly what the file said."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile_tui import money
from reconcile_tui.api.models import ResponseShapeError, parse_balances, parse_history
from reconcile_tui.errors import BadInput
from reconcile_tui.ingest.importer import import_file
from reconcile_tui.store.db import Store
from tests.conftest import API_PAGE, DEFAULT_HEADER, PAGE_CLOCK, WALLET_A, WALLET_B

CURRENCIES = {"USDTERC20": 6, "ETH": 18, "BTC": 8, "DAIERC20": 6}

references = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def records(draw):
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    scale = CURRENCIES[currency]
    units = draw(st.integers(min_value=1, max_value=10**24))
    fee_units = draw(st.integers(min_value=0, max_value=units))
    moment = draw(
        st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2025, 1, 15), timezones=st.just(UTC)
        )
    ).replace(microsecond=0)
    return {
        "reference": draw(references),
        "occurred_at": moment,
        "currency": currency,
        "wallet_id": draw(st.sampled_from([WALLET_A, WALLET_B])),
        "type": draw(st.sampled_from(["deposit", "withdrawal"])),
        "amount": Decimal(units).scaleb(-scale, context=money.MONEY),
        "fee": Decimal(fee_units).scaleb(-scale, context=money.MONEY),
        "status": draw(st.sampled_from(["confirmed", "pending", "failed"])),
        "tx_hash": draw(
            st.one_of(st.none(), st.text(alphabet="0123456789abcdef", min_size=1, max_size=64))
        ),
    }


def write(rows: list[dict], path: Path) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    buffer.write(DEFAULT_HEADER)
    for row in rows:
        writer.writerow([
            row["reference"],
            row["occurred_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            row["currency"],
            row["wallet_id"],
            row["type"],
            money.canonical(row["amount"]),
            money.canonical(row["fee"]),
            row["status"],
            row["tx_hash"] or "",
        ])  # fmt: skip
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(records(), min_size=1, max_size=30, unique_by=lambda r: r["reference"]))
def test_what_goes_in_is_what_the_store_holds(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("roundtrip")
    path = folder / "records.csv"
    write(rows, path)
    with Store(folder / "books.db") as store:
        result = import_file(store, path, now=PAGE_CLOCK)
        assert result.inserted == len(rows)
        stored = {
            row["reference"]: row
            for row in store.query(
                "SELECT reference, occurred_at, currency, wallet_id, type, amount, fee, status,"
                " tx_hash FROM records"
            )
        }
    for row in rows:
        kept = stored[row["reference"]]
        assert Decimal(kept["amount"]) == row["amount"]
        assert kept["amount"] == money.canonical(row["amount"], CURRENCIES[row["currency"]])
        assert Decimal(kept["fee"]) == row["fee"]
        assert kept["occurred_at"] == row["occurred_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert (kept["currency"], kept["wallet_id"], kept["type"], kept["status"]) == (
            row["currency"], row["wallet_id"], row["type"], row["status"],
        )  # fmt: skip
        assert kept["tx_hash"] == row["tx_hash"]


cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["1e5", "-0", "1,5", "1.234,5", "NaN", "2025-02-30", "deposit", "pending", "", " "]
    ),
    st.from_regex(r"-?\d{1,30}(\.\d{0,25})?", fullmatch=True),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(cells, min_size=0, max_size=11), max_size=12),
    raw=st.binary(max_size=200),
    quarantine=st.booleans(),
)
def test_the_importer_only_ever_fails_with_a_clear_error(tmp_path_factory, rows, raw, quarantine):
    folder = tmp_path_factory.mktemp("fuzz")
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    path = folder / "fuzz.csv"
    path.write_bytes(
        DEFAULT_HEADER.encode() + buffer.getvalue().encode("utf-8", "surrogatepass") + raw
    )
    with Store(folder / "books.db") as store:
        before = list(store.conn.iterdump())
        try:
            result = import_file(store, path, now=PAGE_CLOCK, quarantine=quarantine)
        except BadInput as error:
            assert str(error)
            assert "\n" not in str(error)
            assert list(store.conn.iterdump()) == before
        else:
            held = store.query_one("SELECT count(*) FROM records")[0]
            kept_aside = store.query_one("SELECT count(*) FROM quarantine")[0]
            assert held + kept_aside + result.duplicates == result.rows_read
        assert store.integrity_problems() == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _mutations(document):
    """The page's example with one value somewhere replaced by generated JSON."""
    return st.tuples(st.integers(min_value=0, max_value=10_000), json_values).map(
        lambda pair: _replace_nth(json.loads(json.dumps(document)), *pair)
    )


def _replace_nth(document, n, value):
    slots = []

    def walk(node):
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else []
        )
        for key, child in items:
            slots.append((node, key))
            walk(child)

    walk(document)
    if slots:
        node, key = slots[n % len(slots)]
        node[key] = value
    return document


BALANCES = json.loads((API_PAGE / "balances.json").read_text())
HISTORY = json.loads((API_PAGE / "history_USDTERC20.json").read_text())


@settings(max_examples=300, deadline=None)
@given(document=_mutations(BALANCES))
def test_balances_bodies_parse_or_fail_with_one_line(document):
    try:
        parse_balances(json.dumps(document))
    except ResponseShapeError as error:
        assert "\n" not in str(error)


@settings(max_examples=300, deadline=None)
@given(document=_mutations(HISTORY))
def test_history_bodies_parse_or_fail_with_one_line(document):
    try:
        parse_history(json.dumps(document))
    except ResponseShapeError as error:
        assert "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_anything_but_a_shape_error(body):
    for parse in (parse_balances, parse_history):
        with contextlib.suppress(ResponseShapeError):
            parse(body)
