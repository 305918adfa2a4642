package network

import (
	"fmt"
	"maps"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Network is the regional VPC and everything that routes it.
type Network struct {
	pulumi.ResourceState

	// VpcID is the VPC's ID.
	VpcID pulumi.StringOutput
	// PrivateSubnetIDs are the node and internal load balancer subnets, one per zone.
	PrivateSubnetIDs pulumi.StringArrayOutput
	// PublicSubnetIDs are the internet-facing load balancer subnets, one per zone.
	PublicSubnetIDs pulumi.StringArrayOutput
	// FlowLogGroupName is the CloudWatch log group receiving VPC flow logs.
	FlowLogGroupName pulumi.StringOutput
	// NATPublicIPs are the NAT gateways' addresses: what every connection
	// from the private subnets to a public address comes from.
	NATPublicIPs pulumi.StringArrayOutput
}

// NewNetwork builds the VPC described by args. The AWS provider for the region
// comes from opts (pulumi.Providers); children inherit it.
func NewNetwork(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Network, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource("bac:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	tags := func(extra map[string]string) pulumi.StringMap {
		all := maps.Clone(args.Tags)
		if all == nil {
			all = map[string]string{}
		}
		maps.Copy(all, extra)
		return pulumi.ToStringMap(all)
	}
	clusterTag := "kubernetes.io/cluster/" + args.ClusterName

	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.CIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(map[string]string{"Name": name}),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("vpc: %w", err)
	}

	igw, err := ec2.NewInternetGateway(ctx, name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags(map[string]string{"Name": name}),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("internet gateway: %w", err)
	}

	publicRoutes, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   tags(map[string]string{"Name": name + "-public"}),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("public route table: %w", err)
	}

	vpcBlock := netip.MustParsePrefix(args.CIDR) // validated above
	privateCIDRs, publicCIDRs := SubnetCIDRs(vpcBlock, len(args.AvailabilityZones))
	var privateIDs, publicIDs pulumi.StringArray
	var natIDs []pulumi.IDOutput
	var natIPs pulumi.StringArray
	for i, zone := range args.AvailabilityZones {
		pubName := fmt.Sprintf("%s-public-%s", name, zone)
		pub, err := ec2.NewSubnet(ctx, pubName, &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(publicCIDRs[i].String()),
			AvailabilityZone: pulumi.String(zone),
			// Nothing launched here needs a public IP by default: NAT gateways
			// and load balancers get theirs explicitly.
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags: tags(map[string]string{
				"Name": pubName, "kubernetes.io/role/elb": "1", clusterTag: "shared", "Tier": "public",
			}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("public subnet %s: %w", zone, err)
		}
		publicIDs = append(publicIDs, pub.ID())
		if _, err := ec2.NewRouteTableAssociation(ctx, pubName, &ec2.RouteTableAssociationArgs{
			SubnetId: pub.ID(), RouteTableId: publicRoutes.ID(),
		}, parent); err != nil {
			return nil, fmt.Errorf("public route association %s: %w", zone, err)
		}
		if i == 0 || args.NATGateways == NATPerAZ {
			natName := fmt.Sprintf("%s-nat-%s", name, zone)
			eip, err := ec2.NewEip(ctx, natName, &ec2.EipArgs{
				Domain: pulumi.String("vpc"),
				Tags:   tags(map[string]string{"Name": natName}),
			}, parent)
			if err != nil {
				return nil, fmt.Errorf("nat address %s: %w", zone, err)
			}
			nat, err := ec2.NewNatGateway(ctx, natName, &ec2.NatGatewayArgs{
				AllocationId: eip.ID(),
				SubnetId:     pub.ID(),
				Tags:         tags(map[string]string{"Name": natName}),
			}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
			if err != nil {
				return nil, fmt.Errorf("nat gateway %s: %w", zone, err)
			}
			natIDs = append(natIDs, nat.ID())
			natIPs = append(natIPs, eip.PublicIp)
		}

		privName := fmt.Sprintf("%s-private-%s", name, zone)
		priv, err := ec2.NewSubnet(ctx, privName, &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(privateCIDRs[i].String()),
			AvailabilityZone: pulumi.String(zone),
			Tags: tags(map[string]string{
				"Name": privName, "kubernetes.io/role/internal-elb": "1", clusterTag: "shared", "Tier": "private",
			}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("private subnet %s: %w", zone, err)
		}
		privateIDs = append(privateIDs, priv.ID())
		// Each private subnet leaves through the NAT gateway in its own zone
		// (perAz) or the single shared one.
		nat := natIDs[len(natIDs)-1]
		routes, err := ec2.NewRouteTable(ctx, privName, &ec2.RouteTableArgs{
			VpcId:  vpc.ID(),
			Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat}},
			Tags:   tags(map[string]string{"Name": privName}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("private route table %s: %w", zone, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, privName, &ec2.RouteTableAssociationArgs{
			SubnetId: priv.ID(), RouteTableId: routes.ID(),
		}, parent); err != nil {
			return nil, fmt.Errorf("private route association %s: %w", zone, err)
		}
	}

	flowLogs, err := newFlowLogs(ctx, name, vpc, args, tags(nil), parent)
	if err != nil {
		return nil, err
	}

	n.VpcID = vpc.ID().ToStringOutput()
	n.PrivateSubnetIDs = privateIDs.ToStringArrayOutput()
	n.PublicSubnetIDs = publicIDs.ToStringArrayOutput()
	n.FlowLogGroupName = flowLogs.Name
	n.NATPublicIPs = natIPs.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":            n.VpcID,
		"privateSubnetIds": n.PrivateSubnetIDs,
		"publicSubnetIds":  n.PublicSubnetIDs,
		"flowLogGroupName": n.FlowLogGroupName,
		"natPublicIps":     n.NATPublicIPs,
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// newFlowLogs records all VPC traffic to a CloudWatch log group with a fixed
// retention, written by a role that may only write to that group.
func newFlowLogs(ctx *pulumi.Context, name string, vpc *ec2.Vpc, args Args, tags pulumi.StringMap,
	parent pulumi.ResourceOption,
) (*cloudwatch.LogGroup, error) {
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/aws/vpc/%s/flow-logs", name),
		RetentionInDays: pulumi.Int(args.FlowLogRetentionDays),
		Tags:            tags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("flow log group: %w", err)
	}
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		Tags: tags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("flow log role: %w", err)
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: pulumi.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
			`"Action":["logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogStreams"],`+
			`"Resource":["%s","%s:*"]}]}`, group.Arn, group.Arn),
	}, parent); err != nil {
		return nil, fmt.Errorf("flow log role policy: %w", err)
	}
	if _, err := ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   tags,
	}, parent); err != nil {
		return nil, fmt.Errorf("flow log: %w", err)
	}
	return group, nil
}
