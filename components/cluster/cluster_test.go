package cluster_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/cluster"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// deploy runs NewCluster with the mock engine and returns the registrations.
func deploy(t *testing.T, args cluster.Args) (*mockengine.Mocks, *cluster.Cluster) {
	t.Helper()
	var c *cluster.Cluster
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		args.VpcID = pulumi.String("vpc-0123")
		args.PrivateSubnetIDs = pulumi.ToStringArray([]string{"subnet-a", "subnet-b", "subnet-c"})
		args.PublicSubnetIDs = pulumi.ToStringArray([]string{"subnet-d", "subnet-e", "subnet-f"})
		args.Tags = map[string]string{"Environment": "production", "Cluster": args.Name, "ManagedBy": "pulumi"}
		var err error
		c, err = cluster.NewCluster(ctx, args.Name, args)
		return err
	})
	if err != nil {
		t.Fatalf("NewCluster: %v", err)
	}
	return m, c
}

func mustFind(t *testing.T, m *mockengine.Mocks, typ, name string) mockengine.Resource {
	t.Helper()
	r, ok := m.Find(typ, name)
	if !ok {
		t.Fatalf("no %s %q registered", typ, name)
	}
	return r
}

func TestControlPlane(t *testing.T) {
	args := cluster.DefaultArgs("bac-prod-us-east-1")
	args.PublicAccessCIDRs = []string{"198.51.100.10/32"}
	args.AdminRoleARNs = []string{"arn:aws:iam::123456789012:role/platform-admin"}
	m, _ := deploy(t, args)
	eks := mustFind(t, m, "eks:index:Cluster", "bac-prod-us-east-1")
	key := mustFind(t, m, "aws:kms/key:Key", "bac-prod-us-east-1-secrets")

	checks := map[string]any{
		"name":                               "bac-prod-us-east-1",
		"version":                            cluster.DefaultKubernetesVersion,
		"endpointPrivateAccess":              true,
		"endpointPublicAccess":               true,
		"publicAccessCidrs":                  []any{"198.51.100.10/32"},
		"createOidcProvider":                 true,
		"authenticationMode":                 "API",
		"skipDefaultNodeGroup":               true,
		"enabledClusterLogTypes":             []any{"api", "audit", "authenticator", "controllerManager", "scheduler"},
		"encryptionConfigKeyArn":             key.Outputs["arn"].StringValue(),
		"accessEntries.admin-0.principalArn": "arn:aws:iam::123456789012:role/platform-admin",
		"accessEntries.admin-0.accessPolicies.policy.accessScope.type": "cluster",
		"tags.ManagedBy":                "pulumi",
		"corednsAddonOptions.enabled":   false,
		"kubeProxyAddonOptions.enabled": false,
		"useDefaultVpcCni":              true,
	}
	for path, want := range checks {
		if got := eks.Input(path); !reflect.DeepEqual(got, want) {
			t.Errorf("eks cluster %s = %#v, want %#v", path, got, want)
		}
	}
	if !key.Protect || !key.RetainOnDelete {
		t.Error("the secrets KMS key must be protected and retained on delete")
	}
	if key.Input("enableKeyRotation") != true {
		t.Error("the secrets KMS key must rotate")
	}
	logs := mustFind(t, m, "aws:cloudwatch/logGroup:LogGroup", "bac-prod-us-east-1-control-plane")
	if logs.Input("name") != "/aws/eks/bac-prod-us-east-1/cluster" || logs.Input("retentionInDays") != 365.0 {
		t.Errorf("control-plane log group = %v", mockengine.PlainMap(logs.Inputs))
	}
	if !slices.Contains(eks.DependsOn, logs.URN) {
		t.Error("the cluster must wait for its log group, or EKS creates one that never expires")
	}
}

func TestPublicEndpointOffWithoutCIDRs(t *testing.T) {
	m, _ := deploy(t, cluster.DefaultArgs("bac-staging-eu-west-1"))
	eks := mustFind(t, m, "eks:index:Cluster", "bac-staging-eu-west-1")
	if eks.Input("endpointPublicAccess") != false || eks.Input("endpointPrivateAccess") != true {
		t.Fatalf("endpoints = public %v private %v", eks.Input("endpointPublicAccess"), eks.Input("endpointPrivateAccess"))
	}
}

