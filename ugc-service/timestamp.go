package ugc

import (
	"encoding/json"
	"time"
)

// TimeLayout is how the API and its events write an instant: UTC with
// exactly three decimals, the milliseconds every store keeps (see Now).
// time.Time's own encoding drops trailing zeros ("…:01Z", "…:01.87Z"), and
// such strings sort differently from the instants they name.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// timestamp encodes a time in TimeLayout; it decodes as time.Time does.
type timestamp time.Time

func (t timestamp) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// MarshalJSON writes the rating with its times in TimeLayout.
func (r Rating) MarshalJSON() ([]byte, error) {
	type plain Rating
	return json.Marshal(struct {
		plain
		CreatedAt timestamp `json:"created_at"`
		UpdatedAt timestamp `json:"updated_at"`
	}{plain(r), timestamp(r.CreatedAt), timestamp(r.UpdatedAt)})
}

// MarshalJSON writes the review with its times in TimeLayout.
func (r Review) MarshalJSON() ([]byte, error) {
	type plain Review
	return json.Marshal(struct {
		plain
		CreatedAt timestamp `json:"created_at"`
		UpdatedAt timestamp `json:"updated_at"`
	}{plain(r), timestamp(r.CreatedAt), timestamp(r.UpdatedAt)})
}

// MarshalJSON writes the bookmark with its time in TimeLayout.
func (b Bookmark) MarshalJSON() ([]byte, error) {
	type plain Bookmark
	return json.Marshal(struct {
		plain
		CreatedAt timestamp `json:"created_at"`
	}{plain(b), timestamp(b.CreatedAt)})
}

// MarshalJSON writes the event with its time in TimeLayout.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return json.Marshal(struct {
		plain
		OccurredAt timestamp `json:"occurred_at"`
	}{plain(e), timestamp(e.OccurredAt)})
}
