-- Offenders: an FOMC decisions file that disagrees with the shipped Fed calendar (temp table shipped_fomc,
-- vixshield/data/fomc_decisions.csv) on most of what both give, within the years the calendar covers (at
-- least 10 dates judged): most of its dates are not on the calendar, or most of the scheduled flags it
-- gives for the calendar's dates are the opposite of the calendar's. Sources legitimately differ on a few
-- dates (conference calls, intermeeting actions: the bundle's file has 8 of about 300 the shipped one
-- lacks) and on no flag the file gives; a file whose dates are shifted by a day or read day-first misses
-- nearly all, and one whose flags are inverted makes every scheduled meeting unannounced: either would
-- move the event gate off every meeting.
WITH delivered AS (
    SELECT e.date, e.scheduled, e.scheduled_from = 'source' AS flag_delivered, c.date IS NOT NULL AS on_calendar,
           c.scheduled AS calendar_scheduled
    FROM core.events e LEFT JOIN shipped_fomc c ON c.date = e.date
    WHERE e.kind = 'fomc'
      AND e.date BETWEEN (SELECT min(date) FROM shipped_fomc) AND (SELECT max(date) FROM shipped_fomc)
),
judged AS (
    SELECT count(*) FILTER (WHERE NOT on_calendar) AS off_calendar, count(*) AS judged,
           min(date) FILTER (WHERE NOT on_calendar) AS first_off_calendar,
           count(*) FILTER (WHERE on_calendar AND flag_delivered) AS flags_judged,
           count(*) FILTER (WHERE on_calendar AND flag_delivered AND scheduled <> calendar_scheduled)
               AS flags_opposite
    FROM delivered
)
SELECT * FROM judged
WHERE (judged >= 10 AND off_calendar > judged / 2) OR (flags_judged >= 10 AND flags_opposite > flags_judged / 2);
