-- Offenders (blocking): among the last 20 sessions (to as_of), one with VX prices whose curve misses a
-- contract month at the front: M1 expiring more than 40 days out, or M2 more than 40 days after M1
-- (monthly VIX expirations are 28 to 35 days apart). M1/M2 would silently be the wrong contracts,
-- and the hedge plan priced on them. The same test over all history is a warning (vx_curve_sane).
WITH recent AS (  -- IN, not a join on the LIMIT subquery: DuckDB 1.3 pushed the filter past the LIMIT
    SELECT date FROM core.sessions WHERE date <= getvariable('as_of') ORDER BY date DESC LIMIT 20
)
SELECT m.date, m.vx_m1_expiry, m.vx_m2_expiry
FROM core.market_daily m
WHERE m.date IN (SELECT date FROM recent)
  AND m.vx_m1 IS NOT NULL
  AND (date_diff('day', m.date, m.vx_m1_expiry) > 40 OR date_diff('day', m.vx_m1_expiry, m.vx_m2_expiry) > 40)
ORDER BY m.date;
