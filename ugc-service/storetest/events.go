package storetest

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// testEvents makes one change of every kind, and some calls that change
// nothing, and checks the outbox holds exactly one event per change, in
// order, with the values the change had; then that marking events sent
// removes exactly those.
func testEvents(t *testing.T, s ugc.Store) {
	ctx := t.Context()
	author, voter, film := uuid.New(), uuid.New(), uuid.New()
	st, err := s.OutboxStats(ctx)
	noErr(t, err)
	if st.Pending != 0 || !st.Oldest.IsZero() {
		t.Fatalf("fresh store's outbox: %+v", st)
	}

	_, err = s.SetRating(ctx, author, film, 7)
	noErr(t, err)
	_, err = s.SetRating(ctx, author, film, 3)
	noErr(t, err)
	noErr(t, s.DeleteRating(ctx, author, film))
	wantCode(t, s.DeleteRating(ctx, author, film), ugc.ENOTFOUND)
	_, err = s.SetRating(ctx, author, film, 11)
	wantCode(t, err, ugc.EINVALID)

	r, err := s.CreateReview(ctx, author, film, "first")
	noErr(t, err)
	_, err = s.CreateReview(ctx, author, film, "second")
	wantCode(t, err, ugc.ECONFLICT)
	_, err = s.UpdateReview(ctx, author, r.ID, "edited")
	noErr(t, err)
	_, err = s.UpdateReview(ctx, voter, r.ID, "not mine")
	wantCode(t, err, ugc.EFORBIDDEN)
	_, err = s.SetVote(ctx, voter, r.ID, ugc.VoteLike)
	noErr(t, err)
	_, err = s.SetVote(ctx, voter, r.ID, ugc.VoteLike) // the same vote: no change
	noErr(t, err)
	_, err = s.SetVote(ctx, voter, r.ID, ugc.VoteDislike)
	noErr(t, err)
	noErr(t, s.DeleteVote(ctx, voter, r.ID))
	wantCode(t, s.DeleteVote(ctx, voter, r.ID), ugc.ENOTFOUND)
	noErr(t, s.DeleteReview(ctx, author, r.ID))

	_, _, err = s.AddBookmark(ctx, voter, film)
	noErr(t, err)
	_, _, err = s.AddBookmark(ctx, voter, film) // already there: no change
	noErr(t, err)
	noErr(t, s.RemoveBookmark(ctx, voter, film))
	wantCode(t, s.RemoveBookmark(ctx, voter, film), ugc.ENOTFOUND)

	score := func(n int) *int { return &n }
	want := []ugc.Event{
		{Type: ugc.EventRatingSet, UserID: author, FilmID: film, Score: score(7)},
		{Type: ugc.EventRatingSet, UserID: author, FilmID: film, Score: score(3), PreviousScore: score(7)},
		{Type: ugc.EventRatingDeleted, UserID: author, FilmID: film, PreviousScore: score(3)},
		{Type: ugc.EventReviewCreated, UserID: author, FilmID: film, ReviewID: r.ID},
		{Type: ugc.EventReviewUpdated, UserID: author, FilmID: film, ReviewID: r.ID},
		{Type: ugc.EventReviewVoteSet, UserID: voter, FilmID: film, ReviewID: r.ID, Vote: ugc.VoteLike},
		{Type: ugc.EventReviewVoteSet, UserID: voter, FilmID: film, ReviewID: r.ID, Vote: ugc.VoteDislike, PreviousVote: ugc.VoteLike},
		{Type: ugc.EventReviewVoteDeleted, UserID: voter, FilmID: film, ReviewID: r.ID, PreviousVote: ugc.VoteDislike},
		{Type: ugc.EventReviewDeleted, UserID: author, FilmID: film, ReviewID: r.ID},
		{Type: ugc.EventBookmarkAdded, UserID: voter, FilmID: film},
		{Type: ugc.EventBookmarkRemoved, UserID: voter, FilmID: film},
	}
	got, err := s.PendingEvents(ctx, 100)
	noErr(t, err)
	if len(got) != len(want) {
		t.Fatalf("outbox holds %d events, want %d:\n%s", len(got), len(want), describe(got))
	}
	seen := map[uuid.UUID]bool{}
	for i := range want {
		g := got[i]
		noErr(t, g.Validate())
		if seen[g.ID] {
			t.Fatalf("event %d repeats id %s", i, g.ID)
		}
		seen[g.ID] = true
		if i > 0 && g.OccurredAt.Before(got[i-1].OccurredAt) {
			t.Fatalf("event %d occurred before event %d:\n%s", i, i-1, describe(got))
		}
		w := want[i]
		w.ID, w.OccurredAt = g.ID, g.OccurredAt
		if describe([]ugc.Event{g}) != describe([]ugc.Event{w}) {
			t.Fatalf("event %d =\n%s\nwant\n%s", i, describe([]ugc.Event{g}), describe([]ugc.Event{w}))
		}
	}

	st, err = s.OutboxStats(ctx)
	noErr(t, err)
	if st.Pending != int64(len(want)) || !st.Oldest.Equal(got[0].OccurredAt) {
		t.Fatalf("OutboxStats = %+v, want %d pending, oldest %v", st, len(want), got[0].OccurredAt)
	}
	_, err = s.PendingEvents(ctx, 0)
	wantCode(t, err, ugc.EINVALID)
	first, err := s.PendingEvents(ctx, 4)
	noErr(t, err)
	if describe(first) != describe(got[:4]) {
		t.Fatalf("PendingEvents(4) =\n%s\nwant the first four", describe(first))
	}

	// Marking is idempotent and ignores ids it does not hold.
	sent := []uuid.UUID{got[0].ID, got[1].ID, got[2].ID, got[3].ID, uuid.New()}
	noErr(t, s.MarkEventsSent(ctx, sent))
	noErr(t, s.MarkEventsSent(ctx, sent))
	noErr(t, s.MarkEventsSent(ctx, nil))
	rest, err := s.PendingEvents(ctx, 100)
	noErr(t, err)
	if describe(rest) != describe(got[4:]) {
		t.Fatalf("after marking four sent, pending =\n%s\nwant the other %d", describe(rest), len(got)-4)
	}
	st, err = s.OutboxStats(ctx)
	noErr(t, err)
	if st.Pending != int64(len(got)-4) || !st.Oldest.Equal(got[4].OccurredAt) {
		t.Fatalf("OutboxStats after marking = %+v", st)
	}
	drain(t, s)
	st, err = s.OutboxStats(ctx)
	noErr(t, err)
	if st.Pending != 0 || !st.Oldest.IsZero() {
		t.Fatalf("OutboxStats after marking all = %+v", st)
	}
}

