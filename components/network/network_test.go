package network_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/network"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestSubnetCIDRs(t *testing.T) {
	private, public := network.SubnetCIDRs(netip.MustParsePrefix("10.10.0.0/16"), 3)
	wantPrivate := []string{"10.10.0.0/19", "10.10.32.0/19", "10.10.64.0/19"}
	wantPublic := []string{"10.10.224.0/22", "10.10.228.0/22", "10.10.232.0/22"}
	for i := range 3 {
		if private[i].String() != wantPrivate[i] || public[i].String() != wantPublic[i] {
			t.Fatalf("zone %d: private %s public %s, want %s %s", i, private[i], public[i], wantPrivate[i], wantPublic[i])
		}
	}
	// Six zones in the smallest VPC still fit without overlap.
	private, public = network.SubnetCIDRs(netip.MustParsePrefix("10.0.0.0/20"), 6)
	all := append(private, public...)
	for i, a := range all {
		for _, b := range all[i+1:] {
			if a.Overlaps(b) {
				t.Fatalf("%s overlaps %s", a, b)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *network.Args)
		want   string
	}{
		{"missing cidr", func(a *network.Args) { a.CIDR = "" }, "bac:network.cidr: is required"},
		{"not a cidr", func(a *network.Args) { a.CIDR = "10.0.0.0/33" }, `bac:network.cidr: "10.0.0.0/33" is not a CIDR block`},
		{"too small", func(a *network.Args) { a.CIDR = "10.0.0.0/24" }, "bac:network.cidr: 10.0.0.0/24 must be an IPv4 block between /16 and /20"},
		{"host bits", func(a *network.Args) { a.CIDR = "10.0.0.1/16" }, "bac:network.cidr: \"10.0.0.1/16\" has host bits set; did you mean 10.0.0.0/16?"},
		{"one zone", func(a *network.Args) { a.AvailabilityZones = []string{"us-east-1a"} }, "bac:network.availabilityZones: needs at least 2 zones"},
		{"repeated zone", func(a *network.Args) { a.AvailabilityZones = []string{"us-east-1a", "us-east-1a"} }, `bac:network.availabilityZones[1]: zone "us-east-1a" is empty or repeated`},
		{"nat layout", func(a *network.Args) { a.NATGateways = "none" }, `bac:network.natGateways: "none" is not one of "perAz", "single"`},
		{"retention", func(a *network.Args) { a.FlowLogRetentionDays = 0 }, "bac:network.flowLogRetentionDays: 0 is not a CloudWatch Logs retention period"},
		{"public range", func(a *network.Args) { a.CIDR = "52.0.0.0/16" }, "bac:network.cidr: 52.0.0.0/16 is not a private range"},
		{"link-local", func(a *network.Args) { a.CIDR = "169.254.0.0/16" }, "bac:network.cidr: 169.254.0.0/16 is not a private range"},
		{"loopback", func(a *network.Args) { a.CIDR = "127.0.0.0/16" }, "bac:network.cidr: 127.0.0.0/16 is not a private range"},
		{"straddles a private range", func(a *network.Args) { a.CIDR = "172.0.0.0/12" }, "bac:network.cidr: 172.0.0.0/12 must be an IPv4 block between /16 and /20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := network.DefaultArgs("us-east-1")
			a.CIDR = "10.10.0.0/16"
			tt.mutate(&a)
			ps := a.Validate("bac:network")
			if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want) {
				t.Fatalf("problems = %v, want one starting %q", ps, tt.want)
			}
		})
	}
}

func TestPrivateRangesAreAccepted(t *testing.T) {
	for _, cidr := range []string{"10.10.0.0/16", "172.31.0.0/16", "192.168.16.0/20", "100.64.0.0/16"} {
		a := network.DefaultArgs("us-east-1")
		a.CIDR = cidr
		if ps := a.Validate("bac:network"); len(ps) != 0 {
			t.Errorf("%s: %v", cidr, ps)
		}
	}
}

