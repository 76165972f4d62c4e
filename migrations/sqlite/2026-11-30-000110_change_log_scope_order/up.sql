-- Scoped pulls read only their own scope's rows (docs/sync.md): one index per scope column,
-- in page order (seq, entity_type, entity_id), so that a reader's page is a few short index
-- range scans instead of a walk over every change committed after its cursor. The two
-- "scope just left" columns are almost always NULL: partial indexes keep them small.
DROP INDEX change_log_village;
DROP INDEX change_log_squad;
DROP INDEX change_log_reporter;
CREATE INDEX change_log_village ON change_log (village_code, seq, entity_type, entity_id);
CREATE INDEX change_log_squad ON change_log (squad_id, seq, entity_type, entity_id);
CREATE INDEX change_log_reporter ON change_log (reporter_id, seq, entity_type, entity_id);
CREATE INDEX change_log_prev_village ON change_log (prev_village_code, seq, entity_type, entity_id)
    WHERE prev_village_code IS NOT NULL;
CREATE INDEX change_log_prev_squad ON change_log (prev_squad_id, seq, entity_type, entity_id)
    WHERE prev_squad_id IS NOT NULL;
