"""Reusable widgets of the regtui TUI."""
