package gateway_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/gateway"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// withStackFacts sets what the stack sets: the services and the identity
// provider's issuer, realm and client.
func withStackFacts(a gateway.Args) gateway.Args {
	a.Services = services.Default()
	a.Host = "api.bac-platform.io"
	if a.CORS.Origins == nil {
		a.CORS.Origins = []string{"https://app.bac-platform.io"}
	}
	a.OIDC.Issuer, a.OIDC.Realm, a.OIDC.ClientID = "https://auth.example.com/realms/bac", "bac", "bac-api"
	return a
}

func deploy(t *testing.T, args gateway.Args) *mockengine.Mocks {
	t.Helper()
	if args.Services == nil {
		args = withStackFacts(args)
	}
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		args.OIDCClientSecret = pulumi.ToSecret(pulumi.String("s3cr3t-client")).(pulumi.StringOutput)
		_, err := gateway.NewGateway(ctx, "gateway", args)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func find(t *testing.T, m *mockengine.Mocks, typ, name string) mockengine.Resource {
	t.Helper()
	r, ok := m.Find(typ, name)
	if !ok {
		t.Fatalf("no %s %q", typ, name)
	}
	return r
}

func check(t *testing.T, r mockengine.Resource, want map[string]any) {
	t.Helper()
	for path, w := range want {
		if got := r.Input(path); !reflect.DeepEqual(got, w) {
			t.Errorf("%s %s = %#v, want %#v", r.Name, path, got, w)
		}
	}
}

func TestKongReleaseHasTheSeedValues(t *testing.T) {
	m := deploy(t, gateway.DefaultArgs())
	kong := find(t, m, "kubernetes:helm.sh/v3:Release", "gateway-kong")
	check(t, kong, map[string]any{
		"chart": "kong", "version": "3.2.0", "namespace": "api-gateway",
		"repositoryOpts.repo":                                              "https://charts.konghq.com",
		"values.replicaCount":                                              5.0,
		"values.image.tag":                                                 "3.9.1",
		"values.autoscaling.enabled":                                       true,
		"values.autoscaling.minReplicas":                                   5.0,
		"values.autoscaling.maxReplicas":                                   50.0,
		"values.autoscaling.metrics[0].resource.name":                      "cpu",
		"values.autoscaling.metrics[0].resource.target.averageUtilization": 70.0,
		"values.autoscaling.metrics[1].resource.name":                      "memory",
		"values.autoscaling.metrics[1].resource.target.averageUtilization": 80.0,
		"values.resources.requests":                                        map[string]any{"cpu": "1000m", "memory": "2Gi"},
		"values.resources.limits":                                          map[string]any{"cpu": "2000m", "memory": "4Gi"},
		// DB-less: chart 3.2.0 refuses its bundled PostgreSQL without an image
		// (templates/postgres.yaml), and nothing else provides a database.
		"values.env.database":                        "off",
		"values.env.pg_host":                         nil,
		"values.env.nginx_worker_processes":          "auto",
		"values.env.nginx_events_worker_connections": "10240",
		"values.env.ssl_protocols":                   "TLSv1.3",
		"values.env.ssl_cipher_suite":                "modern",
		// kong:3.9.1 bundles no oidc plugin (kong/constants.lua at 3.9.1);
		// naming it in KONG_PLUGINS stops Kong at start.
		"values.env.plugins":                        "bundled",
		"values.readinessProbe.httpGet.path":        "/status",
		"values.readinessProbe.initialDelaySeconds": 30.0,
		"values.readinessProbe.periodSeconds":       10.0,
		"values.livenessProbe.initialDelaySeconds":  60.0,
		"values.livenessProbe.periodSeconds":        30.0,
		"values.postgresql.enabled":                 false,
		// No inbound capture by Kong's sidecar: the NLB does not speak mesh mTLS.
		"values.podAnnotations.traffic.sidecar.istio.io/includeInboundPorts": "",
		"values.ingressController.enabled":                                   true,
		"values.ingressController.image.tag":                                 "3.5.0",
		"values.ingressController.resources.requests":                        map[string]any{"cpu": "500m", "memory": "512Mi"},
		"values.ingressController.resources.limits":                          map[string]any{"cpu": "1000m", "memory": "1Gi"},
		"values.proxy.type":                                                  "LoadBalancer",
		"values.proxy.annotations": map[string]any{
			"service.beta.kubernetes.io/aws-load-balancer-type":                              "nlb",
			"service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
		},
		"values.proxy.http.servicePort":   80.0,
		"values.proxy.http.containerPort": 8000.0,
		"values.proxy.tls.servicePort":    443.0,
		"values.proxy.tls.containerPort":  8443.0,
		"values.admin.tls.servicePort":    8444.0,
		"values.admin.tls.containerPort":  8444.0,
		"values.admin.http.enabled":       false,
	})
}

func TestLocalClustersGetNoNLBAnnotations(t *testing.T) {
	args := withStackFacts(gateway.DefaultArgs())
	args.AWSLoadBalancer = false
	m := deploy(t, args)
	kong := find(t, m, "kubernetes:helm.sh/v3:Release", "gateway-kong")
	if got := kong.Input("values.proxy.annotations"); !reflect.DeepEqual(got, map[string]any{}) {
		t.Fatalf("annotations = %v", got)
	}
}

// TestALaptopClusterPublishesTheLoopbackAddress: where LoadBalancer
// Services get no address, Kong's controller publishes the configured one,
// so the provider's Ingress await can finish; by default it publishes the
// proxy Service's address and the chart gets no override.
func TestALaptopClusterPublishesTheLoopbackAddress(t *testing.T) {
	args := withStackFacts(gateway.DefaultArgs())
	kong := find(t, deploy(t, args), "kubernetes:helm.sh/v3:Release", "gateway-kong")
	if got := kong.Input("values.ingressController.env"); got != nil {
		t.Fatalf("default ingressController.env = %v, want none", got)
	}
	args.AWSLoadBalancer, args.PublishStatusAddresses = false, []string{"127.0.0.1"}
	kong = find(t, deploy(t, args), "kubernetes:helm.sh/v3:Release", "gateway-kong")
	want := map[string]any{"publish_status_address": "127.0.0.1"}
	if got := kong.Input("values.ingressController.env"); !reflect.DeepEqual(got, want) {
		t.Fatalf("ingressController.env = %v, want %v", got, want)
	}
}

func TestPluginsHaveTheSeedSettings(t *testing.T) {
	args := gateway.DefaultArgs()
	args.Image.Repository = "registry.bac-platform.io/kong-oidc" // a build that bundles the plugin
	args.OIDC.Enabled = true
	m := deploy(t, args)
	typ := "kubernetes:configuration.konghq.com/v1:KongClusterPlugin"
	if n := len(m.ByType(typ)); n != 6 {
		t.Fatalf("%d plugins, want 6", n)
	}
	kong := find(t, m, "kubernetes:helm.sh/v3:Release", "gateway-kong")
	check(t, kong, map[string]any{"values.env.plugins": "bundled,oidc"})
	// Nothing deploys the seed's Redis: counted in each proxy, per client
	// address (one realm consumer would put every caller in one bucket).
	check(t, find(t, m, typ, "gateway-rate-limiting-global"), map[string]any{
		"plugin": "rate-limiting", "config.minute": 1000.0, "config.hour": 50000.0, "config.day": 1000000.0,
		"config.policy": "local", "config.limit_by": "ip", "config.redis": nil, "config.redis_host": nil,
		"config.fault_tolerant": false, "config.hide_client_headers": false,
	})
	check(t, find(t, m, typ, "gateway-rate-limiting-analytics"), map[string]any{
		"plugin": "rate-limiting", "config.minute": 100.0, "config.hour": 5000.0, "config.day": nil, "config.policy": "local",
	})
	check(t, find(t, m, typ, "gateway-jwt-auth"), map[string]any{
		// exp only: Keycloak's tokens carry no nbf, and Kong fails a
		// listed claim a token lacks.
		"plugin": "jwt", "config.claims_to_verify": []any{"exp"}, "config.key_claim_name": "iss",
		"config.secret_is_base64": false, "config.run_on_preflight": false,
	})
	check(t, find(t, m, typ, "gateway-cors-global"), map[string]any{
		"plugin":                 "cors",
		"config.origins":         []any{"https://app.bac-platform.io"},
		"config.methods":         []any{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
		"config.headers":         []any{"Accept", "Authorization", "Content-Type", "X-Request-ID"},
		"config.exposed_headers": []any{"X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining"},
		"config.credentials":     true, "config.max_age": 3600.0,
	})
	check(t, find(t, m, typ, "gateway-request-transformer"), map[string]any{
		"plugin": "request-transformer", "config.add.headers": []any{"X-Gateway-Version:3.5.0"},
		"config.remove.headers": []any{"X-Internal-Secret"},
	})
	oidc := find(t, m, typ, "gateway-oidc-keycloak")
	check(t, oidc, map[string]any{
		"plugin": "oidc", "config.client_id": "bac-api", "config.realm": "bac",
		"config.discovery":              "https://auth.example.com/realms/bac/.well-known/openid-configuration",
		"config.introspection_endpoint": "https://auth.example.com/realms/bac/protocol/openid-connect/token/introspect",
		"config.redirect_uri":           "https://api.bac-platform.io/auth/callback",
		"config.scope":                  "openid email profile", "config.logout_path": "/logout",
		"config.token_endpoint_auth_method":                 "client_secret_post",
		"configPatches[0].path":                             "/client_secret",
		"configPatches[0].valueFrom.secretKeyRef.name":      gateway.OIDCSecretName,
		"configPatches[0].valueFrom.secretKeyRef.namespace": "api-gateway",
	})
	if oidc.Input("config.client_secret") != nil {
		t.Error("the client secret must not be in the plugin object")
	}
	secret := find(t, m, "kubernetes:core/v1:Secret", "gateway-oidc-client")
	if secret.Input("stringData.client_secret") != "[secret]" {
		t.Errorf("client secret input = %v, want a secret", secret.Input("stringData.client_secret"))
	}
}

func TestStockImageGetsNoOIDCPlugin(t *testing.T) {
	m := deploy(t, gateway.DefaultArgs())
	if _, ok := m.Find("kubernetes:configuration.konghq.com/v1:KongClusterPlugin", "gateway-oidc-keycloak"); ok {
		t.Error("the oidc KongClusterPlugin exists although the stock image cannot load the plugin")
	}
	if _, ok := m.Find("kubernetes:core/v1:Secret", "gateway-oidc-client"); ok {
		t.Error("the oidc client secret exists without the plugin")
	}
	if n := len(m.ByType("kubernetes:configuration.konghq.com/v1:KongClusterPlugin")); n != 5 {
		t.Errorf("%d plugins, want the five the stock image bundles", n)
	}
}

func TestExternalDatabase(t *testing.T) {
	args := gateway.DefaultArgs()
	args.Postgres.ExternalHost = "kong-db.bac-platform.io"
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		a := withStackFacts(args)
		a.DatabasePassword = pulumi.ToSecret(pulumi.String("kong-db-pw")).(pulumi.StringOutput)
		_, err := gateway.NewGateway(ctx, "gateway", a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	check(t, find(t, m, "kubernetes:helm.sh/v3:Release", "gateway-kong"), map[string]any{
		"values.env.database": "postgres", "values.env.pg_host": "kong-db.bac-platform.io", "values.env.pg_port": "5432",
		"values.env.pg_user": "kong", "values.env.pg_password.valueFrom.secretKeyRef.name": gateway.DBSecretName,
		"values.postgresql.enabled": false,
	})
	if s := find(t, m, "kubernetes:core/v1:Secret", "gateway-db"); s.Input("stringData.password") != "[secret]" {
		t.Errorf("database password = %v, want a secret", s.Input("stringData.password"))
	}
}

func TestRedisRateLimitUsesTheRedisRecord(t *testing.T) {
	args := gateway.DefaultArgs()
	args.RateLimitGlobal.Policy = gateway.PolicyRedis
	m := deploy(t, args)
	// Kong 3.9.1 deprecates the top-level redis_* keys for config.redis.*.
	check(t, find(t, m, "kubernetes:configuration.konghq.com/v1:KongClusterPlugin", "gateway-rate-limiting-global"), map[string]any{
		"config.policy": "redis", "config.redis.host": "dragonfly-cache.cache.svc.cluster.local",
		"config.redis.port": 6379.0, "config.redis.database": 1.0, "config.redis_host": nil, "config.fault_tolerant": false,
	})
}

func TestRoutes(t *testing.T) {
	m := deploy(t, gateway.DefaultArgs())
	if n := len(m.ByType("kubernetes:configuration.konghq.com/v1:KongIngress")); n != 0 {
		t.Errorf("%d KongIngress objects: KIC 3 deprecates them", n)
	}
	want := map[string][3]string{
		"crm":       {"/v1/crm", "crm-service", "rate-limiting-global,jwt-auth,cors-global,request-transformer"},
		"erp":       {"/v1/erp", "erp-service", "rate-limiting-global,jwt-auth,cors-global"},
		"analytics": {"/v1/analytics", "analytics-service", "rate-limiting-analytics,jwt-auth,cors-global"},
	}
	for svc, w := range want {
		ing := find(t, m, "kubernetes:networking.k8s.io/v1:Ingress", "gateway-"+svc)
		check(t, ing, map[string]any{
			"metadata.namespace":                                      svc,
			"metadata.annotations.konghq.com/plugins":                 w[2],
			"spec.ingressClassName":                                   "kong",
			"spec.rules[0].host":                                      "api.bac-platform.io",
			"spec.rules[0].http.paths[0].path":                        w[0],
			"spec.rules[0].http.paths[0].pathType":                    "Prefix",
			"spec.rules[0].http.paths[0].backend.service.name":        w[1],
			"spec.rules[0].http.paths[0].backend.service.port.number": 8080.0,
		})
	}
	crm := find(t, m, "kubernetes:networking.k8s.io/v1:Ingress", "gateway-crm")
	check(t, crm, map[string]any{"metadata.annotations.konghq.com/strip-path": "false",
		"metadata.annotations.konghq.com/protocols": "https", "metadata.annotations.konghq.com/methods": "GET,POST,PUT,PATCH,DELETE",
		"metadata.annotations.konghq.com/override": nil})
}

func TestInTheMeshKongCallsTheServicesThroughTheirAddress(t *testing.T) {
	args := withStackFacts(gateway.DefaultArgs())
	args.InMesh = true
	ann := gateway.ServiceAnnotations(args)
	for _, svc := range []string{"crm", "erp", "analytics"} {
		if ann[svc][gateway.AnnotationServiceUpstream] != "true" {
			t.Errorf("%s: service-upstream = %q, want true (Kong would call pod IPs past its sidecar)", svc, ann[svc][gateway.AnnotationServiceUpstream])
		}
		if want := svc + "-service." + svc + ".svc.cluster.local"; ann[svc][gateway.AnnotationHostHeader] != want {
			t.Errorf("%s: host-header = %q, want %q", svc, ann[svc][gateway.AnnotationHostHeader], want)
		}
	}
	if _, ok := ann["users"]; ok {
		t.Error("an unrouted service got gateway annotations")
	}
	if ann["crm"][gateway.AnnotationReadTimeout] != "60000" || ann["crm"][gateway.AnnotationUpstreamPolicy] != "" {
		t.Errorf("crm annotations = %v, want the timeouts and no upstream policy in the mesh", ann["crm"])
	}
	m := deploy(t, args)
	for _, svc := range []string{"crm", "erp", "analytics"} {
		ing := find(t, m, "kubernetes:networking.k8s.io/v1:Ingress", "gateway-"+svc)
		check(t, ing, map[string]any{"metadata.annotations.konghq.com/preserve-host": "false"})
	}
}

func TestTheMeshKeepsEachTenantOnOneCRMPod(t *testing.T) {
	args := withStackFacts(gateway.DefaultArgs())
	args.InMesh = true
	m := deploy(t, args)
	check(t, find(t, m, "kubernetes:networking.istio.io/v1:DestinationRule", "gateway-crm-tenant-affinity"), map[string]any{
		"metadata.namespace": "crm", "spec.host": "crm-service.crm.svc.cluster.local",
		"spec.trafficPolicy.loadBalancer.consistentHash.httpHeaderName": "X-Tenant-ID",
		// Auto mTLS stays: the rule sets no TLS mode.
		"spec.trafficPolicy.tls": nil,
	})
	if n := len(m.ByType("kubernetes:configuration.konghq.com/v1beta1:KongUpstreamPolicy")); n != 0 {
		t.Errorf("%d KongUpstreamPolicies in the mesh: Kong's upstream has one target there", n)
	}
}

func TestOutsideTheMeshAnUpstreamPolicyKeepsTenantsOnOnePod(t *testing.T) {
	args := withStackFacts(gateway.DefaultArgs())
	m := deploy(t, args)
	check(t, find(t, m, "kubernetes:configuration.konghq.com/v1beta1:KongUpstreamPolicy", "gateway-crm-tenant-affinity"), map[string]any{
		"metadata.namespace": "crm", "spec.algorithm": "consistent-hashing", "spec.hashOn.header": "X-Tenant-ID",
	})
	if got := gateway.ServiceAnnotations(args)["crm"][gateway.AnnotationUpstreamPolicy]; got != gateway.TenantAffinityName {
		t.Errorf("crm upstream-policy annotation = %q, want %q", got, gateway.TenantAffinityName)
	}
	if n := len(m.ByType("kubernetes:networking.istio.io/v1:DestinationRule")); n != 0 {
		t.Errorf("%d DestinationRules outside the mesh", n)
	}
}

func TestJWTIssuerTrustsTheRealmKey(t *testing.T) {
	pemKey, err := gateway.PublicKeyPEM(mockengine.RealmRS256Key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pemKey, "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("PEM = %q", pemKey)
	}
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		_, err := gateway.NewJWTIssuer(ctx, "gateway-jwt", gateway.JWTIssuerArgs{
			Namespace: "api-gateway", Issuer: "https://auth.bac-platform.io/realms/bac", PublicKeyPEM: pulumi.String(pemKey),
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cred := find(t, m, "kubernetes:core/v1:Secret", "gateway-jwt-credential")
	for path, want := range map[string]any{
		"metadata.name": gateway.JWTCredentialName, "metadata.namespace": "api-gateway",
		"metadata.labels.konghq.com/credential": "jwt",
		"stringData.key":                        "https://auth.bac-platform.io/realms/bac",
		"stringData.algorithm":                  "RS256", "stringData.rsa_public_key": pemKey,
		"stringData.secret": nil, // RS256 verifies with the public key alone
	} {
		if got := cred.RevealedInput(path); !reflect.DeepEqual(got, want) {
			t.Errorf("credential %s = %#v, want %#v", path, got, want)
		}
	}
	check(t, find(t, m, "kubernetes:configuration.konghq.com/v1:KongConsumer", "gateway-jwt-consumer"), map[string]any{
		"metadata.name": gateway.JWTConsumerName, "metadata.annotations.kubernetes.io/ingress.class": "kong",
		"username": gateway.JWTConsumerName, "credentials": []any{gateway.JWTCredentialName},
	})
}

func TestPublicKeyPEMRefusesWhatIsNotAnRSAKey(t *testing.T) {
	for _, in := range []string{"", "not base64!", "aGVsbG8=", // base64 of "hello"
		// An EC P-256 SubjectPublicKeyInfo.
		"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIvS2RNhsVKuvxnM728OV7cwR41j8j2mHHdkIBMs9vnMawsYzufm9z9JZT8NzSxnlYtIzSslSZkDMfP8dMaxRcw==",
	} {
		if _, err := gateway.PublicKeyPEM(in); err == nil {
			t.Errorf("PublicKeyPEM(%q) accepted", in)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *gateway.Args)
		want   string
	}{
		{"tls 1.2 asked of a named suite", func(a *gateway.Args) { a.SSLProtocols = "TLSv1.2 TLSv1.3" },
			`bac:gateway.sslProtocols: "TLSv1.2 TLSv1.3" is ignored: Kong applies ssl_protocols only with the custom cipher suite, and "modern" serves TLSv1.3`},
		{"tls 1.3 asked of intermediate", func(a *gateway.Args) { a.SSLCipherSuite = "intermediate" },
			`bac:gateway.sslCipherSuite: "intermediate" serves TLSv1.2 TLSv1.3 (Kong ignores sslProtocols "TLSv1.3" unless the suite is custom)`},
		{"fips serves 1.2", func(a *gateway.Args) { a.SSLCipherSuite = "fips" }, `bac:gateway.sslCipherSuite: "fips" serves TLSv1.2`},
		{"custom suite with 1.2", func(a *gateway.Args) { a.SSLCipherSuite, a.SSLProtocols = "custom", "TLSv1.2" },
			`bac:gateway.sslProtocols: "TLSv1.2": the gateway serves TLS 1.3 only`},
		{"unknown suite", func(a *gateway.Args) { a.SSLCipherSuite = "strong" }, `bac:gateway.sslCipherSuite: "strong" is not one of Kong's cipher suites`},
		{"publish status address neither an IP nor a DNS name", func(a *gateway.Args) { a.PublishStatusAddresses = []string{"127.0.0.1", "http://kong"} },
			`bac:gateway.publishStatusAddresses[1]: "http://kong" is not a DNS name like platform.example.org`},
		{"wildcard cors", func(a *gateway.Args) { a.CORS.Origins = []string{"*"} }, `bac:gateway.cors.origins[0]: "*" lets any site call the API`},
		{"jwt claim Kong does not verify", func(a *gateway.Args) { a.JWT.ClaimsToVerify = []string{"exp", "iat"} },
			`bac:gateway.jwt.claimsToVerify[1]: "iat" is not a claim Kong's jwt plugin verifies (exp, nbf)`},
		{"jwt without exp", func(a *gateway.Args) { a.JWT.ClaimsToVerify = []string{"nbf"} },
			`bac:gateway.jwt.claimsToVerify: [nbf] does not verify exp`},
		{"jwt maximum expiration beyond a year", func(a *gateway.Args) { a.JWT.MaximumExpirationSeconds = gateway.MaxJWTExpiration + 1 },
			`bac:gateway.jwt.maximumExpirationSeconds: 31536001 is outside Kong's 0 to 31536000 seconds`},
		{"cors origin as a regex", func(a *gateway.Args) { a.CORS.Origins = []string{`https://.*\.bac-platform\.io`} },
			`bac:gateway.cors.origins[0]: "https://.*\\.bac-platform\\.io" is a regular expression to Kong`},
		{"cors glob", func(a *gateway.Args) { a.CORS.Origins = []string{"https://*.bac-platform.io"} },
			`bac:gateway.cors.origins[0]: "https://*.bac-platform.io" is a regular expression to Kong`},
		{"cors origin with a path", func(a *gateway.Args) { a.CORS.Origins = []string{"https://app.bac-platform.io/login"} },
			`bac:gateway.cors.origins[0]: "https://app.bac-platform.io/login" has a path`},
		{"cors origin not a URL", func(a *gateway.Args) { a.CORS.Origins = []string{"app.bac-platform.io"} },
			`bac:gateway.cors.origins[0]: "app.bac-platform.io" is not an origin`},
		{"cors origin twice", func(a *gateway.Args) {
			a.CORS.Origins = []string{"https://app.bac-platform.io", "https://app.bac-platform.io"}
		},
			`bac:gateway.cors.origins[1]: "https://app.bac-platform.io" is also origins[0]`},
		{"route without authentication", func(a *gateway.Args) {
			a.Routes[1].Plugins = []string{gateway.PluginRateLimitGlobal, gateway.PluginCORS}
		},
			"bac:gateway.routes[1].plugins: every public route needs authentication (jwt-auth or oidc-keycloak)"},
		{"two routes for one service", func(a *gateway.Args) { a.Routes[1].Service = "crm" }, `bac:gateway.routes[1].service: "crm" already has routes[0]`},
		{"two routes on one path", func(a *gateway.Args) { a.Routes[2].Path = "/v1/erp" }, `bac:gateway.routes[2].path: "/v1/erp" is also routes[1]'s path`},
		{"route path with a query", func(a *gateway.Args) { a.Routes[0].Path = "/v1/crm?x=1" }, `bac:gateway.routes[0].path: "/v1/crm?x=1" must be a URL path`},
		{"moving image tag", func(a *gateway.Args) { a.Image.Tag = "stable" }, `bac:gateway.image.tag: "stable" is a moving tag`},
		{"tag in the repository", func(a *gateway.Args) { a.ControllerImage.Repository = "kong/kubernetes-ingress-controller:3.5" },
			`bac:gateway.controllerImage.repository: "kong/kubernetes-ingress-controller:3.5" must name the repository only`},
		{"chart over http", func(a *gateway.Args) { a.Chart.Repository = "http://charts.konghq.com" },
			`bac:gateway.chart.repository: "http://charts.konghq.com" is not an https:// or oci:// chart repository`},
		{"request above limit", func(a *gateway.Args) { a.Resources.Requests.CPU = "4" }, "bac:gateway.resources.requests.cpu: 4 is above the limit 2000m"},
		{"reserved namespace", func(a *gateway.Args) { a.Namespace = "kube-system" }, `bac:gateway.namespace: "kube-system" is reserved for Kubernetes`},
		{"latest image", func(a *gateway.Args) { a.Image.Tag = "latest" }, `bac:gateway.image.tag: "latest" is a moving tag, not a pinned version`},
		{"unpinned chart", func(a *gateway.Args) { a.Chart.Version = "~3.2" }, `bac:gateway.chart.version: "~3.2" is not an exact chart version`},
		{"shell substitution", func(a *gateway.Args) {
			a.RequestTransformer.AddHeaders = []string{"X-Request-Time:$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
		}, "bac:gateway.requestTransformer.headers[0]: \"X-Request-Time:$(date -u +%Y-%m-%dT%H:%M:%SZ)\": Kong does not evaluate $(...) substitutions"},
		{"route without rate limit", func(a *gateway.Args) { a.Routes[1].Plugins = []string{"jwt-auth"} }, "bac:gateway.routes[1].plugins: every public route needs a rate-limiting plugin"},
		{"unknown service", func(a *gateway.Args) { a.Routes[0].Service = "hr" }, `bac:gateway.routes[0].service: "hr" is not a business service`},
		{"replicas outside hpa", func(a *gateway.Args) { a.Replicas = 60 }, "bac:gateway.replicas: 60 is outside the autoscaling range 5-50"},
		{"missing limits", func(a *gateway.Args) { a.Resources.Limits.Memory = "" }, `bac:gateway.resources.limits.memory: "" is not a Kubernetes quantity`},
		{"external database by short name", func(a *gateway.Args) { a.Postgres.ExternalHost = "kong-db" }, `bac:gateway.postgres.externalHost: "kong-db" is not a DNS name`},
		{"oidc on the stock image", func(a *gateway.Args) { a.OIDC.Enabled = true }, "bac:gateway.oidc.enabled: the oidc plugin is not in the kong image"},
		{"oidc without an issuer", func(a *gateway.Args) {
			a.OIDC.Enabled, a.Image.Repository, a.OIDC.Issuer = true, "registry.bac-platform.io/kong-oidc", ""
		}, `bac:gateway.oidc.issuer: "" must be an https URL`},
		{"oidc route without the plugin", func(a *gateway.Args) { a.Routes[0].Plugins = append(a.Routes[0].Plugins, gateway.PluginOIDC) },
			`bac:gateway.routes[0].plugins: "oidc-keycloak" needs bac:gateway.oidc.enabled`},
		{"unknown policy", func(a *gateway.Args) { a.RateLimitGlobal.Policy = "memory" },
			`bac:gateway.rateLimitGlobal.policy: "memory" is not one of local, redis, cluster`},
		{"cluster policy without a database", func(a *gateway.Args) { a.RateLimitGlobal.Policy = gateway.PolicyCluster },
			`bac:gateway.rateLimitGlobal.policy: "cluster" counts in Kong's database; this gateway is DB-less`},
		{"redis by short name", func(a *gateway.Args) {
			a.RateLimitGlobal.Policy, a.RateLimitGlobal.RedisHost = gateway.PolicyRedis, "dragonfly-cache"
		}, `bac:gateway.rateLimitGlobal.redisHost: "dragonfly-cache": the redis policy needs the store's full DNS name`},
		{"production fails open", func(a *gateway.Args) {
			a.Production, a.RateLimitAnalytics.Policy, a.RateLimitAnalytics.FaultTolerant = true, gateway.PolicyRedis, true
		}, "bac:gateway.rateLimitAnalytics.faultTolerant: production cannot fail open"},
		{"longer period lower limit", func(a *gateway.Args) { a.RateLimitGlobal.Hour = 500 },
			"bac:gateway.rateLimitGlobal.hour: 500 is lower than the minute limit 1000"},
		{"no limit", func(a *gateway.Args) { a.RateLimitAnalytics.Minute, a.RateLimitAnalytics.Hour = 0, 0 },
			"bac:gateway.rateLimitAnalytics: needs at least one of minute, hour, day"},
		{"negative limit", func(a *gateway.Args) { a.RateLimitAnalytics.Day = -1 },
			"bac:gateway.rateLimitAnalytics.day: -1: a limit must be positive"},
		{"limit by nothing", func(a *gateway.Args) { a.RateLimitGlobal.LimitBy = "tenant" },
			`bac:gateway.rateLimitGlobal.limitBy: "tenant" is not one of consumer, credential, ip, service, header`},
		{"limit by header without a name", func(a *gateway.Args) { a.RateLimitGlobal.LimitBy = "header" },
			"bac:gateway.rateLimitGlobal.headerName: is required with limitBy header, and only then"},
		{"preserve host in the mesh", func(a *gateway.Args) { a.InMesh, a.CRMUpstream.PreserveHost = true, true },
			"bac:gateway.crmUpstream.preserveHost: cannot be true in the mesh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := withStackFacts(gateway.DefaultArgs())
			tt.mutate(&a)
			ps := a.Validate("bac:gateway")
			if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want) {
				t.Fatalf("problems = %v, want one starting %q", ps, tt.want)
			}
		})
	}
	if ps := withStackFacts(gateway.DefaultArgs()).Validate("bac:gateway"); len(ps) != 0 {
		t.Fatalf("defaults invalid: %v", ps)
	}
}
