"""Screens of the regtui TUI, one file each."""
