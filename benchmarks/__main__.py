"""`python -m benchmarks`: run the suite and write docs/performance.md.

python -m benchmarks                   100,000 and 1,000,000 records, 3 repetitions
python -m benchmarks --smoke           2,000 records once (shows that the suite works)
python -m benchmarks --repeat 5 --sizes 100000 --sections import reconcile
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import DATA, REPO
from benchmarks.context import RunContext
from benchmarks.figures import Figure
from benchmarks.machine import describe_machine, load_average
from benchmarks.report import Report, write_report

__all__ = ["main"]

SIZES = (100_000, 1_000_000)
SMOKE_SIZE = 2_000
SECTION_NAMES = ("import", "reconcile", "api", "tui")


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--smoke", action="store_true", help="2,000 records, once")
    parser.add_argument("--sizes", type=int, nargs="+", help="records per scenario")
    parser.add_argument("--repeat", type=int, help="repetitions per figure (default 3)")
    parser.add_argument("--sections", nargs="+", choices=SECTION_NAMES, default=SECTION_NAMES)
    parser.add_argument("--out", type=Path, help="the markdown report to write")
    parser.add_argument("--data", type=Path, default=DATA, help="scenario cache and scratch")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiles")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(sys.argv[1:] if argv is None else argv)
    sizes = arguments.sizes or ([SMOKE_SIZE] if arguments.smoke else list(SIZES))
    repeat = arguments.repeat or (1 if arguments.smoke else 3)
    data_dir = arguments.data.resolve()
    out = arguments.out or (
        data_dir / "smoke" / "performance.md"
        if arguments.smoke
        else REPO / "docs" / "performance.md"
    )
    ctx = RunContext(data_dir=data_dir, repeat=repeat, verbose=not arguments.quiet)
    sections = set(arguments.sections)
    command = "python -m benchmarks" + (
        " " + shlex.join(sys.argv[1:] if argv is None else argv)
        if (sys.argv[1:] if argv is None else argv)
        else ""
    )
    started = time.time()
    load_before = load_average()

    from benchmarks.runner import run_suite

    figures, evidence, extra = run_suite(
        ctx, sizes, sections, profile=not arguments.no_profile, keep=arguments.keep
    )
    report = Report(
        machine=describe_machine(),
        command=f".venv/bin/{command}",
        started_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        seconds=time.time() - started,
        repeat=repeat,
        sizes=sizes,
        load_before=load_before,
        load_after=load_average(),
        figures=figures,
        evidence=evidence,
        extra=extra,
    )
    write_report(
        report, out, out.with_suffix(".json") if arguments.out else data_dir / "results.json"
    )
    ctx.log(f"wrote {out}")
    _print_summary(figures)
    return 0


def _print_summary(figures: list[Figure]) -> None:
    for figure in figures:
        if figure.target is not None:
            ratio = f"{figure.ratio:.2f}x" if figure.ratio is not None else "-"
            state = "met" if figure.met else "NOT MET"
            size = f"{figure.size:,}" if figure.size else "-"
            unit = "s" if figure.unit == "rows/s" else figure.unit
            print(
                f"{figure.key:<18} {size:>10}  median {figure.value:10.3f} {unit:<3}"
                f" ratio {ratio:>7}  {state}"
            )


if __name__ == "__main__":
    sys.exit(main())
