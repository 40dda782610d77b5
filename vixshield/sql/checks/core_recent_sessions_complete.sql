-- Offenders: any of the last 20 sessions (to as_of) missing an SPX or VIX close, other than a session
-- before the as-of that the user accepted the history lacks (validation.accepted_holes).
WITH recent AS (SELECT date FROM core.sessions WHERE date <= getvariable('as_of') ORDER BY date DESC LIMIT 20),
accepted AS (SELECT core_column, date FROM accepted_holes WHERE date < getvariable('as_of'))
SELECT s.date, m.spx_close, m.vix
FROM recent s
LEFT JOIN core.market_daily m USING (date)
WHERE (m.spx_close IS NULL
       AND NOT EXISTS (SELECT 1 FROM accepted a WHERE a.core_column = 'spx_close' AND a.date = s.date))
   OR (m.vix IS NULL AND NOT EXISTS (SELECT 1 FROM accepted a WHERE a.core_column = 'vix' AND a.date = s.date))
ORDER BY s.date;
