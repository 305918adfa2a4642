// Package test holds the cross-package tests: every stack file in the
// repository run through the real program with the mock engine.
package test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// repoRoot is where Pulumi.yaml and the stack files live.
const repoRoot = ".."

// stackRun is one stack file run through the program with mockengine.
type stackRun struct {
	file    stackfile.File
	config  stacks.Config
	mocks   *mockengine.Mocks
	outputs map[string]mockengine.Awaited
}

func runStack(t *testing.T, name string) stackRun {
	t.Helper()
	project, err := stackfile.ProjectName(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := stackfile.Read(repoRoot, project, name)
	if err != nil {
		t.Fatal(err)
	}
	offline, ps := stacks.PrepareOffline(sf)
	if len(ps) != 0 {
		t.Fatalf("stack %s: %v", name, ps)
	}
	sf, cfg := offline.File, offline.Config
	var outs map[string]pulumi.Input
	program := func(ctx *pulumi.Context) error {
		cfg, ps := stacks.Parse(stacks.ReadConfig(ctx))
		if err := ps.Err(); err != nil {
			return err
		}
		p, err := stacks.Deploy(ctx, cfg, stacks.ReadSecrets(ctx, cfg))
		if err != nil {
			return err
		}
		outs = p.Outputs()
		return nil
	}
	m, err := mockengine.RunStack(program, project, cfg.Region, sf)
	if err != nil {
		t.Fatalf("stack %s: %v", name, err)
	}
	run := stackRun{file: sf, config: cfg, mocks: m, outputs: map[string]mockengine.Awaited{}}
	for k, v := range outs {
		a, err := mockengine.Await(pulumi.ToOutput(v))
		if err != nil {
			t.Fatalf("output %s: %v", k, err)
		}
		run.outputs[k] = a
	}
	return run
}

func stackNames(t *testing.T) []string {
	t.Helper()
	names, err := stackfile.Names(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 4 {
		t.Fatalf("stack files = %v, want the prod and staging stacks of both regions", names)
	}
	return names
}

// awsStackNames are the stacks that build their own network and EKS cluster.
func awsStackNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, n := range stackNames(t) {
		if n != "local" {
			names = append(names, n)
		}
	}
	return names
}

func find(t *testing.T, m *mockengine.Mocks, typ, name string) mockengine.Resource {
	t.Helper()
	r, ok := m.Find(typ, name)
	if !ok {
		t.Fatalf("no %s %q", typ, name)
	}
	return r
}

func TestStackFilesArePresent(t *testing.T) {
	want := []string{"local", "prod-eu-west-1", "prod-us-east-1", "staging-eu-west-1", "staging-us-east-1"}
	got := stackNames(t)
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("missing Pulumi.%s.yaml", w)
		}
	}
}

// TestEveryStackClusterControlPlane asserts the section 3.1 control plane for
// every stack file: endpoints, logs, encryption, IRSA, add-ons.
func TestEveryStackClusterControlPlane(t *testing.T) {
	for _, name := range awsStackNames(t) {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			clusterName := run.config.Cluster.Name
			if !strings.HasPrefix(name, strings.Split(clusterName, "-")[1]) || !strings.HasSuffix(clusterName, run.config.Region) {
				t.Errorf("cluster name %q does not match stack %s", clusterName, name)
			}
			eks := find(t, run.mocks, "eks:index:Cluster", clusterName)
			key := find(t, run.mocks, "aws:kms/key:Key", clusterName+"-secrets")
			for path, want := range map[string]any{
				"endpointPrivateAccess":  true,
				"endpointPublicAccess":   true,
				"publicAccessCidrs":      []any{"198.51.100.10/32"},
				"createOidcProvider":     true,
				"authenticationMode":     "API",
				"enabledClusterLogTypes": []any{"api", "audit", "authenticator", "controllerManager", "scheduler"},
				"encryptionConfigKeyArn": key.Outputs["arn"].StringValue(),
				"skipDefaultNodeGroup":   true,
			} {
				if got := eks.Input(path); !reflect.DeepEqual(got, want) {
					t.Errorf("cluster %s = %#v, want %#v", path, got, want)
				}
			}
			if !key.Protect || key.Input("enableKeyRotation") != true {
				t.Error("secrets key must be protected and rotating")
			}
			var addons []string
			for _, a := range run.mocks.ByType("aws:eks/addon:Addon") {
				addons = append(addons, a.Input("addonName").(string))
			}
			if strings.Join(addons, ",") == "" || len(addons) != 5 {
				t.Errorf("add-ons = %v", addons)
			}
			for _, want := range []string{"coredns", "kube-proxy", "vpc-cni", "aws-ebs-csi-driver", "eks-pod-identity-agent"} {
				if !strings.Contains(","+strings.Join(addons, ",")+",", ","+want+",") {
					t.Errorf("add-on %s missing from %v", want, addons)
				}
			}
		})
	}
}

