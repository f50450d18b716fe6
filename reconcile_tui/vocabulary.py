"""The words of the domain: record types and statuses, and the gateway words that map onto them.

One source of truth for the status mapping: the importer, the sandbox and the
transaction-level matching all read it from here.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

#: The longest id, reference or wallet the product keeps, from a gateway or a file: a
#: server's index entry of several of them (up to 4 bytes a character) must fit in a
#: third of its page (docs/postgresql.md, "Text").
MAX_KEY: Final = 256

#: A currency code as the gateway prints them (USDTERC20, ETH): it names files of
#: `fetch --save`, so nothing path-like (`../x`, `a/b`) is ever accepted; a setting's
#: per-currency key is one too.
CURRENCY_CODE: Final = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")


class RecordType(StrEnum):
    """What a merchant record does to a wallet."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    OPENING = "opening"


class RecordStatus(StrEnum):
    """Where a merchant record stands."""

    CONFIRMED = "confirmed"
    PENDING = "pending"
    FAILED = "failed"


#: Every word accepted for a record type, lower case, onto the canonical type.
TYPE_WORDS: Final[dict[str, RecordType]] = {
    "deposit": RecordType.DEPOSIT,
    "payment": RecordType.DEPOSIT,
    "withdrawal": RecordType.WITHDRAWAL,
    "payout": RecordType.WITHDRAWAL,
    "opening": RecordType.OPENING,
}

#: Every word accepted for a status, lower case: ours, then the gateway's payment and
#: withdrawal statuses (docs/mapping.md: completed -> confirmed, waiting -> pending, ...).
STATUS_WORDS: Final[dict[str, RecordStatus]] = {
    "confirmed": RecordStatus.CONFIRMED,
    "completed": RecordStatus.CONFIRMED,
    "partially_completed": RecordStatus.CONFIRMED,
    "pending": RecordStatus.PENDING,
    "waiting": RecordStatus.PENDING,
    "confirming": RecordStatus.PENDING,
    "processing": RecordStatus.PENDING,
    "submitted": RecordStatus.PENDING,
    "approved": RecordStatus.PENDING,
    "failed": RecordStatus.FAILED,
    "expired": RecordStatus.FAILED,
    "rejected": RecordStatus.FAILED,
    "cancelled": RecordStatus.FAILED,
    "canceled": RecordStatus.FAILED,
}


def record_type(word: str) -> RecordType | None:
    """The canonical type for `word` (any case, surrounding spaces ignored), or None."""
    return TYPE_WORDS.get(word.strip().lower())


def record_status(word: str) -> RecordStatus | None:
    """The canonical status for `word` (any case, surrounding spaces ignored), or None."""
    return STATUS_WORDS.get(word.strip().lower())


def accepted_words(words: dict[str, object]) -> str:
    """`a, b or c`: for error messages that list what would have been accepted."""
    names = sorted(words)
    return ", ".join(names[:-1]) + " or " + names[-1]
