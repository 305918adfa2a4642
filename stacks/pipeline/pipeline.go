// Package pipeline checks that the delivery workflows can reach the
// clusters they deploy: a job that runs pulumi against a stack whose API
// endpoint admits no hosted runner must run on a runner inside that
// stack's VPC, which uses the private endpoint.
package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/validate"
	"gopkg.in/yaml.v3"
)

// WorkflowDir is where the workflows live, below the repository root.
const WorkflowDir = ".github/workflows"

// RunnerLabel is the label of the self-hosted runners that sit in a
// stack's VPC (private subnets): they reach its cluster's private endpoint.
func RunnerLabel(stack string) string { return "bac-" + stack }

// Stack is what the check needs to know of one stack.
type Stack struct {
	// OnAWS is false for stacks on an existing cluster (nothing to reach
	// through an EKS endpoint).
	OnAWS bool
	// RunnerCIDRs are the hosted runners' egress addresses the public
	// endpoint admits (bac:cluster.runnerCidrs); empty means the runners
	// must sit in the VPC.
	RunnerCIDRs []string
}

// workflow is the part of a GitHub Actions workflow the check reads.
type workflow struct {
	Jobs map[string]job `yaml:"jobs"`
}

type job struct {
	RunsOn   yaml.Node      `yaml:"runs-on"`
	Uses     string         `yaml:"uses"`
	With     map[string]any `yaml:"with"`
	Strategy struct {
		Matrix struct {
			Stack   []string            `yaml:"stack"`
			Include []map[string]string `yaml:"include"`
		} `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []step `yaml:"steps"`
}

type step struct {
	Uses string         `yaml:"uses"`
	With map[string]any `yaml:"with"`
	Run  string         `yaml:"run"`
}

// pulumiCommands are the commands that talk to the cluster's API.
var pulumiCommands = []string{"up", "preview", "refresh", "destroy"}

// reachesCluster reports whether a job runs pulumi against its stack.
func (j job) reachesCluster() bool {
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "pulumi/actions@") && slices.Contains(pulumiCommands, fmt.Sprint(s.With["command"])) {
			return true
		}
		for _, c := range pulumiCommands {
			if strings.Contains(s.Run, "pulumi "+c) {
				return true
			}
		}
	}
	return false
}

// stacks are the stacks a job runs for, with the expression that names
// the stack inside the job (matrix.stack); none for a job of no matrix.
func (j job) stacks() []string {
	out := slices.Clone(j.Strategy.Matrix.Stack)
	for _, inc := range j.Strategy.Matrix.Include {
		if s := inc["stack"]; s != "" {
			out = append(out, s)
		}
	}
	return out
}

// labels are the job's runs-on labels with the stack expression given.
func (j job) labels(expr, stack string) []string {
	var raw []string
	switch j.RunsOn.Kind {
	case yaml.ScalarNode:
		raw = []string{j.RunsOn.Value}
	case yaml.SequenceNode:
		for _, n := range j.RunsOn.Content {
			raw = append(raw, n.Value)
		}
	}
	out := make([]string, len(raw))
	for i, l := range raw {
		for _, form := range []string{"${{ " + expr + " }}", "${{" + expr + "}}"} {
			l = strings.ReplaceAll(l, form, stack)
		}
		out[i] = l
	}
	return out
}

// Check reads the workflows below root and returns a problem for every
// job that runs pulumi against a stack it cannot reach: a stack on AWS
// whose public endpoint admits no runner must be deployed, previewed and
// checked for drift from a self-hosted runner labelled RunnerLabel(stack).
func Check(root string, stacks map[string]Stack) (validate.Problems, error) {
	dir := filepath.Join(root, WorkflowDir)
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		return nil, err
	}
	flows := map[string]workflow{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var w workflow
		if err := yaml.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		flows[filepath.Base(f)] = w
	}
	var ps validate.Problems
	check := func(where string, j job, expr, stack string) {
		s, known := stacks[stack]
		if !known || !s.OnAWS || len(s.RunnerCIDRs) > 0 || !j.reachesCluster() {
			return
		}
		labels := j.labels(expr, stack)
		if !slices.Contains(labels, "self-hosted") || !slices.Contains(labels, RunnerLabel(stack)) {
			ps.Add(where, "runs pulumi against %s on %v, which cannot reach its cluster: the API endpoint admits no hosted runner (bac:cluster.runnerCidrs is empty), so the job must run on a runner in the VPC: runs-on [self-hosted, %s]",
				stack, labels, RunnerLabel(stack))
		}
	}
	for _, name := range sortedKeys(flows) {
		w := flows[name]
		for _, jobName := range sortedKeys(w.Jobs) {
			j := w.Jobs[jobName]
			where := WorkflowDir + "/" + name + ": jobs." + jobName
			if called, ok := strings.CutPrefix(j.Uses, "./"+WorkflowDir+"/"); ok {
				// A reusable workflow called for one stack (with.stack).
				callee, found := flows[called]
				if !found {
					ps.Add(where, "calls %s, which does not exist", j.Uses)
					continue
				}
				for _, inner := range sortedKeys(callee.Jobs) {
					check(where+" ("+called+": jobs."+inner+")", callee.Jobs[inner], "inputs.stack", fmt.Sprint(j.With["stack"]))
				}
				continue
			}
			for _, stack := range j.stacks() {
				check(where, j, "matrix.stack", stack)
			}
		}
	}
	return ps, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
