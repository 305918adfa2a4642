package test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/bac-platform/infra/stacks/stackfile"
)

// planWith runs the production stack file through the program and the mock
// engine, with extra config values merged into the file's (object by object,
// one level deep, as a stack file author would edit them).
func planWith(t *testing.T, extra map[string]string) *mockengine.Mocks {
	t.Helper()
	project, err := stackfile.ProjectName(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := stackfile.Read(repoRoot, project, "prod-us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		merged := map[string]any{}
		if raw, ok := sf.Values[k]; ok {
			if err := json.Unmarshal([]byte(raw), &merged); err != nil {
				t.Fatal(err)
			}
		}
		var add map[string]any
		if err := json.Unmarshal([]byte(v), &add); err != nil {
			t.Fatal(err)
		}
		maps.Copy(merged, add)
		raw, err := json.Marshal(merged)
		if err != nil {
			t.Fatal(err)
		}
		sf.Values[k] = string(raw)
	}
	offline, ps := stacks.PrepareOffline(sf)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	m, err := mockengine.RunStack(stacks.Program, project, "us-east-1", offline.File)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAChangedGatewayNamespaceIsCreatedAndAdmitted: the gateway's namespace
// is one setting; the namespace list, Kong's release, its sidecar injection
// and the mesh's principals and NetworkPolicies all follow it.
func TestAChangedGatewayNamespaceIsCreatedAndAdmitted(t *testing.T) {
	m := planWith(t, map[string]string{"bac:gateway": `{"namespace":"edge"}`, "bac:realtime": `{"namespace":"realtime"}`})
	ns, ok := m.Find("kubernetes:core/v1:Namespace", "edge")
	if !ok {
		t.Fatal("the gateway's namespace edge is not created")
	}
	if ns.Input("metadata.labels.istio-injection") != "enabled" || ns.Input("metadata.labels.name") != "edge" {
		t.Errorf("edge labels = %v", ns.Input("metadata.labels"))
	}
	kong, _ := m.Find("kubernetes:helm.sh/v3:Release", "gateway-kong")
	if kong.Input("namespace") != "edge" {
		t.Errorf("kong release namespace = %v, want edge", kong.Input("namespace"))
	}
	if !slices.ContainsFunc(kong.DependsOn, func(urn string) bool { return strings.HasSuffix(urn, "Namespace::edge") }) {
		t.Errorf("kong does not wait for its namespace: %v", kong.DependsOn)
	}
	authz, _ := m.Find("kubernetes:security.istio.io/v1:AuthorizationPolicy", "mesh-crm-authz")
	principals, _ := authz.Input("spec.rules[0].from[0].source.principals").([]any)
	if !slices.Contains(principals, any("cluster.local/ns/edge/sa/kong")) || slices.Contains(principals, any("cluster.local/ns/api-gateway/sa/kong")) {
		t.Errorf("mesh principals = %v, want the gateway's in edge", principals)
	}
	np, _ := m.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mesh-crm-netpol")
	var from []any
	for _, peer := range np.Input("spec.ingress[0].from").([]any) {
		from = append(from, peer.(map[string]any)["namespaceSelector"].(map[string]any)["matchLabels"].(map[string]any)["name"])
	}
	if !slices.Contains(from, any("edge")) || slices.Contains(from, any("api-gateway")) {
		t.Errorf("crm admits namespaces %v, want edge", from)
	}
}

// TestARenamedRealmChangesTheGatewaysIssuer: the gateway's OIDC issuer,
// realm and client come from identity.
func TestARenamedRealmChangesTheGatewaysIssuer(t *testing.T) {
	m := planWith(t, map[string]string{
		"bac:identity": `{"realm":{"name":"acme"},"client":{"clientId":"acme-api"}}`,
		// The oidc plugin needs an image that bundles it.
		"bac:gateway": `{"oidc":{"enabled":true},"image":{"repository":"registry.bac-platform.io/kong-oidc","tag":"3.9.1-1"}}`,
	})
	oidc, ok := m.Find("kubernetes:configuration.konghq.com/v1:KongClusterPlugin", "gateway-oidc-keycloak")
	if !ok {
		t.Fatal("no oidc plugin")
	}
	want := map[string]any{"realm": "acme", "client_id": "acme-api"}
	for k, v := range want {
		if got := oidc.Input("config." + k); !reflect.DeepEqual(got, v) {
			t.Errorf("oidc %s = %v, want %v", k, got, v)
		}
	}
	if d, _ := oidc.Input("config.discovery").(string); !strings.Contains(d, "/realms/acme/") {
		t.Errorf("discovery = %q, want the acme realm", d)
	}
	realm, _ := m.Find("keycloak:index/realm:Realm", "identity-realm")
	if realm.Input("realm") != "acme" {
		t.Errorf("realm = %v", realm.Input("realm"))
	}
}

// TestGatewayOIDCThatContradictsIdentityIsRefused: with identity deployed,
// a gateway OIDC setting may only repeat what identity derives.
func TestGatewayOIDCThatContradictsIdentityIsRefused(t *testing.T) {
	project, _ := stackfile.ProjectName(repoRoot)
	sf, err := stackfile.Read(repoRoot, project, "prod-us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	sf.Values["bac:gateway"] = `{"oidc":{"realm":"other"}}`
	_, ps := stacks.PrepareOffline(sf)
	want := `bac:gateway.oidc.realm: "other" differs from "bac" derived from bac:identity.realm.name`
	if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), want) {
		t.Fatalf("problems = %v, want one starting %q", ps, want)
	}
}

// TestTheGraphQLGatewayIsAdmittedOnTheSubgraphPath: the services' policies
// admit the GraphQL gateway by its own service account on the subgraph path
// (the seed's ALLOW rule admits only /v1/* with a tenant header, and the
// default service account would stand for every pod of its namespace).
func TestTheGraphQLGatewayIsAdmittedOnTheSubgraphPath(t *testing.T) {
	m := planWith(t, nil)
	gql, _ := m.Find("kubernetes:apps/v1:Deployment", "realtime-graphql-gateway")
	if sa := gql.Input("spec.template.spec.serviceAccountName"); sa != "graphql-gateway" {
		t.Errorf("graphql gateway service account = %v", sa)
	}
	if _, ok := m.Find("kubernetes:core/v1:ServiceAccount", "realtime-graphql-gateway"); !ok {
		t.Error("no graphql-gateway service account")
	}
	authz, _ := m.Find("kubernetes:security.istio.io/v1:AuthorizationPolicy", "mesh-erp-authz")
	rule := authz.Input("spec.rules[1]")
	want := map[string]any{
		"from": []any{map[string]any{"source": map[string]any{"principals": []any{"cluster.local/ns/api-gateway/sa/graphql-gateway"}}}},
		"to":   []any{map[string]any{"operation": map[string]any{"methods": []any{"GET", "POST"}, "paths": []any{"/graphql"}}}},
	}
	if !reflect.DeepEqual(rule, want) {
		t.Errorf("erp authz rule[1] = %#v, want %#v", rule, want)
	}
}

// refusedWith returns the problems of the production stack with values set.
func refusedWith(t *testing.T, set map[string]string) []string {
	t.Helper()
	project, _ := stackfile.ProjectName(repoRoot)
	sf, err := stackfile.Read(repoRoot, project, "prod-us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(sf.Values, set)
	_, ps := stacks.PrepareOffline(sf)
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// TestTokensTheRealmIssuesPassTheGateway: Kong's jwt plugin verifies only
// claims Keycloak's access tokens carry, and caps their lifetime at the
// realm's lifespan; a stack asking Kong to verify nbf is refused.
func TestTokensTheRealmIssuesPassTheGateway(t *testing.T) {
	m := planWith(t, map[string]string{"bac:identity": `{"realm":{"accessTokenLifespan":"15m"}}`})
	jwt, ok := m.Find("kubernetes:configuration.konghq.com/v1:KongClusterPlugin", "gateway-jwt-auth")
	if !ok {
		t.Fatal("no jwt plugin")
	}
	if got := jwt.Input("config.claims_to_verify"); !reflect.DeepEqual(got, []any{"exp"}) {
		t.Errorf("claims_to_verify = %v, want [exp]", got)
	}
	if got := jwt.Input("config.maximum_expiration"); got != 900.0 {
		t.Errorf("maximum_expiration = %v, want the realm's 15m = 900 s", got)
	}
	problems := refusedWith(t, map[string]string{"bac:gateway": `{"jwt":{"keyClaimName":"iss","claimsToVerify":["exp","nbf"]}}`})
	want := "bac:gateway.jwt.claimsToVerify: verifies nbf, which Keycloak's access tokens do not carry"
	if !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, want) }) {
		t.Errorf("problems = %v, want one starting %q", problems, want)
	}
}

