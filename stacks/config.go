// Package stacks is the typed configuration of a region stack and the
// assembly of the platform's components for it. main.go and the offline plan
// both run Program.
package stacks

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/addons"
	"github.com/bac-platform/infra/components/admission"
	"github.com/bac-platform/infra/components/cluster"
	"github.com/bac-platform/infra/components/gateway"
	"github.com/bac-platform/infra/components/gitops"
	"github.com/bac-platform/infra/components/identity"
	"github.com/bac-platform/infra/components/mesh"
	"github.com/bac-platform/infra/components/network"
	"github.com/bac-platform/infra/components/realtime"
	"github.com/bac-platform/infra/components/security"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/components/validate"
	"github.com/bac-platform/infra/components/vault"
)

// Namespace is the config namespace of every project setting (bac:cluster, ...).
const Namespace = "bac"

// Config keys the program reads, without the namespace.
const (
	KeyEnvironment = "environment"
	KeyRegion      = "region"
	KeyDomain      = "domain"
	KeyNetwork     = "network"
	KeyCluster     = "cluster"
	KeyTags        = "tags"
	KeyServices    = "services"
	KeyGateway     = "gateway"
	KeyMesh        = "mesh"
	KeyRealtime    = "realtime"
	KeyIdentity    = "identity"
	KeyVault       = "vault"
	KeyGitOps      = "gitops"
	KeySecurity    = "security"
	KeyAdmission   = "admission"
	KeyAddons      = "addons"
	// Secrets: set with `pulumi config set --secret`.
	KeyOIDCClientSecret      = "oidcClientSecret"
	KeyKongDBPassword        = "kongDbPassword"
	KeyJWTSecret             = "jwtSecret"
	KeyKeycloakURL           = "keycloakUrl"
	KeyKeycloakAdminPassword = "keycloakAdminPassword"
	KeyKeycloakDBPassword    = "keycloakDbPassword"
	KeyLDAPBindCredential    = "ldapBindCredential"
	KeyVaultAddress          = "vaultAddress"
	KeyVaultToken            = "vaultToken"
	KeyYugabyteVaultPassword = "yugabyteVaultPassword"
)

// KubeconfigPath is the nested secret that points a stack at an existing cluster.
const KubeconfigPath = Namespace + ":" + KeyCluster + ".kubeconfig"

// Keys lists every key the program reads; others in the namespace are mistakes.
func Keys() []string {
	return append([]string{KeyEnvironment, KeyRegion, KeyRegionMismatch, KeyDomain, KeyNetwork, KeyCluster, KeyTags, KeyServices,
		KeyGateway, KeyMesh, KeyRealtime, KeyIdentity, KeyVault, KeyGitOps, KeySecurity, KeyAdmission, KeyAddons}, SecretKeys()...)
}

// Environments.
const (
	Production = "production"
	Staging    = "staging"
	// Local targets an existing (kind, minikube) cluster: no AWS resources.
	Local = "local"
)

// environmentShort is the environment's part of default resource names
// ("" for an unknown environment).
func environmentShort(environment string) string {
	return map[string]string{Production: "prod", Staging: "staging", Local: "local"}[environment]
}

// Tags every taggable resource carries, set by the program.
const (
	TagEnvironment = "Environment"
	TagCluster     = "Cluster"
	TagManagedBy   = "ManagedBy"
	TagProject     = "Project"
)

// Config is one stack's typed configuration.
type Config struct {
	// Environment is production, staging or local.
	Environment string
	// Region is the AWS region the stack deploys into (optional for local).
	Region string
	// RegionMismatch (bac:regionMismatch) is why a stack named for one
	// region deploys into another; empty when it deploys where its name says.
	RegionMismatch string
	// Domain (bac:domain) is the DNS domain every public host name derives
	// from: api.<domain>, auth.<domain>, argocd.<domain>, app.<domain>.
	Domain string
	// Network is bac:network.
	Network network.Args
	// Cluster is bac:cluster.
	Cluster cluster.Args
	// Tags (bac:tags) are extra tags for every taggable resource.
	Tags map[string]string
	// Services (bac:services) are the business services.
	Services []services.Service
	// Gateway, Mesh and Realtime are the platform layer (bac:gateway, ...).
	Gateway  gateway.Args
	Mesh     mesh.Args
	Realtime realtime.Args
	// Identity, Vault, GitOps and Security are platform layer II.
	Identity identity.Args
	Vault    vault.Args
	GitOps   gitops.Args
	Security security.Args
	// Admission (bac:admission) enforces the gate's workload rules in the cluster.
	Admission admission.Args
	// Addons (bac:addons) are the cluster add-ons: autoscaling, metrics,
	// GPU, load balancers, certificates, DNS and backups.
	Addons addons.Args
}

