package realkube

import (
	"context"
	"time"

	"github.com/bac-platform/infra/components/gateway"
	"github.com/bac-platform/infra/test/kubecluster"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KongProxyAddress is the address the stand-in for the Kong Ingress
// Controller publishes on Ingresses.
const KongProxyAddress = "10.96.0.80"

// PublishIngressStatus stands in for the Kong Ingress Controller, whose
// chart is a simulated Helm release here: until ctx ends, it gives every
// Ingress of the gateway's class the proxy's address in status.loadBalancer, as the
// controller does for the Ingresses it serves (its publish-service
// setting). The real provider waits for that address before it reports an
// Ingress created (pkg/await/ingress.go at the pinned commit), so without
// it every up would time out. It is the one controller simulated inside the
// real cluster.
func PublishIngressStatus(ctx context.Context, c *kubecluster.Cluster) {
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
			ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: KongProxyAddress}}
			_, _ = c.Clientset.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(ctx, ing, metav1.UpdateOptions{})
		}
	}
}
