// Package identity deploys Keycloak and configures the "bac" realm
// (architecture document 2.2): the workload, the realm's token, password,
// OTP and brute-force settings, the bac-api client, roles and LDAP federation.
package identity

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/validate"
	"github.com/bac-platform/infra/policies/rules"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures identity. Its JSON form is a stack config value.
type Args struct {
	Enabled   bool       `json:"enabled"`
	Namespace string     `json:"namespace"`
	Image     kube.Image `json:"image"`
	// Prebuilt says Image was built (kc.sh build) with the build-time
	// options of BuildOptions; otherwise an init container builds it.
	Prebuilt bool     `json:"prebuilt"`
	Replicas int      `json:"replicas"`
	Features []string `json:"features"`
	// DatabaseURL is Keycloak's external PostgreSQL database
	// (jdbc:postgresql://<full DNS name>:<port>/<database>). Required: the
	// platform creates no database for Keycloak, so a stack names the one
	// it has.
	DatabaseURL    string         `json:"databaseUrl"`
	Resources      kube.Resources `json:"resources"`
	ReadinessProbe kube.Probe     `json:"readinessProbe"`
	LivenessProbe  kube.Probe     `json:"livenessProbe"`
	Realm          Realm          `json:"realm"`
	Client         Client         `json:"client"`
	LDAP           LDAP           `json:"ldap"`

	// Hostname is Keycloak's public host (auth.<domain>); set by the stack.
	Hostname string `json:"-"`
	// IngressClass routes https://<Hostname> to Keycloak through the
	// gateway; set by the stack when it deploys one (empty: no route).
	IngressClass string `json:"-"`
	// RoutePlugins are the gateway plugins on that route (its rate limit).
	RoutePlugins []string `json:"-"`
	// TLSSecret, when set, is the Secret (in Namespace) holding the
	// certificate for Hostname that the route serves; set by the stack when
	// it issues one.
	TLSSecret string `json:"-"`
	// AdminCIDRs may reach the admin console and admin REST API
	// (https://<Hostname>/admin/) besides AdminSources: the
	// administrators' networks (e.g. the office). Everyone else gets only
	// what clients need (PublicPaths).
	AdminCIDRs []string `json:"adminCidrs"`
	// AdminSources are further addresses allowed on the admin paths, set by
	// the stack: the region's NAT gateways, through which the deploying
	// runners in the VPC (and the keycloak provider they run) reach
	// https://<Hostname>. An output: known once the network exists.
	AdminSources pulumi.StringArrayInput `json:"-"`

	// Credentials are set by the stack, never from the JSON form.
	Credentials Credentials `json:"-"`
}

// Realm is the bac realm's policy.
type Realm struct {
	Name                  string     `json:"name"`
	DisplayName           string     `json:"displayName"`
	AccessTokenLifespan   string     `json:"accessTokenLifespan"`
	SSOSessionIdleTimeout string     `json:"ssoSessionIdleTimeout"`
	SSOSessionMaxLifespan string     `json:"ssoSessionMaxLifespan"`
	PasswordPolicy        string     `json:"passwordPolicy"`
	OTP                   OTP        `json:"otp"`
	BruteForce            BruteForce `json:"bruteForce"`
	// RefreshTokenMaxReuse with revoked refresh tokens: 0 makes every
	// refresh token single-use.
	RefreshTokenMaxReuse int      `json:"refreshTokenMaxReuse"`
	Roles                []string `json:"roles"`
}

// OTP is the realm's one-time-password policy.
type OTP struct {
	Type      string `json:"type"`
	Algorithm string `json:"algorithm"`
	Digits    int    `json:"digits"`
	Period    int    `json:"period"`
}

// BruteForce is the realm's brute-force detection.
type BruteForce struct {
	Enabled                      bool `json:"enabled"`
	PermanentLockout             bool `json:"permanentLockout"`
	MaxLoginFailures             int  `json:"maxLoginFailures"`
	WaitIncrementSeconds         int  `json:"waitIncrementSeconds"`
	QuickLoginCheckMilliSeconds  int  `json:"quickLoginCheckMilliSeconds"`
	MinimumQuickLoginWaitSeconds int  `json:"minimumQuickLoginWaitSeconds"`
	MaxFailureWaitSeconds        int  `json:"maxFailureWaitSeconds"`
	FailureResetTimeSeconds      int  `json:"failureResetTimeSeconds"`
}

