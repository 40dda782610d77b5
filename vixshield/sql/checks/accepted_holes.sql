-- Offenders (WARN): every session up to the as-of that validation.accepted_holes lets the history lack, or
-- whose row validation.set_aside sets aside, with the user's reason and its state. The history checks
-- (core_required_history_complete, core_recent_sessions_complete, history_rows_usable) do not block on
-- these; this check keeps each one in every run's record. A daily symbol's hole is judged on its close in
-- core (a stored row set aside by a rule is still a hole); any other series' on its stored rows. A set-aside
-- entry is in meta.quarantine exactly when a daily bar, VX or macro row of it is stored (quarantine_rules).
WITH closes AS (  -- the daily symbols' closes in core, one row per value (UNPIVOT leaves out the nulls)
    UNPIVOT (SELECT date, spx_close, vix, vix9d, vix3m, vix6m, vvix, skew FROM core.market_daily
             WHERE date IN (SELECT date FROM accepted_holes))
    ON spx_close, vix, vix9d, vix3m, vix6m, vvix, skew INTO NAME core_column VALUE close
)
SELECT a.date, a.series, a.reason,
       CASE
           WHEN a.set_aside AND EXISTS (
               SELECT 1 FROM raw_series_dates r WHERE r.series = a.series AND r.date = a.date
                 AND r.table_name IN ('raw.daily_bars', 'raw.vx_futures', 'raw.macro_observations'))
               THEN 'set aside: the delivered row is in meta.quarantine and not used'
           WHEN a.set_aside
               THEN 'set aside, but no daily bar, VX or macro row of it is stored: nothing was set aside'
           WHEN a.core_column IS NULL AND NOT EXISTS (SELECT 1 FROM raw_series_dates r WHERE r.series = a.series)
               THEN 'no stored series is named so: spell it as the row keys of meta.quarantine do'
           WHEN EXISTS (SELECT 1 FROM closes c WHERE c.core_column = a.core_column AND c.date = a.date)
             OR (a.core_column IS NULL
                 AND EXISTS (SELECT 1 FROM raw_series_dates r WHERE r.series = a.series AND r.date = a.date))
               THEN 'no longer a hole: a delivery filled it, so it can be removed from validation.accepted_holes'
           ELSE 'accepted: the history lacks this session'
       END AS state
FROM accepted_holes a
WHERE a.date <= getvariable('as_of')
ORDER BY a.date, a.series;
