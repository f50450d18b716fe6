"""Ctrl-C inside one of the store's own SQL functions is the interrupt it was.

SQLite runs the exact SUM in Python; an interrupt arriving there became the statement's
error ("user-defined aggregate's 'step' method raised error"), said as a damaged store
with exit 4, where every other moment of an import says `interrupted` with exit 130.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from reconcile_tui import money
from reconcile_tui.errors import DatabaseError
from reconcile_tui.store.db import Store, note_interrupts


@pytest.fixture
def noted() -> Iterator[None]:
    before = signal.getsignal(signal.SIGINT)
    note_interrupts()  # as the command line does
    yield
    signal.signal(signal.SIGINT, before)


def _ctrl_c(*_args: object) -> None:
    signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize(
    ("target", "sql"),
    [
        ("DecimalSum.step", "SELECT decimal_sum(x) FROM (SELECT '1.5' AS x)"),
        ("DecimalSum.finalize", "SELECT decimal_sum(x) FROM (SELECT '1.5' AS x)"),
        ("same_amount", "SELECT same_amount('1.5', '1.50')"),
    ],
)
def test_ctrl_c_in_a_store_function_is_an_interrupt_not_a_damaged_store(
    db_file, monkeypatch, noted, target, sql
):
    owner, _, name = target.rpartition(".")
    monkeypatch.setattr(getattr(money, owner) if owner else money, name, _ctrl_c)
    with Store(db_file) as store:  # registers the functions as they are now
        with pytest.raises(KeyboardInterrupt), store.errors():
            store.conn.execute(sql).fetchall()
        monkeypatch.undo()
        # Afterwards a failure is said as ever.
        with pytest.raises(DatabaseError), store.errors():
            store.conn.execute("SELECT * FROM no_such_table")


def test_a_failing_store_function_without_ctrl_c_is_a_database_error(db_file, monkeypatch, noted):
    def broken(*_args: object) -> None:
        raise ValueError("not an amount")

    monkeypatch.setattr(money.DecimalSum, "step", broken)
    with Store(db_file) as store, pytest.raises(DatabaseError), store.errors():
        store.conn.execute("SELECT decimal_sum(x) FROM (SELECT '1.5' AS x)").fetchall()
