"""Performance measurements of reconcile-tui, each against a baseline timed in the same run.

`python -m benchmarks` (`make bench`) measures import, reconcile, the gateway client and
the terminal app at 100,000 and 1,000,000 records and writes docs/performance.md;
`--smoke` runs the smallest size once, to show that the suite works (CI does that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

#: The repository root: every subprocess runs here, so `python -m benchmarks.x` resolves.
REPO: Final = Path(__file__).resolve().parent.parent
#: Generated scenarios and working databases (git-ignored).
DATA: Final = REPO / "benchmarks" / ".data"
