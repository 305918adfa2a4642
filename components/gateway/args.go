// Package gateway deploys the Kong API gateway (architecture document 1.1):
// the Helm release, the KongClusterPlugins, the Ingresses routing /v1/crm,
// /v1/erp and /v1/analytics, the CRM's tenant affinity, and the consumer
// that trusts the identity realm's signing key (NewJWTIssuer).
package gateway

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/components/validate"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures the gateway. Its JSON form is a stack config value.
type Args struct {
	Enabled         bool       `json:"enabled"`
	Namespace       string     `json:"namespace"`
	Chart           kube.Chart `json:"chart"`
	Image           kube.Image `json:"image"`
	ControllerImage kube.Image `json:"controllerImage"`

	Replicas            int            `json:"replicas"`
	Autoscaling         Autoscaling    `json:"autoscaling"`
	Resources           kube.Resources `json:"resources"`
	ControllerResources kube.Resources `json:"controllerResources"`
	Postgres            Postgres       `json:"postgres"`
	// WorkerProcesses and WorkerConnections tune nginx.
	WorkerProcesses   string `json:"workerProcesses"`
	WorkerConnections int    `json:"workerConnections"`
	// SSLProtocols and SSLCipherSuite: TLS 1.3 only, Kong's "modern" suite.
	SSLProtocols   string     `json:"sslProtocols"`
	SSLCipherSuite string     `json:"sslCipherSuite"`
	ReadinessProbe kube.Probe `json:"readinessProbe"`
	LivenessProbe  kube.Probe `json:"livenessProbe"`
	// AWSLoadBalancer annotates the proxy Service for an AWS NLB with
	// cross-zone balancing; off for clusters outside AWS.
	AWSLoadBalancer bool `json:"awsLoadBalancer"`
	// PublishStatusAddresses, when set, are the addresses Kong's ingress
	// controller publishes on the Ingresses it serves, in place of the proxy
	// Service's load-balancer address (the chart's
	// ingressController.env.publish_status_address). For a cluster whose
	// LoadBalancer Services never get an address (a laptop cluster without
	// a load-balancer implementation): the controller then publishes
	// nothing (internal/manager/setup.go of the Kong Ingress Controller:
	// "waiting for addresses to be provisioned for publish service"), and
	// the kubernetes provider waits 10 minutes for an Ingress's address
	// before it fails the up (pkg/await/ingress.go). The local stack
	// publishes 127.0.0.1, where bac.localhost resolves.
	PublishStatusAddresses []string `json:"publishStatusAddresses"`

	RateLimitGlobal    RateLimit          `json:"rateLimitGlobal"`
	RateLimitAnalytics RateLimit          `json:"rateLimitAnalytics"`
	JWT                JWT                `json:"jwt"`
	CORS               CORS               `json:"cors"`
	RequestTransformer RequestTransformer `json:"requestTransformer"`
	OIDC               OIDC               `json:"oidc"`
	CRMUpstream        CRMUpstream        `json:"crmUpstream"`
	Routes             []Route            `json:"routes"`

	// Set by the stack, never from the JSON form:

	// Host is the public API host name (api.<domain>).
	Host string `json:"-"`
	// Services are the business services the routes may name.
	Services []services.Service `json:"-"`
	// OIDCClientSecret is the API client's secret the oidc plugin presents
	// (oidc enabled only).
	OIDCClientSecret pulumi.StringInput `json:"-"`
	// DatabasePassword is the external database's password (external
	// database only).
	DatabasePassword pulumi.StringInput `json:"-"`
	// InMesh says the business services run in the Istio mesh (STRICT
	// mTLS): Kong then calls them through their Service address so its
	// sidecar carries the call (see ServiceAnnotations).
	InMesh bool `json:"-"`
	// Production refuses settings that fail open (a rate limit that stops
	// counting when its store is down).
	Production bool `json:"-"`
	// ProxyAnnotations, when set, replace the awsLoadBalancer annotations
	// of the proxy Service: the stack hands the Service to the AWS Load
	// Balancer Controller with them.
	ProxyAnnotations map[string]string `json:"-"`
	// ProxyProtocolFrom, when set, are the address ranges the load balancer
	// connects from (the VPC): the proxy listens expect a PROXY protocol
	// header, and Kong takes the client address from it on connections
	// from these ranges only (real_ip_header proxy_protocol, trusted_ips).
	// Set by the stack with the NLB's proxy-protocol annotation: an NLB
	// with IP targets hides the client address otherwise, and per-client
	// rate limits would count the load balancer's few addresses.
	ProxyProtocolFrom []string `json:"-"`
	// TLSSecret, when set, is the Secret holding the certificate for Host
	// (in TLSNamespace); Kong serves it for every route. Set by the stack
	// when it issues the certificates.
	TLSSecret string `json:"-"`
	// TLSNamespace is the namespace holding TLSSecret: only the route
	// Ingress in that namespace names it, and Kong serves it for Host on
	// every route (its certificates are global, matched by SNI).
	TLSNamespace string `json:"-"`
}

