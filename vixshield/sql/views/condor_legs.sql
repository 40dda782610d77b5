-- signals.condor_legs: one row per leg of every condor plan (source 'plan') and of every open condor's
-- action row (source 'action'), with the leg's OCC/OSI option symbol: root padded to 6, yymmdd, C/P,
-- strike x 1000 in 8 digits (vixshield/serve/occ.py is the reference; a test holds the two equal).
-- The root comes from signals.instruments (SPXW for the PM-settled default condors, SPX for the
-- AM-settled monthly CNDR replica). Action rows carry the short strikes; the wings keep the widths
-- the position was opened with (an adjustment rolls a short and its wing together), so the long
-- strikes are the shorts -/+ the entry plan's widths. Side is the position's: BUY = long, SELL = short.
CREATE OR REPLACE VIEW signals.condor_legs AS
WITH ins AS (SELECT root FROM signals.instruments WHERE program = 'condor'),
plans AS (
    SELECT date, 'plan' AS source, NULL::VARCHAR AS position_id,
           CASE WHEN enter THEN 'open' ELSE 'candidate' END AS action, expiry, contracts,
           long_put, short_put, short_call, long_call
    FROM signals.condor_plan WHERE expiry IS NOT NULL
),
actions AS (
    SELECT a.date, 'action' AS source, a.position_id, a.action, a.expiry, a.contracts,
           a.short_put - p.put_width AS long_put, a.short_put, a.short_call, a.short_call + p.call_width AS long_call
    FROM signals.condor_actions a
    JOIN signals.condor_plan p ON p.date = a.entry_date
),
rows AS (SELECT * FROM plans UNION ALL SELECT * FROM actions),
legs AS (
    SELECT date, source, position_id, action, expiry, contracts, leg.name AS leg, leg.right AS "right",
           leg.side AS side, leg.strike AS strike
    FROM rows,
    LATERAL (SELECT unnest([
        {'name': 'long_put', 'right': 'P', 'side': 'BUY', 'strike': long_put},
        {'name': 'short_put', 'right': 'P', 'side': 'SELL', 'strike': short_put},
        {'name': 'short_call', 'right': 'C', 'side': 'SELL', 'strike': short_call},
        {'name': 'long_call', 'right': 'C', 'side': 'BUY', 'strike': long_call}
    ]) AS leg)
)
SELECT legs.*, ins.root,
       rpad(ins.root, 6, ' ') || strftime(legs.expiry, '%y%m%d') || legs."right"
           || lpad(CAST(CAST(round(legs.strike * 1000) AS BIGINT) AS VARCHAR), 8, '0') AS occ_symbol
FROM legs CROSS JOIN ins;
