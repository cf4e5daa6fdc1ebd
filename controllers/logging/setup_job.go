package logging

import (
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/deploy/logging"
)

const caDir = "/etc/ugc/logging-ca"

// ECK names the Services and Secrets after the Elasticsearch and Kibana
// objects: <name>-es-http, <name>-kb-http, <name>-es-elastic-user,
// <name>-{es,kb}-http-certs-public.
func esURL(s *ugcv1.UGCStack) string {
	return fmt.Sprintf("https://%s-es-http.%s.svc:9200", Name(s), s.Namespace)
}

// KibanaURL is Kibana's in-cluster address.
func KibanaURL(s *ugcv1.UGCStack) string {
	return fmt.Sprintf("https://%s-kb-http.%s.svc:5601", Name(s), s.Namespace)
}

// SetupHash identifies what the setup Job loads and where: the embedded
// configuration files, whether Kibana is there to take the saved objects,
// and the UID of the Elasticsearch they go into. It names the Job, so a
// change runs a new one; so does an Elasticsearch created anew (logging
// turned off and on again), whose volumes ECK made empty.
func SetupHash(s *ugcv1.UGCStack, esUID types.UID) string {
	return common.HashData(map[string]string{
		"ilm-policy.json":             string(logging.ILMPolicy()),
		"index-template.json":         string(logging.IndexTemplate()),
		"kibana-saved-objects.ndjson": string(logging.KibanaSavedObjects()),
		"kibana":                      strconv.FormatBool(s.Spec.Logging.Kibana),
		"elasticsearch-uid":           string(esUID),
	})
}

// SetupJob runs `ugc logging-setup` from the API image against this stack's
// Elasticsearch (and Kibana), as the ECK-generated elastic user, trusting
// the CAs ECK publishes for their HTTP endpoints, into the Elasticsearch
// whose UID is esUID.
func SetupJob(s *ugcv1.UGCStack, esUID types.UID) *batchv1.Job {
	es := Name(s)
	volumes, mounts, env := common.SecretFiles(common.SecretFile{Env: "UGC_LOGGING_PASSWORD", Ref: &ugcv1.SecretKeyRef{Name: es + "-es-elastic-user", Key: "elastic"}})
	env = append(env,
		corev1.EnvVar{Name: "UGC_LOGGING_ES_URL", Value: esURL(s)},
		corev1.EnvVar{Name: "UGC_LOGGING_USER", Value: "elastic"},
	)
	cas := []corev1.VolumeProjection{caProjection(es+"-es-http-certs-public", "es-ca.crt")}
	caFiles := []string{caDir + "/es-ca.crt"}
	if s.Spec.Logging.Kibana {
		env = append(env, corev1.EnvVar{Name: "UGC_LOGGING_KIBANA_URL", Value: KibanaURL(s)})
		cas = append(cas, caProjection(es+"-kb-http-certs-public", "kibana-ca.crt"))
		caFiles = append(caFiles, caDir+"/kibana-ca.crt")
	}
	env = append(env, corev1.EnvVar{Name: "UGC_LOGGING_CA_FILES", Value: strings.Join(caFiles, ",")})
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: common.ObjectMeta(s, es+"-setup-"+SetupHash(s, esUID)[:10], common.ComponentLogging),
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr.To(int32(6)),
			ActiveDeadlineSeconds: ptr.To(int64(900)),
			// A finished Job goes after an hour: a failed one is then
			// created again (status.loggingSetupHash is set only on success).
			TTLSecondsAfterFinished: ptr.To(int32(3600)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: common.Labels(s, common.ComponentLogging)},
				Spec: corev1.PodSpec{
					RestartPolicy:                corev1.RestartPolicyNever,
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              common.NonRootPod(common.UGCUID, true),
					Containers: []corev1.Container{{
						Name:            "logging-setup",
						Image:           s.Spec.API.Image,
						Args:            []string{"logging-setup"},
						Env:             env,
						Resources:       common.Requests("50m", "32Mi"),
						SecurityContext: common.RestrictedSecurityContext(),
						VolumeMounts:    append(mounts, corev1.VolumeMount{Name: "ca", MountPath: caDir, ReadOnly: true}),
					}},
					Volumes: append(volumes, corev1.Volume{Name: "ca", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: cas}}}),
				},
			},
		},
	}
}

func caProjection(secret, path string) corev1.VolumeProjection {
	return corev1.VolumeProjection{Secret: &corev1.SecretProjection{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret},
		Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: path}},
	}}
}
