// Package mongodb is the managed MongoDB component: a replica set of
// mongod pods (StatefulSet, headless Service), its generated keyfile and
// admin Secrets, the replica-set steps that follow the member count, and
// the volumes' fate when the stack or the managed database goes.
package mongodb

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

const (
	port     = 27017
	mongoUID = 999 // the mongodb user of the official image
)

// Name names the StatefulSet and its headless Service.
func Name(s *ugcv1.UGCStack) string { return s.Name + "-mongodb" }

// KeyfileSecretName names the replica set's internal-auth key.
func KeyfileSecretName(s *ugcv1.UGCStack) string { return s.Name + "-mongodb-keyfile" }

// ReplicaSetName is the replica set name of the managed MongoDB.
func ReplicaSetName(s *ugcv1.UGCStack) string { return s.Name }

// Members is the desired member count (1 when unset).
func Members(s *ugcv1.UGCStack) int32 {
	return ptr.Deref(s.Spec.MongoDB.Members, 1)
}

// Hosts lists host:port of the first n members, in ordinal order.
func Hosts(s *ugcv1.UGCStack, n int32) []string {
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%s-%d.%s.%s.svc:%d", Name(s), i, Name(s), s.Namespace, port)
	}
	return hosts
}

// URI lists every desired member and names the replica set.
func URI(s *ugcv1.UGCStack, user, password string) string {
	return fmt.Sprintf("mongodb://%s:%s@%s/%s?replicaSet=%s&authSource=admin",
		user, password, strings.Join(Hosts(s, Members(s)), ","), s.Spec.MongoDB.Database, ReplicaSetName(s))
}

// Service is the headless Service giving every member a stable DNS name;
// members must find each other before any is ready.
func Service(s *ugcv1.UGCStack) *corev1.Service {
	return common.HeadlessService(s, Name(s), common.ComponentMongoDB, true, corev1.ServicePort{Name: "mongodb", Port: port})
}

// KeyfileSecret holds the replica set's internal auth key; its data is
// generated once, by the reconcile step.
func KeyfileSecret(s *ugcv1.UGCStack) *corev1.Secret {
	return common.Secret(s, KeyfileSecretName(s), common.ComponentMongoDB, nil)
}

// AdminSecret holds the admin credentials and the URI the ugc processes use.
func AdminSecret(s *ugcv1.UGCStack, password string) *corev1.Secret {
	return common.Secret(s, common.MongoAdminSecretName(s), common.ComponentMongoDB, map[string]string{
		"username": "admin",
		"password": password,
		"uri":      URI(s, "admin", password),
	})
}

// StatefulSet runs replicas mongod pods. replicas may exceed the desired
// members while a scale-down waits for the replica set to drop a member.
func StatefulSet(s *ugcv1.UGCStack, replicas int32) *appsv1.StatefulSet {
	m := s.Spec.MongoDB
	retention := appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if m.DeletePolicy == "Delete" {
		retention = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	}
	resources := m.Resources
	if resources.Requests == nil {
		resources.Requests = common.Requests("250m", "512Mi").Requests
	}
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: common.ObjectMeta(s, Name(s), common.ComponentMongoDB),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(replicas),
			ServiceName:         Name(s),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: common.Selector(s, common.ComponentMongoDB)},
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: retention, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: common.Labels(s, common.ComponentMongoDB)},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              common.NonRootPod(mongoUID, true),
					Containers: []corev1.Container{{
						Name:  "mongod",
						Image: m.Image,
						Args: []string{
							"--replSet", ReplicaSetName(s), "--bind_ip_all", "--port", fmt.Sprint(port),
							"--keyFile", "/etc/mongodb/keyfile/keyfile", "--dbpath", "/data/db",
						},
						Env: []corev1.EnvVar{
							common.SecretEnv("MONGO_INITDB_ROOT_USERNAME", &ugcv1.SecretKeyRef{Name: common.MongoAdminSecretName(s), Key: "username"}),
							common.SecretEnv("MONGO_INITDB_ROOT_PASSWORD", &ugcv1.SecretKeyRef{Name: common.MongoAdminSecretName(s), Key: "password"}),
						},
						Ports:     []corev1.ContainerPort{{Name: "mongodb", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
						Resources: resources,
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)}},
							PeriodSeconds: 10,
						},
						SecurityContext: common.RestrictedSecurityContext(),
						VolumeMounts: []corev1.VolumeMount{
							{Name: "data", MountPath: "/data/db"},
							{Name: "keyfile", MountPath: "/etc/mongodb/keyfile", ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "keyfile", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: KeyfileSecretName(s), DefaultMode: ptr.To(int32(0o400))}}},
						common.EmptyDir("tmp"),
					},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{common.DataClaim(common.Labels(s, common.ComponentMongoDB), m.Storage, "10Gi")},
		},
	}
}