// drain returns every pending event, oldest first, and marks them sent.
func drain(t *testing.T, s ugc.Store) []ugc.Event {
	t.Helper()
	var all []ugc.Event
	for {
		batch, err := s.PendingEvents(t.Context(), 500)
		noErr(t, err)
		if len(batch) == 0 {
			return all
		}
		ids := make([]uuid.UUID, len(batch))
		for i, e := range batch {
			ids[i] = e.ID
		}
		noErr(t, s.MarkEventsSent(t.Context(), ids))
		all = append(all, batch...)
	}
}

// describe prints events one per line, with every field, for comparisons
// that show what differs.
func describe(events []ugc.Event) string {
	var out string
	for _, e := range events {
		out += fmt.Sprintf("%s %s user=%s film=%s review=%s score=%v prev=%v vote=%q prev_vote=%q at=%s\n",
			e.ID, e.Type, e.UserID, e.FilmID, e.ReviewID, deref(e.Score), deref(e.PreviousScore),
			e.Vote, e.PreviousVote, e.OccurredAt.Format("15:04:05.000"))
	}
	return out
}

// replay folds events into the score distribution of film and the vote
// counters of review that they imply.
func replay(events []ugc.Event, film, review uuid.UUID) (d ugc.Distribution, likes, dislikes int64) {
	count := map[ugc.VoteValue]*int64{ugc.VoteLike: &likes, ugc.VoteDislike: &dislikes}
	for _, e := range events {
		if e.FilmID == film && e.Score != nil {
			d[*e.Score]++
		}
		if e.FilmID == film && e.PreviousScore != nil {
			d[*e.PreviousScore]--
		}
		if e.ReviewID == review {
			if c := count[e.Vote]; c != nil {
				*c++
			}
			if c := count[e.PreviousVote]; c != nil {
				*c--
			}
		}
	}
	return d, likes, dislikes
}
