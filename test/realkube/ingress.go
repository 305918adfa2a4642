package realkube

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/bac-platform/infra/components/gateway"
	"github.com/bac-platform/infra/test/kubecluster"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PublishIngressStatus stands in for the Kong Ingress Controller, whose
// chart is a simulated Helm release here: until ctx ends, it gives every
// Ingress of the gateway's class the addresses the controller would
// publish, in status.loadBalancer. It reads them where the controller
// does: the chart turns ingressController.env.publish_status_address of
// the Kong release's values into CONTROLLER_PUBLISH_STATUS_ADDRESS
// (templates/_helpers.tpl at kong-3.2.0), a comma-separated list the
// controller publishes as is. Without it the controller would publish the
// proxy Service's load-balancer address, which nothing assigns here, so
// it publishes nothing, as the real one would, and the real provider,
// which waits for an address before it reports an Ingress created
// (pkg/await/ingress.go at the pinned commit), fails the up. It is the
// one controller simulated inside the real cluster.
func PublishIngressStatus(ctx context.Context, c *kubecluster.Cluster, kong func() (resource.PropertyMap, bool)) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		status := statusAddresses(kong)
		if len(status) == 0 {
			continue
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

// statusAddresses are the addresses the Kong release's values give the
// controller to publish.
func statusAddresses(kong func() (resource.PropertyMap, bool)) []networkingv1.IngressLoadBalancerIngress {
	release, ok := kong()
	if !ok {
		return nil
	}
	v := resource.NewObjectProperty(release)
	for _, key := range []string{"values", "ingressController", "env", "publish_status_address"} {
		for v.IsSecret() {
			v = v.SecretValue().Element
		}
		if !v.IsObject() {
			return nil
		}
		v = v.ObjectValue()[resource.PropertyKey(key)]
	}
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return nil
	}
	var status []networkingv1.IngressLoadBalancerIngress
	for _, a := range strings.Split(v.StringValue(), ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if net.ParseIP(a) != nil {
			status = append(status, networkingv1.IngressLoadBalancerIngress{IP: a})
		} else {
			status = append(status, networkingv1.IngressLoadBalancerIngress{Hostname: a})
		}
	}
	return status
}
