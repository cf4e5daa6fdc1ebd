package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// chart is what `helm template` renders of charts/ugcstack.
type chart []*unstructured.Unstructured

func renderChart() chart {
	cmd := exec.Command(os.Getenv("UGC_HELM"), "template", release, "../../charts/ugcstack", "--namespace", releaseNamespace, "--include-crds")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "helm template: %s", stderr.String())
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	var objs chart
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs
		}
		Expect(err).NotTo(HaveOccurred())
		if m != nil {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

func (c chart) ofKind(kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range c {
		for _, k := range kinds {
			if o.GetKind() == k {
				out = append(out, o)
			}
		}
	}
	return out
}

func (c chart) crds() []*apiextensionsv1.CustomResourceDefinition {
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, o := range c.ofKind("CustomResourceDefinition") {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, crd)).To(Succeed())
		out = append(out, crd)
	}
	Expect(out).NotTo(BeEmpty(), "the chart renders no CRD")
	return out
}

// serviceAccount is the name the manager runs as.
func (c chart) serviceAccount() string {
	sas := c.ofKind("ServiceAccount")
	Expect(sas).To(HaveLen(1))
	return sas[0].GetName()
}

// installRBAC creates the release namespace, the ServiceAccount and every
// role and binding the chart renders, exactly as rendered.
func (c chart) installRBAC(ctx context.Context) {
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: releaseNamespace}})).To(Succeed())
	for _, o := range c.ofKind("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding") {
		Expect(k8s.Create(ctx, o.DeepCopy())).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
	}
}

func envtestAdmin() envtest.User {
	return envtest.User{Name: "simulated-cluster", Groups: []string{"system:masters"}}
}

// addNode registers a node kwok plays: its pods are scheduled there and
// turn Ready, a Job's pods Succeeded (the stages in kwok-stages.yaml).
func addNode(ctx context.Context, name string) {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("512Gi"), corev1.ResourcePods: resource.MustParse("250"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels:      map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"},
		},
	}
	Expect(k8s.Create(ctx, node)).To(Succeed())
	node.Status = corev1.NodeStatus{Capacity: capacity, Allocatable: capacity}
	Expect(k8s.Status().Update(ctx, node)).To(Succeed())
}

// addVolumes pre-creates n hostPath volumes, without a class and with the
// production sample's "fast-ssd", for the claims to bind to: there is no
// provisioner.
func addVolumes(ctx context.Context, n int) {
	for i := range n {
		class := ""
		if i%2 == 1 {
			class = "fast-ssd"
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pv-%03d", i)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("500Gi")},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				StorageClassName:              class,
				PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: fmt.Sprintf("/tmp/pv-%03d", i)}},
			},
		}
		Expect(k8s.Create(ctx, pv)).To(Succeed())
	}
	GinkgoWriter.Printf("%d hostPath volumes for the claims\n", n)
}
