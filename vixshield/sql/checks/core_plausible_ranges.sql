-- Offenders: closes outside the catalog's plausible ranges (needs temp table symbol_rules).
WITH long AS (
    UNPIVOT (SELECT date, spx_close AS "^GSPC", vix AS "^VIX", vix9d AS "^VIX9D", vix3m AS "^VIX3M",
                    vix6m AS "^VIX6M", vvix AS "^VVIX", skew AS "^SKEW" FROM core.market_daily)
    ON COLUMNS(* EXCLUDE (date)) INTO NAME symbol VALUE close
)
SELECT l.date, l.symbol, l.close, r.lo, r.hi
FROM long l JOIN symbol_rules r USING (symbol)
WHERE l.close < r.lo OR l.close > r.hi
UNION ALL
SELECT date, 'VX', vx_m1, 5, 150 FROM core.market_daily WHERE vx_m1 < 5 OR vx_m1 > 150;
