package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// botAPI stands in for api.telegram.org and records what it was sent.
type botAPI struct {
	mu       sync.Mutex
	paths    []string
	messages []map[string]any
	replies  []string // replied in order; the last one repeats
	statuses []int
}

func (b *botAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	b.paths = append(b.paths, r.URL.Path)
	b.messages = append(b.messages, m)
	i := min(len(b.paths)-1, len(b.replies)-1)
	w.WriteHeader(b.statuses[i])
	_, _ = w.Write([]byte(b.replies[i]))
}

func env(extra map[string]string) func(string) string {
	base := map[string]string{
		"TELEGRAM_BOT_TOKEN": "123:SECRET", "TELEGRAM_CHAT_ID": "-100777",
		"GITHUB_WORKFLOW": "ci", "GITHUB_REPOSITORY": "ugcstack/ugcstack", "GITHUB_REF_NAME": "feature/<b>x</b>",
		"GITHUB_SHA": "0123456789abcdef", "GITHUB_ACTOR": "alice", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_RUN_ID": "42", "JOB_RESULTS": `{"lint":{"result":"success"},"test":{"result":"failure"},"e2e":{"result":"skipped"}}`,
	}
	for k, v := range extra {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func TestSendsTheRunsResult(t *testing.T) {
	api := &botAPI{replies: []string{`{"ok":true}`}, statuses: []int{200}}
	ts := httptest.NewServer(api)
	defer ts.Close()
	var out bytes.Buffer
	if err := run(t.Context(), env(map[string]string{"TELEGRAM_API_BASE": ts.URL}), ts.Client(), &out); err != nil {
		t.Fatal(err)
	}
	if len(api.paths) != 1 || api.paths[0] != "/bot123:SECRET/sendMessage" {
		t.Fatalf("requests: %v", api.paths)
	}
	m := api.messages[0]
	if m["chat_id"] != "-100777" || m["parse_mode"] != "HTML" {
		t.Fatalf("message %v", m)
	}
	text := m["text"].(string)
	for _, want := range []string{
		"❌ <b>ci</b> failure on <code>ugcstack/ugcstack</code>",
		"Branch: <code>feature/&lt;b&gt;x&lt;/b&gt;</code>", // user input is escaped
		"Commit: <code>0123456</code> by alice",
		"✅ lint: success", "❌ test: failure", "⏭ e2e: skipped",
		`<a href="https://github.com/ugcstack/ugcstack/actions/runs/42">`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestPullRequestAndSuccess(t *testing.T) {
	jobs := map[string]string{"JOB_RESULTS": `{"lint":{"result":"success"},"test":{"result":"success"}}`, "PR_NUMBER": "7", "PR_TITLE": "Add <reviews>"}
	text := message(env(jobs), map[string]jobResult{"lint": {"success"}, "test": {"success"}})
	if !strings.HasPrefix(text, "✅ <b>ci</b> success") || !strings.Contains(text, "PR #7: Add &lt;reviews&gt;") || strings.Contains(text, "Branch:") {
		t.Fatalf("text:\n%s", text)
	}
	if got := overall(map[string]jobResult{"a": {"success"}, "b": {"cancelled"}}); got != "cancelled" {
		t.Fatalf("overall = %s", got)
	}
}

func TestSkipsWithoutSecrets(t *testing.T) {
	api := &botAPI{replies: []string{`{"ok":true}`}, statuses: []int{200}}
	ts := httptest.NewServer(api)
	defer ts.Close()
	var out bytes.Buffer
	err := run(t.Context(), env(map[string]string{"TELEGRAM_BOT_TOKEN": "", "TELEGRAM_API_BASE": ts.URL}), ts.Client(), &out)
	if err != nil || len(api.paths) != 0 || !strings.Contains(out.String(), "skipping") {
		t.Fatalf("err %v, requests %v, out %q", err, api.paths, out.String())
	}
}

func TestRetriesAfterTooManyRequestsAndReportsErrors(t *testing.T) {
	api := &botAPI{
		replies:  []string{`{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":1}}`, `{"ok":true}`},
		statuses: []int{429, 200},
	}
	ts := httptest.NewServer(api)
	defer ts.Close()
	if err := run(t.Context(), env(map[string]string{"TELEGRAM_API_BASE": ts.URL}), ts.Client(), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if len(api.paths) != 2 {
		t.Fatalf("%d requests, want a retry", len(api.paths))
	}

	bad := &botAPI{replies: []string{`{"ok":false,"description":"Bad Request: chat not found"}`}, statuses: []int{400}}
	ts2 := httptest.NewServer(bad)
	defer ts2.Close()
	err := run(t.Context(), env(map[string]string{"TELEGRAM_API_BASE": ts2.URL}), ts2.Client(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "chat not found") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("err = %v", err)
	}
	if err := run(t.Context(), env(map[string]string{"TELEGRAM_API_BASE": "http://127.0.0.1:1"}), http.DefaultClient, &bytes.Buffer{}); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("unreachable API: err = %v (must not leak the token)", err)
	}
}
