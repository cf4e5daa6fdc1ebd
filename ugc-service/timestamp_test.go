package ugc_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

var fixedMillis = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestTimesHaveAFixedPrecision: times came out as "…:01Z", "…:43.87Z" and
// "…:43.881Z", which sort as strings in another order than in time.
func TestTimesHaveAFixedPrecision(t *testing.T) {
	base := time.Date(2026, 12, 2, 10, 0, 1, 0, time.FixedZone("CET", 3600))
	instants := []time.Time{base, base.Add(870 * time.Millisecond), base.Add(881 * time.Millisecond), base.Add(time.Second)}
	var texts []string
	for _, at := range instants {
		for name, v := range map[string]any{
			"rating":   ugc.Rating{UserID: uuid.New(), FilmID: uuid.New(), CreatedAt: at, UpdatedAt: at},
			"review":   &ugc.Review{ID: uuid.New(), CreatedAt: at, UpdatedAt: at},
			"bookmark": ugc.Bookmark{CreatedAt: at},
			"event":    ugc.Event{ID: uuid.New(), OccurredAt: at},
		} {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]any
			if err := json.Unmarshal(b, &fields); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"created_at", "updated_at", "occurred_at"} {
				s, ok := fields[key].(string)
				if !ok {
					continue
				}
				if !fixedMillis.MatchString(s) {
					t.Errorf("%s %s = %q, want UTC with three decimals", name, key, s)
				}
				if name == "rating" && key == "created_at" {
					texts = append(texts, s)
				}
			}
			if name == "rating" && (strings.Count(string(b), `"score"`) != 1 || strings.Count(string(b), `"created_at"`) != 1) {
				t.Errorf("rating encodes fields twice: %s", b)
			}
		}
	}
	if !slices.IsSorted(texts) {
		t.Errorf("the texts sort out of time order: %v", texts)
	}
	var back ugc.Rating
	b, _ := json.Marshal(ugc.Rating{CreatedAt: instants[2]})
	if err := json.Unmarshal(b, &back); err != nil || !back.CreatedAt.Equal(instants[2]) {
		t.Errorf("round trip: %v, %v", back.CreatedAt, err)
	}
}
