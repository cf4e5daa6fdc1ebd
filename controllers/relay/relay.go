// Package relay is the analytics relay component: one `ugc relay` that
// carries the store's outbox to the stack's ClickHouse, managed or external.
package relay

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

// Name names the relay's Deployment.
func Name(s *ugcv1.UGCStack) string { return s.Name + "-relay" }

// Deployment runs `ugc relay`, or is nil when the stack has no ClickHouse.
// One replica, replaced with Recreate: two relays on one outbox would send
// every batch twice, which ClickHouse absorbs but need not.
func Deployment(s *ugcv1.UGCStack) *appsv1.Deployment {
	if !common.AnalyticsEnabled(s) {
		return nil
	}
	env, secrets := clickhouseEnv(s)
	volumes, mounts, files := common.SecretFiles(append(common.UGCStoreSecrets(s), secrets...)...)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: common.ObjectMeta(s, Name(s), common.ComponentRelay),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Selector: &metav1.LabelSelector{MatchLabels: common.Selector(s, common.ComponentRelay)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: common.Labels(s, common.ComponentRelay), Annotations: common.PrometheusAnnotations()},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              common.NonRootPod(common.UGCUID, true),
					Containers: []corev1.Container{{
						Name:            "relay",
						Image:           s.Spec.API.Image,
						Args:            []string{"relay"},
						Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: common.UGCPort, Protocol: corev1.ProtocolTCP}},
						EnvFrom:         common.UGCConfigEnv(s),
						Env:             append(files, env...),
						Resources:       common.Requests("50m", "64Mi"),
						LivenessProbe:   common.HTTPProbe("/healthz", 10),
						ReadinessProbe:  common.HTTPProbe("/healthz", 10),
						SecurityContext: common.RestrictedSecurityContext(),
						VolumeMounts:    mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}
}

// clickhouseEnv points the relay at the stack's ClickHouse: the external
// DSN, or every managed server (the driver fails over between them) and,
// when there is more than one, the cluster its tables are created ON. The
// DSN or password comes as a secret file.
func clickhouseEnv(s *ugcv1.UGCStack) ([]corev1.EnvVar, []common.SecretFile) {
	if ext := s.Spec.ClickHouse.External; ext != nil {
		return nil, []common.SecretFile{{Env: "UGC_CLICKHOUSE_DSN", Ref: &ext.DSNSecretRef}}
	}
	var addrs []string
	for _, shard := range common.ClickHouseHosts(s) {
		for _, h := range shard {
			addrs = append(addrs, fmt.Sprintf("%s:%d", h, common.ClickHousePort))
		}
	}
	env := []corev1.EnvVar{
		{Name: "UGC_CLICKHOUSE_ADDR", Value: strings.Join(addrs, ",")},
		{Name: "UGC_CLICKHOUSE_USER", Value: common.ClickHouseUser},
	}
	if len(addrs) > 1 {
		env = append(env, corev1.EnvVar{Name: "UGC_CLICKHOUSE_CLUSTER", Value: common.ClickHouseCluster})
	}
	return env, []common.SecretFile{{Env: "UGC_CLICKHOUSE_PASSWORD", Ref: common.ClickHousePasswordRef(s)}}
}

// Reconcile applies the relay, or prunes it without a ClickHouse, and
// reports whether it runs.
func Reconcile(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) common.Result {
	var objs []client.Object
	want := Deployment(s)
	if want != nil {
		if err := common.RollOnSecrets(ctx, d, want); err != nil {
			return common.Failed(ugcv1.ReasonApplyFailed, err)
		}
		objs = append(objs, want)
	}
	if err := common.ApplyAndPrune(ctx, d, s, common.ComponentRelay, []client.ObjectList{&appsv1.DeploymentList{}}, objs...); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if want == nil {
		return common.Ready(ugcv1.ReasonDisabled, "no relay")
	}
	return common.DeploymentResult(ctx, d.Client, client.ObjectKeyFromObject(want), "relay Deployment")
}
