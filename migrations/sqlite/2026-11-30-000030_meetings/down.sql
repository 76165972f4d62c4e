DROP TABLE meeting_item_progress;
DROP TABLE meeting_items;
DROP TABLE meeting_topics;
DROP TABLE meeting_members;
DROP TABLE meetings;
