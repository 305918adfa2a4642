package stacks

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// base is a minimal valid production stack file's values.
func base() map[string]string {
	values := map[string]string{
		"bac:environment": "production",
		"bac:region":      "us-east-1",
		"bac:network":     `{"cidr":"10.10.0.0/16"}`,
		"bac:cluster":     `{"publicAccessCidrs":["198.51.100.10/32"]}`,
	}
	for k, v := range required() {
		values[k] = v
	}
	for _, k := range SecretKeys() {
		values["bac:"+k] = "s3cr3t-" + k
	}
	return values
}

// required are the settings with no default that a production stack names.
func required() map[string]string {
	return map[string]string{
		"bac:domain": "us-east-1.bac-platform.io",
		"bac:identity": `{"databaseUrl":"jdbc:postgresql://keycloak-db.bac-platform.io:5432/keycloak",` +
			`"ldap":{"connectionUrl":"ldaps://ldap.bac-platform.io:636","usersDn":"ou=users,dc=bac","bindDn":"cn=kc,dc=bac"}}`,
		"bac:realtime": `{"websocket":{"image":{"repository":"ghcr.io/bac-platform/websocket-server","tag":"1.4.2"}},` +
			`"graphql":{"image":{"repository":"ghcr.io/bac-platform/graphql-gateway","tag":"1.4.2"}}}`,
		"bac:gitops": `{"repoUrl":"https://github.com/bac-platform/platform-gitops"}`,
	}
}

// secretKeys marks every secret key as encrypted, as the CLI would.
func secretKeys() []string {
	var keys []string
	for _, k := range SecretKeys() {
		keys = append(keys, "bac:"+k)
	}
	return keys
}

func TestParseAppliesDefaultsAndOverlays(t *testing.T) {
	values := base()
	values["bac:cluster"] = `{"nodePools":{"general":{"desiredSize":40}},"publicAccessCidrs":["198.51.100.10/32"]}`
	values["bac:tags"] = `{"CostCenter":"platform"}`
	cfg, ps := Parse(values, secretKeys())
	if len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
	general := cfg.Cluster.NodePools["general"]
	// The overlay changes one field and keeps the seed's others.
	if general.DesiredSize != 40 || general.MinSize != 10 || general.MaxSize != 100 || general.InstanceTypes[0] != "m6i.2xlarge" {
		t.Fatalf("general pool = %+v", general)
	}
	if len(cfg.Cluster.NodePools) != 4 || cfg.Cluster.NodePools["gpu"].DiskSizeGiB != 1000 {
		t.Fatalf("pools not from the seed: %+v", cfg.Cluster.NodePools)
	}
	if cfg.Cluster.Name != "bac-prod-us-east-1" || cfg.Network.NATGateways != "perAz" || len(cfg.Network.AvailabilityZones) != 3 {
		t.Fatalf("defaults = %+v / %+v", cfg.Cluster.Name, cfg.Network)
	}
	tags := cfg.ResourceTags()
	for k, v := range map[string]string{"Environment": "production", "Cluster": "bac-prod-us-east-1", "ManagedBy": "pulumi", "CostCenter": "platform"} {
		if tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, tags[k], v)
		}
	}
}