// Autoscaling is the proxy's horizontal pod autoscaler.
type Autoscaling struct {
	MinReplicas                       int `json:"minReplicas"`
	MaxReplicas                       int `json:"maxReplicas"`
	TargetCPUUtilizationPercentage    int `json:"targetCPUUtilizationPercentage"`
	TargetMemoryUtilizationPercentage int `json:"targetMemoryUtilizationPercentage"`
}

// Postgres is Kong's optional external database. Without ExternalHost Kong
// runs DB-less: the ingress controller holds the configuration and pushes it
// to every proxy, the mode the controller is built for. The seed's bundled
// three-node PostgreSQL cannot be rendered as written: Kong chart 3.2.0
// refuses postgresql.enabled without an image (templates/postgres.yaml),
// and the Bitnami images its subchart expects are no longer published. With
// ExternalHost set, Kong stores its configuration in that database (its
// password is the stack secret bac:kongDbPassword).
type Postgres struct {
	// ExternalHost is the database's full DNS name.
	ExternalHost string `json:"externalHost"`
	Port         int    `json:"port"`
	Database     string `json:"database"`
	User         string `json:"user"`
}

// RateLimit is a rate-limiting plugin (Kong 3.9.1
// kong/plugins/rate-limiting/schema.lua).
//
// Policy "local" counts in each proxy's memory: nothing else must exist,
// and a client's effective limit is the limit times the number of proxy
// replicas. "redis" counts in a shared Redis (the seed's Dragonfly cache,
// which the platform does not deploy yet), exact across replicas; with
// FaultTolerant Kong stops limiting while Redis is unreachable, so
// production refuses it. "cluster" counts in Kong's database and is
// refused in DB-less mode by the schema itself.
type RateLimit struct {
	Minute int    `json:"minute"`
	Hour   int    `json:"hour"`
	Day    int    `json:"day"`
	Policy string `json:"policy"`
	// LimitBy is what a limit counts per. The platform has one consumer
	// (the realm, see NewJWTIssuer), so Kong's default "consumer" would put
	// every caller in one bucket: the default is the client address.
	LimitBy string `json:"limitBy"`
	// HeaderName names the header to count per (limitBy header only).
	HeaderName        string `json:"headerName"`
	RedisHost         string `json:"redisHost"`
	RedisPort         int    `json:"redisPort"`
	RedisDatabase     int    `json:"redisDatabase"`
	FaultTolerant     bool   `json:"faultTolerant"`
	HideClientHeaders bool   `json:"hideClientHeaders"`
}

// Rate-limit policies and what a limit counts per (Kong 3.9.1 schema).
const (
	PolicyLocal   = "local"
	PolicyRedis   = "redis"
	PolicyCluster = "cluster"
)