// TestProductionNodePoolsAreTheSeeds: both prod stacks run the seed's pools.
func TestProductionNodePoolsAreTheSeeds(t *testing.T) {
	want := map[string][4]any{ // nodeGroupName, instance type, scaling, disk GiB
		"general": {"general-purpose", "m6i.2xlarge", map[string]any{"minSize": 10.0, "desiredSize": 30.0, "maxSize": 100.0}, 200.0},
		"compute": {"compute-optimized", "c6i.4xlarge", map[string]any{"minSize": 5.0, "desiredSize": 10.0, "maxSize": 50.0}, 500.0},
		"memory":  {"memory-optimized", "r6i.2xlarge", map[string]any{"minSize": 5.0, "desiredSize": 10.0, "maxSize": 30.0}, 500.0},
		"gpu":     {"gpu-nodes", "g5.4xlarge", map[string]any{"minSize": 0.0, "desiredSize": 2.0, "maxSize": 20.0}, 1000.0},
	}
	for _, name := range []string{"prod-us-east-1", "prod-eu-west-1"} {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			cn := run.config.Cluster.Name
			for pool, w := range want {
				g := find(t, run.mocks, "eks:index:ManagedNodeGroup", cn+"-"+pool)
				lt := find(t, run.mocks, "aws:ec2/launchTemplate:LaunchTemplate", cn+"-"+pool)
				got := [4]any{strings.TrimSuffix(g.Input("nodeGroupNamePrefix").(string), "-"), g.Input("instanceTypes[0]"), g.Input("scalingConfig"), lt.Input("blockDeviceMappings[0].ebs.volumeSize")}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("pool %s = %v, want %v", pool, got, w)
				}
				if lt.Input("blockDeviceMappings[0].ebs.volumeType") != "gp3" || lt.Input("blockDeviceMappings[0].ebs.encrypted") != "true" {
					t.Errorf("pool %s disk is not encrypted gp3", pool)
				}
			}
			general := find(t, run.mocks, "aws:ec2/launchTemplate:LaunchTemplate", cn+"-general")
			if general.Input("blockDeviceMappings[0].ebs.iops") != 3000.0 || general.Input("blockDeviceMappings[0].ebs.throughput") != 250.0 {
				t.Error("general pool disk must be 3000 IOPS / 250 MB/s")
			}
			gpu := find(t, run.mocks, "eks:index:ManagedNodeGroup", cn+"-gpu")
			if gpu.Input("amiType") != "AL2023_x86_64_NVIDIA" {
				t.Error("gpu pool must use the NVIDIA AMI")
			}
			if got := gpu.Input("taints"); !reflect.DeepEqual(got, []any{map[string]any{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}}) {
				t.Errorf("gpu taints = %v", got)
			}
			if n := len(run.mocks.ByType("aws:ec2/natGateway:NatGateway")); n != 3 {
				t.Errorf("production has %d NAT gateways, want one per AZ (3)", n)
			}
		})
	}
}

// TestStagingIsAboutTenNodesWithoutGPUs follows the seed's staging clusters.
func TestStagingIsAboutTenNodesWithoutGPUs(t *testing.T) {
	for _, name := range []string{"staging-us-east-1", "staging-eu-west-1"} {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			total := 0.0
			for _, g := range run.mocks.ByType("eks:index:ManagedNodeGroup") {
				total += g.Input("scalingConfig.desiredSize").(float64)
			}
			if total < 8 || total > 12 {
				t.Errorf("staging desires %v nodes, want about 10", total)
			}
			gpu := find(t, run.mocks, "eks:index:ManagedNodeGroup", run.config.Cluster.Name+"-gpu")
			if gpu.Input("scalingConfig.desiredSize") != 0.0 || gpu.Input("scalingConfig.minSize") != 0.0 {
				t.Errorf("staging gpu pool = %v, want scaled to 0", gpu.Input("scalingConfig"))
			}
			if n := len(run.mocks.ByType("aws:ec2/natGateway:NatGateway")); n != 1 {
				t.Errorf("staging has %d NAT gateways, want 1", n)
			}
		})
	}
}

