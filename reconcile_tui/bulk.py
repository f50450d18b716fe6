"""Building millions of small objects at once (matching, a stored listing read back)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collection_paused"]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk step makes a few small objects per
    record or transaction, millions in all, none of them in a cycle: meanwhile it would
    walk every live object again and again (docs/performance.md, "Check with transactions":
    at 300,000 records it was 40% of the check). What it would find is still found, at the
    next collection after this."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
