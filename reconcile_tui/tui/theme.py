"""The app's registered themes: the only place colours are written as colours."""

from __future__ import annotations

from textual.theme import Theme

__all__ = ["LEDGER_DARK", "LEDGER_LIGHT", "THEMES"]

#: Dark, calm, with red kept for real errors and amber for warnings.
LEDGER_DARK = Theme(
    name="ledger-dark",
    primary="#4A9BD1",
    secondary="#2F6E99",
    accent="#E0B354",
    warning="#E0A030",
    error="#E0556A",
    success="#5DBB7A",
    foreground="#DADFE4",
    background="#13171C",
    surface="#1B2128",
    panel="#232C35",
    dark=True,
)

#: The same meanings on paper-white, for bright rooms and screenshots in reports.
LEDGER_LIGHT = Theme(
    name="ledger-light",
    primary="#1F5F8B",
    secondary="#3A7CA5",
    accent="#9A6A00",
    warning="#A86400",
    error="#B3263A",
    success="#2E7D4A",
    foreground="#1C2228",
    background="#F6F7F8",
    surface="#ECEEF0",
    panel="#DDE2E6",
    dark=False,
)

THEMES = (LEDGER_DARK, LEDGER_LIGHT)
