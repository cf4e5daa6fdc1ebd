package http

import (
	"net/http"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// handler is an endpoint that returns its failure instead of writing it, so
// that every failure takes the one path through fail.
type handler func(c *gin.Context) error

// h adapts a handler to Gin. The stores bound each of their operations by
// their own timeout (UGC_STORE_TIMEOUT), so a slow store cannot pin a request
// forever, and a read served from a cache pays for no timer.
func (s *Server) h(fn handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			s.fail(c, err)
		}
	}
}

// reply writes v with status, or hands err on.
func reply[T any](c *gin.Context, status int, v T, err error) error {
	if err != nil {
		return err
	}
	writeJSON(c, status, contentJSON, v)
	return nil
}

// Header values that never change are shared: Header.Set would allocate a
// slice for each on every response.
var (
	contentJSON    = []string{"application/json; charset=utf-8"}
	contentProblem = []string{"application/problem+json"}
)

// smallBody is a size under which net/http declares the Content-Length
// itself: it buffers a body of "a few KB" written at once and, when the
// handler returns, sends its length (the load benchmark's client refuses
// chunked answers, so a wrong guess here fails `make bench`).
const smallBody = 1 << 10

// writeJSON writes v with a Content-Length, which keeps every response out of
// chunked encoding: clients and proxies read one length-delimited body.
func writeJSON(c *gin.Context, status int, contentType []string, v any) {
	writeBody(c, status, contentType, marshal(v))
}

// writeBody writes an encoded body with its status and type.
func writeBody(c *gin.Context, status int, contentType []string, body []byte) {
	h := c.Writer.Header()
	h["Content-Type"] = contentType
	if len(body) >= smallBody {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	c.Status(status)
	_, _ = c.Writer.Write(body) // a failed write is the client's hang-up, logged with its status
}

// replyList writes one page of a listing, or hands err on.
func replyList[T any](c *gin.Context, l *ugc.List[T], err error) error {
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, contentJSON, page(l))
	return nil
}

// page is the body of one page of a listing.
func page[T any](l *ugc.List[T]) listBody[T] {
	body := listBody[T]{Items: l.Items}
	if body.Items == nil {
		body.Items = []T{} // an empty page is [], not null
	}
	if l.Next != nil {
		next := l.Next.Encode()
		body.NextCursor = &next
	}
	return body
}

