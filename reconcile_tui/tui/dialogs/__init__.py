"""Modal dialogs: acknowledge a discrepancy, export, help."""
