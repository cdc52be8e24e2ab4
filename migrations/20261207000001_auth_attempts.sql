-- Failed logins and password-reset requests, counted in the database so that every
-- admin-service instance sees the same counts (admin-service's throttle: a growing delay per
-- account and per client address instead of a lock, and a cap on reset e-mails). `key` names
-- what is counted: `login:user:<id>`, `login:email:<address>` for unknown addresses,
-- `login:addr:<ip>`, `forgot:email:<address>`, `forgot:addr:<ip>`.
CREATE TABLE auth_attempts (
    key     text        PRIMARY KEY,
    count   integer     NOT NULL CHECK (count > 0),
    last_at timestamptz NOT NULL
);
CREATE INDEX auth_attempts_last_at_idx ON auth_attempts (last_at);

-- Sessions as families of refresh tokens: a refresh rotates the token within its session and
-- marks the old one used; a used token presented again (stolen, or replayed) ends the session.
ALTER TABLE refresh_tokens ADD COLUMN session_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE refresh_tokens ADD COLUMN used_at timestamptz;
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
