package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types reported in UGCStackStatus.Conditions.
const (
	ConditionReady           = "Ready"
	ConditionAPIReady        = "APIReady"
	ConditionMongoDBReady    = "MongoDBReady"
	ConditionClickHouseReady = "ClickHouseReady"
	ConditionLoggingReady    = "LoggingReady"
	ConditionGatewayReady    = "GatewayReady"
)

// Condition reasons a person can act on.
const (
	ReasonAvailable          = "Available"
	ReasonProgressing        = "Progressing"
	ReasonDisabled           = "Disabled"
	ReasonExternal           = "External"
	ReasonECKNotInstalled    = "ECKNotInstalled"
	ReasonApplyFailed        = "ApplyFailed"
	ReasonComponentsNotReady = "ComponentsNotReady"
	ReasonReplicaSetPending  = "ReplicaSetPending"
	ReasonUpgradeRefused     = "UpgradeRefused"
	// The logging setup Job (index template, ILM policy, Kibana saved
	// objects) is running, or has failed: see its logs.
	ReasonLoggingSetupPending = "LoggingSetupPending"
	ReasonLoggingSetupFailed  = "LoggingSetupFailed"
	// A Secret that retained data depends on is gone: the message says
	// which, and how to restore it or start empty.
	ReasonCredentialsLost = "CredentialsLost"
	// A pod cannot get ready by itself (unschedulable, a claim Pending, an
	// image that cannot be pulled, a crash loop, killed for memory): the
	// message names the pod and gives the scheduler's or kubelet's reason.
	ReasonPodsStuck = "PodsStuck"
)

// The deletePolicy values: what becomes of a component's volumes when the
// stack, or the component, goes.
const (
	DeletePolicyRetain = "Retain"
	DeletePolicyDelete = "Delete"
)

// SecretKeyRef points at one key of a Secret in the UGCStack's namespace.
type SecretKeyRef struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key inside the Secret.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// JWTSpec says how the API verifies Auth service tokens. Exactly one of
// secretRef (HS256), publicKeySecretRef (RS/ES public key PEM) or jwksURL.
// +kubebuilder:validation:XValidation:rule="(has(self.secretRef) ? 1 : 0) + (has(self.publicKeySecretRef) ? 1 : 0) + (has(self.jwksURL) ? 1 : 0) == 1",message="set exactly one of jwt.secretRef, jwt.publicKeySecretRef, jwt.jwksURL"
type JWTSpec struct {
	// SecretRef holds the HS256 shared secret.
	// +optional
	SecretRef *SecretKeyRef `json:"secretRef,omitempty"`
	// PublicKeySecretRef holds a PEM public key, mounted as a file.
	// +optional
	PublicKeySecretRef *SecretKeyRef `json:"publicKeySecretRef,omitempty"`
	// JWKSURL is the Auth service's JWKS endpoint.
	// +kubebuilder:validation:Pattern=`^https?://`
	// +optional
	JWKSURL string `json:"jwksURL,omitempty"`
	// Issuer expected in the iss claim.
	// +optional
	Issuer string `json:"issuer,omitempty"`
	// Audience expected in the aud claim.
	// +optional
	Audience string `json:"audience,omitempty"`
}

// AutoscalingSpec turns into a HorizontalPodAutoscaler for the API.
// +kubebuilder:validation:XValidation:rule="self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must not exceed autoscaling.maxReplicas"
type AutoscalingSpec struct {
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=2
	MinReplicas int32 `json:"minReplicas"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=10
	MaxReplicas int32 `json:"maxReplicas"`
	// TargetCPUUtilizationPercentage of the requested CPU.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=70
	TargetCPUUtilizationPercentage int32 `json:"targetCPUUtilizationPercentage"`
}

// PodDisruptionBudgetSpec turns into a PodDisruptionBudget for the API.
type PodDisruptionBudgetSpec struct {
	// MaxUnavailable pods during voluntary disruptions.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=1
	MaxUnavailable int32 `json:"maxUnavailable"`
}

// APISpec describes the UGC API Deployment.
type APISpec struct {
	// Image of the API (runs `ugc serve`).
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image"`
	// Replicas when autoscaling is off.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=2
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// Resources of the API container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// JWT verification settings.
	JWT JWTSpec `json:"jwt"`
	// SentryDSNSecretRef holds the Sentry DSN; unset disables Sentry.
	// +optional
	SentryDSNSecretRef *SecretKeyRef `json:"sentryDSNSecretRef,omitempty"`
	// SentryEnvironment names the environment in Sentry events.
	// +optional
	SentryEnvironment string `json:"sentryEnvironment,omitempty"`
	// LogLevel of the API.
	// +kubebuilder:validation:Enum=debug;info;warn;error
	// +kubebuilder:default=info
	// +optional
	LogLevel string `json:"logLevel,omitempty"`
	// Autoscaling adds an HPA; replicas is then ignored.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`
	// PodDisruptionBudget adds a PDB.
	// +optional
	PodDisruptionBudget *PodDisruptionBudgetSpec `json:"podDisruptionBudget,omitempty"`
}

