// Package api is the UGC API component: its ConfigMap, Deployment, Service
// and, when asked for, HorizontalPodAutoscaler and PodDisruptionBudget.
package api

import (
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

const jwtKeyMountAt = "/etc/ugc/jwt"

// A rollout must not drop requests: the pod keeps serving preStop seconds
// after it is marked terminating, while endpoints and the gateway stop
// sending to it, then drains for up to shutdownTimeout on SIGTERM; the
// grace period covers both with room to spare.
const (
	preStop         = 5
	shutdownTimeout = 20
	gracePeriod     = preStop + shutdownTimeout + 10
)

// podNetworks are the private ranges (RFC 1918, RFC 6598 shared space, IPv6
// unique local) that Kubernetes pod networks are drawn from.
const podNetworks = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7"

// Objects are the API's children for s: it always runs.
func Objects(s *ugcv1.UGCStack) []client.Object {
	cm := ConfigMap(s)
	objs := []client.Object{cm, Deployment(s, common.HashData(cm.Data)), common.HTTPService(s, common.APIName(s), common.ComponentAPI)}
	if hpa := HPA(s); hpa != nil {
		objs = append(objs, hpa)
	}
	if pdb := PDB(s); pdb != nil {
		objs = append(objs, pdb)
	}
	return objs
}

// ConfigMap holds the API's non-secret settings; the relay reads it too.
func ConfigMap(s *ugcv1.UGCStack) *corev1.ConfigMap {
	a := s.Spec.API
	data := map[string]string{
		"UGC_HTTP_ADDR":      fmt.Sprintf(":%d", common.UGCPort),
		"UGC_MONGO_DATABASE": s.Spec.MongoDB.Database,
		"UGC_LOG_LEVEL":      a.LogLevel,
		// Set here, where the pod's grace period is derived from it.
		"UGC_SHUTDOWN_TIMEOUT": fmt.Sprintf("%ds", shutdownTimeout),
	}
	optional := map[string]string{
		"UGC_JWT_ISSUER":         a.JWT.Issuer,
		"UGC_JWT_AUDIENCE":       a.JWT.Audience,
		"UGC_JWT_JWKS_URL":       a.JWT.JWKSURL,
		"UGC_SENTRY_ENVIRONMENT": a.SentryEnvironment,
	}
	if ref := a.JWT.PublicKeySecretRef; ref != nil {
		optional["UGC_JWT_PUBLIC_KEY_FILE"] = jwtKeyMountAt + "/" + ref.Key
	}
	// The gateway's pods have no fixed address, but when the NetworkPolicy
	// admits only them to the API, every private peer is the gateway, and
	// its X-Real-IP names the client. Without the policy any pod could
	// claim another's address, so no proxy is trusted.
	if s.Spec.Gateway.Enabled && s.Spec.NetworkPolicy.Enabled {
		optional["UGC_TRUSTED_PROXIES"] = podNetworks
	}
	maps.DeleteFunc(optional, func(_, v string) bool { return v == "" })
	maps.Copy(data, optional)
	// The API records analytics events only for a stack with a ClickHouse,
	// where the relay drains them.
	data["UGC_OUTBOX"] = "off"
	if common.AnalyticsEnabled(s) {
		data["UGC_OUTBOX"] = "on"
	}
	return common.ConfigMap(s, common.APIName(s), common.ComponentAPI, data)
}

// Deployment runs the UGC API. configHash rolls the pods when the ConfigMap
// changes. Under autoscaling the HPA owns the replica count.
func Deployment(s *ugcv1.UGCStack, configHash string) *appsv1.Deployment {
	a := s.Spec.API
	secrets := common.UGCStoreSecrets(s)
	if a.JWT.SecretRef != nil {
		secrets = append(secrets, common.SecretFile{Env: "UGC_JWT_SECRET", Ref: a.JWT.SecretRef})
	}
	volumes, mounts, env := common.SecretFiles(secrets...)
	if ref := a.JWT.PublicKeySecretRef; ref != nil {
		volumes = append(volumes, corev1.Volume{Name: "jwt-key", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: ref.Name, Items: []corev1.KeyToPath{{Key: ref.Key, Path: ref.Key}}},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: "jwt-key", MountPath: jwtKeyMountAt, ReadOnly: true})
	}
	resources := *a.Resources.DeepCopy()
	if resources.Requests == nil {
		resources.Requests = common.Requests("100m", "128Mi").Requests
	}
	// A memory limit by default: without one the API is the first pod the
	// kubelet evicts under node pressure, and a leak takes the node's memory.
	resources = common.DefaultMemoryLimit(resources, "512Mi")
	annotations := common.PrometheusAnnotations()
	annotations[common.ConfigHashAnnotation] = configHash
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: common.ObjectMeta(s, common.APIName(s), common.ComponentAPI),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: common.Selector(s, common.ComponentAPI)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: common.Labels(s, common.ComponentAPI), Annotations: annotations},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken:  ptr.To(false),
					SecurityContext:               common.NonRootPod(common.UGCUID, true),
					TerminationGracePeriodSeconds: ptr.To(int64(gracePeriod)),
					Containers: []corev1.Container{{
						Name:           "api",
						Image:          a.Image,
						Args:           []string{"serve"},
						Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: common.UGCPort, Protocol: corev1.ProtocolTCP}},
						EnvFrom:        common.UGCConfigEnv(s),
						Env:            env,
						Resources:      resources,
						LivenessProbe:  common.HTTPProbe("/healthz", 10),
						ReadinessProbe: common.HTTPProbe("/readyz", 5),
						// A sleep handler, not a command: the image is
						// distroless, with no shell or sleep binary.
						Lifecycle:       &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: preStop}}},
						SecurityContext: common.RestrictedSecurityContext(),
						VolumeMounts:    mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}
	if a.Autoscaling == nil {
		d.Spec.Replicas = ptr.To(ptr.Deref(a.Replicas, 2))
	}
	return d
}

// HPA scales the API on CPU; nil when autoscaling is off.
func HPA(s *ugcv1.UGCStack) *autoscalingv2.HorizontalPodAutoscaler {
	as := s.Spec.API.Autoscaling
	if as == nil {
		return nil
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: common.ObjectMeta(s, common.APIName(s), common.ComponentAPI),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: common.APIName(s)},
			MinReplicas:    ptr.To(as.MinReplicas),
			MaxReplicas:    as.MaxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
					Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(as.TargetCPUUtilizationPercentage),
				}},
			}},
		},
	}
}

// PDB limits voluntary disruptions; nil when not asked for.
func PDB(s *ugcv1.UGCStack) *policyv1.PodDisruptionBudget {
	p := s.Spec.API.PodDisruptionBudget
	if p == nil {
		return nil
	}
	return common.PDB(s, common.APIName(s), common.ComponentAPI, common.Selector(s, common.ComponentAPI), p.MaxUnavailable)
}
