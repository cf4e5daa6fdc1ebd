// Package members builds what runs the managed MongoDB's members: the
// StatefulSet of mongod pods and its headless Service and PDB, the
// generated keyfile and credential Secrets, and the names and addresses
// every other part uses. Each rule a real mongod, kubelet or image applies
// to these objects is pinned by a test citing its source.
package members

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
)

const (
	mongoUID = 999 // the mongodb user of the official image

	// keyfileDir holds the key mongod reads: an emptyDir the init
	// container copies the Secret into with mode 0400 (see pod spec).
	keyfileDir       = "/etc/mongodb/keyfile"
	keyfileSecretDir = "/etc/mongodb/keyfile-secret" //nolint:gosec // G101: a mount path, not a credential
	// KeyfileKey is the key's name in its Secret and in keyfileDir.
	KeyfileKey = "keyfile"
)

// readinessScript passes when the member can serve: a writable primary or a
// secondary of the set (not STARTUP2, RECOVERING or ROLLBACK), or a member
// with no replica-set configuration yet, which must be ready for the
// operator to initiate the set. A primary must name its set: on first start
// the image's entrypoint runs a temporary mongod without --replSet on
// 127.0.0.1:27017 to create the root user (docker-library/mongo
// docker-entrypoint.sh, _mongod_hack_ensure_no_arg_val --replSet), a
// standalone that calls itself a writable primary; ready then, the pod sent
// the operator to an address that refused it. hello needs no
// authentication.
const readinessScript = `const h = db.hello(); if (!((h.setName && (h.isWritablePrimary || h.secondary)) || h.isreplicaset === true)) { quit(1) }`

// ClaimName names the data claim of the member with ordinal i (the
// StatefulSet controller's <template>-<set>-<ordinal>).
func ClaimName(s *ugcv1.UGCStack, i int32) string { return claimPrefix(s) + strconv.Itoa(int(i)) }

func claimPrefix(s *ugcv1.UGCStack) string { return common.DataVolume + "-" + Name(s) + "-" }

// ClaimOrdinal reads the member ordinal from the name of one of the set's
// data claims; ok is false for any other name.
func ClaimOrdinal(s *ugcv1.UGCStack, name string) (int32, bool) {
	suffix, ok := strings.CutPrefix(name, claimPrefix(s))
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(suffix, 10, 32)
	if err != nil || n < 0 || ClaimName(s, int32(n)) != name {
		return 0, false
	}
	return int32(n), true
}

// Name names the StatefulSet and its headless Service.
func Name(s *ugcv1.UGCStack) string { return s.Name + "-mongodb" }

// AdminSecretName names the root credentials, which only the operator uses.
func AdminSecretName(s *ugcv1.UGCStack) string { return s.Name + "-mongodb-admin" }

// AppUser and AppUserAlt take turns as the account the ugc processes log in
// as: a rotated password goes to the one not in use (see the mongodb
// package's ensureAppUser). A new stack starts with AppUser.
const (
	AppUser    = "ugc"
	AppUserAlt = "ugc-alt"
)

// NextAppUser is the account the next password goes to.
func NextAppUser(current string) string {
	if current == AppUser {
		return AppUserAlt
	}
	return AppUser
}

// KeyfileSecretName names the replica set's internal-auth key.
func KeyfileSecretName(s *ugcv1.UGCStack) string { return s.Name + "-mongodb-keyfile" }

// ReplicaSetName is the replica set name of the managed MongoDB.
func ReplicaSetName(s *ugcv1.UGCStack) string { return s.Name }

// Desired is the desired member count (1 when unset).
func Desired(s *ugcv1.UGCStack) int32 {
	return ptr.Deref(s.Spec.MongoDB.Members, 1)
}

// Hosts lists host:port of the first n members, in ordinal order.
func Hosts(s *ugcv1.UGCStack, n int32) []string {
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = Host(s, int32(i))
	}
	return hosts
}

// Host is host:port of the member with ordinal i: its pod's name under the
// StatefulSet's headless Service.
func Host(s *ugcv1.UGCStack, i int32) string {
	return fmt.Sprintf("%s-%d.%s.%s.svc:%d", Name(s), i, Name(s), s.Namespace, common.MongoPort)
}

