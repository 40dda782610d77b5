"""From tables to trades: option symbols, order tickets, the today page and the read-only HTTP API,
all read from the published snapshot (never the working warehouse)."""
