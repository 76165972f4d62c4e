ALTER TABLE attachments DROP COLUMN transcript;
ALTER TABLE attachments DROP COLUMN phase;
