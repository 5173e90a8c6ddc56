package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/etlc/etlc/parser"
)

// TestDataDriven runs the golden files in testdata/:
//
//	analyze | dag | k8s | argo | iam [files=(examples/...)] [option=value ...]
//	-- name.sql --
//	script text (scripts inline, besides or instead of files)
//
// analyze prints what each script reads and writes; dag the waves and
// edges of BuildDAG (or its error); k8s, argo and iam the documents, after
// every manifest has been decoded strictly into the Kubernetes API types.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			o, params := testOptions(t, d)
			scripts, err := testScripts(d, params)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			switch d.Cmd {
			case "analyze":
				var b strings.Builder
				for _, s := range scripts {
					fmt.Fprintf(&b, "%s (%s)", s.Name, s.Base)
					if s.Streaming {
						b.WriteString(" streaming")
					}
					b.WriteString("\n")
					for _, r := range s.Reads {
						fmt.Fprintf(&b, "  reads  %s\n", r)
					}
					for _, r := range s.Writes {
						fmt.Fprintf(&b, "  writes %s\n", r)
					}
				}
				return b.String()
			case "dag":
				dag, err := BuildDAG(scripts)
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				var b strings.Builder
				for i, w := range dag.Levels() {
					fmt.Fprintf(&b, "wave %d: %s\n", i+1, strings.Join(w, " "))
				}
				for _, e := range dag.Edges {
					var rs []string
					for _, r := range e.Because {
						rs = append(rs, r.String())
					}
					fmt.Fprintf(&b, "%s after %s: %s\n", e.After, e.Before, strings.Join(rs, ", "))
				}
				return b.String()
			case "k8s", "argo":
				var out []byte
				if d.Cmd == "k8s" {
					out, err = K8s(scripts, o)
				} else {
					var dag *DAG
					dag, err = BuildDAG(scripts)
					if err == nil {
						out, err = Argo(dag, o)
					}
				}
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				objs, err := strictDecode(out)
				if err != nil {
					t.Fatalf("%s: the manifests do not decode strictly: %v\n%s", d.Pos, err, out)
				}
				return "# " + strings.Join(objs, " ") + "\n" + string(out)
			case "iam":
				out, err := IAMPolicy(scripts, PolicyOptions{Region: argValue(d, "region"), Account: argValue(d, "account")})
				if err != nil {
					return "error: " + err.Error() + "\n"
				}
				return string(out)
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

func argValue(d *datadriven.TestData, key string) string {
	if a, ok := d.Arg(key); ok && len(a.Vals) > 0 {
		return a.Vals[0]
	}
	return ""
}

// testOptions reads the Options from a directive's arguments.
func testOptions(t *testing.T, d *datadriven.TestData) (Options, map[string]string) {
	o := Options{Image: "registry.example/etlc:v1.0.0", Retries: 2}
	params := map[string]string{}
	for _, a := range d.CmdArgs {
		v := ""
		if len(a.Vals) > 0 {
			v = a.Vals[0]
		}
		switch a.Key {
		case "files", "region", "account":
		case "image":
			o.Image = v
		case "namespace":
			o.Namespace = v
		case "role-arn":
			o.RoleARN = v
		case "schedule":
			o.Schedule = strings.ReplaceAll(v, "_", " ")
		case "arch":
			o.Arch = v
		case "spot":
			o.Spot = true
		case "name":
			o.Name = v
		case "data-pvc":
			o.DataClaim = v
		case "script-uri":
			o.ScriptURI = v
		case "storage-class":
			o.StorageClass = v
		case "retries":
			fmt.Sscan(v, &o.Retries)
		case "param":
			for _, kv := range a.Vals {
				k, val, _ := strings.Cut(kv, "=")
				params[k] = val
			}
		default:
			d.Fatalf(t, "unknown argument %q", a.Key)
		}
	}
	o.Params = params
	return o, params
}

// testScripts analyzes the files= scripts (relative to the repository
// root) and the inline ones.
func testScripts(d *datadriven.TestData, params map[string]string) ([]*Script, error) {
	type in struct{ name, text string }
	var ins []in
	if a, ok := d.Arg("files"); ok {
		for _, f := range a.Vals {
			b, err := os.ReadFile(filepath.Join("..", f))
			if err != nil {
				return nil, err
			}
			ins = append(ins, in{f, string(b)})
		}
	}
	var cur *in
	for _, line := range strings.SplitAfter(d.Input, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "-- "); ok && strings.HasSuffix(name, " --") {
			ins = append(ins, in{name: strings.TrimSuffix(name, " --")})
			cur = &ins[len(ins)-1]
			continue
		}
		if cur != nil {
			cur.text += line
		}
	}
	var scripts []*Script
	var errs []error
	for _, i := range ins {
		s, err := Analyze(i.name, i.text, parser.Options{Params: params})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scripts = append(scripts, s)
	}
	return scripts, errors.Join(errs...)
}
