-- core.market_daily: one row per NYSE session from the first SPX/VIX print to the as-of session.
-- Quarantined cells are NULL here; close-only history has NULL open/high/low.
-- Needs: core.sessions(date), core.vx_futures, variable as_of. The symbols and their columns in braces
-- are filled in from catalog.DAILY_SYMBOLS (contract.SQL_FRAGMENTS): no symbol is spelled here.
CREATE OR REPLACE TABLE core.market_daily AS
WITH flags AS (
    SELECT row_key, list(DISTINCT column_name) AS cols
    FROM meta.quarantine WHERE table_name = 'raw.daily_bars'
    GROUP BY row_key
),
bars AS (
    SELECT b.symbol, b.date,
           coalesce(f.cols, []) AS cols,
           b.open, b.high, b.low, b.close, b.volume
    FROM raw.daily_bars b
    LEFT JOIN flags f ON f.row_key = b.symbol || '|' || strftime(b.date, '%Y-%m-%d')
    WHERE b.date <= getvariable('as_of')
      AND b.symbol IN ({daily_symbols})
),
clean AS (
    SELECT symbol, date,
           CASE WHEN list_has_any(cols, ['row', 'range', 'open']) THEN NULL ELSE open END AS open,
           CASE WHEN list_has_any(cols, ['row', 'range']) THEN NULL ELSE high END AS high,
           CASE WHEN list_has_any(cols, ['row', 'range']) THEN NULL ELSE low END AS low,
           CASE WHEN list_contains(cols, 'row') THEN NULL ELSE close END AS close,
           volume
    FROM bars
),
wide AS (
    SELECT date,
        {daily_symbol_columns}
    FROM clean GROUP BY date
),
-- VX curve: M1 = the monthly contract with the nearest expiry after the trade date
-- (on its expiry day a contract settles at the morning SOQ and no longer trades), M2 the next.
curve AS (
    SELECT trade_date AS date, expiry, price, price_source,
           row_number() OVER (PARTITION BY trade_date ORDER BY expiry) AS n
    FROM core.vx_futures
    WHERE expiry > trade_date AND price IS NOT NULL
),
vx AS (
    SELECT date,
        max(price)        FILTER (n = 1) AS vx_m1,
        max(price)        FILTER (n = 2) AS vx_m2,
        max(expiry)       FILTER (n = 1) AS vx_m1_expiry,
        max(expiry)       FILTER (n = 2) AS vx_m2_expiry,
        max(price_source) FILTER (n = 1) AS vx_m1_price_source
    FROM curve WHERE n <= 2 GROUP BY date
),
first_print AS (
    SELECT min(date) AS d FROM wide WHERE spx_close IS NOT NULL OR vix IS NOT NULL
)
SELECT s.date, w.* EXCLUDE (date), vx.* EXCLUDE (date)
FROM core.sessions s
LEFT JOIN wide w USING (date)
LEFT JOIN vx USING (date)
WHERE s.date >= (SELECT d FROM first_print) AND s.date <= getvariable('as_of')
ORDER BY s.date;
