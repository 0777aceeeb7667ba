-- Sign-out (POST /api/v1/auth/logout) ends the account's sessions: every token carries the epoch it was issued
-- in ("sess"), and a token of an older epoch is refused on every gateway instance, which all read this table.
ALTER TABLE users ADD COLUMN session_epoch bigint NOT NULL DEFAULT 0 CHECK (session_epoch >= 0);