// TestEveryResourceIsParentedAndUsesTheRegionProvider checks the component
// conventions: children parented, providers explicit.
func TestEveryResourceIsParentedAndUsesTheRegionProvider(t *testing.T) {
	for _, name := range awsStackNames(t) {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			awsProvider := find(t, run.mocks, "pulumi:providers:aws", "aws-"+run.config.Region)
			if awsProvider.Input("region") != run.config.Region {
				t.Errorf("aws provider region = %v", awsProvider.Input("region"))
			}
			for _, r := range run.mocks.Resources() {
				// Only providers and the bac components hang off the stack.
				topLevel := strings.HasPrefix(r.Type, "pulumi:providers:") || strings.HasPrefix(r.Type, "bac:")
				if parentType := string(resource.URN(r.Parent).QualifiedType()); !topLevel && (r.Parent == "" || parentType == "pulumi:pulumi:Stack") {
					t.Errorf("%s %s is not parented to its component", r.Type, r.Name)
				}
				if strings.HasPrefix(r.Type, "aws:") && !strings.HasPrefix(r.Provider, awsProvider.URN+"::") {
					t.Errorf("%s %s provider = %q, want the stack's aws provider", r.Type, r.Name, r.Provider)
				}
			}
		})
	}
}

func TestStackOutputs(t *testing.T) {
	run := runStack(t, "prod-us-east-1")
	for _, k := range []string{"clusterName", "vpcId", "privateSubnetIds", "publicSubnetIds", "oidcProviderArn", "nodePoolNames", "kubeconfig", "region"} {
		if a, ok := run.outputs[k]; !ok || !a.Known {
			t.Errorf("output %s missing or unknown", k)
		}
	}
	if run.outputs["clusterName"].Value != "bac-prod-us-east-1" {
		t.Errorf("clusterName = %v", run.outputs["clusterName"].Value)
	}
	if !run.outputs["kubeconfig"].Secret {
		t.Error("kubeconfig must be a secret output")
	}
	if subnets, _ := run.outputs["privateSubnetIds"].Value.([]string); len(subnets) != 3 {
		t.Errorf("private subnets = %v", subnets)
	}
	if !strings.HasPrefix(run.outputs["oidcProviderArn"].Value.(string), "arn:aws:iam::") {
		t.Errorf("oidcProviderArn = %v", run.outputs["oidcProviderArn"].Value)
	}
	pools := run.outputs["nodePoolNames"].Value
	if !reflect.DeepEqual(pools, map[string]string{"general": "general-purpose", "compute": "compute-optimized", "memory": "memory-optimized", "gpu": "gpu-nodes"}) {
		t.Errorf("nodePoolNames = %v", pools)
	}
}

func TestNetworkCIDRsDoNotOverlapAcrossStacks(t *testing.T) {
	project, _ := stackfile.ProjectName(repoRoot)
	configs := map[string]stacks.Config{}
	for _, name := range stackNames(t) {
		sf, err := stackfile.Read(repoRoot, project, name)
		if err != nil {
			t.Fatal(err)
		}
		configs[name], _ = stacks.Decode(sf.Values)
	}
	if ps := stacks.CheckOverlaps(configs); len(ps) != 0 {
		t.Fatal(ps)
	}
}

func TestInvalidConfigRegistersNothing(t *testing.T) {
	project, _ := stackfile.ProjectName(repoRoot)
	sf, err := stackfile.Read(repoRoot, project, "prod-us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	sf.Values["bac:cluster"] = `{"nodePools":{"compute":{"minSize":60}}}`
	m, err := mockengine.RunStack(stacks.Program, project, "us-east-1", sf)
	if err == nil || !strings.Contains(err.Error(), "bac:cluster.nodePools.compute: minSize 60 > maxSize 50") {
		t.Fatalf("err = %v", err)
	}
	if n := len(m.Resources()); n != 0 {
		t.Fatalf("%d resources registered for invalid config, want none", n)
	}
}
