//go:build tools

// Package tools pins the pulumi CLI the engine tests drive; `make tools`
// builds it into ../bin.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
