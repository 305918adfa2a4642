package simulate

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// clusterChildren registers the aws:eks/cluster:Cluster the eks provider
// creates for a Cluster component, with the inputs the policies check.
func clusterChildren(ctx *pulumi.Context, name string, in map[string]any, parent pulumi.Resource) error {
	subnets := append(asList(in["privateSubnetIds"]), asList(in["publicSubnetIds"])...)
	public := true
	if b, ok := in["endpointPublicAccess"].(bool); ok {
		public = b
	}
	props := map[string]any{
		"name":    in["name"],
		"version": in["version"],
		"roleArn": "arn:aws:iam::123456789012:role/" + name + "-eksRole",
		"vpcConfig": map[string]any{
			"subnetIds":             subnets,
			"endpointPrivateAccess": in["endpointPrivateAccess"] == true,
			"endpointPublicAccess":  public,
			"publicAccessCidrs":     in["publicAccessCidrs"],
		},
		"enabledClusterLogTypes": in["enabledClusterLogTypes"],
		"accessConfig":           map[string]any{"authenticationMode": in["authenticationMode"]},
		"tags":                   in["tags"],
	}
	if arn, ok := in["encryptionConfigKeyArn"].(string); ok && arn != "" {
		props["encryptionConfig"] = map[string]any{"provider": map[string]any{"keyArn": arn}, "resources": []any{"secrets"}}
	}
	return register(ctx, parent, "aws:eks/cluster:Cluster", name+"-eksCluster", props)
}

// nodeGroupChild registers the aws:eks/nodeGroup:NodeGroup a
// ManagedNodeGroup component creates. Given a name prefix, the real provider
// passes it on as nodeGroupNamePrefix and AWS completes the name.
func nodeGroupChild(ctx *pulumi.Context, name string, in map[string]any, parent pulumi.Resource) error {
	return register(ctx, parent, "aws:eks/nodeGroup:NodeGroup", name, map[string]any{
		"clusterName":         in["clusterName"],
		"nodeGroupName":       in["nodeGroupName"],
		"nodeGroupNamePrefix": in["nodeGroupNamePrefix"],
		"instanceTypes":       in["instanceTypes"],
		"scalingConfig":       in["scalingConfig"],
		"subnetIds":           in["subnetIds"],
		"labels":              in["labels"],
		"taints":              in["taints"],
		"amiType":             in["amiType"],
		"launchTemplate":      in["launchTemplate"],
		"tags":                in["tags"],
	})
}

// register registers a custom child of the component under construction;
// it inherits the component's providers.
func register(ctx *pulumi.Context, parent pulumi.Resource, typ, name string, props map[string]any) error {
	var c child
	inputs := pulumi.Map{}
	for k, v := range props {
		if v != nil {
			inputs[k] = pulumi.Any(v)
		}
	}
	return ctx.RegisterResource(typ, name, inputs, &c, pulumi.Parent(parent))
}

func asList(v any) []any { l, _ := v.([]any); return l }

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