// Defaults returns the configuration a stack gets when its file names only
// the environment and region. Component defaults come from the components.
func Defaults(environment, region string) Config {
	name := fmt.Sprintf("bac-%s-%s", environmentShort(environment), region)
	if region == "" {
		name = "bac-" + environmentShort(environment)
	}
	net := network.DefaultArgs(region)
	if environment != Production {
		net.NATGateways = network.NATSingle
	}
	gw := gateway.DefaultArgs()
	if environment == Local {
		gw.AWSLoadBalancer = false
	}
	domain := ""
	clusterAddons := addons.DefaultArgs()
	if environment == Local {
		domain = LocalDomain
		// A laptop cluster has no AWS identities, node groups or zone.
		clusterAddons = addons.Off()
	}
	return Config{
		Environment: environment,
		Region:      region,
		Domain:      domain,
		Network:     net,
		Cluster:     cluster.DefaultArgs(name),
		Tags:        map[string]string{},
		Services:    services.Default(),
		Gateway:     gw,
		Mesh:        mesh.DefaultArgs(),
		Realtime:    realtime.DefaultArgs(),
		Identity:    identity.DefaultArgs(),
		Vault:       vault.DefaultArgs(),
		GitOps:      gitops.DefaultArgs(),
		Security:    security.DefaultArgs(),
		Admission:   admission.DefaultArgs(environment == Production),
		Addons:      clusterAddons,
	}
}

// LocalDomain is the local stack's domain: *.localhost resolves to the
// loopback address on every major OS (RFC 6761), so a laptop cluster's
// ingress is reachable without DNS.
const LocalDomain = "bac.localhost"

// ExistingCluster reports whether the stack deploys onto an existing cluster
// (local environment, or bac:cluster.kubeconfig set) instead of building the
// network and EKS layers.
func (c Config) ExistingCluster() bool { return c.Environment == Local || c.Cluster.Kubeconfig != "" }

// ServiceNames are the business services' short names.
func (c Config) ServiceNames() []string {
	names := make([]string, len(c.Services))
	for i, s := range c.Services {
		names[i] = s.Name
	}
	return names
}

// Parse builds a stack's Config from its config values, keyed by full key
// ("bac:cluster") with structured values as JSON, as Pulumi passes them to
// programs; secretKeys are the keys holding secure values. It returns every
// problem found, each naming its config path: Decode's and CheckSecrets'.
func Parse(values map[string]string, secretKeys []string) (Config, validate.Problems) {
	cfg, ps := Decode(values)
	if len(ps) > 0 {
		return cfg, ps
	}
	return cfg, CheckSecrets(cfg, values, secretKeys)
}

// Decode builds a stack's Config from its config values (as Parse takes
// them) and validates it; secrets are not checked (see CheckSecrets).
func Decode(values map[string]string) (Config, validate.Problems) {
	var ps validate.Problems
	key := func(k string) string { return Namespace + ":" + k }
	known := Keys()
	for k := range values {
		ns, name, _ := strings.Cut(k, ":")
		if ns == Namespace && !slices.Contains(known, name) {
			ps.Add(k, "unknown setting; known settings are %s:%s", Namespace, strings.Join(known, ", "+Namespace+":"))
		}
	}
	env, region := values[key(KeyEnvironment)], values[key(KeyRegion)]
	if environmentShort(env) == "" {
		ps.Add(key(KeyEnvironment), "%q is not one of %s, %s, %s", env, Production, Staging, Local)
	}
	if !slices.Contains(Regions(), region) && !(env == Local && region == "") {
		ps.Add(key(KeyRegion), "%q is not a known AWS region", region)
	}
	cfg := Defaults(env, region)
	if d, ok := values[key(KeyDomain)]; ok {
		cfg.Domain = d
	}
	cfg.RegionMismatch = values[key(KeyRegionMismatch)]
	for _, part := range []struct {
		key string
		dst any
	}{
		{KeyNetwork, &cfg.Network}, {KeyCluster, &cfg.Cluster}, {KeyTags, &cfg.Tags}, {KeyServices, &cfg.Services},
		{KeyGateway, &cfg.Gateway}, {KeyMesh, &cfg.Mesh}, {KeyRealtime, &cfg.Realtime},
		{KeyIdentity, &cfg.Identity}, {KeyVault, &cfg.Vault}, {KeyGitOps, &cfg.GitOps}, {KeySecurity, &cfg.Security},
		{KeyAdmission, &cfg.Admission},
		{KeyAddons, &cfg.Addons},
	} {
		if raw, ok := values[key(part.key)]; ok {
			ps.Extend(overlay(key(part.key), raw, part.dst))
		}
	}
	if len(ps) > 0 {
		return cfg, ps
	}
	return cfg, cfg.Validate()
}

