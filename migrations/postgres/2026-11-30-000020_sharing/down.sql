DROP TABLE decision_notices;
DROP TABLE shared_items;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
DROP TABLE open311_requests;
