-- The meeting book: a meeting can be rescheduled or cancelled (with the reason) before it is
-- held, and the office puts each submitted topic to the chair (提交组长审定, seed 004 一(三)),
-- who accepts it onto the agenda or declines it with a note.
ALTER TABLE meetings ADD COLUMN cancelled_at TIMESTAMP;
ALTER TABLE meetings ADD COLUMN cancel_reason TEXT;
ALTER TABLE meeting_topics ADD COLUMN decision TEXT;
ALTER TABLE meeting_topics ADD COLUMN decision_note TEXT;
ALTER TABLE meeting_topics ADD COLUMN decided_by TEXT;
ALTER TABLE meeting_topics ADD COLUMN decided_at TIMESTAMP;
