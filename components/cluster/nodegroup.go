package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// nodeGroup builds one pool: a launch template for its root volume (gp3 with
// the pool's IOPS and throughput, always encrypted) and instance metadata
// hardening (IMDSv2 only), and the EKS managed node group using it.
func (b builder) nodeGroup(key string, pool NodePool, cluster *eks.Cluster, role *iam.Role,
	additionalSG *ec2.SecurityGroup, dependsOn []pulumi.Resource,
) (*eks.ManagedNodeGroup, error) {
	name := b.name + "-" + key
	ebs := ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
		VolumeSize:          pulumi.Int(pool.DiskSizeGiB),
		VolumeType:          pulumi.String(pool.DiskType),
		Encrypted:           pulumi.String("true"),
		DeleteOnTermination: pulumi.String("true"),
	}
	if pool.DiskIOPS > 0 {
		ebs.Iops = pulumi.Int(pool.DiskIOPS)
	}
	if pool.DiskThroughputMiBps > 0 {
		ebs.Throughput = pulumi.Int(pool.DiskThroughputMiBps)
	}
	instanceTags := b.tags(map[string]string{"Name": b.args.Name + "-" + pool.NodeGroupName, "NodePool": key})
	lt, err := ec2.NewLaunchTemplate(b.ctx, name, &ec2.LaunchTemplateArgs{
		Description: pulumi.Sprintf("%s node pool %s", b.args.Name, pool.NodeGroupName),
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs:        ebs,
		}},
		MetadataOptions: ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"),
			HttpTokens:   pulumi.String("required"),
			// 2 hops lets pods without IRSA reach the node's metadata (the
			// EKS default); IRSA-enabled pods never need it.
			HttpPutResponseHopLimit: pulumi.Int(2),
		},
		VpcSecurityGroupIds: pulumi.StringArray{cluster.NodeSecurityGroupId, additionalSG.ID()},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: instanceTags},
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: instanceTags},
		},
		UpdateDefaultVersion: pulumi.Bool(true),
		Tags:                 b.tags(nil),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("node pool %s launch template: %w", key, err)
	}

	taints := awseks.NodeGroupTaintArray{}
	for _, t := range pool.Taints {
		taints = append(taints, awseks.NodeGroupTaintArgs{
			Key: pulumi.String(t.Key), Value: pulumi.String(t.Value), Effect: pulumi.String(taintEffects[t.Effect]),
		})
	}
	group, err := eks.NewManagedNodeGroup(b.ctx, name, &eks.ManagedNodeGroupArgs{
		Cluster:     cluster,
		ClusterName: pulumi.String(b.args.Name),
		// A prefix, not a fixed name: an instance-type or AMI change
		// replaces the node group, and Pulumi creates the replacement before
		// deleting the old one; with one fixed name EKS refuses the create
		// (ResourceInUseException). EKS names the group <prefix><suffix>.
		NodeGroupNamePrefix: pulumi.String(pool.NodeGroupName + "-"),
		NodeRole:            role,
		SubnetIds:           b.args.PrivateSubnetIDs,
		InstanceTypes:       pulumi.ToStringArray(pool.InstanceTypes),
		AmiType:             pulumi.String(pool.AMIType),
		// pulumi-eks 3.9.1 defaults a group's version to the cluster's only
		// without a launch template; with one (ours) it leaves it unset and
		// EKS keeps the group at the version it was created with, so a
		// control-plane upgrade would leave every pool behind.
		Version: pulumi.String(b.args.Version),
		ScalingConfig: awseks.NodeGroupScalingConfigArgs{
			MinSize:     pulumi.Int(pool.MinSize),
			DesiredSize: pulumi.Int(pool.DesiredSize),
			MaxSize:     pulumi.Int(pool.MaxSize),
		},
		// pulumi-eks 3.9.1 ignores desiredSize changes of the underlying
		// node group when asked (ManagedNodeGroupArgs.IgnoreScalingChanges).
		IgnoreScalingChanges: &pool.Autoscaled,
		Labels:               pulumi.ToStringMap(pool.Labels),
		Taints:               taints,
		LaunchTemplate: awseks.NodeGroupLaunchTemplateArgs{
			Id:      lt.ID(),
			Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput),
		},
		Tags: b.tags(map[string]string{"NodePool": key}),
	}, b.parent, pulumi.DependsOn(dependsOn))
	if err != nil {
		return nil, fmt.Errorf("node pool %s: %w", key, err)
	}
	return group, nil
}
