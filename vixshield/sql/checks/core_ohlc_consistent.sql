-- Offenders: after quarantine every surviving bar must be internally consistent.
SELECT date, 'spx' AS series FROM core.market_daily
WHERE spx_low > spx_high OR spx_close > spx_high OR spx_close < spx_low OR spx_open > spx_high OR spx_open < spx_low
UNION ALL
SELECT date, 'vix' FROM core.market_daily
WHERE vix_low > vix_high OR vix > vix_high OR vix < vix_low OR vix_open > vix_high OR vix_open < vix_low
UNION ALL
SELECT date, 'vix3m' FROM core.market_daily WHERE vix3m_low > vix3m_high OR vix3m > vix3m_high OR vix3m < vix3m_low
UNION ALL
SELECT date, 'vix6m' FROM core.market_daily WHERE vix6m_low > vix6m_high OR vix6m > vix6m_high OR vix6m < vix6m_low
UNION ALL
SELECT date, 'vix9d' FROM core.market_daily WHERE vix9d_low > vix9d_high OR vix9d > vix9d_high OR vix9d < vix9d_low;
