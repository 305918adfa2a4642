package stacks

import (
	"fmt"
	"slices"

	"github.com/bac-platform/infra/components/addons"
	"github.com/bac-platform/infra/components/admission"
	"github.com/bac-platform/infra/components/cluster"
	"github.com/bac-platform/infra/components/gateway"
	"github.com/bac-platform/infra/components/gitops"
	"github.com/bac-platform/infra/components/identity"
	"github.com/bac-platform/infra/components/mesh"
	"github.com/bac-platform/infra/components/namespaces"
	"github.com/bac-platform/infra/components/network"
	"github.com/bac-platform/infra/components/realtime"
	"github.com/bac-platform/infra/components/security"
	"github.com/bac-platform/infra/components/vault"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	vaultsdk "github.com/pulumi/pulumi-vault/sdk/v7/go/vault"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Platform is what one stack deployed. Network and Cluster are nil on an
// existing cluster.
type Platform struct {
	Config Config
	AWS    *aws.Provider
	// Caller is the AWS principal this run uses; zero on an existing cluster.
	Caller     cluster.Principal
	Network    *network.Network
	Cluster    *cluster.Cluster
	Kubernetes *kubernetes.Provider
	Namespaces *namespaces.Namespaces
	Gateway    *gateway.Gateway
	Mesh       *mesh.Mesh
	Realtime   *realtime.Realtime
	Identity   *identity.Identity
	Vault      *vault.Vault
	GitOps     *gitops.GitOps
	Security   *security.Security
	Admission  *admission.Admission
	Addons     *addons.Addons
}

// Program is the Pulumi program of every stack: it reads and validates the
// stack's configuration (registering nothing when it is invalid), deploys the
// platform and exports its outputs.
func Program(ctx *pulumi.Context) error {
	values, secretKeys := ReadConfig(ctx)
	cfg, problems := Parse(values, secretKeys)
	problems.Extend(CheckStackIdentity(ctx.Stack(), cfg))
	if err := problems.Err(); err != nil {
		return err
	}
	p, err := Deploy(ctx, cfg, ReadSecrets(ctx, cfg))
	if err != nil {
		return err
	}
	for name, value := range p.Outputs() {
		ctx.Export(name, value)
	}
	return nil
}

// ReadConfig returns the stack's config values and secret keys in the form
// Parse takes.
func ReadConfig(ctx *pulumi.Context) (map[string]string, []string) {
	values := map[string]string{}
	var secretKeys []string
	for _, k := range Keys() {
		key := Namespace + ":" + k
		if v, ok := ctx.GetConfig(key); ok {
			values[key] = v
			if ctx.IsConfigSecret(key) {
				secretKeys = append(secretKeys, key)
			}
		}
	}
	return values, secretKeys
}

// Deploy builds the platform for a valid configuration and its secrets: on
// AWS, the network and EKS cluster with an explicit provider for the stack's
// region; on an existing cluster, only a kubernetes provider from its
// kubeconfig. The platform layer then deploys through that kubernetes provider.
func Deploy(ctx *pulumi.Context, cfg Config, secrets Secrets) (*Platform, error) {
	p := &Platform{Config: cfg}
	if cfg.ExistingCluster() {
		provider, err := kubernetes.NewProvider(ctx, "existing-cluster", &kubernetes.ProviderArgs{
			Kubeconfig:            pulumi.ToSecret(pulumi.String(cfg.Cluster.Kubeconfig)).(pulumi.StringOutput),
			EnableServerSideApply: pulumi.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("kubernetes provider: %w", err)
		}
		p.Kubernetes = provider
	} else if err := p.deployAWS(ctx); err != nil {
		return nil, err
	}
	if err := p.deployPlatform(ctx, secrets); err != nil {
		return nil, err
	}
	return p, nil
}

// deployAWS builds the network and the EKS cluster.
func (p *Platform) deployAWS(ctx *pulumi.Context) error {
	cfg := p.Config
	tags := cfg.ResourceTags()
	awsProvider, err := aws.NewProvider(ctx, "aws-"+cfg.Region, &aws.ProviderArgs{
		Region: pulumi.String(cfg.Region),
		// Children of the pulumi-eks components are tagged through these.
		DefaultTags: aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(tags)},
	})
	if err != nil {
		return fmt.Errorf("aws provider: %w", err)
	}
	p.AWS = awsProvider
	inRegion := pulumi.Providers(awsProvider)
	// The principal this run uses must keep the cluster's creator contract
	// (components/cluster/creator.go) before anything is created.
	caller, err := cluster.Caller(ctx, pulumi.Provider(awsProvider))
	if err != nil {
		return err
	}
	if err := cfg.Cluster.CheckCaller(Namespace+":"+KeyCluster, caller.ARN, ctx.DryRun()); err != nil {
		return err
	}
	p.Caller = caller

	netArgs := cfg.Network
	netArgs.ClusterName = cfg.Cluster.Name
	netArgs.Tags = tags
	if p.Network, err = network.NewNetwork(ctx, cfg.Cluster.Name, netArgs, inRegion); err != nil {
		return fmt.Errorf("network: %w", err)
	}

	// The wired pools: autoscaled when the autoscaler owns their size.
	clusterArgs := cfg.wire().Cluster
	clusterArgs.VpcID = p.Network.VpcID
	clusterArgs.PrivateSubnetIDs = p.Network.PrivateSubnetIDs
	clusterArgs.PublicSubnetIDs = p.Network.PublicSubnetIDs
	clusterArgs.Tags = tags
	if p.Cluster, err = cluster.NewCluster(ctx, cfg.Cluster.Name, clusterArgs, inRegion); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	p.Kubernetes = p.Cluster.Kubernetes
	return nil
}

// deployPlatform builds the namespaces and the enabled platform components
// on the cluster, all through the cluster's kubernetes provider, from the
// wired Args (wiring.go) and the stack's secrets.
func (p *Platform) deployPlatform(ctx *pulumi.Context, secrets Secrets) error {
	args := p.Config.wire()
	onCluster := pulumi.Providers(p.Kubernetes)
	var err error
	if p.Namespaces, err = namespaces.NewNamespaces(ctx, "platform", args.Namespaces, onCluster); err != nil {
		return fmt.Errorf("namespaces: %w", err)
	}
	ready := p.Namespaces.All()
	if args.Admission.Enabled {
		// The policies exist before any workload, so no pod escapes them.
		if p.Admission, err = admission.NewAdmission(ctx, "admission", args.Admission, onCluster); err != nil {
			return fmt.Errorf("admission: %w", err)
		}
		ready = append(ready, p.Admission)
	}
	afterNamespaces := pulumi.DependsOn(ready)

	// The add-ons come first: the gateway's proxy Service waits for the
	// load balancer controller, and the Ingresses' certificates for
	// cert-manager.
	var gatewayDeps []pulumi.Resource
	if addonsEnabled(args.Addons) {
		providers := []pulumi.ProviderResource{p.Kubernetes}
		if p.AWS != nil {
			providers = append(providers, p.AWS)
		}
		if p.Cluster != nil {
			args.Addons.ClusterName = p.Cluster.Name
			args.Addons.ClusterArn = p.Caller.ClusterARN(p.Config.Region, p.Config.Cluster.Name)
			args.Addons.VpcID = p.Network.VpcID
		}
		if p.Addons, err = addons.NewAddons(ctx, "addons", args.Addons, pulumi.Providers(providers...), afterNamespaces); err != nil {
			return fmt.Errorf("addons: %w", err)
		}
		if p.Addons.LoadBalancerController != nil {
			gatewayDeps = append(gatewayDeps, p.Addons.LoadBalancerController)
		}
	}

	// Pods of injected namespaces get their sidecar only if istiod's
	// injection webhook serves when they are created: every component with
	// pods waits for the mesh (istiod's release is ready only when its
	// Deployment is, and the webhook with it).
	afterMesh := afterNamespaces
	if args.Mesh.Enabled {
		if p.Mesh, err = mesh.NewMesh(ctx, "mesh", args.Mesh, onCluster, afterNamespaces); err != nil {
			return fmt.Errorf("mesh: %w", err)
		}
		afterMesh = pulumi.DependsOn(append(slices.Clone(ready), p.Mesh))
	}
	if args.Gateway.Enabled {
		args.Gateway.OIDCClientSecret = secrets.OIDCClientSecret
		args.Gateway.DatabasePassword = secrets.KongDBPassword
		if p.Gateway, err = gateway.NewGateway(ctx, "gateway", args.Gateway, onCluster, afterMesh,
			pulumi.DependsOn(gatewayDeps)); err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
	}
	if args.Realtime.Enabled {
		args.Realtime.JWTSecret = secrets.JWTSecret
		if p.Realtime, err = realtime.NewRealtime(ctx, "realtime", args.Realtime, onCluster, afterMesh); err != nil {
			return fmt.Errorf("realtime: %w", err)
		}
	}
	if args.GitOps.Enabled {
		if p.GitOps, err = gitops.NewGitOps(ctx, "gitops", args.GitOps, onCluster, afterMesh); err != nil {
			return fmt.Errorf("gitops: %w", err)
		}
	}
	if args.Security.Enabled {
		if p.Security, err = security.NewSecurity(ctx, "security", args.Security, onCluster, afterMesh); err != nil {
			return fmt.Errorf("security: %w", err)
		}
	}
	if args.Identity.Enabled {
		// Keycloak's admin API, reached at its URL with the bootstrap admin.
		kc, err := keycloak.NewProvider(ctx, "keycloak", &keycloak.ProviderArgs{
			Url:      secrets.KeycloakURL,
			ClientId: pulumi.String("admin-cli"),
			Realm:    pulumi.String("master"),
			Username: pulumi.String("admin"),
			Password: secrets.KeycloakAdminPassword,
			// Log in when a realm resource needs Keycloak, not while the
			// provider is configured: on a new region's first preview and
			// up Keycloak does not exist yet (pulumi-keycloak 5.2.1
			// ProviderArgs.InitialLogin; the Terraform provider defaults it to true).
			InitialLogin: pulumi.Bool(false),
		})
		if err != nil {
			return fmt.Errorf("keycloak provider: %w", err)
		}
		if p.Network != nil {
			// The deploying runners sit in the VPC and reach Keycloak's
			// public host through the NAT gateways; the admin API, which
			// the keycloak provider uses, admits them by those addresses.
			args.Identity.AdminSources = p.Network.NATPublicIPs
		}
		args.Identity.Credentials = identity.Credentials{
			AdminPassword: secrets.KeycloakAdminPassword, DBPassword: secrets.KeycloakDBPassword,
			ClientSecret: secrets.OIDCClientSecret, LDAPBindCredential: secrets.LDAPBindCredential,
		}
		if p.Identity, err = identity.NewIdentity(ctx, "identity", args.Identity,
			pulumi.Providers(p.Kubernetes, kc), afterMesh); err != nil {
			return fmt.Errorf("identity: %w", err)
		}
		if p.Gateway != nil {
			// The jwt plugin verifies tokens against the realm's signing key.
			key := identity.SigningKey(ctx, p.Identity.Realm, pulumi.Provider(kc)).ApplyT(gateway.PublicKeyPEM).(pulumi.StringOutput)
			if _, err := gateway.NewJWTIssuer(ctx, "gateway-jwt", gateway.JWTIssuerArgs{
				Namespace: args.Gateway.Namespace, Issuer: args.Identity.Issuer(), PublicKeyPEM: key,
			}, onCluster, pulumi.DependsOn([]pulumi.Resource{p.Gateway})); err != nil {
				return fmt.Errorf("gateway jwt issuer: %w", err)
			}
		}
	}
	if args.Vault.Enabled {
		v, err := vaultsdk.NewProvider(ctx, "vault", &vaultsdk.ProviderArgs{
			Address: secrets.VaultAddress,
			Token:   secrets.VaultToken,
		})
		if err != nil {
			return fmt.Errorf("vault provider: %w", err)
		}
		args.Vault.DatabasePassword = secrets.YugabyteVaultPassword
		if p.Vault, err = vault.NewVault(ctx, "vault", args.Vault, pulumi.Providers(v)); err != nil {
			return fmt.Errorf("vault: %w", err)
		}
	}
	return nil
}

// Outputs are the stack outputs; the kubeconfig is a secret.
func (p *Platform) Outputs() map[string]pulumi.Input {
	outputs := map[string]pulumi.Input{
		"environment": pulumi.String(p.Config.Environment),
	}
	if p.Cluster == nil {
		return outputs
	}
	pools := pulumi.StringMap{}
	for key, name := range p.Cluster.NodeGroupNames {
		pools[key] = pulumi.String(name)
	}
	outputs["region"] = pulumi.String(p.Config.Region)
	outputs["clusterName"] = p.Cluster.Name
	outputs["vpcId"] = p.Network.VpcID
	outputs["privateSubnetIds"] = p.Network.PrivateSubnetIDs
	outputs["publicSubnetIds"] = p.Network.PublicSubnetIDs
	outputs["oidcProviderArn"] = p.Cluster.OidcProviderArn
	outputs["secretsKeyArn"] = p.Cluster.SecretsKeyArn
	outputs["nodePoolNames"] = pools
	outputs["kubeconfig"] = pulumi.ToSecret(p.Cluster.Kubeconfig)
	if p.Addons != nil && p.Config.Addons.ZoneNeeded() {
		outputs["hostedZoneId"] = p.Addons.ZoneID
		outputs["hostedZoneNameServers"] = p.Addons.NameServers
	}
	if p.Addons != nil && p.Config.Addons.Backups.Enabled {
		outputs["backupBucket"] = p.Addons.BackupBucket
	}
	return outputs
}

// addonsEnabled reports whether any cluster add-on is on.
func addonsEnabled(a addons.Args) bool {
	return a.Autoscaler.Enabled || a.MetricsServer.Enabled || a.GPU.Enabled || a.LoadBalancer.Enabled ||
		a.Certificates.Enabled || a.DNS.Enabled || a.Backups.Enabled
}
