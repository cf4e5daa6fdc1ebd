// Package estest is an Elasticsearch stand-in for tests, where no
// Elasticsearch can run. It models what the pipeline depends on and refuses
// what Elasticsearch refuses: users and roles in the file-realm format ECK
// writes (users with bcrypt hashes, users_roles, roles.yml), 401 for a wrong
// password, 403 security_exception for a bulk write or a set-up call the
// user's roles do not cover, 400 for an ILM policy or index template that
// does not parse, and data streams that take only "create" operations.
package estest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
	"sigs.k8s.io/yaml"
)

// Role is one entry of roles.yml, with the fields of Elasticsearch's role
// descriptor (its security API reference, "Role descriptor"). Only cluster
// and index privileges are enforced; the others parse, so that a role ECK
// writes (its built-in roles grant Kibana application privileges) is
// valid, and a field Elasticsearch does not know is refused.
type Role struct {
	Cluster           []string          `json:"cluster"`
	Indices           []IndexRole       `json:"indices"`
	Applications      []json.RawMessage `json:"applications,omitempty"`
	RunAs             []string          `json:"run_as,omitempty"`
	Metadata          map[string]any    `json:"metadata,omitempty"`
	TransientMetadata map[string]any    `json:"transient_metadata,omitempty"`
	Global            map[string]any    `json:"global,omitempty"`
	RemoteIndices     []json.RawMessage `json:"remote_indices,omitempty"`
	RemoteCluster     []json.RawMessage `json:"remote_cluster,omitempty"`
	Description       string            `json:"description,omitempty"`
}

// IndexRole grants privileges on the indices its names (wildcards allowed)
// match.
type IndexRole struct {
	Names                  []string       `json:"names"`
	Privileges             []string       `json:"privileges"`
	FieldSecurity          map[string]any `json:"field_security,omitempty"`
	Query                  any            `json:"query,omitempty"`
	AllowRestrictedIndices bool           `json:"allow_restricted_indices,omitempty"`
}

// Realm is a file realm: the three files ECK writes into the
// <es>-es-xpack-file-realm Secret.
type Realm struct {
	Users      map[string][]byte   // user -> bcrypt hash ("users")
	UsersRoles map[string][]string // user -> roles ("users_roles")
	Roles      map[string]Role     // "roles.yml", plus the built-in superuser
}

// ParseRealm reads the file realm's users, users_roles and roles.yml.
func ParseRealm(users, usersRoles, rolesYML []byte) (Realm, error) {
	r := Realm{Users: map[string][]byte{}, UsersRoles: map[string][]string{}, Roles: map[string]Role{}}
	for _, line := range lines(users) {
		user, hash, ok := strings.Cut(line, ":")
		if !ok {
			return r, fmt.Errorf("users: line %q is not user:hash", line)
		}
		r.Users[user] = []byte(hash)
	}
	for _, line := range lines(usersRoles) {
		role, names, ok := strings.Cut(line, ":")
		if !ok {
			return r, fmt.Errorf("users_roles: line %q is not role:user,user", line)
		}
		for _, u := range strings.Split(names, ",") {
			r.UsersRoles[u] = append(r.UsersRoles[u], role)
		}
	}
	if err := yaml.UnmarshalStrict(rolesYML, &r.Roles); err != nil {
		return r, fmt.Errorf("roles.yml: %w", err)
	}
	return r, nil
}

func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// Server is the stand-in: an http.Handler with the realm it authenticates
// against and what it stored.
type Server struct {
	realm Realm

	mu          sync.Mutex
	policies    map[string]json.RawMessage
	templates   map[string]indexTemplate
	dataStreams map[string]bool
	docs        map[string]int // target -> documents written
}

// New serves realm's users and roles.
func New(realm Realm) *Server {
	return &Server{
		realm: realm, policies: map[string]json.RawMessage{}, templates: map[string]indexTemplate{},
		dataStreams: map[string]bool{}, docs: map[string]int{},
	}
}

// Docs is how many documents target (an index or data stream) holds.
func (s *Server) Docs(target string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.docs[target]
}

// IsDataStream reports whether target was created as a data stream.
func (s *Server) IsDataStream(target string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataStreams[target]
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, ok := s.authenticate(r)
	if !ok {
		fail(w, http.StatusUnauthorized, "security_exception", "unable to authenticate user [%s] for REST request [%s]", user, r.URL.Path)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail(w, http.StatusBadRequest, "parse_exception", "%v", err)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPut && len(parts) == 3 && parts[0] == "_ilm" && parts[1] == "policy":
		s.putPolicy(w, user, parts[2], body)
	case r.Method == http.MethodPut && len(parts) == 2 && parts[0] == "_index_template":
		s.putTemplate(w, user, parts[1], body)
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && parts[len(parts)-1] == "_bulk" && len(parts) <= 2:
		target := ""
		if len(parts) == 2 {
			target = parts[0]
		}
		s.bulk(w, user, target, body)
	default:
		fail(w, http.StatusBadRequest, "illegal_argument_exception", "no handler for %s %s in this stand-in", r.Method, r.URL.Path)
	}
}