// LimitByValues are the schema's limit_by choices this gateway offers;
// "path" is not offered: it needs a path per plugin, and these plugins are
// shared by every route.
func LimitByValues() []string {
	return []string{"consumer", "credential", "ip", "service", "header"}
}

// Config is the plugin's config object as Kong's schema names it (the
// redis_* top-level keys are deprecated in 3.9.1: config.redis.*).
func (r RateLimit) Config() map[string]any {
	c := map[string]any{"policy": r.Policy, "limit_by": r.LimitBy,
		"fault_tolerant": r.FaultTolerant, "hide_client_headers": r.HideClientHeaders}
	if r.LimitBy == "header" {
		c["header_name"] = r.HeaderName
	}
	if r.Policy == PolicyRedis {
		c["redis"] = map[string]any{"host": r.RedisHost, "port": r.RedisPort, "database": r.RedisDatabase}
	}
	for _, p := range r.periods() {
		if p.limit > 0 {
			c[p.name] = p.limit
		}
	}
	return c
}

type period struct {
	name  string
	limit int
}

// periods are the limits from the shortest period to the longest.
func (r RateLimit) periods() []period {
	return []period{{"minute", r.Minute}, {"hour", r.Hour}, {"day", r.Day}}
}

// validate checks the limit as Kong's schema would, and what the schema
// lets through but fails in this platform.
func (r RateLimit) validate(ps *validate.Problems, path string, a Args) {
	limited := false
	for i, p := range r.periods() {
		if p.limit < 0 {
			ps.Add(path+"."+p.name, "%d: a limit must be positive (0 leaves the period unlimited)", p.limit)
		}
		limited = limited || p.limit > 0
		// validate_periods_order: a longer period cannot allow fewer calls.
		for _, longer := range r.periods()[i+1:] {
			if p.limit > 0 && longer.limit > 0 && longer.limit < p.limit {
				ps.Add(path+"."+longer.name, "%d is lower than the %s limit %d; Kong refuses a longer period with a lower limit", longer.limit, p.name, p.limit)
			}
		}
	}
	if !limited {
		ps.Add(path, "needs at least one of minute, hour, day")
	}
	switch r.Policy {
	case PolicyLocal:
	case PolicyRedis:
		// A short name resolves only in the proxy's own namespace.
		if !strings.Contains(r.RedisHost, ".") {
			ps.Add(path+".redisHost", "%q: the redis policy needs the store's full DNS name (<service>.<namespace>.svc.cluster.local)", r.RedisHost)
		} else {
			validate.DNSName(ps, path+".redisHost", r.RedisHost)
		}
		if r.RedisPort < 1 || r.RedisPort > 65535 {
			ps.Add(path+".redisPort", "%d is not a port", r.RedisPort)
		}
		if r.RedisDatabase < 0 {
			ps.Add(path+".redisDatabase", "%d is not a Redis database number", r.RedisDatabase)
		}
		if r.FaultTolerant && a.Production {
			ps.Add(path+".faultTolerant", "production cannot fail open: with faultTolerant Kong stops limiting while Redis is unreachable")
		}
	case PolicyCluster:
		if a.Postgres.ExternalHost == "" {
			ps.Add(path+".policy", "%q counts in Kong's database; this gateway is DB-less (Kong 3.9.1 offers local or redis without a database)", r.Policy)
		}
	default:
		ps.Add(path+".policy", "%q is not one of %s, %s, %s", r.Policy, PolicyLocal, PolicyRedis, PolicyCluster)
	}
	if !slices.Contains(LimitByValues(), r.LimitBy) {
		ps.Add(path+".limitBy", "%q is not one of %s", r.LimitBy, strings.Join(LimitByValues(), ", "))
	}
	if (r.LimitBy == "header") != (r.HeaderName != "") {
		ps.Add(path+".headerName", "is required with limitBy header, and only then")
	}
}

