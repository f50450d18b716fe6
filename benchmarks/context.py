"""What every section of a run shares: where things go, how often to repeat, how to log."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunContext"]


@dataclass(frozen=True)
class RunContext:
    """Settings of one benchmark run."""

    data_dir: Path
    repeat: int
    verbose: bool = True

    @property
    def work_dir(self) -> Path:
        """Scratch space for this run's databases (emptied per size)."""
        return self.data_dir / "work"

    def fresh_dir(self, name: str) -> Path:
        directory = self.work_dir / name
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        return directory

    @property
    def python(self) -> str:
        return sys.executable

    @property
    def cli(self) -> list[str]:
        """The real `reconcile-tui` command of this environment."""
        script = Path(sys.executable).parent / "reconcile-tui"
        return [str(script)] if script.exists() else [sys.executable, "-m", "reconcile_tui"]

    def log(self, message: str) -> None:
        if self.verbose:
            stamp = time.strftime("%H:%M:%S")
            print(f"[{stamp}] {message}", file=sys.stderr, flush=True)
