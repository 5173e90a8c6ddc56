// Package deploy turns etlc scripts into what runs them on Kubernetes:
// Jobs, CronJobs and StatefulSets (K8s), Argo Workflows templates whose
// DAG follows the data the scripts pass to each other (BuildDAG, Argo), and
// the least-privilege IAM policy for their S3 paths and Glue tables
// (IAMPolicy). It works from the parsed scripts alone: no cluster, no
// network.
package deploy
