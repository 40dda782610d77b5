"""Stage 2, validation and core: the quarantine rules, the core.* panel built from raw through the
as-of session, and the SQL checks and Great Expectations suites that guard them."""
