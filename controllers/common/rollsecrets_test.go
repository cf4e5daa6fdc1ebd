package common

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Every way a pod can read a Secret counts, or a rotation through it would
// not roll the pods.
func TestSecretNamesFindsEveryWayAPodReadsASecret(t *testing.T) {
	ref := func(name string) *corev1.SecretKeySelector {
		return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: "k"}
	}
	p := corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "a", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "volume"}}},
			{Name: "b", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "projected"}}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "not-a-secret"}}},
			}}}},
			{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "not-a-secret"}}}},
		},
		InitContainers: []corev1.Container{{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ref("init-env")}}}}},
		Containers: []corev1.Container{{
			Env:     []corev1.EnvVar{{Name: "Y", Value: "plain"}, {Name: "Z", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ref("env")}}},
			EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "env-from"}}}},
		}},
	}
	got := secretNames(&p)
	slices.Sort(got)
	want := []string{"env", "env-from", "init-env", "projected", "volume"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSetSecretsHashRollsOnlyOnAChange(t *testing.T) {
	for _, c := range []struct {
		name string
		live *[2]string // recorded digest, template's; nil: a new workload
		want string     // the template's value after; "" for none
	}{
		{"a new workload starts with the digest", nil, "new"},
		{"one an older operator made is recorded, not rolled", &[2]string{"", ""}, ""},
		{"an unchanged digest keeps what runs", &[2]string{"new", "new"}, "new"},
		{"unchanged since the upgrade: still no roll", &[2]string{"new", ""}, ""},
		{"a changed digest rolls", &[2]string{"old", "old"}, "new"},
		{"the first change after the upgrade rolls", &[2]string{"old", ""}, "new"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := &appsv1.Deployment{}
			setSecretsHash(d, &d.Spec.Template, c.live, "new")
			if got := d.Annotations[SecretsHashAnnotation]; got != "new" {
				t.Errorf("recorded %q, want new", got)
			}
			if got := d.Spec.Template.Annotations[SecretsHashAnnotation]; got != c.want {
				t.Errorf("template %q, want %q", got, c.want)
			}
		})
	}
}
