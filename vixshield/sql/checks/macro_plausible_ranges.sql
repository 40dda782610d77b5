-- Offenders: macro values outside their series' plausible range (needs temp table macro_rules).
SELECT m.series_id, m.observation_date, m.value, r.lo, r.hi
FROM core.macro_observations m JOIN macro_rules r USING (series_id)
WHERE m.value < r.lo OR m.value > r.hi;
