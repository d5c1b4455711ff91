-- Head office's copy of every site's log, checked as it arrives.
CREATE TABLE sites (
    id            text PRIMARY KEY,
    head_seq      bigint NOT NULL DEFAULT 0,
    head_hash     text   NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    verified_seq  bigint NOT NULL DEFAULT 0,   -- covered by a checkpoint the site signed
    verified_at   timestamptz,
    cosigned_size bigint NOT NULL DEFAULT 0,   -- the last tree size head office vouched for
    cosigned_at   timestamptz,
    last_event_at timestamptz,
    last_heard    timestamptz,
    pending_note  text                          -- a tree checkpoint beyond the events held
);

-- The chain as held: each row's prev_hash is the row before's hash.
CREATE TABLE events (
    site      text   NOT NULL,
    seq       bigint NOT NULL,
    hash      text   NOT NULL,
    prev_hash text   NOT NULL,
    time      timestamptz NOT NULL,
    type      text   NOT NULL,
    door      text   NOT NULL DEFAULT '',
    zone_from text   NOT NULL DEFAULT '',
    zone_to   text   NOT NULL DEFAULT '',
    person_id text   NOT NULL DEFAULT '',
    person    text   NOT NULL DEFAULT '',
    company   text   NOT NULL DEFAULT '',
    card      text   NOT NULL DEFAULT '',
    body      bytea  NOT NULL, -- the event's canonical bytes, as the site hashed them
    PRIMARY KEY (site, seq)
);
-- Not partial: a search's parameters must be able to use them in a
-- generic plan, where nothing proves a column non-empty.
CREATE INDEX events_person  ON events (person_id, time);
CREATE INDEX events_name    ON events (lower(person) text_pattern_ops);
CREATE INDEX events_company ON events (lower(company) text_pattern_ops);
CREATE INDEX events_card    ON events (card, time);
CREATE INDEX events_time    ON events (time);

-- Events heard that do not (yet) extend the chain: after a gap, or a
-- second claim to a seq. A signed checkpoint decides between claims.
CREATE TABLE candidates (
    site        text   NOT NULL,
    seq         bigint NOT NULL,
    hash        text   NOT NULL,
    prev_hash   text   NOT NULL,
    body        bytea  NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, seq, hash)
);

-- The Merkle tree over each site's events (RFC 6962, tlog's stored hashes).
CREATE TABLE tree_hashes (
    site text   NOT NULL,
    idx  bigint NOT NULL,
    hash bytea  NOT NULL,
    PRIMARY KEY (site, idx)
);

-- Every signed checkpoint heard, as sent.
CREATE TABLE checkpoints (
    site        text   NOT NULL,
    seq         bigint NOT NULL,
    hash        text   NOT NULL,
    signed_at   timestamptz NOT NULL,
    body        bytea  NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, seq, hash)
);

-- What head office countersigned, once per site and size.
CREATE TABLE cosignatures (
    site      text   NOT NULL,
    size      bigint NOT NULL,
    note      text   NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, size)
);

-- Events refused, with why: never in the chain.
CREATE TABLE refused (
    site   text   NOT NULL,
    seq    bigint NOT NULL,
    hash   text   NOT NULL,
    reason text   NOT NULL,
    body   bytea  NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);

-- Head office's alarms: one open per site and kind.
CREATE TABLE alarms (
    id         bigserial PRIMARY KEY,
    site       text NOT NULL,
    kind       text NOT NULL,
    detail     text NOT NULL,
    raised_at  timestamptz NOT NULL DEFAULT now(),
    cleared_at timestamptz
);
CREATE UNIQUE INDEX alarms_open ON alarms (site, kind) WHERE cleared_at IS NULL;
