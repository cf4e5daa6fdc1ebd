package controllers

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// Ports and paths of the API contract (see README "Configuration").
const (
	apiPort       = 8080
	mongoPort     = 27017
	gatewayPort   = 8080
	bodyLimit     = "64k"
	jwtKeyMountAt = "/etc/ugc/jwt"
	apiUID        = 65532 // the distroless nonroot user of the ugc image
)

// Names of the children; every builder and the reconciler use these.
func apiName(s *ugcv1.UGCStack) string        { return s.Name + "-api" }
func mongoName(s *ugcv1.UGCStack) string      { return s.Name + "-mongodb" }
func mongoAuthName(s *ugcv1.UGCStack) string  { return s.Name + "-mongodb-admin" }
func mongoKeyName(s *ugcv1.UGCStack) string   { return s.Name + "-mongodb-keyfile" }
func clickhouseName(s *ugcv1.UGCStack) string { return s.Name + "-clickhouse" }
func gatewayName(s *ugcv1.UGCStack) string    { return s.Name + "-gateway" }
func esName(s *ugcv1.UGCStack) string         { return s.Name + "-logs" }

// Components: the app.kubernetes.io/component label of each part's children,
// which pods are selected and children pruned by.
const (
	componentAPI        = "api"
	componentMongoDB    = "mongodb"
	componentGateway    = "gateway"
	componentClickHouse = "clickhouse"
	componentKeeper     = "clickhouse-keeper"
	componentLogging    = "logging"
)

func labels(s *ugcv1.UGCStack, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       "ugcstack",
		"app.kubernetes.io/instance":   s.Name,
		"app.kubernetes.io/component":  component,
		"app.kubernetes.io/managed-by": "ugcstack-operator",
	}
}

func selector(s *ugcv1.UGCStack, component string) map[string]string {
	return map[string]string{"app.kubernetes.io/instance": s.Name, "app.kubernetes.io/component": component}
}

func objectMeta(s *ugcv1.UGCStack, name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: s.Namespace, Labels: labels(s, component)}
}

func restrictedSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		ReadOnlyRootFilesystem:   ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// dataClaim is a StatefulSet's volumeClaimTemplate named "data" of the
// requested storage, def when no size is given.
func dataClaim(l map[string]string, st ugcv1.StorageSpec, def string) corev1.PersistentVolumeClaim {
	size := st.Size
	if size.IsZero() {
		size = resource.MustParse(def)
	}
	return corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: l},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: st.StorageClassName,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}
}

// headlessService gives every pod of a StatefulSet a stable DNS name.
// publishNotReady serves peers that must find each other before any is
// ready (replica-set members, Raft nodes).
func headlessService(s *ugcv1.UGCStack, name, component string, publishNotReady bool, ports ...corev1.ServicePort) *corev1.Service {
	for i := range ports {
		ports[i].TargetPort = intstr.FromInt32(ports[i].Port)
		ports[i].Protocol = corev1.ProtocolTCP
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(s, name, component),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: publishNotReady,
			Selector:                 selector(s, component),
			Ports:                    ports,
		},
	}
}

func configMap(s *ugcv1.UGCStack, name, component string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: objectMeta(s, name, component),
		Data:       data,
	}
}

// nonRootPod is the pod security context of the images that run as a fixed
// unprivileged user; fsGroup makes their volumes writable.
func nonRootPod(uid int64, withFSGroup bool) *corev1.PodSecurityContext {
	sc := &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(uid)}
	if withFSGroup {
		sc.FSGroup = ptr.To(uid)
	}
	return sc
}

func secretEnv(name string, ref *ugcv1.SecretKeyRef) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name}, Key: ref.Key,
	}}}
}

// MongoHosts lists host:port of every managed member, in ordinal order.
func MongoHosts(s *ugcv1.UGCStack, members int32) []string {
	hosts := make([]string, members)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%s-%d.%s.%s.svc:%d", mongoName(s), i, mongoName(s), s.Namespace, mongoPort)
	}
	return hosts
}

// MongoReplicaSetName is the replica set name of the managed MongoDB.
func MongoReplicaSetName(s *ugcv1.UGCStack) string { return s.Name }

// mongoMembers is the desired member count (1 when unset).
func mongoMembers(s *ugcv1.UGCStack) int32 {
	if s.Spec.MongoDB.Members == nil {
		return 1
	}
	return *s.Spec.MongoDB.Members
}

