-- signals.latest_plan: what a trader reads each evening, in one row: the latest session's regime,
-- the condor plan (or why there is none), the actions on open condors and the hedge layers.
-- Each part is filtered to the latest date before aggregating (a correlated subquery in the select
-- list made DuckDB aggregate every date: ~200 ms instead of a few).
CREATE OR REPLACE VIEW signals.latest_plan AS
WITH d AS (SELECT max(date) AS date FROM signals.condor_plan),
acts AS (
    SELECT list(a ORDER BY a.position_id) AS actions
    FROM signals.condor_actions a JOIN d ON a.date = d.date
),
hedges AS (
    SELECT list(h ORDER BY h.layer) AS hedge_layers
    FROM signals.hedge_layers h JOIN d ON h.date = d.date
)
SELECT p.*,
       r.regime AS regime_after_hysteresis,
       r.sessions_in_regime,
       r.reasons AS regime_reasons,
       acts.actions,
       hedges.hedge_layers,
       b.nav AS book_nav, b.open_condors, b.open_risk_pct_nav
FROM d
JOIN signals.condor_plan p ON p.date = d.date
CROSS JOIN acts
CROSS JOIN hedges
LEFT JOIN features.regime r ON r.date = d.date
LEFT JOIN signals.book_daily b ON b.date = d.date;