// Spread says how the copies of one piece of data (a MongoDB set's
// members, a ClickHouse shard's replicas, Keeper's nodes) are kept apart on
// nodes, so that one node's loss takes at most one of them: Preferred asks
// the scheduler to put them on different nodes when it can (the default),
// Required refuses to place two on one node (pods stay Pending on too few
// nodes), None leaves it to the scheduler.
// +kubebuilder:validation:Enum=Preferred;Required;None
type Spread string

// Spread policies.
const (
	SpreadPreferred Spread = "Preferred"
	SpreadRequired  Spread = "Required"
	SpreadNone      Spread = "None"
)

// StorageSpec is a persistent volume request.
type StorageSpec struct {
	// Size of each volume.
	// +kubebuilder:default="10Gi"
	// +optional
	Size resource.Quantity `json:"size,omitempty"`
	// StorageClassName; empty uses the cluster default.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`
}

// ExternalMongoDB uses an existing MongoDB.
type ExternalMongoDB struct {
	// URISecretRef holds a full mongodb:// or mongodb+srv:// URI.
	URISecretRef SecretKeyRef `json:"uriSecretRef"`
}

// MongoDBSpec describes the MongoDB replica set, managed or external.
// +kubebuilder:validation:XValidation:rule="!has(self.external) || !has(self.members)",message="mongodb.members cannot be set together with mongodb.external"
// The volumes may grow (the operator expands each claim), never shrink or
// change class: Kubernetes cannot do either to a bound claim.
// +kubebuilder:validation:XValidation:rule="has(self.storage) == has(oldSelf.storage) && (!has(self.storage) || (has(self.storage.storageClassName) == has(oldSelf.storage.storageClassName) && (!has(self.storage.storageClassName) || self.storage.storageClassName == oldSelf.storage.storageClassName) && (!has(oldSelf.storage.size) || (has(self.storage.size) && !quantity(string(self.storage.size)).isLessThan(quantity(string(oldSelf.storage.size)))))))",message="mongodb.storage may only grow: a claim cannot shrink or change its storageClassName"
type MongoDBSpec struct {
	// Members of the managed replica set: an odd number.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	// +kubebuilder:validation:XValidation:rule="self % 2 == 1",message="mongodb.members must be odd (1, 3, 5, ...)"
	// +optional
	Members *int32 `json:"members,omitempty"`
	// Image of mongod.
	// +kubebuilder:default="mongo:8.0"
	// +optional
	Image string `json:"image,omitempty"`
	// Database the API uses.
	// +kubebuilder:default=ugc
	// +optional
	Database string `json:"database,omitempty"`
	// Storage of each member.
	// +optional
	Storage StorageSpec `json:"storage,omitempty"`
	// Resources of each mongod.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// External uses an existing MongoDB instead of a managed one.
	// +optional
	External *ExternalMongoDB `json:"external,omitempty"`
	// DeletePolicy for the data volumes, and the keyfile and credentials
	// their data needs, when the UGCStack is deleted or turns to an
	// external MongoDB. Retain keeps them for a stack of the same name to
	// adopt.
	// +kubebuilder:validation:Enum=Retain;Delete
	// +kubebuilder:default=Retain
	// +optional
	DeletePolicy string `json:"deletePolicy,omitempty"`
	// Spread keeps the members on different nodes.
	// +kubebuilder:default=Preferred
	// +optional
	Spread Spread `json:"spread,omitempty"`
}