// TestTheRealmStepTrustsKeycloaksCertificate: the keycloak provider
// verifies Keycloak's certificate, so a staging issuer with identity on
// would fail the realm step of every up: refused before anything runs.
func TestTheRealmStepTrustsKeycloaksCertificate(t *testing.T) {
	problems := refusedWith(t, map[string]string{"bac:addons": `{"certificates":{"enabled":true,"issuer":"letsencrypt-staging"}}`})
	want := `bac:addons.certificates.issuer: "letsencrypt-staging" certificates are not trusted by the keycloak provider`
	if !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, want) }) {
		t.Errorf("problems = %v, want one starting %q", problems, want)
	}
}

// TestKeycloaksAdminAPIIsNotPublic: the public route serves only the
// paths clients need; the admin path carries the allow list of the
// administrators' networks and the region's NAT gateways (the deploying
// runners in the VPC).
func TestKeycloaksAdminAPIIsNotPublic(t *testing.T) {
	m := planWith(t, map[string]string{"bac:identity": `{"adminCidrs":["198.51.100.10/32"]}`})
	public := find(t, m, "kubernetes:networking.k8s.io/v1:Ingress", "identity-route")
	var paths []any
	for _, p := range public.Input("spec.rules[0].http.paths").([]any) {
		paths = append(paths, p.(map[string]any)["path"])
	}
	if !reflect.DeepEqual(paths, []any{"/realms/", "/resources/", "/.well-known/"}) {
		t.Errorf("public paths = %v", paths)
	}
	admin := find(t, m, "kubernetes:networking.k8s.io/v1:Ingress", "identity-admin-route")
	if got := admin.Input("spec.rules[0].http.paths[0].path"); got != "/admin/" {
		t.Errorf("admin path = %v", got)
	}
	if plugins, _ := admin.Input("metadata.annotations.konghq.com/plugins").(string); !strings.Contains(plugins, "admin-allow") {
		t.Errorf("admin route plugins = %q, want the allow list", plugins)
	}
	allow := find(t, m, "kubernetes:configuration.konghq.com/v1:KongClusterPlugin", "identity-admin-allow")
	sources, _ := allow.Input("config.allow").([]any)
	nats := 0
	for _, eip := range m.ByType("aws:ec2/eip:Eip") {
		if slices.Contains(sources, any(eip.Outputs["publicIp"].StringValue()+"/32")) {
			nats++
		}
	}
	if allow.Input("plugin") != "ip-restriction" || !slices.Contains(sources, any("198.51.100.10/32")) || nats != 3 {
		t.Errorf("allow list %v: want the admin CIDRs and the 3 NAT gateways' addresses", sources)
	}
}

// TestTheOfficeReachesKeycloaksAdminByDefault: without adminCidrs, the
// admin path admits the networks that may reach the cluster's API.
func TestTheOfficeReachesKeycloaksAdminByDefault(t *testing.T) {
	m := planWith(t, nil)
	allow := find(t, m, "kubernetes:configuration.konghq.com/v1:KongClusterPlugin", "identity-admin-allow")
	sources, _ := allow.Input("config.allow").([]any)
	if !slices.Contains(sources, any("198.51.100.10/32")) {
		t.Errorf("allow list %v lacks the stack's publicAccessCidrs (the office)", sources)
	}
}

// TestNoPlatformNamespaceSkipsAdmissionInProduction: exempting a namespace
// the platform deploys to would let its pods skip every policy.
func TestNoPlatformNamespaceSkipsAdmissionInProduction(t *testing.T) {
	problems := refusedWith(t, map[string]string{"bac:admission": `{"exemptNamespaces":["kube-system","kube-public","kube-node-lease","crm"]}`})
	want := `bac:admission.exemptNamespaces[3]: "crm" is a namespace the platform deploys to`
	if !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, want) }) {
		t.Errorf("problems = %v, want one starting %q", problems, want)
	}
}
