package controllers

import "k8s.io/apimachinery/pkg/runtime/schema"

type gvk struct{ group, version, kind string }

func schemaGVK(group, version, kind string) gvk { return gvk{group, version, kind} }

// GroupVersionKind converts to the apimachinery type.
func (g gvk) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: g.group, Version: g.version, Kind: g.kind}
}
