package controllers

import (
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/deploy/logging"
)

const loggingCADir = "/etc/ugc/logging-ca"

// ECK names the Services and Secrets after the Elasticsearch and Kibana
// objects: <name>-es-http, <name>-kb-http, <name>-es-elastic-user,
// <name>-{es,kb}-http-certs-public.
func esURL(s *ugcv1.UGCStack) string {
	return fmt.Sprintf("https://%s-es-http.%s.svc:9200", esName(s), s.Namespace)
}

func kibanaURL(s *ugcv1.UGCStack) string {
	return fmt.Sprintf("https://%s-kb-http.%s.svc:5601", esName(s), s.Namespace)
}

// LoggingSetupHash identifies what the setup Job loads: the embedded
// configuration files, and whether Kibana is there to take the saved
// objects. It names the Job, so a change runs a new one.
func LoggingSetupHash(s *ugcv1.UGCStack) string {
	return hashData(map[string]string{
		"ilm-policy.json":             string(logging.ILMPolicy()),
		"index-template.json":         string(logging.IndexTemplate()),
		"kibana-saved-objects.ndjson": string(logging.KibanaSavedObjects()),
		"kibana":                      strconv.FormatBool(s.Spec.Logging.Kibana),
	})
}

// BuildLoggingSetupJob runs `ugc logging-setup` from the API image against
// this stack's Elasticsearch (and Kibana), as the ECK-generated elastic user,
// trusting the CAs ECK publishes for their HTTP endpoints.
func BuildLoggingSetupJob(s *ugcv1.UGCStack) *batchv1.Job {
	es := esName(s)
	env := []corev1.EnvVar{
		{Name: "UGC_LOGGING_ES_URL", Value: esURL(s)},
		{Name: "UGC_LOGGING_USER", Value: "elastic"},
		secretEnv("UGC_LOGGING_PASSWORD", &ugcv1.SecretKeyRef{Name: es + "-es-elastic-user", Key: "elastic"}),
	}
	cas := []corev1.VolumeProjection{caProjection(es+"-es-http-certs-public", "es-ca.crt")}
	caFiles := []string{loggingCADir + "/es-ca.crt"}
	if s.Spec.Logging.Kibana {
		env = append(env, corev1.EnvVar{Name: "UGC_LOGGING_KIBANA_URL", Value: kibanaURL(s)})
		cas = append(cas, caProjection(es+"-kb-http-certs-public", "kibana-ca.crt"))
		caFiles = append(caFiles, loggingCADir+"/kibana-ca.crt")
	}
	env = append(env, corev1.EnvVar{Name: "UGC_LOGGING_CA_FILES", Value: strings.Join(caFiles, ",")})
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: objectMeta(s, es+"-setup-"+LoggingSetupHash(s)[:10], componentLogging),
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr.To(int32(6)),
			ActiveDeadlineSeconds: ptr.To(int64(900)),
			// A finished Job goes after an hour: a failed one is then
			// created again (status.loggingSetupHash is set only on success).
			TTLSecondsAfterFinished: ptr.To(int32(3600)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(s, componentLogging)},
				Spec: corev1.PodSpec{
					RestartPolicy:                corev1.RestartPolicyNever,
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext:              nonRootPod(apiUID, false),
					Containers: []corev1.Container{{
						Name:  "logging-setup",
						Image: s.Spec.API.Image,
						Args:  []string{"logging-setup"},
						Env:   env,
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("32Mi"),
						}},
						SecurityContext: restrictedSecurityContext(),
						VolumeMounts:    []corev1.VolumeMount{{Name: "ca", MountPath: loggingCADir, ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{{Name: "ca", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: cas}}}},
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
