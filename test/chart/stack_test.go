package chart

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"sigs.k8s.io/yaml"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// decodeStack decodes a rendered UGCStack into the API type, refusing
// fields the type does not have (which the API server would prune away
// silently), and validates it against the chart's CRD schema.
func decodeStack(t *testing.T, u *unstructured.Unstructured) *ugcv1.UGCStack {
	t.Helper()
	if u.GetAPIVersion() != ugcv1.GroupVersion.String() {
		t.Fatalf("UGCStack apiVersion %s, want %s", u.GetAPIVersion(), ugcv1.GroupVersion)
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s ugcv1.UGCStack
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("rendered UGCStack does not fit the API type: %v\n%s", err, b)
	}
	if errs := validateAgainstCRD(t, u.Object); len(errs) > 0 {
		t.Fatalf("rendered UGCStack fails the CRD's schema:\n%s\n%s", strings.Join(errs, "\n"), b)
	}
	return &s
}

// validateAgainstCRD checks obj against the openAPIV3Schema of the chart's
// UGCStack CRD: types, enums, bounds, patterns and required fields, as the
// API server does before its CEL rules (which this does not run; the values
// schema holds the one a demo stack could break, odd MongoDB members).
func validateAgainstCRD(t *testing.T, obj map[string]any) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "crds", "ugc.ugcstack.io_ugcstacks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(b, &crd); err != nil {
		t.Fatal(err)
	}
	var v *apiextensionsv1.CustomResourceValidation
	for _, ver := range crd.Spec.Versions {
		if ver.Name == ugcv1.GroupVersion.Version {
			v = ver.Schema
		}
	}
	if v == nil || v.OpenAPIV3Schema == nil {
		t.Fatalf("the CRD has no schema for %s", ugcv1.GroupVersion.Version)
	}
	raw, err := json.Marshal(v.OpenAPIV3Schema)
	if err != nil {
		t.Fatal(err)
	}
	var schema spec.Schema
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	res := validate.NewSchemaValidator(&schema, nil, "", strfmt.Default).Validate(obj)
	var out []string
	for _, e := range res.Errors {
		out = append(out, e.Error())
	}
	return out
}

// The validator above must be able to say no, or TestNonDefaultRender's
// pass through it means nothing.
func TestCRDValidatorRejects(t *testing.T) {
	r := template(t, "--set", "stack.enabled=true")
	good := r.get(t, "UGCStack", "ugc")
	if errs := validateAgainstCRD(t, good.Object); len(errs) != 0 {
		t.Fatalf("rendered stack fails: %v", errs)
	}
	for name, mutate := range map[string]func(u *unstructured.Unstructured){
		"enum": func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "Sometimes", "spec", "mongodb", "deletePolicy")
		},
		"minimum": func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, int64(-1), "spec", "api", "replicas")
		},
		"required": func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, "spec", "api", "image") },
		"type": func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "yes", "spec", "gateway", "enabled")
		},
	} {
		bad := good.DeepCopy()
		mutate(bad)
		if errs := validateAgainstCRD(t, bad.Object); len(errs) == 0 {
			t.Errorf("%s: a broken stack passes the CRD schema", name)
		}
	}
}
