package deploy

// The Kubernetes and Argo objects etlc writes, as far as it fills them in.
// The field names are the API's (the tests decode every manifest strictly
// into k8s.io/api's types); the types stay here so that the etlc binary
// does not link the Kubernetes API packages.

type meta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type serviceAccount struct {
	typeMeta `json:",inline"`
	Metadata meta `json:"metadata"`
}

type configMap struct {
	typeMeta `json:",inline"`
	Metadata meta              `json:"metadata"`
	Data     map[string]string `json:"data"`
}

type service struct {
	typeMeta `json:",inline"`
	Metadata meta        `json:"metadata"`
	Spec     serviceSpec `json:"spec"`
}

type serviceSpec struct {
	ClusterIP string            `json:"clusterIP,omitempty"`
	Selector  map[string]string `json:"selector"`
	Ports     []servicePort     `json:"ports"`
}

type servicePort struct {
	Name       string `json:"name"`
	Port       int32  `json:"port"`
	TargetPort string `json:"targetPort,omitempty"`
}

type job struct {
	typeMeta `json:",inline"`
	Metadata meta    `json:"metadata"`
	Spec     jobSpec `json:"spec"`
}

type jobSpec struct {
	BackoffLimit            *int32          `json:"backoffLimit,omitempty"`
	ActiveDeadlineSeconds   *int64          `json:"activeDeadlineSeconds,omitempty"`
	TTLSecondsAfterFinished *int32          `json:"ttlSecondsAfterFinished,omitempty"`
	Template                podTemplateSpec `json:"template"`
}

type cronJob struct {
	typeMeta `json:",inline"`
	Metadata meta        `json:"metadata"`
	Spec     cronJobSpec `json:"spec"`
}

type cronJobSpec struct {
	Schedule                   string          `json:"schedule"`
	ConcurrencyPolicy          string          `json:"concurrencyPolicy,omitempty"`
	SuccessfulJobsHistoryLimit *int32          `json:"successfulJobsHistoryLimit,omitempty"`
	FailedJobsHistoryLimit     *int32          `json:"failedJobsHistoryLimit,omitempty"`
	JobTemplate                jobTemplateSpec `json:"jobTemplate"`
}

type jobTemplateSpec struct {
	Metadata *meta   `json:"metadata,omitempty"`
	Spec     jobSpec `json:"spec"`
}

type statefulSet struct {
	typeMeta `json:",inline"`
	Metadata meta            `json:"metadata"`
	Spec     statefulSetSpec `json:"spec"`
}

type statefulSetSpec struct {
	Replicas             *int32                  `json:"replicas"`
	ServiceName          string                  `json:"serviceName"`
	Selector             labelSelector           `json:"selector"`
	Template             podTemplateSpec         `json:"template"`
	VolumeClaimTemplates []persistentVolumeClaim `json:"volumeClaimTemplates,omitempty"`
}

type labelSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

type persistentVolumeClaim struct {
	Metadata meta    `json:"metadata"`
	Spec     pvcSpec `json:"spec"`
}

type pvcSpec struct {
	AccessModes      []string             `json:"accessModes"`
	StorageClassName *string              `json:"storageClassName,omitempty"`
	Resources        resourceRequirements `json:"resources"`
}

type podTemplateSpec struct {
	Metadata *meta   `json:"metadata,omitempty"`
	Spec     podSpec `json:"spec"`
}

