-- What admin-service needs beyond the first schema: application API keys (CompreFace's apps have
-- one), access tokens of logged-in users, and the e-mail addresses invited to register when the
-- sign-up policy is `invite`.

ALTER TABLE apps ADD COLUMN api_key uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE apps ADD CONSTRAINT apps_api_key_key UNIQUE (api_key);

-- OAuth2 access tokens (40 minutes), hashed like the other tokens. `refresh_hash` ties a token to
-- the refresh token of the same login, so logging out ends both.
CREATE TABLE access_tokens (
    token_hash   bytea       PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_hash bytea,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_tokens_user_id_idx ON access_tokens (user_id);
CREATE INDEX access_tokens_refresh_hash_idx ON access_tokens (refresh_hash);

-- E-mail addresses a global OWNER or ADMINISTRATOR invited to register (SIGN_UP=invite).
CREATE TABLE invitations (
    email      text        NOT NULL,
    invited_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX invitations_email_key ON invitations (lower(email));
