"""reconcile-tui: reconcile Cryptofuse gateway balances against your own records."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("reconcile-tui")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