// Validate returns every problem in the configuration, including the
// components' own checks.
func (c Config) Validate() validate.Problems {
	var ps validate.Problems
	if !c.ExistingCluster() {
		ps.Extend(c.Network.Validate(Namespace + ":" + KeyNetwork))
		ps.Extend(c.Cluster.Validate(Namespace + ":" + KeyCluster))
		ps.Extend(c.Network.ValidateZones(Namespace+":"+KeyNetwork, c.Region))
	}
	ps.Extend(c.checkEndpointExposure())
	ps.Extend(c.checkProductionLayers())
	ps.Extend(c.checkTags())
	for _, reserved := range []string{TagEnvironment, TagCluster, TagManagedBy, TagProject} {
		if _, ok := c.Tags[reserved]; ok {
			ps.Add(Namespace+":"+KeyTags+"."+reserved, "is set by the program and cannot be overridden")
		}
	}
	if c.Domain == "" {
		ps.Add(Namespace+":"+KeyDomain, "is required: the DNS domain the platform's hosts (api., auth., argocd., app.) derive from")
	} else {
		validate.DNSName(&ps, Namespace+":"+KeyDomain, c.Domain)
		if validate.Placeholder(c.Domain, c.Environment == Local) {
			ps.Add(Namespace+":"+KeyDomain, "%q is a placeholder or reserved name; use the platform's real domain", c.Domain)
		} else if why := validate.NotPublicDomain(c.Domain); why != "" && c.Environment != Local {
			ps.Add(Namespace+":"+KeyDomain, "%q cannot be public (%s): no public zone can be delegated for it and no public certificate issued; outside the local stack use a domain you can delegate", c.Domain, why)
		}
	}
	ps.Extend(services.Validate(Namespace+":"+KeyServices, c.Services))
	ps.Extend(c.checkServiceNamespaces())
	wired := c.wire()
	ps.Extend(wired.Gateway.Validate(Namespace + ":" + KeyGateway))
	ps.Extend(wired.Mesh.Validate(Namespace + ":" + KeyMesh))
	ps.Extend(wired.Realtime.Validate(Namespace + ":" + KeyRealtime))
	ps.Extend(wired.Identity.Validate(Namespace + ":" + KeyIdentity))
	ps.Extend(wired.Vault.Validate(Namespace + ":" + KeyVault))
	ps.Extend(wired.GitOps.Validate(Namespace + ":" + KeyGitOps))
	ps.Extend(wired.Security.Validate(Namespace + ":" + KeySecurity))
	ps.Extend(wired.Admission.Validate(Namespace + ":" + KeyAdmission))
	ps.Extend(wired.Addons.Validate(Namespace + ":" + KeyAddons))
	ps.Extend(c.checkAddons())
	ps.Extend(wired.Namespaces.Validate("namespaces derived from the components"))
	ps.Extend(c.crossCheck())
	if c.Environment != Local {
		// Components accept localhost names (the local stack); a shared
		// environment must not point users or tokens at a laptop.
		for field, list := range map[string][]string{
			KeyGateway + ".cors.origins": wired.Gateway.CORS.Origins, KeyIdentity + ".client.redirectUris": wired.Identity.Client.RedirectURIs,
			KeyIdentity + ".client.webOrigins": wired.Identity.Client.WebOrigins,
		} {
			for i, v := range list {
				if validate.Placeholder(v, false) {
					ps.Add(fmt.Sprintf("%s:%s[%d]", Namespace, field, i), "%q names a local or reserved host in the %s environment", v, c.Environment)
				} else if strings.HasPrefix(v, "http://") {
					ps.Add(fmt.Sprintf("%s:%s[%d]", Namespace, field, i), "%q is plain http; the %s environment serves https only", v, c.Environment)
				}
			}
		}
	}
	if c.Mesh.Enabled && !c.Mesh.InstallWithHelm && c.Environment == Production {
		ps.Add(Namespace+":"+KeyMesh+".installWithHelm", "cannot be false in production: Argo CD would install istiod asynchronously, and pods that start before its injection webhook serves run without sidecars (STRICT peers then refuse them, or mTLS silently does not apply)")
	}
	if c.Mesh.Enabled && !c.Mesh.InstallWithHelm && !c.GitOps.Enabled {
		ps.Add(Namespace+":"+KeyMesh+".installWithHelm", "is false (GitOps installs istiod) but bac:gitops.enabled is false: nothing would install istiod")
	}
	if c.Gateway.Enabled && !c.Identity.Enabled {
		// The jwt plugin trusts only the realm's key (gateway.NewJWTIssuer):
		// without the realm no token verifies and every such route answers 401.
		for i, r := range c.Gateway.Routes {
			if slices.Contains(r.Plugins, gateway.PluginJWT) {
				ps.Add(fmt.Sprintf("%s:%s.routes[%d].plugins", Namespace, KeyGateway, i),
					"%q needs the identity realm whose signing key it trusts, but %s:%s.enabled is false", gateway.PluginJWT, Namespace, KeyIdentity)
			}
		}
	}
	return ps
}

