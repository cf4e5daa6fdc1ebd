package logging

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Neither Elasticsearch nor Kibana is installable where the tests run (no
// Debian or npm package), so httptest servers stand in for them: they
// record each request and answer the way the real APIs document.

type recorded struct {
	Method, Path, Query, ContentType, XSRF, User, Password string
	Body                                                   []byte
}

type fakeAPI struct {
	mu       sync.Mutex
	requests []recorded
	answer   func(r recorded) (int, string)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	user, pw, _ := r.BasicAuth()
	rec := recorded{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"),
		XSRF: r.Header.Get("kbn-xsrf"), User: user, Password: pw, Body: body,
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	f.mu.Unlock()
	status, answer := http.StatusOK, `{"acknowledged":true}`
	if f.answer != nil {
		status, answer = f.answer(rec)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (f *fakeAPI) got() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

func kibanaOK(recorded) (int, string) { return http.StatusOK, `{"success":true,"successCount":6}` }

func servers(t *testing.T) (*fakeAPI, *fakeAPI, Target) {
	es, kb := &fakeAPI{}, &fakeAPI{answer: kibanaOK}
	esSrv, kbSrv := httptest.NewServer(es), httptest.NewServer(kb)
	t.Cleanup(esSrv.Close)
	t.Cleanup(kbSrv.Close)
	return es, kb, Target{ESURL: esSrv.URL + "/", KibanaURL: kbSrv.URL, User: "elastic", Password: "s3cret"}
}

func TestSetupLoadsPolicyTemplateAndSavedObjects(t *testing.T) {
	es, kb, target := servers(t)
	for run := 1; run <= 2; run++ { // a rerun sends the same replacing requests
		if err := Setup(context.Background(), http.DefaultClient, target); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	esReqs, kbReqs := es.got(), kb.got()
	if len(esReqs) != 4 || len(kbReqs) != 2 {
		t.Fatalf("%d Elasticsearch and %d Kibana requests over two runs, want 4 and 2", len(esReqs), len(kbReqs))
	}
	for i, want := range []struct {
		method, path string
		body         []byte
	}{
		{http.MethodPut, "/_ilm/policy/ugc-logs", ILMPolicy()},
		{http.MethodPut, "/_index_template/ugc-logs", IndexTemplate()},
	} {
		for _, r := range []recorded{esReqs[i], esReqs[i+2]} {
			if r.Method != want.method || r.Path != want.path {
				t.Errorf("request %d: %s %s, want %s %s (policy before the template that names it)", i, r.Method, r.Path, want.method, want.path)
			}
			if !bytes.Equal(r.Body, want.body) {
				t.Errorf("%s: body is not the shipped file", want.path)
			}
			if r.ContentType != "application/json" || r.User != "elastic" || r.Password != "s3cret" {
				t.Errorf("%s: content type %q, auth %s:%s", want.path, r.ContentType, r.User, r.Password)
			}
		}
	}
	for _, r := range kbReqs {
		if r.Method != http.MethodPost || r.Path != "/api/saved_objects/_import" || r.Query != "overwrite=true" {
			t.Errorf("Kibana request %s %s?%s", r.Method, r.Path, r.Query)
		}
		if r.XSRF == "" || r.User != "elastic" || r.Password != "s3cret" {
			t.Errorf("Kibana request lacks kbn-xsrf (%q) or auth (%s)", r.XSRF, r.User)
		}
		file, name := formFile(t, r)
		if !bytes.Equal(file, KibanaSavedObjects()) || !strings.HasSuffix(name, ".ndjson") {
			t.Errorf("form file %q is not the shipped NDJSON", name)
		}
	}
}

// formFile returns the "file" part of a multipart request and its filename.
func formFile(t *testing.T, r recorded) ([]byte, string) {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(r.ContentType)
	if err != nil || mediaType != "multipart/form-data" {
		t.Fatalf("content type %q: %v", r.ContentType, err)
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no file part: %v", err)
		}
		if p.FormName() == "file" {
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			return b, p.FileName()
		}
	}
}

func TestSetupWithoutKibanaSkipsSavedObjects(t *testing.T) {
	es, kb, target := servers(t)
	target.KibanaURL = ""
	if err := Setup(context.Background(), http.DefaultClient, target); err != nil {
		t.Fatal(err)
	}
	if len(es.got()) != 2 || len(kb.got()) != 0 {
		t.Fatalf("%d Elasticsearch, %d Kibana requests; want 2, 0", len(es.got()), len(kb.got()))
	}
}

func TestSetupErrors(t *testing.T) {
	tests := []struct {
		name      string
		es, kb    func(recorded) (int, string)
		want      []string
		kibanaHit bool
	}{
		{
			name: "template rejected: the body is quoted and Kibana not called",
			es: func(r recorded) (int, string) {
				if strings.HasPrefix(r.Path, "/_index_template") {
					return http.StatusBadRequest, `{"error":{"type":"illegal_argument_exception","reason":"unknown setting [index.foo]"},"status":400}`
				}
				return http.StatusOK, `{"acknowledged":true}`
			},
			want: []string{"index template ugc-logs", "400 Bad Request", "unknown setting [index.foo]"},
		},
		{
			name: "wrong password",
			es:   func(recorded) (int, string) { return http.StatusUnauthorized, `{"error":"security_exception"}` },
			want: []string{"ILM policy ugc-logs", "401 Unauthorized", "security_exception"},
		},
		{
			name: "Kibana answers 200 but rejects objects",
			kb: func(recorded) (int, string) {
				return http.StatusOK, `{"success":false,"successCount":5,"errors":[{"id":"ugc-errors","type":"search","error":{"type":"missing_references"}}]}`
			},
			want:      []string{"imported 5", "missing_references"},
			kibanaHit: true,
		},
		{
			name: "Kibana refuses the request",
			kb: func(recorded) (int, string) {
				return http.StatusBadRequest, `{"message":"Request must contain a kbn-xsrf header."}`
			},
			want:      []string{"Kibana saved objects", "400 Bad Request", "kbn-xsrf"},
			kibanaHit: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, kb, target := servers(t)
			if tt.es != nil {
				es.answer = tt.es
			}
			if tt.kb != nil {
				kb.answer = tt.kb
			}
			err := Setup(context.Background(), http.DefaultClient, target)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if hit := len(kb.got()) > 0; hit != tt.kibanaHit {
				t.Errorf("Kibana called: %v, want %v", hit, tt.kibanaHit)
			}
		})
	}
}

func TestSetupQuotesAtMostABoundedBody(t *testing.T) {
	es, _, target := servers(t)
	es.answer = func(recorded) (int, string) { return http.StatusInternalServerError, strings.Repeat("x", 100<<10) }
	err := Setup(context.Background(), http.DefaultClient, target)
	if err == nil || len(err.Error()) > maxErrorBody+512 {
		t.Fatalf("error of %d bytes", len(err.Error()))
	}
}

// The import answer is JSON; a proxy's HTML error page with status 200 must
// not pass for success.
func TestSetupRejectsANonJSONImportAnswer(t *testing.T) {
	_, kb, target := servers(t)
	kb.answer = func(recorded) (int, string) { return http.StatusOK, "<html>login</html>" }
	if err := Setup(context.Background(), http.DefaultClient, target); err == nil || !strings.Contains(err.Error(), "decoding") {
		t.Fatalf("err = %v", err)
	}
}
