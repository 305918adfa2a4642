package gateway

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/bac-platform/infra/components/gateway/kongtls"
	"github.com/bac-platform/infra/components/validate"
)

// validateTLS checks the TLS settings by what Kong 3.9.1 serves with them
// (package kongtls): TLS 1.3 only. A named suite sets the protocols
// itself, so an sslProtocols other than the suite's is refused as ignored.
func (a Args) validateTLS(ps *validate.Problems, path string) {
	suite, protocols := a.SSLCipherSuite, a.SSLProtocols
	if _, named := kongtls.CipherSuite(suite); !named && suite != kongtls.Custom {
		ps.Add(path+".sslCipherSuite", "%q is not one of Kong's cipher suites (%s)", suite, strings.Join(kongtls.SuiteNames(), ", "))
		return
	}
	served := kongtls.ServedProtocols(suite, protocols)
	switch {
	case served == kongtls.TLS13 && suite != kongtls.Custom && strings.Join(strings.Fields(protocols), " ") != served:
		ps.Add(path+".sslProtocols", "%q is ignored: Kong applies ssl_protocols only with the custom cipher suite, and %q serves %s; set it to %s", protocols, suite, served, served)
	case served != kongtls.TLS13 && suite != kongtls.Custom:
		ps.Add(path+".sslCipherSuite", "%q serves %s (Kong ignores sslProtocols %q unless the suite is custom); the gateway serves TLS 1.3 only: use modern", suite, served, protocols)
	case served != kongtls.TLS13:
		ps.Add(path+".sslProtocols", "%q: the gateway serves TLS 1.3 only (TLSv1.3)", protocols)
	}
}

// originChars are the characters of an origin Kong's cors plugin compares
// as plain text; an origin with any other character is a regular expression
// to Kong (kong/plugins/cors/handler.lua), matched anywhere in the
// request's Origin up to its end.
const originChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:/-"

// validateCORS checks every CORS origin as Kong reads it: a plain
// scheme://host[:port], never "*" and never a regular expression (Kong
// anchors an origin regex only at its end, so "https://.*\.bac\.io" also
// admits https://attacker.example/?https://x.bac.io).
func (a Args) validateCORS(ps *validate.Problems, path string) {
	if len(a.CORS.Origins) == 0 {
		ps.Add(path+".cors.origins", "at least one origin is required (the stack defaults it to the app host of its domain)")
	}
	seen := map[string]int{}
	for i, o := range a.CORS.Origins {
		p := fmt.Sprintf("%s.cors.origins[%d]", path, i)
		if first, dup := seen[o]; dup {
			ps.Add(p, "%q is also origins[%d]", o, first)
		}
		seen[o] = i
		if o == "*" {
			ps.Add(p, `"*" lets any site call the API from a browser; list the origins`)
			continue
		}
		if strings.ContainsFunc(o, func(r rune) bool { return !strings.ContainsRune(originChars, r) }) {
			ps.Add(p, "%q is a regular expression to Kong (any character but letters, digits and . : / -), matched unanchored at the start; list each origin as scheme://host", o)
			continue
		}
		u, err := url.Parse(o)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			ps.Add(p, "%q is not an origin like https://app.example.org", o)
		case u.Path != "" || u.RawQuery != "" || u.User != nil:
			ps.Add(p, "%q has a path; an origin is scheme://host[:port] (browsers never send a path, so it would match nothing)", o)
		case validate.Placeholder(o, true):
			ps.Add(p, "%q is a placeholder", o)
		}
	}
}

// validateJWT checks the jwt plugin's settings as Kong 3.9.1's schema
// reads them (kong/plugins/jwt/schema.lua): claims from exp and nbf, a
// maximum expiration between 0 and a year that needs exp verified; and exp
// is required: without it an expired token stays valid forever.
func (a Args) validateJWT(ps *validate.Problems, path string) {
	j := a.JWT
	seen := map[string]bool{}
	for i, c := range j.ClaimsToVerify {
		p := fmt.Sprintf("%s.claimsToVerify[%d]", path, i)
		switch {
		case !slices.Contains(jwtClaims, c):
			ps.Add(p, "%q is not a claim Kong's jwt plugin verifies (%s)", c, strings.Join(jwtClaims, ", "))
		case seen[c]:
			ps.Add(p, "%q is listed twice", c)
		}
		seen[c] = true
	}
	if !seen["exp"] {
		ps.Add(path+".claimsToVerify", "%v does not verify exp: an expired token would stay valid", j.ClaimsToVerify)
	}
	switch {
	case j.MaximumExpirationSeconds < 0 || j.MaximumExpirationSeconds > MaxJWTExpiration:
		ps.Add(path+".maximumExpirationSeconds", "%d is outside Kong's 0 to %d seconds", j.MaximumExpirationSeconds, MaxJWTExpiration)
	case j.MaximumExpirationSeconds > 0 && !seen["exp"]:
		ps.Add(path+".maximumExpirationSeconds", "needs exp in claimsToVerify (Kong refuses the plugin otherwise)")
	}
}

// authPlugins authenticate a request.
var authPlugins = []string{PluginJWT, PluginOIDC}

// validateRoutes checks every route: a known service, a path, the
// gateway's plugins only, authentication and a rate limit on each, and one
// route per service (its Ingress is named for the service) and per path.
func (a Args) validateRoutes(ps *validate.Problems, path string, services []string) {
	byService, byPath := map[string]int{}, map[string]int{}
	for i, r := range a.Routes {
		p := fmt.Sprintf("%s.routes[%d]", path, i)
		if !slices.Contains(services, r.Service) {
			ps.Add(p+".service", "%q is not a business service (%s)", r.Service, strings.Join(services, ", "))
		}
		if first, dup := byService[r.Service]; dup {
			ps.Add(p+".service", "%q already has routes[%d]; one route per service", r.Service, first)
		}
		byService[r.Service] = i
		if u, err := url.Parse(r.Path); err != nil || !strings.HasPrefix(r.Path, "/") || u.Path != r.Path {
			ps.Add(p+".path", "%q must be a URL path starting with /", r.Path)
		}
		if first, dup := byPath[r.Path]; dup {
			ps.Add(p+".path", "%q is also routes[%d]'s path", r.Path, first)
		}
		byPath[r.Path] = i
		limited, authenticated := false, false
		for _, pl := range r.Plugins {
			if !slices.Contains(PluginNames, pl) {
				ps.Add(p+".plugins", "%q is not one of the gateway's plugins (%s)", pl, strings.Join(PluginNames, ", "))
			}
			if pl == PluginOIDC && !a.OIDC.Enabled {
				ps.Add(p+".plugins", "%q needs %s.oidc.enabled", pl, path)
			}
			limited = limited || strings.HasPrefix(pl, "rate-limiting")
			authenticated = authenticated || slices.Contains(authPlugins, pl)
		}
		if !limited {
			ps.Add(p+".plugins", "every public route needs a rate-limiting plugin")
		}
		if !authenticated {
			ps.Add(p+".plugins", "every public route needs authentication (%s)", strings.Join(authPlugins, " or "))
		}
	}
}
