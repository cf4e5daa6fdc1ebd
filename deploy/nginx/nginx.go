// Package nginx renders the gateway configuration that sits in front of the
// UGC API: JSON access logs with the request id, request-id propagation, a
// per-client rate limit and the API's body limit. The operator renders it into
// a ConfigMap; nginx.conf beside this file is the same rendering with the
// defaults, for running the gateway without Kubernetes.
package nginx

import (
	"bytes"
	_ "embed"
	"fmt"
	"text/template"
)

//go:embed nginx.conf.tmpl
var confTemplate string

var conf = template.Must(template.New("nginx.conf").Option("missingkey=error").Parse(confTemplate))

// Params are the knobs of the gateway.
type Params struct {
	Listen        string   // e.g. "8080" or "127.0.0.1:8080"
	Upstreams     []string // host:port of the API instances (a Service name in Kubernetes)
	RatePerSecond int      // sustained requests per second per client address; 0 turns the limit off
	Burst         int      // requests a client may send above the rate at once
	MaxBodySize   string   // nginx size, kept equal to the API's 64 KiB limit
	AccessLog     string   // path, /dev/stdout in a container
	ErrorLog      string
	PidFile       string
	TempDir       string // where nginx buffers bodies; "" keeps nginx's default
	RunAsUser     string // the "user" directive; "" keeps nginx's default
}

// Defaults are the parameters of the shipped configuration.
func Defaults() Params {
	return Params{
		Listen:        "8080",
		Upstreams:     []string{"ugc-api:8080"},
		RatePerSecond: 50,
		Burst:         100,
		MaxBodySize:   "64k",
		AccessLog:     "/dev/stdout",
		ErrorLog:      "/dev/stderr",
		PidFile:       "/tmp/nginx.pid",
		TempDir:       "/tmp",
	}
}

// Render returns the nginx.conf for p.
func Render(p Params) (string, error) {
	if len(p.Upstreams) == 0 || p.RatePerSecond < 0 || p.Burst < 0 || p.Listen == "" || p.MaxBodySize == "" ||
		p.AccessLog == "" || p.ErrorLog == "" || p.PidFile == "" {
		return "", fmt.Errorf("nginx: incomplete parameters %+v", p)
	}
	var b bytes.Buffer
	if err := conf.Execute(&b, p); err != nil {
		return "", fmt.Errorf("nginx: render: %w", err)
	}
	return b.String(), nil
}
