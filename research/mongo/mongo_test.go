package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ugcstack/ugcstack/research/ugcdata"
)

var _ ugcdata.Store = (*Store)(nil)

func TestSummaryDelta(t *testing.T) {
	p := func(v int8) *int8 { return &v }
	for _, c := range []struct {
		old   *int8
		score int8
		want  [4]int64
	}{
		{nil, 10, [4]int64{1, 10, 1, 0}},
		{nil, 0, [4]int64{1, 0, 0, 1}},
		{p(10), 0, [4]int64{0, -10, -1, 1}},
		{p(5), 7, [4]int64{0, 2, 0, 0}},
		{p(0), 0, [4]int64{0, 0, 0, 0}},
	} {
		d := SummaryDelta(c.old, c.score)
		var got [4]int64
		for i, e := range d {
			got[i] = e.Value.(int64)
		}
		if got != c.want {
			t.Errorf("SummaryDelta(%v, %d) = %v, want %v", c.old, c.score, got, c.want)
		}
	}
}

func TestVoteCounterUpdates(t *testing.T) {
	ms := VoteCounterUpdates([]ugcdata.Vote{{ReviewID: 1, Value: 1}, {ReviewID: 2, Value: -1}, {ReviewID: 1, Value: 1}, {ReviewID: 1, Value: -1}})
	if len(ms) != 2 {
		t.Fatalf("%d updates, want 2", len(ms))
	}
	u := ms[0].(*mongo.UpdateOneModel)
	inc := u.Update.(bson.D)[0].Value.(bson.D)
	if inc[0].Value.(int64) != 2 || inc[1].Value.(int64) != 1 {
		t.Errorf("review 1 $inc = %v, want likes 2 dislikes 1", inc)
	}
}

func TestIndexesServeReadPaths(t *testing.T) {
	// Each read path's filter+sort is a prefix of one index.
	want := map[string]string{"reviews": "film_id,likes,_id", "bookmarks": "user_id,at,film_id", "ratings": "user_id,film_id"}
	for coll, keys := range want {
		found := false
		for _, idx := range Indexes[coll] {
			s := ""
			for i, e := range idx {
				if i > 0 {
					s += ","
				}
				s += e.Key
			}
			found = found || s == keys
		}
		if !found {
			t.Errorf("%s has no index %s", coll, keys)
		}
	}
}

func TestSummaryPipelineShape(t *testing.T) {
	b, err := bson.MarshalExtJSON(bson.D{{Key: "p", Value: SummaryPipeline}}, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(SummaryPipeline) != 2 || SummaryPipeline[1][0].Key != "$merge" {
		t.Fatalf("pipeline %s", b)
	}
}
