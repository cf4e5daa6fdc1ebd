package common

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestDefaultMemoryLimitNeverBelowTheRequest: the API server refuses a
// container whose memory request exceeds its limit, as the production
// sample's 4Gi MongoDB request against a 1Gi default did on the simulated
// cluster.
func TestDefaultMemoryLimitNeverBelowTheRequest(t *testing.T) {
	for _, tt := range []struct {
		request, limit, want string
	}{
		{"", "", "1Gi"},
		{"512Mi", "", "1Gi"},
		{"4Gi", "", "4Gi"},
		{"4Gi", "8Gi", "8Gi"},
	} {
		r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
		if tt.request != "" {
			r.Requests[corev1.ResourceMemory] = resource.MustParse(tt.request)
		}
		if tt.limit != "" {
			r.Limits[corev1.ResourceMemory] = resource.MustParse(tt.limit)
		}
		got := DefaultMemoryLimit(r, "1Gi").Limits[corev1.ResourceMemory]
		if got.String() != tt.want {
			t.Errorf("request %q limit %q: limit %s, want %s", tt.request, tt.limit, got.String(), tt.want)
		}
	}
}
