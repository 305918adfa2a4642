package realkube

import (
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	networkingv1 "k8s.io/api/networking/v1"
)

// TestTheStandInPublishesWhatKongsValuesSay: the Ingress-status stand-in
// publishes what the Kong release's values give its controller, and
// nothing when they give none (the real controller then waits for the
// proxy's load-balancer address).
func TestTheStandInPublishesWhatKongsValuesSay(t *testing.T) {
	release := func(env resource.PropertyMap) func() (resource.PropertyMap, bool) {
		return func() (resource.PropertyMap, bool) {
			return resource.PropertyMap{"values": resource.NewObjectProperty(resource.PropertyMap{
				"ingressController": resource.NewObjectProperty(resource.PropertyMap{"env": resource.NewObjectProperty(env)}),
			})}, true
		}
	}
	for _, tc := range []struct {
		name string
		kong func() (resource.PropertyMap, bool)
		want []networkingv1.IngressLoadBalancerIngress
	}{
		{"loopback", release(resource.PropertyMap{"publish_status_address": resource.NewProperty("127.0.0.1")}),
			[]networkingv1.IngressLoadBalancerIngress{{IP: "127.0.0.1"}}},
		{"an address and a name", release(resource.PropertyMap{"publish_status_address": resource.NewProperty("10.0.0.1, lb.example.org")}),
			[]networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0.1"}, {Hostname: "lb.example.org"}}},
		{"secret values", release(resource.PropertyMap{"publish_status_address": resource.MakeSecret(resource.NewProperty("127.0.0.1"))}),
			[]networkingv1.IngressLoadBalancerIngress{{IP: "127.0.0.1"}}},
		{"no address in the values", release(resource.PropertyMap{"other": resource.NewProperty("x")}), nil},
		{"no release yet", func() (resource.PropertyMap, bool) { return nil, false }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := statusAddresses(tc.kong); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("addresses = %v, want %v", got, tc.want)
			}
		})
	}
}
