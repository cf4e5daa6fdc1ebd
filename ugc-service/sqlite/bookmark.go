package sqlite

import (
	"context"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

const (
	insertBookmarkSQL = `
		INSERT INTO bookmarks (user_id, film_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id, film_id) DO NOTHING`

	bookmarkCreatedSQL = `SELECT created_at FROM bookmarks WHERE user_id = ? AND film_id = ?`

	// latestBookmarkSQL reads the user's newest bookmark time from the
	// bookmarks_user_created index.
	latestBookmarkSQL = `SELECT COALESCE(MAX(created_at), 0) FROM bookmarks WHERE user_id = ?`

	deleteBookmarkSQL = `DELETE FROM bookmarks WHERE user_id = ? AND film_id = ?`
)

// bookmarksListing walks the bookmarks_user_created index, which covers the
// query, so it reads nothing else. Arguments: user, [cursor key, cursor id,]
// limit.
var bookmarksListing = listing{
	first: `SELECT user_id, film_id, created_at FROM bookmarks
		WHERE user_id = ?
		ORDER BY created_at DESC, film_id DESC LIMIT ?`,
	after: `SELECT user_id, film_id, created_at FROM bookmarks
		WHERE user_id = ? AND (created_at, film_id) < (?, ?)
		ORDER BY created_at DESC, film_id DESC LIMIT ?`,
}

// AddBookmark saves filmID for userID. Adding an existing bookmark returns it
// unchanged, created == false.
func (s *Store) AddBookmark(ctx context.Context, userID, filmID uuid.UUID) (*ugc.Bookmark, bool, error) {
	b := &ugc.Bookmark{UserID: userID, FilmID: filmID}
	created := true
	err := s.write(ctx, func(t *tx) error {
		at, err := t.after(latestBookmarkSQL, userID)
		if err != nil {
			return err
		}
		b.CreatedAt = millis(at)
		res, err := t.exec(insertBookmarkSQL, userID, filmID, at)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			return t.emit(ugc.NewEvent(ugc.EventBookmarkAdded, userID, filmID))
		}
		created = false
		var ms int64
		err = t.queryRow(bookmarkCreatedSQL, userID, filmID).Scan(&ms)
		b.CreatedAt = millis(ms)
		return err
	})
	if err != nil {
		return nil, false, wrap("add bookmark", err)
	}
	return b, created, nil
}

// RemoveBookmark deletes userID's bookmark of filmID, or returns ENOTFOUND.
func (s *Store) RemoveBookmark(ctx context.Context, userID, filmID uuid.UUID) error {
	err := s.write(ctx, func(t *tx) error {
		res, err := t.exec(deleteBookmarkSQL, userID, filmID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return ugc.Errorf(ugc.ENOTFOUND, "bookmark not found")
		}
		return t.emit(ugc.NewEvent(ugc.EventBookmarkRemoved, userID, filmID))
	})
	return wrap("remove bookmark", err)
}

// ListBookmarks pages through userID's bookmarks, newest first.
func (s *Store) ListBookmarks(ctx context.Context, userID uuid.UUID, page ugc.Page) (*ugc.List[*ugc.Bookmark], error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	if err := page.ValidateFor(ugc.CursorBookmarks); err != nil {
		return nil, err
	}
	rows, err := bookmarksListing.query(ctx, s.rs, userID, page, true)
	if err != nil {
		return nil, wrap("list bookmarks", err)
	}
	items, err := scanAll(rows, page.Limit+1, func(row scanner) (*ugc.Bookmark, error) {
		var b ugc.Bookmark
		var ms int64
		if err := row.Scan(&b.UserID, &b.FilmID, &ms); err != nil {
			return nil, err
		}
		b.CreatedAt = millis(ms)
		return &b, nil
	})
	if err != nil {
		return nil, wrap("list bookmarks", err)
	}
	return ugc.NewList(items, page.Limit, (*ugc.Bookmark).Cursor), nil
}