func TestStagingDefaultsToOneNATGateway(t *testing.T) {
	values := base()
	values["bac:environment"] = "staging"
	cfg, ps := Parse(values, secretKeys())
	if len(ps) != 0 || cfg.Network.NATGateways != "single" || cfg.Cluster.Name != "bac-staging-us-east-1" {
		t.Fatalf("cfg = %+v, problems %v", cfg.Network, ps)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"unknown environment", map[string]string{"bac:environment": "prod"},
			[]string{`bac:environment: "prod" is not one of production, staging`}},
		{"unknown region", map[string]string{"bac:region": "us-east-9"},
			[]string{`bac:region: "us-east-9" is not a known AWS region`}},
		{"unknown top-level key", map[string]string{"bac:clustr": "{}"},
			[]string{"bac:clustr: unknown setting; known settings are bac:environment, bac:region, bac:domain, bac:network, bac:cluster, bac:tags"}},
		{"misspelt pool field", map[string]string{"bac:cluster": `{"nodePools":{"compute":{"minsize":1}}}`},
			[]string{"bac:cluster.nodePools.compute.minsize: unknown setting; known settings are amiType, autoscaled, desiredSize"}},
		{"wrong type", map[string]string{"bac:cluster": `{"nodePools":{"compute":{"minSize":"ten"}}}`},
			[]string{`bac:cluster.nodePools.compute.minSize: expected a whole number, got string "ten"`}},
		{"list expected", map[string]string{"bac:cluster": `{"publicAccessCidrs":"198.51.100.10/32"}`},
			[]string{`bac:cluster.publicAccessCidrs: expected a list, got string "198.51.100.10/32"`}},
		{"fractional size", map[string]string{"bac:cluster": `{"nodePools":{"gpu":{"maxSize":2.5}}}`},
			[]string{"bac:cluster.nodePools.gpu.maxSize: expected a whole number, got number 2.5"}},
		{"not an object", map[string]string{"bac:network": `10.0.0.0/16`},
			[]string{"bac:network: is not a structured value"}},
		{"min above max", map[string]string{"bac:cluster": `{"publicAccessCidrs":["198.51.100.10/32"],"nodePools":{"compute":{"minSize":60,"desiredSize":60}}}`},
			[]string{"bac:cluster.nodePools.compute: minSize 60 > maxSize 50", "bac:cluster.nodePools.compute: desiredSize 60 > maxSize 50"}},
		{"production open to the internet", map[string]string{"bac:cluster": `{"publicAccessCidrs":["0.0.0.0/0"]}`},
			[]string{"bac:cluster.publicAccessCidrs[0]: 0.0.0.0/0 opens the production API endpoint to the whole internet"}},
		{"zone outside region", map[string]string{"bac:network": `{"cidr":"10.10.0.0/16","availabilityZones":["us-east-1a","eu-west-1b"]}`},
			[]string{`bac:network.availabilityZones[1]: zone "eu-west-1b" is not in region us-east-1`}},
		{"reserved tag", map[string]string{"bac:tags": `{"ManagedBy":"terraform"}`},
			[]string{"bac:tags.ManagedBy: is set by the program and cannot be overridden"}},
		{"seed kubernetes version", map[string]string{"bac:cluster": `{"version":"1.28"}`},
			[]string{"bac:cluster.version: 1.28 is past EKS standard support"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := base()
			for k, v := range tt.set {
				values[k] = v
			}
			_, ps := Parse(values, secretKeys())
			if len(ps) != len(tt.want) {
				t.Fatalf("got %v, want %d problems %v", ps, len(tt.want), tt.want)
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(ps[i].String(), want) {
					t.Errorf("problem %d = %q, want prefix %q", i, ps[i], want)
				}
			}
		})
	}
}

func TestStagingMayOpenThePublicEndpoint(t *testing.T) {
	values := base()
	values["bac:environment"] = "staging"
	values["bac:cluster"] = `{"publicAccessCidrs":["0.0.0.0/0"]}`
	if _, ps := Parse(values, secretKeys()); len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
}

func TestCheckOverlaps(t *testing.T) {
	cfg := func(cidr string) Config {
		c := Defaults(Production, "us-east-1")
		c.Network.CIDR, c.Vault.Enabled = cidr, false // networks only here
		return c
	}
	ps := CheckOverlaps(map[string]Config{
		"prod-us-east-1": cfg("10.10.0.0/16"), "prod-eu-west-1": cfg("10.10.128.0/17"), "staging-us-east-1": cfg("10.110.0.0/16"),
	})
	want := "prod-eu-west-1: bac:network.cidr: 10.10.128.0/17 overlaps stack prod-us-east-1's 10.10.0.0/16"
	if len(ps) != 1 || ps[0].String() != want {
		t.Fatalf("got %v, want %q", ps, want)
	}
}

func TestSecretsMustBeSetAndEncrypted(t *testing.T) {
	values := base()
	delete(values, "bac:vaultToken")
	_, ps := Parse(values, []string{"bac:oidcClientSecret"})
	var text []string
	for _, p := range ps {
		text = append(text, p.String())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		"bac:vaultToken: is required for this stack's configuration; set it with: pulumi config set --secret bac:vaultToken <value>",
		"bac:jwtSecret: must be encrypted; set it with: pulumi config set --secret bac:jwtSecret <value>",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "bac:oidcClientSecret") {
		t.Errorf("an encrypted secret was reported:\n%s", all)
	}
}

func TestGitOpsOwnedIstiodNeedsGitOps(t *testing.T) {
	values := base()
	values["bac:gitops"] = `{"enabled":false}`
	_, ps := Parse(values, secretKeys())
	if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), "bac:mesh.installWithHelm: is false (GitOps installs istiod) but bac:gitops.enabled is false") {
		t.Fatalf("got %v", ps)
	}
}