func TestZonesAreZonesOfTheRegion(t *testing.T) {
	tests := []struct {
		zone, want string
	}{
		{"us-east-1d", ""},
		{"us-east-1f", ""},
		{"eu-west-1b", `bac:network.availabilityZones[2]: "eu-west-1b" is not an availability zone of us-east-1 (us-east-1a to us-east-1f)`},
		{"us-east-1z", `bac:network.availabilityZones[2]: "us-east-1z" is not an availability zone of us-east-1`},
		{"us-east-1-bos-1a", `bac:network.availabilityZones[2]: "us-east-1-bos-1a" is not an availability zone of us-east-1`},
		{"use1-az1", `bac:network.availabilityZones[2]: "use1-az1" is not an availability zone of us-east-1`},
		{"us-east-12a", `bac:network.availabilityZones[2]: "us-east-12a" is not an availability zone of us-east-1`},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			a := network.DefaultArgs("us-east-1")
			a.AvailabilityZones[2] = tt.zone
			ps := a.ValidateZones("bac:network", "us-east-1")
			switch {
			case tt.want == "" && len(ps) != 0:
				t.Fatalf("problems = %v", ps)
			case tt.want != "" && (len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want)):
				t.Fatalf("problems = %v, want one starting %q", ps, tt.want)
			}
		})
	}
}

func deploy(t *testing.T, args network.Args) *mockengine.Mocks {
	t.Helper()
	args.ClusterName = "bac-prod-us-east-1"
	args.Tags = map[string]string{"Environment": "production"}
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		_, err := network.NewNetwork(ctx, "net", args)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSubnetsAreTaggedForEKSLoadBalancers(t *testing.T) {
	args := network.DefaultArgs("us-east-1")
	args.CIDR = "10.10.0.0/16"
	m := deploy(t, args)
	subnets := m.ByType("aws:ec2/subnet:Subnet")
	if len(subnets) != 6 {
		t.Fatalf("%d subnets, want 3 public + 3 private", len(subnets))
	}
	zones := map[string]int{}
	for _, s := range subnets {
		zones[s.Input("availabilityZone").(string)]++
		role := "kubernetes.io/role/internal-elb"
		if strings.Contains(s.Name, "-public-") {
			role = "kubernetes.io/role/elb"
			if s.Input("mapPublicIpOnLaunch") != false {
				t.Errorf("%s maps public IPs on launch", s.Name)
			}
		}
		if tags := s.Input("tags").(map[string]any); tags[role] != "1" || tags["kubernetes.io/cluster/bac-prod-us-east-1"] != "shared" {
			t.Errorf("%s tags = %v", s.Name, s.Input("tags"))
		}
	}
	if !reflect.DeepEqual(zones, map[string]int{"us-east-1a": 2, "us-east-1b": 2, "us-east-1c": 2}) {
		t.Errorf("subnets per zone = %v", zones)
	}
}

func TestNATGatewayLayouts(t *testing.T) {
	for layout, want := range map[string]int{network.NATPerAZ: 3, network.NATSingle: 1} {
		args := network.DefaultArgs("eu-west-1")
		args.CIDR = "10.20.0.0/16"
		args.NATGateways = layout
		m := deploy(t, args)
		if got := len(m.ByType("aws:ec2/natGateway:NatGateway")); got != want {
			t.Errorf("%s: %d NAT gateways, want %d", layout, got, want)
		}
		// Every private subnet routes to the internet through a NAT gateway.
		for _, rt := range m.ByType("aws:ec2/routeTable:RouteTable") {
			if strings.Contains(rt.Name, "-private-") && rt.Input("routes[0].natGatewayId") == nil {
				t.Errorf("%s: %s has no NAT route", layout, rt.Name)
			}
		}
	}
}

func TestFlowLogsCaptureAllTrafficWithRetention(t *testing.T) {
	args := network.DefaultArgs("us-east-1")
	args.CIDR = "10.10.0.0/16"
	m := deploy(t, args)
	fl := m.ByType("aws:ec2/flowLog:FlowLog")
	if len(fl) != 1 || fl[0].Input("trafficType") != "ALL" || fl[0].Input("logDestinationType") != "cloud-watch-logs" {
		t.Fatalf("flow logs = %v", fl)
	}
	group, _ := m.Find("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs")
	if group.Input("retentionInDays") != 365.0 {
		t.Errorf("flow log retention = %v, want 365", group.Input("retentionInDays"))
	}
	if fl[0].Input("logDestination") != group.Outputs["arn"].StringValue() {
		t.Error("flow log must write to its log group")
	}
}

func TestNewNetworkRejectsInvalidArgs(t *testing.T) {
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		_, err := network.NewNetwork(ctx, "net", network.DefaultArgs("us-east-1"))
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "net.cidr: is required") || len(m.Resources()) != 0 {
		t.Fatalf("err = %v, resources = %d", err, len(m.Resources()))
	}
}
