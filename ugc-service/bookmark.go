package ugc

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Bookmark is a film a user saved to watch later.
type Bookmark struct {
	UserID    uuid.UUID `json:"user_id"`
	FilmID    uuid.UUID `json:"film_id"`
	CreatedAt time.Time `json:"created_at"`
}

// BookmarkService manages users' bookmarks.
type BookmarkService interface {
	// AddBookmark saves filmID for userID. Adding an existing bookmark is not an
	// error: it returns the existing one with created == false.
	AddBookmark(ctx context.Context, userID, filmID uuid.UUID) (b *Bookmark, created bool, err error)

	// RemoveBookmark deletes userID's bookmark of filmID, or returns ENOTFOUND.
	RemoveBookmark(ctx context.Context, userID, filmID uuid.UUID) error

	// ListBookmarks pages through userID's bookmarks, newest first (CreatedAt
	// descending, then FilmID descending). AddBookmark gives each of a user's
	// bookmarks a later CreatedAt than the user's previous one (a millisecond
	// later when written within the same millisecond), so the order is the
	// order they were added. The cursor kind is CursorBookmarks.
	ListBookmarks(ctx context.Context, userID uuid.UUID, page Page) (*List[*Bookmark], error)
}