// BuildAPIConfigMap holds the API's non-secret settings.
func BuildAPIConfigMap(s *ugcv1.UGCStack) *corev1.ConfigMap {
	a := s.Spec.API
	data := map[string]string{
		"UGC_HTTP_ADDR":      fmt.Sprintf(":%d", apiPort),
		"UGC_MONGO_DATABASE": s.Spec.MongoDB.Database,
		"UGC_LOG_LEVEL":      a.LogLevel,
	}
	if a.JWT.Issuer != "" {
		data["UGC_JWT_ISSUER"] = a.JWT.Issuer
	}
	if a.JWT.Audience != "" {
		data["UGC_JWT_AUDIENCE"] = a.JWT.Audience
	}
	if a.JWT.JWKSURL != "" {
		data["UGC_JWT_JWKS_URL"] = a.JWT.JWKSURL
	}
	if a.JWT.PublicKeySecretRef != nil {
		data["UGC_JWT_PUBLIC_KEY_FILE"] = jwtKeyMountAt + "/" + a.JWT.PublicKeySecretRef.Key
	}
	if a.SentryEnvironment != "" {
		data["UGC_SENTRY_ENVIRONMENT"] = a.SentryEnvironment
	}
	// The API records analytics events only for a stack with a ClickHouse,
	// where the relay drains them.
	data["UGC_OUTBOX"] = "off"
	if analyticsEnabled(s) {
		data["UGC_OUTBOX"] = "on"
	}
	return configMap(s, apiName(s), componentAPI, data)
}

// storeEnv is the secret environment every process of the ugc image needs:
// the store's URI and, when configured, the Sentry DSN.
func storeEnv(s *ugcv1.UGCStack) []corev1.EnvVar {
	uri := &ugcv1.SecretKeyRef{Name: mongoAuthName(s), Key: "uri"}
	if s.Spec.MongoDB.External != nil {
		uri = &s.Spec.MongoDB.External.URISecretRef
	}
	env := []corev1.EnvVar{secretEnv("UGC_MONGO_URI", uri)}
	if ref := s.Spec.API.SentryDSNSecretRef; ref != nil {
		env = append(env, secretEnv("UGC_SENTRY_DSN", ref))
	}
	return env
}

// httpProbe checks path on the container's "http" port.
func httpProbe(path string, period int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
		PeriodSeconds: period, FailureThreshold: 3, TimeoutSeconds: 2,
	}
}

// apiConfigEnv reads the API's ConfigMap into the environment.
func apiConfigEnv(s *ugcv1.UGCStack) []corev1.EnvFromSource {
	return []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: apiName(s)}}}}
}

// BuildAPIDeployment is the UGC API. configHash rolls the pods when the
// ConfigMap changes.
func BuildAPIDeployment(s *ugcv1.UGCStack, configHash string) *appsv1.Deployment {
	a := s.Spec.API
	env := storeEnv(s)
	if a.JWT.SecretRef != nil {
		env = append(env, secretEnv("UGC_JWT_SECRET", a.JWT.SecretRef))
	}
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	if ref := a.JWT.PublicKeySecretRef; ref != nil {
		volumes = append(volumes, corev1.Volume{Name: "jwt-key", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: ref.Name, Items: []corev1.KeyToPath{{Key: ref.Key, Path: ref.Key}}},
		}})
		mounts = append(mounts, corev1.VolumeMount{Name: "jwt-key", MountPath: jwtKeyMountAt, ReadOnly: true})
	}
	resources := a.Resources
	if resources.Requests == nil {
		resources.Requests = corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("100m"),
			corev1.ResourceMemory: resource.MustParse("128Mi"),
		}
	}
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(s, apiName(s), componentAPI),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: selector(s, componentAPI)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      labels(s, componentAPI),
					Annotations: map[string]string{"ugc.ugcstack.io/config-hash": configHash, "prometheus.io/scrape": "true", "prometheus.io/port": fmt.Sprint(apiPort), "prometheus.io/path": "/metrics"},
				},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              nonRootPod(apiUID, false),
					Containers: []corev1.Container{{
						Name:            "api",
						Image:           a.Image,
						Args:            []string{"serve"},
						Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: apiPort, Protocol: corev1.ProtocolTCP}},
						EnvFrom:         apiConfigEnv(s),
						Env:             env,
						Resources:       resources,
						LivenessProbe:   httpProbe("/healthz", 10),
						ReadinessProbe:  httpProbe("/readyz", 5),
						SecurityContext: restrictedSecurityContext(),
						VolumeMounts:    mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}
	if a.Autoscaling == nil {
		d.Spec.Replicas = ptr.To(ptr.Deref(a.Replicas, 2))
	}
	return d
}

// BuildAPIService exposes the API inside the cluster.
func BuildAPIService(s *ugcv1.UGCStack) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(s, apiName(s), componentAPI),
		Spec: corev1.ServiceSpec{
			Selector: selector(s, componentAPI),
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
}

