package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// Reconciliation queries. Each lists every row that has a counter, paired
// with the counter recomputed from the source rows; a missing side counts as
// zero. The FULL JOIN also finds films whose ratings are all gone but whose
// kept distribution is not zero, and films with ratings but no kept row.
var (
	reconcileFilmsSQL = func() string {
		var sums, actual, kept []string
		for i := ugc.MinScore; i <= ugc.MaxScore; i++ {
			sums = append(sums, fmt.Sprintf("SUM(score = %d) AS s%d", i, i))
			actual = append(actual, fmt.Sprintf("COALESCE(a.s%d, 0)", i))
			kept = append(kept, fmt.Sprintf("COALESCE(k.s%d, 0)", i))
		}
		return "WITH a AS (SELECT film_id, " + strings.Join(sums, ", ") + " FROM ratings GROUP BY film_id)\n" +
			"SELECT COALESCE(a.film_id, k.film_id), " + strings.Join(actual, ", ") + ", " + strings.Join(kept, ", ") + "\n" +
			"FROM a FULL JOIN film_distributions k ON k.film_id = a.film_id"
	}()

	// setDistributionSQL overwrites film ?1's kept distribution with ?2..?12.
	setDistributionSQL = func() string {
		var cols, vals, sets []string
		for i := ugc.MinScore; i <= ugc.MaxScore; i++ {
			cols = append(cols, fmt.Sprintf("s%d", i))
			vals = append(vals, fmt.Sprintf("?%d", i+2))
			sets = append(sets, fmt.Sprintf("s%d = excluded.s%d", i, i))
		}
		return "INSERT INTO film_distributions (film_id, " + strings.Join(cols, ", ") + ")\n" +
			"VALUES (?1, " + strings.Join(vals, ", ") + ")\n" +
			"ON CONFLICT (film_id) DO UPDATE SET " + strings.Join(sets, ", ")
	}()
)

const (
	deleteDistributionSQL = `DELETE FROM film_distributions WHERE film_id = ?`

	// reconcileReviewsSQL needs no sort: review_votes is keyed by review.
	reconcileReviewsSQL = `
		SELECT r.id, COALESCE(v.likes, 0), COALESCE(v.dislikes, 0), r.likes, r.dislikes
		FROM reviews r LEFT JOIN (
			SELECT review_id, SUM(value = 'like') AS likes, SUM(value = 'dislike') AS dislikes
			FROM review_votes GROUP BY review_id
		) v ON v.review_id = r.id`

	setVoteCountsSQL = `UPDATE reviews SET likes = ?, dislikes = ? WHERE id = ?`
)

// ReconcileSummaries recomputes every film distribution and every review's
// vote counters from the source rows and rewrites those that differ, all in
// one write transaction, so that it cannot race with the changes it checks.
// Rows are compared while streaming and only the drifted ones are held in
// memory. A film whose ratings are all gone loses its kept row. Grouping the
// ratings by film sorts them all, which is fine for a repair job and not worth
// an index that every SetRating would pay for.
func (s *Store) ReconcileSummaries(ctx context.Context) (*ugc.ReconcileReport, error) {
	rep := &ugc.ReconcileReport{}
	defer s.summaries.clear() // after the commit: repaired films read anew
	err := s.write(ctx, func(t *tx) error {
		if err := reconcileFilms(t, rep); err != nil {
			return err
		}
		return reconcileReviews(t, rep)
	})
	if err != nil {
		return nil, wrap("reconcile summaries", err)
	}
	return rep, nil
}

func reconcileFilms(t *tx, rep *ugc.ReconcileReport) error {
	type drift struct {
		film   uuid.UUID
		actual ugc.Distribution
	}
	var drifted []drift
	rows, err := t.query(reconcileFilmsSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d drift
		var kept ugc.Distribution
		dest := []any{&d.film}
		for i := range d.actual {
			dest = append(dest, &d.actual[i])
		}
		for i := range kept {
			dest = append(dest, &kept[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		rep.FilmsChecked++
		if d.actual != kept {
			drifted = append(drifted, d)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_ = rows.Close()

	for _, d := range drifted {
		if d.actual == (ugc.Distribution{}) {
			_, err = t.exec(deleteDistributionSQL, d.film)
		} else {
			args := []any{d.film}
			for _, n := range d.actual {
				args = append(args, n)
			}
			_, err = t.exec(setDistributionSQL, args...)
		}
		if err != nil {
			return err
		}
		rep.FilmsRepaired++
	}
	return nil
}

func reconcileReviews(t *tx, rep *ugc.ReconcileReport) error {
	type drift struct {
		review          uuid.UUID
		likes, dislikes int64
	}
	var drifted []drift
	rows, err := t.query(reconcileReviewsSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d drift
		var keptLikes, keptDislikes int64
		if err := rows.Scan(&d.review, &d.likes, &d.dislikes, &keptLikes, &keptDislikes); err != nil {
			return err
		}
		rep.ReviewsChecked++
		if d.likes != keptLikes || d.dislikes != keptDislikes {
			drifted = append(drifted, d)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_ = rows.Close()

	for _, d := range drifted {
		if _, err := t.exec(setVoteCountsSQL, d.likes, d.dislikes, d.review); err != nil {
			return err
		}
		rep.ReviewsRepaired++
	}
	return nil
}
