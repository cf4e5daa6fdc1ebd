package ugc

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Review text bounds, counted in characters (runes) after trimming white space.
const (
	MinReviewText = 1
	MaxReviewText = 5000
)

// Review is a user's written opinion of a film. A user writes at most one review
// per film. Review ids are UUIDv7, so ordering by id is ordering by creation.
type Review struct {
	ID        uuid.UUID `json:"id"`
	FilmID    uuid.UUID `json:"film_id"`
	AuthorID  uuid.UUID `json:"author_id"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// AuthorScore is the author's current rating of the film, read when the
	// review is read (nil when the author has not rated it).
	AuthorScore *int  `json:"author_score"`
	Likes       int64 `json:"likes"`
	Dislikes    int64 `json:"dislikes"`
}

// NormalizeReviewText trims text and checks it, returning EINVALID when it is
// not valid UTF-8, holds control characters other than tab and line breaks,
// has no visible character, or is longer than MaxReviewText characters.
func NormalizeReviewText(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", Errorf(EINVALID, "text must be valid UTF-8")
	}
	text = strings.TrimSpace(text)
	if i := strings.IndexFunc(text, forbiddenControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(text[i:])
		return "", Errorf(EINVALID, "text must not contain control characters (U+%04X at byte %d)", r, i)
	}
	switch n := utf8.RuneCountInString(text); {
	case n < MinReviewText || !strings.ContainsFunc(text, visible):
		return "", Errorf(EINVALID, "text must contain a visible character")
	case n > MaxReviewText:
		return "", Errorf(EINVALID, "text must be at most %d characters, got %d", MaxReviewText, n)
	}
	return text, nil
}

// forbiddenControl reports C0 and C1 control characters (NUL, escape, ...),
// which no review needs; tab and line breaks are text.
func forbiddenControl(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

// visible reports whether r draws something: a letter, mark, number,
// punctuation or symbol that is not one of the characters Unicode defines as
// ignorable (format characters such as U+200B ZERO WIDTH SPACE, variation
// selectors, and Other_Default_Ignorable_Code_Point such as U+3164 HANGUL
// FILLER), nor the blank Braille pattern U+2800, a common empty-looking filler.
func visible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S) &&
		!unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) &&
		r != '\u2800'
}

// VoteValue is a user's verdict on a review.
type VoteValue string

// The two votes a user can cast on a review.
const (
	VoteLike    VoteValue = "like"
	VoteDislike VoteValue = "dislike"
)

// Validate reports EINVALID for anything but VoteLike or VoteDislike.
func (v VoteValue) Validate() error {
	if v != VoteLike && v != VoteDislike {
		return Errorf(EINVALID, `value must be "like" or "dislike", got %q`, string(v))
	}
	return nil
}

// ReviewSort is an order in which a film's reviews can be listed. Every order
// ends with the review id, so it is total and keyset paging is exact.
type ReviewSort string

// The supported review orders.
const (
	SortNewest       ReviewSort = "newest"        // id descending
	SortOldest       ReviewSort = "oldest"        // id ascending
	SortMostLiked    ReviewSort = "most_liked"    // likes descending, then id descending
	SortMostDisliked ReviewSort = "most_disliked" // dislikes descending, then id descending
)

// ParseReviewSort returns the sort named s; "" means SortNewest. EINVALID for
// an unknown name.
func ParseReviewSort(s string) (ReviewSort, error) {
	switch rs := ReviewSort(s); rs {
	case "":
		return SortNewest, nil
	case SortNewest, SortOldest, SortMostLiked, SortMostDisliked:
		return rs, nil
	}
	return "", Errorf(EINVALID, "sort must be one of newest, oldest, most_liked, most_disliked; got %q", s)
}

// CursorKind returns the cursor kind of a listing in this order.
func (s ReviewSort) CursorKind() CursorKind {
	switch s {
	case SortOldest:
		return CursorReviewsOldest
	case SortMostLiked:
		return CursorReviewsMostLiked
	case SortMostDisliked:
		return CursorReviewsMostDisliked
	default:
		return CursorReviewsNewest
	}
}

// ReviewService manages reviews and the votes on them.
type ReviewService interface {
	// CreateReview stores authorID's review of filmID. EINVALID for bad text,
	// ECONFLICT when the author already reviewed the film.
	CreateReview(ctx context.Context, authorID, filmID uuid.UUID, text string) (*Review, error)

	// GetReview returns a review, or ENOTFOUND.
	GetReview(ctx context.Context, reviewID uuid.UUID) (*Review, error)

	// UpdateReview replaces a review's text. ENOTFOUND when it does not exist,
	// EFORBIDDEN when actorID is not its author, EINVALID for bad text.
	UpdateReview(ctx context.Context, actorID, reviewID uuid.UUID, text string) (*Review, error)

	// DeleteReview removes a review and every vote on it. ENOTFOUND when it
	// does not exist, EFORBIDDEN when actorID is not its author.
	DeleteReview(ctx context.Context, actorID, reviewID uuid.UUID) error

	// ListFilmReviews pages through filmID's reviews in the given order; the
	// cursor kind is sort.CursorKind(). For SortNewest and SortOldest the cursor
	// key is unused; for the vote orders it is the likes or dislikes count.
	ListFilmReviews(ctx context.Context, filmID uuid.UUID, sort ReviewSort, page Page) (*List[*Review], error)

	// SetVote records userID's vote on a review, replacing an earlier one and
	// moving the review's counters accordingly; repeating the same vote changes
	// nothing. It returns the review as updated. ENOTFOUND when the review does
	// not exist, EFORBIDDEN when userID is its author, EINVALID for a bad value.
	SetVote(ctx context.Context, userID, reviewID uuid.UUID, value VoteValue) (*Review, error)

	// DeleteVote withdraws userID's vote on a review. ENOTFOUND when the review
	// or the vote does not exist.
	DeleteVote(ctx context.Context, userID, reviewID uuid.UUID) error
}