// checkServiceNamespaces refuses a business service in a platform
// component's namespace: the service's default-deny and zero-trust policies
// would cut the component off, and the namespace would be created twice.
func (c Config) checkServiceNamespaces() validate.Problems {
	var ps validate.Problems
	platform := map[string]string{}
	for _, comp := range []struct {
		key, namespace string
		on             bool
	}{
		{KeyGateway, c.Gateway.Namespace, c.Gateway.Enabled}, {KeyRealtime, c.Realtime.Namespace, c.Realtime.Enabled},
		{KeyIdentity, c.Identity.Namespace, c.Identity.Enabled}, {KeyGitOps, c.GitOps.Namespace, c.GitOps.Enabled},
		{KeySecurity, c.Security.Namespace, c.Security.Enabled}, {KeyMesh, mesh.Namespace, c.Mesh.Enabled},
		{KeyGitOps, gitops.MonitoringNamespace, c.GitOps.Enabled},
	} {
		if comp.on {
			platform[comp.namespace] = Namespace + ":" + comp.key
		}
	}
	for i, s := range c.Services {
		if owner, taken := platform[s.Namespace]; taken {
			ps.Add(fmt.Sprintf("%s:%s[%d].namespace", Namespace, KeyServices, i), "%q is %s's namespace; a business service needs its own", s.Namespace, owner)
		}
	}
	return ps
}

// ResourceTags are the tags every taggable resource of the stack carries.
func (c Config) ResourceTags() map[string]string {
	tags := maps.Clone(c.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[TagEnvironment] = c.Environment
	tags[TagCluster] = c.Cluster.Name
	tags[TagManagedBy] = "pulumi"
	tags[TagProject] = "bac-platform"
	return tags
}

// CheckOverlaps reports what stacks (keyed by stack name) must not share:
// network CIDRs that overlap (regions must be peerable and routable to one
// another; stacks on existing clusters have no network of their own), and
// Vault mount paths (stacks may share one Vault).
func CheckOverlaps(configs map[string]Config) validate.Problems {
	var ps validate.Problems
	mounts := map[string]string{}
	for _, n := range slices.Sorted(maps.Keys(configs)) {
		v := configs[n].wire().Vault
		if !v.Enabled {
			continue
		}
		for field, mount := range map[string]string{"transitPath": v.TransitPath, "databasePath": v.DatabasePath} {
			if other, taken := mounts[mount]; taken {
				ps.Add(fmt.Sprintf("%s: %s:%s.%s", n, Namespace, KeyVault, field), "mount %q is stack %s's too; stacks sharing a Vault need their own mounts", mount, other)
			}
			mounts[mount] = n
		}
	}
	names := make([]string, 0, len(configs))
	for n, c := range configs {
		if !c.ExistingCluster() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for i, a := range names {
		pa, errA := netip.ParsePrefix(configs[a].Network.CIDR)
		for _, b := range names[i+1:] {
			pb, errB := netip.ParsePrefix(configs[b].Network.CIDR)
			if errA == nil && errB == nil && pa.Overlaps(pb) {
				ps.Add(fmt.Sprintf("%s: %s:%s.cidr", a, Namespace, KeyNetwork), "%s overlaps stack %s's %s", pa, b, pb)
			}
		}
	}
	return ps
}
