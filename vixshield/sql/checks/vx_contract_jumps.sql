-- Offenders: a VX contract's one-session log move beyond the volatility limits (variables max_jump_vol
-- either way, max_drop_vol down), every contract of the curve, up to the as-of. core_outlier_jumps
-- watches the front two months; a settle typed wrong in a later month (20.325 as 70.325) passes every row
-- rule and prices the hedge's options on that expiry. No real move reaches the limits (the largest since
-- 2013: +0.75 and -0.33, 2018-02-05 and 2018-02-06).
WITH moves AS (
    SELECT trade_date AS date, expiry, price,
           ln(price / lag(price) OVER (PARTITION BY expiry ORDER BY trade_date)) AS move
    FROM core.vx_futures
    WHERE price > 0 AND trade_date <= getvariable('as_of')
)
SELECT date, expiry, price, round(move, 4) AS move
FROM moves
WHERE abs(move) > getvariable('max_jump_vol') OR move < -getvariable('max_drop_vol')
ORDER BY date, expiry;
