package stacks

import (
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bac-platform/infra/components/validate"
)

// This file holds the checks that need the whole stack: what the public
// endpoint's CIDR lists cover together, the security layers production
// cannot turn off, AWS's tag rules, and the stack's identity (its name
// against its region and environment).

// Production's public endpoint may admit at most this share of the IPv4 or
// IPv6 address space: a /8 of IPv4, a /32 of IPv6 (an ISP's allocation).
// More is "everyone", however the list is split.
const (
	maxProductionIPv4Share = 1.0 / (1 << 8)
	maxProductionIPv6Share = 1.0 / (1 << 32)
)

// checkEndpointExposure judges the public API endpoint by the address space
// publicAccessCidrs and runnerCidrs admit together, IPv4 and IPv6: 0.0.0.0/0
// written as 0.0.0.0/1 and 128.0.0.0/1 is still the whole internet.
func (c Config) checkEndpointExposure() validate.Problems {
	var ps validate.Problems
	if c.Environment != Production || c.ExistingCluster() {
		return ps
	}
	var prefixes []netip.Prefix
	for _, cidr := range c.Cluster.EndpointCIDRs() {
		if p, err := netip.ParsePrefix(cidr); err == nil {
			prefixes = append(prefixes, p)
		}
	}
	v4, v6 := validate.Coverage(prefixes)
	path := Namespace + ":" + KeyCluster + ".publicAccessCidrs"
	for _, family := range []struct {
		name         string
		share, limit float64
		limitName    string
	}{{"IPv4", v4, maxProductionIPv4Share, "a /8"}, {"IPv6", v6, maxProductionIPv6Share, "a /32"}} {
		switch {
		case family.share >= 1:
			ps.Add(path, "with runnerCidrs, admits the whole %s internet to the production API endpoint; list the office, VPN or runner egress CIDRs", family.name)
		case family.share > family.limit:
			ps.Add(path, "with runnerCidrs, admits %.4g%% of the %s address space to the production API endpoint (more than %s); list the office, VPN or runner egress CIDRs", family.share*100, family.name, family.limitName)
		}
	}
	return ps
}

// checkProductionLayers refuses production stacks that turn a security
// layer off: the gateway (authentication and rate limits), the mesh (mTLS
// and zero-trust policies), identity, Vault (encryption keys, short-lived
// database credentials), the security workloads (scanning, host
// intrusion detection), and NetworkPolicy enforcement on EKS.
func (c Config) checkProductionLayers() validate.Problems {
	var ps validate.Problems
	if c.Environment != Production {
		return ps
	}
	for _, layer := range []struct {
		key, what string
		on        bool
	}{
		{KeyGateway + ".enabled", "the gateway authenticates and rate-limits every public route", c.Gateway.Enabled},
		{KeyMesh + ".enabled", "the mesh encrypts and authorises service-to-service traffic", c.Mesh.Enabled},
		{KeyIdentity + ".enabled", "identity issues the tokens the gateway verifies", c.Identity.Enabled},
		{KeyVault + ".enabled", "Vault holds the encryption keys and issues short-lived database credentials", c.Vault.Enabled},
		{KeySecurity + ".enabled", "the security workloads scan images and detect host intrusions", c.Security.Enabled},
		{KeyCluster + ".networkPolicyEnforcement", "without it EKS stores the zero-trust NetworkPolicies but enforces none", c.Cluster.NetworkPolicyEnforcement || c.ExistingCluster()},
		{KeyGateway + ".oidc.sslVerify", "without it the gateway trusts any certificate the identity provider presents", !c.Gateway.OIDC.Enabled || c.Gateway.OIDC.SSLVerify},
	} {
		if !layer.on {
			ps.Add(Namespace+":"+layer.key, "cannot be turned off in production: %s", layer.what)
		}
	}
	return ps
}

// AWS tag limits (AWS Tagging best practices, "Tag naming limits and
// requirements").
const (
	maxTags           = 50
	maxTagKeyLength   = 128
	maxTagValueLength = 256
)

// tagRune reports whether r may appear in an AWS tag key or value: letters,
// digits and spaces in UTF-8, and _ . : / = + - @.
func tagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune("_.:/=+-@", r)
}

// checkTags checks bac:tags by AWS's rules: the aws: prefix is AWS's own,
// keys and values have length limits and a character set, and a resource
// carries at most 50 tags, the program's own included.
func (c Config) checkTags() validate.Problems {
	var ps validate.Problems
	path := Namespace + ":" + KeyTags
	keys := make([]string, 0, len(c.Tags))
	for k := range c.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, kp := c.Tags[k], path+"."+k
		switch {
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			ps.Add(kp, "the aws: prefix is reserved for AWS's own tags")
		case k == "" || utf8.RuneCountInString(k) > maxTagKeyLength:
			ps.Add(kp, "a tag key has 1 to %d characters", maxTagKeyLength)
		case strings.IndexFunc(k, func(r rune) bool { return !tagRune(r) }) >= 0:
			ps.Add(kp, "key %q has characters AWS refuses (letters, digits, spaces and _ . : / = + - @ only)", k)
		}
		switch {
		case utf8.RuneCountInString(v) > maxTagValueLength:
			ps.Add(kp, "a tag value has at most %d characters", maxTagValueLength)
		case strings.IndexFunc(v, func(r rune) bool { return !tagRune(r) }) >= 0:
			ps.Add(kp, "value %q has characters AWS refuses (letters, digits, spaces and _ . : / = + - @ only)", v)
		}
	}
	if n := len(c.ResourceTags()); n > maxTags {
		ps.Add(path, "%d tags with the program's own exceed AWS's %d per resource", n, maxTags)
	}
	return ps
}

// KeyRegionMismatch (bac:regionMismatch) records why a stack named for one
// region deploys into another.
const KeyRegionMismatch = "regionMismatch"

// stackNamePrefixes map a stack name's first word to its environment.
var stackNamePrefixes = map[string]string{"prod": Production, "production": Production, "staging": Staging, "local": Local}

// CheckStackIdentity checks that a stack is what its name says, so data
// residency is never an accident: a stack whose name contains an AWS region
// (prod-eu-west-1) deploys into that region unless bac:regionMismatch says
// why not, and a name that starts with an environment (prod-, staging-)
// deploys that environment.
func CheckStackIdentity(stack string, c Config) validate.Problems {
	var ps validate.Problems
	named := ""
	for _, r := range Regions() {
		if strings.Contains("-"+stack+"-", "-"+r+"-") && len(r) > len(named) {
			named = r
		}
	}
	regionKey, mismatchKey := Namespace+":"+KeyRegion, Namespace+":"+KeyRegionMismatch
	switch {
	case named != "" && named != c.Region && c.RegionMismatch == "":
		ps.Add(regionKey, "%q, but stack %s is named for %s: its data would reside in %s; correct bac:region, or set %s to the reason the stack deploys elsewhere",
			c.Region, stack, named, orNone(c.Region), mismatchKey)
	case c.RegionMismatch != "" && (named == "" || named == c.Region):
		ps.Add(mismatchKey, "is set, but stack %s deploys into the region it is named for (or names none); remove it", stack)
	}
	first, _, _ := strings.Cut(stack, "-")
	if env, ok := stackNamePrefixes[first]; ok && env != c.Environment {
		ps.Add(Namespace+":"+KeyEnvironment, "%q, but stack %s is named for %s", c.Environment, stack, env)
	}
	return ps
}

func orNone(region string) string {
	if region == "" {
		return "no region"
	}
	return region
}
