"""`regtui serve`: the TUI in a browser (auth: tokens and users; server: the gated
textual-serve server; session: one app process per browser session; child: what it runs)."""
