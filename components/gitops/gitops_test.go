package gitops_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/gitops"
	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func deploy(t *testing.T, istio *gitops.Istio) *mockengine.Mocks {
	t.Helper()
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		args := gitops.DefaultArgs()
		args.Services, args.Istio, args.MeshNamespace = services.Default(), istio, "istio-system"
		_, err := gitops.NewGitOps(ctx, "gitops", args)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var istio = &gitops.Istio{
	Chart:  kube.Chart{Repository: "https://istio-release.storage.googleapis.com/charts", Name: "istiod", Version: "1.29.2"},
	Values: map[string]any{"global": map[string]any{"meshID": "bac-mesh", "network": "bac-network"}, "pilot": map[string]any{"autoscaleEnabled": true, "autoscaleMin": 3, "autoscaleMax": 10}},
}

func TestArgoCDRelease(t *testing.T) {
	m := deploy(t, istio)
	r, _ := m.Find("kubernetes:helm.sh/v3:Release", "gitops-argocd")
	for path, want := range map[string]any{
		"chart": "argo-cd", "version": "8.5.0", "namespace": "argocd",
		"values.global.image.tag":                                                        "v3.1.5",
		"values.controller.replicas":                                                     3.0,
		"values.controller.resources.requests":                                           map[string]any{"cpu": "1000m", "memory": "2Gi"},
		"values.controller.resources.limits":                                             map[string]any{"cpu": "2000m", "memory": "4Gi"},
		"values.server.replicas":                                                         3.0,
		"values.server.resources.requests":                                               map[string]any{"cpu": "500m", "memory": "512Mi"},
		"values.repoServer.replicas":                                                     3.0,
		"values.repoServer.resources.limits":                                             map[string]any{"cpu": "1000m", "memory": "2Gi"},
		"values.server.ingress.enabled":                                                  true,
		"values.server.ingress.ingressClassName":                                         "nginx",
		"values.server.ingress.hostname":                                                 "argocd.yourcompany.com",
		"values.server.ingress.annotations.cert-manager.io/cluster-issuer":               "letsencrypt-prod",
		"values.server.ingress.annotations.nginx.ingress.kubernetes.io/ssl-redirect":     "true",
		"values.server.ingress.annotations.nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
		"values.server.ingress.extraTls[0].secretName":                                   "argocd-tls",
		"values.redis-ha.enabled":                                                        true,
		"values.configs.secret.createSecret":                                             false,
		"values.configs.repositories.bac-platform.url":                                   "https://github.com/your-company/bac-platform",
		"values.configs.repositories.stable.type":                                        "helm",
	} {
		if got := r.Input(path); !reflect.DeepEqual(got, want) {
			t.Errorf("argocd %s = %#v, want %#v", path, got, want)
		}
	}
	lua, _ := r.Input("values.configs.cm.resource.customizations.health.argoproj.io_Application").(string)
	if !strings.Contains(lua, "hs.status = obj.status.health.status") {
		t.Errorf("health customisation = %q", lua)
	}
}

func TestApplications(t *testing.T) {
	m := deploy(t, istio)
	apps := map[string]mockengine.Resource{}
	for _, a := range m.ByType("kubernetes:argoproj.io/v1alpha1:Application") {
		apps[a.Input("metadata.name").(string)] = a
	}
	want := []string{"root-app", "istio-system", "monitoring-stack", "crm-service", "erp-service", "ecommerce-service", "analytics-service", "user-service"}
	if len(apps) != len(want) {
		t.Fatalf("applications = %v", apps)
	}
	root := apps["root-app"]
	for path, w := range map[string]any{
		"spec.project": "default", "spec.source.path": "argocd/apps", "spec.source.targetRevision": "HEAD",
		"spec.syncPolicy.automated":   map[string]any{"prune": true, "selfHeal": true},
		"spec.syncPolicy.syncOptions": []any{"CreateNamespace=true"},
		"spec.destination.namespace":  "argocd",
	} {
		if got := root.Input(path); !reflect.DeepEqual(got, w) {
			t.Errorf("root-app %s = %#v, want %#v", path, got, w)
		}
	}
	values, _ := apps["istio-system"].Input("spec.source.helm.values").(string)
	for _, s := range []string{"meshID: bac-mesh", "network: bac-network", "autoscaleMin: 3", "autoscaleMax: 10"} {
		if !strings.Contains(values, s) {
			t.Errorf("istio values lack %q:\n%s", s, values)
		}
	}
	if apps["istio-system"].Input("spec.source.chart") != "istiod" || apps["istio-system"].Input("spec.project") != "platform" {
		t.Error("istio-system app must install the istiod chart in the platform project")
	}
	crm := apps["crm-service"]
	if !reflect.DeepEqual(crm.Input("spec.source.helm.parameters"), []any{
		map[string]any{"name": "image.tag", "value": "1.0.0"}, map[string]any{"name": "replicaCount", "value": "5"},
	}) || crm.Input("spec.destination.namespace") != "crm" || crm.Input("spec.source.path") != "services/crm" {
		t.Errorf("crm app = %v", mockengine.PlainMap(crm.Inputs))
	}
	if n := len(m.ByType("kubernetes:argoproj.io/v1alpha1:AppProject")); n != 2 {
		t.Errorf("%d projects, want platform and services", n)
	}
}

func TestNoIstioAppWhenPulumiInstallsIstiod(t *testing.T) {
	m := deploy(t, nil)
	for _, a := range m.ByType("kubernetes:argoproj.io/v1alpha1:Application") {
		if a.Input("metadata.name") == "istio-system" {
			t.Fatal("istiod would have two owners")
		}
	}
}
