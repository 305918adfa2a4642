package stacks

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/bac-platform/infra/components/addons"
	"github.com/bac-platform/infra/components/admission"
	"github.com/bac-platform/infra/components/gateway"
	"github.com/bac-platform/infra/components/gitops"
	"github.com/bac-platform/infra/components/mesh"
	"github.com/bac-platform/infra/components/namespaces"
	"github.com/bac-platform/infra/components/realtime"
	"github.com/bac-platform/infra/components/validate"
)

// This file is the one place where facts that two components share are
// derived: each component's Args hold what its JSON form says, and wire
// fills in their "set by the stack" fields from the components they depend
// on. Config.Validate validates the wired Args, and Deploy deploys them, so
// the plan, the checks and the deployment agree.

// wiredConfig is the configuration with the components' "set by the stack"
// fields filled in, and the namespaces the enabled components need.
type wiredConfig struct {
	Config
	Namespaces namespaces.Args
}

// wire derives the shared facts:
//   - every public host derives from the one domain (api., auth., argocd.,
//     app.), as do the API client's redirect URIs and web origins and the
//     gateway's CORS origin unless a stack lists its own;
//   - every component that routes, protects or deploys the business services
//     gets the one service list;
//   - the gateway's OIDC issuer, realm and client come from identity when the
//     stack deploys it;
//   - the mesh admits the gateway's namespace and service account;
//   - the routed services' Services get the gateway's annotations through
//     their GitOps Applications (service-upstream in the mesh, timeouts);
//   - GitOps installs istiod with the mesh's values when the mesh does not;
//   - Vault's mount paths default to the cluster's name, so stacks sharing
//     one Vault never share a mount;
//   - the namespaces to create are the enabled components' namespaces;
//   - the add-ons' facts (wireAddons in addons.go).
//
// Secrets are not part of it: Deploy adds them from ReadSecrets.
func (c Config) wire() wiredConfig {
	a := wiredConfig{Config: c}
	d := c.Domain
	a.Gateway.Host, a.Identity.Hostname, a.GitOps.Hostname = "api."+d, "auth."+d, "argocd."+d
	if len(a.Identity.Client.RedirectURIs) == 0 {
		a.Identity.Client.RedirectURIs = []string{"https://api." + d + "/auth/callback", "https://app." + d + "/auth/callback"}
	}
	if len(a.Identity.Client.WebOrigins) == 0 {
		a.Identity.Client.WebOrigins = []string{"https://api." + d, "https://app." + d}
	}
	if len(a.Gateway.CORS.Origins) == 0 {
		// The seed also lists https://*.<domain>; Kong's cors plugin reads
		// origins as regular expressions, so that would admit any origin
		// containing the domain's text. Only the app's own origin is derived.
		a.Gateway.CORS.Origins = []string{"https://app." + d}
	}
	a.Admission.Production = c.Environment == Production
	a.Admission.Exceptions = a.Security.Exceptions()
	a.Gateway.Services = c.Services
	a.Gateway.InMesh = c.Mesh.Enabled
	a.Gateway.Production = c.Environment == Production
	a.Mesh.Services = c.Services
	a.Realtime.Services = c.Services
	a.GitOps.Services = c.Services

	if c.Gateway.Enabled {
		a.Identity.IngressClass = gateway.IngressClass
		a.Identity.RoutePlugins = []string{gateway.PluginRateLimitGlobal}
		if len(a.Identity.AdminCIDRs) == 0 {
			// The administrators' networks: those that may reach the
			// cluster's API may reach Keycloak's admin API; an endpoint
			// open to everyone (a /0, which the gate refuses in
			// production) names no administrators' network.
			for _, cidr := range c.Cluster.PublicAccessCIDRs {
				if p, err := netip.ParsePrefix(cidr); err == nil && p.Bits() > 0 {
					a.Identity.AdminCIDRs = append(a.Identity.AdminCIDRs, cidr)
				}
			}
		}
	}
	if c.Identity.Enabled {
		oidc := &a.Gateway.OIDC
		oidc.Issuer = or(oidc.Issuer, a.Identity.Issuer())
		// No token the realm issues lives longer than its lifespan, so
		// none that claims to may pass the gateway.
		if lifespan, ok := a.Identity.Realm.AccessTokenSeconds(); ok && a.Gateway.JWT.MaximumExpirationSeconds == 0 {
			a.Gateway.JWT.MaximumExpirationSeconds = lifespan
		}
		oidc.Realm = or(oidc.Realm, c.Identity.Realm.Name)
		oidc.ClientID = or(oidc.ClientID, c.Identity.Client.ClientID)
	}
	if c.Gateway.Enabled {
		a.Mesh.AllowedPrincipals = appendMissing(a.Mesh.AllowedPrincipals, mesh.Principal(c.Gateway.Namespace, gateway.ServiceAccount))
		a.Mesh.IngressNamespaces = appendMissing(a.Mesh.IngressNamespaces, c.Gateway.Namespace)
	}
	if c.Realtime.Enabled {
		// The GraphQL gateway calls every service's subgraph.
		a.Mesh.Callers = append(a.Mesh.Callers, mesh.Caller{
			Principal: mesh.Principal(c.Realtime.Namespace, realtime.GraphQLServiceAccount),
			Methods:   []string{"GET", "POST"}, Paths: []string{c.Realtime.GraphQL.SubgraphPath},
		})
		a.Mesh.IngressNamespaces = appendMissing(a.Mesh.IngressNamespaces, c.Realtime.Namespace)
	}
	if c.Mesh.Enabled && !c.Mesh.InstallWithHelm {
		a.GitOps.Istio = &gitops.Istio{Chart: c.Mesh.Chart, Values: mesh.IstiodValues(c.Mesh)}
		a.GitOps.MeshNamespace = mesh.Namespace
	}
	if c.Gateway.Enabled && c.GitOps.AppsOwner == gitops.OwnerPulumi {
		// The routed services' own Services carry what Kong needs of them.
		a.GitOps.ServiceAnnotations = gateway.ServiceAnnotations(a.Gateway)
	}
	a.Vault.TransitPath = or(a.Vault.TransitPath, c.Cluster.Name+"/transit")
	a.Vault.DatabasePath = or(a.Vault.DatabasePath, c.Cluster.Name+"/database")
	a.Namespaces = c.namespaces()
	a.wireAddons()
	return a
}