type podSpec struct {
	ServiceAccountName            string              `json:"serviceAccountName,omitempty"`
	RestartPolicy                 string              `json:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds *int64              `json:"terminationGracePeriodSeconds,omitempty"`
	SecurityContext               *podSecurityContext `json:"securityContext,omitempty"`
	NodeSelector                  map[string]string   `json:"nodeSelector,omitempty"`
	Affinity                      *affinity           `json:"affinity,omitempty"`
	Tolerations                   []toleration        `json:"tolerations,omitempty"`
	Containers                    []container         `json:"containers"`
	Volumes                       []volume            `json:"volumes,omitempty"`
}

type podSecurityContext struct {
	RunAsNonRoot   *bool           `json:"runAsNonRoot,omitempty"`
	RunAsUser      *int64          `json:"runAsUser,omitempty"`
	RunAsGroup     *int64          `json:"runAsGroup,omitempty"`
	FSGroup        *int64          `json:"fsGroup,omitempty"`
	SeccompProfile *seccompProfile `json:"seccompProfile,omitempty"`
}

type seccompProfile struct {
	Type string `json:"type"`
}

type affinity struct {
	NodeAffinity *nodeAffinity `json:"nodeAffinity,omitempty"`
}

type nodeAffinity struct {
	Required *nodeSelector `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

type nodeSelector struct {
	NodeSelectorTerms []nodeSelectorTerm `json:"nodeSelectorTerms"`
}

type nodeSelectorTerm struct {
	MatchExpressions []nodeSelectorRequirement `json:"matchExpressions"`
}

type nodeSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

type toleration struct {
	Key      string `json:"key"`
	Operator string `json:"operator"`
	Value    string `json:"value,omitempty"`
	Effect   string `json:"effect"`
}

type container struct {
	Name            string                `json:"name"`
	Image           string                `json:"image"`
	ImagePullPolicy string                `json:"imagePullPolicy,omitempty"`
	Args            []string              `json:"args"`
	Env             []envVar              `json:"env,omitempty"`
	Ports           []containerPort       `json:"ports,omitempty"`
	Resources       *resourceRequirements `json:"resources,omitempty"`
	VolumeMounts    []volumeMount         `json:"volumeMounts,omitempty"`
	LivenessProbe   *probe                `json:"livenessProbe,omitempty"`
	ReadinessProbe  *probe                `json:"readinessProbe,omitempty"`
	SecurityContext *securityContext      `json:"securityContext,omitempty"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type containerPort struct {
	Name          string `json:"name"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol,omitempty"`
}

type resourceRequirements struct {
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

type probe struct {
	HTTPGet             *httpGetAction `json:"httpGet"`
	InitialDelaySeconds int32          `json:"initialDelaySeconds,omitempty"`
	PeriodSeconds       int32          `json:"periodSeconds,omitempty"`
	FailureThreshold    int32          `json:"failureThreshold,omitempty"`
}

type httpGetAction struct {
	Path string `json:"path"`
	Port string `json:"port"`
}

type securityContext struct {
	RunAsNonRoot             *bool         `json:"runAsNonRoot,omitempty"`
	AllowPrivilegeEscalation *bool         `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool         `json:"readOnlyRootFilesystem"`
	Capabilities             *capabilities `json:"capabilities,omitempty"`
}

type capabilities struct {
	Drop []string `json:"drop"`
}

type volume struct {
	Name                  string                 `json:"name"`
	ConfigMap             *configMapVolumeSource `json:"configMap,omitempty"`
	EmptyDir              *emptyDirVolumeSource  `json:"emptyDir,omitempty"`
	PersistentVolumeClaim *pvcVolumeSource       `json:"persistentVolumeClaim,omitempty"`
}

type configMapVolumeSource struct {
	Name string `json:"name"`
}

type emptyDirVolumeSource struct {
	SizeLimit string `json:"sizeLimit,omitempty"`
}

type pvcVolumeSource struct {
	ClaimName string `json:"claimName"`
}

// Argo Workflows (argoproj.io/v1alpha1).

type workflowTemplate struct {
	typeMeta `json:",inline"`
	Metadata meta         `json:"metadata"`
	Spec     workflowSpec `json:"spec"`
}

type cronWorkflow struct {
	typeMeta `json:",inline"`
	Metadata meta             `json:"metadata"`
	Spec     cronWorkflowSpec `json:"spec"`
}

type cronWorkflowSpec struct {
	Schedule          string       `json:"schedule"`
	ConcurrencyPolicy string       `json:"concurrencyPolicy,omitempty"`
	WorkflowSpec      workflowSpec `json:"workflowSpec"`
}

type workflowSpec struct {
	WorkflowTemplateRef  *templateRef            `json:"workflowTemplateRef,omitempty"`
	Entrypoint           string                  `json:"entrypoint,omitempty"`
	ServiceAccountName   string                  `json:"serviceAccountName,omitempty"`
	Arguments            *arguments              `json:"arguments,omitempty"`
	SecurityContext      *podSecurityContext     `json:"securityContext,omitempty"`
	NodeSelector         map[string]string       `json:"nodeSelector,omitempty"`
	Affinity             *affinity               `json:"affinity,omitempty"`
	Tolerations          []toleration            `json:"tolerations,omitempty"`
	Volumes              []volume                `json:"volumes,omitempty"`
	VolumeClaimTemplates []persistentVolumeClaim `json:"volumeClaimTemplates,omitempty"`
	Templates            []argoTemplate          `json:"templates,omitempty"`
}

type templateRef struct {
	Name string `json:"name"`
}

type arguments struct {
	Parameters []argoParam `json:"parameters"`
}

type argoParam struct {
	Name  string  `json:"name"`
	Value *string `json:"value,omitempty"`
}

type argoTemplate struct {
	Name          string         `json:"name"`
	Inputs        *arguments     `json:"inputs,omitempty"`
	DAG           *dagTemplate   `json:"dag,omitempty"`
	Container     *container     `json:"container,omitempty"`
	RetryStrategy *retryStrategy `json:"retryStrategy,omitempty"`
}

type dagTemplate struct {
	Tasks []dagTask `json:"tasks"`
}

type dagTask struct {
	Name         string     `json:"name"`
	Template     string     `json:"template"`
	Dependencies []string   `json:"dependencies,omitempty"`
	Arguments    *arguments `json:"arguments,omitempty"`
}

type retryStrategy struct {
	Limit       string   `json:"limit"`
	RetryPolicy string   `json:"retryPolicy"`
	Backoff     *backoff `json:"backoff,omitempty"`
}

type backoff struct {
	Duration    string `json:"duration"`
	Factor      int    `json:"factor"`
	MaxDuration string `json:"maxDuration,omitempty"`
}
