DROP INDEX change_log_prev_squad;
DROP INDEX change_log_prev_village;
DROP INDEX change_log_reporter;
DROP INDEX change_log_squad;
DROP INDEX change_log_village;
CREATE INDEX change_log_village ON change_log (village_code, seq);
CREATE INDEX change_log_squad ON change_log (squad_id, seq);
CREATE INDEX change_log_reporter ON change_log (reporter_id, seq);
