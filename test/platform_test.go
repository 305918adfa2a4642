package test

import (
	"strings"
	"testing"
)

// TestPlatformLayerOnEveryStack: namespaces, gateway, mesh and realtime are
// planned on every stack, through the cluster's own kubernetes provider.
func TestPlatformLayerOnEveryStack(t *testing.T) {
	for _, name := range stackNames(t) {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			k8sProviders := run.mocks.ByType("pulumi:providers:kubernetes")
			if len(k8sProviders) != 1 {
				t.Fatalf("%d kubernetes providers, want the cluster's one", len(k8sProviders))
			}
			provider := k8sProviders[0]
			if !provider.IsSecretInput("kubeconfig") {
				t.Error("the kubeconfig must stay secret")
			}
			counts := map[string]int{}
			for _, r := range run.mocks.Resources() {
				if strings.HasPrefix(r.Type, "kubernetes:") {
					counts[r.Type]++
					if !strings.HasPrefix(r.Provider, provider.URN+"::") {
						t.Errorf("%s %s does not use the cluster's kubernetes provider", r.Type, r.Name)
					}
				}
			}
			for typ, want := range map[string]int{
				"kubernetes:core/v1:Namespace":                             11,
				"kubernetes:helm.sh/v3:Release":                            3, // kong, istio-base, argocd (which installs istiod)
				"kubernetes:configuration.konghq.com/v1:KongClusterPlugin": 6,
				"kubernetes:configuration.konghq.com/v1:KongIngress":       1,
				"kubernetes:networking.k8s.io/v1:Ingress":                  3,
				"kubernetes:security.istio.io/v1:PeerAuthentication":       1,
				"kubernetes:security.istio.io/v1:AuthorizationPolicy":      5,
				"kubernetes:networking.k8s.io/v1:NetworkPolicy":            10,
				"kubernetes:apps/v1:Deployment":                            3, // websocket, graphql, keycloak
			} {
				if counts[typ] != want {
					t.Errorf("%d %s, want %d", counts[typ], typ, want)
				}
			}
			for _, ns := range run.mocks.ByType("kubernetes:core/v1:Namespace") {
				if ns.Input("metadata.labels.name") != ns.Name {
					t.Errorf("namespace %s lacks label name=%s", ns.Name, ns.Name)
				}
				// Kong gets a sidecar too: its mesh identity is what the
				// services' AuthorizationPolicies admit.
				service := strings.Contains(" crm erp ecommerce analytics users api-gateway ", " "+ns.Name+" ")
				if service != (ns.Input("metadata.labels.istio-injection") == "enabled") {
					t.Errorf("namespace %s istio-injection = %v", ns.Name, ns.Input("metadata.labels.istio-injection"))
				}
			}
			kong, _ := run.mocks.Find("kubernetes:helm.sh/v3:Release", "gateway-kong")
			nlb := kong.Input("values.proxy.annotations.service.beta.kubernetes.io/aws-load-balancer-type")
			if (name == "local") != (nlb == nil) {
				t.Errorf("NLB annotation = %v on %s", nlb, name)
			}
			if name == "local" {
				for _, r := range run.mocks.Resources() {
					if strings.HasPrefix(r.Type, "aws:") || strings.HasPrefix(r.Type, "eks:") {
						t.Errorf("local stack plans AWS resource %s %s", r.Type, r.Name)
					}
				}
			}
		})
	}
}

// TestSecretsStaySecret: the OIDC client secret and JWT secret are secret
// inputs wherever they appear.
func TestSecretsStaySecret(t *testing.T) {
	run := runStack(t, "prod-us-east-1")
	for _, name := range []string{"gateway-oidc-client", "realtime-jwt"} {
		s, ok := run.mocks.Find("kubernetes:core/v1:Secret", name)
		if !ok || !s.IsSecretInput("stringData") {
			t.Errorf("secret %s data is not a secret input", name)
		}
	}
}
