-- Answers over the data of test/upgrade/extra.sql (contests, badges,
-- rewards, scorecards) and reads that test/restore/answers.sql does not
-- make (reports, targets), at fixed moments.  test/upgrade/upgrade.sh
-- compares them section by section between an updated and a fresh database.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset null '<null>'
SET client_min_messages = warning;
SET extra_float_digits = 3;
SET TimeZone = 'UTC';

\echo '## contest_standings'
SELECT c.name, s.* FROM salesperf.contest c, salesperf.contest_standings(c.name) s ORDER BY 1, 2, 3;

\echo '## contest_drift'
SELECT * FROM salesperf.contest_drift ORDER BY 1, 2, 3;

\echo '## achievement_board_at'
SELECT m, b.* FROM unnest(ARRAY[timestamptz '2025-03-15 12:00 America/New_York', '2025-05-31 12:00 America/New_York']) m,
       salesperf.achievement_board_at(m) b ORDER BY 1, 2;

\echo '## scorecard_ranking'
SELECT p, s.* FROM unnest(ARRAY['month', 'quarter', 'year']) p,
       salesperf.scorecard_ranking('balanced', p, '2025-03-20 12:00 America/New_York') s ORDER BY 1, 2, 3;

\echo '## target_progress_at'
SELECT t.* FROM salesperf.target_progress_at('2025-03-20 12:00 America/New_York') t ORDER BY 1, 2, 3, 5, 6;

\echo '## kpi_report_at'
SELECT r.* FROM salesperf.kpi_report_at('2025-03-20 12:00 America/New_York') r ORDER BY r::text;

\echo '## scoreboard_at'
SELECT s.* FROM salesperf.scoreboard_at('2025-03-20 12:00 America/New_York') s ORDER BY 1;
