-- meta: what ran, what each check found, and which rows were set aside and why.
CREATE SCHEMA IF NOT EXISTS meta;

CREATE TABLE IF NOT EXISTS meta.runs (
    run_id              VARCHAR PRIMARY KEY,
    started_at          TIMESTAMP NOT NULL,
    finished_at         TIMESTAMP,
    status              VARCHAR NOT NULL,     -- running | success | failure | killed (closed by the next run)
    source              VARCHAR,
    as_of               DATE,
    config_hash         VARCHAR,
    methodology_version VARCHAR,
    row_counts          JSON,                 -- table -> rows after the run
    changes             JSON,                 -- raw table -> {inserted, revised, unchanged}
    message             VARCHAR
);

CREATE TABLE IF NOT EXISTS meta.check_results (
    run_id      VARCHAR NOT NULL,
    asset       VARCHAR NOT NULL,             -- e.g. raw.daily_bars
    check_name  VARCHAR NOT NULL,
    passed      BOOLEAN NOT NULL,
    severity    VARCHAR NOT NULL,             -- ERROR (blocking) | WARN
    failures    BIGINT,                       -- offending rows, where countable
    details     JSON,
    checked_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, asset, check_name)
);

-- Rows or cells set aside. `column_name` is a value column, 'range' (open/high/low together)
-- or 'row' (the whole row). Ingest rejects (rows a parser could not read) are kept forever;
-- validation rules are re-derived from raw on every run, so this table is deterministic.
CREATE TABLE IF NOT EXISTS meta.quarantine (
    table_name  VARCHAR NOT NULL,
    row_key     VARCHAR NOT NULL,             -- key columns joined by '|', dates as YYYY-MM-DD
    column_name VARCHAR NOT NULL,
    rule        VARCHAR NOT NULL,
    value       VARCHAR,
    reason      VARCHAR NOT NULL,
    PRIMARY KEY (table_name, row_key, column_name, rule)
);
-- Upgrade: input rows that were never loaded once sat under column 'row' (which nulls core cells of
-- a good stored row with the same key); they belong under 'input'. A no-op once done.
INSERT OR IGNORE INTO meta.quarantine
SELECT table_name, row_key, 'input', rule, value, reason FROM meta.quarantine
WHERE column_name = 'row' AND rule = 'unreadable';
DELETE FROM meta.quarantine WHERE column_name = 'row' AND rule = 'unreadable';

-- The daily book's state after its last session, so the next run resumes there instead of replaying
-- 1990 onwards. Used only while the engine (code + settings) and every input up to last_date are
-- unchanged: both are digests, checked on each run; any difference replays the whole history.
CREATE TABLE IF NOT EXISTS meta.book_state (
    last_date       DATE NOT NULL,
    engine_digest   VARCHAR NOT NULL,         -- the book's code, its settings, the methodology version
    inputs_digest   VARCHAR NOT NULL,         -- features, regimes, VX prices and SPX opens up to last_date
    state           BLOB NOT NULL             -- pickled vixshield.book.BookState
);
