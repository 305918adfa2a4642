// Package network builds the regional VPC the EKS cluster runs in: public and
// private subnets across availability zones, tagged for EKS load balancers,
// an internet gateway, NAT gateways, route tables and VPC flow logs.
package network

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/bac-platform/infra/components/validate"
)

// NAT gateway layouts.
const (
	// NATPerAZ places one NAT gateway in every availability zone, so losing a
	// zone does not cut the others off the internet (production).
	NATPerAZ = "perAz"
	// NATSingle places one NAT gateway in the first zone (cheaper; staging).
	NATSingle = "single"
)

// Args configures the network. Its JSON form is a stack config value.
type Args struct {
	// CIDR is the VPC's IPv4 block, /16 to /20.
	CIDR string `json:"cidr"`
	// AvailabilityZones are the zones to spread subnets over; the seed uses 3.
	AvailabilityZones []string `json:"availabilityZones"`
	// NATGateways is NATPerAZ or NATSingle.
	NATGateways string `json:"natGateways"`
	// FlowLogRetentionDays is how long VPC flow logs are kept in CloudWatch.
	FlowLogRetentionDays int `json:"flowLogRetentionDays"`

	// ClusterName is the EKS cluster the subnets are tagged for. Set by the stack.
	ClusterName string `json:"-"`
	// Tags are applied to every taggable resource. Set by the stack.
	Tags map[string]string `json:"-"`
}

// Seed-derived defaults.
const (
	// DefaultAZCount is the seed's "3 AZs" per regional cluster.
	DefaultAZCount = 3
	// DefaultFlowLogRetentionDays keeps flow logs for a year, long enough for
	// SOC 2 / ISO 27001 audit look-backs.
	DefaultFlowLogRetentionDays = 365
)

// DefaultArgs returns the defaults for a region: three zones (a, b, c) and
// one NAT gateway per zone. The CIDR has no default: regions must not overlap,
// so every stack chooses its own.
func DefaultArgs(region string) Args {
	zones := make([]string, DefaultAZCount)
	for i := range zones {
		zones[i] = fmt.Sprintf("%s%c", region, 'a'+i)
	}
	return Args{
		AvailabilityZones:    zones,
		NATGateways:          NATPerAZ,
		FlowLogRetentionDays: DefaultFlowLogRetentionDays,
	}
}

// Validate returns every problem in the args, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if a.CIDR == "" {
		ps.Add(path+".cidr", "is required (an IPv4 /16 to /20 that no other region's stack uses)")
	} else if p, ok := validate.CIDR(&ps, path+".cidr", a.CIDR); ok {
		if !p.Addr().Is4() || p.Bits() < 16 || p.Bits() > 20 {
			ps.Add(path+".cidr", "%s must be an IPv4 block between /16 and /20", a.CIDR)
		} else if !slices.ContainsFunc(PrivateRanges, func(r netip.Prefix) bool { return r.Overlaps(p) && r.Bits() <= p.Bits() }) {
			ps.Add(path+".cidr", "%s is not a private range; a VPC takes its block from %s (public, link-local, loopback and reserved ranges collide with the addresses the nodes must reach)", a.CIDR, joinPrefixes(PrivateRanges))
		}
	}
	switch n := len(a.AvailabilityZones); {
	case n < 2:
		ps.Add(path+".availabilityZones", "needs at least 2 zones (EKS requires subnets in 2 zones), got %d", n)
	case n > maxZones:
		ps.Add(path+".availabilityZones", "at most %d zones are supported, got %d", maxZones, n)
	}
	seen := map[string]bool{}
	for i, z := range a.AvailabilityZones {
		if z == "" || seen[z] {
			ps.Add(fmt.Sprintf("%s.availabilityZones[%d]", path, i), "zone %q is empty or repeated", z)
		}
		seen[z] = true
	}
	if a.NATGateways != NATPerAZ && a.NATGateways != NATSingle {
		ps.Add(path+".natGateways", "%q is not one of %q, %q", a.NATGateways, NATPerAZ, NATSingle)
	}
	validate.Retention(&ps, path+".flowLogRetentionDays", a.FlowLogRetentionDays)
	return ps
}

// PrivateRanges are the blocks a VPC may take its CIDR from: the RFC 1918
// private ranges and the RFC 6598 shared address space that AWS also
// accepts for VPCs.
var PrivateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

func joinPrefixes(list []netip.Prefix) string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.String()
	}
	return strings.Join(out, ", ")
}

// zoneLetters are the letters AWS gives the availability zones of a region
// (us-east-1 has the most, a to f).
const zoneLetters = "abcdef"

// ValidateZones checks that every zone is an availability zone name of
// region: the region's name and one zone letter (us-east-1a). Local Zones
// and Wavelength Zones (us-east-1-bos-1a) are not availability zones: the
// subnet layout and EKS's control plane need regular zones.
func (a Args) ValidateZones(path, region string) validate.Problems {
	var ps validate.Problems
	for i, z := range a.AvailabilityZones {
		letter, inRegion := strings.CutPrefix(z, region)
		if !inRegion || len(letter) != 1 || !strings.Contains(zoneLetters, letter) {
			ps.Add(fmt.Sprintf("%s.availabilityZones[%d]", path, i), "%q is not an availability zone of %s (%sa to %sf)", z, region, region, region)
		}
	}
	return ps
}

// maxZones is how many zones the subnet layout has room for: private subnets
// take the first six eighths of the VPC, public subnets the last eighth.
const maxZones = 6

// SubnetCIDRs carves the VPC block into one private and one public subnet per
// zone. Private subnets are large (an eighth of the VPC each: pods take VPC
// addresses with the AWS VPC CNI); public subnets only hold load balancers and
// NAT gateways (a sixty-fourth each, all inside the last eighth).
func SubnetCIDRs(vpc netip.Prefix, zones int) (private, public []netip.Prefix) {
	for i := 0; i < zones; i++ {
		private = append(private, subnet(vpc, 3, i))
		public = append(public, subnet(vpc, 6, 7*8+i))
	}
	return private, public
}

// subnet returns the index-th block of prefix length vpc.Bits()+newBits
// inside vpc (Terraform's cidrsubnet for IPv4).
func subnet(vpc netip.Prefix, newBits, index int) netip.Prefix {
	bits := vpc.Bits() + newBits
	base := vpc.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	n |= uint32(index) << (32 - bits)
	addr := netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	return netip.PrefixFrom(addr, bits)
}
