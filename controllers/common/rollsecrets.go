package common

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SecretsHashAnnotation on a pod template carries a digest of every Secret
// its containers read, so a rotated value rolls the pods: files from a
// Secret volume change in place, but a process reads its password once, and
// a variable never changes. Each Secret's data is digested with an HMAC
// keyed by its UID: a plain digest of a weak password on a pod template
// could be guessed offline by anyone who may read Deployments. The UID, not
// the resourceVersion, so that a change to labels or owners rolls nothing.
const SecretsHashAnnotation = "ugc.ugcstack.io/secrets-hash" //nolint:gosec // G101: an annotation name, not a credential

// RollOnSecrets sets SecretsHashAnnotation on the pod template of each
// Deployment or StatefulSet among objs, from the Secrets the template reads
// (Secret and projected volumes, env and envFrom). A missing Secret counts
// as missing: the pods then wait in CreateContainerConfigError, which
// ExplainPods reports, and roll once it exists.
//
// The workload's own metadata records the digest last seen, and the pod
// template takes a new one only when it differs from that record: a
// workload an operator without this annotation made is recorded as it is,
// so upgrading the operator rolls no pod; the first rotation after does.
func RollOnSecrets(ctx context.Context, d Deps, objs ...client.Object) error {
	digests := map[string]string{}
	for _, o := range objs {
		t := podTemplate(o)
		if t == nil {
			continue
		}
		read := map[string]string{}
		for _, name := range secretNames(&t.Spec) {
			v, ok := digests[name]
			if !ok {
				var err error
				if v, err = secretDigest(ctx, d, o.GetNamespace(), name); err != nil {
					return err
				}
				digests[name] = v
			}
			read[name] = v
		}
		live, err := liveTemplate(ctx, d, o)
		if err != nil {
			return err
		}
		setSecretsHash(o, t, live, HashData(read))
	}
	return nil
}

// PodsBehind lists the names of the pods in ns, with the given labels, that
// read the Secret named secret and were made from an older state of the
// Secrets they read: their template's digest is not theirs as they are now,
// or they have none. Until none is left, a credential the older state held
// may still be in use.
func PodsBehind(ctx context.Context, d Deps, ns string, labels map[string]string, secret string) ([]string, error) {
	var pods corev1.PodList
	if err := d.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
		return nil, fmt.Errorf("list the pods that read Secret %s: %w", secret, err)
	}
	var behind []string
	for i := range pods.Items {
		p := &pods.Items[i]
		names := secretNames(&p.Spec)
		if !slices.Contains(names, secret) {
			continue
		}
		read := map[string]string{}
		for _, name := range names {
			v, err := secretDigest(ctx, d, ns, name)
			if err != nil {
				return nil, err
			}
			read[name] = v
		}
		if p.Annotations[SecretsHashAnnotation] != HashData(read) {
			behind = append(behind, p.Name)
		}
	}
	return behind, nil
}

// liveTemplate is the workload's recorded digest and its pod template's,
// as the cache has them; nil when it does not exist yet.
func liveTemplate(ctx context.Context, d Deps, o client.Object) (*[2]string, error) {
	live := o.DeepCopyObject().(client.Object)
	if err := d.Client.Get(ctx, client.ObjectKeyFromObject(o), live); apierrors.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read %s for its Secrets' digest: %w", o.GetName(), err)
	}
	return &[2]string{live.GetAnnotations()[SecretsHashAnnotation], podTemplate(live).Annotations[SecretsHashAnnotation]}, nil
}

// setSecretsHash records digest on o and decides its template's value: a
// new workload and a changed digest take digest, an unchanged one keeps
// what runs (none, on a workload an older operator made).
func setSecretsHash(o client.Object, t *corev1.PodTemplateSpec, live *[2]string, digest string) {
	meta := o.GetAnnotations()
	if meta == nil {
		meta = map[string]string{}
	}
	meta[SecretsHashAnnotation] = digest
	o.SetAnnotations(meta)
	rolled := digest
	if live != nil && (live[0] == "" || live[0] == digest) {
		rolled = live[1]
	}
	if rolled == "" {
		return
	}
	if t.Annotations == nil {
		t.Annotations = map[string]string{}
	}
	t.Annotations[SecretsHashAnnotation] = rolled
}

func podTemplate(o client.Object) *corev1.PodTemplateSpec {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template
	case *appsv1.StatefulSet:
		return &o.Spec.Template
	}
	return nil
}

func secretNames(p *corev1.PodSpec) []string {
	var names []string
	for _, v := range p.Volumes {
		if v.Secret != nil {
			names = append(names, v.Secret.SecretName)
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					names = append(names, src.Secret.Name)
				}
			}
		}
	}
	for _, c := range append(slices.Clone(p.InitContainers), p.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				names = append(names, e.ValueFrom.SecretKeyRef.Name)
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				names = append(names, e.SecretRef.Name)
			}
		}
	}
	return names
}

// secretDigest reads the operator's Secrets from the cache and anyone
// else's (a JWT secret, an external URI), which the cache does not hold,
// from the API server.
func secretDigest(ctx context.Context, d Deps, ns, name string) (string, error) {
	sec := &corev1.Secret{}
	key := client.ObjectKey{Namespace: ns, Name: name}
	err := d.Client.Get(ctx, key, sec)
	if apierrors.IsNotFound(err) {
		err = d.APIReader.Get(ctx, key, sec)
	}
	switch {
	case apierrors.IsNotFound(err):
		return "missing", nil
	case err != nil:
		return "", fmt.Errorf("read Secret %s for its pods' digest: %w", name, err)
	}
	mac := hmac.New(sha256.New, []byte(sec.UID))
	keys := slices.Sorted(maps.Keys(sec.Data))
	for _, k := range keys {
		fmt.Fprintf(mac, "%s=%d:", k, len(sec.Data[k]))
		mac.Write(sec.Data[k])
	}
	return hex.EncodeToString(mac.Sum(nil)), nil
}
