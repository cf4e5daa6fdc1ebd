package ugc_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

func TestErrorCodeAndMessage(t *testing.T) {
	domain := ugc.Errorf(ugc.ECONFLICT, "film %d already reviewed", 7)
	wrapped := fmt.Errorf("store: %w", domain)
	plain := errors.New("connection reset by peer at 10.0.0.3")
	for _, c := range []struct {
		err       error
		code, msg string
	}{
		{nil, "", ""},
		{domain, ugc.ECONFLICT, "film 7 already reviewed"},
		{wrapped, ugc.ECONFLICT, "film 7 already reviewed"},
		{plain, ugc.EINTERNAL, "Internal error."},
	} {
		if got := ugc.ErrorCode(c.err); got != c.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", c.err, got, c.code)
		}
		if got := ugc.ErrorMessage(c.err); got != c.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", c.err, got, c.msg)
		}
	}
}

func TestValidateScore(t *testing.T) {
	for score := -2; score <= 12; score++ {
		err := ugc.ValidateScore(score)
		if valid := score >= 0 && score <= 10; valid != (err == nil) {
			t.Errorf("ValidateScore(%d) = %v", score, err)
		}
		if err != nil && ugc.ErrorCode(err) != ugc.EINVALID {
			t.Errorf("ValidateScore(%d) code = %q", score, ugc.ErrorCode(err))
		}
	}
}

func TestNormalizeReviewText(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"  good film \n", "good film", true},
		{"x", "x", true},
		{"", "", false},
		{" \t\n ", "", false},
		{strings.Repeat("ж", 5000), strings.Repeat("ж", 5000), true},
		{" " + strings.Repeat("ж", 5000) + " ", strings.Repeat("ж", 5000), true},
		{strings.Repeat("ж", 5001), "", false},
		{"\xff\xfe", "", false},
		// Text that shows nothing: NUL, zero width space, Hangul filler,
		// a variation selector, blank Braille, and mixes with spaces.
		{"\u0000", "", false},
		{"\u200b", "", false},
		{"\u3164", "", false},
		{"\u3164 \u200b\ufe0f\u2800", "", false},
		{"good\u0000film", "", false},
		{"bell\a", "", false},
		{"\x1b[31mred", "", false},
		// Visible text with invisible characters around it stays as written.
		{"\u200bok", "\u200bok", true},
		{"line one\r\n\tline two", "line one\r\n\tline two", true},
		{"👍🏽", "👍🏽", true},
		{"фильм", "фильм", true},
		{"\u0301", "\u0301", true}, // a lone combining mark is drawn
	} {
		got, err := ugc.NormalizeReviewText(c.in)
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("NormalizeReviewText(%.20q) = %.20q, %v; want %.20q ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && ugc.ErrorCode(err) != ugc.EINVALID {
			t.Errorf("code = %q", ugc.ErrorCode(err))
		}
	}
}

func TestVoteAndSortParsing(t *testing.T) {
	if ugc.VoteLike.Validate() != nil || ugc.VoteDislike.Validate() != nil {
		t.Error("valid votes rejected")
	}
	for _, v := range []ugc.VoteValue{"", "Like", "meh"} {
		if ugc.ErrorCode(v.Validate()) != ugc.EINVALID {
			t.Errorf("vote %q accepted", v)
		}
	}
	kinds := map[ugc.CursorKind]bool{}
	for in, want := range map[string]ugc.ReviewSort{"": ugc.SortNewest, "newest": ugc.SortNewest, "oldest": ugc.SortOldest, "most_liked": ugc.SortMostLiked, "most_disliked": ugc.SortMostDisliked} {
		got, err := ugc.ParseReviewSort(in)
		if err != nil || got != want {
			t.Errorf("ParseReviewSort(%q) = %q, %v", in, got, err)
		}
		kinds[got.CursorKind()] = true
	}
	if len(kinds) != 4 {
		t.Errorf("the four sorts share cursor kinds: %v", kinds)
	}
	if _, err := ugc.ParseReviewSort("rating"); ugc.ErrorCode(err) != ugc.EINVALID {
		t.Errorf("unknown sort accepted: %v", err)
	}
}

