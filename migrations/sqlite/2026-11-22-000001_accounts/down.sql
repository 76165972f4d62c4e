DROP TABLE login_attempts;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE users;
DROP TABLE settings;
