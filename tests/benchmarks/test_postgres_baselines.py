"""The PostgreSQL baselines do the work they stand for: every row copied, sums exact."""

from __future__ import annotations

from decimal import Decimal

import psycopg

from benchmarks.postgres_baselines import (
    COPY_TABLE,
    KEYED_TABLE,
    NUMERIC_GROUP_BY,
    copy_untyped,
    main,
    numeric_group_by,
    numeric_table,
)

HEADER = "reference,occurred_at,currency,wallet_id,wallet_name,type,amount,fee,status,tx_hash\n"
ROWS = (
    "A-1,2025-01-09T10:00:00Z,ETH,W1,,deposit,0.000000000000000001,0,completed,0xa\n"
    "A-2,2025-01-09T11:00:00Z,ETH,W1,,deposit,1.5,0,completed,0xb\n"
    'A-3,2025-01-09T12:00:00Z,ETH,,"Shop, main",deposit,2,0,completed,0xc\n'
    "A-4,2025-01-09T13:00:00Z,USDTERC20,W2,,withdrawal,10.250000,0.5,pending,\n"
)


def test_copy_puts_every_row_into_a_table_of_text_columns(postgres_url, tmp_path):
    source = tmp_path / "merchant.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    assert copy_untyped(source, postgres_url) == 4
    with psycopg.connect(postgres_url) as conn:
        types = conn.execute(
            "SELECT DISTINCT data_type FROM information_schema.columns WHERE table_name = %s",
            (COPY_TABLE,),
        ).fetchall()
        quoted = conn.execute(f"SELECT wallet_name FROM {COPY_TABLE} WHERE reference = 'A-3'")
        assert quoted.fetchone() == ("Shop, main",)
    assert types == [("text",)]


def test_the_group_by_sums_numeric_amounts_exactly_per_wallet(postgres_url, tmp_path):
    source = tmp_path / "merchant.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    assert numeric_table(source, postgres_url) == 4
    assert numeric_group_by(postgres_url) == 3
    with psycopg.connect(postgres_url) as conn:
        groups = {row[:4]: (row[4], row[5]) for row in conn.execute(NUMERIC_GROUP_BY)}
    assert groups[("ETH", "W1", "deposit", "completed")] == (2, Decimal("1.500000000000000001"))
    assert groups[("ETH", "Shop, main", "deposit", "completed")] == (1, Decimal("2"))
    assert groups[("USDTERC20", "W2", "withdrawal", "pending")] == (1, Decimal("10.250000"))


def test_the_keyed_copy_stores_money_as_numeric_and_indexes_the_reference(postgres_url, tmp_path):
    source = tmp_path / "merchant.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    assert main(["copy-keyed", str(source), postgres_url]) == 0
    with psycopg.connect(postgres_url) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = %s",
                (KEYED_TABLE,),
            ).fetchall()
        )
        indexed = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s", (KEYED_TABLE,)
        ).fetchall()
        smallest = conn.execute(f"SELECT amount FROM {KEYED_TABLE} WHERE reference = 'A-1'")
        assert smallest.fetchone() == (Decimal("0.000000000000000001"),)
    assert types.pop("amount") == types.pop("fee") == "numeric"
    assert set(types.values()) == {"text"}
    assert len(indexed) == 1
    assert indexed[0][0].endswith("(reference)")
