-- Offenders: daily rates whose values the curve sets aside as a unit slip (quarantine rule
-- out_of_line_with_curve: 0.0485 beside a fed funds rate of 4.83 and a 2-year yield of 4.61), per series,
-- where the slip is current (a value within variable rate_max_age days of the as-of: today's plan would
-- price its options without it) or systematic (at least variable rate_slip_rows values: a file in the
-- wrong unit, whose other values slipped alike where the curve cannot tell, rates a few points apart).
-- A lone old value set aside stays quarantined without stopping the run.
WITH slipped AS (
    SELECT split_part(row_key, '|', 1) AS series_id, CAST(split_part(row_key, '|', 2) AS DATE) AS observation_date,
           reason
    FROM meta.quarantine
    WHERE table_name = 'raw.macro_observations' AND rule = 'out_of_line_with_curve'
      AND CAST(split_part(row_key, '|', 2) AS DATE) <= getvariable('as_of')
)
SELECT series_id, count(*) AS values_set_aside, min(observation_date) AS first, max(observation_date) AS last,
       arg_max(reason, observation_date) AS latest_reason
FROM slipped
GROUP BY series_id
HAVING max(observation_date) >= getvariable('as_of') - getvariable('rate_max_age')
    OR count(*) >= getvariable('rate_slip_rows');
