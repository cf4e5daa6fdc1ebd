package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The API server's audit log records every request the manager makes as
// the chart's ServiceAccount. After the scenarios, every resource the
// chart's ClusterRole grants must have been requested at least once, or be
// listed here with the reason no request shows it. Verbs are only reported:
// an apply that creates is audited as patch yet authorized for create too,
// and client-go streams lists as watches, so an unseen verb is no proof a
// grant is spare.
var unusedByDesign = map[string]string{
	// The OwnerReferencesPermissionEnforcement admission plugin checks it
	// when a child's ownerReference blocks owner deletion: a permission
	// asked about, never a request.
	"ugc.ugcstack.io/ugcstacks/finalizers": "checked by admission, not requested",
}

var auditLog string

// auditPolicy logs every request's metadata.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`

// enableAudit configures the API server to write the audit log into dir.
func enableAudit(env *envtest.Environment, dir string) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	Expect(os.WriteFile(policy, []byte(auditPolicy), 0o600)).To(Succeed())
	auditLog = filepath.Join(dir, "audit.log")
	env.ControlPlane.GetAPIServer().Configure().
		Set("audit-policy-file", policy).Set("audit-log-path", auditLog).Set("audit-log-format", "json")
}

// Every rule the chart grants is used: run only when the whole suite ran,
// since a focused run exercises only part of them.
var _ = AfterSuite(func() {
	cfg, _ := GinkgoConfiguration()
	if len(cfg.FocusStrings) > 0 || len(cfg.SkipStrings) > 0 || len(cfg.LabelFilter) > 0 || CurrentSpecReport().Failed() {
		return
	}
	used := usedRules("system:serviceaccount:" + releaseNamespace + ":" + installed.serviceAccount())
	resources, verbs := unusedRules(clusterRole(installed), used)
	GinkgoWriter.Printf("RBAC report: verbs the scenarios never requested: %v\n", verbs)
	Expect(resources).To(BeEmpty(), "the chart grants resources no scenario requested; drop their +kubebuilder:rbac markers or list why in unusedByDesign")
})

// usedRules reads what user did, as group/resource[/subresource]:verb.
func usedRules(user string) map[string]bool {
	f, err := os.Open(auditLog)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	used := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e struct {
			Verb             string                     `json:"verb"`
			User             struct{ Username string }  `json:"user"`
			ImpersonatedUser *struct{ Username string } `json:"impersonatedUser"`
			ObjectRef        *struct {
				Resource, APIGroup, Subresource string
			} `json:"objectRef"`
		}
		Expect(json.Unmarshal(sc.Bytes(), &e)).To(Succeed())
		who := e.User.Username
		if e.ImpersonatedUser != nil {
			who = e.ImpersonatedUser.Username
		}
		if who != user || e.ObjectRef == nil {
			continue
		}
		resource := e.ObjectRef.Resource
		if e.ObjectRef.Subresource != "" {
			resource += "/" + e.ObjectRef.Subresource
		}
		used[ruleKey(e.ObjectRef.APIGroup, resource, e.Verb)] = true
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	return used
}

func ruleKey(group, resource, verb string) string {
	if group == "" {
		group = "core"
	}
	return fmt.Sprintf("%s/%s:%s", group, resource, verb)
}

// unusedRules lists the resources of role that used never shows, and the
// verbs it never shows on the resources it does.
func unusedRules(role *rbacv1.ClusterRole, used map[string]bool) (resources, verbs []string) {
	touched := map[string]bool{}
	for k := range used {
		touched[k[:strings.LastIndex(k, ":")]] = true
	}
	for _, r := range role.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				k := ruleKey(g, res, "")
				k = k[:len(k)-1]
				switch {
				case unusedByDesign[k] != "":
				case !touched[k]:
					resources = append(resources, k)
				default:
					for _, v := range r.Verbs {
						if !used[ruleKey(g, res, v)] {
							verbs = append(verbs, ruleKey(g, res, v))
						}
					}
				}
			}
		}
	}
	slices.Sort(resources)
	slices.Sort(verbs)
	return resources, verbs
}

func clusterRole(c chart) *rbacv1.ClusterRole {
	roles := c.ofKind("ClusterRole")
	Expect(roles).To(HaveLen(1))
	role := &rbacv1.ClusterRole{}
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(roles[0].Object, role)).To(Succeed())
	return role
}
