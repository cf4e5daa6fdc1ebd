// Package v1alpha1 holds the UGCStack API: one namespaced object that
// describes a whole UGC platform (API, MongoDB, ClickHouse, logging, gateway).
// +kubebuilder:object:generate=true
// +groupName=ugc.ugcstack.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "ugc.ugcstack.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion} //nolint:staticcheck // the kubebuilder layout's registration helper; this package already depends on controller-runtime for its markers' types

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
