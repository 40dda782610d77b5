-- Offenders: pairs of macro series equal on more than half of the observation dates up to the as-of that
-- both have (at least 20). Distinct series coincide by chance only (DFF and FEDFUNDS, the closest pair
-- since 1954, on 96 of 558 months); a file holding another series' values (CPIAUCSL's history saved as
-- CPILFESL.csv) passes every range rule and changes every feature built on the series.
SELECT a.series_id AS series_id, b.series_id AS other, count(*) FILTER (WHERE a.value = b.value) AS equal_dates,
       count(*) AS common_dates
FROM core.macro_observations a
JOIN core.macro_observations b
  ON a.observation_date = b.observation_date AND a.series_id < b.series_id
WHERE a.observation_date <= getvariable('as_of')
GROUP BY a.series_id, b.series_id
HAVING count(*) >= 20 AND count(*) FILTER (WHERE a.value = b.value) > count(*) / 2
ORDER BY a.series_id, b.series_id;
