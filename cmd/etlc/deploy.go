package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/etlc/etlc/deploy"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/parser"
)

// readS3Script reads a script from s3://bucket/key with the default AWS
// configuration (IRSA in a pod).
func readS3Script(ctx context.Context, uri string) ([]byte, error) {
	conn := connector.NewFileConnector(connector.Config{})
	fs, name, err := conn.Resolve(ctx, uri)
	if err != nil {
		return nil, err
	}
	f, err := fs.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// deployFlags are the flags shared by the deploy subcommands.
type deployFlags struct {
	params  []string
	output  string
	opts    deploy.Options
	region  string
	account string
}

func newDeployCmd(sys *system) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Write Kubernetes, Argo Workflows and IAM documents for ETL scripts",
		Long: `deploy writes what runs ETL scripts on Kubernetes (Amazon EKS): Jobs,
CronJobs and StatefulSets (deploy k8s), an Argo WorkflowTemplate whose DAG
follows the data the scripts pass to each other (deploy argo), and the
least-privilege IAM policy for their S3 paths and Glue tables (deploy
iam-policy). It reads the scripts only: no cluster, no network. A script
with errors is reported as etlc compile would and nothing is written.

Exit codes: 0 written, 1 a script has errors or the scripts depend on each
other in a cycle, 2 bad usage or an unreadable script. See docs/deploy.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDeployK8sCmd(sys), newDeployArgoCmd(sys), newDeployIAMCmd(sys))
	return cmd
}

// addManifestFlags adds the flags of deploy k8s and deploy argo.
func addManifestFlags(cmd *cobra.Command, f *deployFlags) {
	fl := cmd.Flags()
	o := &f.opts
	fl.StringArrayVarP(&f.params, "param", "p", nil, "set parameter `name=value` (repeatable): passed to the pods as ETL_PARAM_<NAME>")
	fl.StringVarP(&f.output, "output", "o", "-", "write the YAML to `file` (\"-\" for standard output)")
	fl.StringVar(&o.Image, "image", "ghcr.io/etlc/etlc:latest", "container `image` with tag or digest")
	fl.StringVarP(&o.Namespace, "namespace", "n", "", "Kubernetes `namespace` of every object")
	fl.StringVar(&o.ServiceAccount, "service-account", "etlc", "ServiceAccount `name` the pods run as")
	fl.StringVar(&o.RoleARN, "role-arn", "", "IAM role `ARN` for IRSA (annotates the ServiceAccount)")
	fl.StringVar(&o.Schedule, "schedule", "", "cron `schedule` (\"0 2 * * *\"): a CronJob / CronWorkflow")
	fl.StringVar(&o.Arch, "arch", "", "node architecture: arm64 (Graviton) or amd64")
	fl.BoolVar(&o.Spot, "spot", false, "run on Spot capacity only (affinity and tolerations)")
	fl.StringVar(&o.CPU, "cpu", "1", "CPU `request`")
	fl.StringVar(&o.Memory, "memory", "2Gi", "memory `request` (and limit unless --memory-limit)")
	fl.StringVar(&o.MemoryLimit, "memory-limit", "", "memory `limit`")
	fl.StringVar(&o.Storage, "storage", "10Gi", "`size` of a data directory volume claim")
	fl.StringVar(&o.StorageClass, "storage-class", "", "storage `class` of the volume claims (default: the cluster's)")
	fl.StringVar(&o.DataClaim, "data-pvc", "", "existing PersistentVolumeClaim `name` for the data directory")
	fl.StringVar(&o.ScriptURI, "script-uri", "", "s3:// `prefix` the scripts were copied to: pods read them there instead of from a ConfigMap")
	fl.IntVar(&o.Retries, "retries", 2, "Job backoffLimit / Argo step retry `limit`")
}

func newDeployK8sCmd(sys *system) *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "k8s FILE...",
		Short: "Write Kubernetes manifests: a Job (or CronJob) per batch script, a StatefulSet per pipeline",
		Long: `k8s writes one YAML stream for kubectl apply: a ServiceAccount (annotated
for IRSA with --role-arn), and per script a ConfigMap holding it and

  - for a batch script, a Job (a CronJob with --schedule) running
    etlc run, with the --param values as ETL_PARAM_<NAME> variables;
  - for a script with pipelines, a headless Service and a StatefulSet with
    one replica and a PersistentVolumeClaim for its data directory (state
    and checkpoints), probed on /healthz and /readyz.

Every pod runs as the image's non-root user with a read-only root file
system, no privilege escalation and no capabilities (the restricted Pod
Security Standard).`,
		Example: `  etlc deploy k8s --role-arn arn:aws:iam::123456789012:role/etl \
    --arch arm64 --spot --schedule '0 2 * * *' -p bucket=my-bucket job.sql | kubectl apply -f -
  etlc deploy k8s -o pipelines.yaml examples/streaming/revenue_per_minute.sql`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeploy(cmd.Context(), sys, f, args, func(scripts []*deploy.Script) ([]byte, error) {
				return deploy.K8s(scripts, f.opts)
			})
		},
	}
	addManifestFlags(cmd, f)
	return cmd
}

func newDeployArgoCmd(sys *system) *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "argo FILE...",
		Short: "Write an Argo WorkflowTemplate whose DAG follows the scripts' data",
		Long: `argo writes a ServiceAccount, a ConfigMap with the scripts and an Argo
Workflows WorkflowTemplate (and a CronWorkflow with --schedule). Each
script is a step; a script that reads what another writes (the same managed
table, the same path or a path under it) runs after it, and scripts without
such a relation run in parallel. Each step retries on failure (--retries,
exponential back-off) and takes the script's parameters as inputs. Scripts
that depend on each other in a cycle are an error naming them.

The steps share one data directory: a volume claim of the workflow, or
--data-pvc (ReadWriteMany, e.g. EFS, when parallel steps may land on
different nodes).`,
		Example: `  etlc deploy argo --name scd2 examples/scd2/initial_load.sql \
    examples/scd2/delta_load.sql examples/scd2/merge.sql | kubectl apply -f -
  argo submit --from workflowtemplate/scd2 -p output_dir=s3://my-bucket/curated`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeploy(cmd.Context(), sys, f, args, func(scripts []*deploy.Script) ([]byte, error) {
				d, err := deploy.BuildDAG(scripts)
				if err != nil {
					return nil, err
				}
				return deploy.Argo(d, f.opts)
			})
		},
	}
	addManifestFlags(cmd, f)
	cmd.Flags().StringVar(&f.opts.Name, "name", "", "`name` of the WorkflowTemplate (default: the first script's)")
	return cmd
}

