"""The app's screens: overview, currency, wallet, discrepancies, import."""