// ExternalClickHouse uses an existing ClickHouse.
type ExternalClickHouse struct {
	// DSNSecretRef holds a clickhouse:// DSN.
	DSNSecretRef SecretKeyRef `json:"dsnSecretRef"`
}

// ClickHouseSpec describes the ClickHouse cluster.
// While no managed ClickHouse runs (it was disabled or external), there is
// no StatefulSet whose claim template the storage would contradict, so it
// may be set or changed then: the chart always renders enabled: false, and
// turning ClickHouse on with its storage is one update.
// +kubebuilder:validation:XValidation:rule="!(has(oldSelf.enabled) && oldSelf.enabled) || has(oldSelf.external) || (has(self.storage) == has(oldSelf.storage) && (!has(self.storage) || (has(self.storage.storageClassName) == has(oldSelf.storage.storageClassName) && (!has(self.storage.storageClassName) || self.storage.storageClassName == oldSelf.storage.storageClassName) && (!has(oldSelf.storage.size) || (has(self.storage.size) && !quantity(string(self.storage.size)).isLessThan(quantity(string(oldSelf.storage.size))))))))",message="clickhouse.storage may only grow on a running ClickHouse: a claim cannot shrink or change its storageClassName"
type ClickHouseSpec struct {
	// Enabled runs a managed ClickHouse.
	// +kubebuilder:default=false
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// Shards of the cluster.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1
	// +optional
	Shards int32 `json:"shards,omitempty"`
	// Replicas per shard. More than one server in all (shards × replicas)
	// adds ClickHouse Keeper, which ON CLUSTER statements need.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// +kubebuilder:default="clickhouse/clickhouse-server:25.8"
	// +optional
	Image string `json:"image,omitempty"`
	// +optional
	Storage StorageSpec `json:"storage,omitempty"`
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// DeletePolicy for the servers' and Keeper's volumes when the UGCStack
	// is deleted, or the managed ClickHouse (or its Keeper) is no longer
	// run.
	// +kubebuilder:validation:Enum=Retain;Delete
	// +kubebuilder:default=Retain
	// +optional
	DeletePolicy string `json:"deletePolicy,omitempty"`
	// Spread keeps each shard's replicas, and Keeper's nodes, on
	// different nodes.
	// +kubebuilder:default=Preferred
	// +optional
	Spread Spread `json:"spread,omitempty"`
	// External uses an existing ClickHouse.
	// +optional
	External *ExternalClickHouse `json:"external,omitempty"`
}

// LoggingSpec describes the ECK logging stack.
type LoggingSpec struct {
	// Enabled renders ECK resources (the ECK operator must be installed).
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// Version of the Elastic stack.
	// +kubebuilder:default="8.19.0"
	// +optional
	Version string `json:"version,omitempty"`
	// ElasticsearchNodes in the single node set.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1
	// +optional
	ElasticsearchNodes int32 `json:"elasticsearchNodes,omitempty"`
	// ElasticsearchStorage per node.
	// +optional
	ElasticsearchStorage StorageSpec `json:"elasticsearchStorage,omitempty"`
	// Kibana adds a Kibana instance.
	// +kubebuilder:default=true
	// +optional
	Kibana bool `json:"kibana,omitempty"`
	// Resources of the Elasticsearch, Kibana and Logstash containers; ECK's
	// defaults (2Gi of memory each, 1 CPU for Logstash) when empty.
	// Elasticsearch sizes its heap from the memory limit; Logstash gets
	// half of its limit as heap.
	// +optional
	Resources LoggingResources `json:"resources,omitempty"`
}

// LoggingResources sizes each ECK component's main container.
type LoggingResources struct {
	// +optional
	Elasticsearch corev1.ResourceRequirements `json:"elasticsearch,omitempty"`
	// +optional
	Kibana corev1.ResourceRequirements `json:"kibana,omitempty"`
	// +optional
	Logstash corev1.ResourceRequirements `json:"logstash,omitempty"`
}

