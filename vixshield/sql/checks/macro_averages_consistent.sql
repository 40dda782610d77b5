-- Offenders: months up to the as-of where a monthly series FRED computes as the average of a daily one
-- (catalog.MONTHLY_AVERAGES: FEDFUNDS, the month's DFF on every calendar day) misses that average by more
-- than its tolerance (temp table monthly_averages), per series. Only months with a daily value on every
-- calendar day are judged. FRED's own values never miss by more than 0.005 (the rounding), so a miss means
-- one of the two files holds other values (another rate's history saved as DFF passes the curve rule
-- where rates sit close together), and which one cannot be told from here.
WITH daily AS (
    SELECT a.series_id, date_trunc('month', o.observation_date)::DATE AS month, avg(o.value) AS average,
           count(*) AS days, a.tol
    FROM monthly_averages a JOIN core.macro_observations o ON o.series_id = a.daily_id
    WHERE isfinite(o.value) AND o.observation_date <= getvariable('as_of')
    GROUP BY ALL
),
misses AS (
    SELECT d.series_id, d.month, m.value, d.average, m.value - d.average AS gap, d.tol
    FROM daily d JOIN core.macro_observations m ON m.series_id = d.series_id AND m.observation_date = d.month
    WHERE d.days = day(last_day(d.month))
)
SELECT series_id, count(*) AS months, min(month) AS first, max(month) AS last,
       arg_max(value, month) AS latest_value, round(arg_max(average, month), 4) AS latest_average
FROM misses
WHERE abs(gap) > tol
GROUP BY series_id
ORDER BY series_id;
