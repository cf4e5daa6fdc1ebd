package http

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/google/uuid"

	ugc "github.com/ugcstack/ugcstack/ugc-service"
)

// Film summaries are the API's hottest answer (every film page, every
// catalogue tile), so they are encoded by hand: encoding/json's reflection
// cost about as much as the rest of the request. The output is byte for byte
// what encoding/json writes (TestSummaryEncodingMatchesEncodingJSON).

// marshal encodes a response body.
func marshal(v any) []byte { return appendBody(nil, v) }

// appendBody appends the encoding of a response body to b.
func appendBody(b []byte, v any) []byte {
	switch v := v.(type) {
	case *ugc.FilmSummary:
		return appendSummary(b, v)
	case summariesBody:
		b = append(b, `{"items":[`...)
		for i, s := range v.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendSummary(b, s)
		}
		return append(b, ']', '}')
	}
	body, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unencodable type) gets here.
		panic(fmt.Sprintf("encode response: %v", err))
	}
	return append(b, body...)
}

// bodies recycles the buffers of cacheable answers, which net/http has
// copied into the connection's buffer by the time Write returns.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledBody keeps a rare huge listing's buffer out of the pool.
const maxPooledBody = 64 << 10

// appendUUID appends id in its canonical form, as UUID.String would, without
// allocating the string.
func appendUUID(b []byte, id uuid.UUID) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], id[10:])
	return append(b, buf[:]...)
}

func appendSummary(b []byte, s *ugc.FilmSummary) []byte {
	b = append(b, `{"film_id":"`...)
	b = appendUUID(b, s.FilmID)
	b = append(b, `","count":`...)
	b = strconv.AppendInt(b, s.Count, 10)
	b = append(b, `,"average":`...)
	if s.Average == nil {
		b = append(b, "null"...)
	} else {
		// An average lies in [0, 10], where encoding/json also writes the
		// shortest decimal form without an exponent.
		b = strconv.AppendFloat(b, *s.Average, 'f', -1, 64)
	}
	b = append(b, `,"likes":`...)
	b = strconv.AppendInt(b, s.Likes, 10)
	b = append(b, `,"dislikes":`...)
	b = strconv.AppendInt(b, s.Dislikes, 10)
	b = append(b, `,"distribution":[`...)
	for i, n := range s.Distribution {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, n, 10)
	}
	return append(b, ']', '}')
}
