package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// probeImage runs the connection attempts: busybox's nc.
const probeImage = "busybox:1.37"

// startProbe runs a pod that only sleeps in namespace ns, for commands to
// be run in, and waits until it runs.
func startProbe(ctx context.Context, ns string) string {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "np-probe"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "probe", Image: probeImage, Command: []string{"sleep", "3600"},
				SecurityContext: &corev1.SecurityContext{
					RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(65534)),
					AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
			TerminationGracePeriodSeconds: ptr.To(int64(0)),
		},
	}
	Expect(k8s.Create(ctx, pod)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		g.Expect(pod.Status.Phase).To(Equal(corev1.PodRunning))
	}).WithContext(ctx).WithTimeout(3 * time.Minute).Should(Succeed())
	return pod.Name
}

// execIn runs argv in the first container of ns/pod and returns its
// combined output; err is non-nil when the command fails.
func execIn(ctx context.Context, ns, pod string, argv ...string) (string, error) {
	req := clientset.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Command: argv, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	exec, err := remotecommand.NewSPDYExecutor(restConfig, "POST", req.URL())
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &out})
	return out.String(), err
}

// canConnect reports whether a TCP connection from the probe to host:port
// opens within 5 s. A NetworkPolicy drops the packets, so a refused
// connection shows as a timeout.
func canConnect(ctx context.Context, ns, pod, host string, port int) bool {
	out, err := execIn(ctx, ns, pod, "nc", "-z", "-w", "5", host, fmt.Sprint(port))
	GinkgoWriter.Printf("nc %s %d from %s/%s: err %v %s\n", host, port, ns, pod, err, strings.TrimSpace(out))
	return err == nil
}
