package storetest

import (
	"sync"
	"testing"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

func testReconcile(t *testing.T, s ugc.Store, drift func(*testing.T, ugc.Store, uuid.UUID, uuid.UUID)) {
	ctx := t.Context()
	film, author := uuid.New(), uuid.New()
	users := ids(5)
	for i, u := range users {
		_, err := s.SetRating(ctx, u, film, i*2)
		noErr(t, err)
	}
	r, err := s.CreateReview(ctx, author, film, "counted")
	noErr(t, err)
	for i, u := range users {
		_, err := s.SetVote(ctx, u, r.ID, []ugc.VoteValue{ugc.VoteLike, ugc.VoteDislike}[i%2])
		noErr(t, err)
	}

	rep, err := s.ReconcileSummaries(ctx)
	noErr(t, err)
	if rep.FilmsRepaired != 0 || rep.ReviewsRepaired != 0 || rep.FilmsChecked < 1 || rep.ReviewsChecked < 1 {
		t.Fatalf("reconcile of a consistent store = %+v, want checks and no repairs", rep)
	}
	if drift == nil {
		t.Skip("this store offers no way to corrupt its counters")
	}

	drift(t, s, film, r.ID)
	if sum, err := s.FilmSummary(ctx, film); err != nil || sum.Distribution == (ugc.Distribution{0: 1, 2: 1, 4: 1, 6: 1, 8: 1}) {
		t.Fatalf("Drift did not change the film's distribution (err %v)", err)
	}
	rep, err = s.ReconcileSummaries(ctx)
	noErr(t, err)
	if rep.FilmsRepaired != 1 || rep.ReviewsRepaired != 1 {
		t.Fatalf("reconcile after drift = %+v, want one film and one review repaired", rep)
	}
	wantSummary(t, s, film, ugc.Distribution{0: 1, 2: 1, 4: 1, 6: 1, 8: 1})
	got, err := s.GetReview(ctx, r.ID)
	noErr(t, err)
	if got.Likes != 3 || got.Dislikes != 2 {
		t.Fatalf("repaired review has likes %d dislikes %d, want 3 and 2", got.Likes, got.Dislikes)
	}
	rep, err = s.ReconcileSummaries(ctx)
	noErr(t, err)
	if rep.FilmsRepaired != 0 || rep.ReviewsRepaired != 0 {
		t.Fatalf("second reconcile repaired again: %+v", rep)
	}
}

// testConcurrentRatingsAndVotes has 50 clients change their ratings of one
// film and their votes on one review at the same time. Each client's own
// operations are sequential, so its final state is known; the counters must
// equal a recomputation from those final states, and reconcile must find
// nothing to repair.
func testConcurrentRatingsAndVotes(t *testing.T, s ugc.Store) {
	const clients, rounds = 50, 20
	ctx := t.Context()
	film := uuid.New()
	review, err := s.CreateReview(ctx, uuid.New(), film, "contested")
	noErr(t, err)

	finalScore := make([]int, clients) // -1: no rating
	finalVote := make([]ugc.VoteValue, clients)
	users := ids(clients)
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			score, vote := -1, ugc.VoteValue("")
			for round := range rounds {
				var err error
				switch x := (c*7 + round*13) % 17; {
				case x == 0 && score >= 0:
					err, score = s.DeleteRating(ctx, users[c], film), -1
				case x == 1 && vote != "":
					err, vote = s.DeleteVote(ctx, users[c], review.ID), ""
				case x%2 == 0:
					score = (c + round) % 11
					_, err = s.SetRating(ctx, users[c], film, score)
				default:
					vote = []ugc.VoteValue{ugc.VoteLike, ugc.VoteDislike}[(c+round)%2]
					_, err = s.SetVote(ctx, users[c], review.ID, vote)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			finalScore[c], finalVote[c] = score, vote
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent client failed: %v", err)
	}

	var d ugc.Distribution
	var likes, dislikes int64
	for c := range clients {
		if finalScore[c] >= 0 {
			d[finalScore[c]]++
		}
		switch finalVote[c] {
		case ugc.VoteLike:
			likes++
		case ugc.VoteDislike:
			dislikes++
		}
	}
	wantSummary(t, s, film, d)
	got, err := s.GetReview(ctx, review.ID)
	noErr(t, err)
	if got.Likes != likes || got.Dislikes != dislikes {
		t.Fatalf("review counters likes %d dislikes %d, want %d and %d", got.Likes, got.Dislikes, likes, dislikes)
	}
	rep, err := s.ReconcileSummaries(ctx)
	noErr(t, err)
	if rep.FilmsRepaired != 0 || rep.ReviewsRepaired != 0 {
		t.Fatalf("reconcile found drift after concurrent changes: %+v", rep)
	}
	// The outbox tells the same story as the counters: every change, once.
	rd, rl, rdl := replay(drain(t, s), film, review.ID)
	if rd != d || rl != likes || rdl != dislikes {
		t.Fatalf("replaying the outbox gives %v, %d likes, %d dislikes; the store has %v, %d and %d", rd, rl, rdl, d, likes, dislikes)
	}
}
