package stacks

import (
	"fmt"

	"github.com/bac-platform/infra/components/cluster"
	"github.com/bac-platform/infra/components/gateway"
	"github.com/bac-platform/infra/components/gitops"
	"github.com/bac-platform/infra/components/identity"
	"github.com/bac-platform/infra/components/mesh"
	"github.com/bac-platform/infra/components/namespaces"
	"github.com/bac-platform/infra/components/network"
	"github.com/bac-platform/infra/components/realtime"
	"github.com/bac-platform/infra/components/secrets"
	"github.com/bac-platform/infra/components/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-vault/sdk/v7/go/vault"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Platform is what one stack deployed. Network and Cluster are nil on an
// existing cluster.
type Platform struct {
	Config     Config
	Network    *network.Network
	Cluster    *cluster.Cluster
	Kubernetes *kubernetes.Provider
	Namespaces *namespaces.Namespaces
	Gateway    *gateway.Gateway
	Mesh       *mesh.Mesh
	Realtime   *realtime.Realtime
	Identity   *identity.Identity
	Secrets    *secrets.Secrets
	GitOps     *gitops.GitOps
	Security   *security.Security
}

// Program is the Pulumi program of every stack: it reads and validates the
// stack's configuration (registering nothing when it is invalid), deploys the
// platform and exports its outputs.
func Program(ctx *pulumi.Context) error {
	values, secretKeys := ReadConfig(ctx)
	cfg, problems := Parse(values, secretKeys)
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

// ReadConfig returns the stack's config values and secret keys in the form
// Parse takes.
func ReadConfig(ctx *pulumi.Context) (map[string]string, []string) {
	values := map[string]string{}
	var secretKeys []string
	for _, k := range Keys {
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

// Deploy builds the platform for a valid configuration: on AWS, the network
// and EKS cluster with an explicit provider for the stack's region; on an
// existing cluster, only a kubernetes provider from its kubeconfig. The
// platform layer then deploys through that kubernetes provider.
func Deploy(ctx *pulumi.Context, cfg Config) (*Platform, error) {
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
	if err := p.deployPlatform(ctx); err != nil {
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
	inRegion := pulumi.Providers(awsProvider)

	netArgs := cfg.Network
	netArgs.ClusterName = cfg.Cluster.Name
	netArgs.Tags = tags
	if p.Network, err = network.NewNetwork(ctx, cfg.Cluster.Name, netArgs, inRegion); err != nil {
		return fmt.Errorf("network: %w", err)
	}

	clusterArgs := cfg.Cluster
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
// on the cluster, all through the cluster's kubernetes provider.
func (p *Platform) deployPlatform(ctx *pulumi.Context) error {
	cfg := p.Config
	onCluster := pulumi.Providers(p.Kubernetes)
	var serviceNamespaces []string
	for _, s := range cfg.Services {
		serviceNamespaces = append(serviceNamespaces, s.Namespace)
	}
	var err error
	p.Namespaces, err = namespaces.NewNamespaces(ctx, "platform", namespaces.Args{
		Platform: namespaces.Platform, Services: serviceNamespaces, MeshInjection: cfg.Mesh.Enabled,
	}, onCluster)
	if err != nil {
		return fmt.Errorf("namespaces: %w", err)
	}
	afterNamespaces := pulumi.DependsOn(p.Namespaces.All())
	secret := func(key string) pulumi.StringOutput { return config.RequireSecret(ctx, Namespace+":"+key) }

	if cfg.Mesh.Enabled {
		if p.Mesh, err = mesh.NewMesh(ctx, "mesh", cfg.Mesh, cfg.Services, onCluster, afterNamespaces); err != nil {
			return fmt.Errorf("mesh: %w", err)
		}
	}
	if cfg.Gateway.Enabled {
		args := cfg.Gateway
		args.OIDCClientSecret = secret(KeyOIDCClientSecret)
		if p.Gateway, err = gateway.NewGateway(ctx, "gateway", args, cfg.Services, onCluster, afterNamespaces); err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
	}
	if cfg.Realtime.Enabled {
		args := cfg.Realtime
		args.JWTSecret = secret(KeyJWTSecret)
		if p.Realtime, err = realtime.NewRealtime(ctx, "realtime", args, cfg.Services, onCluster, afterNamespaces); err != nil {
			return fmt.Errorf("realtime: %w", err)
		}
	}
	if cfg.GitOps.Enabled {
		var istio *gitops.Istio
		if cfg.Mesh.Enabled && !cfg.Mesh.InstallWithHelm {
			istio = &gitops.Istio{Chart: cfg.Mesh.Chart, Values: mesh.IstiodValues(cfg.Mesh)}
		}
		if p.GitOps, err = gitops.NewGitOps(ctx, "gitops", cfg.GitOps, cfg.Services, istio, onCluster, afterNamespaces); err != nil {
			return fmt.Errorf("gitops: %w", err)
		}
	}
	if cfg.Security.Enabled {
		if p.Security, err = security.NewSecurity(ctx, "security", cfg.Security, onCluster, afterNamespaces); err != nil {
			return fmt.Errorf("security: %w", err)
		}
	}
	if cfg.Identity.Enabled {
		// Keycloak's admin API, reached at its URL with the bootstrap admin.
		kc, err := keycloak.NewProvider(ctx, "keycloak", &keycloak.ProviderArgs{
			Url:      secret(KeyKeycloakURL),
			ClientId: pulumi.String("admin-cli"),
			Realm:    pulumi.String("master"),
			Username: pulumi.String("admin"),
			Password: secret(KeyKeycloakAdminPassword),
		})
		if err != nil {
			return fmt.Errorf("keycloak provider: %w", err)
		}
		creds := identity.Secrets{
			AdminPassword: secret(KeyKeycloakAdminPassword), DBPassword: secret(KeyKeycloakDBPassword),
			ClientSecret: secret(KeyOIDCClientSecret),
		}
		if cfg.Identity.LDAP.Enabled {
			creds.LDAPBindCredential = secret(KeyLDAPBindCredential)
		}
		if p.Identity, err = identity.NewIdentity(ctx, "identity", cfg.Identity, creds,
			pulumi.Providers(p.Kubernetes, kc), afterNamespaces); err != nil {
			return fmt.Errorf("identity: %w", err)
		}
	}
	if cfg.Secrets.Enabled {
		v, err := vault.NewProvider(ctx, "vault", &vault.ProviderArgs{
			Address: secret(KeyVaultAddress),
			Token:   secret(KeyVaultToken),
		})
		if err != nil {
			return fmt.Errorf("vault provider: %w", err)
		}
		if p.Secrets, err = secrets.NewSecrets(ctx, "secrets", cfg.Secrets, secret(KeyYugabyteVaultPassword), pulumi.Providers(v)); err != nil {
			return fmt.Errorf("secrets: %w", err)
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
	return outputs
}
