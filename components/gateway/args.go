// Package gateway deploys the Kong API gateway (architecture document 1.1):
// the Helm release, the KongPlugins, the CRM KongIngress and the Ingresses
// routing /v1/crm, /v1/erp and /v1/analytics.
package gateway

import (
	"fmt"
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

// RateLimit is a rate-limiting plugin backed by Redis (the Dragonfly cache).
type RateLimit struct {
	Minute            int    `json:"minute"`
	Hour              int    `json:"hour"`
	Day               int    `json:"day"`
	RedisHost         string `json:"redisHost"`
	RedisPort         int    `json:"redisPort"`
	RedisDatabase     int    `json:"redisDatabase"`
	FaultTolerant     bool   `json:"faultTolerant"`
	HideClientHeaders bool   `json:"hideClientHeaders"`
}

// JWT is the jwt plugin.
type JWT struct {
	KeyClaimName   string   `json:"keyClaimName"`
	SecretIsBase64 bool     `json:"secretIsBase64"`
	ClaimsToVerify []string `json:"claimsToVerify"`
	RunOnPreflight bool     `json:"runOnPreflight"`
}

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

// CRMUpstream is the CRM KongIngress: tenant-sticky load balancing and timeouts.
type CRMUpstream struct {
	HashOnHeader string   `json:"hashOnHeader"`
	TimeoutMs    int      `json:"timeoutMs"`
	Methods      []string `json:"methods"`
	Protocols    []string `json:"protocols"`
	StripPath    bool     `json:"stripPath"`
	PreserveHost bool     `json:"preserveHost"`
}

// Route is one public API route: an Ingress for a service path.
type Route struct {
	// Service is the business service's short name (services.Service.Name).
	Service string   `json:"service"`
	Path    string   `json:"path"`
	Plugins []string `json:"plugins"`
	// KongIngress attaches the CRM KongIngress.
	KongIngress bool `json:"kongIngress"`
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
	redis := func(minute, hour, day int) RateLimit {
		return RateLimit{Minute: minute, Hour: hour, Day: day, RedisHost: Dragonfly, RedisPort: 6379, RedisDatabase: 1, FaultTolerant: true}
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
		RateLimitGlobal:    redis(1000, 50000, 1000000),
		RateLimitAnalytics: redis(100, 5000, 0),
		JWT:                JWT{KeyClaimName: "iss", ClaimsToVerify: []string{"exp", "nbf"}},
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
		CRMUpstream: CRMUpstream{HashOnHeader: "X-Tenant-ID", TimeoutMs: 60000, Methods: methods,
			Protocols: []string{"https"}, StripPath: false, PreserveHost: true},
		Routes: []Route{
			{Service: "crm", Path: "/v1/crm", Plugins: []string{PluginRateLimitGlobal, PluginJWT, PluginCORS, PluginRequestTransformer}, KongIngress: true},
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
	if h := a.Postgres.ExternalHost; h != "" {
		validate.DNSName(&ps, path+".postgres.externalHost", h)
		if a.Postgres.Port < 1 || a.Postgres.Port > 65535 || a.Postgres.Database == "" || a.Postgres.User == "" {
			ps.Add(path+".postgres", "an external database needs port, database and user")
		}
	}
	if a.OIDC.Enabled && a.Image.Repository == StockImage {
		ps.Add(path+".oidc.enabled", "the oidc plugin is not in the %s image (kong/constants.lua at 3.9.1 bundles no oidc plugin; Kong refuses to start when KONG_PLUGINS names it): set %s.image to a build that bundles it, or leave oidc off", StockImage, path)
	}
	for _, rl := range []struct {
		name string
		r    RateLimit
	}{{"rateLimitGlobal", a.RateLimitGlobal}, {"rateLimitAnalytics", a.RateLimitAnalytics}} {
		if rl.r.Minute <= 0 && rl.r.Hour <= 0 && rl.r.Day <= 0 {
			ps.Add(path+"."+rl.name, "needs at least one of minute, hour, day")
		}
		if rl.r.RedisHost == "" || rl.r.RedisPort < 1 {
			ps.Add(path+"."+rl.name, "needs redisHost and redisPort (the redis policy counts in the shared cache)")
		}
	}
	a.validateCORS(&ps, path)
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