// namespaces are the namespaces the enabled components deploy into, and
// those the mesh's policies name, each once: a service namespace joins the
// mesh, as does the gateway's (its calls to the services carry its identity).
func (c Config) namespaces() namespaces.Args {
	var list []namespaces.Namespace
	add := func(name, tier string, inject bool) {
		for i := range list {
			if list[i].Name == name {
				list[i].MeshInjection = list[i].MeshInjection || inject
				return
			}
		}
		list = append(list, namespaces.Namespace{Name: name, Tier: tier, MeshInjection: inject})
	}
	inMesh := c.Mesh.Enabled
	for _, s := range c.Services {
		add(s.Namespace, namespaces.TierService, inMesh)
	}
	if c.Gateway.Enabled {
		add(c.Gateway.Namespace, namespaces.TierPlatform, inMesh)
	}
	if c.Realtime.Enabled {
		add(c.Realtime.Namespace, namespaces.TierPlatform, false)
	}
	if c.Identity.Enabled {
		add(c.Identity.Namespace, namespaces.TierPlatform, false)
	}
	if c.GitOps.Enabled {
		add(c.GitOps.Namespace, namespaces.TierPlatform, false)
		add(gitops.MonitoringNamespace, namespaces.TierPlatform, false)
	}
	if c.Security.Enabled {
		add(c.Security.Namespace, namespaces.TierPlatform, false)
	}
	for _, ns := range c.addonNamespaces() {
		add(ns, namespaces.TierPlatform, false)
	}
	if c.Mesh.Enabled {
		add(mesh.Namespace, namespaces.TierPlatform, false)
		// The policies admit and reach these; their label must exist.
		for _, ns := range c.Mesh.IngressNamespaces {
			add(ns, namespaces.TierPeer, false)
		}
		for _, e := range c.Mesh.Egress {
			add(e.Namespace, namespaces.TierPeer, false)
		}
	}
	return namespaces.Args{Namespaces: list}
}

