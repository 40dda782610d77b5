-- Offenders (WARN): sessions inside a series' own history with no value, per series.
WITH spans AS (
    SELECT 'spx' AS series, min(date) FILTER (spx_close IS NOT NULL) AS first FROM core.market_daily
    UNION ALL SELECT 'vix', min(date) FILTER (vix IS NOT NULL) FROM core.market_daily
    UNION ALL SELECT 'vix3m', min(date) FILTER (vix3m IS NOT NULL) FROM core.market_daily
    UNION ALL SELECT 'vvix', min(date) FILTER (vvix IS NOT NULL) FROM core.market_daily
    UNION ALL SELECT 'skew', min(date) FILTER (skew IS NOT NULL) FROM core.market_daily
)
SELECT s.series, count(*) AS missing_sessions, min(m.date) AS first_missing, max(m.date) AS last_missing
FROM spans s JOIN core.market_daily m ON m.date >= s.first
WHERE (s.series = 'spx' AND m.spx_close IS NULL) OR (s.series = 'vix' AND m.vix IS NULL)
   OR (s.series = 'vix3m' AND m.vix3m IS NULL) OR (s.series = 'vvix' AND m.vvix IS NULL)
   OR (s.series = 'skew' AND m.skew IS NULL)
GROUP BY s.series ORDER BY s.series;
