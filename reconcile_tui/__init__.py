"""reconcile-tui: reconcile Cryptofuse gateway balances against your own records."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The installed version, looked up only when asked for: reading package metadata
    # would cost every command a few tens of milliseconds at start.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("reconcile-tui")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.0.0"
    raise AttributeError(f"module 'reconcile_tui' has no attribute {name!r}")
