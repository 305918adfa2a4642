package realkube

import (
	"context"
	"net"
	"time"

	"github.com/bac-platform/infra/components/gateway"
	"github.com/bac-platform/infra/test/kubecluster"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PublishIngressStatus stands in for the Kong Ingress Controller, whose
// chart is a simulated Helm release here: until ctx ends, it gives every
// Ingress of the gateway's class the addresses in status.loadBalancer, as
// the controller does for the Ingresses it serves. With the gateway's
// publishStatusAddresses set (the local stack: 127.0.0.1) the controller
// publishes exactly those; without, it would publish the proxy Service's
// load-balancer address, which nothing assigns here. The real provider
// waits for an address before it reports an Ingress created
// (pkg/await/ingress.go at the pinned commit). It is the one controller
// simulated inside the real cluster.
func PublishIngressStatus(ctx context.Context, c *kubecluster.Cluster, addresses []string) {
	var status []networkingv1.IngressLoadBalancerIngress
	for _, a := range addresses {
		if net.ParseIP(a) != nil {
			status = append(status, networkingv1.IngressLoadBalancerIngress{IP: a})
		} else {
			status = append(status, networkingv1.IngressLoadBalancerIngress{Hostname: a})
		}
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		list, err := c.Clientset.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for i := range list.Items {
			ing := &list.Items[i]
			if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != gateway.IngressClass || len(ing.Status.LoadBalancer.Ingress) > 0 {
				continue
			}
			ing.Status.LoadBalancer.Ingress = status
			_, _ = c.Clientset.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(ctx, ing, metav1.UpdateOptions{})
		}
	}
}
