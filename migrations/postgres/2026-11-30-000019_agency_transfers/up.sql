-- The department a report was transferred to (移送), so that its liaison finds it (scoped in SQL).
ALTER TABLE reports ADD COLUMN transfer_department_id TEXT;
CREATE INDEX reports_transfer_department ON reports (transfer_department_id);
