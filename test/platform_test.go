package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/bac-platform/infra/stacks/stackfile"
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
			// The AWS stacks add the add-ons: 8 releases and the
			// cert-manager, external-dns and velero namespaces.
			addonNamespaces, addonReleases := 3, 8
			if name == "local" {
				addonNamespaces, addonReleases = 0, 0
			}
			for typ, want := range map[string]int{
				"kubernetes:core/v1:Namespace":                             15 + addonNamespaces, // 6 platform, 5 services, 4 peers the policies name
				"kubernetes:helm.sh/v3:Release":                            4 + addonReleases,    // kong, istio-base, istiod, argocd
				"kubernetes:configuration.konghq.com/v1:KongClusterPlugin": 6,                    // oidc only with an image that bundles it; Keycloak's admin allow list
				"kubernetes:configuration.konghq.com/v1:KongIngress":       0,                    // deprecated in KIC 3
				"kubernetes:networking.istio.io/v1:DestinationRule":        1,                    // the CRM's tenant affinity, in the mesh
				"kubernetes:configuration.konghq.com/v1:KongConsumer":      1,                    // the realm, trusted by the jwt plugin
				"kubernetes:networking.k8s.io/v1:Ingress":                  5,                    // the three routes, auth.<domain>'s public paths and its admin path
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
			// The jwt plugin's credential holds the realm's issuer and signing key.
			cred, ok := run.mocks.Find("kubernetes:core/v1:Secret", "gateway-jwt-credential")
			domain := run.file.Values["bac:domain"]
			if domain == "" {
				domain = "bac.localhost"
			}
			if !ok || cred.RevealedInput("stringData.key") != "https://auth."+domain+"/realms/bac" ||
				!strings.HasPrefix(fmt.Sprint(cred.RevealedInput("stringData.rsa_public_key")), "-----BEGIN PUBLIC KEY-----") {
				t.Errorf("jwt credential = %v", mockengine.PlainMap(cred.Inputs))
			}
			// Kong calls every routed service through its Service (mesh).
			crmApp, _ := run.mocks.Find("kubernetes:argoproj.io/v1alpha1:Application", "gitops-crm-service")
			if got := crmApp.Input("spec.source.helm.valuesObject.service.annotations.ingress.kubernetes.io/service-upstream"); got != "true" {
				t.Errorf("crm Application service-upstream annotation = %v", got)
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

// TestSecretsStaySecret: the JWT secret and Keycloak's credentials are
// secret inputs wherever they appear.
func TestSecretsStaySecret(t *testing.T) {
	run := runStack(t, "prod-us-east-1")
	for _, name := range []string{"realtime-jwt", "identity-db", "identity-admin"} {
		s, ok := run.mocks.Find("kubernetes:core/v1:Secret", name)
		if !ok || !s.IsSecretInput("stringData") {
			t.Errorf("secret %s data is not a secret input", name)
		}
	}
}

// TestNoSecretReachesAResourceInPlaintext runs prod-us-east-1 with real
// secret values and checks that no resource input holds any of them
// unmasked: every secret stays a secret output end to end.
func TestNoSecretReachesAResourceInPlaintext(t *testing.T) {
	project, _ := stackfile.ProjectName(repoRoot)
	sf, err := stackfile.Read(repoRoot, project, "prod-us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	var plaintexts []string
	for _, k := range stacks.SecretKeys() {
		v := "plaintext-" + k + "-value"
		sf.Values["bac:"+k] = v
		sf.SecretKeys = append(sf.SecretKeys, "bac:"+k)
		plaintexts = append(plaintexts, v)
	}
	m, err := mockengine.RunStack(stacks.Program, project, "us-east-1", sf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Resources() {
		raw, _ := json.Marshal(mockengine.PlainMap(r.Inputs))
		for _, p := range plaintexts {
			if strings.Contains(string(raw), p) {
				t.Errorf("%s %s holds a secret in plaintext", r.Type, r.Name)
			}
		}
	}
	// And the secrets did reach their resources, masked.
	for typ, name := range map[string]string{
		"keycloak:openid/client:Client":                                  "identity-bac-api",
		"keycloak:ldap/userFederation:UserFederation":                    "identity-corporate-ldap",
		"vault:database/secretBackendConnection:SecretBackendConnection": "vault-yugabytedb",
		"pulumi:providers:vault":                                         "vault",
		"pulumi:providers:keycloak":                                      "keycloak",
	} {
		r, ok := m.Find(typ, name)
		if !ok {
			t.Errorf("no %s %s", typ, name)
			continue
		}
		raw, _ := json.Marshal(mockengine.PlainMap(r.Inputs))
		if !strings.Contains(string(raw), stackfile.SecretPlaceholder) {
			t.Errorf("%s %s has no secret input", typ, name)
		}
	}
}

// TestPlatformLayerIIOnProduction checks the done-criteria of layer II in
// the prod plans: realm, client, roles, LDAP, transit keys, database engine,
// ArgoCD and its applications, the scan with its RBAC, and the agent.
func TestPlatformLayerIIOnProduction(t *testing.T) {
	for _, name := range []string{"prod-us-east-1", "prod-eu-west-1"} {
		t.Run(name, func(t *testing.T) {
			run := runStack(t, name)
			for typ, want := range map[string]int{
				"keycloak:index/realm:Realm":                                     1,
				"keycloak:openid/client:Client":                                  1,
				"keycloak:index/role:Role":                                       3,
				"keycloak:ldap/userFederation:UserFederation":                    1,
				"vault:transit/secretBackendKey:SecretBackendKey":                2,
				"vault:index/mount:Mount":                                        2,
				"vault:database/secretBackendConnection:SecretBackendConnection": 1,
				"vault:database/secretBackendRole:SecretBackendRole":             3,
				"kubernetes:argoproj.io/v1alpha1:Application":                    6, // Pulumi owns them: no root-app; istiod is Pulumi's
				"kubernetes:batch/v1:CronJob":                                    1,
				"kubernetes:rbac.authorization.k8s.io/v1:ClusterRole":            1,
				"kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding":     1,
				"kubernetes:apps/v1:DaemonSet":                                   1,
			} {
				if got := len(run.mocks.ByType(typ)); got != want {
					t.Errorf("%d %s, want %d", got, typ, want)
				}
			}
			realm := run.mocks.ByType("keycloak:index/realm:Realm")[0]
			kc := run.mocks.ByType("pulumi:providers:keycloak")
			if len(kc) != 1 || !strings.HasPrefix(realm.Provider, kc[0].URN+"::") || !realm.Protect {
				t.Fatal("the realm must be protected and use the stack's keycloak provider")
			}
			// No login while the provider is configured: on a new region's
			// first preview Keycloak does not exist yet.
			if got := kc[0].Input("initialLogin"); got != "false" && got != false {
				t.Errorf("keycloak provider initialLogin = %#v, want false", got)
			}
			for _, k := range run.mocks.ByType("vault:transit/secretBackendKey:SecretBackendKey") {
				if !k.Protect {
					t.Errorf("transit key %s is not protected", k.Name)
				}
			}
		})
	}
}
