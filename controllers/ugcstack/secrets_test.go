package ugcstack

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/ugcstack/ugcstack/controllers/api"
	"github.com/ugcstack/ugcstack/controllers/common/commontest"
	"github.com/ugcstack/ugcstack/controllers/logging"
	"github.com/ugcstack/ugcstack/controllers/mongodb/members"
	"github.com/ugcstack/ugcstack/controllers/relay"
)

// TestSecretsReachContainersAsFiles: the pods the operator runs read every
// secret from a mounted file (NAME_FILE), never from a variable holding the
// value. ClickHouse's own servers are the exception: remote_servers reads
// the password from_env.
func TestSecretsReachContainersAsFiles(t *testing.T) {
	for name, s := range commontest.Samples() {
		objs := append(api.Objects(s), members.StatefulSet(s, 1), logging.SetupJob(s, "es-uid"))
		if d := relay.Deployment(s); d != nil {
			objs = append(objs, d)
		}
		for _, o := range objs {
			pod := podSpec(o)
			if pod == nil {
				continue
			}
			for _, c := range append(pod.InitContainers, pod.Containers...) {
				for _, e := range c.Env {
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
						t.Errorf("%s: %s %s container %s reads Secret %s into %s", name, o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), c.Name, e.ValueFrom.SecretKeyRef.Name, e.Name)
					}
				}
			}
		}
	}
	// The check can fail: a stack's API must read its MongoDB URI somehow.
	d := api.Deployment(commontest.Minimal(), "")
	if commontest.SecretRef(d.Spec.Template.Spec, d.Spec.Template.Spec.Containers[0], "UGC_MONGO_URI") == nil {
		t.Error("the API reads no MongoDB URI at all")
	}
}

func podSpec(o client.Object) *corev1.PodSpec {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec
	case *appsv1.StatefulSet:
		return &o.Spec.Template.Spec
	case *batchv1.Job:
		return &o.Spec.Template.Spec
	}
	return nil
}
