-- Offenders: rows of the as-of session that a delivery brought but that are unusable: a row rule set
-- them aside (a tenfold VIX9D, a VX settle in cents, a repeated bar) or the input rules did not load
-- them (a value that is not a number, keys that disagree) and no stored row stands in. Today's plan and
-- tickets are made from this session: published without the row, they would differ from a run on the
-- corrected file. Rejects dated after today or on a weekend never name a session. Only the newest
-- session is held to this: a replay of history (--as-of) stands on the publishers' own past defects
-- (VVIX 15.71 on 2006-03-15, VX rows without a price in 2013), which no corrected file will ever remove.
WITH flagged AS (
    SELECT table_name, row_key, column_name, rule, reason,
           try_strptime(split_part(row_key, '|', CASE WHEN table_name = 'raw.vx_futures' THEN 1 ELSE 2 END),
                        '%Y-%m-%d')::DATE AS date
    FROM meta.quarantine
    WHERE table_name IN ('raw.daily_bars', 'raw.vx_futures', 'raw.breadth_vendor')
      AND column_name IN ('row', 'input')
      -- a VX row whose contract cannot be read (Cboe's '20268-03-18') names no contract a plan could use
      AND (table_name <> 'raw.vx_futures' OR try_strptime(split_part(row_key, '|', 2), '%Y-%m-%d') IS NOT NULL)
),
stored AS (
    SELECT 'raw.daily_bars' AS table_name, symbol || '|' || strftime(date, '%Y-%m-%d') AS row_key
    FROM raw.daily_bars WHERE date = getvariable('as_of')
    UNION ALL
    SELECT 'raw.vx_futures', strftime(trade_date, '%Y-%m-%d') || '|' || strftime(expiry, '%Y-%m-%d')
    FROM raw.vx_futures WHERE trade_date = getvariable('as_of')
    UNION ALL
    SELECT 'raw.breadth_vendor', series || '|' || strftime(date, '%Y-%m-%d')
    FROM raw.breadth_vendor WHERE date = getvariable('as_of')
)
SELECT f.date, f.table_name, f.row_key, f.rule, f.reason
FROM flagged f
WHERE f.date = getvariable('as_of')
  AND f.date >= (SELECT max(date) FROM raw.daily_bars WHERE symbol = '^GSPC')
  AND (f.column_name = 'row' OR NOT EXISTS (
      SELECT 1 FROM stored s WHERE s.table_name = f.table_name AND s.row_key = f.row_key))
ORDER BY f.table_name, f.row_key;
