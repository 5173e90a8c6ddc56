package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/etlc/etlc/parser"
)

// Where things are inside the container.
const (
	scriptDir   = "/etc/etlc/scripts"
	dataDir     = "/var/lib/etlc"
	metricsPort = 9090
	// imageUser is the image's non-root user and group (see deploy/imagebuild).
	imageUser = 65532
)

// Options shape the manifests etlc deploy writes.
type Options struct {
	// Image is the container image (with tag or digest).
	Image string
	// Namespace of every object; empty leaves it to kubectl.
	Namespace string
	// ServiceAccount the pods run as; RoleARN, when set, annotates it for
	// IAM Roles for Service Accounts.
	ServiceAccount string
	RoleARN        string
	// Schedule makes a CronJob (k8s) or a CronWorkflow (argo).
	Schedule string
	// Arch is "arm64", "amd64" or "" (any node).
	Arch string
	// Spot schedules the pods on Spot capacity only.
	Spot bool
	// CPU and Memory are the resource requests; MemoryLimit the limit
	// (defaults to Memory).
	CPU, Memory, MemoryLimit string
	// Storage is the size of a data volume claim; StorageClass its class
	// ("" for the cluster's default).
	Storage, StorageClass string
	// DataClaim names an existing PersistentVolumeClaim for the data
	// directory; empty gives a Job an emptyDir and a pipeline or workflow a
	// claim of its own.
	DataClaim string
	// ScriptURI is an s3:// prefix the scripts were uploaded to: the pods
	// read them from there instead of a ConfigMap.
	ScriptURI string
	// Retries is a Job's backoffLimit and an Argo step's retry limit.
	Retries int
	// Params are parameter values for every script (--param), passed as
	// ETL_PARAM_<NAME> environment variables.
	Params map[string]string
	// Name names an Argo workflow template (default: the first script's).
	Name string
}

// defaults fills in what was left empty.
func (o Options) defaults() Options {
	if o.Image == "" {
		o.Image = "ghcr.io/etlc/etlc:latest"
	}
	if o.ServiceAccount == "" {
		o.ServiceAccount = "etlc"
	}
	if o.CPU == "" {
		o.CPU = "1"
	}
	if o.Memory == "" {
		o.Memory = "2Gi"
	}
	if o.MemoryLimit == "" {
		o.MemoryLimit = o.Memory
	}
	if o.Storage == "" {
		o.Storage = "10Gi"
	}
	return o
}

var (
	roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	cronPattern    = regexp.MustCompile(`^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$`)
)

// check validates the options.
func (o Options) check() error {
	switch o.Arch {
	case "", "arm64", "amd64":
	default:
		return fmt.Errorf("--arch %q: use arm64 or amd64", o.Arch)
	}
	if o.RoleARN != "" && !roleARNPattern.MatchString(o.RoleARN) {
		return fmt.Errorf("--role-arn %q is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)", o.RoleARN)
	}
	if o.Schedule != "" && !cronPattern.MatchString(strings.TrimSpace(o.Schedule)) {
		return fmt.Errorf("--schedule %q is not a cron schedule: five fields (\"0 2 * * *\") or @daily, @hourly", o.Schedule)
	}
	if o.ScriptURI != "" && !strings.HasPrefix(o.ScriptURI, "s3://") {
		return fmt.Errorf("--script-uri %q: give an s3:// prefix the scripts were copied to", o.ScriptURI)
	}
	if o.Retries < 0 {
		return fmt.Errorf("--retries %d: give 0 or more", o.Retries)
	}
	if n := dnsLabel(o.ServiceAccount); n != o.ServiceAccount {
		return fmt.Errorf("--service-account %q is not a Kubernetes name (try %q)", o.ServiceAccount, n)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// labels are the labels of a script's objects.
func labels(name string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       "etlc",
		"app.kubernetes.io/instance":   name,
		"app.kubernetes.io/managed-by": "etlc-deploy",
	}
}

func (o Options) meta(name string) meta {
	return meta{Name: name, Namespace: o.Namespace, Labels: labels(name)}
}

func (o Options) serviceAccount() serviceAccount {
	m := o.meta(o.ServiceAccount)
	m.Labels = map[string]string{"app.kubernetes.io/name": "etlc", "app.kubernetes.io/managed-by": "etlc-deploy"}
	if o.RoleARN != "" {
		m.Annotations = map[string]string{"eks.amazonaws.com/role-arn": o.RoleARN}
	}
	return serviceAccount{typeMeta: typeMeta{"v1", "ServiceAccount"}, Metadata: m}
}

// podSecurity is the restricted Pod Security Standard's pod part.
func podSecurity() *podSecurityContext {
	return &podSecurityContext{
		RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(imageUser)), RunAsGroup: ptr(int64(imageUser)),
		FSGroup: ptr(int64(imageUser)), SeccompProfile: &seccompProfile{Type: "RuntimeDefault"},
	}
}

