package cluster

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cluster is an EKS cluster with its node pools and add-ons.
type Cluster struct {
	pulumi.ResourceState

	// Name is the EKS cluster name.
	Name pulumi.StringOutput
	// Kubeconfig is the cluster's kubeconfig as JSON; a secret.
	Kubeconfig pulumi.StringOutput
	// OidcProviderArn is the IAM OIDC provider used for IRSA.
	OidcProviderArn pulumi.StringOutput
	// OidcIssuer is the OIDC issuer host and path (no https://), for IRSA trust policies.
	OidcIssuer pulumi.StringOutput
	// SecretsKeyArn is the KMS key encrypting Kubernetes secrets.
	SecretsKeyArn pulumi.StringOutput
	// NodeGroupNames are the managed node group names by pool key.
	NodeGroupNames map[string]string
	// Kubernetes is a provider for this cluster, built from its kubeconfig.
	Kubernetes *kubernetes.Provider
}

// NewCluster builds the cluster described by args. Call args.Validate first
// (the stack does); NewCluster refuses invalid args with the same problems.
// The AWS provider for the region comes from opts (pulumi.Providers).
func NewCluster(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	c := &Cluster{NodeGroupNames: map[string]string{}}
	if err := ctx.RegisterComponentResource("bac:cluster:Cluster", name, c, opts...); err != nil {
		return nil, err
	}
	b := builder{ctx: ctx, name: name, args: args, parent: pulumi.Parent(c)}

	key, err := b.secretsKey()
	if err != nil {
		return nil, err
	}
	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-control-plane", &cloudwatch.LogGroupArgs{
		// EKS writes control-plane logs to this fixed name; creating it first
		// lets us set retention instead of EKS's never-expire default.
		Name:            pulumi.Sprintf("/aws/eks/%s/cluster", args.Name),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		Tags:            b.tags(nil),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("control-plane log group: %w", err)
	}
	nodeRole, err := b.nodeRole()
	if err != nil {
		return nil, err
	}
	nodeSG, err := b.nodeSecurityGroup()
	if err != nil {
		return nil, err
	}

	accessEntries := map[string]eks.AccessEntryArgs{}
	for key, grant := range args.accessEntryPrincipals() {
		accessEntries[key] = eks.AccessEntryArgs{
			PrincipalArn: pulumi.String(grant.principal),
			AccessPolicies: map[string]eks.AccessPolicyAssociationInput{
				"policy": eks.AccessPolicyAssociationArgs{
					PolicyArn:   pulumi.String("arn:aws:eks::aws:cluster-access-policy/" + grant.policy),
					AccessScope: awseks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
				},
			},
		}
	}
	authMode := eks.AuthenticationModeApi
	disabled := false
	cluster, err := eks.NewCluster(ctx, name, &eks.ClusterArgs{
		Name:                   pulumi.String(args.Name),
		Version:                pulumi.String(args.Version),
		VpcId:                  args.VpcID,
		PrivateSubnetIds:       args.PrivateSubnetIDs,
		PublicSubnetIds:        args.PublicSubnetIDs,
		SkipDefaultNodeGroup:   pulumi.BoolRef(true),
		EndpointPrivateAccess:  pulumi.Bool(true),
		EndpointPublicAccess:   pulumi.Bool(len(args.EndpointCIDRs()) > 0),
		PublicAccessCidrs:      pulumi.ToStringArray(args.EndpointCIDRs()),
		CreateOidcProvider:     pulumi.Bool(true),
		AuthenticationMode:     &authMode,
		AccessEntries:          accessEntries,
		EncryptionConfigKeyArn: key.Arn,
		EnabledClusterLogTypes: pulumi.ToStringArray(LogTypes),
		// The managed add-ons below own coredns, kube-proxy and vpc-cni, so
		// pulumi-eks must not install its own copies.
		UseDefaultVpcCni:      pulumi.BoolRef(true),
		CorednsAddonOptions:   &eks.CoreDnsAddonOptionsArgs{Enabled: &disabled},
		KubeProxyAddonOptions: &eks.KubeProxyAddonOptionsArgs{Enabled: &disabled},
		Tags:                  b.tags(nil),
		ClusterTags:           b.tags(nil),
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{logGroup}))
	if err != nil {
		return nil, fmt.Errorf("eks cluster: %w", err)
	}
	c.Kubeconfig = pulumi.ToSecret(cluster.KubeconfigJson).(pulumi.StringOutput)
	// The name is known, but tying it to an output of the cluster makes every
	// consumer wait for the control plane.
	c.Name = cluster.OidcProviderArn.ApplyT(func(string) string { return args.Name }).(pulumi.StringOutput)
	c.OidcProviderArn = cluster.OidcProviderArn
	c.OidcIssuer = cluster.OidcIssuer
	c.SecretsKeyArn = key.Arn

	irsa := func(addon, namespace, serviceAccount, policyArn string) (*iam.Role, error) {
		return b.irsaRole(addon, cluster, namespace, serviceAccount, policyArn)
	}
	cniRole, err := irsa("vpc-cni", "kube-system", "aws-node", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy")
	if err != nil {
		return nil, err
	}
	ebsRole, err := irsa("aws-ebs-csi-driver", "kube-system", "ebs-csi-controller-sa", "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy")
	if err != nil {
		return nil, err
	}
	// vpc-cni and kube-proxy are adopted from the cluster's bootstrap copies
	// before nodes join; coredns and the EBS CSI driver need nodes to run on.
	early, err := b.addons(c.Name, map[string]*iam.Role{"vpc-cni": cniRole, "kube-proxy": nil}, nil)
	if err != nil {
		return nil, err
	}

	var groups []pulumi.Resource
	for _, key := range args.PoolKeys() {
		group, err := b.nodeGroup(key, args.NodePools[key], cluster, nodeRole, nodeSG, early)
		if err != nil {
			return nil, err
		}
		groups = append(groups, group)
		c.NodeGroupNames[key] = args.NodePools[key].NodeGroupName
	}
	// The Pod Identity agent is a DaemonSet: it runs once nodes join.
	late, err := b.addons(c.Name, map[string]*iam.Role{"coredns": nil, "aws-ebs-csi-driver": ebsRole, PodIdentityAgent: nil}, groups)
	if err != nil {
		return nil, err
	}

	// Every Kubernetes object goes through this provider, so it exists only
	// once the node groups are active (EKS marks a managed group ACTIVE when
	// its nodes have joined) and the add-ons that run on them (coredns, the
	// Pod Identity agent) are in place: no chart's pods, and no webhook a
	// chart registers, then waits for nodes while other objects are sent
	// to the API server (the kubeconfig alone is ready long before).
	c.Kubernetes, err = kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig:            c.Kubeconfig,
		EnableServerSideApply: pulumi.Bool(true),
	}, b.parent, pulumi.DependsOn(append(slices.Clone(groups), late...)))
	if err != nil {
		return nil, fmt.Errorf("kubernetes provider: %w", err)
	}
	if _, err := storagev1.NewStorageClass(ctx, name+"-gp3-encrypted", &storagev1.StorageClassArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String("gp3-encrypted"),
			Annotations: pulumi.StringMap{"storageclass.kubernetes.io/is-default-class": pulumi.String("true")},
		},
		Provisioner:          pulumi.String("ebs.csi.aws.com"),
		Parameters:           pulumi.StringMap{"type": pulumi.String("gp3"), "encrypted": pulumi.String("true")},
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		ReclaimPolicy:        pulumi.String("Delete"),
		AllowVolumeExpansion: pulumi.Bool(true),
	}, b.parent, pulumi.Provider(c.Kubernetes), pulumi.DependsOn(late)); err != nil {
		return nil, fmt.Errorf("storage class: %w", err)
	}

	nodeGroupNames := pulumi.StringMap{}
	for k, v := range c.NodeGroupNames {
		nodeGroupNames[k] = pulumi.String(v)
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"name":            c.Name,
		"kubeconfig":      c.Kubeconfig,
		"oidcProviderArn": c.OidcProviderArn,
		"secretsKeyArn":   c.SecretsKeyArn,
		"nodeGroupNames":  nodeGroupNames,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// builder holds what every child of one cluster shares.
type builder struct {
	ctx    *pulumi.Context
	name   string
	args   Args
	parent pulumi.ResourceOption
}

// tags returns the cluster's tags plus extra.
func (b builder) tags(extra map[string]string) pulumi.StringMap {
	all := maps.Clone(b.args.Tags)
	if all == nil {
		all = map[string]string{}
	}
	maps.Copy(all, extra)
	return pulumi.ToStringMap(all)
}

// secretsKey is the KMS key for envelope encryption of Kubernetes secrets.
// Losing it makes every secret in etcd unreadable, so it is protected and
// survives a stack destroy.
func (b builder) secretsKey() (*kms.Key, error) {
	key, err := kms.NewKey(b.ctx, b.name+"-secrets", &kms.KeyArgs{
		Description:          pulumi.Sprintf("EKS secrets envelope encryption for %s", b.args.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		RotationPeriodInDays: pulumi.Int(365),
		DeletionWindowInDays: pulumi.Int(30),
		KeyUsage:             pulumi.String("ENCRYPT_DECRYPT"),
		Tags:                 b.tags(nil),
	}, b.parent, pulumi.Protect(true), pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, fmt.Errorf("secrets kms key: %w", err)
	}
	if _, err := kms.NewAlias(b.ctx, b.name+"-secrets", &kms.AliasArgs{
		Name:        pulumi.Sprintf("alias/%s-eks-secrets", b.args.Name),
		TargetKeyId: key.KeyId,
	}, b.parent); err != nil {
		return nil, fmt.Errorf("secrets kms alias: %w", err)
	}
	return key, nil
}

// nodeRole is the IAM role every managed node group's instances assume. The
// CNI policy is not here: vpc-cni gets it through IRSA instead.
func (b builder) nodeRole() (*iam.Role, error) {
	role, err := iam.NewRole(b.ctx, b.name+"-nodes", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		Tags: b.tags(nil),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("node role: %w", err)
	}
	for _, policy := range []string{"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonSSMManagedInstanceCore"} {
		if _, err := iam.NewRolePolicyAttachment(b.ctx, b.name+"-nodes-"+policy, &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String("arn:aws:iam::aws:policy/" + policy),
		}, b.parent); err != nil {
			return nil, fmt.Errorf("node role policy %s: %w", policy, err)
		}
	}
	return role, nil
}

// nodeSecurityGroup carries the architecture document's additional node rules
// (node to node on all protocols; all egress). Nodes also get the cluster's
// own node security group from pulumi-eks for control-plane traffic.
func (b builder) nodeSecurityGroup() (*ec2.SecurityGroup, error) {
	sg, err := ec2.NewSecurityGroup(b.ctx, b.name+"-nodes-additional", &ec2.SecurityGroupArgs{
		VpcId:       b.args.VpcID,
		Description: pulumi.String("BAC node additional rules: node to node, all egress"),
		Tags:        b.tags(map[string]string{"Name": b.args.Name + "-nodes-additional"}),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("node security group: %w", err)
	}
	rules := []struct {
		name string
		args ec2.SecurityGroupRuleArgs
	}{
		{"ingress-self-all", ec2.SecurityGroupRuleArgs{
			Description: pulumi.String("Node to node all ports/protocols"),
			Type:        pulumi.String("ingress"), Protocol: pulumi.String("-1"),
			FromPort: pulumi.Int(0), ToPort: pulumi.Int(0), Self: pulumi.Bool(true),
		}},
		{"egress-all", ec2.SecurityGroupRuleArgs{
			Description: pulumi.String("Node all egress"),
			Type:        pulumi.String("egress"), Protocol: pulumi.String("-1"),
			FromPort: pulumi.Int(0), ToPort: pulumi.Int(0),
			CidrBlocks: pulumi.ToStringArray([]string{"0.0.0.0/0"}), Ipv6CidrBlocks: pulumi.ToStringArray([]string{"::/0"}),
		}},
	}
	for _, r := range rules {
		r.args.SecurityGroupId = sg.ID()
		if _, err := ec2.NewSecurityGroupRule(b.ctx, b.name+"-nodes-"+r.name, &r.args, b.parent); err != nil {
			return nil, fmt.Errorf("node security group rule %s: %w", r.name, err)
		}
	}
	return sg, nil
}

// irsaRole is an IAM role that only the given Kubernetes service account of
// this cluster can assume (IAM roles for service accounts).
func (b builder) irsaRole(addon string, cluster *eks.Cluster, namespace, serviceAccount, policyArn string) (*iam.Role, error) {
	trust := pulumi.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Principal":{"Federated":"%s"},"Action":"sts:AssumeRoleWithWebIdentity",`+
		`"Condition":{"StringEquals":{"%s:sub":"system:serviceaccount:%s:%s","%s:aud":"sts.amazonaws.com"}}}]}`,
		cluster.OidcProviderArn, cluster.OidcIssuer, namespace, serviceAccount, cluster.OidcIssuer)
	role, err := iam.NewRole(b.ctx, b.name+"-"+addon, &iam.RoleArgs{AssumeRolePolicy: trust, Tags: b.tags(nil)}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("%s irsa role: %w", addon, err)
	}
	if _, err := iam.NewRolePolicyAttachment(b.ctx, b.name+"-"+addon, &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String(policyArn),
	}, b.parent); err != nil {
		return nil, fmt.Errorf("%s irsa policy: %w", addon, err)
	}
	return role, nil
}

