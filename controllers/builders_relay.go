package controllers

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

const (
	componentRelay = "relay"
	clickhousePort = 9000
	// clickhouseUser is the account the managed ClickHouse creates from its
	// generated Secret; the official image refuses network logins of
	// "default" without a password.
	clickhouseUser = "ugc"
	// clickhouseCluster is the cluster name in remote_servers, which the
	// relay creates its tables ON.
	clickhouseCluster = "ugc"
)

func relayName(s *ugcv1.UGCStack) string          { return s.Name + "-relay" }
func clickhouseAuthName(s *ugcv1.UGCStack) string { return clickhouseName(s) + "-auth" }

// BuildClickHouseAuthSecret holds the managed ClickHouse's credentials,
// generated once.
func BuildClickHouseAuthSecret(s *ugcv1.UGCStack, password string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(s, clickhouseAuthName(s), componentClickHouse),
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{"username": clickhouseUser, "password": password},
	}
}

// clickhousePasswordEnv reads the managed ClickHouse's password into name.
func clickhousePasswordEnv(s *ugcv1.UGCStack, name string) corev1.EnvVar {
	return secretEnv(name, &ugcv1.SecretKeyRef{Name: clickhouseAuthName(s), Key: "password"})
}

// analyticsEnabled: the stack has a ClickHouse, managed or external, for the
// relay to feed.
func analyticsEnabled(s *ugcv1.UGCStack) bool {
	c := s.Spec.ClickHouse
	return c.External != nil || c.Enabled
}

// clickhouseServers is the number of managed ClickHouse servers.
func clickhouseServers(s *ugcv1.UGCStack) int32 {
	c := s.Spec.ClickHouse
	return c.Shards * c.Replicas
}

// clickhouseEnv points the relay at the stack's ClickHouse: the external
// DSN, or every managed server (the driver fails over between them) and,
// when there is more than one, the cluster its tables are created ON.
func clickhouseEnv(s *ugcv1.UGCStack) []corev1.EnvVar {
	c := s.Spec.ClickHouse
	if c.External != nil {
		return []corev1.EnvVar{secretEnv("UGC_CLICKHOUSE_DSN", &c.External.DSNSecretRef)}
	}
	var addrs []string
	for sh := int32(0); sh < c.Shards; sh++ {
		for r := int32(0); r < c.Replicas; r++ {
			addrs = append(addrs, fmt.Sprintf("%s:%d", clickhouseHost(s, sh, r), clickhousePort))
		}
	}
	env := []corev1.EnvVar{
		{Name: "UGC_CLICKHOUSE_ADDR", Value: strings.Join(addrs, ",")},
		{Name: "UGC_CLICKHOUSE_USER", Value: clickhouseUser},
		clickhousePasswordEnv(s, "UGC_CLICKHOUSE_PASSWORD"),
	}
	if clickhouseServers(s) > 1 {
		env = append(env, corev1.EnvVar{Name: "UGC_CLICKHOUSE_CLUSTER", Value: clickhouseCluster})
	}
	return env
}

// BuildRelayDeployment runs `ugc relay`, which carries the store's outbox to
// ClickHouse, or returns nil when the stack has no ClickHouse. One replica,
// replaced with Recreate: two relays on one outbox would send every batch
// twice, which ClickHouse absorbs but need not.
func BuildRelayDeployment(s *ugcv1.UGCStack) *appsv1.Deployment {
	if !analyticsEnabled(s) {
		return nil
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(s, relayName(s), componentRelay),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Selector: &metav1.LabelSelector{MatchLabels: selector(s, componentRelay)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      labels(s, componentRelay),
					Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": fmt.Sprint(apiPort), "prometheus.io/path": "/metrics"},
				},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              nonRootPod(apiUID, false),
					Containers: []corev1.Container{{
						Name:    "relay",
						Image:   s.Spec.API.Image,
						Args:    []string{"relay"},
						Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: apiPort, Protocol: corev1.ProtocolTCP}},
						EnvFrom: apiConfigEnv(s),
						Env:     append(storeEnv(s), clickhouseEnv(s)...),
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("50m"),
							corev1.ResourceMemory: resource.MustParse("64Mi"),
						}},
						LivenessProbe:   httpProbe("/healthz", 10),
						ReadinessProbe:  httpProbe("/healthz", 10),
						SecurityContext: restrictedSecurityContext(),
					}},
				},
			},
		},
	}
}