// placement returns the node selector, affinity and tolerations for --arch
// and --spot.
func (o Options) placement() (map[string]string, *affinity, []toleration) {
	var sel map[string]string
	if o.Arch != "" {
		sel = map[string]string{"kubernetes.io/arch": o.Arch}
	}
	if !o.Spot {
		return sel, nil, nil
	}
	aff := &affinity{NodeAffinity: &nodeAffinity{Required: &nodeSelector{NodeSelectorTerms: []nodeSelectorTerm{
		// EKS managed node groups label Spot nodes one way, Karpenter another.
		{MatchExpressions: []nodeSelectorRequirement{{Key: "eks.amazonaws.com/capacityType", Operator: "In", Values: []string{"SPOT"}}}},
		{MatchExpressions: []nodeSelectorRequirement{{Key: "karpenter.sh/capacity-type", Operator: "In", Values: []string{"spot"}}}},
	}}}}
	tol := []toleration{
		{Key: "eks.amazonaws.com/capacityType", Operator: "Equal", Value: "SPOT", Effect: "NoSchedule"},
		{Key: "karpenter.sh/capacity-type", Operator: "Equal", Value: "spot", Effect: "NoSchedule"},
	}
	return sel, aff, tol
}

// scriptArg is where the container finds a script.
func (o Options) scriptArg(s *Script) string {
	if o.ScriptURI != "" {
		return strings.TrimSuffix(o.ScriptURI, "/") + "/" + s.Base
	}
	return scriptDir + "/" + s.Base
}

// env returns the ETL_PARAM_ variables for the --param values a script uses.
func (o Options) env(s *Script) []envVar {
	var out []envVar
	for _, p := range s.Params {
		if v, ok := o.Params[p.Name]; ok {
			out = append(out, envVar{Name: parser.EnvName(p.Name), Value: v})
		}
	}
	return out
}

// container is the etlc container running args.
func (o Options) container(args []string, env []envVar, streaming bool) container {
	c := container{
		Name: "etlc", Image: o.Image, ImagePullPolicy: "IfNotPresent", Args: args, Env: env,
		Ports: []containerPort{{Name: "metrics", ContainerPort: metricsPort, Protocol: "TCP"}},
		Resources: &resourceRequirements{
			Requests: map[string]string{"cpu": o.CPU, "memory": o.Memory},
			Limits:   map[string]string{"memory": o.MemoryLimit},
		},
		VolumeMounts: []volumeMount{{Name: "data", MountPath: dataDir}, {Name: "tmp", MountPath: "/tmp"}},
		LivenessProbe: &probe{HTTPGet: &httpGetAction{Path: "/healthz", Port: "metrics"},
			InitialDelaySeconds: 10, PeriodSeconds: 20, FailureThreshold: 3},
		SecurityContext: &securityContext{
			RunAsNonRoot: ptr(true), AllowPrivilegeEscalation: ptr(false),
			ReadOnlyRootFilesystem: ptr(true), Capabilities: &capabilities{Drop: []string{"ALL"}},
		},
	}
	if streaming {
		c.ReadinessProbe = &probe{HTTPGet: &httpGetAction{Path: "/readyz", Port: "metrics"},
			InitialDelaySeconds: 5, PeriodSeconds: 10, FailureThreshold: 3}
	}
	if o.ScriptURI == "" {
		c.VolumeMounts = append(c.VolumeMounts, volumeMount{Name: "scripts", MountPath: scriptDir, ReadOnly: true})
	}
	return c
}

// runArgs are the container arguments running a script.
func (o Options) runArgs(s *Script) []string {
	return []string{"run", o.scriptArg(s), "--data-dir", dataDir, fmt.Sprintf("--metrics-addr=:%d", metricsPort), "--no-progress"}
}

// volumes are a pod's volumes; data is the data directory's (nil: a
// volume claim template provides it).
func (o Options) volumes(configMap string, data *volume) []volume {
	var vs []volume
	if data != nil {
		vs = append(vs, *data)
	}
	vs = append(vs, volume{Name: "tmp", EmptyDir: &emptyDirVolumeSource{}})
	if o.ScriptURI == "" {
		vs = append(vs, volume{Name: "scripts", ConfigMap: &configMapVolumeSource{Name: configMap}})
	}
	return vs
}

func (o Options) dataClaimTemplate() persistentVolumeClaim {
	pvc := persistentVolumeClaim{
		Metadata: meta{Name: "data"},
		Spec: pvcSpec{AccessModes: []string{"ReadWriteOnce"},
			Resources: resourceRequirements{Requests: map[string]string{"storage": o.Storage}}},
	}
	if o.StorageClass != "" {
		pvc.Spec.StorageClassName = ptr(o.StorageClass)
	}
	return pvc
}

func (o Options) scriptsConfigMap(name string, scripts []*Script) configMap {
	cm := configMap{typeMeta: typeMeta{"v1", "ConfigMap"}, Metadata: o.meta(name), Data: map[string]string{}}
	for _, s := range scripts {
		cm.Data[s.Base] = s.Text
	}
	return cm
}

