package storetest

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

func testReviewLifecycle(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	author, film := uuid.New(), uuid.New()

	created, err := s.CreateReview(ctx, author, film, "  A quiet, patient film.\n")
	noErr(t, err)
	if created.ID == uuid.Nil || created.ID.Version() != 7 {
		t.Fatalf("review id %s is not a UUIDv7", created.ID)
	}
	if created.FilmID != film || created.AuthorID != author || created.Text != "A quiet, patient film." ||
		created.Likes != 0 || created.Dislikes != 0 || created.AuthorScore != nil ||
		created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("created review = %+v", created)
	}
	got, err := s.GetReview(ctx, created.ID)
	noErr(t, err)
	wantReview(t, got, created)

	_, err = s.CreateReview(ctx, author, film, "second thoughts")
	wantCode(t, err, ugc.ECONFLICT)
	// The same author may review another film, and others this one.
	_, err = s.CreateReview(ctx, author, uuid.New(), "another film")
	noErr(t, err)
	_, err = s.CreateReview(ctx, uuid.New(), film, "another author")
	noErr(t, err)

	updated, err := s.UpdateReview(ctx, author, created.ID, "On reflection, a great film.")
	noErr(t, err)
	if updated.Text != "On reflection, a great film." || updated.ID != created.ID ||
		!updated.CreatedAt.Equal(created.CreatedAt) || updated.UpdatedAt.Before(created.UpdatedAt) {
		t.Fatalf("updated review = %+v (created %+v)", updated, created)
	}
	got, err = s.GetReview(ctx, created.ID)
	noErr(t, err)
	wantReview(t, got, updated)

	noErr(t, s.DeleteReview(ctx, author, created.ID))
	_, err = s.GetReview(ctx, created.ID)
	wantCode(t, err, ugc.ENOTFOUND)
	wantCode(t, s.DeleteReview(ctx, author, created.ID), ugc.ENOTFOUND)
	_, err = s.UpdateReview(ctx, author, created.ID, "ghost")
	wantCode(t, err, ugc.ENOTFOUND)

	// Deleting frees the slot: the author may review the film again.
	_, err = s.CreateReview(ctx, author, film, "a fresh take")
	noErr(t, err)
}

func testReviewValidation(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	author, film := uuid.New(), uuid.New()
	for _, text := range []string{"", " \n\t ", strings.Repeat("я", ugc.MaxReviewText+1), "bad \xff utf-8"} {
		_, err := s.CreateReview(ctx, author, film, text)
		wantCode(t, err, ugc.EINVALID)
	}
	// Exactly the limit, in multi-byte characters, is fine.
	r, err := s.CreateReview(ctx, author, film, strings.Repeat("я", ugc.MaxReviewText))
	noErr(t, err)
	_, err = s.UpdateReview(ctx, author, r.ID, "   ")
	wantCode(t, err, ugc.EINVALID)
	got, err := s.GetReview(ctx, r.ID)
	noErr(t, err)
	wantReview(t, got, r)
	l, err := s.ListFilmReviews(ctx, film, ugc.SortNewest, ugc.Page{Limit: 10})
	noErr(t, err)
	if len(l.Items) != 1 {
		t.Fatalf("rejected reviews were stored: %d reviews", len(l.Items))
	}
}

func testReviewOwnership(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	author, intruder, film := uuid.New(), uuid.New(), uuid.New()
	r, err := s.CreateReview(ctx, author, film, "mine")
	noErr(t, err)

	_, err = s.UpdateReview(ctx, intruder, r.ID, "hijacked")
	wantCode(t, err, ugc.EFORBIDDEN)
	wantCode(t, s.DeleteReview(ctx, intruder, r.ID), ugc.EFORBIDDEN)
	_, err = s.UpdateReview(ctx, intruder, uuid.New(), "nothing")
	wantCode(t, err, ugc.ENOTFOUND)
	_, err = s.GetReview(ctx, uuid.New())
	wantCode(t, err, ugc.ENOTFOUND)

	got, err := s.GetReview(ctx, r.ID)
	noErr(t, err)
	wantReview(t, got, r)
}

