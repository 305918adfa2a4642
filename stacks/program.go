package stacks

import (
	"fmt"

	"github.com/bac-platform/infra/components/cluster"
	"github.com/bac-platform/infra/components/network"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Platform is what one stack deployed.
type Platform struct {
	Config  Config
	Network *network.Network
	Cluster *cluster.Cluster
}

// Program is the Pulumi program of every stack: it reads and validates the
// stack's configuration (registering nothing when it is invalid), deploys the
// platform and exports its outputs.
func Program(ctx *pulumi.Context) error {
	cfg, problems := Parse(ReadConfig(ctx))
	if err := problems.Err(); err != nil {
		return err
	}
	p, err := Deploy(ctx, cfg)
	if err != nil {
		return err
	}
	for name, value := range p.Outputs() {
		ctx.Export(name, value)
	}
	return nil
}

// ReadConfig returns the stack's config values in the form Parse takes.
func ReadConfig(ctx *pulumi.Context) map[string]string {
	values := map[string]string{}
	for _, k := range Keys {
		if v, ok := ctx.GetConfig(Namespace + ":" + k); ok {
			values[Namespace+":"+k] = v
		}
	}
	return values
}

// Deploy builds the platform for a valid configuration with an explicit AWS
// provider for the stack's region.
func Deploy(ctx *pulumi.Context, cfg Config) (*Platform, error) {
	tags := cfg.ResourceTags()
	awsProvider, err := aws.NewProvider(ctx, "aws-"+cfg.Region, &aws.ProviderArgs{
		Region: pulumi.String(cfg.Region),
		// Children of the pulumi-eks components are tagged through these.
		DefaultTags: aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(tags)},
	})
	if err != nil {
		return nil, fmt.Errorf("aws provider: %w", err)
	}
	inRegion := pulumi.Providers(awsProvider)

	netArgs := cfg.Network
	netArgs.ClusterName = cfg.Cluster.Name
	netArgs.Tags = tags
	net, err := network.NewNetwork(ctx, cfg.Cluster.Name, netArgs, inRegion)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}

	clusterArgs := cfg.Cluster
	clusterArgs.VpcID = net.VpcID
	clusterArgs.PrivateSubnetIDs = net.PrivateSubnetIDs
	clusterArgs.PublicSubnetIDs = net.PublicSubnetIDs
	clusterArgs.Tags = tags
	eks, err := cluster.NewCluster(ctx, cfg.Cluster.Name, clusterArgs, inRegion)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return &Platform{Config: cfg, Network: net, Cluster: eks}, nil
}

// Outputs are the stack outputs; the kubeconfig is a secret.
func (p *Platform) Outputs() map[string]pulumi.Input {
	pools := pulumi.StringMap{}
	for key, name := range p.Cluster.NodeGroupNames {
		pools[key] = pulumi.String(name)
	}
	return map[string]pulumi.Input{
		"region":           pulumi.String(p.Config.Region),
		"clusterName":      p.Cluster.Name,
		"vpcId":            p.Network.VpcID,
		"privateSubnetIds": p.Network.PrivateSubnetIDs,
		"publicSubnetIds":  p.Network.PublicSubnetIDs,
		"oidcProviderArn":  p.Cluster.OidcProviderArn,
		"secretsKeyArn":    p.Cluster.SecretsKeyArn,
		"nodePoolNames":    pools,
		"kubeconfig":       pulumi.ToSecret(p.Cluster.Kubeconfig),
	}
}
