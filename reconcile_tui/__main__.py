"""`python -m reconcile_tui` runs the `reconcile-tui` command."""

from reconcile_tui.cli import main

main()
