package common

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// SecretFile is one secret value a container reads from a file: Env names
// the variable, and the program (ugc, the official images' entrypoints)
// reads Env_FILE.
type SecretFile struct {
	Env string
	Ref *ugcv1.SecretKeyRef
}

// SecretsDir is where SecretFiles mounts the values.
const SecretsDir = "/etc/ugc/secrets" //nolint:gosec // G101: a mount path, not a credential

// SecretFiles mounts each value read-only at SecretsDir/<Env> from one
// projected volume, mode 0440 (readable through the pod's fsGroup), and
// sets <Env>_FILE to it: a value in the environment would show in the pod
// spec's consumers, in crash dumps and to anything that can read
// /proc/<pid>/environ. Nothing is mounted when files is empty.
func SecretFiles(files ...SecretFile) ([]corev1.Volume, []corev1.VolumeMount, []corev1.EnvVar) {
	if len(files) == 0 {
		return nil, nil, nil
	}
	var sources []corev1.VolumeProjection
	var env []corev1.EnvVar
	for _, f := range files {
		sources = append(sources, corev1.VolumeProjection{Secret: &corev1.SecretProjection{
			LocalObjectReference: corev1.LocalObjectReference{Name: f.Ref.Name},
			Items:                []corev1.KeyToPath{{Key: f.Ref.Key, Path: f.Env}},
		}})
		env = append(env, corev1.EnvVar{Name: f.Env + "_FILE", Value: SecretsDir + "/" + f.Env})
	}
	vol := corev1.Volume{Name: "secrets", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: sources, DefaultMode: ptr.To(int32(0o440)),
	}}}
	return []corev1.Volume{vol}, []corev1.VolumeMount{{Name: "secrets", MountPath: SecretsDir, ReadOnly: true}}, env
}
