// Command bac-platform is the Pulumi program of every region stack; see
// README.md. All of the work is in package stacks.
package main

import (
	"github.com/bac-platform/infra/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() { pulumi.Run(stacks.Program) }
