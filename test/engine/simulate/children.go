package simulate

import (
	"crypto/sha1"
	"encoding/hex"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The children of the pulumi-eks components are rendered as the real
// component renders them (pulumi/pulumi-eks nodejs/eks/cluster/cluster.ts
// createCore, servicerole.ts ServiceRole, nodegroup.ts
// createManagedNodeGroupInternal; read from the repository's public source,
// since the module cache holds only the v3.9.1 Go SDK, not the provider's
// TypeScript), from the component's inputs as the
// engine passes them (unknowns and secrets kept), not from a summary of the
// values the compliance rules read. Upstream's own defaults and shapes
// apply: an absent endpointPublicAccess stays absent (AWS then opens the
// public endpoint), the encryption config exists only when a key ARN input
// does and is derived from it as a whole (unknown while the key is), the
// cluster's tags are the Name tag merged with clusterTags and tags, and the
// component creates its own service role, security group and an egress rule
// open to 0.0.0.0/0. Not rendered: the node security group, the OIDC
// provider and access entries (the program reads their outputs from the
// component, whose outputs come from mockengine.Outputs).

// eksChild is a custom child of a component under construction.
type eksChild struct {
	pulumi.CustomResourceState
	Arn pulumi.StringOutput `pulumi:"arn"`
}

// clusterChildren registers what pulumi-eks's Cluster creates for a
// cluster with the given inputs, and returns its aws:eks/cluster:Cluster.
// The program sets no serviceRole or clusterSecurityGroup of its own, so
// the branches that take those are not rendered.
func clusterChildren(ctx *pulumi.Context, name string, in pulumi.Map, skipDefaultSecurityGroups bool, parent pulumi.Resource) (*eksChild, error) {
	// createCore: the service role.
	role, err := serviceRole(ctx, name+"-eksRole", in["tags"], parent)
	if err != nil {
		return nil, err
	}
	roleArn := role.Arn

	// createCore: the cluster security group and its internet egress rule,
	// unless skipped.
	var securityGroupIDs pulumi.Input
	if !skipDefaultSecurityGroups {
		sg, err := register(ctx, parent, "aws:ec2/securityGroup:SecurityGroup", name+"-eksClusterSecurityGroup", pulumi.Map{
			"vpcId":               in["vpcId"],
			"revokeRulesOnDelete": pulumi.Bool(true),
			"tags":                mergedTags(name+"-eksClusterSecurityGroup", in["clusterSecurityGroupTags"], in["tags"]),
		})
		if err != nil {
			return nil, err
		}
		if _, err := register(ctx, parent, "aws:ec2/securityGroupRule:SecurityGroupRule", name+"-eksClusterInternetEgressRule", pulumi.Map{
			"description":     pulumi.String("Allow internet access."),
			"type":            pulumi.String("egress"),
			"fromPort":        pulumi.Int(0),
			"toPort":          pulumi.Int(0),
			"protocol":        pulumi.String("-1"),
			"cidrBlocks":      pulumi.StringArray{pulumi.String("0.0.0.0/0")},
			"securityGroupId": sg.ID(),
		}); err != nil {
			return nil, err
		}
		securityGroupIDs = pulumi.StringArray{sg.ID()}
	}

	// createCore: subnetIds, or the public then the private subnets.
	subnets := in["subnetIds"]
	if subnets == nil && (in["publicSubnetIds"] != nil || in["privateSubnetIds"] != nil) {
		subnets = pulumi.All(orNil(in["publicSubnetIds"]), orNil(in["privateSubnetIds"])).ApplyT(func(xs []any) []any {
			return append(asList(xs[0]), asList(xs[1])...)
		})
	}
	vpcConfig := pulumi.Map{"subnetIds": orNil(subnets)}
	for _, k := range []string{"endpointPrivateAccess", "endpointPublicAccess", "publicAccessCidrs"} {
		if v := in[k]; v != nil {
			vpcConfig[k] = v
		}
	}
	if securityGroupIDs != nil {
		vpcConfig["securityGroupIds"] = securityGroupIDs
	}

	props := pulumi.Map{
		"roleArn":   roleArn,
		"vpcConfig": vpcConfig,
		"tags":      mergedTags(name+"-eksCluster", in["clusterTags"], in["tags"]),
	}
	for _, k := range []string{"name", "version", "enabledClusterLogTypes"} {
		if v := in[k]; v != nil {
			props[k] = v
		}
	}
	if arn := in["encryptionConfigKeyArn"]; arn != nil {
		props["encryptionConfig"] = pulumi.All(arn).ApplyT(func(xs []any) map[string]any {
			return map[string]any{"provider": map[string]any{"keyArn": xs[0]}, "resources": []any{"secrets"}}
		})
	}
	if mode := in["authenticationMode"]; mode != nil {
		props["accessConfig"] = pulumi.Map{"authenticationMode": mode, "bootstrapClusterCreatorAdminPermissions": pulumi.Bool(true)}
	}
	return register(ctx, parent, "aws:eks/cluster:Cluster", name+"-eksCluster", props)
}

// serviceRole is pulumi-eks's ServiceRole component for the cluster: a role
// EKS assumes, with AmazonEKSClusterPolicy attached.
func serviceRole(ctx *pulumi.Context, name string, tags pulumi.Input, parent pulumi.Resource) (*eksChild, error) {
	comp := &component{}
	if err := ctx.RegisterComponentResource("eks:index:ServiceRole", name, comp, pulumi.Parent(parent)); err != nil {
		return nil, err
	}
	role, err := register(ctx, comp, "aws:iam/role:Role", name+"-role", pulumi.Map{
		"description": pulumi.String("Allows EKS to manage clusters on your behalf."),
		"assumeRolePolicy": pulumi.String(`{"Version":"2012-10-17","Statement":[{"Action":["sts:AssumeRole"],` +
			`"Effect":"Allow","Principal":{"Service":["eks.amazonaws.com"]}}]}`),
		"tags": orNil(tags),
	})
	if err != nil {
		return nil, err
	}
	const policy = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
	sum := sha1.Sum([]byte(policy))
	if _, err := register(ctx, comp, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name+"-"+hex.EncodeToString(sum[:])[:8],
		pulumi.Map{"policyArn": pulumi.String(policy), "role": role.ID()}); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{}); err != nil {
		return nil, err
	}
	return role, nil
}

