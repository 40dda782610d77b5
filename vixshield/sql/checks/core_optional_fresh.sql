-- Offenders (WARN): optional series whose last value is more than 5 sessions before as_of.
WITH last AS (
    SELECT 'vix9d' AS series, max(date) FILTER (vix9d IS NOT NULL) AS last_date FROM core.market_daily
    UNION ALL SELECT 'vix3m', max(date) FILTER (vix3m IS NOT NULL) FROM core.market_daily
    UNION ALL SELECT 'vix6m', max(date) FILTER (vix6m IS NOT NULL) FROM core.market_daily
    UNION ALL SELECT 'vvix', max(date) FILTER (vvix IS NOT NULL) FROM core.market_daily
    UNION ALL SELECT 'skew', max(date) FILTER (skew IS NOT NULL) FROM core.market_daily
    UNION ALL SELECT 'vx_m1', max(date) FILTER (vx_m1 IS NOT NULL) FROM core.market_daily
)
SELECT series, last_date,
       (SELECT count(*) FROM core.sessions s WHERE s.date > l.last_date AND s.date <= getvariable('as_of')) AS sessions_behind
FROM last l
WHERE last_date IS NOT NULL
  AND (SELECT count(*) FROM core.sessions s WHERE s.date > l.last_date AND s.date <= getvariable('as_of')) > 5;
