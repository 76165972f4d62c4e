DROP INDEX reports_transfer_department;
ALTER TABLE reports DROP COLUMN transfer_department_id;
