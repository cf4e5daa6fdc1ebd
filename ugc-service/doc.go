// Package ugc is the domain of the ugcstack UGC service: film ratings and their
// summaries, reviews and the votes on them, and bookmarks.
//
// It holds only types, validation and the service contracts. It imports no
// database and no web framework: the sqlite, mongo and http packages beside it
// implement or consume these interfaces, and cmd/ugc wires them together.
//
// Every identifier (user, film, review) is a UUID. A user's id is the "sub" of
// the JWT the movie service's Auth service issues; film ids come from the
// movies catalogue, which this service does not own, so any UUID is accepted.
package ugc
