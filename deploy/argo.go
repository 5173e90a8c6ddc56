package deploy

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/etlc/etlc/parser"
)

// Argo writes an Argo Workflows WorkflowTemplate running the scripts of a
// DAG (and a CronWorkflow with a schedule), preceded by the ServiceAccount
// and the ConfigMap holding the scripts. Each script is a step of its own
// template with the script's parameters as inputs and a retry strategy;
// steps depend on the steps whose output they read. A parameter whose value
// is the same for every script that declares it is a workflow parameter too,
// so `argo submit --from workflowtemplate/NAME -p name=value` sets it for
// every step. Streaming scripts are refused: they never finish.
func Argo(d *DAG, o Options) ([]byte, error) {
	o = o.defaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	for _, s := range d.Scripts {
		if s.Streaming {
			return nil, fmt.Errorf("%s runs a streaming pipeline, which never finishes: deploy it with etlc deploy k8s (a StatefulSet), not as a workflow step", s.File)
		}
	}
	name := o.Name
	if name == "" {
		name = d.Scripts[0].Name
	}
	if n := dnsLabel(name); n != name {
		return nil, fmt.Errorf("--name %q is not a Kubernetes name (try %q)", name, n)
	}
	cmName := name + "-scripts"

	// Workflow parameters: names with one value across the scripts.
	values := map[string][]string{}
	for _, s := range d.Scripts {
		for _, p := range s.Params {
			v := p.Value
			if given, ok := o.Params[p.Name]; ok {
				v = given
			}
			if !slices.Contains(values[p.Name], v) {
				values[p.Name] = append(values[p.Name], v)
			}
		}
	}
	var global []argoParam
	for n, vs := range values {
		if len(vs) == 1 {
			global = append(global, argoParam{Name: n, Value: ptr(vs[0])})
		}
	}
	slices.SortFunc(global, func(a, b argoParam) int {
		return cmpString(a.Name, b.Name)
	})
	isGlobal := func(n string) bool {
		return slices.ContainsFunc(global, func(p argoParam) bool { return p.Name == n })
	}

	sel, aff, tol := o.placement()
	spec := workflowSpec{
		Entrypoint: "main", ServiceAccountName: o.ServiceAccount,
		SecurityContext: podSecurity(), NodeSelector: sel, Affinity: aff, Tolerations: tol,
	}
	if len(global) > 0 {
		spec.Arguments = &arguments{Parameters: global}
	}
	var data *volume
	if o.DataClaim != "" {
		data = &volume{Name: "data", PersistentVolumeClaim: &pvcVolumeSource{ClaimName: o.DataClaim}}
	} else {
		spec.VolumeClaimTemplates = []persistentVolumeClaim{o.dataClaimTemplate()}
	}
	spec.Volumes = o.volumes(cmName, data)

	main := argoTemplate{Name: "main", DAG: &dagTemplate{}}
	var steps []argoTemplate
	for _, s := range d.Scripts {
		task := dagTask{Name: s.Name, Template: s.Name, Dependencies: d.Deps[s.Name]}
		var inputs []argoParam
		var env []envVar
		var taskArgs []argoParam
		for _, p := range s.Params {
			v := p.Value
			if given, ok := o.Params[p.Name]; ok {
				v = given
			}
			inputs = append(inputs, argoParam{Name: p.Name, Value: ptr(v)})
			env = append(env, envVar{Name: parser.EnvName(p.Name), Value: "{{inputs.parameters." + p.Name + "}}"})
			if isGlobal(p.Name) {
				taskArgs = append(taskArgs, argoParam{Name: p.Name, Value: ptr("{{workflow.parameters." + p.Name + "}}")})
			}
		}
		if len(taskArgs) > 0 {
			task.Arguments = &arguments{Parameters: taskArgs}
		}
		main.DAG.Tasks = append(main.DAG.Tasks, task)
		c := o.container(o.runArgs(s), env, false)
		t := argoTemplate{Name: s.Name, Container: &c, RetryStrategy: &retryStrategy{
			Limit: strconv.Itoa(o.Retries), RetryPolicy: "OnFailure",
			Backoff: &backoff{Duration: "30s", Factor: 2, MaxDuration: "10m"},
		}}
		if len(inputs) > 0 {
			t.Inputs = &arguments{Parameters: inputs}
		}
		steps = append(steps, t)
	}
	spec.Templates = append([]argoTemplate{main}, steps...)

	docs := []any{o.serviceAccount()}
	if o.ScriptURI == "" {
		docs = append(docs, o.scriptsConfigMap(cmName, d.Scripts))
	}
	docs = append(docs, workflowTemplate{
		typeMeta: typeMeta{"argoproj.io/v1alpha1", "WorkflowTemplate"}, Metadata: o.meta(name), Spec: spec,
	})
	if o.Schedule != "" {
		docs = append(docs, cronWorkflow{
			typeMeta: typeMeta{"argoproj.io/v1alpha1", "CronWorkflow"}, Metadata: o.meta(name),
			Spec: cronWorkflowSpec{Schedule: o.Schedule, ConcurrencyPolicy: "Forbid",
				WorkflowSpec: workflowSpec{WorkflowTemplateRef: &templateRef{Name: name}}},
		})
	}
	return marshalDocs(docs)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
