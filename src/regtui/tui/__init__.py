"""The terminal UI: a thin face over regtui.catalog (see app.make_app)."""
