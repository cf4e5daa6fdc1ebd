// Package gateway is the nginx gateway component: the ConfigMap rendered
// from deploy/nginx's template, its Deployment and Service. Nothing is
// rendered when the gateway is off.
package gateway

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/deploy/nginx"
)

const (
	port      = 8080
	bodyLimit = "64k" // the API's own request-body limit
	nginxUID  = 101   // the nginx user of the official image
)

// Name names the gateway's ConfigMap, Deployment and Service.
func Name(s *ugcv1.UGCStack) string { return s.Name + "-gateway" }

// Objects are the gateway's children for s; none when it is off.
func Objects(s *ugcv1.UGCStack) ([]client.Object, error) {
	if !s.Spec.Gateway.Enabled {
		return nil, nil
	}
	cm, err := ConfigMap(s)
	if err != nil {
		return nil, err
	}
	return []client.Object{cm, Deployment(s, common.HashData(cm.Data)), common.HTTPService(s, Name(s), common.ComponentGateway)}, nil
}

// ConfigMap is nginx's configuration, rendered from the same template as
// the standalone deploy/nginx/nginx.conf: JSON access log with ECS names and
// the request id, X-Request-Id passed upstream, the API's 64 KiB body limit
// and the optional per-address rate limit.
func ConfigMap(s *ugcv1.UGCStack) (*corev1.ConfigMap, error) {
	g := s.Spec.Gateway
	p := nginx.Defaults()
	p.Listen = fmt.Sprint(port)
	p.Upstreams = []string{fmt.Sprintf("%s.%s.svc:80", common.APIName(s), s.Namespace)}
	p.RatePerSecond, p.Burst = int(g.RateLimitPerSecond), int(g.RateLimitPerSecond)*2
	p.MaxBodySize = bodyLimit
	conf, err := nginx.Render(p)
	if err != nil {
		return nil, fmt.Errorf("render nginx.conf: %w", err)
	}
	return common.ConfigMap(s, Name(s), common.ComponentGateway, map[string]string{"nginx.conf": conf}), nil
}

// Deployment runs nginx with the ConfigMap above; configHash rolls it.
func Deployment(s *ugcv1.UGCStack, configHash string) *appsv1.Deployment {
	g := s.Spec.Gateway
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: common.ObjectMeta(s, Name(s), common.ComponentGateway),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(g.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: common.Selector(s, common.ComponentGateway)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: common.Labels(s, common.ComponentGateway), Annotations: map[string]string{common.ConfigHashAnnotation: configHash}},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              common.NonRootPod(nginxUID, false),
					Containers: []corev1.Container{{
						Name:  "nginx",
						Image: g.Image,
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
							Path: "/nginx-health", Port: intstr.FromString("http"),
						}}, PeriodSeconds: 5},
						Resources:       common.Requests("50m", "32Mi"),
						SecurityContext: common.RestrictedSecurityContext(),
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: "/etc/nginx/nginx.conf", SubPath: "nginx.conf", ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{common.ConfigMapVolume("config", Name(s)), common.EmptyDir("tmp")},
				},
			},
		},
	}
}

func kinds() []client.ObjectList {
	return []client.ObjectList{&corev1.ConfigMapList{}, &appsv1.DeploymentList{}, &corev1.ServiceList{}}
}

// Reconcile applies the gateway's children, or prunes them when it is off,
// and reports its rollout.
func Reconcile(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) common.Result {
	objs, err := Objects(s)
	if err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if err := common.ApplyAndPrune(ctx, d, s, common.ComponentGateway, kinds(), objs...); err != nil {
		return common.Failed(ugcv1.ReasonApplyFailed, err)
	}
	if len(objs) == 0 {
		return common.Ready(ugcv1.ReasonDisabled, "gateway disabled")
	}
	return common.DeploymentResult(ctx, d.Client, client.ObjectKey{Namespace: s.Namespace, Name: Name(s)}, "gateway Deployment")
}
