-- Macro as known at each session's close: an ASOF join on available_date (never observation date).
-- Monthly transforms (YoY, 3-month annualized) are computed on the observation series first, so a
-- session sees the YoY of the latest released month. A value older than its series' max age (temp
-- table macro_max_age) counts as missing: a discontinued series is not carried forward for ever.
-- Output: temp table macro_asof(date, series_id, observation_date, value, yoy, ann3m).
CREATE OR REPLACE TEMP TABLE macro_obs AS
SELECT series_id, observation_date, available_date, value,
       CASE WHEN lag(observation_date, 12) OVER w = observation_date - INTERVAL 12 MONTH
            THEN value / lag(value, 12) OVER w - 1 END AS yoy,
       CASE WHEN lag(observation_date, 3) OVER w = observation_date - INTERVAL 3 MONTH
            THEN power(value / lag(value, 3) OVER w, 4) - 1 END AS ann3m
FROM core.macro_observations
WINDOW w AS (PARTITION BY series_id ORDER BY observation_date);

-- One row per series and release day: the newest observation released that day
-- (a catch-up release can publish two months at once).
CREATE OR REPLACE TEMP TABLE macro_known AS
SELECT series_id, available_date,
       max(observation_date) AS observation_date,
       arg_max(value, observation_date) AS value,
       arg_max(yoy, observation_date) AS yoy,
       arg_max(ann3m, observation_date) AS ann3m
FROM macro_obs
GROUP BY series_id, available_date;

CREATE OR REPLACE TEMP TABLE macro_asof AS
WITH grid AS (
    SELECT s.date, m.series_id, m.max_age_days
    FROM core.sessions s CROSS JOIN macro_max_age m
)
SELECT g.date, g.series_id, k.observation_date,
       CASE WHEN g.date - k.observation_date <= g.max_age_days THEN k.value END AS value,
       CASE WHEN g.date - k.observation_date <= g.max_age_days THEN k.yoy END AS yoy,
       CASE WHEN g.date - k.observation_date <= g.max_age_days THEN k.ann3m END AS ann3m
FROM grid g
ASOF LEFT JOIN macro_known k ON g.series_id = k.series_id AND g.date >= k.available_date
ORDER BY g.series_id, g.date;
