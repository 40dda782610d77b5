-- signals.latest_plan: what a trader reads each evening, in one row: the latest session's regime,
-- the condor plan (or why there is none), the actions on open condors and the hedge layers.
CREATE OR REPLACE VIEW signals.latest_plan AS
WITH d AS (SELECT max(date) AS date FROM signals.condor_plan)
SELECT p.*,
       r.regime AS regime_after_hysteresis,
       r.sessions_in_regime,
       r.reasons AS regime_reasons,
       (SELECT list(a ORDER BY a.position_id) FROM signals.condor_actions a WHERE a.date = d.date) AS actions,
       (SELECT list(h ORDER BY h.layer) FROM signals.hedge_layers h WHERE h.date = d.date) AS hedge_layers,
       b.nav AS book_nav, b.open_condors, b.open_risk_pct_nav
FROM d
JOIN signals.condor_plan p USING (date)
LEFT JOIN features.regime r USING (date)
LEFT JOIN signals.book_daily b USING (date);