// addons installs EKS managed add-ons (a nil role means none), after dependsOn.
func (b builder) addons(clusterName pulumi.StringOutput, roles map[string]*iam.Role, dependsOn []pulumi.Resource) ([]pulumi.Resource, error) {
	var created []pulumi.Resource
	for _, addon := range Addons {
		role, ok := roles[addon]
		if !ok {
			continue
		}
		args := &awseks.AddonArgs{
			ClusterName: clusterName,
			AddonName:   pulumi.String(addon),
			// Take over the copies EKS bootstrapped, and keep our settings on upgrade.
			ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
			ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
			Tags:                     b.tags(nil),
		}
		if v := b.args.AddonVersions[addon]; v != "" {
			args.AddonVersion = pulumi.String(v)
		}
		if role != nil {
			args.ServiceAccountRoleArn = role.Arn
		}
		if addon == "vpc-cni" && b.args.NetworkPolicyEnforcement {
			// The add-on's configuration value (a string, as in the
			// aws-vpc-cni chart's values at v1.14.0) starts the node agent
			// that enforces NetworkPolicies.
			args.ConfigurationValues = pulumi.String(`{"enableNetworkPolicy":"true"}`)
		}
		a, err := awseks.NewAddon(b.ctx, b.name+"-"+addon, args, b.parent, pulumi.DependsOn(dependsOn))
		if err != nil {
			return nil, fmt.Errorf("add-on %s: %w", addon, err)
		}
		created = append(created, a)
	}
	return created, nil
}
