"""Stage 6, serving: the read-only published snapshot and Parquet export, the column contract apps
rely on, and from tables to trades: option symbols, order tickets, the plan in a terminal, the today
page and the read-only HTTP API, all read from the published snapshot (never the working warehouse)."""