func TestStacksSharingAVaultGetTheirOwnMounts(t *testing.T) {
	us, eu := Defaults(Production, "us-east-1"), Defaults(Production, "eu-west-1")
	us.Network.CIDR, eu.Network.CIDR = "10.10.0.0/16", "10.20.0.0/16"
	if v := us.wire().Vault; v.TransitPath != "bac-prod-us-east-1/transit" || v.DatabasePath != "bac-prod-us-east-1/database" {
		t.Fatalf("derived mounts = %q, %q", v.TransitPath, v.DatabasePath)
	}
	if ps := CheckOverlaps(map[string]Config{"prod-us-east-1": us, "prod-eu-west-1": eu}); len(ps) != 0 {
		t.Fatalf("derived mounts collide: %v", ps)
	}
	eu.Vault.TransitPath = "bac-prod-us-east-1/transit"
	ps := CheckOverlaps(map[string]Config{"prod-us-east-1": us, "prod-eu-west-1": eu})
	want := `prod-us-east-1: bac:vault.transitPath: mount "bac-prod-us-east-1/transit" is stack prod-eu-west-1's too`
	if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), want) {
		t.Fatalf("got %v, want %q", ps, want)
	}
}

func TestDomainIsRequiredRealAndTheSourceOfEveryHost(t *testing.T) {
	for _, tt := range []struct {
		name, env, domain, want string
	}{
		{"missing", "production", "", "bac:domain: is required"},
		{"template", "production", "yourcompany.com", `bac:domain: "yourcompany.com" is a placeholder or reserved name`},
		{"reserved", "staging", "bac.example.com", `bac:domain: "bac.example.com" is a placeholder or reserved name`},
		{"localhost outside local", "production", "bac.localhost", `bac:domain: "bac.localhost" is a placeholder or reserved name`},
		{"not a DNS name", "production", "BAC Platform", `bac:domain: "BAC Platform" is not a DNS name`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			values := base()
			values["bac:environment"] = tt.env
			if tt.domain == "" {
				delete(values, "bac:domain")
			} else {
				values["bac:domain"] = tt.domain
			}
			_, ps := Parse(values, secretKeys())
			if len(ps) == 0 || !strings.HasPrefix(ps[0].String(), tt.want) {
				t.Fatalf("problems = %v, want first %q", ps, tt.want)
			}
		})
	}
	cfg, ps := Parse(base(), secretKeys())
	if len(ps) != 0 {
		t.Fatal(ps)
	}
	a := cfg.wire()
	for got, want := range map[string]string{
		a.Gateway.Host: "api.us-east-1.bac-platform.io", a.Identity.Hostname: "auth.us-east-1.bac-platform.io",
		a.GitOps.Hostname: "argocd.us-east-1.bac-platform.io", a.Gateway.OIDC.Issuer: "https://auth.us-east-1.bac-platform.io/realms/bac",
		a.Gateway.CORS.Origins[0]: "https://app.us-east-1.bac-platform.io", a.Identity.Client.RedirectURIs[1]: "https://app.us-east-1.bac-platform.io/auth/callback",
	} {
		if got != want {
			t.Errorf("derived %q, want %q", got, want)
		}
	}
}

// TestJWTRoutesWithoutIdentityAreRefused: the jwt plugin trusts only the
// realm's signing key, so a gateway whose routes use it needs the identity
// component; without it every such route would answer 401.
func TestJWTRoutesWithoutIdentityAreRefused(t *testing.T) {
	values := base()
	values["bac:identity"] = `{"enabled":false}`
	_, ps := Parse(values, secretKeys())
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	for i := range 3 {
		want := fmt.Sprintf(`bac:gateway.routes[%d].plugins: "jwt-auth" needs the identity realm whose signing key it trusts, but bac:identity.enabled is false`, i)
		if !slices.Contains(got, want) {
			t.Errorf("problems %v lack %q", got, want)
		}
	}
}

// TestTheProductionRateLimitCannotFailOpen: the stack marks production for
// the gateway, whose redis limits then refuse faultTolerant.
func TestTheProductionRateLimitCannotFailOpen(t *testing.T) {
	for env, want := range map[string]bool{"production": true, "staging": false} {
		values := base()
		values["bac:environment"] = env
		values["bac:gateway"] = `{"rateLimitGlobal":{"policy":"redis","faultTolerant":true}}`
		_, ps := Parse(values, secretKeys())
		if got := strings.Contains(fmt.Sprint(ps), "bac:gateway.rateLimitGlobal.faultTolerant: production cannot fail open"); got != want {
			t.Errorf("%s: refused = %v, want %v (%v)", env, got, want, ps)
		}
	}
}
