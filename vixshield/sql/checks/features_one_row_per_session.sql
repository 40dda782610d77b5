-- Offenders: features.daily rows that are not exactly the sessions of core.market_daily.
(SELECT date, 'missing' AS problem FROM core.market_daily EXCEPT SELECT date, 'missing' FROM features.daily)
UNION ALL
(SELECT date, 'extra' FROM features.daily EXCEPT SELECT date, 'extra' FROM core.market_daily)
UNION ALL
SELECT date, 'duplicate' FROM features.daily GROUP BY date HAVING count(*) > 1;
