-- Offenders: plan rows a trader could not place, or entries the rules should have blocked.
SELECT date, 'legs_not_ordered' AS problem FROM signals.condor_plan
WHERE NOT (long_put < short_put AND short_put < short_call AND short_call < long_call)
UNION ALL
SELECT date, 'off_grid' FROM signals.condor_plan
WHERE long_put % 5 <> 0 OR short_put % 5 <> 0 OR short_call % 5 <> 0 OR long_call % 5 <> 0
UNION ALL
SELECT date, 'credit_not_in_range' FROM signals.condor_plan
WHERE enter AND NOT (credit > 0 AND credit < greatest(put_width, call_width))
UNION ALL
SELECT date, 'max_loss_identity' FROM signals.condor_plan
WHERE abs(max_loss - (greatest(put_width, call_width) - credit) * 100) > 1e-6
UNION ALL
SELECT date, 'over_risk_budget' FROM signals.condor_plan
WHERE enter AND (contracts < 1 OR contracts * max_loss > 0.02 * nav_for_sizing + 1e-6)
UNION ALL
SELECT date, 'entered_while_blocked' FROM signals.condor_plan
WHERE enter AND len(list_filter(reasons, lambda x: x LIKE 'GATE_%' OR x LIKE 'CADENCE_%' OR x LIKE 'CAPACITY_%')) > 0;