func TestFilmSummaryDerivation(t *testing.T) {
	film := uuid.New()
	empty := ugc.NewFilmSummary(film, ugc.Distribution{})
	if empty.Count != 0 || empty.Average != nil || empty.Likes != 0 || empty.Dislikes != 0 {
		t.Errorf("empty summary = %+v", empty)
	}
	s := ugc.NewFilmSummary(film, ugc.Distribution{0: 2, 5: 1, 10: 3})
	if s.Count != 6 || s.Likes != 3 || s.Dislikes != 2 || s.Average == nil || *s.Average != 35.0/6 {
		t.Errorf("summary = %+v", s)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := ugc.Cursor{Kind: ugc.CursorReviewsMostLiked, Key: -42, ID: uuid.New()}
	enc := c.Encode()
	got, err := ugc.ParseCursor(enc, ugc.CursorReviewsMostLiked)
	if err != nil || *got != c {
		t.Fatalf("ParseCursor(Encode(%+v)) = %+v, %v", c, got, err)
	}
	if _, err := ugc.ParseCursor(enc, ugc.CursorBookmarks); ugc.ErrorCode(err) != ugc.EINVALID {
		t.Errorf("cursor of another listing accepted: %v", err)
	}
	for _, bad := range []string{"", "!!!", enc[:len(enc)-1], enc + "AA", strings.ToUpper(enc)} {
		if bad == enc {
			continue
		}
		if _, err := ugc.ParseCursor(bad, ugc.CursorReviewsMostLiked); ugc.ErrorCode(err) != ugc.EINVALID {
			t.Errorf("ParseCursor(%q) = %v, want EINVALID", bad, err)
		}
	}
}

func TestEntityCursors(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_123).UTC()
	film := uuid.New()
	if c := (&ugc.Rating{FilmID: film, UpdatedAt: at}).Cursor(); c != (ugc.Cursor{Kind: ugc.CursorUserRatings, Key: at.UnixMilli(), ID: film}) {
		t.Errorf("rating cursor = %+v", c)
	}
	if c := (&ugc.Bookmark{FilmID: film, CreatedAt: at}).Cursor(); c != (ugc.Cursor{Kind: ugc.CursorBookmarks, Key: at.UnixMilli(), ID: film}) {
		t.Errorf("bookmark cursor = %+v", c)
	}
	r := &ugc.Review{ID: uuid.New(), Likes: 5, Dislikes: 9}
	for sort, key := range map[ugc.ReviewSort]int64{ugc.SortNewest: 0, ugc.SortOldest: 0, ugc.SortMostLiked: 5, ugc.SortMostDisliked: 9} {
		if c := r.Cursor(sort); c.Key != key || c.ID != r.ID || c.Kind != sort.CursorKind() {
			t.Errorf("review cursor for %s = %+v", sort, c)
		}
	}
}

func TestNewList(t *testing.T) {
	key := func(i int) ugc.Cursor { return ugc.Cursor{Key: int64(i)} }
	if l := ugc.NewList([]int{1, 2}, 2, key); len(l.Items) != 2 || l.Next != nil {
		t.Errorf("exact page = %+v", l)
	}
	if l := ugc.NewList([]int{1, 2, 3}, 2, key); len(l.Items) != 2 || l.Next == nil || l.Next.Key != 2 {
		t.Errorf("page with more = %+v", l)
	}
	c := &ugc.Cursor{Kind: ugc.CursorBookmarks}
	if (ugc.Page{Limit: 5, After: c}).ValidateFor(ugc.CursorBookmarks) != nil {
		t.Error("a cursor of the listing's kind was refused")
	}
	if ugc.ErrorCode((ugc.Page{Limit: 5, After: c}).ValidateFor(ugc.CursorUserRatings)) != ugc.EINVALID {
		t.Error("a cursor of another listing was accepted")
	}
	for _, limit := range []int{0, -1, 101} {
		if ugc.ErrorCode(ugc.Page{Limit: limit}.Validate()) != ugc.EINVALID {
			t.Errorf("limit %d accepted", limit)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add(ugc.Cursor{Kind: ugc.CursorBookmarks, Key: 1, ID: uuid.New()}.Encode())
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ugc.ParseCursor(s, ugc.CursorBookmarks)
		if err != nil {
			if ugc.ErrorCode(err) != ugc.EINVALID {
				t.Fatalf("ParseCursor(%q) error code %q", s, ugc.ErrorCode(err))
			}
			return
		}
		// Whatever parses must re-encode to a cursor that parses the same.
		again, err := ugc.ParseCursor(c.Encode(), ugc.CursorBookmarks)
		if err != nil || *again != *c {
			t.Fatalf("round trip of %q: %+v then %+v, %v", s, c, again, err)
		}
	})
}

func TestNextTimeKeepsAUsersWritesInOrder(t *testing.T) {
	before := ugc.Now()
	if got := ugc.NextTime(time.Time{}); got.Before(before) || got.Location() != time.UTC {
		t.Errorf("without a latest row: %v, want now (%v or later, UTC)", got, before)
	}
	ahead := before.Add(time.Second) // a burst that drifted ahead of the clock
	if got := ugc.NextTime(ahead); !got.Equal(ahead.Add(time.Millisecond)) {
		t.Errorf("after %v: %v, want a millisecond later", ahead, got)
	}
	if got := ugc.NextTime(before.Add(-time.Hour)); got.Before(before) {
		t.Errorf("after an old row: %v, want now (%v or later)", got, before)
	}
}
