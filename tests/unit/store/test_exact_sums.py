"""SQLite's exact sums of stored amounts against `ExactTally`, the one exact rule.

`store/exact_sums.py` takes each plain amount apart into whole numbers that SQLite adds,
and `money.tally_of_parts` puts the sums back together. Over many seeded random groups of
texts (signs, 0 to 18 places mixed in one group, integer parts up to 18 digits, zeros
written as `-0.000`) the rebuilt TEXT must be the very text `ExactTally` gives; a group
holding any text of another shape must be refused (its texts are then added by
`ExactTally` itself), and a sum beyond SQLite's integers must raise, never round.
"""

from __future__ import annotations

import random
import sqlite3

import pytest

from reconcile_tui.money import ExactTally, canonical
from reconcile_tui.store.exact_sums import OVERFLOW, rebuilt, summed

#: Texts `ExactTally` reads (or refuses) that SQLite must not take apart.
ODD = [
    "1e5",
    "+1",
    " 1",
    "1 ",
    "1.",
    ".5",
    "-.5",
    "-",
    "",
    "--1",
    "1-",
    "1.2.3",
    "0x10",
    "1.5x",
    "1\x002",
    "\u0661\u0662",  # Arabic-Indic digits: Python's int() reads them, SQLite's CAST does not
    "1." + "0" * 19,  # 19 places
    "1" * 19,  # 19 digits before the point
    "-" + "9" * 19 + ".5",
]


def _plain(rng: random.Random) -> str:
    digits = rng.choice([1, 1, 2, 6, 12, 18])
    whole = str(rng.randrange(10**digits)) if rng.random() < 0.9 else "0"
    places = rng.choice([0, 0, 1, 2, 6, 8, 9, 10, 17, 18])
    fraction = "".join(rng.choice("0123456789") for _ in range(places))
    sign = "-" if rng.random() < 0.3 else ""
    text = f"{sign}{whole}.{fraction}" if places else f"{sign}{whole}"
    return rng.choice([text, text, "0", "-0.000", "0.000000000000000000"])


def _tally(texts: list[str]) -> str:
    tally = ExactTally()
    for text in texts:
        tally.add_text(text)
    return canonical(tally.total())


def _sums(groups: list[list[str]]) -> list[str | None]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE amounts (grouping INTEGER NOT NULL, amount TEXT NOT NULL) STRICT")
    conn.executemany(
        "INSERT INTO amounts VALUES (?, ?)",
        [(index, text) for index, texts in enumerate(groups) for text in texts],
    )
    rows = conn.execute(
        f"SELECT grouping, {summed('amount')} FROM amounts GROUP BY grouping ORDER BY grouping"
    ).fetchall()
    assert [row[0] for row in rows] == list(range(len(groups)))
    return [rebuilt(*row[1:]) for row in rows]


@pytest.mark.parametrize("seed", range(20))
def test_sqlites_sum_of_plain_texts_is_the_text_exact_tally_gives(seed):
    rng = random.Random(seed)
    groups = [[_plain(rng) for _ in range(rng.randint(1, 40))] for _ in range(200)]
    # Groups whose texts all share one number of places, as a currency's stored amounts do.
    for _ in range(50):
        places = rng.randint(0, 18)
        groups.append(
            [
                f"{rng.randrange(10**12)}." + f"{rng.randrange(10**places):0{places}d}"
                if places
                else str(rng.randrange(10**12))
                for _ in range(rng.randint(1, 40))
            ]
        )

    assert _sums(groups) == [_tally(texts) for texts in groups]


def test_every_plain_edge_is_summed_as_exact_tally_sums_it():
    groups = [
        ["0"],
        ["-0.000"],
        ["-0.000", "0"],
        ["0.1", "-0.1"],
        ["-0.5", "0.25"],
        ["9" * 18, "-" + "9" * 18],
        ["9" * 18 + "." + "9" * 18, "0." + "0" * 17 + "1"],
        ["1", "2.50", "0.000000000000000001"],
        ["-1." + "0" * 18],
        ["007.10"],
    ]

    assert _sums(groups) == [_tally(texts) for texts in groups]
    assert _sums([["0.1", "-0.1"]]) == ["0.0"]  # the places survive a zero total


@pytest.mark.parametrize("odd", ODD)
def test_a_group_holding_any_other_shape_is_left_to_exact_tally(odd):
    rng = random.Random(odd)
    texts = [_plain(rng) for _ in range(5)]
    texts.insert(rng.randint(0, 5), odd)

    assert _sums([texts, ["1.5"]]) == [None, "1.5"]  # only that group


def test_a_sum_beyond_sqlites_integers_raises_instead_of_rounding():
    with pytest.raises(sqlite3.OperationalError, match=OVERFLOW):
        _sums([["9" * 18] * 10])


def test_a_part_that_is_not_a_whole_number_is_refused():
    assert rebuilt(1, 0, 0, 0, 0) == "1"
    assert rebuilt(1.0, 0, 0, 0, 0) is None
    assert rebuilt(None, None, None, None, None) is None
