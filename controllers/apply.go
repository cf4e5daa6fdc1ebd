package controllers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// FieldOwner is the one server-side-apply field manager of the operator.
const FieldOwner = client.FieldOwner("ugcstack-operator")

// apply makes obj owned by owner and server-side-applies it: the API server
// changes only what differs, and drift in fields we own is repaired.
func (r *UGCStackReconciler) apply(ctx context.Context, owner client.Object, obj client.Object) error {
	if err := controllerutil.SetControllerReference(owner, obj, r.Scheme); err != nil {
		return err
	}
	obj.SetManagedFields(nil)
	obj.SetResourceVersion("")
	//nolint:staticcheck // typed objects with TypeMeta set; one helper for typed and unstructured.
	if err := r.Patch(ctx, obj, client.Apply, FieldOwner, client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
	}
	return nil
}

// hashData is a short stable digest of a ConfigMap's data, put on pod
// templates so a config change rolls the pods.
func hashData(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\x00", k, data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
