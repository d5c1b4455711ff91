-- Head office's own people: who may read every plant's log, and who may
-- revoke for all. Their sessions and what they exported.
CREATE TABLE users (
    name          text PRIMARY KEY,
    role          text NOT NULL CHECK (role IN ('hq-admin', 'hq-auditor')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE TABLE sessions (
    token_hash text PRIMARY KEY, -- SHA-256 of the cookie's token: a copy of the table opens no session
    name       text NOT NULL REFERENCES users (name),
    expires_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL DEFAULT now() -- a session unused for the idle time ends
);

CREATE TABLE audit (
    id     bigserial PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    name   text NOT NULL,
    action text NOT NULL, -- login, login_failed, search, export, revoke
    detail text NOT NULL DEFAULT ''
);