// Client is the confidential bac-api OpenID client.
type Client struct {
	ClientID                  string   `json:"clientId"`
	Name                      string   `json:"name"`
	RedirectURIs              []string `json:"redirectUris"`
	WebOrigins                []string `json:"webOrigins"`
	StandardFlowEnabled       bool     `json:"standardFlowEnabled"`
	ImplicitFlowEnabled       bool     `json:"implicitFlowEnabled"`
	DirectAccessGrantsEnabled bool     `json:"directAccessGrantsEnabled"`
	ServiceAccountsEnabled    bool     `json:"serviceAccountsEnabled"`
	Roles                     []string `json:"roles"`
}

// LDAP is the corporate directory federation.
type LDAP struct {
	Enabled               bool     `json:"enabled"`
	Name                  string   `json:"name"`
	ConnectionURL         string   `json:"connectionUrl"`
	UsersDN               string   `json:"usersDn"`
	BindDN                string   `json:"bindDn"`
	UsernameLDAPAttribute string   `json:"usernameLdapAttribute"`
	RDNLDAPAttribute      string   `json:"rdnLdapAttribute"`
	UUIDLDAPAttribute     string   `json:"uuidLdapAttribute"`
	UserObjectClasses     []string `json:"userObjectClasses"`
	SearchScope           string   `json:"searchScope"`
	BatchSizeForSync      int      `json:"batchSizeForSync"`
	FullSyncPeriod        int      `json:"fullSyncPeriod"`
	ChangedSyncPeriod     int      `json:"changedSyncPeriod"`
	CachePolicy           string   `json:"cachePolicy"`
}

// Names of the Kubernetes objects (as in the seed).
const (
	AppName         = rules.IdentityService
	DBSecretName    = "keycloak-db-secret"
	AdminSecretName = "keycloak-admin-secret"
)

// PasswordPolicy is the seed's policy with notUsername fixed: the seed's
// notUsername(undefined) is a Terraform interpolation slip.
const PasswordPolicy = "upperCase(1) and lowerCase(1) and digits(1) and specialChars(1) and length(12) and notUsername"

// DefaultArgs returns the architecture document's identity layer.
func DefaultArgs() Args {
	return Args{
		Enabled:   true,
		Namespace: "auth",
		// 26.4 is the current Keycloak line; the seed's 23.0 is unsupported.
		Image:    kube.Image{Repository: "quay.io/keycloak/keycloak", Tag: "26.4.7"},
		Replicas: 3,
		Features: []string{"token-exchange", "admin-fine-grained-authz"},
		Resources: kube.Resources{Requests: kube.Quantities{CPU: "1000m", Memory: "2Gi"},
			Limits: kube.Quantities{CPU: "2000m", Memory: "4Gi"}},
		// Keycloak 25+ serves health on the management port 9000, not 8080.
		ReadinessProbe: kube.Probe{Path: "/health/ready", Port: 9000, InitialDelaySeconds: 60, PeriodSeconds: 10},
		LivenessProbe:  kube.Probe{Path: "/health/live", Port: 9000, InitialDelaySeconds: 120, PeriodSeconds: 30},
		Realm: Realm{
			Name: "bac", DisplayName: "BAC Platform",
			AccessTokenLifespan: "5m", SSOSessionIdleTimeout: "30m", SSOSessionMaxLifespan: "10h",
			PasswordPolicy: PasswordPolicy,
			OTP:            OTP{Type: "totp", Algorithm: "HmacSHA256", Digits: 6, Period: 30},
			// The seed's Terraform names map to the provider's: failure_factor
			// is maxLoginFailures, max_delta_time_seconds failureResetTimeSeconds.
			BruteForce: BruteForce{Enabled: true, PermanentLockout: false, MaxLoginFailures: 30, WaitIncrementSeconds: 60,
				QuickLoginCheckMilliSeconds: 1000, MinimumQuickLoginWaitSeconds: 60, MaxFailureWaitSeconds: 900,
				FailureResetTimeSeconds: 43200},
			RefreshTokenMaxReuse: 0,
			Roles:                []string{"admin", "user"},
		},
		// Redirect URIs and web origins default to the api and app hosts of
		// the stack's domain (set by the stack).
		Client: Client{
			ClientID: "bac-api", Name: "BAC API Gateway",
			StandardFlowEnabled: true, ImplicitFlowEnabled: false, DirectAccessGrantsEnabled: false, ServiceAccountsEnabled: true,
			Roles: []string{"api-access"},
		},
		LDAP: LDAP{
			// The directory's address and DNs are the organisation's: a stack
			// with LDAP on sets connectionUrl, usersDn and bindDn.
			Enabled: true, Name: "corporate-ldap",
			UsernameLDAPAttribute: "uid", RDNLDAPAttribute: "uid", UUIDLDAPAttribute: "entryUUID",
			UserObjectClasses: []string{"inetOrgPerson", "organizationalPerson"},
			SearchScope:       "SUBTREE", BatchSizeForSync: 1000,
			FullSyncPeriod: 604800, ChangedSyncPeriod: 86400, CachePolicy: "DEFAULT",
		},
	}
}

