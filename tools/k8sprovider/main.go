// Command pulumi-resource-kubernetes is the real pulumi-kubernetes provider,
// built from its Go module at the version go.mod pins, for the real-engine
// test of the local stack (test/kubeengine). The module serves the provider's
// package but not its command's embedded schema: `make tools` generates
// schema-embed.json and terraform-mapping-embed.json from the module's own
// schema.json and terraform-mapping.json (tools/k8sprovider/embed) into a
// build directory under bin/, next to a copy of this file, and builds there.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
