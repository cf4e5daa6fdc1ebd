package logging

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ugcstack/ugcstack/controllers/common/commontest"
)

// TestUnhealthyReadsEveryKind holds the health rules to the status ECK
// writes (field names of cloud-on-k8s v3.5.0 pkg/apis/*/…_types.go): a
// Logstash or a Filebeat that is not serving keeps logging from Ready, and
// the message names it and says why.
func TestUnhealthyReadsEveryKind(t *testing.T) {
	s := commontest.Production()
	s.Spec.Logging.ElasticsearchNodes = 3
	one := commontest.Production() // one Elasticsearch node
	byKind := map[string]*unstructured.Unstructured{}
	for _, o := range ECKObjects(s) {
		byKind[o.GetKind()] = o
	}
	for _, tt := range []struct {
		name, kind string
		status     map[string]any
		oneNode    bool
		want       string // "" healthy, else a part of the message
	}{
		{"es green", Elasticsearch.Kind, map[string]any{"health": "green", "availableNodes": int64(3)}, false, ""},
		{"es yellow, three nodes", Elasticsearch.Kind, map[string]any{"health": "yellow", "availableNodes": int64(3)}, false, `health is "yellow" with 3/3 nodes`},
		{"es yellow, one node", Elasticsearch.Kind, map[string]any{"health": "yellow", "availableNodes": int64(1)}, true, ""},
		{"es unknown", Elasticsearch.Kind, map[string]any{"health": "unknown"}, false, `"unknown"`},
		{"es green, a node short", Elasticsearch.Kind, map[string]any{"health": "green", "availableNodes": int64(2)}, false, "2/3 nodes available"},
		{"kibana green, associated", Kibana.Kind, map[string]any{"health": "green", "availableNodes": int64(1), "elasticsearchAssociationStatus": "Established"}, false, ""},
		{"kibana green, association pending", Kibana.Kind, map[string]any{"health": "green", "availableNodes": int64(1), "elasticsearchAssociationStatus": "Pending"}, false, `association to Elasticsearch is "Pending"`},
		{"logstash green", Logstash.Kind, map[string]any{"health": "green", "availableNodes": int64(1), "expectedNodes": int64(1), "elasticsearchAssociationsStatus": map[string]any{"ugc/prod-logs": "Established"}}, false, ""},
		{"logstash red", Logstash.Kind, map[string]any{"health": "red", "availableNodes": int64(0), "expectedNodes": int64(1)}, false, `health is "red" with 0/1 nodes`},
		{"logstash not associated", Logstash.Kind, map[string]any{"health": "green", "availableNodes": int64(1), "expectedNodes": int64(1)}, false, "no association"},
		{"logstash association failed", Logstash.Kind, map[string]any{"health": "green", "availableNodes": int64(1), "expectedNodes": int64(1), "elasticsearchAssociationsStatus": map[string]any{"ugc/prod-logs": "Failed"}}, false, `"Failed"`},
		{"filebeat green", Beat.Kind, map[string]any{"health": "green", "availableNodes": int64(4), "expectedNodes": int64(4)}, false, ""},
		{"filebeat yellow", Beat.Kind, map[string]any{"health": "yellow", "availableNodes": int64(3), "expectedNodes": int64(4)}, false, `health is "yellow" with 3/4 nodes`},
		{"filebeat no status yet", Beat.Kind, nil, false, `health is ""`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stack := s
			o := byKind[tt.kind].DeepCopy()
			if tt.oneNode {
				stack = one
			}
			if tt.status != nil {
				o.Object["status"] = tt.status
			}
			got := unhealthy(stack, o)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("unhealthy = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUnhealthyWaitsForTheAppliedGeneration: health ECK wrote for an older
// spec says nothing about the one just applied.
func TestUnhealthyWaitsForTheAppliedGeneration(t *testing.T) {
	s := commontest.Production()
	for _, o := range ECKObjects(s) {
		if o.GetKind() != Logstash.Kind {
			continue
		}
		o.SetGeneration(3)
		o.Object["status"] = map[string]any{
			"health": "green", "availableNodes": int64(1), "expectedNodes": int64(1), "observedGeneration": int64(2),
			"elasticsearchAssociationsStatus": map[string]any{"ugc/prod-logs": "Established"},
		}
		if got := unhealthy(s, o); !strings.Contains(got, "generation 3 is not yet observed") {
			t.Errorf("unhealthy = %q", got)
		}
	}
}