func testReviewAuthorScore(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	author, film := uuid.New(), uuid.New()
	r, err := s.CreateReview(ctx, author, film, "rated later")
	noErr(t, err)
	if r.AuthorScore != nil {
		t.Fatalf("author score before rating = %d", *r.AuthorScore)
	}
	_, err = s.SetRating(ctx, author, film, 8)
	noErr(t, err)
	_, err = s.SetRating(ctx, author, uuid.New(), 1) // another film must not leak in
	noErr(t, err)
	wantAuthorScore(t, s, film, r.ID, ptr(8))
	_, err = s.SetRating(ctx, author, film, 2)
	noErr(t, err)
	wantAuthorScore(t, s, film, r.ID, ptr(2))
	noErr(t, s.DeleteRating(ctx, author, film))
	wantAuthorScore(t, s, film, r.ID, nil)
}

// wantAuthorScore checks the author score of a review both as read alone and
// as listed with its film.
func wantAuthorScore(t *testing.T, s ugc.Store, film, reviewID uuid.UUID, want *int) {
	t.Helper()
	got, err := s.GetReview(t.Context(), reviewID)
	noErr(t, err)
	l, err := s.ListFilmReviews(t.Context(), film, ugc.SortNewest, ugc.Page{Limit: 10})
	noErr(t, err)
	if len(l.Items) != 1 {
		t.Fatalf("film lists %d reviews, want 1", len(l.Items))
	}
	for _, r := range []*ugc.Review{got, l.Items[0]} {
		if !equalPtr(r.AuthorScore, want) {
			t.Fatalf("author score = %v, want %v", deref(r.AuthorScore), deref(want))
		}
	}
}

func testVotes(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	author, film := uuid.New(), uuid.New()
	voters := ids(3)
	r, err := s.CreateReview(ctx, author, film, "vote on me")
	noErr(t, err)

	steps := []struct {
		voter                   int
		value                   ugc.VoteValue // "" withdraws the vote
		wantLikes, wantDislikes int64
	}{
		{0, ugc.VoteLike, 1, 0},
		{0, ugc.VoteLike, 1, 0}, // idempotent
		{1, ugc.VoteLike, 2, 0},
		{2, ugc.VoteDislike, 2, 1},
		{0, ugc.VoteDislike, 1, 2}, // switching moves the vote
		{1, "", 0, 2},
		{2, "", 0, 1},
	}
	for i, st := range steps {
		var got *ugc.Review
		if st.value == "" {
			noErr(t, s.DeleteVote(ctx, voters[st.voter], r.ID))
		} else {
			got, err = s.SetVote(ctx, voters[st.voter], r.ID, st.value)
			noErr(t, err)
			if got.ID != r.ID || got.Likes != st.wantLikes || got.Dislikes != st.wantDislikes {
				t.Fatalf("step %d: SetVote returned %+v, want likes %d dislikes %d", i, got, st.wantLikes, st.wantDislikes)
			}
		}
		got, err = s.GetReview(ctx, r.ID)
		noErr(t, err)
		if got.Likes != st.wantLikes || got.Dislikes != st.wantDislikes {
			t.Fatalf("step %d: review has likes %d dislikes %d, want %d and %d", i, got.Likes, got.Dislikes, st.wantLikes, st.wantDislikes)
		}
	}

	wantCode(t, s.DeleteVote(ctx, voters[1], r.ID), ugc.ENOTFOUND)
	wantCode(t, s.DeleteVote(ctx, voters[1], uuid.New()), ugc.ENOTFOUND)
	_, err = s.SetVote(ctx, author, r.ID, ugc.VoteLike)
	wantCode(t, err, ugc.EFORBIDDEN)
	_, err = s.SetVote(ctx, voters[1], uuid.New(), ugc.VoteLike)
	wantCode(t, err, ugc.ENOTFOUND)
	for _, v := range []ugc.VoteValue{"", "LIKE", "love"} {
		_, err = s.SetVote(ctx, voters[1], r.ID, v)
		wantCode(t, err, ugc.EINVALID)
	}
	got, err := s.GetReview(ctx, r.ID)
	noErr(t, err)
	if got.Likes != 0 || got.Dislikes != 1 {
		t.Fatalf("rejected votes changed the counters: %+v", got)
	}
}

