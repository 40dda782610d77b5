-- Offenders: pairs of daily index closes (SPX, the VIX family, VVIX, SKEW) equal on more than half of the
-- sessions up to the as-of where both exist (at least 20). Real indices coincide by chance only (VIX9D and
-- the VIX on 9 of 3,901 sessions, VIX3M and VIX6M on 6 of 4,175): a file holding another index's values
-- (the VIX's history saved as VIX3M_History.csv) passes every range and ratio rule, and would set the
-- term-structure gates (IVTS = VIX / VIX3M = 1) on every session.
WITH closes AS (
    UNPIVOT (SELECT date, spx_close, vix, vix9d, vix3m, vix6m, vvix, skew FROM core.market_daily
             WHERE date <= getvariable('as_of'))
    ON spx_close, vix, vix9d, vix3m, vix6m, vvix, skew INTO NAME series VALUE close
)
SELECT a.series AS series, b.series AS other, count(*) FILTER (WHERE a.close = b.close) AS equal_sessions,
       count(*) AS common_sessions
FROM closes a JOIN closes b ON a.date = b.date AND a.series < b.series
GROUP BY a.series, b.series
HAVING count(*) >= 20 AND count(*) FILTER (WHERE a.close = b.close) > count(*) / 2
ORDER BY a.series, b.series;
