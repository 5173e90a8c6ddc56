package deploy

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// renderChart renders the chart deploy/helm/etlc with values merged over
// values.yaml. Helm is not installed here, so the templates are executed
// by text/template with the few Helm functions they use (include, toYaml,
// nindent, quote, default), implemented as Helm documents them; the chart
// keeps to those.
func renderChart(t *testing.T, overrides map[string]any) map[string]string {
	t.Helper()
	dir := filepath.Join("helm", "etlc")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var values, chart map[string]any
	if err := yaml.Unmarshal(read("values.yaml"), &values); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	if err := yaml.Unmarshal(read("Chart.yaml"), &chart); err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	merge(values, overrides)
	top := map[string]any{
		"Values":  values,
		"Release": map[string]any{"Name": "gw", "Namespace": "etl", "Service": "Helm"},
		"Chart":   map[string]any{"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
	}
	tmpl := template.New("chart")
	tmpl.Funcs(template.FuncMap{
		"include": func(name string, data any) (string, error) {
			var b bytes.Buffer
			err := tmpl.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"toYaml": func(v any) (string, error) {
			b, err := yaml.Marshal(v)
			return strings.TrimSuffix(string(b), "\n"), err
		},
		"nindent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return "\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"quote": func(v any) string { return fmt.Sprintf("%q", fmt.Sprint(v)) },
		"default": func(d, v any) any {
			if v == nil || v == "" || v == false || v == 0 {
				return d
			}
			return v
		},
	})
	files, err := filepath.Glob(filepath.Join(dir, "templates", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := tmpl.New(filepath.Base(f)).Parse(string(read(filepath.Join("templates", filepath.Base(f))))); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	out := map[string]string{}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "_") {
			continue
		}
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, name, top); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b.String()
	}
	return out
}

// merge sets the keys of src into dst, recursing into maps.
func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// TestHelmChart renders the gateway chart with its defaults and with TLS,
// IRSA and scheduling values, decodes every manifest strictly into the
// Kubernetes types and checks the gateway's arguments, mounts and claim.
func TestHelmChart(t *testing.T) {
	for _, tc := range []struct {
		name     string
		values   map[string]any
		args     []string
		mounts   []string
		class    string
		objects  string
		saAnnots map[string]string
		nodeArch string
	}{{
		name:    "defaults",
		args:    []string{"serve", "--listen=0.0.0.0:5432", "--data-dir=/var/lib/etlc", "--metrics-addr=:9090", "--auth=scram", "--users-file=/etc/etlc/users/users"},
		mounts:  []string{"data:/var/lib/etlc", "tmp:/tmp", "users:/etc/etlc/users"},
		objects: "ServiceAccount/etlc Service/gw Service/gw-headless StatefulSet/gw",
	}, {
		name: "tls, IRSA, Graviton",
		values: map[string]any{
			"tls":            map[string]any{"existingSecret": "gw-tls"},
			"persistence":    map[string]any{"storageClass": "gp3", "size": "50Gi"},
			"serviceAccount": map[string]any{"annotations": map[string]any{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/gw"}},
			"nodeSelector":   map[string]any{"kubernetes.io/arch": "arm64"},
			"extraArgs":      []any{"--verbose"},
			"image":          map[string]any{"tag": "v1.2.3"},
		},
		args:     []string{"serve", "--listen=0.0.0.0:5432", "--data-dir=/var/lib/etlc", "--metrics-addr=:9090", "--auth=scram", "--users-file=/etc/etlc/users/users", "--tls-cert=/etc/etlc/tls/tls.crt", "--tls-key=/etc/etlc/tls/tls.key", "--verbose"},
		mounts:   []string{"data:/var/lib/etlc", "tmp:/tmp", "users:/etc/etlc/users", "tls:/etc/etlc/tls"},
		class:    "gp3",
		objects:  "ServiceAccount/etlc Service/gw Service/gw-headless StatefulSet/gw",
		saAnnots: map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/gw"},
		nodeArch: "arm64",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out := renderChart(t, tc.values)
			var all []string
			for _, name := range slices.Sorted(maps.Keys(out)) {
				if !strings.HasSuffix(name, ".yaml") {
					continue
				}
				text := strings.TrimSpace(out[name])
				if text == "" {
					continue
				}
				objs, err := strictDecode([]byte(text))
				if err != nil {
					t.Fatalf("%s: %v\n%s", name, err, text)
				}
				all = append(all, objs...)
			}
			slices.Sort(all)
			want := strings.Fields(tc.objects)
			slices.Sort(want)
			if !slices.Equal(all, want) {
				t.Errorf("objects %v, want %v", all, want)
			}
			j, err := yaml.YAMLToJSON([]byte(out["statefulset.yaml"]))
			if err != nil {
				t.Fatal(err)
			}
			var ss appsv1.StatefulSet
			if err := yaml.Unmarshal(j, &ss); err != nil {
				t.Fatal(err)
			}
			c := ss.Spec.Template.Spec.Containers[0]
			if !slices.Equal(c.Args, tc.args) {
				t.Errorf("args\n got %q\nwant %q", c.Args, tc.args)
			}
			var mounts []string
			for _, m := range c.VolumeMounts {
				mounts = append(mounts, m.Name+":"+m.MountPath)
			}
			if !slices.Equal(mounts, tc.mounts) {
				t.Errorf("mounts %v, want %v", mounts, tc.mounts)
			}
			if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("probes %+v %+v", c.ReadinessProbe, c.LivenessProbe)
			}
			if *c.SecurityContext.ReadOnlyRootFilesystem != true || *c.SecurityContext.AllowPrivilegeEscalation {
				t.Errorf("security context %+v", c.SecurityContext)
			}
			pvc := ss.Spec.VolumeClaimTemplates[0]
			class := ""
			if pvc.Spec.StorageClassName != nil {
				class = *pvc.Spec.StorageClassName
			}
			if pvc.Name != "data" || class != tc.class {
				t.Errorf("claim %s class %q, want data %q", pvc.Name, class, tc.class)
			}
			if got := ss.Spec.Template.Spec.NodeSelector["kubernetes.io/arch"]; got != tc.nodeArch {
				t.Errorf("node arch %q, want %q", got, tc.nodeArch)
			}
			if tc.values != nil && c.Image != "ghcr.io/etlc/etlc:v1.2.3" || tc.values == nil && c.Image != "ghcr.io/etlc/etlc:dev" {
				t.Errorf("image %s", c.Image)
			}
			if tc.saAnnots != nil && !strings.Contains(out["serviceaccount.yaml"], "eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/gw") {
				t.Errorf("service account:\n%s", out["serviceaccount.yaml"])
			}
		})
	}
}