// listBody is the envelope of every listing.
type listBody[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// noContent answers 204, or hands err on.
func noContent(c *gin.Context, err error) error {
	if err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// Request bodies. Pointer fields tell a missing field from a zero value.
type (
	ratingBody struct {
		Score *int `json:"score"`
	}
	reviewBody struct {
		Text *string `json:"text"`
	}
	voteBody struct {
		Value *string `json:"value"`
	}
)

func (s *Server) getSummary(c *gin.Context) error {
	film, err := uuidParam(c, "film_id")
	if err != nil {
		return err
	}
	sum, err := s.connectedStore().FilmSummary(c.Request.Context(), film)
	return s.replyCacheable(c, cacheSummary, sum, err)
}

// summariesBody holds the summaries of a batch read, in the order asked.
type summariesBody struct {
	Items []*ugc.FilmSummary `json:"items"`
}

// getSummaries reads the summaries of a catalogue page's films at once:
// film_id repeated, up to ugc.MaxBatchSummaries distinct ids.
func (s *Server) getSummaries(c *gin.Context) error {
	raw := c.QueryArray("film_id")
	films := make([]uuid.UUID, 0, len(raw))
	seen := make(map[uuid.UUID]bool, len(raw))
	for _, v := range raw {
		id, err := parseUUID("film_id", v)
		if err != nil {
			return err
		}
		if !seen[id] {
			seen[id] = true
			films = append(films, id)
		}
	}
	if err := ugc.ValidateBatch(films); err != nil {
		return err
	}
	sums, err := s.connectedStore().FilmSummaries(c.Request.Context(), films)
	if err != nil {
		return err
	}
	return s.replyCacheable(c, cacheSummary, summariesBody{Items: sums}, nil)
}

func (s *Server) putRating(c *gin.Context) error {
	film, err := uuidParam(c, "film_id")
	if err != nil {
		return err
	}
	var body ratingBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	score, err := required("score", body.Score)
	if err != nil {
		return err
	}
	r, err := s.connectedStore().SetRating(c.Request.Context(), currentUser(c), film, score)
	return reply(c, http.StatusOK, r, err)
}

func (s *Server) getRating(c *gin.Context) error {
	film, err := uuidParam(c, "film_id")
	if err != nil {
		return err
	}
	r, err := s.connectedStore().GetRating(c.Request.Context(), currentUser(c), film)
	return reply(c, http.StatusOK, r, err)
}

func (s *Server) deleteRating(c *gin.Context) error {
	film, err := uuidParam(c, "film_id")
	if err != nil {
		return err
	}
	return noContent(c, s.connectedStore().DeleteRating(c.Request.Context(), currentUser(c), film))
}

func (s *Server) listMyRatings(c *gin.Context) error {
	page, err := pageParams(c, ugc.CursorUserRatings)
	if err != nil {
		return err
	}
	l, err := s.connectedStore().ListUserRatings(c.Request.Context(), currentUser(c), page)
	return replyList(c, l, err)
}

func (s *Server) createReview(c *gin.Context) error {
	film, err := uuidParam(c, "film_id")
	if err != nil {
		return err
	}
	text, err := decodeReviewText(c)
	if err != nil {
		return err
	}
	r, err := s.connectedStore().CreateReview(c.Request.Context(), currentUser(c), film, text)
	if err == nil {
		c.Header("Location", "/api/v1/reviews/"+r.ID.String())
	}
	return reply(c, http.StatusCreated, r, err)
}

func decodeReviewText(c *gin.Context) (string, error) {
	var body reviewBody
	if err := decodeJSON(c, &body); err != nil {
		return "", err
	}
	return required("text", body.Text)
}

func (s *Server) listFilmReviews(c *gin.Context) error {
	film, err := uuidParam(c, "film_id")
	if err != nil {
		return err
	}
	sort, err := ugc.ParseReviewSort(c.Query("sort"))
	if err != nil {
		return err
	}
	p, err := pageParams(c, sort.CursorKind())
	if err != nil {
		return err
	}
	l, err := s.connectedStore().ListFilmReviews(c.Request.Context(), film, sort, p)
	if err != nil {
		return err
	}
	return s.replyCacheable(c, cacheListing, page(l), nil)
}

func (s *Server) getReview(c *gin.Context) error {
	id, err := uuidParam(c, "review_id")
	if err != nil {
		return err
	}
	r, err := s.connectedStore().GetReview(c.Request.Context(), id)
	return s.replyCacheable(c, cacheReview, r, err)
}

func (s *Server) updateReview(c *gin.Context) error {
	id, err := uuidParam(c, "review_id")
	if err != nil {
		return err
	}
	text, err := decodeReviewText(c)
	if err != nil {
		return err
	}
	r, err := s.connectedStore().UpdateReview(c.Request.Context(), currentUser(c), id, text)
	return reply(c, http.StatusOK, r, err)
}

func (s *Server) deleteReview(c *gin.Context) error {
	id, err := uuidParam(c, "review_id")
	if err != nil {
		return err
	}
	return noContent(c, s.connectedStore().DeleteReview(c.Request.Context(), currentUser(c), id))
}

func (s *Server) putVote(c *gin.Context) error {
	id, err := uuidParam(c, "review_id")
	if err != nil {
		return err
	}
	var body voteBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	value, err := required("value", body.Value)
	if err != nil {
		return err
	}
	r, err := s.connectedStore().SetVote(c.Request.Context(), currentUser(c), id, ugc.VoteValue(value))
	return reply(c, http.StatusOK, r, err)
}

func (s *Server) deleteVote(c *gin.Context) error {
	id, err := uuidParam(c, "review_id")
	if err != nil {
		return err
	}
	return noContent(c, s.connectedStore().DeleteVote(c.Request.Context(), currentUser(c), id))
}

func (s *Server) putBookmark(c *gin.Context) error {
	film, err := uuidParam(c, "film_id")
	if err != nil {
		return err
	}
	b, created, err := s.connectedStore().AddBookmark(c.Request.Context(), currentUser(c), film)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return reply(c, status, b, err)
}

func (s *Server) deleteBookmark(c *gin.Context) error {
	film, err := uuidParam(c, "film_id")
	if err != nil {
		return err
	}
	return noContent(c, s.connectedStore().RemoveBookmark(c.Request.Context(), currentUser(c), film))
}

func (s *Server) listBookmarks(c *gin.Context) error {
	page, err := pageParams(c, ugc.CursorBookmarks)
	if err != nil {
		return err
	}
	l, err := s.connectedStore().ListBookmarks(c.Request.Context(), currentUser(c), page)
	return replyList(c, l, err)
}

var ginParam = regexp.MustCompile(`:([a-z_]+)`)

// openAPIPath spells a Gin route the OpenAPI way: /films/:film_id → /films/{film_id}.
func openAPIPath(p string) string {
	return ginParam.ReplaceAllString(p, "{$1}")
}
