package sqlite

import "database/sql"

// DB exposes the writer handle to the external tests, which corrupt counters
// through it to exercise ReconcileSummaries.
func DB(s *Store) *sql.DB { return s.w }
