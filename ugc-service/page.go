package ugc

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
)

// Page size bounds for every listing.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)

// Page asks for one page of a listing: at most Limit items that come after
// After in the listing's order (from the start when After is nil).
type Page struct {
	Limit int
	After *Cursor
}

// Validate reports EINVALID for a limit outside [1, MaxPageLimit].
func (p Page) Validate() error {
	if p.Limit < 1 || p.Limit > MaxPageLimit {
		return Errorf(EINVALID, "limit must be from 1 to %d, got %d", MaxPageLimit, p.Limit)
	}
	return nil
}

// ValidateFor also refuses a cursor of another kind than the listing's: its
// key would be compared with the wrong column and silently skip or repeat
// rows. Stores call it before they read.
func (p Page) ValidateFor(kind CursorKind) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.After != nil && p.After.Kind != kind {
		return Errorf(EINVALID, "cursor belongs to another listing")
	}
	return nil
}

// List is one page of a listing. Next is the cursor of the following page, nil
// on the last page.
type List[T any] struct {
	Items []T
	Next  *Cursor
}

// NewList builds a page from up to limit+1 rows read in listing order: stores
// read one row more than asked so that they know whether a next page exists
// without counting.
func NewList[T any](rows []T, limit int, cursor func(T) Cursor) *List[T] {
	if len(rows) <= limit {
		return &List[T]{Items: rows}
	}
	rows = rows[:limit]
	next := cursor(rows[limit-1])
	return &List[T]{Items: rows, Next: &next}
}

// CursorKind names the listing a cursor belongs to, so that a cursor taken from
// one listing is refused by another instead of silently skipping rows.
type CursorKind byte

// The listings that page with cursors.
const (
	CursorUserRatings CursorKind = iota + 1
	CursorBookmarks
	CursorReviewsNewest
	CursorReviewsOldest
	CursorReviewsMostLiked
	CursorReviewsMostDisliked
)

// Cursor is a keyset position: the sort key and id of the last row of a page.
// Listings resume strictly after (Key, ID) in their order, so rows inserted
// while a client pages neither repeat nor shift rows between pages.
type Cursor struct {
	Kind CursorKind
	Key  int64
	ID   uuid.UUID
}

const cursorLen = 1 + 8 + 16

// Encode returns the cursor's opaque, URL-safe form.
func (c Cursor) Encode() string {
	var b [cursorLen]byte
	b[0] = byte(c.Kind)
	binary.BigEndian.PutUint64(b[1:9], uint64(c.Key))
	copy(b[9:], c.ID[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseCursor decodes a cursor made by Encode for a listing of the given kind.
// EINVALID for anything else.
func ParseCursor(s string, kind CursorKind) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorLen {
		return nil, Errorf(EINVALID, "cursor is malformed")
	}
	if CursorKind(b[0]) != kind {
		return nil, Errorf(EINVALID, "cursor belongs to another listing")
	}
	c := &Cursor{Kind: kind, Key: int64(binary.BigEndian.Uint64(b[1:9]))}
	copy(c.ID[:], b[9:])
	return c, nil
}

// Cursor returns the position of r in a user's ratings.
func (r *Rating) Cursor() Cursor {
	return Cursor{Kind: CursorUserRatings, Key: r.UpdatedAt.UnixMilli(), ID: r.FilmID}
}

// Cursor returns the position of b in a user's bookmarks.
func (b *Bookmark) Cursor() Cursor {
	return Cursor{Kind: CursorBookmarks, Key: b.CreatedAt.UnixMilli(), ID: b.FilmID}
}

// Cursor returns the position of r in a film's reviews listed in order s.
func (r *Review) Cursor(s ReviewSort) Cursor {
	c := Cursor{Kind: s.CursorKind(), ID: r.ID}
	switch s {
	case SortMostLiked:
		c.Key = r.Likes
	case SortMostDisliked:
		c.Key = r.Dislikes
	}
	return c
}

// Now returns the current time as every store records it: UTC, truncated to
// milliseconds. MongoDB keeps milliseconds and cursors key on them, so a time
// read back must equal the time written, whatever the store.
func Now() time.Time {
	return time.Now().UTC().Truncate(time.Millisecond)
}

// NextTime is the time to give a user's next row in a listing ordered
// newest first, given the time of the user's latest row (zero without one):
// now, or a millisecond after latest when that is not earlier. Times are
// kept to the millisecond, so a user's quick writes (25 bookmarks in a few
// ms) shared times and their order fell back on the film id; sequential
// writes now each have their own, in the order written, drifting one ms
// per write within one user's burst.
func NextTime(latest time.Time) time.Time {
	now := Now()
	if next := latest.UTC().Add(time.Millisecond); next.After(now) {
		return next
	}
	return now
}
