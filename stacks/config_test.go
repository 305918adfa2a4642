package stacks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/services"
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
			[]string{"bac:clustr: unknown setting; known settings are bac:environment, bac:region, bac:regionMismatch, bac:domain, bac:network, bac:cluster, bac:tags"}},
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
			[]string{"bac:cluster.publicAccessCidrs: with runnerCidrs, admits the whole IPv4 internet to the production API endpoint"}},
		{"zone outside region", map[string]string{"bac:network": `{"cidr":"10.10.0.0/16","availabilityZones":["us-east-1a","eu-west-1b"]}`},
			[]string{`bac:network.availabilityZones[1]: "eu-west-1b" is not an availability zone of us-east-1 (us-east-1a to us-east-1f)`}},
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
	values["bac:environment"] = "staging"
	values["bac:gitops"] = `{"enabled":false}`
	values["bac:mesh"] = `{"installWithHelm":false}`
	_, ps := Parse(values, secretKeys())
	if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), "bac:mesh.installWithHelm: is false (GitOps installs istiod) but bac:gitops.enabled is false") {
		t.Fatalf("got %v", ps)
	}
}

// TestProductionInstallsIstiodItself: with Argo CD installing istiod,
// workloads would start before its injection webhook serves.
func TestProductionInstallsIstiodItself(t *testing.T) {
	values := base() // production
	values["bac:mesh"] = `{"installWithHelm":false}`
	_, ps := Parse(values, secretKeys())
	found := false
	for _, p := range ps {
		found = found || strings.HasPrefix(p.String(), "bac:mesh.installWithHelm: cannot be false in production")
	}
	if !found {
		t.Fatalf("got %v, want installWithHelm false refused in production", ps)
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
		// Special-use and private-use names: no public zone, no certificate.
		{"private-use", "production", "bac.internal", `bac:domain: "bac.internal" cannot be public (.internal is reserved for private use`},
		{"multicast DNS", "staging", "bac.corp.local", `bac:domain: "bac.corp.local" cannot be public (.local is multicast DNS`},
		{"home network", "production", "bac.home.arpa", `bac:domain: "bac.home.arpa" cannot be public (.home.arpa is home networks`},
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

// TestWholeStackChecks: problems that only the whole stack shows, each at
// its config path.
func TestWholeStackChecks(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"the internet in two halves", map[string]string{"bac:cluster": `{"publicAccessCidrs":["0.0.0.0/1","128.0.0.0/1"]}`},
			[]string{"bac:cluster.publicAccessCidrs: with runnerCidrs, admits the whole IPv4 internet to the production API endpoint"}},
		{"the internet split between the lists", map[string]string{"bac:cluster": `{"publicAccessCidrs":["0.0.0.0/1"],"runnerCidrs":["128.0.0.0/1"]}`},
			[]string{"bac:cluster.publicAccessCidrs: with runnerCidrs, admits the whole IPv4 internet"}},
		{"a quarter of the internet", map[string]string{"bac:cluster": `{"publicAccessCidrs":["64.0.0.0/2"]}`},
			[]string{"bac:cluster.publicAccessCidrs: with runnerCidrs, admits 25% of the IPv4 address space to the production API endpoint (more than a /8)"}},
		{"every IPv6 address", map[string]string{"bac:cluster": `{"publicAccessCidrs":["198.51.100.10/32","::/1","8000::/1"]}`},
			[]string{"bac:cluster.publicAccessCidrs: with runnerCidrs, admits the whole IPv6 internet"}},
		{"a provider's IPv6 block", map[string]string{"bac:cluster": `{"publicAccessCidrs":["2600::/16"]}`},
			[]string{"bac:cluster.publicAccessCidrs: with runnerCidrs, admits 0.001526% of the IPv6 address space"}},
		{"production without the gateway", map[string]string{"bac:gateway": `{"enabled":false}`},
			[]string{"bac:gateway.enabled: cannot be turned off in production: the gateway authenticates and rate-limits every public route"}},
		{"production without the mesh", map[string]string{"bac:mesh": `{"enabled":false}`},
			[]string{"bac:mesh.enabled: cannot be turned off in production"}},
		{"production without vault", map[string]string{"bac:vault": `{"enabled":false}`},
			[]string{"bac:vault.enabled: cannot be turned off in production"}},
		{"production without scanning", map[string]string{"bac:security": `{"enabled":false}`},
			[]string{"bac:security.enabled: cannot be turned off in production"}},
		{"production without network policies", map[string]string{"bac:cluster": `{"publicAccessCidrs":["198.51.100.10/32"],"networkPolicyEnforcement":false}`},
			[]string{"bac:cluster.networkPolicyEnforcement: cannot be turned off in production"}},
		{"aws tag prefix", map[string]string{"bac:tags": `{"aws:createdBy":"me"}`},
			[]string{"bac:tags.aws:createdBy: the aws: prefix is reserved for AWS's own tags"}},
		{"aws tag prefix in capitals", map[string]string{"bac:tags": `{"AWS:Owner":"me"}`},
			[]string{"bac:tags.AWS:Owner: the aws: prefix is reserved"}},
		{"tag characters", map[string]string{"bac:tags": `{"Cost<Center>":"x"}`},
			[]string{`bac:tags.Cost<Center>: key "Cost<Center>" has characters AWS refuses`}},
		{"tag value too long", map[string]string{"bac:tags": `{"Note":"` + strings.Repeat("n", 257) + `"}`},
			[]string{"bac:tags.Note: a tag value has at most 256 characters"}},
		{"too many tags", map[string]string{"bac:tags": manyTags(47)},
			[]string{"bac:tags: 51 tags with the program's own exceed AWS's 50 per resource"}},
		{"service in a platform namespace", map[string]string{"bac:services": servicesWith(func(l []services.Service) { l[0].Namespace = "auth" })},
			[]string{`bac:services[0].namespace: "auth" is bac:identity's namespace; a business service needs its own`}},
		{"two services in one namespace", map[string]string{"bac:services": servicesWith(func(l []services.Service) { l[1].Namespace = "crm" })},
			[]string{`bac:services[1].namespace: "crm" is also bac:services[0]'s; every service needs its own`}},
		{"two services, one Service name", map[string]string{"bac:services": servicesWith(func(l []services.Service) { l[4].ServiceName = "crm-service" })},
			[]string{`bac:services[4].serviceName: "crm-service" is also bac:services[0]'s`}},
		{"service in kube-system", map[string]string{"bac:services": servicesWith(func(l []services.Service) { l[0].Namespace = "kube-system" })},
			[]string{`bac:services[0].namespace: "kube-system" is reserved for Kubernetes`}},
		{"plain http origin", map[string]string{"bac:gateway": `{"cors":{"origins":["http://app.us-east-1.bac-platform.io"]}}`},
			[]string{`bac:gateway.cors.origins[0]: "http://app.us-east-1.bac-platform.io" is plain http`}},
		{"private VPC range only", map[string]string{"bac:network": `{"cidr":"8.8.0.0/16"}`},
			[]string{"bac:network.cidr: 8.8.0.0/16 is not a private range"}},
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

// servicesWith is the bac:services value of the default services after change.
func servicesWith(change func(list []services.Service)) string {
	list := services.Default()
	change(list)
	raw, err := json.Marshal(list)
	if err != nil {
		panic(err)
	}
	return string(raw)
}

// manyTags is a bac:tags value of n tags.
func manyTags(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"Tag%d":"v"`, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// TestStagingMayTurnLayersOff: only production is held to every layer.
func TestStagingMayTurnLayersOff(t *testing.T) {
	values := base()
	values["bac:environment"] = "staging"
	values["bac:security"] = `{"enabled":false}`
	values["bac:vault"] = `{"enabled":false}`
	if _, ps := Parse(values, secretKeys()); len(ps) != 0 {
		t.Fatalf("problems: %v", ps)
	}
}

func TestStackIdentity(t *testing.T) {
	tests := []struct {
		name, stack, region, env, mismatch string
		want                               []string
	}{
		{"named for its region", "prod-eu-west-1", "eu-west-1", Production, "", nil},
		{"no region in the name", "prod", "us-east-1", Production, "", nil},
		{"local", "local", "", Local, "", nil},
		{"named for another region", "prod-eu-west-1", "us-east-1", Production, "",
			[]string{`bac:region: "us-east-1", but stack prod-eu-west-1 is named for eu-west-1: its data would reside in us-east-1; correct bac:region, or set bac:regionMismatch`}},
		{"mismatch explained", "prod-eu-west-1", "us-east-1", Production, "EU capacity moved to us-east-1 during the 2026 migration", nil},
		{"explanation without a mismatch", "prod-eu-west-1", "eu-west-1", Production, "just in case",
			[]string{"bac:regionMismatch: is set, but stack prod-eu-west-1 deploys into the region it is named for"}},
		{"longest region name wins", "staging-ap-southeast-1", "ap-southeast-1", Staging, "", nil},
		{"named for production", "prod-us-east-1", "us-east-1", Staging, "",
			[]string{`bac:environment: "staging", but stack prod-us-east-1 is named for production`}},
		{"named for staging", "staging-eu-west-1", "eu-west-1", Production, "",
			[]string{`bac:environment: "production", but stack staging-eu-west-1 is named for staging`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults(tt.env, tt.region)
			c.RegionMismatch = tt.mismatch
			ps := CheckStackIdentity(tt.stack, c)
			if len(ps) != len(tt.want) {
				t.Fatalf("got %v, want %v", ps, tt.want)
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(ps[i].String(), want) {
					t.Errorf("problem %d = %q, want prefix %q", i, ps[i], want)
				}
			}
		})
	}
}
