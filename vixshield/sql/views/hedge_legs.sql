-- signals.hedge_legs: the VIX call of every hedge-layer row that names one, with its OCC/OSI symbol
-- (root VIX padded to 6, yymmdd, C, strike x 1000 in 8 digits: a 22.5 strike is 00022500).
CREATE OR REPLACE VIEW signals.hedge_legs AS
WITH ins AS (SELECT root FROM signals.instruments WHERE program = 'hedge')
SELECT h.date, h.layer, h.action, h.expiry, 'C' AS "right", h.strike, h.option_price, h.contracts,
       h.contracts_held, ins.root,
       rpad(ins.root, 6, ' ') || strftime(h.expiry, '%y%m%d') || 'C'
           || lpad(CAST(CAST(round(h.strike * 1000) AS BIGINT) AS VARCHAR), 8, '0') AS occ_symbol
FROM signals.hedge_layers h CROSS JOIN ins
WHERE h.expiry IS NOT NULL AND h.strike IS NOT NULL AND NOT isnan(h.strike);
