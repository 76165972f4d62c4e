DROP TABLE assistance_requests;
