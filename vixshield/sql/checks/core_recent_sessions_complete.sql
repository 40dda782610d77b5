-- Offenders: any of the last 20 sessions (to as_of) missing an SPX or VIX close.
SELECT s.date, m.spx_close, m.vix
FROM (SELECT date FROM core.sessions WHERE date <= getvariable('as_of') ORDER BY date DESC LIMIT 20) s
LEFT JOIN core.market_daily m USING (date)
WHERE m.spx_close IS NULL OR m.vix IS NULL
ORDER BY s.date;