// JWT is the jwt plugin.
type JWT struct {
	KeyClaimName   string `json:"keyClaimName"`
	SecretIsBase64 bool   `json:"secretIsBase64"`
	// ClaimsToVerify are the registered claims Kong checks: exp and/or
	// nbf. A listed claim that a token lacks fails it (Kong 3.9.1
	// kong/plugins/jwt/jwt_parser.lua verify_registered_claims: "must be a
	// number"), and Keycloak's access tokens carry no nbf (Keycloak's
	// TokenManager.initToken never sets it; JsonWebToken.nbf is null and
	// not serialized), so the seed's [exp, nbf] would refuse every token.
	ClaimsToVerify []string `json:"claimsToVerify"`
	// MaximumExpirationSeconds caps how far in the future a token's exp may
	// lie (Kong's maximum_expiration: 0 is off, at most 31536000, needs exp
	// verified). Unset, the stack sets it to the realm's access token
	// lifespan when the platform deploys the identity provider.
	MaximumExpirationSeconds int  `json:"maximumExpirationSeconds"`
	RunOnPreflight           bool `json:"runOnPreflight"`
}

// Kong's jwt plugin schema (3.9.1 kong/plugins/jwt/schema.lua).
const (
	// MaxJWTExpiration is the largest maximum_expiration Kong accepts (a year).
	MaxJWTExpiration = 31536000
)

// jwtClaims are the claims Kong's jwt plugin can verify.
var jwtClaims = []string{"exp", "nbf"}

// CORS is the cors plugin.
type CORS struct {
	Origins        []string `json:"origins"`
	Methods        []string `json:"methods"`
	Headers        []string `json:"headers"`
	ExposedHeaders []string `json:"exposedHeaders"`
	Credentials    bool     `json:"credentials"`
	MaxAge         int      `json:"maxAge"`
}

// RequestTransformer is the request-transformer plugin.
type RequestTransformer struct {
	AddHeaders     []string `json:"addHeaders"`
	RemoveHeaders  []string `json:"removeHeaders"`
	ReplaceHeaders []string `json:"replaceHeaders"`
}

// StockImage is Kong's open-source image, which bundles no OIDC plugin.
const StockImage = "kong"

// ReleaseName is the Helm release of Kong and its ingress controller.
const ReleaseName = "kong"

