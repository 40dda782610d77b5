-- core.vx_futures, core.macro_observations, core.events: raw minus quarantine, cut at as_of.
CREATE OR REPLACE TABLE core.vx_futures AS
WITH flags AS (
    SELECT row_key, list(DISTINCT column_name) AS cols
    FROM meta.quarantine WHERE table_name = 'raw.vx_futures' GROUP BY row_key
)
SELECT v.trade_date, v.expiry,
       CASE WHEN list_contains(f.cols, 'range') THEN NULL ELSE v.open END AS open,
       CASE WHEN list_contains(f.cols, 'range') THEN NULL ELSE v.high END AS high,
       CASE WHEN list_contains(f.cols, 'range') THEN NULL ELSE v.low END AS low,
       v.close, v.settle,
       CASE WHEN v.settle > 0 THEN v.settle WHEN v.close > 0 THEN v.close END AS price,
       CASE WHEN v.settle > 0 THEN 'settle' WHEN v.close > 0 THEN 'close' END AS price_source,
       v.volume, v.open_interest,
       date_diff('day', v.trade_date, v.expiry) AS days_to_expiry
FROM raw.vx_futures v
LEFT JOIN flags f ON f.row_key = strftime(v.trade_date, '%Y-%m-%d') || '|' || strftime(v.expiry, '%Y-%m-%d')
WHERE v.trade_date <= getvariable('as_of')
  AND v.trade_date IN (SELECT date FROM core.sessions)
  AND NOT coalesce(list_contains(f.cols, 'row'), false)
  AND v.expiry IN (SELECT expiry FROM vix_monthly_expirations)
ORDER BY v.trade_date, v.expiry;

CREATE OR REPLACE TABLE core.macro_observations AS
SELECT m.series_id, m.observation_date, m.value, m.available_date, m.source
FROM raw.macro_observations m
WHERE m.available_date <= getvariable('as_of')
  AND NOT EXISTS (
      SELECT 1 FROM meta.quarantine q
      WHERE q.table_name = 'raw.macro_observations' AND q.column_name = 'row'
        AND q.row_key = m.series_id || '|' || strftime(m.observation_date, '%Y-%m-%d'))
ORDER BY m.series_id, m.observation_date;

-- Event calendars look ahead by design: a scheduled FOMC meeting or CPI release is known about a
-- year before it happens, an unscheduled decision only on its day. `known_from` says which. A blank
-- `scheduled` flag is not a default: it is resolved from the Fed's meeting calendar that ships with
-- the package (temp table shipped_fomc, made by checks.register_rules); a decision that calendar does
-- not list is taken as unscheduled, so it is never known before its day (check events_schedule_unknown
-- lists these).
-- A delivered FOMC file is the truth for the dates it covers; past its last decision the shipped
-- calendar carries on (a file downloaded in March knows no meeting after it, and the event gate would
-- silently stop holding entries before every later one).
CREATE OR REPLACE TABLE core.events AS
WITH resolved AS (
    SELECT e.date, e.kind,
           coalesce(e.scheduled, c.scheduled, FALSE) AS scheduled,
           CASE WHEN e.scheduled IS NOT NULL THEN 'source'
                WHEN c.scheduled IS NOT NULL THEN 'calendar'
                ELSE 'unknown' END AS scheduled_from
    FROM raw.events e
    LEFT JOIN shipped_fomc c ON e.kind = 'fomc' AND c.date = e.date
    UNION ALL
    SELECT date, 'fomc', scheduled, 'calendar' FROM shipped_fomc
    WHERE date > (SELECT coalesce(max(date), DATE '1900-01-01') FROM raw.events WHERE kind = 'fomc')
)
SELECT date, kind, scheduled,
       CASE WHEN scheduled THEN CAST(date - INTERVAL 365 DAY AS DATE) ELSE date END AS known_from,
       scheduled_from
FROM resolved
WHERE (CASE WHEN scheduled THEN CAST(date - INTERVAL 365 DAY AS DATE) ELSE date END) <= getvariable('as_of')
ORDER BY date, kind;

-- Breadth inputs: closes of the configured universe (temp table breadth_universe) and the vendor
-- A-D line, on sessions up to as_of. Adjusted closes are safe here: a later dividend rescales every
-- earlier close by the same factor, so day-over-day signs and close/SMA ratios do not change.
CREATE OR REPLACE TABLE core.breadth_closes AS
SELECT b.date, b.symbol, coalesce(b.adj_close, b.close) AS close
FROM raw.daily_bars b
WHERE b.symbol IN (SELECT symbol FROM breadth_universe)
  AND b.date <= getvariable('as_of')
  AND b.date IN (SELECT date FROM core.sessions)
  AND coalesce(b.adj_close, b.close) > 0
ORDER BY b.date, b.symbol;

CREATE OR REPLACE TABLE core.breadth_vendor AS
SELECT series, date, value FROM raw.breadth_vendor
WHERE date <= getvariable('as_of') AND date IN (SELECT date FROM core.sessions)
ORDER BY series, date;
