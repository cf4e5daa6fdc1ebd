package members

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/ugcstack/ugcstack/internal/servertest"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/ugcstack/ugcstack/controllers/common/commontest"
)

// Rules of the real mongod, kubelet and StatefulSet controller that the
// rendered pod must meet. Each is written down from its upstream source, so
// the tests fail on a pod a real cluster would crash-loop.

// mongodAcceptsKey applies mongod's keyfile rules: mongodb/mongo
// src/mongo/db/auth/security_file.cpp (readSecurityFile) skips whitespace
// and refuses any other character outside [A-Za-z0-9+/=] ("invalid char in
// key file"); the manual (Security > Keyfiles) requires 6 to 1,024
// characters.
func mongodAcceptsKey(key string) error {
	const base64Set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	n := 0
	for _, c := range key {
		switch {
		case strings.ContainsRune(" \t\n\v\f\r", c):
		case strings.ContainsRune(base64Set, c):
			n++
		default:
			return fmt.Errorf("invalid char in key file: %q", c)
		}
	}
	if n < 6 || n > 1024 {
		return fmt.Errorf("key length %d is outside 6..1024", n)
	}
	return nil
}

func TestNewKeyIsOneMongodAccepts(t *testing.T) {
	if mongodAcceptsKey("abc-def_ghij") == nil {
		t.Fatal("the rule accepts URL-safe base64: it cannot catch the bug it is for")
	}
	for range 200 {
		if err := mongodAcceptsKey(NewKey()); err != nil {
			t.Fatal(err)
		}
	}
}

// kubeletMode is the mode a file of a volume ends up with: with fsGroup
// set, kubernetes/kubernetes pkg/volume/volume_linux.go (changeFilePermission)
// ORs roMask 0440 into every file of a read-only volume (Secret,
// ConfigMap, projected) and rwMask 0660 into a writable one, when the
// volume is set up; files a container writes later keep their own mode.
func kubeletMode(mode int32, fsGroup bool, readOnly bool) int32 {
	if !fsGroup {
		return mode
	}
	if readOnly {
		return mode | 0o440
	}
	return mode | 0o660
}

// mongodAcceptsKeyMode: security_file.cpp refuses a keyfile with any group
// or other permission bit ("permissions on ... are too open").
func mongodAcceptsKeyMode(mode int32) bool { return mode&0o077 == 0 }

func TestKeyfileModeSurvivesTheKubelet(t *testing.T) {
	if mongodAcceptsKeyMode(kubeletMode(0o400, true, true)) {
		t.Fatal("the rules accept a Secret's 0400 under fsGroup: they cannot catch the bug they are for")
	}
	sts := StatefulSet(commontest.Production(), 3)
	pod := sts.Spec.Template.Spec
	mongod := pod.Containers[0]
	keyPath := mongod.Args[slices.Index(mongod.Args, "--keyFile")+1]
	mount := mountOf(t, mongod, keyPath)
	vol := volume(t, pod, mount.Name)
	fsGroup := pod.SecurityContext.FSGroup != nil
	if vol.Secret != nil {
		if mode := kubeletMode(ptr.Deref(vol.Secret.DefaultMode, 0o644), fsGroup, true); !mongodAcceptsKeyMode(mode) {
			t.Fatalf("mongod reads %s from Secret volume %s, mode %o after the kubelet: too open", keyPath, vol.Name, mode)
		}
		return
	}
	if vol.EmptyDir == nil {
		t.Fatalf("the key's volume %s is neither a Secret nor an emptyDir", vol.Name)
	}
	// Written into the emptyDir by an init container, as the mongod user
	// (the pod's runAsUser), with a mode mongod accepts.
	var copier *corev1.Container
	for i, c := range pod.InitContainers {
		if slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == vol.Name && !m.ReadOnly }) {
			copier = &pod.InitContainers[i]
		}
	}
	if copier == nil {
		t.Fatalf("nothing writes the key into emptyDir %s", vol.Name)
	}
	script := strings.Join(copier.Command, " ")
	if !strings.Contains(script, "chmod 0400 "+keyPath) {
		t.Errorf("init container %s does not set %s to 0400: %s", copier.Name, keyPath, script)
	}
	if got := ptr.Deref(pod.SecurityContext.RunAsUser, 0); got != mongoUID {
		t.Errorf("the key is written as uid %d, mongod runs as %d", got, mongoUID)
	}
}

func mountOf(t *testing.T, c corev1.Container, path string) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(path, m.MountPath+"/") {
			return m
		}
	}
	t.Fatalf("no mount of %s holds %s", c.Name, path)
	return corev1.VolumeMount{}
}

func volume(t *testing.T, pod corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range pod.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %s", name)
	return corev1.Volume{}
}

// TestReadinessAsksMongod: a TCP check passes for a member in STARTUP2 or
// RECOVERING, so a rolling change could take a majority down. The probe runs
// hello through mongosh, which the official image installs
// (docker-library/mongo 8.0/Dockerfile: mongodb-org-shell, HOME=/data/db
// "so that mongosh has a valid HOME").
func TestReadinessAsksMongod(t *testing.T) {
	probe := StatefulSet(commontest.Minimal(), 1).Spec.Template.Spec.Containers[0].ReadinessProbe
	if probe.TCPSocket != nil || probe.Exec == nil || probe.Exec.Command[0] != "mongosh" {
		t.Fatalf("readiness is not a mongosh command: %+v", probe.ProbeHandler)
	}
	script := probe.Exec.Command[len(probe.Exec.Command)-1]
	for _, want := range []string{"db.hello()", "setName", "isWritablePrimary", "secondary", "isreplicaset", "quit(1)"} {
		if !strings.Contains(script, want) {
			t.Errorf("readiness script lacks %q: %s", want, script)
		}
	}
}

