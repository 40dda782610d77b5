-- Offenders: sessions with a VIX close but no regime, or a regime row without a VIX close.
(SELECT date, 'no_regime' AS problem FROM core.market_daily WHERE vix IS NOT NULL
 EXCEPT SELECT date, 'no_regime' FROM features.regime)
UNION ALL
(SELECT date, 'no_vix' FROM features.regime
 EXCEPT SELECT date, 'no_vix' FROM core.market_daily WHERE vix IS NOT NULL)
UNION ALL
SELECT date, 'unknown_regime' FROM features.regime
WHERE regime NOT IN ('CALM', 'NORMAL', 'ELEVATED', 'STRESSED', 'CRISIS') OR len(reasons) = 0;
