-- raw: rows as fetched, one table per family. Keys are the publishers' natural keys.
-- `source` names the publisher (prefixed `files:`/`sample:` when read from disk),
-- `fetched_at`/`run_id` the run that last changed the row (unchanged rows keep theirs).
CREATE SCHEMA IF NOT EXISTS raw;

CREATE TABLE IF NOT EXISTS raw.daily_bars (
    symbol      VARCHAR NOT NULL,   -- Yahoo spelling: ^GSPC, ^VIX, ... and breadth-universe tickers
    date        DATE NOT NULL,      -- NYSE session date
    open        DOUBLE,
    high        DOUBLE,
    low         DOUBLE,
    close       DOUBLE,
    adj_close   DOUBLE,
    volume      DOUBLE,
    source      VARCHAR NOT NULL,
    fetched_at  TIMESTAMP NOT NULL,
    run_id      VARCHAR NOT NULL,
    PRIMARY KEY (symbol, date)
);

CREATE TABLE IF NOT EXISTS raw.macro_observations (
    series_id        VARCHAR NOT NULL,  -- FRED series id
    observation_date DATE NOT NULL,     -- the period the value describes
    value            DOUBLE,
    available_date   DATE NOT NULL,     -- first NYSE session at whose close the value was knowable
    source           VARCHAR NOT NULL,
    fetched_at       TIMESTAMP NOT NULL,
    run_id           VARCHAR NOT NULL,
    PRIMARY KEY (series_id, observation_date)
);

CREATE TABLE IF NOT EXISTS raw.vx_futures (
    trade_date    DATE NOT NULL,
    expiry        DATE NOT NULL,        -- final settlement date of the contract
    open          DOUBLE,
    high          DOUBLE,
    low           DOUBLE,
    close         DOUBLE,
    settle        DOUBLE,               -- 0.0 throughout 2013 in Cboe's files: core uses close there
    volume        DOUBLE,
    open_interest DOUBLE,
    source        VARCHAR NOT NULL,
    fetched_at    TIMESTAMP NOT NULL,
    run_id        VARCHAR NOT NULL,
    PRIMARY KEY (trade_date, expiry)
);

CREATE TABLE IF NOT EXISTS raw.events (
    date        DATE NOT NULL,
    kind        VARCHAR NOT NULL,       -- fomc | cpi | ppi
    scheduled   BOOLEAN,                -- NULL where the source does not say
    source      VARCHAR NOT NULL,
    fetched_at  TIMESTAMP NOT NULL,
    run_id      VARCHAR NOT NULL,
    PRIMARY KEY (date, kind)
);

CREATE TABLE IF NOT EXISTS raw.breadth_vendor (
    series      VARCHAR NOT NULL,       -- NYAD (A-D line level), NYMO (McClellan oscillator)
    date        DATE NOT NULL,
    value       DOUBLE,
    source      VARCHAR NOT NULL,
    fetched_at  TIMESTAMP NOT NULL,
    run_id      VARCHAR NOT NULL,
    PRIMARY KEY (series, date)
);
