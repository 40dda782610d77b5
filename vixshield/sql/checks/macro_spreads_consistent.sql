-- Offenders: days up to the as-of where a spread FRED computes from two rates (catalog.CURVE_SPREADS:
-- T10Y2Y = DGS10 - DGS2) misses that difference by more than its tolerance (temp table curve_spreads),
-- per spread. FRED's own values never do (at most 0.02 since 1980), so one that does holds a bad value in
-- one of the three files: DGS2's history saved as DGS10 passes every range and curve rule, and prices
-- every option of the plan off the wrong rate. Which file is wrong cannot be told from here.
WITH rates AS (
    SELECT series_id, observation_date, value FROM core.macro_observations
    WHERE isfinite(value) AND observation_date <= getvariable('as_of')
),
misses AS (
    SELECT c.series_id, t.observation_date, t.value AS spread, l.value - s.value AS difference
    FROM curve_spreads c
    JOIN rates t ON t.series_id = c.series_id
    JOIN rates l ON l.series_id = c.long_id AND l.observation_date = t.observation_date
    JOIN rates s ON s.series_id = c.short_id AND s.observation_date = t.observation_date
    WHERE abs(t.value - (l.value - s.value)) > c.tol
)
SELECT series_id, count(*) AS days, min(observation_date) AS first, max(observation_date) AS last,
       arg_max(spread, observation_date) AS latest_spread, round(arg_max(difference, observation_date), 4)
           AS latest_difference
FROM misses
GROUP BY series_id
ORDER BY series_id;
