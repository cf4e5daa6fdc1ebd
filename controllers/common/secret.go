package common

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// Ownership says whether a generated Secret goes with its stack.
type Ownership int

const (
	// Owned Secrets are the stack's children, collected with it.
	Owned Ownership = iota
	// Retained Secrets hold what data on volumes that may outlive the stack
	// cannot be used without (a database's root password is in its files):
	// they carry no owner reference, so a stack re-created with the same
	// name adopts them, and they go only with the volumes (DeleteVolumes).
	Retained
)

// EnsureSecret returns the stack's Secret named like want, creating it from
// want with generate's data when it does not exist. generate runs only to
// create: a password or key, once made, is never made again; it may refuse
// (a password that data already depends on is lost). The Secret is created
// (not applied), so when the cache has not seen a Secret that exists, the
// API server refuses the second one instead of overwriting the first, and
// the existing one is read from the API server. A Retained Secret that an
// earlier operator made the stack's child is released.
func EnsureSecret(ctx context.Context, d Deps, s *ugcv1.UGCStack, want *corev1.Secret, own Ownership, generate func(context.Context) (map[string]string, error)) (*corev1.Secret, error) {
	key := client.ObjectKeyFromObject(want)
	got := &corev1.Secret{}
	err := d.Client.Get(ctx, key, got)
	if apierrors.IsNotFound(err) {
		// The cache may not have seen it yet: only the API server can say
		// it is missing, before generate decides what to make.
		err = d.APIReader.Get(ctx, key, got)
	}
	if !apierrors.IsNotFound(err) {
		if err == nil && own == Retained {
			err = release(ctx, d, s, got)
		}
		return got, wrapSecret(err, want)
	}
	create := want.DeepCopy()
	if create.StringData, err = generate(ctx); err != nil {
		return nil, wrapSecret(err, want)
	}
	if own == Owned {
		if err := controllerutil.SetControllerReference(s, create, d.Scheme); err != nil {
			return nil, err
		}
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

// release drops the references to a UGCStack of the stack's name, of any
// UID: one to a deleted stack of the same name would have the garbage
// collector take a Secret the re-created stack adopted.
func release(ctx context.Context, d Deps, s *ugcv1.UGCStack, sec *corev1.Secret) error {
	refs := slices.DeleteFunc(slices.Clone(sec.OwnerReferences), func(r metav1.OwnerReference) bool {
		return r.Kind == "UGCStack" && r.Name == s.Name && strings.HasPrefix(r.APIVersion, ugcv1.GroupVersion.Group+"/")
	})
	if len(refs) == len(sec.OwnerReferences) {
		return nil
	}
	patch := client.MergeFromWithOptions(sec.DeepCopy(), client.MergeFromWithOptimisticLock{})
	sec.OwnerReferences = refs
	if err := d.Client.Patch(ctx, sec, patch); err != nil {
		return fmt.Errorf("release from the stack: %w", err)
	}
	d.Event(s, corev1.EventTypeNormal, "SecretRetained", "Secret %s is no longer collected with the stack: the data volumes need it", sec.Name)
	return nil
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
