package pipeline_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks/pipeline"
)

// writeFlows writes workflow files into a temporary repository root.
func writeFlows(t *testing.T, flows map[string]string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, pipeline.WorkflowDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range flows {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const (
	upOn = `on: {workflow_call: {inputs: {stack: {type: string}}}}
jobs:
  up:
    runs-on: RUNS_ON
    steps:
      - uses: pulumi/actions@cc7494be991dba0978f7ffafaf995b0449a0998e
        with: {command: up, stack-name: "${{ inputs.stack }}"}
`
	deploy = `on: push
jobs:
  prod:
    uses: ./.github/workflows/up.yml
    with: {stack: prod-us-east-1}
`
	drift = `on: schedule
jobs:
  drift:
    runs-on: RUNS_ON
    strategy: {matrix: {include: [{stack: prod-us-east-1, region: us-east-1}]}}
    steps:
      - run: pulumi preview --refresh --expect-no-changes
`
	lint = `on: push
jobs:
  lint:
    runs-on: ubuntu-24.04
    strategy: {matrix: {stack: [prod-us-east-1]}}
    steps:
      - run: make test
`
)

func TestEveryPulumiJobReachesItsCluster(t *testing.T) {
	private := map[string]pipeline.Stack{"prod-us-east-1": {OnAWS: true}}
	for _, tc := range []struct {
		name   string
		flows  map[string]string
		stacks map[string]pipeline.Stack
		want   []string
	}{
		{"in-VPC runner through a reusable workflow",
			map[string]string{"up.yml": strings.Replace(upOn, "RUNS_ON", `[self-hosted, linux, "bac-${{ inputs.stack }}"]`, 1), "deploy.yml": deploy},
			private, nil},
		{"hosted runner through a reusable workflow",
			map[string]string{"up.yml": strings.Replace(upOn, "RUNS_ON", "ubuntu-24.04", 1), "deploy.yml": deploy},
			private, []string{".github/workflows/deploy.yml: jobs.prod (up.yml: jobs.up): runs pulumi against prod-us-east-1 on [ubuntu-24.04]"}},
		{"self-hosted runner of another stack",
			map[string]string{"up.yml": strings.Replace(upOn, "RUNS_ON", `[self-hosted, bac-staging-us-east-1]`, 1), "deploy.yml": deploy},
			private, []string{"runs pulumi against prod-us-east-1 on [self-hosted bac-staging-us-east-1]"}},
		{"hosted drift job over a matrix",
			map[string]string{"nightly.yml": strings.Replace(drift, "RUNS_ON", "ubuntu-24.04", 1)},
			private, []string{".github/workflows/nightly.yml: jobs.drift: runs pulumi against prod-us-east-1"}},
		{"in-VPC drift job",
			map[string]string{"nightly.yml": strings.Replace(drift, "RUNS_ON", `[self-hosted, "bac-${{ matrix.stack }}"]`, 1)},
			private, nil},
		{"hosted runner admitted by runnerCidrs",
			map[string]string{"nightly.yml": strings.Replace(drift, "RUNS_ON", "ubuntu-24.04", 1)},
			map[string]pipeline.Stack{"prod-us-east-1": {OnAWS: true, RunnerCIDRs: []string{"203.0.113.0/28"}}}, nil},
		{"a stack on an existing cluster", map[string]string{"nightly.yml": strings.Replace(drift, "RUNS_ON", "ubuntu-24.04", 1)},
			map[string]pipeline.Stack{"prod-us-east-1": {}}, nil},
		{"a job that does not run pulumi", map[string]string{"ci.yml": lint}, private, nil},
		{"a call to a missing workflow", map[string]string{"deploy.yml": deploy}, private,
			[]string{"calls ./.github/workflows/up.yml, which does not exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := pipeline.Check(writeFlows(t, tc.flows), tc.stacks)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != len(tc.want) {
				t.Fatalf("problems = %v, want %d like %q", ps, len(tc.want), tc.want)
			}
			for i, want := range tc.want {
				if !strings.Contains(ps[i].String(), want) {
					t.Errorf("problem %q lacks %q", ps[i], want)
				}
			}
		})
	}
}

// TestTheRepositoryWorkflowsReachEveryStack: the shipped workflows, with
// the shipped stacks' endpoints (none admits a hosted runner).
func TestTheRepositoryWorkflowsReachEveryStack(t *testing.T) {
	stacks := map[string]pipeline.Stack{}
	for _, s := range []string{"prod-us-east-1", "prod-eu-west-1", "staging-us-east-1", "staging-eu-west-1"} {
		stacks[s] = pipeline.Stack{OnAWS: true}
	}
	ps, err := pipeline.Check("../..", stacks)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Error(p)
	}
}
