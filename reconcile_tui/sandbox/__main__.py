"""`python -m reconcile_tui.sandbox serve|generate`: the sandbox commands on their own."""

from __future__ import annotations

import sys

import click

from reconcile_tui.errors import ReconcileError
from reconcile_tui.sandbox.commands import sandbox


def main() -> None:
    try:
        code = sandbox.main(prog_name="python -m reconcile_tui.sandbox", standalone_mode=False)
    except ReconcileError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except Exception as error:  # click's usage errors carry their own exit code
        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(error.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
