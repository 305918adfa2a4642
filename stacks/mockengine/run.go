package mockengine

import (
	"context"

	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// RunStack runs program for one stack file with the mock engine and returns
// the mocks holding every registration. region is the AWS region the mocks
// put in ARNs and endpoints.
func RunStack(program pulumi.RunFunc, project, region string, sf stackfile.File) (*Mocks, error) {
	m := New(project, sf.Stack, region)
	err := pulumi.RunErr(program, m.RunOption(sf.Values, sf.SecretKeys))
	return m, err
}

// Awaited is an output's resolved value and secretness.
type Awaited struct {
	Value  any
	Known  bool
	Secret bool
}

// Await resolves an output after the program has run (for tests).
func Await(o pulumi.Output) (Awaited, error) {
	r, err := internals.UnsafeAwaitOutput(context.Background(), o)
	return Awaited{Value: r.Value, Known: r.Known, Secret: r.Secret}, err
}

// Run runs program with fresh mocks for a stack in region, with no config.
func Run(t interface{ Helper() }, project, stack, region string, program pulumi.RunFunc) (*Mocks, error) {
	t.Helper()
	m := New(project, stack, region)
	return m, pulumi.RunErr(program, m.RunOption(nil, nil))
}
