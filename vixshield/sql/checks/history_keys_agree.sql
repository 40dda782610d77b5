-- Offenders: keys a delivery gave twice with different values, up to the as-of, where no stored row
-- stands in. Which row is right cannot be known, so neither is loaded (meta.quarantine, rule
-- conflicting_duplicate); on a warehouse that holds the key, the stored value stays and nothing changes.
-- With nothing stored the series loses that session (a VIX close, a VX settle, a CPI month) and every
-- path-dependent number after it moves: the book's history, and so today's plan and tickets, differ from
-- a run on the corrected file. Healed by a delivery with one value per key.
WITH conflicts AS (
    SELECT table_name, row_key, reason,
           try_strptime(split_part(row_key, '|', CASE WHEN table_name IN ('raw.vx_futures', 'raw.events') THEN 1
                                                      ELSE 2 END), '%Y-%m-%d')::DATE AS date
    FROM meta.quarantine
    WHERE column_name = 'input' AND rule = 'conflicting_duplicate'
),
stored AS (
    SELECT 'raw.daily_bars' AS table_name, symbol || '|' || strftime(date, '%Y-%m-%d') AS row_key
    FROM raw.daily_bars
    UNION ALL
    SELECT 'raw.vx_futures', strftime(trade_date, '%Y-%m-%d') || '|' || strftime(expiry, '%Y-%m-%d')
    FROM raw.vx_futures
    UNION ALL
    SELECT 'raw.breadth_vendor', series || '|' || strftime(date, '%Y-%m-%d')
    FROM raw.breadth_vendor
    UNION ALL
    SELECT 'raw.macro_observations', series_id || '|' || strftime(observation_date, '%Y-%m-%d')
    FROM raw.macro_observations
    UNION ALL
    SELECT 'raw.events', strftime(date, '%Y-%m-%d') || '|' || kind
    FROM raw.events
)
SELECT c.date, c.table_name, c.row_key, c.reason
FROM conflicts c
WHERE (c.date IS NULL OR c.date <= getvariable('as_of'))
  AND NOT EXISTS (SELECT 1 FROM stored s WHERE s.table_name = c.table_name AND s.row_key = c.row_key)
ORDER BY c.table_name, c.row_key;
