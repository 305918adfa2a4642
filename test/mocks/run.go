package mocks

import (
	"github.com/bac-platform/infra/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RunStack runs program for one stack file with the mock engine and returns
// the mocks holding every registration. region is the AWS region the mocks
// put in ARNs and endpoints.
func RunStack(program pulumi.RunFunc, project, region string, sf stacks.StackFile) (*Mocks, error) {
	m := New(project, sf.Stack, region)
	err := pulumi.RunErr(program, m.RunOption(sf.Values, sf.SecretKeys))
	return m, err
}
