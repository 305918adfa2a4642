package simulate

import (
	"testing"

	"github.com/bac-platform/infra/policies/rules"
	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// programClusterInputs are the inputs the real program gives the pulumi-eks
// Cluster of a stack (the offline plan's registration).
func programClusterInputs(t *testing.T, stack string) resource.PropertyMap {
	t.Helper()
	const root = "../../.."
	project, err := stackfile.ProjectName(root)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := stackfile.Read(root, project, stack)
	if err != nil {
		t.Fatal(err)
	}
	offline, ps := stacks.PrepareOffline(sf)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	m, err := mockengine.RunStack(stacks.Program, project, offline.Config.Region, offline.File)
	if err != nil {
		t.Fatal(err)
	}
	clusters := m.ByType("eks:index:Cluster")
	if len(clusters) != 1 {
		t.Fatalf("%d eks clusters in %s", len(clusters), stack)
	}
	return clusters[0].Inputs.Copy()
}

// renderChildren renders the Cluster component's children with the mock
// engine and returns them as the rules see them.
func renderChildren(t *testing.T, inputs resource.PropertyMap) map[string]rules.Resource {
	t.Helper()
	in := pulumi.Map{}
	for k, v := range inputs {
		var value pulumi.Input = pulumi.Any(goValue(v))
		if v.IsSecret() {
			value = pulumi.ToSecret(goValue(v))
		}
		in[string(k)] = value
	}
	m := mockengine.New("bac", "prod", "us-east-1")
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		comp := &component{}
		if err := ctx.RegisterComponentResource("eks:index:Cluster", "bac", comp); err != nil {
			return err
		}
		_, err := clusterChildren(ctx, "bac", in, false, comp)
		return err
	}, m.RunOption(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]rules.Resource{}
	for _, r := range m.Resources() {
		if r.Custom {
			out[r.Name] = rules.FromProperties(r.URN, r.Type, r.Name, r.Parent, r.Inputs, nil)
		}
	}
	return out
}

// TestClusterChildrenAsUpstreamRendersThem renders the children of the
// program's real eks Cluster inputs as pulumi-eks's createCore does, and
// judges the children alone (as the engine suite does: a remote component
// keeps no inputs in state). The children are not a copy of the values the
// rules read on the component: upstream adds its own service role,
// security group and open egress rule, derives the encryption config from
// the key ARN as a whole, merges tags under a Name tag and does not default
// the endpoint flags; each row fails if the rendering or the rules stop
// seeing a non-compliant child. (An unknown key ARN is covered through the
// real engine, TestFreshStackPreviewPassesTheGate: the SDK's mock monitor
// drops unknown inputs.)
func TestClusterChildrenAsUpstreamRendersThem(t *testing.T) {
	program := programClusterInputs(t, "prod-us-east-1")
	tests := []struct {
		name string
		edit func(resource.PropertyMap)
		// violations are the mandatory rules the children must fail.
		violations []string
		// violators are the children that must fail, when given.
		violators []string
		// componentPasses: the rules pass the component's own inputs.
		componentPasses bool
	}{
		{name: "the program's inputs", edit: func(resource.PropertyMap) {}},
		{name: "no key ARN: no encryption config", edit: func(in resource.PropertyMap) { delete(in, "encryptionConfigKeyArn") },
			violations: []string{"encryption-eks-secrets"}},
		{name: "known-empty key ARN", edit: func(in resource.PropertyMap) { in["encryptionConfigKeyArn"] = resource.NewProperty("") },
			violations: []string{"encryption-eks-secrets"}},
		{name: "endpoint flags left to upstream's defaults", edit: func(in resource.PropertyMap) {
			delete(in, "endpointPublicAccess")
			delete(in, "publicAccessCidrs")
		}, violations: []string{"network-eks-endpoint"}},
		// The rule reads the component's tags and clusterTags together, so
		// the component passes; upstream tags its service role and security
		// group from tags alone, so those children do not.
		{name: "required tags only in clusterTags", edit: func(in resource.PropertyMap) { delete(in, "tags") },
			violations: []string{"operability-required-tags"}, componentPasses: true,
			violators: []string{"bac-eksRole-role", "bac-eksClusterSecurityGroup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := program.Copy()
			tt.edit(in)
			children := renderChildren(t, in)
			for _, want := range []string{"bac-eksRole-role", "bac-eksClusterSecurityGroup", "bac-eksClusterInternetEgressRule", "bac-eksCluster"} {
				if _, ok := children[want]; !ok {
					t.Errorf("upstream's child %s is not rendered (rendered: %v)", want, keys(children))
				}
			}
			cluster := children["bac-eksCluster"]
			if tags, _ := cluster.Get("tags").(map[string]any); tags["Name"] != "bac-eksCluster" {
				t.Errorf("cluster tags %v: upstream adds the Name tag", tags)
			}
			if egress := children["bac-eksClusterInternetEgressRule"]; rules.Lookup(egress.Props, "cidrBlocks[0]") != "0.0.0.0/0" {
				t.Errorf("egress rule %v", egress.Props)
			}
			var rs []rules.Resource
			for _, r := range children {
				rs = append(rs, r)
			}
			res := rules.Evaluate(rs, nil)
			failed := map[string]bool{}
			for _, v := range res.Mandatory() {
				failed[v.Rule.Name] = true
			}
			for _, want := range tt.violations {
				if !failed[want] {
					t.Errorf("the children pass %s", want)
				}
			}
			for _, name := range tt.violators {
				found := false
				for _, v := range res.Mandatory() {
					found = found || v.URN == children[name].URN
				}
				if !found {
					t.Errorf("child %s passes", name)
				}
			}
			if tt.componentPasses {
				comp := rules.FromProperties("urn:pulumi:prod::bac::eks:index:Cluster::bac", "eks:index:Cluster", "bac", "", in, nil)
				for _, v := range rules.Evaluate([]rules.Resource{comp}, nil).Mandatory() {
					t.Errorf("test premise: the component's own inputs fail: %s", v.Format())
				}
			}
			if len(tt.violations) == 0 {
				for _, v := range res.Mandatory() {
					t.Errorf("children: %s", v.Format())
				}
			}
		})
	}
}

func keys(m map[string]rules.Resource) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
