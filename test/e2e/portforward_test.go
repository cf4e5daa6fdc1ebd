package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	streamhttp "k8s.io/streaming/pkg/httpstream"
)

// forwardService forwards a local loopback port to port of the Service
// ns/name, the way `kubectl port-forward svc/...` does: to one ready pod
// behind it, on the container port the Service targets. It returns the
// local host:port; cancelling ctx closes the forward.
func forwardService(ctx context.Context, ns, name string, port int32) (string, error) {
	svc, err := clientset.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	pods, err := clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return "", err
	}
	pod, target, err := forwardTarget(svc, pods.Items, port)
	if err != nil {
		return "", err
	}
	return forwardPod(ctx, ns, pod, target)
}

// forwardPod forwards a local loopback port to port of the pod ns/pod and
// returns the local host:port; cancelling ctx closes the forward.
func forwardPod(ctx context.Context, ns, pod string, target int32) (string, error) {
	url := clientset.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(restConfig)
	if err != nil {
		return "", err
	}
	// WebSockets first, SPDY for API servers without them: kubectl's order.
	// The streaming package's error types are the ones both dialers return.
	ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(url, restConfig)
	if err != nil {
		return "", err
	}
	dialer := portforward.NewFallbackDialerForStreaming(ws, spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, url),
		func(err error) bool { return streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err) })
	ready := make(chan struct{})
	pf, err := portforward.NewOnAddressesForStreamingWithContext(ctx, dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", target)}, ready, io.Discard, io.Discard)
	if err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- pf.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		return "", fmt.Errorf("port-forward to pod %s/%s:%d: %w", ns, pod, target, err)
	case <-ctx.Done():
		return "", ctx.Err()
	}
	ports, err := pf.GetPorts()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0].Local), nil
}

// forwardTarget picks the pod and container port that port of svc reaches:
// the first (by name) running, ready pod not being deleted, and the
// Service's targetPort, by number or by the container port's name.
func forwardTarget(svc *corev1.Service, pods []corev1.Pod, port int32) (string, int32, error) {
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return "", 0, fmt.Errorf("service %s has no port %d", svc.Name, port)
	}
	pods = slices.Clone(pods)
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range pods {
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || !podReady(p) {
			continue
		}
		switch {
		case sp.TargetPort.Type == intstr.String:
			for _, c := range p.Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Name == sp.TargetPort.StrVal {
						return p.Name, cp.ContainerPort, nil
					}
				}
			}
			return "", 0, fmt.Errorf("pod %s has no container port named %q (service %s)", p.Name, sp.TargetPort.StrVal, svc.Name)
		case sp.TargetPort.IntVal != 0:
			return p.Name, sp.TargetPort.IntVal, nil
		default:
			return p.Name, port, nil
		}
	}
	return "", 0, errors.New("no ready pod behind service " + svc.Name)
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// This one runs in every `go test ./...`: the choice of pod and port is the
// part of the port-forward that does not need a cluster.
func TestForwardTarget(t *testing.T) {
	pod := func(name string, phase corev1.PodPhase, ready bool, deleting bool) corev1.Pod {
		p := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "api", Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100}, {Name: "http", ContainerPort: 8080}},
			}}},
			Status: corev1.PodStatus{Phase: phase},
		}
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
		if deleting {
			p.DeletionTimestamp = &metav1.Time{}
		}
		return p
	}
	svc := func(target intstr.IntOrString) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "ugc-api"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: target}}},
		}
	}
	for _, c := range []struct {
		name     string
		svc      *corev1.Service
		pods     []corev1.Pod
		port     int32
		wantPod  string
		wantPort int32
		wantErr  string
	}{
		{
			name: "named target port, first ready pod by name",
			svc:  svc(intstr.FromString("http")),
			pods: []corev1.Pod{
				pod("ugc-api-c", corev1.PodRunning, true, false),
				pod("ugc-api-a", corev1.PodRunning, false, false),
				pod("ugc-api-b", corev1.PodRunning, true, true),
				pod("ugc-api-d", corev1.PodRunning, true, false),
			},
			port: 80, wantPod: "ugc-api-c", wantPort: 8080,
		},
		{
			name: "numeric target port",
			svc:  svc(intstr.FromInt32(9100)),
			pods: []corev1.Pod{pod("ugc-api-a", corev1.PodRunning, true, false)},
			port: 80, wantPod: "ugc-api-a", wantPort: 9100,
		},
		{
			name: "no target port means the service port",
			svc:  svc(intstr.IntOrString{}),
			pods: []corev1.Pod{pod("ugc-api-a", corev1.PodRunning, true, false)},
			port: 80, wantPod: "ugc-api-a", wantPort: 80,
		},
		{
			name: "pending pods are not forwarded to",
			svc:  svc(intstr.FromString("http")),
			pods: []corev1.Pod{pod("ugc-api-a", corev1.PodPending, true, false)},
			port: 80, wantErr: "no ready pod",
		},
		{
			name: "unknown service port",
			svc:  svc(intstr.FromString("http")),
			pods: []corev1.Pod{pod("ugc-api-a", corev1.PodRunning, true, false)},
			port: 443, wantErr: "no port 443",
		},
		{
			name: "unknown port name",
			svc:  svc(intstr.FromString("grpc")),
			pods: []corev1.Pod{pod("ugc-api-a", corev1.PodRunning, true, false)},
			port: 80, wantErr: `no container port named "grpc"`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			gotPod, gotPort, err := forwardTarget(c.svc, c.pods, c.port)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || gotPod != c.wantPod || gotPort != c.wantPort {
				t.Fatalf("= %s:%d, %v; want %s:%d", gotPod, gotPort, err, c.wantPod, c.wantPort)
			}
		})
	}
}
