ALTER TABLE meeting_topics DROP COLUMN decided_at;
ALTER TABLE meeting_topics DROP COLUMN decided_by;
ALTER TABLE meeting_topics DROP COLUMN decision_note;
ALTER TABLE meeting_topics DROP COLUMN decision;
ALTER TABLE meetings DROP COLUMN cancel_reason;
ALTER TABLE meetings DROP COLUMN cancelled_at;
