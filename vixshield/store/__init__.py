"""The warehouse: every table declared once (contract), DDL and in-place migrations from it, the
raw families' frame shapes, transactions and upserts, and the data dictionary."""
