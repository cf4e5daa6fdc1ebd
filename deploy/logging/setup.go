package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// Target is the Elasticsearch (and optionally Kibana) that Setup loads the
// pipeline's objects into, with the credentials of a user allowed to manage
// ILM, index templates and saved objects.
type Target struct {
	ESURL     string // e.g. https://ugc-logs-es-http.ugc.svc:9200
	KibanaURL string // empty: no Kibana, the saved objects are skipped
	User      string
	Password  string
}

// maxErrorBody bounds how much of a failed response an error quotes.
const maxErrorBody = 4 << 10

// Setup creates or replaces, in order, the ILM policy (which the template
// names), the index template and, when a Kibana is given, the saved objects
// (overwriting those with the same ids). Each request is idempotent, so a
// rerun after a partial failure converges. A non-2xx answer, or a Kibana
// import that reports failures, is an error quoting the response body.
func Setup(ctx context.Context, c *http.Client, t Target) error {
	if t.ESURL == "" {
		return errors.New("logging setup: no Elasticsearch URL")
	}
	es := strings.TrimSuffix(t.ESURL, "/")
	if err := t.do(ctx, c, http.MethodPut, es+"/_ilm/policy/"+ILMPolicyName, "application/json", ILMPolicy(), nil); err != nil {
		return fmt.Errorf("logging setup: ILM policy %s: %w", ILMPolicyName, err)
	}
	if err := t.do(ctx, c, http.MethodPut, es+"/_index_template/"+TemplateName, "application/json", IndexTemplate(), nil); err != nil {
		return fmt.Errorf("logging setup: index template %s: %w", TemplateName, err)
	}
	if t.KibanaURL == "" {
		return nil
	}
	body, contentType, err := savedObjectsForm()
	if err != nil {
		return err
	}
	var imported struct {
		Success      bool              `json:"success"`
		SuccessCount int               `json:"successCount"`
		Errors       []json.RawMessage `json:"errors"`
	}
	url := strings.TrimSuffix(t.KibanaURL, "/") + "/api/saved_objects/_import?overwrite=true"
	if err := t.do(ctx, c, http.MethodPost, url, contentType, body, &imported); err != nil {
		return fmt.Errorf("logging setup: Kibana saved objects: %w", err)
	}
	if !imported.Success {
		return fmt.Errorf("logging setup: Kibana imported %d saved objects and rejected others: %s", imported.SuccessCount, bytes.Join(rawSlice(imported.Errors), []byte(", ")))
	}
	return nil
}

func rawSlice(msgs []json.RawMessage) [][]byte {
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = m
	}
	return out
}

// savedObjectsForm is the multipart form Kibana's import API takes: the
// NDJSON as a file part named "file".
func savedObjectsForm() ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="ugc-logs.ndjson"`)
	h.Set("Content-Type", "application/ndjson")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(KibanaSavedObjects()); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// do sends one request and decodes a 2xx JSON answer into out, if given.
func (t Target) do(ctx context.Context, c *http.Client, method, url, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	// Kibana refuses state-changing API calls without it (CSRF guard);
	// Elasticsearch ignores it.
	req.Header.Set("kbn-xsrf", "true")
	if t.User != "" {
		req.SetBasicAuth(t.User, t.Password)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }() // read fully below: nothing left to report
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if len(respBody) > maxErrorBody {
			respBody = append(respBody[:maxErrorBody], "…"...)
		}
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(respBody))
	}
	if out != nil {
		if err := json.Unmarshal(respBody, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, url, err)
		}
	}
	return nil
}
