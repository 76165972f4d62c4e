DROP TABLE photo_jobs;
ALTER TABLE attachments DROP COLUMN derive_error;
ALTER TABLE attachments DROP COLUMN derive_state;
