package sqlite

import (
	"context"
	"fmt"
)

// migrations are the schema changes in order; migration i brings the database
// from PRAGMA user_version i to i+1. Never edit an applied migration: append
// a new one.
//
// Conventions: ids are TEXT in canonical UUID form (what uuid.UUID's
// driver.Valuer writes). Lowercase hex compares bytewise in the same order as
// the UUID bytes, so ORDER BY on an id column is the domain's id order, and
// the file stays readable with the sqlite3 shell. Times are INTEGER Unix
// milliseconds (UTC), the precision ugc.Now keeps and cursors key on.
//
// Tables whose rows are small and always reached by their whole primary key
// are WITHOUT ROWID, which saves a second B-tree. Reviews are not: their text
// can run to kilobytes, which a rowid table stores better.
var migrations = []string{`
CREATE TABLE ratings (
	user_id    TEXT    NOT NULL,
	film_id    TEXT    NOT NULL,
	score      INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, film_id)
) WITHOUT ROWID;

-- ListUserRatings: most recently set first.
CREATE INDEX ratings_user_updated ON ratings (user_id, updated_at DESC, film_id DESC);

-- The only per-film summary kept: the count of ratings with each score.
-- A missing row is the zero distribution.
CREATE TABLE film_distributions (
	film_id TEXT PRIMARY KEY,
	s0  INTEGER NOT NULL DEFAULT 0,
	s1  INTEGER NOT NULL DEFAULT 0,
	s2  INTEGER NOT NULL DEFAULT 0,
	s3  INTEGER NOT NULL DEFAULT 0,
	s4  INTEGER NOT NULL DEFAULT 0,
	s5  INTEGER NOT NULL DEFAULT 0,
	s6  INTEGER NOT NULL DEFAULT 0,
	s7  INTEGER NOT NULL DEFAULT 0,
	s8  INTEGER NOT NULL DEFAULT 0,
	s9  INTEGER NOT NULL DEFAULT 0,
	s10 INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE reviews (
	id         TEXT    PRIMARY KEY,
	film_id    TEXT    NOT NULL,
	author_id  TEXT    NOT NULL,
	text       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	likes      INTEGER NOT NULL DEFAULT 0,
	dislikes   INTEGER NOT NULL DEFAULT 0,
	UNIQUE (film_id, author_id)
);

-- One index per ListFilmReviews order, so that no listing sorts.
CREATE INDEX reviews_film_id       ON reviews (film_id, id);
CREATE INDEX reviews_film_likes    ON reviews (film_id, likes DESC, id DESC);
CREATE INDEX reviews_film_dislikes ON reviews (film_id, dislikes DESC, id DESC);

CREATE TABLE review_votes (
	review_id  TEXT    NOT NULL REFERENCES reviews (id),
	user_id    TEXT    NOT NULL,
	value      TEXT    NOT NULL CHECK (value IN ('like', 'dislike')),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (review_id, user_id)
) WITHOUT ROWID;

CREATE TABLE bookmarks (
	user_id    TEXT    NOT NULL,
	film_id    TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, film_id)
) WITHOUT ROWID;

-- ListBookmarks: newest first. Covers every column, so listing reads only it.
CREATE INDEX bookmarks_user_created ON bookmarks (user_id, created_at DESC, film_id DESC);
`, `
-- The events of every change, inserted in the change's transaction and
-- deleted once relayed, so the table holds only the backlog. Keyed by the
-- event's UUIDv7 alone (one B-tree to write per event): ids increase within
-- the process, so rows append at the end and ORDER BY id is the order in
-- which events were made.
CREATE TABLE outbox (
	id             TEXT    PRIMARY KEY,
	type           TEXT    NOT NULL,
	user_id        TEXT    NOT NULL,
	film_id        TEXT    NOT NULL,
	review_id      TEXT    NOT NULL,
	score          INTEGER,
	previous_score INTEGER,
	vote           TEXT    NOT NULL,
	previous_vote  TEXT    NOT NULL,
	occurred_at    INTEGER NOT NULL
) WITHOUT ROWID;
`}

// Migrate applies the migrations the database has not seen yet, each with the
// version bump in one write transaction. BEGIN IMMEDIATE takes the write lock
// before the version is read, so two instances migrating the same file at once
// cannot both apply a step: the second waits, then sees the new version.
// These are the only statements the store does not prepare: they run once,
// and before the tables the prepared statements need exist.
func (s *Store) Migrate(ctx context.Context) error {
	for {
		done := false
		err := s.write(ctx, func(t *tx) error {
			var v int
			if err := t.tx.QueryRowContext(ctx, userVersionSQL).Scan(&v); err != nil {
				return err
			}
			if v >= len(migrations) {
				done = true
				return nil
			}
			if _, err := t.tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
			// PRAGMA takes no parameters; v is an int we control.
			_, err := t.tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		if done {
			return nil
		}
	}
}