// or is value, or fallback when value is empty.
func or(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

// appendMissing appends v to list unless it is there.
func appendMissing(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(slices.Clone(list), v)
}

// crossCheck reports values set on both sides of a shared fact that
// disagree: a stack may set the gateway's OIDC settings for an external
// identity provider, but with identity deployed they must match it.
func (c Config) crossCheck() validate.Problems {
	var ps validate.Problems
	if c.Gateway.Enabled && c.Identity.Enabled {
		gw, id := Namespace+":"+KeyGateway+".oidc.", Namespace+":"+KeyIdentity
		for _, pair := range []struct{ field, set, derived, from string }{
			{"issuer", c.Gateway.OIDC.Issuer, c.wire().Identity.Issuer(), Namespace + ":" + KeyDomain + " and " + id + ".realm.name"},
			{"realm", c.Gateway.OIDC.Realm, c.Identity.Realm.Name, id + ".realm.name"},
			{"clientId", c.Gateway.OIDC.ClientID, c.Identity.Client.ClientID, id + ".client.clientId"},
		} {
			if pair.set != "" && pair.set != pair.derived {
				ps.Add(gw+pair.field, "%q differs from %q derived from %s; leave it unset to use the deployed identity provider",
					pair.set, pair.derived, pair.from)
			}
		}
		jwt := Namespace + ":" + KeyGateway + ".jwt."
		if slices.Contains(c.Gateway.JWT.ClaimsToVerify, "nbf") {
			ps.Add(jwt+"claimsToVerify", "verifies nbf, which Keycloak's access tokens do not carry; Kong fails a missing claim, so every token of the realm would be refused (401): verify exp only")
		}
		if lifespan, ok := c.Identity.Realm.AccessTokenSeconds(); ok && c.Gateway.JWT.MaximumExpirationSeconds > 0 && c.Gateway.JWT.MaximumExpirationSeconds < lifespan {
			ps.Add(jwt+"maximumExpirationSeconds", "%d is shorter than the realm's access token lifespan (%s = %ds, %s.realm.accessTokenLifespan): fresh tokens would be refused",
				c.Gateway.JWT.MaximumExpirationSeconds, c.Identity.Realm.AccessTokenLifespan, lifespan, id)
		}
	}
	// The keycloak provider configures the realm over HTTPS at
	// bac:keycloakUrl (Keycloak's host through the gateway) and verifies
	// the certificate against the system roots: a Let's Encrypt staging
	// certificate fails the realm step of every up.
	if c.Identity.Enabled && c.Gateway.Enabled && c.Addons.Certificates.Enabled && c.Addons.Certificates.Issuer == addons.IssuerStaging {
		ps.Add(Namespace+":"+KeyAddons+".certificates.issuer", "%q certificates are not trusted by the keycloak provider, which configures the realm at https://auth.%s: the realm step would fail; use %q (after delegating the zone) or try the region with %s.enabled false",
			addons.IssuerStaging, c.Domain, addons.IssuerProduction, Namespace+":"+KeyIdentity)
	}
	// No namespace the platform deploys to may skip admission in
	// production: exempting one would let its pods skip every policy.
	if c.Environment == Production && c.Admission.Enabled {
		for i, ns := range c.Admission.ExemptNamespaces {
			for _, n := range c.wire().Namespaces.Namespaces {
				if n.Name == ns && !slices.Contains(admission.SystemNamespaces, ns) {
					ps.Add(fmt.Sprintf("%s:%s.exemptNamespaces[%d]", Namespace, KeyAdmission, i), "%q is a namespace the platform deploys to (tier %s): in production its pods must pass the admission policies", ns, n.Tier)
				}
			}
		}
	}
	return ps
}