func testDeleteReviewRemovesVotes(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	author, voter, film := uuid.New(), uuid.New(), uuid.New()
	r, err := s.CreateReview(ctx, author, film, "short-lived")
	noErr(t, err)
	_, err = s.SetVote(ctx, voter, r.ID, ugc.VoteLike)
	noErr(t, err)
	noErr(t, s.DeleteReview(ctx, author, r.ID))

	// A vote left behind would show up as a counter to repair.
	rep, err := s.ReconcileSummaries(ctx)
	noErr(t, err)
	if rep.ReviewsRepaired != 0 || rep.FilmsRepaired != 0 {
		t.Fatalf("after deleting a voted review, reconcile repaired %+v", rep)
	}
	wantCode(t, s.DeleteVote(ctx, voter, r.ID), ugc.ENOTFOUND)
}

func testListFilmReviewsSorts(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	film := uuid.New()
	voters := ids(4)
	var reviews []*ugc.Review
	for i := range 13 {
		r, err := s.CreateReview(ctx, uuid.New(), film, "review")
		noErr(t, err)
		// Vote counts with ties, so that the id tie-breaker matters.
		for v := range i % 4 {
			_, err = s.SetVote(ctx, voters[v], r.ID, ugc.VoteLike)
			noErr(t, err)
		}
		if i%3 == 0 {
			_, err = s.SetVote(ctx, voters[3], r.ID, ugc.VoteDislike)
			noErr(t, err)
		}
		reviews = append(reviews, r)
	}
	_, err := s.CreateReview(ctx, uuid.New(), uuid.New(), "another film")
	noErr(t, err)
	for i, r := range reviews {
		got, err := s.GetReview(ctx, r.ID)
		noErr(t, err)
		reviews[i] = got
	}

	byID := func(a, b *ugc.Review) int { return compareIDs(a.ID, b.ID) }
	orders := map[ugc.ReviewSort]func(a, b *ugc.Review) int{
		ugc.SortNewest: func(a, b *ugc.Review) int { return byID(b, a) },
		ugc.SortOldest: byID,
		ugc.SortMostLiked: func(a, b *ugc.Review) int {
			return cmp.Or(cmp.Compare(b.Likes, a.Likes), byID(b, a))
		},
		ugc.SortMostDisliked: func(a, b *ugc.Review) int {
			return cmp.Or(cmp.Compare(b.Dislikes, a.Dislikes), byID(b, a))
		},
	}
	for sort, order := range orders {
		want := slices.Clone(reviews)
		slices.SortFunc(want, order)
		for _, limit := range []int{1, 4, 13, 50} {
			got := collect(t, limit, func(p ugc.Page) (*ugc.List[*ugc.Review], error) {
				if p.After != nil && p.After.Kind != sort.CursorKind() {
					t.Fatalf("%s: next cursor has kind %d, want %d", sort, p.After.Kind, sort.CursorKind())
				}
				return s.ListFilmReviews(ctx, film, sort, p)
			})
			if len(got) != len(want) {
				t.Fatalf("%s limit %d: listed %d reviews, want %d", sort, limit, len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ID {
					t.Fatalf("%s limit %d: item %d is %s, want %s", sort, limit, i, got[i].ID, want[i].ID)
				}
				wantReview(t, got[i], want[i])
			}
		}
	}
}

func wantReview(t *testing.T, got, want *ugc.Review) {
	t.Helper()
	if got.ID != want.ID || got.FilmID != want.FilmID || got.AuthorID != want.AuthorID || got.Text != want.Text ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
		!equalPtr(got.AuthorScore, want.AuthorScore) || got.Likes != want.Likes || got.Dislikes != want.Dislikes {
		t.Fatalf("review = %+v, want %+v", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
