"""Stage 5, backtest: replay the book per strategy, metrics, the backtest.* tables and the report."""
