package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// keyInputs are the few inputs worth showing per type in the text plan.
var keyInputs = map[string][]string{
	"pulumi:providers:aws":                        {"region"},
	"aws:ec2/vpc:Vpc":                             {"cidrBlock"},
	"aws:ec2/subnet:Subnet":                       {"availabilityZone", "cidrBlock"},
	"aws:ec2/flowLog:FlowLog":                     {"trafficType"},
	"aws:cloudwatch/logGroup:LogGroup":            {"name", "retentionInDays"},
	"aws:kms/key:Key":                             {"enableKeyRotation", "deletionWindowInDays"},
	"aws:kms/alias:Alias":                         {"name"},
	"aws:ec2/securityGroupRule:SecurityGroupRule": {"type", "protocol", "self", "cidrBlocks"},
	"aws:ec2/launchTemplate:LaunchTemplate":       {"blockDeviceMappings"},
	"aws:eks/addon:Addon":                         {"addonName", "addonVersion"},
	"eks:index:Cluster": {"name", "version", "endpointPrivateAccess", "endpointPublicAccess", "publicAccessCidrs",
		"authenticationMode", "enabledClusterLogTypes"},
	"eks:index:ManagedNodeGroup":                {"nodeGroupName", "instanceTypes", "scalingConfig", "amiType", "labels", "taints"},
	"kubernetes:storage.k8s.io/v1:StorageClass": {"provisioner", "parameters"},
	// The add-ons: pinned charts, Pod Identity, the zone and the bucket.
	"kubernetes:helm.sh/v3:Release":                         {"chart", "version", "namespace"},
	"aws:eks/podIdentityAssociation:PodIdentityAssociation": {"namespace", "serviceAccount"},
	"aws:route53/zone:Zone":                                 {"name"},
	"aws:s3/bucketV2:BucketV2":                              {"bucket"},
	"kubernetes:cert-manager.io/v1:Certificate":             {"spec"},
}

// renderText prints a plan as an indented tree of resources with their key
// inputs, and a summary line.
func renderText(w io.Writer, p Plan) {
	fmt.Fprintf(w, "Stack %s (environment %s, region %s)\n", p.Stack, p.Config.Environment, p.Config.Region)
	children := map[string][]mockengine.Resource{}
	known := map[string]bool{}
	for _, r := range p.Resources {
		known[r.URN] = true
	}
	for _, r := range p.Resources {
		parent := r.Parent
		if !known[parent] {
			parent = ""
		}
		children[parent] = append(children[parent], r)
	}
	for _, list := range children {
		// Registration order depends on goroutine scheduling; sort siblings so
		// the same config always prints the same plan.
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].Type != list[j].Type {
				return list[i].Type < list[j].Type
			}
			return list[i].Name < list[j].Name
		})
	}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, r := range children[parent] {
			var flags []string
			if r.Protect {
				flags = append(flags, "protected")
			}
			if r.RetainOnDelete {
				flags = append(flags, "retained on delete")
			}
			line := fmt.Sprintf("%s+ %s  %s", strings.Repeat("    ", depth), r.Type, r.Name)
			if len(flags) > 0 {
				line += "  [" + strings.Join(flags, ", ") + "]"
			}
			fmt.Fprintln(w, line)
			for _, key := range keyInputs[r.Type] {
				if v, ok := r.Inputs[resource.PropertyKey(key)]; ok {
					text, _ := json.Marshal(mockengine.Plain(v))
					fmt.Fprintf(w, "%s      %s: %s\n", strings.Repeat("    ", depth), key, text)
				}
			}
			walk(r.URN, depth+1)
		}
	}
	walk("", 1)
	protected := 0
	for _, r := range p.Resources {
		if r.Protect {
			protected++
		}
	}
	fmt.Fprintf(w, "Resources: %d to create (%d protected)\n\n", len(p.Resources), protected)
}

// previewJSON has the shape of `pulumi preview --json`.
type previewJSON struct {
	Steps         []stepJSON     `json:"steps"`
	ChangeSummary map[string]int `json:"changeSummary"`
}

type stepJSON struct {
	Op       string    `json:"op"`
	URN      string    `json:"urn"`
	Type     string    `json:"type"`
	Provider string    `json:"provider,omitempty"`
	NewState stateJSON `json:"newState"`
}

type stateJSON struct {
	URN            string         `json:"urn"`
	Type           string         `json:"type"`
	Custom         bool           `json:"custom"`
	ID             string         `json:"id,omitempty"`
	Parent         string         `json:"parent,omitempty"`
	Provider       string         `json:"provider,omitempty"`
	Protect        bool           `json:"protect,omitempty"`
	RetainOnDelete bool           `json:"retainOnDelete,omitempty"`
	Dependencies   []string       `json:"dependencies,omitempty"`
	Inputs         map[string]any `json:"inputs"`
}

// toPreviewJSON converts a plan to the preview JSON shape, secrets masked.
func toPreviewJSON(p Plan) previewJSON {
	out := previewJSON{ChangeSummary: map[string]int{"create": len(p.Resources)}}
	resources := append([]mockengine.Resource(nil), p.Resources...)
	sort.Slice(resources, func(i, j int) bool { return resources[i].URN < resources[j].URN })
	for _, r := range resources {
		out.Steps = append(out.Steps, stepJSON{
			Op: "create", URN: r.URN, Type: r.Type, Provider: r.Provider,
			NewState: stateJSON{
				URN: r.URN, Type: r.Type, Custom: r.Custom, Parent: r.Parent, Provider: r.Provider,
				Protect: r.Protect, RetainOnDelete: r.RetainOnDelete, Dependencies: r.DependsOn,
				Inputs: mockengine.PlainMap(r.Inputs),
			},
		})
	}
	return out
}
