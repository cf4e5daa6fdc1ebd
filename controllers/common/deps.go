// Package common holds what every component of a UGCStack shares: the one
// server-side-apply and prune helper, generated Secrets, component results,
// labels and names, and the pod-spec pieces the builders assemble.
//
// It depends only on the API types: components import it, never the
// other way round.
package common

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// Deps is what a component's reconcile step may use. Client reads from the
// manager's cache, which can lag behind the API server; a decision to
// create something that must exist once (a Secret's generated key, the
// logging setup Job) reads through APIReader instead.
type Deps struct {
	Client    client.Client
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
}

// Event records an event on the stack; a nil Recorder (unit tests) drops it.
func (d Deps) Event(s *ugcv1.UGCStack, typ, reason, format string, args ...any) {
	if d.Recorder != nil {
		d.Recorder.Eventf(s, nil, typ, reason, reason, format, args...)
	}
}
