package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ugcstack/ugcstack/deploy/logging"
)

// apiClient calls the UGC API through a port-forward.
type apiClient struct {
	base string
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// expect sends one request and asserts its status; out, when not nil,
// receives the JSON body.
func (a *apiClient) expect(ctx context.Context, method, path, token string, body any, status int, out any) http.Header {
	return a.expectWithID(ctx, method, path, token, "", body, status, out)
}

func (a *apiClient) expectWithID(ctx context.Context, method, path, token, requestID string, body any, status int, out any) http.Header {
	got, err := a.send(ctx, method, path, token, requestID, body)
	Expect(err).NotTo(HaveOccurred(), "%s %s", method, path)
	Expect(got.status).To(Equal(status), "%s %s answered %s", method, path, got.body)
	if out != nil {
		Expect(json.Unmarshal(got.body, out)).To(Succeed(), "%s %s: %s", method, path, got.body)
	}
	return got.header
}

// do sends one request and returns its status, for callers that retry
// through a failover.
func (a *apiClient) do(ctx context.Context, method, path, token string, body any) (int, error) {
	got, err := a.send(ctx, method, path, token, "", body)
	return got.status, err
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a *apiClient) send(ctx context.Context, method, path, token, requestID string, body any) (answer, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// esClient queries the stack's Elasticsearch as ECK's elastic user, over
// HTTPS verified against ECK's self-signed CA.
type esClient struct {
	base, password string
	http           *http.Client
}

func newESClient(ctx context.Context, ns, es, addr string) (*esClient, error) {
	var user, certs corev1.Secret
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: es + "-es-elastic-user"}, &user); err != nil {
		return nil, err
	}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: es + "-es-http-certs-public"}, &certs); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certs.Data["ca.crt"]) {
		return nil, errors.New("no CA certificate in " + certs.Name)
	}
	return &esClient{
		base:     "https://" + addr,
		password: string(user.Data["elastic"]),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, MinVersion: tls.VersionTLS12,
			// The forward is to 127.0.0.1; the certificate names the Service.
			ServerName: fmt.Sprintf("%s-es-http.%s.svc", es, ns),
		}}},
	}, nil
}

// hit is one document's requested fields, flattened by Elasticsearch.
type hit map[string][]any

func (h hit) first(field string) string {
	if v := h[field]; len(v) > 0 {
		return fmt.Sprint(v[0])
	}
	return ""
}

// accessLines returns the documents of the pipeline's data stream with the
// request id.
func (c *esClient) accessLines(ctx context.Context, requestID string) ([]hit, error) {
	q, err := json.Marshal(map[string]any{
		"query":   map[string]any{"term": map[string]any{"http.request.id": requestID}},
		"fields":  []string{"event.dataset", "url.path", "http.response.status_code", "service.name"},
		"_source": false,
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/"+logging.DataStream+"/_search", bytes.NewReader(q))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth("elastic", c.password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("search: %s: %s", resp.Status, b)
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Fields hit `json:"fields"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, err
	}
	var out []hit
	for _, h := range res.Hits.Hits {
		out = append(out, h.Fields)
	}
	return out, nil
}

// dataStream reports what Elasticsearch says of the pipeline's data
// stream: the index template that made it and the ILM policy its backing
// indices follow.
func (c *esClient) dataStream(ctx context.Context) (template, policy string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/_data_stream/"+logging.DataStream, nil)
	if err != nil {
		return "", "", err
	}
	req.SetBasicAuth("elastic", c.password)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("data stream %s: %s: %s", logging.DataStream, resp.Status, b)
	}
	var res struct {
		DataStreams []struct {
			Template  string `json:"template"`
			ILMPolicy string `json:"ilm_policy"`
		} `json:"data_streams"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return "", "", fmt.Errorf("data stream %s: %w: %s", logging.DataStream, err, b)
	}
	if len(res.DataStreams) != 1 {
		return "", "", fmt.Errorf("data stream %s: %d data streams in %s", logging.DataStream, len(res.DataStreams), b)
	}
	return res.DataStreams[0].Template, res.DataStreams[0].ILMPolicy, nil
}