// URI lists every desired member and names the replica set.
func URI(s *ugcv1.UGCStack, user, password string) string {
	return fmt.Sprintf("mongodb://%s:%s@%s/%s?replicaSet=%s&authSource=admin",
		user, password, strings.Join(Hosts(s, Desired(s)), ","), s.Spec.MongoDB.Database, ReplicaSetName(s))
}

// Service is the headless Service giving every member a stable DNS name;
// members must find each other before any is ready.
func Service(s *ugcv1.UGCStack) *corev1.Service {
	return common.HeadlessService(s, Name(s), common.ComponentMongoDB, true, corev1.ServicePort{Name: "mongodb", Port: common.MongoPort})
}

// KeyfileSecret holds the replica set's internal auth key; its data is
// generated once, by the reconcile step.
func KeyfileSecret(s *ugcv1.UGCStack) *corev1.Secret {
	return common.Secret(s, KeyfileSecretName(s), common.ComponentMongoDB, nil)
}

// NewKey is a replica-set key mongod accepts: 756 random bytes in standard
// base64, 1,008 characters (mongod allows 6 to 1,024 from the base64
// alphabet; URL-safe base64's "-" and "_" are refused).
func NewKey() string {
	return base64.StdEncoding.EncodeToString(common.RandomBytes(756))
}

// AdminSecret holds the root credentials the operator administers the set
// with; the official image's entrypoint creates that user on first start.
func AdminSecret(s *ugcv1.UGCStack, password string) *corev1.Secret {
	return credentials(s, AdminSecretName(s), "admin", password)
}

// AppSecret holds the application user's credentials and the URI the ugc
// processes connect with.
func AppSecret(s *ugcv1.UGCStack, password string) *corev1.Secret {
	return credentials(s, common.MongoAppSecretName(s), AppUser, password)
}

func credentials(s *ugcv1.UGCStack, name, user, password string) *corev1.Secret {
	return common.Secret(s, name, common.ComponentMongoDB, map[string]string{
		"username": user,
		"password": password,
		"uri":      URI(s, user, password),
	})
}

// AppRoles are the application user's only rights: reading and writing
// the UGC database.
func AppRoles(s *ugcv1.UGCStack) []replset.Role {
	return []replset.Role{{Role: "readWrite", DB: s.Spec.MongoDB.Database}}
}

// StatefulSet runs replicas mongod pods. replicas may exceed the desired
// members while a scale-down waits for the replica set to drop a member.
func StatefulSet(s *ugcv1.UGCStack, replicas int32) *appsv1.StatefulSet {
	m := s.Spec.MongoDB
	retention := appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if m.DeletePolicy == ugcv1.DeletePolicyDelete {
		retention = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	}
	resources := Resources(m.Resources)
	// The official entrypoint reads MONGO_INITDB_ROOT_*_FILE (file_env in
	// docker-library/mongo's docker-entrypoint.sh).
	volumes, mounts, env := common.SecretFiles(
		common.SecretFile{Env: "MONGO_INITDB_ROOT_USERNAME", Ref: &ugcv1.SecretKeyRef{Name: AdminSecretName(s), Key: "username"}},
		common.SecretFile{Env: "MONGO_INITDB_ROOT_PASSWORD", Ref: &ugcv1.SecretKeyRef{Name: AdminSecretName(s), Key: "password"}},
	)
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: common.ObjectMeta(s, Name(s), common.ComponentMongoDB),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(replicas),
			ServiceName:         Name(s),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: common.Selector(s, common.ComponentMongoDB)},
			// Scaling keeps the claims: whoever scales the StatefulSet
			// (`kubectl scale --replicas=0` included) must not condemn the
			// members' data. The operator deletes a member's claim itself,
			// once it has removed the member from the replica set and shrunk
			// past it (the mongodb package's claim cleanup): a later scale-up must start it
			// empty (an initial sync), not on data past the oplog window.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: retention, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: common.Labels(s, common.ComponentMongoDB)},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              common.NonRootPod(mongoUID, true),
					Affinity:                     common.SpreadAffinity(m.Spread, common.Selector(s, common.ComponentMongoDB)),
					InitContainers:               []corev1.Container{keyfileCopy(m.Image)},
					Containers: []corev1.Container{{
						Name:      "mongod",
						Image:     m.Image,
						Args:      Args(s, resources),
						Env:       env,
						Ports:     []corev1.ContainerPort{{Name: "mongodb", ContainerPort: common.MongoPort, Protocol: corev1.ProtocolTCP}},
						Resources: resources,
						ReadinessProbe: &corev1.Probe{
							ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{
								"mongosh", "--quiet", "--norc", "--port", fmt.Sprint(common.MongoPort), "--eval", readinessScript,
							}}},
							PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 3,
						},
						SecurityContext: common.RestrictedSecurityContext(),
						VolumeMounts: append(mounts,
							corev1.VolumeMount{Name: common.DataVolume, MountPath: "/data/db"},
							corev1.VolumeMount{Name: "keyfile", MountPath: keyfileDir, ReadOnly: true},
							corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"},
						),
					}},
					Volumes: append(volumes,
						corev1.Volume{Name: "keyfile-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: KeyfileSecretName(s), DefaultMode: ptr.To(int32(0o400))}}},
						corev1.Volume{Name: "keyfile", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
						common.EmptyDir("tmp"),
					),
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{common.DataClaim(common.ClaimLabels(s, common.ComponentMongoDB), m.Storage, "10Gi")},
		},
	}
}