func TestNodePoolsAreTheSeeds(t *testing.T) {
	m, c := deploy(t, cluster.DefaultArgs("bac-prod-us-east-1"))
	type want struct {
		group, instance, ami string
		min, desired, max    float64
		labels               map[string]any
		taints               []any
		disk                 map[string]any
	}
	wants := map[string]want{
		"general": {"general-purpose", "m6i.2xlarge", "AL2023_x86_64_STANDARD", 10, 30, 100,
			map[string]any{"role": "general"}, []any{},
			map[string]any{"volumeSize": 200.0, "volumeType": "gp3", "iops": 3000.0, "throughput": 250.0, "encrypted": "true", "deleteOnTermination": "true"}},
		"compute": {"compute-optimized", "c6i.4xlarge", "AL2023_x86_64_STANDARD", 5, 10, 50,
			map[string]any{"role": "compute"}, []any{map[string]any{"key": "compute", "value": "true", "effect": "NO_SCHEDULE"}},
			map[string]any{"volumeSize": 500.0, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}},
		"memory": {"memory-optimized", "r6i.2xlarge", "AL2023_x86_64_STANDARD", 5, 10, 30,
			map[string]any{"role": "memory"}, []any{map[string]any{"key": "memory", "value": "true", "effect": "NO_SCHEDULE"}},
			map[string]any{"volumeSize": 500.0, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}},
		"gpu": {"gpu-nodes", "g5.4xlarge", "AL2023_x86_64_NVIDIA", 0, 2, 20,
			map[string]any{"role": "gpu", "nvidia.com/gpu": "true"}, []any{map[string]any{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}},
			map[string]any{"volumeSize": 1000.0, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}},
	}
	if got := len(m.ByType("eks:index:ManagedNodeGroup")); got != 4 {
		t.Fatalf("%d managed node groups, want 4", got)
	}
	eks := mustFind(t, m, "eks:index:Cluster", "bac-prod-us-east-1")
	role := mustFind(t, m, "aws:iam/role:Role", "bac-prod-us-east-1-nodes")
	for key, w := range wants {
		g := mustFind(t, m, "eks:index:ManagedNodeGroup", "bac-prod-us-east-1-"+key)
		lt := mustFind(t, m, "aws:ec2/launchTemplate:LaunchTemplate", "bac-prod-us-east-1-"+key)
		got := map[string]any{
			"nodeGroupNamePrefix": g.Input("nodeGroupNamePrefix"), "nodeGroupName": g.Input("nodeGroupName"), "instanceTypes": g.Input("instanceTypes"), "amiType": g.Input("amiType"),
			"scalingConfig": g.Input("scalingConfig"), "labels": g.Input("labels"), "taints": g.Input("taints"),
			"cluster": g.Input("cluster"), "nodeRole": g.Input("nodeRole"), "subnetIds": g.Input("subnetIds"),
			"launchTemplate.id": g.Input("launchTemplate.id"), "disk": lt.Input("blockDeviceMappings[0].ebs"),
			"imds": lt.Input("metadataOptions.httpTokens"),
			// The control is the value: 2 hops let pods reach the node's
			// metadata (the EKS default); anything higher reaches further.
			"imdsHops": lt.Input("metadataOptions.httpPutResponseHopLimit"),
		}
		expected := map[string]any{
			// A prefix, so a replacement can be created before the old group
			// is deleted (a fixed name collides: ResourceInUseException).
			"nodeGroupNamePrefix": w.group + "-", "nodeGroupName": nil, "instanceTypes": []any{w.instance}, "amiType": w.ami,
			"scalingConfig": map[string]any{"minSize": w.min, "desiredSize": w.desired, "maxSize": w.max},
			"labels":        w.labels, "taints": w.taints,
			"cluster": eks.URN, "nodeRole": role.URN, "subnetIds": []any{"subnet-a", "subnet-b", "subnet-c"},
			"launchTemplate.id": lt.ID, "disk": w.disk, "imds": "required", "imdsHops": 2.0,
		}
		for k := range expected {
			if !reflect.DeepEqual(got[k], expected[k]) {
				t.Errorf("pool %s %s = %#v, want %#v", key, k, got[k], expected[k])
			}
		}
		if c.NodeGroupNames[key] != w.group {
			t.Errorf("NodeGroupNames[%s] = %q", key, c.NodeGroupNames[key])
		}
	}
}