// nodeGroupChild registers the aws:eks/nodeGroup:NodeGroup a
// ManagedNodeGroup component creates, with the inputs it passes through.
// Given a name prefix, the real provider passes it on as
// nodeGroupNamePrefix and AWS completes the name. With
// ignoreScalingChanges the real component creates the group with
// ignoreChanges ["scalingConfig.desiredSize"] (nodejs/eks/nodes/
// nodegroup.ts, createManagedNodeGroupInternal, at v3.9.1), so a desired
// size change shows no diff.
func nodeGroupChild(ctx *pulumi.Context, name string, in pulumi.Map, ignoreScaling bool, parent pulumi.Resource) error {
	props := pulumi.Map{}
	for _, k := range []string{"clusterName", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "instanceTypes", "scalingConfig",
		"subnetIds", "labels", "taints", "amiType", "launchTemplate", "tags", "version"} {
		if v := in[k]; v != nil {
			props[k] = v
		}
	}
	var opts []pulumi.ResourceOption
	if ignoreScaling {
		opts = append(opts, pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}))
	}
	_, err := register(ctx, parent, "aws:eks/nodeGroup:NodeGroup", name, props, opts...)
	return err
}

// register registers a custom child of the component under construction;
// it inherits the component's providers.
func register(ctx *pulumi.Context, parent pulumi.Resource, typ, name string, props pulumi.Map, opts ...pulumi.ResourceOption) (*eksChild, error) {
	var c eksChild
	inputs := pulumi.Map{}
	for k, v := range props {
		if v != nil {
			inputs[k] = v
		}
	}
	if err := ctx.RegisterResource(typ, name, inputs, &c, append([]pulumi.ResourceOption{pulumi.Parent(parent)}, opts...)...); err != nil {
		return nil, err
	}
	return &c, nil
}

// mergedTags are pulumi-eks's tags for a child: its Name tag, then the
// child-specific tags, then the component's tags.
func mergedTags(nameTag string, specific, common pulumi.Input) pulumi.Input {
	return pulumi.All(orNil(specific), orNil(common)).ApplyT(func(xs []any) map[string]any {
		tags := map[string]any{"Name": nameTag}
		for _, x := range xs {
			if m, ok := x.(map[string]any); ok {
				for k, v := range m {
					tags[k] = v
				}
			}
		}
		return tags
	})
}

// orNil is the input, or a known nil where the component has none.
func orNil(v pulumi.Input) pulumi.Input {
	if v == nil {
		return pulumi.Any(nil)
	}
	return v
}

func asList(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out
	}
	return nil
}

// goMap converts property values to plain Go values: secrets unwrapped,
// unknowns nil, resource references their URN.
func goMap(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[string(k)] = goValue(v)
	}
	return out
}

func goValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return goValue(v.SecretValue().Element)
	case v.IsComputed():
		return nil
	case v.IsOutput():
		if !v.OutputValue().Known {
			return nil
		}
		return goValue(v.OutputValue().Element)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsObject():
		return goMap(v.ObjectValue())
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = goValue(e)
		}
		return out
	case v.IsNull():
		return nil
	}
	return v.V
}
