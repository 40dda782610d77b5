-- Offenders (WARN): sessions with a VX contract but no M1, M1 expiring on/before the session, or a
-- contract month missing at the front of the curve (M1 more than 40 days out, or M2 more than 40
-- days after M1: monthly expirations are 28 to 35 days apart), which shifts M1/M2 to the wrong contracts.
SELECT date, vx_m1, vx_m1_expiry, vx_m2_expiry FROM core.market_daily
WHERE (vx_m1 IS NULL AND date IN (SELECT trade_date FROM core.vx_futures))
   OR vx_m1_expiry <= date
   OR date_diff('day', date, vx_m1_expiry) > 40
   OR date_diff('day', vx_m1_expiry, vx_m2_expiry) > 40;
