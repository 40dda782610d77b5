-- Offenders (WARN): one-session log moves beyond the configured limits (variables max_jump_spx,
-- max_jump_vol). Real crashes land here too; a human reads the list.
WITH moves AS (
    SELECT date,
           ln(spx_close / lag(spx_close) OVER w) AS spx_move,
           ln(vix / lag(vix) OVER w) AS vix_move,
           ln(vix3m / lag(vix3m) OVER w) AS vix3m_move,
           ln(vvix / lag(vvix) OVER w) AS vvix_move
    FROM core.market_daily WINDOW w AS (ORDER BY date)
)
SELECT date, round(spx_move, 4) AS spx_move, round(vix_move, 4) AS vix_move,
       round(vix3m_move, 4) AS vix3m_move, round(vvix_move, 4) AS vvix_move
FROM moves
WHERE abs(spx_move) > getvariable('max_jump_spx')
   OR abs(vix_move) > getvariable('max_jump_vol')
   OR abs(vix3m_move) > getvariable('max_jump_vol')
   OR abs(vvix_move) > getvariable('max_jump_vol')
ORDER BY date;
