package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// bookmarkDoc is a document of the bookmarks collection.
type bookmarkDoc struct {
	UserID    uuid.UUID `bson:"user_id"`
	FilmID    uuid.UUID `bson:"film_id"`
	CreatedAt time.Time `bson:"created_at"`
}

func (d *bookmarkDoc) bookmark() *ugc.Bookmark {
	return &ugc.Bookmark{UserID: d.UserID, FilmID: d.FilmID, CreatedAt: d.CreatedAt.UTC()}
}

// AddBookmark upserts with $setOnInsert only, so an existing bookmark is left
// as it is, and reads the document as it was before: none means this call
// created it, and only then is there an event.
func (s *Store) AddBookmark(ctx context.Context, userID, filmID uuid.UUID) (*ugc.Bookmark, bool, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)
	var (
		out     *ugc.Bookmark
		created bool
	)
	err := s.change(ctx, func(ctx context.Context) error {
		now, err := s.after(ctx, s.bookmarks, "created_at", userID)
		if err != nil {
			return err
		}
		update := bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "created_at", Value: now}}}}
		var before bookmarkDoc
		err = retryUpsert(func() error {
			return s.bookmarks.FindOneAndUpdate(ctx, bookmarkKey(userID, filmID), update, opts).Decode(&before)
		})
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			out, created = &ugc.Bookmark{UserID: userID, FilmID: filmID, CreatedAt: now}, true
			return s.emit(ctx, ugc.NewEvent(ugc.EventBookmarkAdded, userID, filmID))
		}
		if err != nil {
			return fmt.Errorf("mongo: upsert bookmark: %w", err)
		}
		out, created = before.bookmark(), false
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

func bookmarkKey(userID, filmID uuid.UUID) bson.D {
	return bson.D{{Key: "user_id", Value: userID}, {Key: "film_id", Value: filmID}}
}

// RemoveBookmark deletes the bookmark by its unique key.
func (s *Store) RemoveBookmark(ctx context.Context, userID, filmID uuid.UUID) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.change(ctx, func(ctx context.Context) error {
		res, err := s.bookmarks.DeleteOne(ctx, bookmarkKey(userID, filmID))
		if err != nil {
			return fmt.Errorf("mongo: delete bookmark: %w", err)
		}
		if res.DeletedCount == 0 {
			return ugc.Errorf(ugc.ENOTFOUND, "bookmark not found")
		}
		return s.emit(ctx, ugc.NewEvent(ugc.EventBookmarkRemoved, userID, filmID))
	})
}

// ListBookmarks scans the (user_id, created_at -1, film_id -1) index from the
// cursor on, reading one bookmark more than the page.
func (s *Store) ListBookmarks(ctx context.Context, userID uuid.UUID, page ugc.Page) (*ugc.List[*ugc.Bookmark], error) {
	if err := page.ValidateFor(ugc.CursorBookmarks); err != nil {
		return nil, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	filter := bson.D{{Key: "user_id", Value: userID}}
	if c := page.After; c != nil {
		filter = append(filter, keysetAfter("created_at", fromMillis(c.Key), "film_id", c.ID)...)
	}
	sort := bson.D{{Key: "created_at", Value: -1}, {Key: "film_id", Value: -1}}
	docs, err := find[bookmarkDoc](ctx, s.bookmarks, filter, sort, page.Limit+1)
	if err != nil {
		return nil, fmt.Errorf("mongo: list bookmarks: %w", err)
	}
	rows := make([]*ugc.Bookmark, len(docs))
	for i := range docs {
		rows[i] = docs[i].bookmark()
	}
	return ugc.NewList(rows, page.Limit, (*ugc.Bookmark).Cursor), nil
}
