-- Head office's revocations for all, and each plant's acknowledgement.
CREATE TABLE revocations (
    id              text PRIMARY KEY,
    employee_number text NOT NULL,
    issued_by       text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    issued_at       timestamptz NOT NULL,
    message         bytea NOT NULL -- as signed and sent
);

CREATE TABLE revocation_acks (
    id      text NOT NULL REFERENCES revocations (id),
    site    text NOT NULL,
    applied int  NOT NULL,
    error   text NOT NULL DEFAULT '',
    at      timestamptz NOT NULL,
    PRIMARY KEY (id, site)
);
