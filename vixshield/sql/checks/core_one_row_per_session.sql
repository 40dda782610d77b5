-- Offenders: sessions that appear more than once, or rows on dates that are not NYSE sessions.
SELECT date, count(*) AS n FROM core.market_daily GROUP BY date HAVING count(*) > 1
UNION ALL
SELECT date, 1 FROM core.market_daily WHERE date NOT IN (SELECT date FROM core.sessions);
