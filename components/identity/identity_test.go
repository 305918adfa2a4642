package identity_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/identity"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func secret(v string) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput)
}

// configured is the default Args with what every stack sets: the host and
// client URLs (from the domain), the database and the directory.
func configured() identity.Args {
	a := identity.DefaultArgs()
	a.Hostname = "auth.bac-platform.io"
	a.DatabaseURL = "jdbc:postgresql://keycloak-db.bac-platform.io:5432/keycloak"
	a.Client.RedirectURIs = []string{"https://api.bac-platform.io/auth/callback", "https://app.bac-platform.io/auth/callback"}
	a.Client.WebOrigins = []string{"https://api.bac-platform.io", "https://app.bac-platform.io"}
	a.LDAP.ConnectionURL = "ldaps://ldap.corp.bac-platform.io:636"
	a.LDAP.UsersDN, a.LDAP.BindDN = "ou=users,dc=bac-platform,dc=io", "cn=keycloak,ou=services,dc=bac-platform,dc=io"
	return a
}

func deploy(t *testing.T, args identity.Args) *mockengine.Mocks {
	t.Helper()
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		args.Credentials = identity.Credentials{
			AdminPassword: secret("admin-pw"), DBPassword: secret("db-pw"),
			ClientSecret: secret("client-secret"), LDAPBindCredential: secret("bind-pw"),
		}
		_, err := identity.NewIdentity(ctx, "identity", args)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func check(t *testing.T, r mockengine.Resource, want map[string]any) {
	t.Helper()
	for path, w := range want {
		if got := r.Input(path); !reflect.DeepEqual(got, w) {
			t.Errorf("%s %s = %#v, want %#v", r.Name, path, got, w)
		}
	}
}

func TestRealmIsTheSeeds(t *testing.T) {
	m := deploy(t, configured())
	realm, ok := m.Find("keycloak:index/realm:Realm", "identity-realm")
	if !ok {
		t.Fatal("no realm")
	}
	if !realm.Protect {
		t.Error("the realm must be protected")
	}
	bf := "securityDefenses.bruteForceDetection."
	check(t, realm, map[string]any{
		"realm": "bac", "enabled": true, "displayName": "BAC Platform",
		"accessTokenLifespan": "5m", "ssoSessionIdleTimeout": "30m", "ssoSessionMaxLifespan": "10h",
		"passwordPolicy": "upperCase(1) and lowerCase(1) and digits(1) and specialChars(1) and length(12) and notUsername",
		"otpPolicy.type": "totp", "otpPolicy.algorithm": "HmacSHA256", "otpPolicy.digits": 6.0, "otpPolicy.period": 30.0,
		bf + "permanentLockout": false, bf + "maxFailureWaitSeconds": 900.0, bf + "minimumQuickLoginWaitSeconds": 60.0,
		bf + "waitIncrementSeconds": 60.0, bf + "quickLoginCheckMilliSeconds": 1000.0, bf + "failureResetTimeSeconds": 43200.0,
		bf + "maxLoginFailures": 30.0,
		"refreshTokenMaxReuse":  0.0, "revokeRefreshToken": true,
	})
}

func TestClientRolesAndFederation(t *testing.T) {
	m := deploy(t, configured())
	client, _ := m.Find("keycloak:openid/client:Client", "identity-bac-api")
	check(t, client, map[string]any{
		"clientId": "bac-api", "name": "BAC API Gateway", "accessType": "CONFIDENTIAL", "enabled": true,
		"validRedirectUris":   []any{"https://api.bac-platform.io/auth/callback", "https://app.bac-platform.io/auth/callback"},
		"webOrigins":          []any{"https://api.bac-platform.io", "https://app.bac-platform.io"},
		"standardFlowEnabled": true, "implicitFlowEnabled": false, "directAccessGrantsEnabled": false,
		"serviceAccountsEnabled": true, "useRefreshTokens": true,
		"clientSecret": "[secret]",
	})
	roles := map[string]mockengine.Resource{}
	for _, r := range m.ByType("keycloak:index/role:Role") {
		roles[r.Input("name").(string)] = r
	}
	if len(roles) != 3 || roles["admin"].Input("clientId") != nil || roles["user"].Input("clientId") != nil {
		t.Fatalf("realm roles = %v", roles)
	}
	if roles["api-access"].Input("clientId") != client.ID {
		t.Errorf("api-access must be a role of the bac-api client")
	}
	ldap, _ := m.Find("keycloak:ldap/userFederation:UserFederation", "identity-corporate-ldap")
	check(t, ldap, map[string]any{
		"name": "corporate-ldap", "enabled": true, "connectionUrl": "ldaps://ldap.corp.bac-platform.io:636",
		"usersDn": "ou=users,dc=bac-platform,dc=io", "bindDn": "cn=keycloak,ou=services,dc=bac-platform,dc=io",
		"bindCredential": "[secret]", "usernameLdapAttribute": "uid", "rdnLdapAttribute": "uid", "uuidLdapAttribute": "entryUUID",
		"userObjectClasses": []any{"inetOrgPerson", "organizationalPerson"}, "searchScope": "SUBTREE",
		"batchSizeForSync": 1000.0, "fullSyncPeriod": 604800.0, "changedSyncPeriod": 86400.0, "cache.policy": "DEFAULT",
	})
}

// TestWebOriginsMayFollowTheRedirectURIs: Keycloak's "+" admits the
// redirect URIs' own origins, which are exact.
func TestWebOriginsMayFollowTheRedirectURIs(t *testing.T) {
	a := configured()
	a.Client.WebOrigins = []string{"+"}
	if ps := a.Validate("bac:identity"); len(ps) != 0 {
		t.Fatalf("problems = %v", ps)
	}
}

func TestKeycloakWorkload(t *testing.T) {
	m := deploy(t, configured())
	d, _ := m.Find("kubernetes:apps/v1:Deployment", "identity-keycloak")
	c := "spec.template.spec.containers[0]."
	check(t, d, map[string]any{
		"metadata.namespace": "auth", "spec.replicas": 3.0,
		c + "image": "quay.io/keycloak/keycloak:26.4.7",
		c + "args":  []any{"start", "--optimized", "--http-enabled=true", "--proxy-headers=xforwarded"},
		c + "securityContext.readOnlyRootFilesystem": true,
		c + "resources.requests":                     map[string]any{"cpu": "1000m", "memory": "2Gi"},
		c + "resources.limits":                       map[string]any{"cpu": "2000m", "memory": "4Gi"},
		c + "readinessProbe.httpGet.path":            "/health/ready",
		c + "readinessProbe.initialDelaySeconds":     60.0,
		c + "livenessProbe.httpGet.path":             "/health/live",
		c + "livenessProbe.initialDelaySeconds":      120.0,
		c + "ports[0].containerPort":                 8080.0,
		c + "ports[1].containerPort":                 9000.0,
	})
	env := map[string]any{}
	for _, e := range d.Input(c + "env").([]any) {
		kv := e.(map[string]any)
		if v, ok := kv["value"]; ok {
			env[kv["name"].(string)] = v
		} else {
			ref := kv["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any)
			env[kv["name"].(string)] = "secret:" + ref["name"].(string) + "/" + ref["key"].(string)
		}
	}
	want := map[string]any{
		"KC_HOSTNAME": "https://auth.bac-platform.io",
		"KC_DB":       "postgres", "KC_DB_URL": "jdbc:postgresql://keycloak-db.bac-platform.io:5432/keycloak",
		"KC_DB_USERNAME": "secret:keycloak-db-secret/username", "KC_DB_PASSWORD": "secret:keycloak-db-secret/password",
		"KC_BOOTSTRAP_ADMIN_USERNAME": "admin", "KC_BOOTSTRAP_ADMIN_PASSWORD": "secret:keycloak-admin-secret/password",
		"KC_FEATURES": "token-exchange,admin-fine-grained-authz", "KC_HEALTH_ENABLED": "true", "KC_METRICS_ENABLED": "true",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env = %v\nwant %v", env, want)
	}
	for _, name := range []string{"identity-db", "identity-admin"} {
		s, _ := m.Find("kubernetes:core/v1:Secret", name)
		if !s.IsSecretInput("stringData") {
			t.Errorf("%s data is not secret", name)
		}
	}
}

// TestKeycloakIsBuiltBeforeAnOptimizedStart: `start --optimized` on a server
// never built for its options refuses to start, and a plain `start` rebuilds
// into /opt/keycloak/lib/quarkus, which the read-only root filesystem
// refuses (Keycloak 26 server guide, "Optimize the startup"). The init
// steps build with the same build-time options into a writable lib/quarkus
// that the server then starts from, and the build must find there what the
// image ships in lib/quarkus (see workload in identity.go).
//
// The Keycloak image is not obtainable here, so the pod's filesystem is
// played out from the rendered Deployment: the image's lib/quarkus files
// (the ones QuarkusEntryPoint and the re-augmentation read first) in a
// directory standing for the image, each emptyDir a directory of its own,
// each step's paths resolved through its own volume mounts, and the copy
// step run with the real cp. An empty volume over lib/quarkus at the build
// (the bug this pins) fails it.
func TestKeycloakIsBuiltBeforeAnOptimizedStart(t *testing.T) {
	m := deploy(t, configured())
	d, _ := m.Find("kubernetes:apps/v1:Deployment", "identity-keycloak")
	spec := "spec.template.spec."
	image := t.TempDir()
	shipped := []string{"quarkus-application.dat", "build-system.properties", "generated-bytecode.jar"}
	for _, f := range shipped {
		path := filepath.Join(image, identity.QuarkusDir, f)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	volumes := map[string]string{}
	for _, v := range d.Input(spec + "volumes").([]any) {
		name := v.(map[string]any)["name"].(string)
		if _, ok := v.(map[string]any)["emptyDir"]; !ok {
			t.Fatalf("volume %s is not an emptyDir", name)
		}
		volumes[name] = t.TempDir()
	}
	// resolve maps a path as container sees it to where it lives.
	resolve := func(container, path string) string {
		best, host := "", filepath.Join(image, path)
		for _, v := range d.Input(spec + container + ".volumeMounts").([]any) {
			mount := v.(map[string]any)
			at := mount["mountPath"].(string)
			if (path == at || strings.HasPrefix(path, strings.TrimSuffix(at, "/")+"/")) && len(at) > len(best) {
				best, host = at, filepath.Join(volumes[mount["name"].(string)], strings.TrimPrefix(path, at))
			}
		}
		return host
	}
	inits := d.Input(spec + "initContainers").([]any)
	build := -1
	for i, c := range inits {
		container := fmt.Sprintf("initContainers[%d]", i)
		check(t, d, map[string]any{spec + container + ".image": "quay.io/keycloak/keycloak:26.4.7",
			spec + container + ".securityContext.readOnlyRootFilesystem": true})
		cmd := c.(map[string]any)["command"].([]any)
		switch cmd[0] {
		case "cp":
			// cp -R SRC/. DST/ with the real cp, each path where the step sees it.
			args := []string{}
			for _, a := range cmd[1:] {
				arg := a.(string)
				switch {
				case strings.HasSuffix(arg, "/."): // a directory's contents
					arg = resolve(container, strings.TrimSuffix(arg, "/.")) + "/."
				case strings.HasPrefix(arg, "/"):
					arg = resolve(container, arg)
				}
				args = append(args, arg)
			}
			if out, err := exec.Command("cp", args...).CombinedOutput(); err != nil {
				t.Fatalf("%s: cp %v: %v: %s", container, args, err, out)
			}
		case "/opt/keycloak/bin/kc.sh":
			build = i
			if got := c.(map[string]any)["args"]; !reflect.DeepEqual(got, []any{"build"}) {
				t.Errorf("%s args = %v, want [build]", container, got)
			}
			for _, f := range shipped {
				if _, err := os.Stat(resolve(container, identity.QuarkusDir+"/"+f)); err != nil {
					t.Errorf("kc.sh build cannot read %s/%s, which Quarkus opens first: %v", identity.QuarkusDir, f, err)
				}
			}
			if strings.HasPrefix(resolve(container, identity.QuarkusDir), image) {
				t.Errorf("the build writes lib/quarkus on the read-only image")
			}
		default:
			t.Errorf("%s runs %v, not a step of the build", container, cmd)
		}
	}
	if build < 0 {
		t.Fatal("no kc.sh build step")
	}
	if resolve("containers[0]", identity.QuarkusDir) != resolve(fmt.Sprintf("initContainers[%d]", build), identity.QuarkusDir) {
		t.Error("the build and the server must share a writable lib/quarkus")
	}
	buildEnv := map[string]any{}
	for _, e := range d.Input(spec + fmt.Sprintf("initContainers[%d]", build) + ".env").([]any) {
		buildEnv[e.(map[string]any)["name"].(string)] = e.(map[string]any)["value"]
	}
	for k, v := range map[string]any{"KC_DB": "postgres", "KC_FEATURES": "token-exchange,admin-fine-grained-authz",
		"KC_HEALTH_ENABLED": "true", "KC_METRICS_ENABLED": "true"} {
		if buildEnv[k] != v {
			t.Errorf("build %s = %v, want %v (the server starts with the same)", k, buildEnv[k], v)
		}
	}

	prebuilt := configured()
	prebuilt.Prebuilt = true
	m = deploy(t, prebuilt)
	d, _ = m.Find("kubernetes:apps/v1:Deployment", "identity-keycloak")
	if d.Input(spec+"initContainers") != nil {
		t.Error("a prebuilt image needs no build step")
	}
}

// TestKeycloakIsRoutedAndConfiguredWhenReady: the realm waits for the
// Deployment and the route through the gateway.
func TestKeycloakIsRoutedAndConfiguredWhenReady(t *testing.T) {
	args := configured()
	args.IngressClass, args.RoutePlugins = "kong", []string{"rate-limiting-global"}
	m := deploy(t, args)
	route, ok := m.Find("kubernetes:networking.k8s.io/v1:Ingress", "identity-route")
	if !ok {
		t.Fatal("no route to Keycloak")
	}
	check(t, route, map[string]any{
		"spec.ingressClassName": "kong", "spec.rules[0].host": "auth.bac-platform.io",
		"spec.rules[0].http.paths[0].backend.service.name": "keycloak", "metadata.annotations.konghq.com/protocols": "https",
		"metadata.annotations.konghq.com/plugins": "rate-limiting-global",
	})
	realm, _ := m.Find("keycloak:index/realm:Realm", "identity-realm")
	deployment, _ := m.Find("kubernetes:apps/v1:Deployment", "identity-keycloak")
	for _, dep := range []string{deployment.URN, route.URN} {
		if !slices.Contains(realm.DependsOn, dep) {
			t.Errorf("the realm does not wait for %s", dep)
		}
	}
	if _, ok := deploy(t, configured()).Find("kubernetes:networking.k8s.io/v1:Ingress", "identity-route"); ok {
		t.Error("a route without an ingress class")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *identity.Args)
		want   string
	}{
		{"seed notUsername bug", func(a *identity.Args) {
			a.Realm.PasswordPolicy = "upperCase(1) and length(12) and notUsername(undefined)"
		}, `bac:identity.realm.passwordPolicy: "upperCase(1) and length(12) and notUsername(undefined)" contains "undefined"`},
		{"short passwords", func(a *identity.Args) { a.Realm.PasswordPolicy = "length(8)" }, "bac:identity.realm.passwordPolicy: must require length(12) or more"},
		{"implicit flow", func(a *identity.Args) { a.Client.ImplicitFlowEnabled = true }, "bac:identity.client: the implicit and direct-access-grant (password) flows must stay off"},
		{"brute force off", func(a *identity.Args) { a.Realm.BruteForce.Enabled = false }, "bac:identity.realm.bruteForce.enabled: brute-force protection must stay on"},
		{"plain ldap", func(a *identity.Args) { a.LDAP.ConnectionURL = "ldap://ldap:389" }, `bac:identity.ldap.connectionUrl: "ldap://ldap:389" must use ldaps://`},
		{"bad lifespan", func(a *identity.Args) { a.Realm.AccessTokenLifespan = "five" }, `bac:identity.realm.accessTokenLifespan: "five" is not a duration`},
		{"no database", func(a *identity.Args) { a.DatabaseURL = "" }, `bac:identity.databaseUrl: "" is not jdbc:postgresql://<host>:<port>/<database>`},
		{"short database host", func(a *identity.Args) { a.DatabaseURL = "jdbc:postgresql://keycloak-db:5432/keycloak" },
			`bac:identity.databaseUrl: "jdbc:postgresql://keycloak-db:5432/keycloak" must name the database host by its full DNS name`},
		{"placeholder database", func(a *identity.Args) { a.DatabaseURL = "jdbc:postgresql://db.yourcompany.com:5432/keycloak" },
			`bac:identity.databaseUrl: "jdbc:postgresql://db.yourcompany.com:5432/keycloak" is a placeholder host`},
		{"placeholder directory", func(a *identity.Args) { a.LDAP.ConnectionURL = "ldaps://ldap.example.com:636" },
			`bac:identity.ldap.connectionUrl: "ldaps://ldap.example.com:636" is a placeholder`},
		{"http redirect", func(a *identity.Args) { a.Client.RedirectURIs = []string{"http://app.bac-platform.io/cb"} },
			`bac:identity.client.redirectUris[0]: "http://app.bac-platform.io/cb" must be an https URL`},
		{"wildcard redirect", func(a *identity.Args) { a.Client.RedirectURIs = []string{"https://app.bac-platform.io/*"} },
			`bac:identity.client.redirectUris[0]: "https://app.bac-platform.io/*" is a wildcard`},
		{"redirect to any host", func(a *identity.Args) { a.Client.RedirectURIs = []string{"*"} }, `bac:identity.client.redirectUris[0]: "*" is a wildcard`},
		{"redirect with a fragment", func(a *identity.Args) { a.Client.RedirectURIs = []string{"https://app.bac-platform.io/cb#x"} },
			`bac:identity.client.redirectUris[0]: "https://app.bac-platform.io/cb#x" has a fragment`},
		{"any web origin", func(a *identity.Args) { a.Client.WebOrigins = []string{"*"} }, `bac:identity.client.webOrigins[0]: "*" is a wildcard`},
		{"wildcard web origin", func(a *identity.Args) { a.Client.WebOrigins = []string{"https://*.bac-platform.io"} },
			`bac:identity.client.webOrigins[0]: "https://*.bac-platform.io" is a wildcard`},
		{"web origin with a path", func(a *identity.Args) { a.Client.WebOrigins = []string{"https://app.bac-platform.io/home"} },
			`bac:identity.client.webOrigins[0]: "https://app.bac-platform.io/home" is not an origin`},
		{"reserved namespace", func(a *identity.Args) { a.Namespace = "default" }, `bac:identity.namespace: "default" is reserved for Kubernetes`},
		{"memory without a unit", func(a *identity.Args) { a.Resources.Requests.Memory = "512" },
			`bac:identity.resources.requests.memory: "512" is less than 4Mi: memory without a unit is bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := configured()
			tt.mutate(&a)
			ps := a.Validate("bac:identity")
			if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want) {
				t.Fatalf("got %v, want %q", ps, tt.want)
			}
		})
	}
}