// TestReadinessRefusesTheEntrypointsStandalone runs the probe's script in
// node, the engine mongosh is built on, against the hello replies mongod
// gives in each state. The entrypoint's temporary standalone (no --replSet,
// on 127.0.0.1:27017 while it creates the root user) used to pass.
func TestReadinessRefusesTheEntrypointsStandalone(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		servertest.Missing(t, "node", "make deps")
	}
	for _, c := range []struct {
		state, hello string
		ready        bool
	}{
		{"primary", `{isWritablePrimary: true, secondary: false, setName: "ugc"}`, true},
		{"secondary", `{isWritablePrimary: false, secondary: true, setName: "ugc"}`, true},
		{"not yet initiated", `{isWritablePrimary: false, secondary: false, isreplicaset: true}`, true},
		{"RECOVERING", `{isWritablePrimary: false, secondary: false, setName: "ugc"}`, false},
		{"the entrypoint's standalone", `{isWritablePrimary: true, secondary: false}`, false},
	} {
		prelude := "const db = {hello: () => (" + c.hello + ")}; const quit = (code) => process.exit(code);\n"
		err := exec.Command(node, "-e", prelude+readinessScript).Run()
		if ready := err == nil; ready != c.ready {
			t.Errorf("%s: ready %v (%v), want %v", c.state, ready, err, c.ready)
		}
	}
}

// TestScalingKeepsTheClaims: with whenScaled Delete, `kubectl scale sts
// --replicas=0` made the StatefulSet controller condemn every member's data
// before the operator could restore the count. Scaling now keeps claims;
// the operator deletes those of members it removed from the set.
func TestScalingKeepsTheClaims(t *testing.T) {
	for name, s := range commontest.Samples() {
		p := StatefulSet(s, 3).Spec.PersistentVolumeClaimRetentionPolicy
		if p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
			t.Errorf("%s: whenScaled %s", name, p.WhenScaled)
		}
	}
}

// TestClaimOrdinal reads the ordinal back from exactly the names ClaimName
// gives, and from nothing else.
func TestClaimOrdinal(t *testing.T) {
	s := commontest.Production()
	for i := range int32(12) {
		if got, ok := ClaimOrdinal(s, ClaimName(s, i)); !ok || got != i {
			t.Errorf("ClaimOrdinal(%s) = %d, %v", ClaimName(s, i), got, ok)
		}
	}
	for _, name := range []string{"data-prod-mongodb-", "data-prod-mongodb-01", "data-prod-mongodb--1", "data-prod-mongodb-x", "data-other-mongodb-0", "data-prod-clickhouse-s0-0"} {
		if _, ok := ClaimOrdinal(s, name); ok {
			t.Errorf("ClaimOrdinal(%q) is a member's claim", name)
		}
	}
}

// TestCacheFollowsTheMemoryLimit: mongod's default WiredTiger cache is the
// larger of 50% of (RAM - 1 GB) and 256 MB (manual,
// storage.wiredTiger.engineConfig.cacheSizeGB); RAM here is the limit.
func TestCacheFollowsTheMemoryLimit(t *testing.T) {
	for limit, want := range map[string]float64{"512Mi": 0.25, "1Gi": 0.25, "2Gi": 0.5, "3Gi": 1, "8Gi": 3.5, "1500Mi": 0.25} {
		q := resource.MustParse(limit)
		if got := CacheSizeGB(&q); got != want {
			t.Errorf("limit %s: cache %v GB, want %v", limit, got, want)
		}
	}
	s := commontest.Minimal()
	c := StatefulSet(s, 1).Spec.Template.Spec.Containers[0]
	if c.Resources.Limits.Memory().String() != "1Gi" || !slices.Contains(c.Args, "--wiredTigerCacheSizeGB") {
		t.Errorf("default limit %s, args %v", c.Resources.Limits.Memory(), c.Args)
	}
}

// TestRootCredentialsFromFiles: the official entrypoint reads
// MONGO_INITDB_ROOT_USERNAME and _PASSWORD through file_env, which takes
// NAME_FILE (docker-library/mongo docker-entrypoint.sh); it runs as the
// mongod user, so the files must be readable through the pod's fsGroup.
func TestRootCredentialsFromFiles(t *testing.T) {
	s := commontest.Production()
	pod := StatefulSet(s, 1).Spec.Template.Spec
	for _, name := range []string{"MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"} {
		ref := commontest.SecretRef(pod, pod.Containers[0], name)
		if ref == nil || ref.Name != AdminSecretName(s) {
			t.Errorf("%s comes from %v, want Secret %s", name, ref, AdminSecretName(s))
		}
	}
	if ptr.Deref(pod.SecurityContext.FSGroup, 0) != mongoUID {
		t.Errorf("fsGroup %v: the mongod user cannot read the 0440 files", pod.SecurityContext.FSGroup)
	}
}