// GatewaySpec describes the nginx gateway in front of the API.
type GatewaySpec struct {
	// Enabled runs the gateway.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// +kubebuilder:default="nginx:1.29"
	// +optional
	Image string `json:"image,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=2
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// RateLimitPerSecond per client address; 0 disables it.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:default=50
	// +optional
	RateLimitPerSecond int32 `json:"rateLimitPerSecond,omitempty"`
}

// UGCStackSpec is the desired platform.
type UGCStackSpec struct {
	API APISpec `json:"api"`
	// +kubebuilder:default={}
	// +optional
	MongoDB MongoDBSpec `json:"mongodb,omitempty"`
	// +optional
	ClickHouse ClickHouseSpec `json:"clickhouse,omitempty"`
	// +optional
	Logging LoggingSpec `json:"logging,omitempty"`
	// +optional
	Gateway GatewaySpec `json:"gateway,omitempty"`
	// +kubebuilder:default={}
	// +optional
	NetworkPolicy NetworkPolicySpec `json:"networkPolicy,omitempty"`
}

// NetworkPolicySpec limits who reaches the stack's pods.
type NetworkPolicySpec struct {
	// Enabled renders NetworkPolicies: only the API, the relay and the
	// operator reach MongoDB; only the relay and the servers themselves
	// reach ClickHouse (and Keeper); with the gateway on, only the gateway
	// reaches the API. They take effect where the network plugin enforces
	// NetworkPolicy.
	// +kubebuilder:default=true
	// +optional
	Enabled bool `json:"enabled,omitempty"`
}

// Endpoints the stack exposes.
type Endpoints struct {
	// API is the in-cluster URL of the API (or the gateway when enabled).
	// +optional
	API string `json:"api,omitempty"`
	// Kibana is the in-cluster URL of Kibana.
	// +optional
	Kibana string `json:"kibana,omitempty"`
}

// UGCStackStatus is the observed platform.
type UGCStackStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready plus one per component.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Endpoints the stack exposes.
	// +optional
	Endpoints Endpoints `json:"endpoints,omitempty"`
	// MongoDBMembers currently in the replica-set configuration.
	// +optional
	MongoDBMembers int32 `json:"mongodbMembers,omitempty"`
	// MongoDBFeatureCompatibilityVersion the replica set last reported; an
	// image upgrade may go one major release above it, no further.
	// +optional
	MongoDBFeatureCompatibilityVersion string `json:"mongodbFeatureCompatibilityVersion,omitempty"`
	// LoggingSetupHash identifies the logging configuration (index
	// template, ILM policy, Kibana saved objects) a setup Job last loaded
	// successfully, and the Elasticsearch (by UID) it loaded it into; a
	// different configuration, or an Elasticsearch created anew, runs the
	// Job again.
	// +optional
	LoggingSetupHash string `json:"loggingSetupHash,omitempty"`
}

// MaxNameLength bounds a stack's name so that every child's name is one its
// consumer accepts: ECK refuses resource names over 36 characters
// (cloud-on-k8s pkg/controller/common/name/name.go, MaxResourceNameLength,
// enforced by pkg/apis/common/v1/validations.go) and the stack's
// Elasticsearch is <name>-logs; a StatefulSet name over 52 characters makes
// its controller-revision-hash label longer than 63
// (kubernetes pkg/controller/history), and <name>-clickhouse-keeper is the
// longest. The CEL rule on UGCStack states the same number.
const MaxNameLength = 31

// UGCStack is one UGC platform.
// +kubebuilder:object:root=true
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 31",message="metadata.name must be at most 31 characters: the stack's Elasticsearch is <name>-logs and ECK refuses names over 36"
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ugc
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="API URL",type=string,JSONPath=`.status.endpoints.api`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type UGCStack struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   UGCStackSpec   `json:"spec,omitempty"`
	Status UGCStackStatus `json:"status,omitempty"`
}

// UGCStackList is a list of UGCStacks.
// +kubebuilder:object:root=true
type UGCStackList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []UGCStack `json:"items"`
}

func init() {
	SchemeBuilder.Register(&UGCStack{}, &UGCStackList{})
}
