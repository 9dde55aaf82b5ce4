"""The catalog: tables, the service over them, and the pieces it is built from.

Nothing here imports textual or rich; the CLI, the TUI and the watcher all
call `regtui.catalog.service.Catalog`.
"""
