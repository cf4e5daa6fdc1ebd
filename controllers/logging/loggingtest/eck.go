// Package loggingtest stands in for the ECK operator in tests: its CRDs,
// without schemas, and the health its controllers would report.
package loggingtest

import (
	"context"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var plurals = map[string]string{"Elasticsearch": "elasticsearches", "Kibana": "kibanas", "Logstash": "logstashes", "Beat": "beats"}

// StandInCRD is a schema-less CRD for one ECK kind, with a status
// subresource: enough for the operator to discover, apply and watch it.
func StandInCRD(k schema.GroupVersionKind) *apiextensionsv1.CustomResourceDefinition {
	plural := plurals[k.Kind]
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + k.Group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: k.Group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: k.Kind, Plural: plural, ListKind: k.Kind + "List"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: k.Version, Served: true, Storage: true,
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true),
				}},
			}},
		},
	}
}

// Established reports whether the API server serves crd.
func Established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}

// SetHealth writes status.health of the ECK object ns/name of kind k, as
// ECK's controllers do.
func SetHealth(ctx context.Context, c client.Client, k schema.GroupVersionKind, ns, name, health string) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k)
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		return err
	}
	if err := unstructured.SetNestedField(u.Object, health, "status", "health"); err != nil {
		return err
	}
	return c.Status().Update(ctx, u)
}