// K8s writes the Kubernetes manifests for scripts as one multi-document
// YAML stream: the ServiceAccount, then per script a ConfigMap with the
// script and a Job (a CronJob with a schedule) for a batch script, or a
// headless Service and a one-replica StatefulSet with a data volume claim
// for a script with pipelines.
func K8s(scripts []*Script, o Options) ([]byte, error) {
	if len(scripts) == 0 {
		return nil, errNoScripts
	}
	o = o.defaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for _, s := range scripts {
		if f, ok := seen[s.Name]; ok {
			return nil, fmt.Errorf("%s and %s both make the name %q: rename one of them", f, s.File, s.Name)
		}
		seen[s.Name] = s.File
	}
	docs := []any{o.serviceAccount()}
	for _, s := range scripts {
		cmName := s.Name + "-script"
		if o.ScriptURI == "" {
			docs = append(docs, o.scriptsConfigMap(cmName, []*Script{s}))
		}
		if s.Streaming {
			docs = append(docs, o.pipelineObjects(s, cmName)...)
			continue
		}
		docs = append(docs, o.batchObject(s, cmName))
	}
	return marshalDocs(docs)
}

// batchObject is the Job or CronJob of a batch script.
func (o Options) batchObject(s *Script, cmName string) any {
	data := &volume{Name: "data", EmptyDir: &emptyDirVolumeSource{}}
	if o.DataClaim != "" {
		data = &volume{Name: "data", PersistentVolumeClaim: &pvcVolumeSource{ClaimName: o.DataClaim}}
	}
	sel, aff, tol := o.placement()
	pm := o.meta(s.Name)
	pod := podTemplateSpec{
		Metadata: &meta{Labels: pm.Labels},
		Spec: podSpec{
			ServiceAccountName: o.ServiceAccount, RestartPolicy: "Never", SecurityContext: podSecurity(),
			NodeSelector: sel, Affinity: aff, Tolerations: tol,
			Containers: []container{o.container(o.runArgs(s), o.env(s), false)},
			Volumes:    o.volumes(cmName, data),
		},
	}
	spec := jobSpec{BackoffLimit: ptr(int32(o.Retries)), TTLSecondsAfterFinished: ptr(int32(86400)), Template: pod}
	if o.Schedule == "" {
		return job{typeMeta: typeMeta{"batch/v1", "Job"}, Metadata: o.meta(s.Name), Spec: spec}
	}
	return cronJob{typeMeta: typeMeta{"batch/v1", "CronJob"}, Metadata: o.meta(s.Name), Spec: cronJobSpec{
		Schedule: strings.TrimSpace(o.Schedule), ConcurrencyPolicy: "Forbid",
		SuccessfulJobsHistoryLimit: ptr(int32(3)), FailedJobsHistoryLimit: ptr(int32(3)),
		JobTemplate: jobTemplateSpec{Metadata: &meta{Labels: pm.Labels}, Spec: spec},
	}}
}

// pipelineObjects are the headless Service and the StatefulSet of a
// streaming script.
func (o Options) pipelineObjects(s *Script, cmName string) []any {
	lb := labels(s.Name)
	svc := service{typeMeta: typeMeta{"v1", "Service"}, Metadata: o.meta(s.Name), Spec: serviceSpec{
		ClusterIP: "None", Selector: lb,
		Ports: []servicePort{{Name: "metrics", Port: metricsPort, TargetPort: "metrics"}},
	}}
	var data *volume
	var claims []persistentVolumeClaim
	if o.DataClaim != "" {
		data = &volume{Name: "data", PersistentVolumeClaim: &pvcVolumeSource{ClaimName: o.DataClaim}}
	} else {
		claims = []persistentVolumeClaim{o.dataClaimTemplate()}
	}
	sel, aff, tol := o.placement()
	ss := statefulSet{typeMeta: typeMeta{"apps/v1", "StatefulSet"}, Metadata: o.meta(s.Name), Spec: statefulSetSpec{
		Replicas: ptr(int32(1)), ServiceName: s.Name, Selector: labelSelector{MatchLabels: lb},
		Template: podTemplateSpec{
			Metadata: &meta{Labels: lb},
			Spec: podSpec{
				ServiceAccountName: o.ServiceAccount, SecurityContext: podSecurity(),
				// A pipeline checkpoints on SIGTERM before it exits.
				TerminationGracePeriodSeconds: ptr(int64(60)),
				NodeSelector:                  sel, Affinity: aff, Tolerations: tol,
				Containers: []container{o.container(o.runArgs(s), o.env(s), true)},
				Volumes:    o.volumes(cmName, data),
			},
		},
		VolumeClaimTemplates: claims,
	}}
	return []any{svc, ss}
}

// marshalDocs writes objects as a YAML stream, "---" between documents.
func marshalDocs(docs []any) ([]byte, error) {
	var b bytes.Buffer
	for i, d := range docs {
		j, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		y, err := yaml.JSONToYAML(j)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

// paramNames returns the sorted names of params.
func paramNames(params []parser.Param) []string {
	out := make([]string, len(params))
	for i, p := range params {
		out[i] = p.Name
	}
	slices.Sort(out)
	return out
}
