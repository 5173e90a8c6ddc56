package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Argo's Go types (github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/
// v1alpha1) are not served by the module proxy this project builds with, so
// the Argo documents are checked against the schema below: Argo's field
// names and shapes for the parts etlc writes (from the Argo Workflows field
// reference), with the Kubernetes parts (containers, volumes, claims,
// security contexts, affinity, tolerations) as k8s.io/api's own types. A
// misspelt or misplaced field fails the strict decoding as it would fail
// Argo's.

type argoWorkflowTemplate struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            argoWorkflowSpec  `json:"spec"`
}

type argoCronWorkflow struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Schedule          string           `json:"schedule"`
		ConcurrencyPolicy string           `json:"concurrencyPolicy"`
		WorkflowSpec      argoWorkflowSpec `json:"workflowSpec"`
	} `json:"spec"`
}

type argoWorkflowSpec struct {
	WorkflowTemplateRef *struct {
		Name string `json:"name"`
	} `json:"workflowTemplateRef"`
	Entrypoint           string                         `json:"entrypoint"`
	ServiceAccountName   string                         `json:"serviceAccountName"`
	Arguments            *argoArguments                 `json:"arguments"`
	SecurityContext      *corev1.PodSecurityContext     `json:"securityContext"`
	NodeSelector         map[string]string              `json:"nodeSelector"`
	Affinity             *corev1.Affinity               `json:"affinity"`
	Tolerations          []corev1.Toleration            `json:"tolerations"`
	Volumes              []corev1.Volume                `json:"volumes"`
	VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates"`
	Templates            []argoTemplateSchema           `json:"templates"`
}

type argoArguments struct {
	Parameters []struct {
		Name  string  `json:"name"`
		Value *string `json:"value"`
	} `json:"parameters"`
}

type argoTemplateSchema struct {
	Name   string         `json:"name"`
	Inputs *argoArguments `json:"inputs"`
	DAG    *struct {
		Tasks []struct {
			Name         string         `json:"name"`
			Template     string         `json:"template"`
			Dependencies []string       `json:"dependencies"`
			Arguments    *argoArguments `json:"arguments"`
		} `json:"tasks"`
	} `json:"dag"`
	Container     *corev1.Container `json:"container"`
	RetryStrategy *struct {
		Limit       *intstr.IntOrString `json:"limit"`
		RetryPolicy string              `json:"retryPolicy"`
		Backoff     *struct {
			Duration    string              `json:"duration"`
			Factor      *intstr.IntOrString `json:"factor"`
			MaxDuration string              `json:"maxDuration"`
		} `json:"backoff"`
	} `json:"retryStrategy"`
}

// strictDecode decodes every document of a YAML stream into the API type
// of its kind, rejecting unknown fields, and returns "Kind/name" for each.
func strictDecode(stream []byte) ([]string, error) {
	var out []string
	for i, doc := range strings.Split(string(stream), "\n---\n") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(j, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var obj interface{ GetName() string }
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "batch/v1 CronJob":
			obj = &batchv1.CronJob{}
		case "apps/v1 StatefulSet":
			obj = &appsv1.StatefulSet{}
		case "argoproj.io/v1alpha1 WorkflowTemplate":
			obj = &named{v: &argoWorkflowTemplate{}}
		case "argoproj.io/v1alpha1 CronWorkflow":
			obj = &named{v: &argoCronWorkflow{}}
		default:
			return nil, fmt.Errorf("document %d: unexpected %s %s", i+1, tm.APIVersion, tm.Kind)
		}
		target := any(obj)
		if n, ok := obj.(*named); ok {
			target = n.v
		}
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.DisallowUnknownFields()
		if err := dec.Decode(target); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i+1, tm.Kind, err)
		}
		out = append(out, tm.Kind+"/"+obj.GetName())
	}
	return out, nil
}

// named gives the Argo schema types a GetName.
type named struct{ v any }

func (n *named) GetName() string {
	switch x := n.v.(type) {
	case *argoWorkflowTemplate:
		return x.Metadata.Name
	case *argoCronWorkflow:
		return x.Metadata.Name
	}
	return ""
}
