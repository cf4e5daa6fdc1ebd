package functional

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

const frontend = "https://www.example.com"

// TestCORS sends the requests a browser sends for a page on the frontend's
// origin: preflights, then the calls themselves.
func TestCORS(t *testing.T) {
	s := start(t, "UGC_CORS_ORIGINS="+frontend+", https://admin.example.com")
	alice := newUser(t)
	rating := "/api/v1/films/" + uuid.NewString() + "/rating"

	preflight := s.expect(t, 204, request{Method: "OPTIONS", Path: rating, Header: map[string]string{
		"Origin":                         frontend,
		"Access-Control-Request-Method":  "PUT",
		"Access-Control-Request-Headers": "authorization, content-type",
	}})
	h := preflight.Header
	if h.Get("Access-Control-Allow-Origin") != frontend {
		t.Fatalf("preflight allowed origin %q", h.Get("Access-Control-Allow-Origin"))
	}
	if h.Get("Access-Control-Max-Age") != "600" {
		t.Fatalf("preflight Max-Age %q, want 600 (cached for 10 minutes)", h.Get("Access-Control-Max-Age"))
	}
	if !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Fatalf("preflight headers %v", h)
	}
	if h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("credentials allowed: %q", h.Get("Access-Control-Allow-Credentials"))
	}

	// The call itself carries the origin and exposes what scripts read.
	resp := s.expect(t, 200, request{
		Method: "PUT", Path: rating, As: alice, Body: map[string]int{"score": 8},
		Header: map[string]string{"Origin": frontend},
	})
	if resp.Header.Get("Access-Control-Allow-Origin") != frontend ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers")), "etag") {
		t.Fatalf("response CORS headers %v", resp.Header)
	}

	// Another origin is refused with a problem body, preflight or not.
	for _, method := range []string{"OPTIONS", "GET"} {
		s.expect(t, 403, request{Method: method, Path: "/api/v1/films/" + uuid.NewString() + "/summary", Header: map[string]string{
			"Origin": "https://evil.example.net", "Access-Control-Request-Method": "GET",
		}})
	}
	// Requests without an Origin (servers, curl) are not CORS and pass.
	s.expect(t, 200, request{Method: "GET", Path: "/api/v1/films/" + uuid.NewString() + "/summary"})
	// Probes and scrapers may send any Origin: the endpoints outside /api
	// are not for pages, and answer them (they were 403).
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		probe := s.expect(t, 200, request{Method: "GET", Path: path, Header: map[string]string{"Origin": "https://monitor.example.net"}})
		if probe.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s grants CORS to %q", path, probe.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

// TestNoCORSByDefault: without UGC_CORS_ORIGINS no origin is granted access.
func TestNoCORSByDefault(t *testing.T) {
	s := start(t)
	resp := s.do(t, request{Method: "GET", Path: "/api/v1/films/" + uuid.NewString() + "/summary", Header: map[string]string{"Origin": frontend}})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("origin granted without configuration: %v", resp.Header)
	}
}

// TestClientIPFromTrustedProxiesOnly: a client cannot choose the address it
// is logged under; only a configured proxy's headers are believed.
func TestClientIPFromTrustedProxiesOnly(t *testing.T) {
	spoof := map[string]string{"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6"}
	for _, c := range []struct {
		name, trusted, want string
	}{
		{"no proxy trusted", "", "127.0.0.1"},
		{"another proxy trusted", "10.0.0.0/8", "127.0.0.1"},
		{"loopback proxy trusted", "127.0.0.1/32", "6.6.6.6"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := start(t, "UGC_TRUSTED_PROXIES="+c.trusted)
			path := "/api/v1/films/" + uuid.NewString() + "/summary"
			s.expect(t, 200, request{Method: "GET", Path: path, Header: spoof})
			access := waitForLog(t, s, func(l map[string]any) bool { return l["event.dataset"] == "ugc.access" && l["url.path"] == path })
			if got := access["client.ip"]; got != c.want {
				t.Fatalf("client.ip %v, want %s", got, c.want)
			}
		})
	}
}
