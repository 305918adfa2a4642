package validate

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestProblemsErrorListsEveryProblemSorted(t *testing.T) {
	var ps Problems
	if ps.Err() != nil {
		t.Fatal("empty problems must not be an error")
	}
	ps.Add("bac:cluster.nodePools.compute", "minSize %d > maxSize %d", 60, 50)
	ps.Add("bac:network.cidr", "bad")
	err := ps.Err()
	if err == nil {
		t.Fatal("expected an error")
	}
	want := "invalid configuration (2 problem(s)):\n  bac:cluster.nodePools.compute: minSize 60 > maxSize 50\n  bac:network.cidr: bad"
	if err.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", err, want)
	}
}

func TestCIDR(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		message string
	}{
		{"10.0.0.0/16", true, ""},
		{"2001:db8::/32", true, ""},
		{"10.0.0.1/16", false, `"10.0.0.1/16" has host bits set; did you mean 10.0.0.0/16?`},
		{"10.0.0.0", false, `"10.0.0.0" is not a CIDR block`},
		{"office", false, `"office" is not a CIDR block`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var ps Problems
			_, ok := CIDR(&ps, "p", tt.in)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !tt.ok && (len(ps) != 1 || !strings.Contains(ps[0].String(), "p: "+tt.message)) {
				t.Fatalf("problems = %v, want %q", ps, tt.message)
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	parse := func(cidrs ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, c := range cidrs {
			out = append(out, netip.MustParsePrefix(c))
		}
		return out
	}
	tests := []struct {
		name   string
		cidrs  []string
		v4, v6 float64
	}{
		{"nothing", nil, 0, 0},
		{"the internet", []string{"0.0.0.0/0"}, 1, 0},
		{"the internet in two halves", []string{"0.0.0.0/1", "128.0.0.0/1"}, 1, 0},
		{"the internet in four quarters", []string{"0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"}, 1, 0},
		{"overlaps count once", []string{"10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8"}, 1.0 / 256, 0},
		{"an office", []string{"198.51.100.10/32"}, 1.0 / (1 << 32), 0},
		{"every IPv6 address", []string{"::/0"}, 0, 1},
		{"IPv6 halves", []string{"::/1", "8000::/1"}, 0, 1},
		{"both families", []string{"0.0.0.0/0", "2001:db8::/32"}, 1, 1.0 / (1 << 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v4, v6 := Coverage(parse(tt.cidrs...))
			if v4 != tt.v4 || v6 != tt.v6 {
				t.Fatalf("Coverage(%v) = %g, %g; want %g, %g", tt.cidrs, v4, v6, tt.v4, tt.v6)
			}
		})
	}
}

func TestDNSName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"bac-platform.io", true}, {"us-east-1.staging.bac-platform.io", true}, {"localhost", false},
		{"BAC.io", false}, {"bac platform.io", false}, {"bac.io.", false}, {"-bac.io", false},
		{strings.Repeat("a", 64) + ".io", false}, {"bac.io$(id)", false}, {"", false},
	} {
		var ps Problems
		DNSName(&ps, "bac:domain", tt.name)
		if tt.ok != (len(ps) == 0) {
			t.Errorf("DNSName(%q): problems %v, want ok=%v", tt.name, ps, tt.ok)
		} else if !tt.ok && ps[0].String() != fmt.Sprintf("bac:domain: %q is not a DNS name like platform.example.org", tt.name) {
			t.Errorf("DNSName(%q) = %q", tt.name, ps[0])
		}
	}
}

func TestNotPublicDomain(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"bac-platform.io", ""},
		{"us-east-1.bac-platform.io", ""},
		{"internal.bac-platform.io", ""}, // a label, not the suffix
		{"bac.internal", ".internal is reserved for private use"},
		{"corp.local", ".local is multicast DNS"},
		{"bac.localhost", ".localhost is loopback"},
		{"platform.test", ".test is testing"},
		{"PLATFORM.Example.", ".example is documentation"},
		{"lab.home.arpa", ".home.arpa is home networks"},
		{"home.arpa", ".home.arpa is home networks"},
		{"x.onion", ".onion is Tor"},
		{"svc.alt", ".alt is non-DNS resolution"},
		{"bac.invalid", ".invalid is reserved to never resolve"},
	} {
		got := NotPublicDomain(tc.name)
		if (tc.want == "") != (got == "") || !strings.HasPrefix(got, tc.want) {
			t.Errorf("NotPublicDomain(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPublicCIDR(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"198.51.100.10/32", ""},
		{"203.0.113.0/28", ""},
		{"0.0.0.0/0", ""}, // everything: the gate judges how open an endpoint may be
		{"10.20.0.0/16", "is private (RFC 1918)"},
		{"172.31.5.4/32", "is private (RFC 1918)"},
		{"192.168.1.0/24", "is private (RFC 1918)"},
		{"100.64.12.0/24", "is shared carrier-grade NAT space"},
		{"127.0.0.1/32", "is loopback"},
		{"169.254.169.254/32", "is link-local"},
		{"8.8.8.8", "is not a CIDR block"},
	} {
		var ps Problems
		PublicCIDR(&ps, "p", tc.value)
		switch {
		case tc.want == "" && len(ps) != 0:
			t.Errorf("PublicCIDR(%q) = %v, want none", tc.value, ps)
		case tc.want != "" && (len(ps) != 1 || !strings.Contains(ps[0].String(), tc.want)):
			t.Errorf("PublicCIDR(%q) = %v, want %q", tc.value, ps, tc.want)
		}
	}
}