// OIDC is the oidc plugin against the identity provider's realm. Issuer,
// Realm and ClientID are set by the stack from the identity component when
// the stack deploys it; a stack with an external identity provider sets them.
type OIDC struct {
	// Enabled adds the oidc plugin (KONG_PLUGINS bundled,oidc) and its
	// KongClusterPlugin; it needs an image that bundles the plugin.
	Enabled  bool   `json:"enabled"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
	Realm    string `json:"realm"`
	// IntrospectionEndpoint defaults to the issuer's Keycloak token
	// introspection endpoint.
	IntrospectionEndpoint string `json:"introspectionEndpoint"`
	// RedirectURI defaults to https://<host>/auth/callback.
	RedirectURI             string `json:"redirectUri"`
	LogoutPath              string `json:"logoutPath"`
	Scope                   string `json:"scope"`
	BearerOnly              bool   `json:"bearerOnly"`
	SSLVerify               bool   `json:"sslVerify"`
	TokenEndpointAuthMethod string `json:"tokenEndpointAuthMethod"`
}

// introspectionEndpoint is the configured endpoint or Keycloak's one of the issuer.
func (o OIDC) introspectionEndpoint() string {
	if o.IntrospectionEndpoint != "" {
		return o.IntrospectionEndpoint
	}
	return strings.TrimSuffix(o.Issuer, "/") + "/protocol/openid-connect/token/introspect"
}

// CRMUpstream is the seed's CRM KongIngress: tenant-sticky load balancing,
// timeouts and route settings for the routes with TenantAffinity. KIC 3
// deprecates KongIngress; the settings land where KIC 3.5 reads them:
// route settings as Ingress annotations, timeouts as Service annotations
// (konghq.com/{connect,read,write}-timeout), and the hashing either in the
// mesh (an Istio DestinationRule: Kong calls the Service address, so its
// sidecar picks the pod) or, outside it, in a KongUpstreamPolicy.
type CRMUpstream struct {
	HashOnHeader string   `json:"hashOnHeader"`
	TimeoutMs    int      `json:"timeoutMs"`
	Methods      []string `json:"methods"`
	Protocols    []string `json:"protocols"`
	StripPath    bool     `json:"stripPath"`
	// PreserveHost sends the client's Host to the service. It cannot work
	// in the mesh: the caller's sidecar routes by Host, so an unknown host
	// leaves the mesh in plain text and STRICT mTLS refuses it.
	PreserveHost bool `json:"preserveHost"`
}

// Route is one public API route: an Ingress for a service path.
type Route struct {
	// Service is the business service's short name (services.Service.Name).
	Service string   `json:"service"`
	Path    string   `json:"path"`
	Plugins []string `json:"plugins"`
	// TenantAffinity applies crmUpstream: calls with one tenant header
	// reach one pod, with its timeouts and route settings.
	TenantAffinity bool `json:"tenantAffinity"`
}

// Plugin names (the KongPlugin objects).
const (
	PluginRateLimitGlobal    = "rate-limiting-global"
	PluginRateLimitAnalytics = "rate-limiting-analytics"
	PluginJWT                = "jwt-auth"
	PluginCORS               = "cors-global"
	PluginRequestTransformer = "request-transformer"
	PluginOIDC               = "oidc-keycloak"
)

// PluginNames are the six KongPlugins the gateway defines.
var PluginNames = []string{PluginRateLimitGlobal, PluginJWT, PluginCORS, PluginRequestTransformer, PluginOIDC, PluginRateLimitAnalytics}

// Dragonfly is the Redis-compatible cache the rate limits count in. The seed
// names it dragonfly-cache.cache.svc.cluster.local.
const Dragonfly = "dragonfly-cache.cache.svc.cluster.local"

// DefaultArgs returns the architecture document's gateway (section 1.1).
func DefaultArgs() Args {
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	// The seed counts in Redis (Dragonfly) and fails open; nothing deploys
	// that cache yet, so the default counts locally, per client address.
	// Setting policy redis uses the seed's cache settings below.
	limit := func(minute, hour, day int) RateLimit {
		return RateLimit{Minute: minute, Hour: hour, Day: day, Policy: PolicyLocal, LimitBy: "ip",
			RedisHost: Dragonfly, RedisPort: 6379, RedisDatabase: 1}
	}
	return Args{
		Enabled:   true,
		Namespace: "api-gateway",
		// Chart 3.2.0 (March 2026) and Kong 3.9, the current open-source line;
		// the seed's oidc plugin needs an image that bundles kong-oidc (set
		// image to your build of it).
		Chart:           kube.Chart{Repository: "https://charts.konghq.com", Name: "kong", Version: "3.2.0"},
		Image:           kube.Image{Repository: "kong", Tag: "3.9.1"},
		ControllerImage: kube.Image{Repository: "kong/kubernetes-ingress-controller", Tag: "3.5.0"},
		Replicas:        5,
		Autoscaling:     Autoscaling{MinReplicas: 5, MaxReplicas: 50, TargetCPUUtilizationPercentage: 70, TargetMemoryUtilizationPercentage: 80},
		Resources: kube.Resources{Requests: kube.Quantities{CPU: "1000m", Memory: "2Gi"},
			Limits: kube.Quantities{CPU: "2000m", Memory: "4Gi"}},
		ControllerResources: kube.Resources{Requests: kube.Quantities{CPU: "500m", Memory: "512Mi"},
			Limits: kube.Quantities{CPU: "1000m", Memory: "1Gi"}},
		Postgres:          Postgres{Port: 5432, Database: "kong", User: "kong"},
		WorkerProcesses:   "auto",
		WorkerConnections: 10240,
		SSLProtocols:      "TLSv1.3",
		SSLCipherSuite:    "modern",
		// The seed probes /status on 8001, the plaintext admin API, which
		// this gateway does not expose; the chart's status listener serves
		// the same /status endpoint on 8100.
		ReadinessProbe:     kube.Probe{Path: "/status", Port: 8100, InitialDelaySeconds: 30, PeriodSeconds: 10},
		LivenessProbe:      kube.Probe{Path: "/status", Port: 8100, InitialDelaySeconds: 60, PeriodSeconds: 30},
		AWSLoadBalancer:    true,
		RateLimitGlobal:    limit(1000, 50000, 1000000),
		RateLimitAnalytics: limit(100, 5000, 0),
		// The seed verifies [exp, nbf]; Keycloak issues no nbf (see JWT).
		JWT: JWT{KeyClaimName: "iss", ClaimsToVerify: []string{"exp"}},
		CORS: CORS{
			Methods:        []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
			Headers:        []string{"Accept", "Authorization", "Content-Type", "X-Request-ID"},
			ExposedHeaders: []string{"X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining"},
			Credentials:    true,
			MaxAge:         3600,
		},
		// The seed adds X-Request-Time:$(date ...) and replaces
		// X-Forwarded-For:$(X-Real-IP). Kong never evaluates shell
		// substitutions, so those would send the literal text. What they
		// intend is built in: Kong's proxy already sets X-Forwarded-For from
		// the client address (real_ip settings), and the gateway records the
		// request time in its logs; the gateway version header stays.
		RequestTransformer: RequestTransformer{
			AddHeaders:    []string{"X-Gateway-Version:3.5.0"},
			RemoveHeaders: []string{"X-Internal-Secret"},
		},
		OIDC: OIDC{
			LogoutPath:              "/logout",
			Scope:                   "openid email profile",
			SSLVerify:               true,
			TokenEndpointAuthMethod: "client_secret_post",
		},
		// The seed preserves the client's Host; see CRMUpstream.PreserveHost.
		CRMUpstream: CRMUpstream{HashOnHeader: "X-Tenant-ID", TimeoutMs: 60000, Methods: methods,
			Protocols: []string{"https"}, StripPath: false},
		Routes: []Route{
			{Service: "crm", Path: "/v1/crm", Plugins: []string{PluginRateLimitGlobal, PluginJWT, PluginCORS, PluginRequestTransformer}, TenantAffinity: true},
			{Service: "erp", Path: "/v1/erp", Plugins: []string{PluginRateLimitGlobal, PluginJWT, PluginCORS}},
			{Service: "analytics", Path: "/v1/analytics", Plugins: []string{PluginRateLimitAnalytics, PluginJWT, PluginCORS}},
		},
	}
}

// Validate returns every problem, each at its path below path (where these
// Args sit in the caller's configuration).
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !a.Enabled {
		return ps
	}
	names := make([]string, len(a.Services))
	for i, s := range a.Services {
		names[i] = s.Name
	}
	kube.ValidateNamespace(&ps, path+".namespace", a.Namespace)
	ps.Extend(a.Chart.Validate(path + ".chart"))
	ps.Extend(a.Image.Validate(path + ".image"))
	ps.Extend(a.ControllerImage.Validate(path + ".controllerImage"))
	ps.Extend(a.Resources.Validate(path + ".resources"))
	ps.Extend(a.ControllerResources.Validate(path + ".controllerResources"))
	ps.Extend(a.ReadinessProbe.Validate(path + ".readinessProbe"))
	ps.Extend(a.LivenessProbe.Validate(path + ".livenessProbe"))
	as := a.Autoscaling
	if as.MinReplicas < 1 || as.MinReplicas > as.MaxReplicas {
		ps.Add(path+".autoscaling", "minReplicas %d must be between 1 and maxReplicas %d", as.MinReplicas, as.MaxReplicas)
	}
	if a.Replicas < as.MinReplicas || a.Replicas > as.MaxReplicas {
		ps.Add(path+".replicas", "%d is outside the autoscaling range %d-%d", a.Replicas, as.MinReplicas, as.MaxReplicas)
	}
	for _, pct := range []struct {
		name string
		v    int
	}{{"targetCPUUtilizationPercentage", as.TargetCPUUtilizationPercentage}, {"targetMemoryUtilizationPercentage", as.TargetMemoryUtilizationPercentage}} {
		if pct.v < 1 || pct.v > 100 {
			ps.Add(path+".autoscaling."+pct.name, "%d is not a percentage", pct.v)
		}
	}
	a.validateTLS(&ps, path)
	for i, addr := range a.PublishStatusAddresses {
		if _, err := netip.ParseAddr(addr); err != nil {
			validate.DNSName(&ps, fmt.Sprintf("%s.publishStatusAddresses[%d]", path, i), addr)
		}
	}
	if h := a.Postgres.ExternalHost; h != "" {
		validate.DNSName(&ps, path+".postgres.externalHost", h)
		if a.Postgres.Port < 1 || a.Postgres.Port > 65535 || a.Postgres.Database == "" || a.Postgres.User == "" {
			ps.Add(path+".postgres", "an external database needs port, database and user")
		}
	}
	if a.OIDC.Enabled && a.Image.Repository == StockImage {
		ps.Add(path+".oidc.enabled", "the oidc plugin is not in the %s image (kong/constants.lua at 3.9.1 bundles no oidc plugin; Kong refuses to start when KONG_PLUGINS names it): set %s.image to a build that bundles it, or leave oidc off", StockImage, path)
	}
	a.RateLimitGlobal.validate(&ps, path+".rateLimitGlobal", a)
	a.RateLimitAnalytics.validate(&ps, path+".rateLimitAnalytics", a)
	up := a.CRMUpstream
	if up.PreserveHost && a.InMesh {
		ps.Add(path+".crmUpstream.preserveHost", "cannot be true in the mesh: Kong's sidecar routes by Host, and a client's host would leave the mesh in plain text, refused by STRICT mTLS")
	}
	if up.HashOnHeader == "" {
		ps.Add(path+".crmUpstream.hashOnHeader", "is required: the header whose value keeps a tenant on one pod")
	}
	if up.TimeoutMs < 1 {
		ps.Add(path+".crmUpstream.timeoutMs", "%d must be positive", up.TimeoutMs)
	}
	a.validateCORS(&ps, path)
	a.validateJWT(&ps, path+".jwt")
	if a.OIDC.Enabled && !strings.HasPrefix(a.OIDC.Issuer, "https://") {
		ps.Add(path+".oidc.issuer", "%q must be an https URL (set by the stack from the identity component; set it when identity is external)", a.OIDC.Issuer)
	}
	if a.OIDC.Enabled && (a.OIDC.ClientID == "" || a.OIDC.Realm == "") {
		ps.Add(path+".oidc", "clientId and realm are required (set by the stack from the identity component; set them when identity is external)")
	}
	if len(a.CORS.Origins) == 0 {
		ps.Add(path+".cors.origins", "at least one origin is required (the stack defaults it to the app host of its domain)")
	}
	validate.DNSName(&ps, path+".host (from the domain)", a.Host)
	for i, h := range append(append([]string{}, a.RequestTransformer.AddHeaders...), a.RequestTransformer.ReplaceHeaders...) {
		if strings.Contains(h, "$(") {
			ps.Add(fmt.Sprintf("%s.requestTransformer.headers[%d]", path, i), "%q: Kong does not evaluate $(...) substitutions", h)
		}
		if !strings.Contains(h, ":") {
			ps.Add(fmt.Sprintf("%s.requestTransformer.headers[%d]", path, i), "%q is not name:value", h)
		}
	}
	a.validateRoutes(&ps, path, names)
	return ps
}