// BuildAPIHPA scales the API on CPU; nil when autoscaling is off.
func BuildAPIHPA(s *ugcv1.UGCStack) *autoscalingv2.HorizontalPodAutoscaler {
	as := s.Spec.API.Autoscaling
	if as == nil {
		return nil
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: objectMeta(s, apiName(s), componentAPI),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: apiName(s)},
			MinReplicas:    ptr.To(as.MinReplicas),
			MaxReplicas:    as.MaxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
					Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(as.TargetCPUUtilizationPercentage),
				}},
			}},
		},
	}
}

// BuildAPIPDB limits voluntary disruptions; nil when not asked for.
func BuildAPIPDB(s *ugcv1.UGCStack) *policyv1.PodDisruptionBudget {
	p := s.Spec.API.PodDisruptionBudget
	if p == nil {
		return nil
	}
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: objectMeta(s, apiName(s), componentAPI),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(p.MaxUnavailable)),
			Selector:       &metav1.LabelSelector{MatchLabels: selector(s, componentAPI)},
		},
	}
}

// BuildMongoService is the headless Service giving every member a stable DNS name.
func BuildMongoService(s *ugcv1.UGCStack) *corev1.Service {
	return headlessService(s, mongoName(s), componentMongoDB, true, corev1.ServicePort{Name: "mongodb", Port: mongoPort})
}

// BuildMongoKeyfileSecret holds the replica set's internal auth key.
// The key is generated once by the caller and never rebuilt from the spec.
func BuildMongoKeyfileSecret(s *ugcv1.UGCStack, key string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(s, mongoKeyName(s), componentMongoDB),
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{"keyfile": key},
	}
}

// BuildMongoAdminSecret holds the admin credentials and the API's URI.
func BuildMongoAdminSecret(s *ugcv1.UGCStack, password string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: objectMeta(s, mongoAuthName(s), componentMongoDB),
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{
			"username": "admin",
			"password": password,
			"uri":      MongoURI(s, "admin", password),
		},
	}
}

// MongoURI lists every member and names the replica set.
func MongoURI(s *ugcv1.UGCStack, user, password string) string {
	return fmt.Sprintf("mongodb://%s:%s@%s/%s?replicaSet=%s&authSource=admin",
		user, password, strings.Join(MongoHosts(s, mongoMembers(s)), ","), s.Spec.MongoDB.Database, MongoReplicaSetName(s))
}

// BuildMongoStatefulSet runs replicas mongod pods. replicas may exceed the
// desired members while a scale-down waits for the replica set to drop a member.
func BuildMongoStatefulSet(s *ugcv1.UGCStack, replicas int32) *appsv1.StatefulSet {
	m := s.Spec.MongoDB
	retention := appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if m.DeletePolicy == "Delete" {
		retention = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	}
	resources := m.Resources
	if resources.Requests == nil {
		resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")}
	}
	sc := restrictedSecurityContext()
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: objectMeta(s, mongoName(s), componentMongoDB),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(replicas),
			ServiceName:         mongoName(s),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: selector(s, componentMongoDB)},
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: retention, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(s, componentMongoDB)},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              nonRootPod(999, true),
					Containers: []corev1.Container{{
						Name:  "mongod",
						Image: m.Image,
						Args: []string{
							"--replSet", MongoReplicaSetName(s), "--bind_ip_all", "--port", fmt.Sprint(mongoPort),
							"--keyFile", "/etc/mongodb/keyfile/keyfile", "--dbpath", "/data/db",
						},
						Env: []corev1.EnvVar{
							secretEnv("MONGO_INITDB_ROOT_USERNAME", &ugcv1.SecretKeyRef{Name: mongoAuthName(s), Key: "username"}),
							secretEnv("MONGO_INITDB_ROOT_PASSWORD", &ugcv1.SecretKeyRef{Name: mongoAuthName(s), Key: "password"}),
						},
						Ports:     []corev1.ContainerPort{{Name: "mongodb", ContainerPort: mongoPort, Protocol: corev1.ProtocolTCP}},
						Resources: resources,
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(mongoPort)}},
							PeriodSeconds: 10,
						},
						SecurityContext: sc,
						VolumeMounts: []corev1.VolumeMount{
							{Name: "data", MountPath: "/data/db"},
							{Name: "keyfile", MountPath: "/etc/mongodb/keyfile", ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "keyfile", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: mongoKeyName(s), DefaultMode: ptr.To(int32(0o400))}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{dataClaim(labels(s, componentMongoDB), m.Storage, "10Gi")},
		},
	}
}
