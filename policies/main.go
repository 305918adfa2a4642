// Command policies is the BAC compliance policy pack, run by the Pulumi CLI:
//
//	pulumi preview --policy-pack policies
//
// The rules live in package rules; the offline plan (cmd/bacplan) runs the
// same rules without the CLI.
package main

import (
	"fmt"
	"os"

	"github.com/bac-platform/infra/policies/rules"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

func main() {
	err := policyx.Main(func(*pulumi.Context) (policyx.PolicyPack, error) { return rules.Pack() })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