func (s *Server) authenticate(r *http.Request) (string, bool) {
	user, password, ok := r.BasicAuth()
	if !ok {
		return "", false
	}
	hash, known := s.realm.Users[user]
	return user, known && bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

func (s *Server) roles(user string) []Role {
	var out []Role
	for _, name := range s.realm.UsersRoles[user] {
		if name == "superuser" {
			out = append(out, Role{Cluster: []string{"all"}, Indices: []IndexRole{{Names: []string{"*"}, Privileges: []string{"all"}}}})
		} else if role, ok := s.realm.Roles[name]; ok {
			out = append(out, role)
		}
	}
	return out
}

func (s *Server) hasCluster(user, privilege string) bool {
	for _, r := range s.roles(user) {
		if slices.Contains(r.Cluster, "all") || slices.Contains(r.Cluster, privilege) {
			return true
		}
	}
	return false
}

// writePrivileges are the index privileges that include create_doc
// (Elasticsearch's security privileges reference).
var writePrivileges = []string{"all", "write", "index", "create", "create_doc"}

// canWrite reports whether user may add documents to index, and create it
// when missing (create_index, or manage, which includes it).
func (s *Server) canWrite(user, index string, create bool) bool {
	write, creates := false, !create
	for _, r := range s.roles(user) {
		for _, ir := range r.Indices {
			if !slices.ContainsFunc(ir.Names, func(p string) bool { return match(p, index) }) {
				continue
			}
			for _, p := range ir.Privileges {
				write = write || slices.Contains(writePrivileges, p)
				creates = creates || p == "all" || p == "manage" || p == "create_index" || p == "auto_configure"
			}
		}
	}
	return write && creates
}

func match(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

func (s *Server) putPolicy(w http.ResponseWriter, user, name string, body []byte) {
	if !s.hasCluster(user, "manage_ilm") {
		fail(w, http.StatusForbidden, "security_exception", "action [cluster:admin/ilm/put] is unauthorized for user [%s]", user)
		return
	}
	if err := parsePolicy(body); err != nil {
		fail(w, http.StatusBadRequest, "x_content_parse_exception", "%v", err)
		return
	}
	s.mu.Lock()
	s.policies[name] = body
	s.mu.Unlock()
	acknowledged(w)
}

// ILM's phases and the actions each allows (Elasticsearch's ILM reference,
// "Index lifecycle actions").
var phaseActions = map[string][]string{
	"hot":    {"rollover", "set_priority", "unfollow", "readonly", "shrink", "forcemerge", "searchable_snapshot", "downsample"},
	"warm":   {"set_priority", "unfollow", "readonly", "allocate", "migrate", "shrink", "forcemerge", "downsample"},
	"cold":   {"set_priority", "unfollow", "readonly", "searchable_snapshot", "allocate", "migrate", "freeze", "downsample"},
	"frozen": {"unfollow", "searchable_snapshot"},
	"delete": {"wait_for_snapshot", "delete"},
}

func parsePolicy(body []byte) error {
	var p struct {
		Policy struct {
			Meta   json.RawMessage `json:"_meta"`
			Phases map[string]struct {
				MinAge  string                     `json:"min_age"`
				Actions map[string]json.RawMessage `json:"actions"`
			} `json:"phases"`
		} `json:"policy"`
	}
	if err := strict(body, &p); err != nil {
		return err
	}
	for phase, ph := range p.Policy.Phases {
		allowed, ok := phaseActions[phase]
		if !ok {
			return fmt.Errorf("unknown phase [%s]", phase)
		}
		for action := range ph.Actions {
			if !slices.Contains(allowed, action) {
				return fmt.Errorf("invalid action [%s] defined in phase [%s]", action, phase)
			}
		}
	}
	return nil
}

type indexTemplate struct {
	IndexPatterns []string        `json:"index_patterns"`
	DataStream    *struct{}       `json:"data_stream"`
	Priority      int             `json:"priority"`
	Meta          json.RawMessage `json:"_meta"`
	ComposedOf    []string        `json:"composed_of"`
	Version       int             `json:"version"`
	Template      struct {
		Settings map[string]any  `json:"settings"`
		Mappings json.RawMessage `json:"mappings"`
		Aliases  json.RawMessage `json:"aliases"`
	} `json:"template"`
}

func (s *Server) putTemplate(w http.ResponseWriter, user, name string, body []byte) {
	if !s.hasCluster(user, "manage_index_templates") {
		fail(w, http.StatusForbidden, "security_exception", "action [indices:admin/index_template/put] is unauthorized for user [%s]", user)
		return
	}
	var t indexTemplate
	if err := strict(body, &t); err != nil {
		fail(w, http.StatusBadRequest, "x_content_parse_exception", "%v", err)
		return
	}
	if len(t.IndexPatterns) == 0 {
		fail(w, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
		return
	}
	s.mu.Lock()
	s.templates[name] = t
	s.mu.Unlock()
	acknowledged(w)
}

// strict decodes a request body, refusing fields Elasticsearch does not
// know, as its XContent parsers do.
func strict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("failed to parse: %w", err)
	}
	return nil
}

// template is the highest-priority template matching name, as
// Elasticsearch picks it; ok is false when none matches.
func (s *Server) template(name string) (indexTemplate, bool) {
	var best indexTemplate
	found := false
	for _, t := range s.templates {
		if slices.ContainsFunc(t.IndexPatterns, func(p string) bool { return match(p, name) }) && (!found || t.Priority > best.Priority) {
			best, found = t, true
		}
	}
	return best, found
}

type bulkItem struct {
	Status int            `json:"status"`
	Index  string         `json:"_index"`
	Error  map[string]any `json:"error,omitempty"`
}

// bulk takes action lines and documents in NDJSON, answering 200 with one
// item each, as Elasticsearch's bulk API does: errors are per item.
func (s *Server) bulk(w http.ResponseWriter, user, defaultTarget string, body []byte) {
	ls := lines(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []map[string]bulkItem
	anyErr := false
	for i := 0; i < len(ls); i += 2 {
		var action map[string]struct {
			Index string `json:"_index"`
		}
		if err := json.Unmarshal([]byte(ls[i]), &action); err != nil || len(action) != 1 || i+1 >= len(ls) {
			fail(w, http.StatusBadRequest, "illegal_argument_exception", "Malformed action/metadata line [%d]", i+1)
			return
		}
		for op, meta := range action {
			target := meta.Index
			if target == "" {
				target = defaultTarget
			}
			item := s.write(user, op, target)
			anyErr = anyErr || item.Error != nil
			items = append(items, map[string]bulkItem{op: item})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": anyErr, "items": items})
}

// write adds one document to target; the caller holds s.mu.
func (s *Server) write(user, op, target string) bulkItem {
	_, exists := s.docs[target]
	if !s.canWrite(user, target, !exists) {
		return bulkItem{Status: http.StatusForbidden, Index: target, Error: map[string]any{
			"type":   "security_exception",
			"reason": fmt.Sprintf("action [indices:data/write/bulk[s]] is unauthorized for user [%s] with effective roles %v on indices [%s]", user, s.realm.UsersRoles[user], target),
		}}
	}
	t, templated := s.template(target)
	stream := s.dataStreams[target] || (!exists && templated && t.DataStream != nil)
	if stream && op != "create" {
		return bulkItem{Status: http.StatusBadRequest, Index: target, Error: map[string]any{
			"type": "illegal_argument_exception", "reason": "only write ops with an op_type of create are allowed in data streams",
		}}
	}
	if stream {
		s.dataStreams[target] = true
	}
	s.docs[target]++
	return bulkItem{Status: http.StatusCreated, Index: target}
}

func acknowledged(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"acknowledged":true}`)
}

func fail(w http.ResponseWriter, status int, typ, format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error":  map[string]any{"root_cause": []any{map[string]any{"type": typ, "reason": reason}}, "type": typ, "reason": reason},
		"status": status,
	})
}

// Create writes one document to target with the bulk API, as user, the way
// Logstash's elasticsearch output does for a data stream, and returns the
// item's status and error type, or the request's status when the whole
// request was refused (401).
func Create(url, user, password, target string) (int, string, error) {
	body := `{"create":{"_index":"` + target + `"}}` + "\n" + `{"@timestamp":"2026-12-02T10:00:00.000Z","message":"GET /api/v1/films"}` + "\n"
	req, err := http.NewRequest(http.MethodPost, url+"/_bulk", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.SetBasicAuth(user, password)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, "", nil
	}
	var out struct {
		Items []map[string]struct {
			Status int `json:"status"`
			Error  struct {
				Type string `json:"type"`
			} `json:"error"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, "", fmt.Errorf("bulk answer: %w", err)
	}
	if len(out.Items) != 1 {
		return 0, "", fmt.Errorf("bulk answer has %d items, want 1", len(out.Items))
	}
	item := out.Items[0]["create"]
	return item.Status, item.Error.Type, nil
}