func TestAddonsAndIRSA(t *testing.T) {
	args := cluster.DefaultArgs("bac-prod-us-east-1")
	args.AddonVersions = map[string]string{"coredns": "v1.11.4-eksbuild.2"}
	m, _ := deploy(t, args)
	eks := mustFind(t, m, "eks:index:Cluster", "bac-prod-us-east-1")
	oidcArn := eks.Outputs["oidcProviderArn"].StringValue()
	issuer := eks.Outputs["oidcIssuer"].StringValue()
	addons := map[string]mockengine.Resource{}
	for _, a := range m.ByType("aws:eks/addon:Addon") {
		addons[a.Input("addonName").(string)] = a
		if a.Input("clusterName") != "bac-prod-us-east-1" || a.Input("resolveConflictsOnCreate") != "OVERWRITE" {
			t.Errorf("add-on %s inputs = %v", a.Name, mockengine.PlainMap(a.Inputs))
		}
	}
	if len(addons) != 5 {
		t.Fatalf("add-ons = %v, want coredns, kube-proxy, vpc-cni, aws-ebs-csi-driver, eks-pod-identity-agent", addons)
	}
	if addons["coredns"].Input("addonVersion") != "v1.11.4-eksbuild.2" || addons["kube-proxy"].Input("addonVersion") != nil {
		t.Error("add-on versions: pinned ones must be passed, others left to EKS")
	}
	// Without the node agent EKS stores NetworkPolicies and enforces none
	// (aws-vpc-cni chart values, enableNetworkPolicy, since v1.14.0).
	if got := addons["vpc-cni"].Input("configurationValues"); got != `{"enableNetworkPolicy":"true"}` {
		t.Errorf("vpc-cni configurationValues = %v, want network policy enforcement on", got)
	}
	for name, a := range addons {
		if name != "vpc-cni" && a.Input("configurationValues") != nil {
			t.Errorf("%s configurationValues = %v", name, a.Input("configurationValues"))
		}
	}
	for addon, sa := range map[string]string{"vpc-cni": "kube-system:aws-node", "aws-ebs-csi-driver": "kube-system:ebs-csi-controller-sa"} {
		role := mustFind(t, m, "aws:iam/role:Role", "bac-prod-us-east-1-"+addon)
		if addons[addon].Input("serviceAccountRoleArn") != role.Outputs["arn"].StringValue() {
			t.Errorf("%s must use its IRSA role", addon)
		}
		trust := role.Input("assumeRolePolicy").(string)
		for _, part := range []string{oidcArn, issuer + ":sub", "system:serviceaccount:" + sa, "sts:AssumeRoleWithWebIdentity"} {
			if !strings.Contains(trust, part) {
				t.Errorf("%s trust policy lacks %q: %s", addon, part, trust)
			}
		}
	}
	// coredns and the EBS CSI driver need nodes to schedule on.
	groups := m.ByType("eks:index:ManagedNodeGroup")
	for _, addon := range []string{"coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent"} {
		for _, g := range groups {
			if !slices.Contains(addons[addon].DependsOn, g.URN) {
				t.Errorf("%s does not wait for node group %s", addon, g.Name)
			}
		}
	}
}

func TestNodeSecurityRulesAreTheSeeds(t *testing.T) {
	m, _ := deploy(t, cluster.DefaultArgs("bac-prod-us-east-1"))
	self := mustFind(t, m, "aws:ec2/securityGroupRule:SecurityGroupRule", "bac-prod-us-east-1-nodes-ingress-self-all")
	egress := mustFind(t, m, "aws:ec2/securityGroupRule:SecurityGroupRule", "bac-prod-us-east-1-nodes-egress-all")
	if self.Input("type") != "ingress" || self.Input("protocol") != "-1" || self.Input("self") != true {
		t.Errorf("self rule = %v", mockengine.PlainMap(self.Inputs))
	}
	if egress.Input("type") != "egress" || egress.Input("protocol") != "-1" ||
		!reflect.DeepEqual(egress.Input("cidrBlocks"), []any{"0.0.0.0/0"}) || !reflect.DeepEqual(egress.Input("ipv6CidrBlocks"), []any{"::/0"}) {
		t.Errorf("egress rule = %v", mockengine.PlainMap(egress.Inputs))
	}
}

