"""Widgets the screens are built from: paged tables, the data banner, the chart, details."""