// keyfileCopy puts the key where the kubelet cannot widen its mode: under
// fsGroup, a Secret volume's files get group read added (0400 becomes
// 0440), which mongod refuses; a file the container writes into an
// emptyDir keeps the mode it is given, and the mongod user owns it.
func keyfileCopy(image string) corev1.Container {
	return corev1.Container{
		Name:  "keyfile",
		Image: image,
		Command: []string{"sh", "-c", fmt.Sprintf("cp %[1]s/%[3]s %[2]s/%[3]s && chmod 0400 %[2]s/%[3]s",
			keyfileSecretDir, keyfileDir, KeyfileKey)},
		Resources:       common.Requests("10m", "16Mi"),
		SecurityContext: common.RestrictedSecurityContext(),
		VolumeMounts: []corev1.VolumeMount{
			{Name: "keyfile-secret", MountPath: keyfileSecretDir, ReadOnly: true},
			{Name: "keyfile", MountPath: keyfileDir},
		},
	}
}

// Args are mongod's flags. The WiredTiger cache is sized from the memory
// limit: left to itself, mongod sizes it from the node's RAM and the pod is
// killed for exceeding its limit.
func Args(s *ugcv1.UGCStack, resources corev1.ResourceRequirements) []string {
	return []string{
		"--replSet", ReplicaSetName(s), "--bind_ip_all", "--port", fmt.Sprint(common.MongoPort),
		"--keyFile", keyfileDir + "/" + KeyfileKey, "--dbpath", "/data/db",
		"--wiredTigerCacheSizeGB", strconv.FormatFloat(CacheSizeGB(resources.Limits.Memory()), 'f', 2, 64),
	}
}

// CacheSizeGB follows mongod's own default rule, applied to the container's
// memory limit instead of the node's RAM: half of (memory - 1 GB), at least
// 0.25 GB.
func CacheSizeGB(limit *resource.Quantity) float64 {
	gb := float64(limit.Value()) / (1 << 30)
	return max(0.25, math.Floor((gb-1)/2*100)/100)
}

// Resources fills in what the spec leaves out: requests, and a memory
// limit (the WiredTiger cache is sized from it).
func Resources(r corev1.ResourceRequirements) corev1.ResourceRequirements {
	r = *r.DeepCopy()
	if r.Requests == nil {
		r.Requests = common.Requests("250m", "512Mi").Requests
	}
	return common.DefaultMemoryLimit(r, "1Gi")
}

// PDB lets voluntary disruptions (drains, rolling node upgrades) take one
// member at a time, so a majority stays up.
func PDB(s *ugcv1.UGCStack) *policyv1.PodDisruptionBudget {
	return common.PDB(s, Name(s), common.ComponentMongoDB, common.Selector(s, common.ComponentMongoDB), 1)
}