func TestEncryptedDefaultStorageClass(t *testing.T) {
	m, _ := deploy(t, cluster.DefaultArgs("bac-prod-us-east-1"))
	sc := mustFind(t, m, "kubernetes:storage.k8s.io/v1:StorageClass", "bac-prod-us-east-1-gp3-encrypted")
	if sc.Input("provisioner") != "ebs.csi.aws.com" || sc.Input("parameters.encrypted") != "true" || sc.Input("parameters.type") != "gp3" {
		t.Errorf("storage class = %v", mockengine.PlainMap(sc.Inputs))
	}
	provider := mustFind(t, m, "pulumi:providers:kubernetes", "bac-prod-us-east-1")
	if !strings.HasPrefix(sc.Provider, provider.URN+"::") {
		t.Errorf("storage class provider = %q, want the cluster's kubernetes provider", sc.Provider)
	}
	if !provider.IsSecretInput("kubeconfig") {
		t.Error("the kubernetes provider's kubeconfig must stay secret")
	}
}

// sdkArgs are the SDK Args of every resource type the cluster registers.
// Whether AWS can tag a type is read from its Args (a Tags field), not from
// what the program happened to pass, so a forgotten tags input fails.
var sdkArgs = map[string]any{
	"aws:cloudwatch/logGroup:LogGroup":                           cloudwatch.LogGroupArgs{},
	"aws:ec2/launchTemplate:LaunchTemplate":                      ec2.LaunchTemplateArgs{},
	"aws:ec2/securityGroup:SecurityGroup":                        ec2.SecurityGroupArgs{},
	"aws:ec2/securityGroupRule:SecurityGroupRule":                ec2.SecurityGroupRuleArgs{},
	"aws:eks/addon:Addon":                                        awseks.AddonArgs{},
	"aws:iam/role:Role":                                          iam.RoleArgs{},
	"aws:iam/rolePolicy:RolePolicy":                              iam.RolePolicyArgs{},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":          iam.RolePolicyAttachmentArgs{},
	"aws:kms/alias:Alias":                                        kms.AliasArgs{},
	"aws:kms/key:Key":                                            kms.KeyArgs{},
	"eks:index:Cluster":                                          eks.ClusterArgs{},
	"eks:index:ManagedNodeGroup":                                 eks.ManagedNodeGroupArgs{},
	"kubernetes:storage.k8s.io/v1:StorageClass":                  nil,
	"pulumi:providers:kubernetes":                                nil,
	"bac:cluster:Cluster":                                        nil,
	"kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": nil,
}

func TestEveryTaggableResourceIsTagged(t *testing.T) {
	m, _ := deploy(t, cluster.DefaultArgs("bac-prod-us-east-1"))
	tagged := 0
	for _, r := range m.Resources() {
		args, known := sdkArgs[r.Type]
		if !known {
			t.Errorf("%s %s: add its SDK Args to sdkArgs so the test knows whether AWS tags it", r.Type, r.Name)
			continue
		}
		if args == nil {
			continue // not an AWS resource
		}
		if _, taggable := reflect.TypeOf(args).FieldByName("Tags"); !taggable {
			continue
		}
		tagged++
		for _, tag := range []string{"Environment", "Cluster", "ManagedBy"} {
			if r.Input("tags."+tag) == nil {
				t.Errorf("%s %s lacks tag %s", r.Type, r.Name, tag)
			}
		}
	}
	if tagged < 10 {
		t.Errorf("only %d taggable resources checked", tagged)
	}
}

func TestNewClusterRejectsInvalidArgs(t *testing.T) {
	args := cluster.DefaultArgs("bac-prod-us-east-1")
	args.Version = "1.28"
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		_, err := cluster.NewCluster(ctx, "c", args)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "c.version: 1.28 is past EKS standard support") {
		t.Fatalf("err = %v", err)
	}
	if n := len(m.Resources()); n != 0 {
		t.Fatalf("%d resources registered for invalid args, want 0", n)
	}
}

