// Command notify-telegram sends a GitHub Actions workflow's result to a
// Telegram chat through the Bot API. The workflows run it as their last job
// (if: always()); it reads everything from the environment:
//
//	TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID  repository secrets; when either is
//	                                      empty (forks) it skips, successfully
//	TELEGRAM_API_BASE                     default https://api.telegram.org
//	JOB_RESULTS                           ${{ toJSON(needs) }} of the job
//	GITHUB_*                              the runner's own variables
//	PR_NUMBER, PR_TITLE                   set on pull_request events
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Getenv, http.DefaultClient, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "notify-telegram:", err)
		os.Exit(1)
	}
}

// jobResult is one entry of the needs context.
type jobResult struct {
	Result string `json:"result"`
}

// overall folds the jobs' results the way a person reads a run: any failure
// fails it, else any cancellation cancels it.
func overall(jobs map[string]jobResult) string {
	status := "success"
	for _, j := range jobs {
		switch j.Result {
		case "failure":
			return "failure"
		case "cancelled":
			status = "cancelled"
		}
	}
	return status
}

var icons = map[string]string{"success": "✅", "failure": "❌", "cancelled": "⚪", "skipped": "⏭"}

// message renders the notification as Telegram HTML; every value from the
// run is escaped, since branch names and PR titles are user input.
func message(getenv func(string) string, jobs map[string]jobResult) string {
	e := func(k string) string { return html.EscapeString(getenv(k)) }
	status := overall(jobs)
	var b strings.Builder
	fmt.Fprintf(&b, "%s <b>%s</b> %s on <code>%s</code>\n", icons[status], e("GITHUB_WORKFLOW"), status, e("GITHUB_REPOSITORY"))
	if pr := getenv("PR_NUMBER"); pr != "" {
		fmt.Fprintf(&b, "PR #%s: %s\n", html.EscapeString(pr), e("PR_TITLE"))
	} else {
		fmt.Fprintf(&b, "Branch: <code>%s</code>\n", e("GITHUB_REF_NAME"))
	}
	sha := getenv("GITHUB_SHA")
	if len(sha) > 7 {
		sha = sha[:7]
	}
	fmt.Fprintf(&b, "Commit: <code>%s</code> by %s\n", html.EscapeString(sha), e("GITHUB_ACTOR"))
	names := make([]string, 0, len(jobs))
	for n := range jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		icon := icons[jobs[n].Result]
		if icon == "" {
			icon = "•"
		}
		fmt.Fprintf(&b, "%s %s: %s\n", icon, html.EscapeString(n), html.EscapeString(jobs[n].Result))
	}
	url := fmt.Sprintf("%s/%s/actions/runs/%s", getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID"))
	fmt.Fprintf(&b, `<a href="%s">Open the run</a>`, html.EscapeString(url))
	return b.String()
}

// apiReply is the Bot API's envelope.
type apiReply struct {
	OK          bool   `json:"ok"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func run(ctx context.Context, getenv func(string) string, client *http.Client, out io.Writer) error {
	token, chat := getenv("TELEGRAM_BOT_TOKEN"), getenv("TELEGRAM_CHAT_ID")
	if token == "" || chat == "" {
		_, err := fmt.Fprintln(out, "telegram secrets are not set (a fork?): skipping the notification")
		return err
	}
	jobs := map[string]jobResult{}
	if raw := getenv("JOB_RESULTS"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &jobs); err != nil {
			return fmt.Errorf("JOB_RESULTS is not the needs context as JSON: %w", err)
		}
	}
	base := strings.TrimSuffix(getenv("TELEGRAM_API_BASE"), "/")
	if base == "" {
		base = "https://api.telegram.org"
	}
	body, err := json.Marshal(map[string]any{
		"chat_id": chat, "text": message(getenv, jobs), "parse_mode": "HTML", "disable_web_page_preview": true,
	})
	if err != nil {
		return err
	}
	// Telegram answers 429 with retry_after when a chat gets too many
	// messages; a few runs finishing together can hit it.
	for attempt := 1; ; attempt++ {
		reply, status, err := send(ctx, client, base+"/bot"+token+"/sendMessage", body)
		switch {
		case err != nil:
			return err
		case reply.OK:
			_, err := fmt.Fprintln(out, "telegram: notification sent")
			return err
		case status == http.StatusTooManyRequests && attempt < 3:
			wait := time.Duration(max(1, reply.Parameters.RetryAfter)) * time.Second
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		default:
			return fmt.Errorf("telegram answered %d: %s", status, reply.Description)
		}
	}
}

func send(ctx context.Context, client *http.Client, url string, body []byte) (apiReply, int, error) {
	var reply apiReply
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return reply, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// The URL holds the bot token: never print it.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap()
		}
		return reply, 0, fmt.Errorf("telegram: %w", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&reply); err != nil {
		return reply, resp.StatusCode, fmt.Errorf("telegram answered %d with no JSON: %w", resp.StatusCode, err)
	}
	return reply, resp.StatusCode, nil
}
