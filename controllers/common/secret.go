package common

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// EnsureSecret returns the stack's Secret named like want, creating it from
// want with generate's data when it does not exist. generate runs only to
// create: a password or key, once made, is never made again. The Secret is
// created (not applied), so when the cache has not seen a Secret that
// exists, the API server refuses the second one instead of overwriting the
// first, and the existing one is read from the API server.
func EnsureSecret(ctx context.Context, d Deps, s *ugcv1.UGCStack, want *corev1.Secret, generate func() map[string]string) (*corev1.Secret, error) {
	key := client.ObjectKeyFromObject(want)
	got := &corev1.Secret{}
	err := d.Client.Get(ctx, key, got)
	if err == nil || !apierrors.IsNotFound(err) {
		return got, wrapSecret(err, want)
	}
	create := want.DeepCopy()
	create.StringData = generate()
	if err := controllerutil.SetControllerReference(s, create, d.Scheme); err != nil {
		return nil, err
	}
	err = d.Client.Create(ctx, create, FieldOwner)
	switch {
	case err == nil:
		d.Event(s, corev1.EventTypeNormal, "SecretGenerated", "generated Secret %s", want.Name)
	case !apierrors.IsAlreadyExists(err):
		return nil, wrapSecret(err, want)
	}
	return got, wrapSecret(d.APIReader.Get(ctx, key, got), want)
}

func wrapSecret(err error, s *corev1.Secret) error {
	if err != nil {
		return fmt.Errorf("secret %s: %w", s.Name, err)
	}
	return nil
}

// RandomPassword returns n random bytes, base64url-encoded: safe in URIs
// and configuration files without escaping.
func RandomPassword(n int) string {
	return base64.RawURLEncoding.EncodeToString(RandomBytes(n))
}

// RandomBytes returns n bytes from crypto/rand.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return b
}
