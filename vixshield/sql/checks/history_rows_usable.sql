-- Offenders: rows a delivery brought for a session up to the as-of that were not loaded (a value that is
-- not a number, a row cut short, a key given twice with different values: meta.quarantine) and that no
-- stored row stands in for. On a warehouse that holds the row, the stored value stays and nothing changes.
-- With nothing stored the series loses that session (a VIX close, a VX settle, a CPI month, an FOMC
-- meeting) and every path-dependent number after it moves: the book's history, and so today's plan and
-- tickets, would differ from a run on the corrected file. A row whose key cannot be read names no session
-- (Cboe's own '20268-03-18' contract), and a hole the user accepted is listed by accepted_holes instead:
-- neither is held to this. Healed by a corrected delivery.
WITH flagged AS (
    SELECT table_name, row_key, rule, reason,
           table_name IN ('raw.vx_futures', 'raw.events') AS date_first,
           split_part(row_key, '|', 1) AS a, split_part(row_key, '|', 2) AS b
    FROM meta.quarantine
    WHERE column_name = 'input' AND list_contains(getvariable('unloaded_rules'), rule)
),
keyed AS (  -- (series, date) of each flagged row, dates read as the stores write them or as US dates
    SELECT table_name, row_key, rule, reason,
           coalesce(try_strptime(CASE WHEN date_first THEN a ELSE b END, '%Y-%m-%d'),
                    try_strptime(CASE WHEN date_first THEN a ELSE b END, '%m/%d/%Y'))::DATE AS date,
           CASE WHEN table_name = 'raw.vx_futures'
                THEN strftime(coalesce(try_strptime(b, '%Y-%m-%d'), try_strptime(b, '%m/%d/%Y')), '%Y-%m-%d')
                WHEN date_first THEN b ELSE a END AS series
    FROM flagged
)
SELECT k.date, k.table_name, k.row_key, k.rule, k.reason
FROM keyed k
WHERE k.date IS NOT NULL AND k.series IS NOT NULL AND k.date <= getvariable('as_of')
  -- a market row on a weekday no NYSE session was held (a Cboe holiday print) never reaches core
  AND (k.table_name IN ('raw.macro_observations', 'raw.events') OR k.date IN (SELECT date FROM core.sessions))
  AND NOT EXISTS (
      SELECT 1 FROM raw_series_dates s WHERE s.table_name = k.table_name AND s.series = k.series AND s.date = k.date)
  -- a session the user accepted the history lacks (validation.accepted_holes; listed by accepted_holes)
  AND NOT EXISTS (SELECT 1 FROM accepted_holes a WHERE a.series = k.series AND a.date = k.date)
ORDER BY k.table_name, k.row_key;
