-- Offenders: impossible feature values (infinities, RSI outside [0, 100], non-positive vols).
SELECT date, 'infinite' AS problem FROM features.daily
WHERE NOT isfinite(coalesce(rv21, 0)) OR NOT isfinite(coalesce(yz21, 0)) OR NOT isfinite(coalesce(ivts, 0))
   OR NOT isfinite(coalesce(vrp, 0)) OR NOT isfinite(coalesce(garch_vol21, 0)) OR NOT isfinite(coalesce(macro_stress, 0))
UNION ALL
SELECT date, 'rsi_out_of_range' FROM features.daily
WHERE spx_rsi14 NOT BETWEEN 0 AND 100 OR vix_rsi14 NOT BETWEEN 0 AND 100
UNION ALL
SELECT date, 'vol_not_positive' FROM features.daily
WHERE rv10 <= 0 OR rv21 <= 0 OR rv63 <= 0 OR pk21 <= 0 OR yz21 <= 0 OR garch_vol21 <= 0 OR garch_vol45 <= 0
UNION ALL
SELECT date, 'ratio_not_positive' FROM features.daily
WHERE ivts <= 0 OR vix9d_vix <= 0 OR vix3m_vix6m <= 0 OR vix_pct252 NOT BETWEEN 0 AND 1;
