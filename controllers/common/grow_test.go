package common

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

func sized(size string, mutate func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	st := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{UID: "u"}}
	st.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{DataClaim(nil, ugcv1.StorageSpec{Size: resource.MustParse(size)}, "1Gi")}
	mutate(st)
	return st
}

// A cached StatefulSet that already has the size asked for spares the
// API server; anything else is confirmed there.
func TestMayGrow(t *testing.T) {
	none := func(*appsv1.StatefulSet) {}
	want := sized("20Gi", none)
	for _, c := range []struct {
		name string
		cur  *appsv1.StatefulSet
		want bool
	}{
		{"same size", sized("20Gi", none), false},
		{"larger already", sized("30Gi", none), false},
		{"smaller: grows", sized("10Gi", none), true},
		{"not in the cache", &appsv1.StatefulSet{}, true},
		{"being deleted", sized("20Gi", func(s *appsv1.StatefulSet) { s.DeletionTimestamp = &metav1.Time{} }), true},
	} {
		if got := MayGrow(c.cur, want); got != c.want {
			t.Errorf("%s: MayGrow = %v, want %v", c.name, got, c.want)
		}
	}
}
