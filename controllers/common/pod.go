package common

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// RestrictedSecurityContext meets the "restricted" Pod Security Standard.
func RestrictedSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		ReadOnlyRootFilesystem:   ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// NonRootPod is the pod security context of the images that run as a fixed
// unprivileged user; fsGroup makes their volumes writable.
func NonRootPod(uid int64, withFSGroup bool) *corev1.PodSecurityContext {
	sc := &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(uid)}
	if withFSGroup {
		sc.FSGroup = ptr.To(uid)
	}
	return sc
}

// SecretEnv reads one key of a Secret into the variable name.
func SecretEnv(name string, ref *ugcv1.SecretKeyRef) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name}, Key: ref.Key,
	}}}
}

// HTTPProbe checks path on the container's "http" port.
func HTTPProbe(path string, period int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
		PeriodSeconds: period, FailureThreshold: 3, TimeoutSeconds: 2,
	}
}

// Requests is a container's CPU and memory requests.
func Requests(cpu, memory string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory),
	}}
}

// EmptyDir is a scratch volume, for the /tmp a read-only root filesystem lacks.
func EmptyDir(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

// ConfigMapVolume mounts the ConfigMap cm as the volume name.
func ConfigMapVolume(name, cm string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm},
	}}}
}

// ClaimLabels are the labels of a component's volume claim templates,
// frozen: a StatefulSet's volumeClaimTemplates cannot change, so a label
// added to Labels in a later version must not reach them.
func ClaimLabels(s *ugcv1.UGCStack, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       "ugcstack",
		"app.kubernetes.io/instance":   s.Name,
		"app.kubernetes.io/component":  component,
		"app.kubernetes.io/managed-by": ManagedBy,
	}
}

// DataVolume names the data claim template, the volume the containers
// mount, and so (as <template>-<set>-<ordinal>) each pod's claim.
const DataVolume = "data"

// DataClaim is a StatefulSet's volumeClaimTemplate named DataVolume of the
// requested storage, def when no size is given.
func DataClaim(l map[string]string, st ugcv1.StorageSpec, def string) corev1.PersistentVolumeClaim {
	size := st.Size
	if size.IsZero() {
		size = resource.MustParse(def)
	}
	return corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: DataVolume, Labels: l},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: st.StorageClassName,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}
}

// DefaultMemoryLimit sets r's memory limit to def when the spec gives none,
// raised to the memory request if that is larger: the API server refuses a
// request above its limit.
func DefaultMemoryLimit(r corev1.ResourceRequirements, def string) corev1.ResourceRequirements {
	r = *r.DeepCopy()
	if _, ok := r.Limits[corev1.ResourceMemory]; ok {
		return r
	}
	limit := resource.MustParse(def)
	if req, ok := r.Requests[corev1.ResourceMemory]; ok && req.Cmp(limit) > 0 {
		limit = req
	}
	if r.Limits == nil {
		r.Limits = corev1.ResourceList{}
	}
	r.Limits[corev1.ResourceMemory] = limit
	return r
}
