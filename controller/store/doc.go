// Package store keeps a site's state in one SQLite file: the hash-chained
// event log, people and credentials, users, sessions and API tokens. The
// schema is embedded numbered migrations, each applied in its own transaction.
package store
