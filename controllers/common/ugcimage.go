package common

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// The ugc image runs the API, the relay and the logging setup Job.
const (
	UGCPort = 8080
	UGCUID  = 65532 // the distroless nonroot user of the ugc image
)

// UGCConfigEnv reads the API's ConfigMap into the environment of every ugc
// process, so the API and the relay agree on the store and the outbox.
func UGCConfigEnv(s *ugcv1.UGCStack) []corev1.EnvFromSource {
	return []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: APIName(s)}}}}
}

// UGCStoreSecrets are the secrets every ugc process serving the store
// needs: the store's URI and, when configured, the Sentry DSN.
func UGCStoreSecrets(s *ugcv1.UGCStack) []SecretFile {
	uri := &ugcv1.SecretKeyRef{Name: MongoAppSecretName(s), Key: "uri"}
	if s.Spec.MongoDB.External != nil {
		uri = &s.Spec.MongoDB.External.URISecretRef
	}
	files := []SecretFile{{Env: "UGC_MONGO_URI", Ref: uri}}
	if ref := s.Spec.API.SentryDSNSecretRef; ref != nil {
		files = append(files, SecretFile{Env: "UGC_SENTRY_DSN", Ref: ref})
	}
	return files
}

// PrometheusAnnotations mark a ugc pod for scraping.
func PrometheusAnnotations() map[string]string {
	return map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(UGCPort), "prometheus.io/path": "/metrics"}
}