func newDeployIAMCmd(sys *system) *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "iam-policy FILE...",
		Short: "Print the least-privilege IAM policy for the scripts' S3 paths and Glue tables",
		Long: `iam-policy prints the IAM policy JSON a pod running the scripts needs:
s3:GetObject on what the sources read, Get/Put/DeleteObject on the sink
paths, s3:ListBucket limited to those prefixes, and the Glue calls that
register sinks declared with catalog = 'glue'. Attach it to the role given
to etlc deploy --role-arn.`,
		Example: `  etlc deploy iam-policy -p bucket=my-bucket --region eu-west-1 --account 123456789012 job.sql`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeploy(cmd.Context(), sys, f, args, func(scripts []*deploy.Script) ([]byte, error) {
				return deploy.IAMPolicy(scripts, deploy.PolicyOptions{Region: f.region, Account: f.account})
			})
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.params, "param", "p", nil, "set parameter `name=value` (repeatable)")
	fl.StringVarP(&f.output, "output", "o", "-", "write the policy to `file` (\"-\" for standard output)")
	fl.StringVar(&f.region, "region", "", "AWS `region` of the Glue catalog (default: any)")
	fl.StringVar(&f.account, "account", "", "AWS `account` id of the Glue catalog (default: any)")
	return cmd
}

// runDeploy reads and analyzes the scripts, makes the document and writes it.
func runDeploy(ctx context.Context, sys *system, f *deployFlags, args []string, make func([]*deploy.Script) ([]byte, error)) error {
	params, err := parseParams(f.params)
	if err != nil {
		return err
	}
	f.opts.Params = params
	for _, a := range args {
		if a == "-" {
			return errors.New("deploy needs script files (their names name the Kubernetes objects), not standard input")
		}
	}
	inputs, err := readInputs(ctx, sys.stdin, args)
	if err != nil {
		return &ioError{err}
	}
	var scripts []*deploy.Script
	failed := false
	for _, in := range inputs {
		s, err := deploy.Analyze(in.name, in.text, parser.Options{Params: params, LookupEnv: sys.lookupEnv})
		var se *deploy.ScriptError
		if errors.As(err, &se) {
			fmt.Fprintln(sys.stderr, se.Text)
			failed = true
			continue
		}
		if err != nil {
			return err
		}
		scripts = append(scripts, s)
	}
	if failed {
		return &exitError{code: exitErrors}
	}
	out, err := make(scripts)
	var ce *deploy.CycleError
	if errors.As(err, &ce) {
		fmt.Fprintf(sys.stderr, "etlc: %v\n", ce)
		return &exitError{code: exitErrors}
	}
	if err != nil {
		return err
	}
	if f.output == "" || f.output == "-" {
		_, err := sys.stdout.Write(out)
		return err
	}
	tmp := f.output + ".tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return &ioError{fmt.Errorf("cannot write %s: %w", f.output, unwrapPathError(err))}
	}
	if err := os.Rename(tmp, f.output); err != nil {
		os.Remove(tmp)
		return &ioError{fmt.Errorf("cannot write %s: %w", f.output, unwrapPathError(err))}
	}
	return nil
}
