// Package validate collects configuration problems so that a stack reports
// every mistake at once, each one named by its config path.
package validate

import (
	"fmt"
	"math/big"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Problem is one invalid configuration value.
type Problem struct {
	// Path is the config path of the value, e.g. "bac:cluster.nodePools.compute".
	Path string
	// Message says what is wrong and, where it helps, what is allowed.
	Message string
}

// String renders the problem as "path: message".
func (p Problem) String() string { return p.Path + ": " + p.Message }

// Problems is a list of configuration problems. A non-empty list is an error.
type Problems []Problem

// Add records a problem at path; the message is formatted like fmt.Sprintf.
func (ps *Problems) Add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Extend appends every problem of other.
func (ps *Problems) Extend(other Problems) { *ps = append(*ps, other...) }

// Err returns the problems as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Error lists every problem on its own line, sorted by path for stable output.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	sort.Stable(sort.StringSlice(lines))
	return fmt.Sprintf("invalid configuration (%d problem(s)):\n  %s", len(ps), strings.Join(lines, "\n  "))
}

// CIDR parses an IPv4 or IPv6 CIDR block and records a problem at path when it
// is not one, or when its address has host bits set (10.0.0.1/16).
func CIDR(ps *Problems, path, value string) (netip.Prefix, bool) {
	prefix, err := netip.ParsePrefix(value)
	if err != nil {
		ps.Add(path, "%q is not a CIDR block", value)
		return netip.Prefix{}, false
	}
	if prefix.Masked() != prefix {
		ps.Add(path, "%q has host bits set; did you mean %s?", value, prefix.Masked())
		return netip.Prefix{}, false
	}
	return prefix, true
}

// RetentionDays are the retention periods CloudWatch Logs accepts.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Retention records a problem at path when days is not a CloudWatch Logs
// retention period.
func Retention(ps *Problems, path string, days int) {
	if !slices.Contains(RetentionDays, days) {
		ps.Add(path, "%d is not a CloudWatch Logs retention period (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, ... 3653)", days)
	}
}

// Placeholder reports whether a host name, URL or image reference is a
// stand-in rather than a real value: the "yourcompany"/"your-company"
// templates, and the names RFC 2606 reserves for documentation and testing
// (example.com/.net/.org, .example, .invalid, .test). localhost counts only
// when allowLocal is false.
func Placeholder(value string, allowLocal bool) bool {
	v := strings.ToLower(value)
	for _, marker := range []string{"yourcompany", "your-company", "your_company"} {
		if strings.Contains(v, marker) {
			return true
		}
	}
	host := v
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	host = strings.TrimSuffix(host, ".")
	for _, reserved := range []string{"example.com", "example.net", "example.org", "example", "invalid", "test"} {
		if host == reserved || strings.HasSuffix(host, "."+reserved) {
			return true
		}
	}
	return !allowLocal && (host == "localhost" || strings.HasSuffix(host, ".localhost"))
}

// notPublic are the DNS suffixes no public zone can hold, with where they
// are reserved: no delegation reaches them and no public certificate
// authority issues for them.
var notPublic = []struct{ suffix, why string }{
	{"internal", "reserved for private use (ICANN, 2024)"},
	{"local", "multicast DNS (RFC 6762)"},
	{"localhost", "loopback (RFC 6761)"},
	{"test", "testing (RFC 6761)"},
	{"example", "documentation (RFC 6761)"},
	{"invalid", "reserved to never resolve (RFC 6761)"},
	{"home.arpa", "home networks (RFC 8375)"},
	{"onion", "Tor (RFC 7686)"},
	{"alt", "non-DNS resolution (RFC 9476)"},
}

// NotPublicDomain returns why name cannot be a public DNS name (it is, or
// lies under, a special-use or private-use name), or "" when it can.
func NotPublicDomain(name string) string {
	host := strings.TrimSuffix(strings.ToLower(name), ".")
	for _, n := range notPublic {
		if host == n.suffix || strings.HasSuffix(host, "."+n.suffix) {
			return fmt.Sprintf(".%s is %s", n.suffix, n.why)
		}
	}
	return ""
}

// nonPublicRanges are the IPv4 ranges no address on the internet comes
// from, with what each is (RFC 6890's special-purpose registry).
var nonPublicRanges = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network (RFC 791)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared carrier-grade NAT space (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (RFC 1122)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (RFC 3927)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast (RFC 5771)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (RFC 1112)"},
}

// PublicCIDR records a problem at path unless value is a CIDR block of
// public addresses: a setting that a public endpoint compares with the
// source address of a connection from the internet can never match a
// private, loopback, link-local or carrier-grade NAT block.
func PublicCIDR(ps *Problems, path, value string) {
	p, ok := CIDR(ps, path, value)
	if !ok || p.Bits() == 0 {
		return
	}
	for _, r := range nonPublicRanges {
		if r.prefix.Contains(p.Addr()) && p.Bits() >= r.prefix.Bits() {
			ps.Add(path, "%q is %s: the public endpoint only ever sees public source addresses, so it would admit nobody", value, r.what)
			return
		}
	}
}

// DNSName records a problem at path unless name is a fully qualified DNS
// name of at least two labels, by apimachinery's rules (a lowercase RFC 1123
// subdomain), each label at most 63 characters.
func DNSName(ps *Problems, path, name string) {
	valid := len(validation.IsFullyQualifiedDomainName(field.NewPath("name"), name)) == 0
	for _, label := range strings.Split(name, ".") {
		valid = valid && len(validation.IsDNS1123Label(label)) == 0
	}
	if !valid {
		ps.Add(path, "%q is not a DNS name like platform.example.org", name)
	}
}

// Coverage is the share of the IPv4 and IPv6 address spaces that a list of
// prefixes covers together, from 0 (nothing) to 1 (the whole internet):
// 0.0.0.0/1 and 128.0.0.0/1 cover what 0.0.0.0/0 covers. Overlapping
// prefixes count once.
func Coverage(prefixes []netip.Prefix) (ipv4, ipv6 float64) {
	var v4, v6 []netip.Prefix
	for _, p := range prefixes {
		p = p.Masked()
		if p.Addr().Is4() || p.Addr().Is4In6() {
			v4 = append(v4, netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96*boolInt(p.Addr().Is4In6()), 0)))
		} else {
			v6 = append(v6, p)
		}
	}
	return share(v4, 32), share(v6, 128)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// share sums the sizes of the prefixes no other prefix in the list
// contains, as a fraction of a space of 2^bits addresses.
func share(prefixes []netip.Prefix, bits int) float64 {
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int { return a.Bits() - b.Bits() })
	var kept []netip.Prefix
	total := new(big.Int)
	for _, p := range prefixes {
		if slices.ContainsFunc(kept, func(k netip.Prefix) bool { return k.Contains(p.Addr()) }) {
			continue // inside a larger (or equal) prefix already counted
		}
		kept = append(kept, p)
		total.Add(total, new(big.Int).Lsh(big.NewInt(1), uint(bits-p.Bits())))
	}
	f, _ := new(big.Rat).SetFrac(total, new(big.Int).Lsh(big.NewInt(1), uint(bits))).Float64()
	return f
}
