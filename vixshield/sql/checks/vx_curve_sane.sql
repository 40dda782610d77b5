-- Offenders (WARN): sessions with a VX contract but no M1, or M1 expiring on/before the session.
SELECT date, vx_m1, vx_m1_expiry FROM core.market_daily
WHERE (vx_m1 IS NULL AND date IN (SELECT trade_date FROM core.vx_futures))
   OR vx_m1_expiry <= date;