var (
	duration  = regexp.MustCompile(`^\d+[smhd]$`)
	minLength = regexp.MustCompile(`length\((\d+)\)`)
)

// Issuer is the OIDC issuer of the realm: the URL its tokens name.
func (a Args) Issuer() string { return "https://" + a.Hostname + "/realms/" + a.Realm.Name }

// AccessTokenSeconds is the realm's access token lifespan in seconds (a
// token's exp - iat); false when the lifespan is not a valid duration.
func (r Realm) AccessTokenSeconds() (int, bool) {
	v := r.AccessTokenLifespan
	if !duration.MatchString(v) {
		return 0, false
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil {
		return 0, false
	}
	return n * map[byte]int{'s': 1, 'm': 60, 'h': 3600, 'd': 86400}[v[len(v)-1]], true
}

// Validate returns every problem, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !a.Enabled {
		return ps
	}
	kube.ValidateNamespace(&ps, path+".namespace", a.Namespace)
	for i, c := range a.AdminCIDRs {
		p := fmt.Sprintf("%s.adminCidrs[%d]", path, i)
		if prefix, ok := validate.CIDR(&ps, p, c); ok && prefix.Bits() == 0 {
			ps.Add(p, "%q admits every address to the admin API; list the administrators' networks", c)
		}
	}
	ps.Extend(a.Image.Validate(path + ".image"))
	ps.Extend(a.Resources.Validate(path + ".resources"))
	ps.Extend(a.ReadinessProbe.Validate(path + ".readinessProbe"))
	ps.Extend(a.LivenessProbe.Validate(path + ".livenessProbe"))
	if a.Replicas < 1 {
		ps.Add(path+".replicas", "%d must be at least 1", a.Replicas)
	}
	r, rp := a.Realm, path+".realm"
	for field, v := range map[string]string{"accessTokenLifespan": r.AccessTokenLifespan,
		"ssoSessionIdleTimeout": r.SSOSessionIdleTimeout, "ssoSessionMaxLifespan": r.SSOSessionMaxLifespan} {
		if !duration.MatchString(v) {
			ps.Add(rp+"."+field, "%q is not a duration like 5m, 30m or 10h", v)
		}
	}
	if strings.Contains(r.PasswordPolicy, "undefined") {
		ps.Add(rp+".passwordPolicy", "%q contains \"undefined\"; write notUsername without an argument", r.PasswordPolicy)
	}
	if m := minLength.FindStringSubmatch(r.PasswordPolicy); m == nil || mustAtoi(m[1]) < 12 {
		ps.Add(rp+".passwordPolicy", "must require length(12) or more")
	}
	if r.OTP.Type != "totp" && r.OTP.Type != "hotp" {
		ps.Add(rp+".otp.type", "%q is not totp or hotp", r.OTP.Type)
	}
	if r.OTP.Digits != 6 && r.OTP.Digits != 8 {
		ps.Add(rp+".otp.digits", "%d is not 6 or 8", r.OTP.Digits)
	}
	if !r.BruteForce.Enabled {
		ps.Add(rp+".bruteForce.enabled", "brute-force protection must stay on")
	}
	validate.DNSName(&ps, path+".hostname (from the domain)", a.Hostname)
	if u, err := url.Parse(a.DatabaseURL); err != nil || u.Scheme != "jdbc" || !strings.HasPrefix(u.Opaque, "postgresql://") {
		ps.Add(path+".databaseUrl", "%q is not jdbc:postgresql://<host>:<port>/<database>: Keycloak needs an external PostgreSQL (the platform creates none yet)", a.DatabaseURL)
	} else if db, err := url.Parse(u.Opaque); err != nil || !strings.Contains(db.Hostname(), ".") || db.Port() == "" || strings.Trim(db.Path, "/") == "" {
		ps.Add(path+".databaseUrl", "%q must name the database host by its full DNS name, a port and a database", a.DatabaseURL)
	} else if validate.Placeholder(db.Hostname(), true) {
		ps.Add(path+".databaseUrl", "%q is a placeholder host", a.DatabaseURL)
	}
	validateRedirectURIs(&ps, path+".client.redirectUris", a.Client.RedirectURIs)
	validateWebOrigins(&ps, path+".client.webOrigins", a.Client.WebOrigins)
	if a.Client.ImplicitFlowEnabled || a.Client.DirectAccessGrantsEnabled {
		ps.Add(path+".client", "the implicit and direct-access-grant (password) flows must stay off")
	}
	if a.LDAP.Enabled {
		if !strings.HasPrefix(a.LDAP.ConnectionURL, "ldaps://") {
			ps.Add(path+".ldap.connectionUrl", "%q must use ldaps:// (the bind credential crosses the network)", a.LDAP.ConnectionURL)
		} else if validate.Placeholder(a.LDAP.ConnectionURL, true) {
			ps.Add(path+".ldap.connectionUrl", "%q is a placeholder; name the directory", a.LDAP.ConnectionURL)
		}
		if a.LDAP.UsersDN == "" || a.LDAP.BindDN == "" || validate.Placeholder(a.LDAP.UsersDN+a.LDAP.BindDN, true) {
			ps.Add(path+".ldap", "usersDn and bindDn are required (the directory's own DNs)")
		}
		if a.LDAP.SearchScope != "SUBTREE" && a.LDAP.SearchScope != "ONE_LEVEL" {
			ps.Add(path+".ldap.searchScope", "%q is not SUBTREE or ONE_LEVEL", a.LDAP.SearchScope)
		}
	}
	return ps
}

