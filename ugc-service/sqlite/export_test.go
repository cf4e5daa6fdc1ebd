package sqlite

import "database/sql"

// DB exposes the writer handle to the external tests, which corrupt counters
// through it to exercise ReconcileSummaries.
func DB(s *Store) *sql.DB { return s.w }

// ForgetSummaries drops the summary cache, as the data_version watcher does
// for another process's writes, so tests that write behind the store's back
// through DB see their change without waiting for the watcher.
func ForgetSummaries(s *Store) { s.summaries.clear() }
