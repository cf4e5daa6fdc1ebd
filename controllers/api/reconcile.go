package api

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

func kinds() []client.ObjectList {
	return []client.ObjectList{
		&corev1.ConfigMapList{}, &appsv1.DeploymentList{}, &corev1.ServiceList{},
		&autoscalingv2.HorizontalPodAutoscalerList{}, &policyv1.PodDisruptionBudgetList{},
	}
}

// Reconcile applies the API's children and reports its rollout.
func Reconcile(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) common.Result {
	if err := handOverReplicas(ctx, d, s); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	objs := Objects(s)
	if err := common.RollOnSecrets(ctx, d, objs...); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if err := common.ApplyAndPrune(ctx, d, s, common.ComponentAPI, kinds(), objs...); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	return common.DeploymentResult(ctx, d.Client, client.ObjectKey{Namespace: s.Namespace, Name: common.APIName(s)}, "API Deployment")
}
