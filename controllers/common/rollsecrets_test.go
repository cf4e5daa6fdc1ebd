package common

import (
	"slices"
	"testing"

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