// validateRedirectURIs checks the client's redirect URIs as Keycloak reads
// them: a "*" anywhere makes Keycloak match by prefix (an open redirect for
// authorisation codes), so every URI is exact, https, of a real host, and
// without a fragment (OAuth 2.0 forbids one in a redirect URI).
func validateRedirectURIs(ps *validate.Problems, path string, list []string) {
	if len(list) == 0 {
		ps.Add(path, "at least one is required")
	}
	for i, v := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		u, err := url.Parse(v)
		switch {
		case strings.Contains(v, "*"):
			ps.Add(p, "%q is a wildcard; Keycloak then redirects codes to any matching URL; list each exact URI", v)
		case err != nil || u.Scheme != "https" || u.Host == "" || validate.Placeholder(v, true):
			ps.Add(p, "%q must be an https URL of a real host", v)
		case u.Fragment != "" || strings.Contains(v, "#"):
			ps.Add(p, "%q has a fragment, which OAuth 2.0 forbids in a redirect URI", v)
		case u.User != nil:
			ps.Add(p, "%q carries credentials", v)
		}
	}
}

// validateWebOrigins checks the client's web origins: Keycloak reads "*" as
// every origin and "+" as the origins of the redirect URIs; each listed
// origin is an https scheme://host[:port] with no path.
func validateWebOrigins(ps *validate.Problems, path string, list []string) {
	if len(list) == 0 {
		ps.Add(path, "at least one is required")
	}
	for i, v := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if v == "+" {
			continue // the redirect URIs' origins, each checked above
		}
		u, err := url.Parse(v)
		switch {
		case strings.Contains(v, "*"):
			ps.Add(p, "%q is a wildcard; Keycloak then admits browser calls from any site; list each origin (or + for the redirect URIs' origins)", v)
		case err != nil || u.Scheme != "https" || u.Host == "" || validate.Placeholder(v, true):
			ps.Add(p, "%q must be an https origin of a real host", v)
		case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			ps.Add(p, "%q is not an origin (scheme://host[:port], no path)", v)
		}
	}
}

// mustAtoi converts digits the regexp already matched.
func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
