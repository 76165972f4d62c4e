DROP TABLE sync_receipts;
DROP TABLE sync_devices;
DROP INDEX change_log_at;
DROP INDEX change_log_reporter;
DROP INDEX change_log_squad;
DROP INDEX change_log_village;
ALTER TABLE change_log DROP COLUMN prev_squad_id;
ALTER TABLE change_log DROP COLUMN prev_village_code;