// TestTheDeployingRunnerCanReachTheCluster: the preview role is read-only
// through an access entry, the deploy role (the cluster's creator, which
// EKS makes admin itself) gets none, and the runners' egress addresses join
// the public endpoint's allow list.
func TestTheDeployingRunnerCanReachTheCluster(t *testing.T) {
	args := cluster.DefaultArgs("bac-prod-us-east-1")
	args.PublicAccessCIDRs = []string{"198.51.100.10/32"}
	args.RunnerCIDRs = []string{"203.0.113.0/28", "198.51.100.10/32"}
	args.DeployRoleARN = "arn:aws:iam::123456789012:role/bac-deploy"
	args.PreviewRoleARN = "arn:aws:iam::123456789012:role/bac-preview"
	m, _ := deploy(t, args)
	eks := mustFind(t, m, "eks:index:Cluster", "bac-prod-us-east-1")
	for path, want := range map[string]any{
		"publicAccessCidrs":                                     []any{"198.51.100.10/32", "203.0.113.0/28"},
		"accessEntries.deploy":                                  nil,
		"accessEntries.preview.principalArn":                    "arn:aws:iam::123456789012:role/bac-preview",
		"accessEntries.preview.accessPolicies.policy.policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
	} {
		if got := eks.Input(path); !reflect.DeepEqual(got, want) {
			t.Errorf("cluster %s = %#v, want %#v", path, got, want)
		}
	}
}

// TestAnAutoscaledPoolKeepsItsSize: an up must not reset the desired size
// an autoscaler chose.
func TestAnAutoscaledPoolKeepsItsSize(t *testing.T) {
	args := cluster.DefaultArgs("bac-prod-us-east-1")
	pool := args.NodePools["compute"]
	pool.Autoscaled = true
	args.NodePools["compute"] = pool
	m, _ := deploy(t, args)
	for key, want := range map[string]any{"compute": true, "general": false} {
		g := mustFind(t, m, "eks:index:ManagedNodeGroup", "bac-prod-us-east-1-"+key)
		if got := g.Input("ignoreScalingChanges"); got != want {
			t.Errorf("%s ignoreScalingChanges = %v, want %v", key, got, want)
		}
	}
}

// TestNodePoolsFollowTheClusterVersion: with a launch template pulumi-eks
// leaves a group's version unset, so the stack sets it: an upgrade of the
// control plane takes every pool along.
func TestNodePoolsFollowTheClusterVersion(t *testing.T) {
	args := cluster.DefaultArgs("bac-prod-us-east-1")
	args.Version = "1.34"
	m, _ := deploy(t, args)
	for _, g := range m.ByType("eks:index:ManagedNodeGroup") {
		if got := g.Input("version"); got != "1.34" {
			t.Errorf("node group %s version = %#v, want the cluster's 1.34", g.Name, got)
		}
	}
}

// TestOnlyTheDeployRoleRunsUp: the creator contract (creator.go), as an up
// and a preview see it.
func TestOnlyTheDeployRoleRunsUp(t *testing.T) {
	const (
		deploy  = "arn:aws:iam::123456789012:role/bac-deploy"
		admin   = "arn:aws:iam::123456789012:role/platform-admin"
		preview = "arn:aws:iam::123456789012:role/bac-preview"
		person  = "arn:aws:iam::123456789012:user/alice"
	)
	withDeploy := cluster.Args{DeployRoleARN: deploy, AdminRoleARNs: []string{admin}, PreviewRoleARN: preview}
	without := cluster.Args{AdminRoleARNs: []string{admin}, PreviewRoleARN: preview}
	for _, tc := range []struct {
		name    string
		args    cluster.Args
		caller  string
		dryRun  bool
		wantErr string
	}{
		{"deploy role runs up", withDeploy, deploy, false, ""},
		{"admin runs up", withDeploy, admin, false, "this up runs as " + admin + ", not the deploy role"},
		{"admin previews", withDeploy, admin, true, ""},
		{"preview role previews", withDeploy, preview, true, ""},
		{"no deploy role, admin creates", without, admin, false, "set deployRoleArn to " + admin},
		{"no deploy role, preview role runs up", without, preview, false, "set deployRoleArn to " + preview},
		{"no deploy role, another principal", without, person, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.args.CheckCaller("bac:cluster", tc.caller, tc.dryRun)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("CheckCaller = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "bac:cluster.deployRoleArn: ")):
				t.Fatalf("CheckCaller = %v, want an error at bac:cluster.deployRoleArn containing %q", err, tc.wantErr)
			}
		})
	}
}
