package clickhouse

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

// The schema, inserts and read paths are shared with the chdb package, so
// the 2018 server and the current engine answer exactly the same SQL.
// Arguments are formatted into the text: they are integers, and chDB's
// API takes no bound parameters.

// Schema is the DDL, one statement per element.
var Schema = []string{
	"DROP TABLE IF EXISTS ratings_by_film", "DROP TABLE IF EXISTS ratings_by_user", "DROP TABLE IF EXISTS reviews",
	"DROP TABLE IF EXISTS review_votes", "DROP TABLE IF EXISTS bookmarks",
	`CREATE TABLE ratings_by_film (film_id UInt64, user_id UInt64, score UInt8, at UInt64, ver UInt64)
	 ENGINE = ReplacingMergeTree(ver) ORDER BY (film_id, user_id) SETTINGS index_granularity = 1024`,
	`CREATE TABLE ratings_by_user (user_id UInt64, film_id UInt64, score UInt8, at UInt64, ver UInt64)
	 ENGINE = ReplacingMergeTree(ver) ORDER BY (user_id, film_id) SETTINGS index_granularity = 1024`,
	`CREATE TABLE reviews (film_id UInt64, id UInt64, user_id UInt64, body String, at UInt64)
	 ENGINE = MergeTree ORDER BY (film_id, id) SETTINGS index_granularity = 1024`,
	`CREATE TABLE review_votes (film_id UInt64, review_id UInt64, user_id UInt64, value Int8)
	 ENGINE = ReplacingMergeTree ORDER BY (film_id, review_id, user_id) SETTINGS index_granularity = 1024`,
	`CREATE TABLE bookmarks (user_id UInt64, film_id UInt64, at UInt64)
	 ENGINE = ReplacingMergeTree ORDER BY (user_id, film_id) SETTINGS index_granularity = 1024`,
}

// Optimize merges every table's parts after the load, as a long-running
// table would have been merged by then.
var Optimize = []string{
	"OPTIMIZE TABLE ratings_by_film FINAL", "OPTIMIZE TABLE ratings_by_user FINAL", "OPTIMIZE TABLE reviews FINAL",
	"OPTIMIZE TABLE review_votes FINAL", "OPTIMIZE TABLE bookmarks FINAL",
}

// The INSERT heads name their columns (the 18.16 server needs it over the
// native protocol); the Row functions give the values in that order.
const (
	InsertRatingsByFilm = "INSERT INTO ratings_by_film (film_id, user_id, score, at, ver)"
	InsertRatingsByUser = "INSERT INTO ratings_by_user (user_id, film_id, score, at, ver)"
	InsertReviews       = "INSERT INTO reviews (film_id, id, user_id, body, at)"
	InsertVotes         = "INSERT INTO review_votes (film_id, review_id, user_id, value)"
	InsertBookmarks     = "INSERT INTO bookmarks (user_id, film_id, at)"
)

func ms(t time.Time) uint64 { return uint64(t.UnixMilli()) }

// RatingByFilm is r's row for InsertRatingsByFilm.
func RatingByFilm(r ugcdata.Rating, ver uint64) []any {
	return []any{uint64(r.FilmID), uint64(r.UserID), uint8(r.Score), ms(r.At), ver}
}

// RatingByUser is r's row for InsertRatingsByUser.
func RatingByUser(r ugcdata.Rating, ver uint64) []any {
	return []any{uint64(r.UserID), uint64(r.FilmID), uint8(r.Score), ms(r.At), ver}
}

// ReviewRow is r's row for InsertReviews.
func ReviewRow(r ugcdata.Review) []any {
	return []any{uint64(r.FilmID), uint64(r.ID), uint64(r.UserID), r.Text, ms(r.At)}
}

// VoteRow is v's row for InsertVotes.
func VoteRow(v ugcdata.Vote) []any {
	return []any{uint64(v.FilmID), uint64(v.ReviewID), uint64(v.UserID), v.Value}
}

// BookmarkRow is b's row for InsertBookmarks.
func BookmarkRow(b ugcdata.Bookmark) []any {
	return []any{uint64(b.UserID), uint64(b.FilmID), ms(b.At)}
}

var lastVersion atomic.Uint64

// NewVersion is the ReplacingMergeTree version of an upsert: the clock in
// nanoseconds, strictly increasing within the process, so two upserts of
// one rating in the same nanosecond still order (the loaded rows have 0).
func NewVersion() uint64 {
	for {
		last, now := lastVersion.Load(), uint64(time.Now().UnixNano())
		if now <= last {
			now = last + 1
		}
		if lastVersion.CompareAndSwap(last, now) {
			return now
		}
	}
}

// BookmarksSQL selects film_id, at of user's newest bookmarks.
func BookmarksSQL(user int64, limit int) string {
	return fmt.Sprintf("SELECT film_id, at FROM bookmarks WHERE user_id = %d ORDER BY at DESC, film_id LIMIT %d", user, limit)
}

// SummarySQL selects count, sum, likes, dislikes of film's current scores:
// argMax over ver takes each user's latest upsert before merges run.
func SummarySQL(film int64) string {
	return fmt.Sprintf(`SELECT count(), sum(s), countIf(s = 10), countIf(s = 0)
		FROM (SELECT argMax(score, ver) AS s FROM ratings_by_film WHERE film_id = %d GROUP BY user_id)`, film)
}

// ReviewsSQL selects id, user_id, body, at, likes, dislikes of film's
// most-liked reviews, counting votes at read time.
func ReviewsSQL(film int64, limit int) string {
	return fmt.Sprintf(`SELECT id, user_id, body, at, likes, dislikes
		FROM (SELECT id, user_id, body, at FROM reviews WHERE film_id = %[1]d) AS r
		ANY LEFT JOIN (SELECT review_id AS id, countIf(value > 0) AS likes, countIf(value < 0) AS dislikes
		               FROM review_votes WHERE film_id = %[1]d GROUP BY review_id) AS v USING id
		ORDER BY likes DESC, id LIMIT %[2]d`, film, limit)
}

// RatingsSQL selects film_id, score, at of all user's ratings.
func RatingsSQL(user int64) string {
	return fmt.Sprintf(`SELECT film_id, argMax(score, ver), argMax(at, ver) FROM ratings_by_user
		WHERE user_id = %d GROUP BY film_id ORDER BY film_id`, user)
}

// ScoreSQL selects user's current score of film, no row when there is none.
func ScoreSQL(user, film int64) string {
	return fmt.Sprintf("SELECT argMax(score, ver) FROM ratings_by_user WHERE user_id = %d AND film_id = %d GROUP BY film_id", user, film)
}
