-- Offenders: the as-of session lacks SPX or VIX (stale or missing recent data).
SELECT getvariable('as_of') AS date,
       (SELECT spx_close FROM core.market_daily WHERE date = getvariable('as_of')) AS spx_close,
       (SELECT vix FROM core.market_daily WHERE date = getvariable('as_of')) AS vix
WHERE NOT EXISTS (
    SELECT 1 FROM core.market_daily
    WHERE date = getvariable('as_of') AND spx_close IS NOT NULL AND vix IS NOT NULL);
