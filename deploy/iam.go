package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Policy is an IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Policy.
type Statement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Action    []string                       `json:"Action"`
	Resource  []string                       `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// PolicyOptions say where the Glue catalog is; "*" (any) when empty.
type PolicyOptions struct {
	Region, Account string
}

// s3Location is a bucket and key prefix.
type s3Location struct{ bucket, prefix string }

// s3Locations returns the S3 locations of paths (local paths are left out),
// as bucket and prefix without the glob part.
func s3Locations(paths []string) []s3Location {
	var out []s3Location
	for _, p := range paths {
		p = pathPrefix(p, false)
		rest, ok := strings.CutPrefix(p, "s3://")
		if !ok {
			continue
		}
		bucket, prefix, _ := strings.Cut(rest, "/")
		l := s3Location{bucket, prefix}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b s3Location) int {
		return cmpString(a.bucket+"/"+a.prefix, b.bucket+"/"+b.prefix)
	})
	return out
}

// objectARN is the ARN of the objects under a location: a directory prefix
// gets a trailing *, a single object stays itself (and its siblings with a
// longer name, which a prefix cannot exclude).
func (l s3Location) objectARN() string {
	return "arn:aws:s3:::" + l.bucket + "/" + l.prefix + "*"
}

// IAMPolicy derives the least-privilege policy a pod running the scripts
// needs: GetObject on what the sources read, Get/Put/DeleteObject on the
// sink paths and error paths (a sink stages, renames and keeps a manifest
// there), ListBucket on the buckets restricted to those prefixes, and the
// Glue calls that register the sinks with catalog = 'glue'. Managed tables
// live in the data directory and need nothing.
func IAMPolicy(scripts []*Script, o PolicyOptions) ([]byte, error) {
	if len(scripts) == 0 {
		return nil, errNoScripts
	}
	var srcPaths, dstPaths []string
	var glue []GlueTable
	for _, s := range scripts {
		srcPaths = append(srcPaths, s.SourcePaths...)
		dstPaths = append(dstPaths, s.SinkPaths...)
		dstPaths = append(dstPaths, s.ErrorPaths...)
		for _, g := range s.Glue {
			if !slices.Contains(glue, g) {
				glue = append(glue, g)
			}
		}
	}
	reads, writes := s3Locations(srcPaths), s3Locations(dstPaths)
	var p Policy
	p.Version = "2012-10-17"

	// ListBucket per bucket, limited to the prefixes read or written.
	prefixes := map[string][]string{}
	for _, l := range append(slices.Clone(reads), writes...) {
		for _, pre := range []string{l.prefix, l.prefix + "*"} {
			if !slices.Contains(prefixes[l.bucket], pre) {
				prefixes[l.bucket] = append(prefixes[l.bucket], pre)
			}
		}
	}
	buckets := make([]string, 0, len(prefixes))
	for b := range prefixes {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	for i, b := range buckets {
		pre := prefixes[b]
		slices.Sort(pre)
		p.Statement = append(p.Statement, Statement{
			Sid: fmt.Sprintf("ListPrefixes%d", i+1), Effect: "Allow",
			Action:    []string{"s3:ListBucket"},
			Resource:  []string{"arn:aws:s3:::" + b},
			Condition: map[string]map[string][]string{"StringLike": {"s3:prefix": pre}},
		})
	}
	if len(reads) > 0 {
		st := Statement{Sid: "ReadSources", Effect: "Allow", Action: []string{"s3:GetObject"}}
		for _, l := range reads {
			st.Resource = append(st.Resource, l.objectARN())
		}
		p.Statement = append(p.Statement, st)
	}
	if len(writes) > 0 {
		st := Statement{Sid: "WriteSinks", Effect: "Allow",
			Action: []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"}}
		for _, l := range writes {
			st.Resource = append(st.Resource, l.objectARN())
		}
		p.Statement = append(p.Statement, st)
	}
	if len(glue) > 0 {
		region, account := o.Region, o.Account
		if region == "" {
			region = "*"
		}
		if account == "" {
			account = "*"
		}
		arn := "arn:aws:glue:" + region + ":" + account + ":"
		st := Statement{Sid: "RegisterGlueTables", Effect: "Allow", Action: []string{
			"glue:BatchCreatePartition", "glue:BatchDeletePartition", "glue:CreateTable",
			"glue:GetDatabase", "glue:GetPartitions", "glue:GetTable", "glue:UpdateTable",
		}, Resource: []string{arn + "catalog"}}
		slices.SortFunc(glue, func(a, b GlueTable) int { return cmpString(a.Database+"."+a.Table, b.Database+"."+b.Table) })
		for _, g := range glue {
			db := arn + "database/" + g.Database
			if !slices.Contains(st.Resource, db) {
				st.Resource = append(st.Resource, db)
			}
			st.Resource = append(st.Resource, arn+"table/"+g.Database+"/"+g.Table)
		}
		p.Statement = append(p.Statement, st)
	}
	if len(p.Statement) == 0 {
		return nil, fmt.Errorf("the scripts read and write no S3 path and register no Glue table: they need no IAM policy")
	}
	out, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
