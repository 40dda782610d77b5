"""Stage 1, raw: one module per publisher (sources/), the parse cache, and the load that makes a
delivery point-in-time and writes it to raw.* in one transaction."""
