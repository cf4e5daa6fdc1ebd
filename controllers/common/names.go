package common

import (
	"fmt"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// Names and addresses one component's children give another: the API's
// Service and ConfigMap (gateway, relay), the MongoDB URI Secret (API,
// relay), the ClickHouse servers (relay).

// APIName names the API's Deployment, Service and ConfigMap.
func APIName(s *ugcv1.UGCStack) string { return s.Name + "-api" }

// MongoPort is the port every managed mongod listens on.
const MongoPort = 27017

// MongoAppSecretName names the managed MongoDB's application Secret, whose
// "uri" the ugc processes connect with: a user with readWrite on the UGC
// database only, not the root the operator uses.
func MongoAppSecretName(s *ugcv1.UGCStack) string { return s.Name + "-mongodb-app" }

// The managed ClickHouse as its clients see it.
const (
	ClickHousePort     = 9000
	ClickHouseHTTPPort = 8123
	// Keeper's client port (ClickHouse's <zookeeper>) and Raft port.
	KeeperClientPort = 9181
	KeeperRaftPort   = 9234
	// ClickHouseUser is the account the managed ClickHouse creates from its
	// generated Secret; the official image refuses network logins of
	// "default" without a password.
	ClickHouseUser = "ugc"
	// ClickHouseCluster is the cluster name in remote_servers, which the
	// relay creates its tables ON.
	ClickHouseCluster = "ugc"
)

// ClickHouseName names the ClickHouse headless Service and ConfigMap.
func ClickHouseName(s *ugcv1.UGCStack) string { return s.Name + "-clickhouse" }

// ClickHouseAuthSecretName names the Secret with the generated password.
func ClickHouseAuthSecretName(s *ugcv1.UGCStack) string { return ClickHouseName(s) + "-auth" }

// ClickHousePasswordRef is the generated password of ClickHouseUser.
func ClickHousePasswordRef(s *ugcv1.UGCStack) *ugcv1.SecretKeyRef {
	return &ugcv1.SecretKeyRef{Name: ClickHouseAuthSecretName(s), Key: "password"}
}

// ClickHouseShardName names one shard's StatefulSet.
func ClickHouseShardName(s *ugcv1.UGCStack, shard int32) string {
	return fmt.Sprintf("%s-s%d", ClickHouseName(s), shard)
}

// ClickHouseHosts lists the stable DNS name of every managed ClickHouse
// server, shard by shard.
func ClickHouseHosts(s *ugcv1.UGCStack) [][]string {
	c := s.Spec.ClickHouse
	out := make([][]string, c.Shards)
	for sh := range c.Shards {
		for r := range c.Replicas {
			out[sh] = append(out[sh], fmt.Sprintf("%s-%d.%s.%s.svc", ClickHouseShardName(s, sh), r, ClickHouseName(s), s.Namespace))
		}
	}
	return out
}

// AnalyticsEnabled reports whether the stack has a ClickHouse, managed or
// external, for the relay to feed and the API to record events for.
func AnalyticsEnabled(s *ugcv1.UGCStack) bool {
	c := s.Spec.ClickHouse
	return c.External != nil || c.Enabled
}

// ManagedClickHouse reports whether the operator runs the ClickHouse servers.
func ManagedClickHouse(s *ugcv1.UGCStack) bool {
	c := s.Spec.ClickHouse
	return c.Enabled && c.External == nil
}
