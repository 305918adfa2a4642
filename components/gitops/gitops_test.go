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

func deploy(t *testing.T, istio *gitops.Istio, mutate ...func(*gitops.Args)) *mockengine.Mocks {
	t.Helper()
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		args := gitops.DefaultArgs()
		args.Hostname, args.RepoURL = "argocd.bac-platform.io", "https://github.com/bac-platform/platform-gitops"
		for _, f := range mutate {
			f(&args)
		}
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
	Values: map[string]any{"global": map[string]any{"meshID": "bac-mesh", "network": "bac-network"}, "autoscaleEnabled": true, "autoscaleMin": 3, "autoscaleMax": 10},
}

func TestArgoCDRelease(t *testing.T) {
	m := deploy(t, istio)
	r, _ := m.Find("kubernetes:helm.sh/v3:Release", "gitops-argocd")
	for path, want := range map[string]any{
		"chart": "argo-cd", "version": "8.5.0", "namespace": "argocd",
		"values.global.image.tag":              "v3.1.5",
		"values.controller.replicas":           3.0,
		"values.controller.resources.requests": map[string]any{"cpu": "1000m", "memory": "2Gi"},
		"values.controller.resources.limits":   map[string]any{"cpu": "2000m", "memory": "4Gi"},
		"values.server.replicas":               3.0,
		"values.server.resources.requests":     map[string]any{"cpu": "500m", "memory": "512Mi"},
		"values.repoServer.replicas":           3.0,
		"values.repoServer.resources.limits":   map[string]any{"cpu": "1000m", "memory": "2Gi"},
		"values.server.ingress.enabled":        true,
		// Through the gateway: the seed's nginx class and letsencrypt issuer do not exist.
		"values.server.ingress.ingressClassName":                           "kong",
		"values.server.ingress.hostname":                                   "argocd.bac-platform.io",
		"values.server.ingress.annotations.konghq.com/protocols":           "https",
		"values.server.ingress.annotations.cert-manager.io/cluster-issuer": nil,
		"values.server.service.annotations.konghq.com/protocol":            "https",
		"values.redis-ha.enabled":                                          true,
		// argo-cd 8.5.0 renders argocd-secret only with createSecret true.
		"values.configs.secret.createSecret":           true,
		"values.configs.repositories.bac-platform.url": "https://github.com/bac-platform/platform-gitops",
		"values.configs.repositories.stable.type":      "helm",
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

func applications(m *mockengine.Mocks) map[string]mockengine.Resource {
	apps := map[string]mockengine.Resource{}
	for _, a := range m.ByType("kubernetes:argoproj.io/v1alpha1:Application") {
		apps[a.Input("metadata.name").(string)] = a
	}
	return apps
}

func TestApplications(t *testing.T) {
	m := deploy(t, istio)
	apps := applications(m)
	// One owner: Pulumi declares every Application, so there is no root-app
	// syncing the same Applications from the repository.
	want := []string{"istio-system", "monitoring-stack", "crm-service", "erp-service", "ecommerce-service", "analytics-service", "user-service"}
	if len(apps) != len(want) {
		t.Fatalf("applications = %v", apps)
	}
	for _, w := range want {
		if _, ok := apps[w]; !ok {
			t.Errorf("no application %s", w)
		}
	}
	istioApp := apps["istio-system"]
	values, _ := istioApp.Input("spec.source.helm.values").(string)
	for _, s := range []string{"meshID: bac-mesh", "network: bac-network", "autoscaleMin: 3", "autoscaleMax: 10"} {
		if !strings.Contains(values, s) {
			t.Errorf("istio values lack %q:\n%s", s, values)
		}
	}
	if istioApp.Input("spec.source.chart") != "istiod" || istioApp.Input("spec.project") != "platform" {
		t.Error("istio-system app must install the istiod chart in the platform project")
	}
	// istiod patches caBundle into its webhooks and flips the validator's
	// failurePolicy to Fail (istio 1.29.6 pkg/webhooks); Argo CD must not undo it.
	for path, w := range map[string]any{
		"spec.ignoreDifferences[0].kind":              "MutatingWebhookConfiguration",
		"spec.ignoreDifferences[0].jqPathExpressions": []any{".webhooks[]?.clientConfig.caBundle"},
		"spec.ignoreDifferences[1].kind":              "ValidatingWebhookConfiguration",
		"spec.ignoreDifferences[1].jqPathExpressions": []any{".webhooks[]?.clientConfig.caBundle", ".webhooks[]?.failurePolicy"},
		"spec.syncPolicy.syncOptions":                 []any{"RespectIgnoreDifferences=true"},
	} {
		if got := istioApp.Input(path); !reflect.DeepEqual(got, w) {
			t.Errorf("istio-system %s = %#v, want %#v", path, got, w)
		}
	}
	crm := apps["crm-service"]
	// No image.tag parameter: it would override the tag GitOps bumps.
	if !reflect.DeepEqual(crm.Input("spec.source.helm.parameters"), []any{
		map[string]any{"name": "replicaCount", "value": "5"},
	}) || crm.Input("spec.destination.namespace") != "crm" || crm.Input("spec.source.path") != "services/crm" {
		t.Errorf("crm app = %v", mockengine.PlainMap(crm.Inputs))
	}
}

func TestProjectsAllowOnlyWhatIstiodNeeds(t *testing.T) {
	m := deploy(t, istio)
	projects := map[string]mockengine.Resource{}
	for _, p := range m.ByType("kubernetes:argoproj.io/v1alpha1:AppProject") {
		projects[p.Input("metadata.name").(string)] = p
	}
	if len(projects) != 2 {
		t.Fatalf("projects = %v, want platform and services", projects)
	}
	// The kinds istio-discovery 1.29.6 renders cluster-scoped; nothing else,
	// and never */*.
	want := []any{
		map[string]any{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"},
		map[string]any{"group": "rbac.authorization.k8s.io", "kind": "ClusterRoleBinding"},
		map[string]any{"group": "admissionregistration.k8s.io", "kind": "MutatingWebhookConfiguration"},
		map[string]any{"group": "admissionregistration.k8s.io", "kind": "ValidatingWebhookConfiguration"},
	}
	if got := projects["platform"].Input("spec.clusterResourceWhitelist"); !reflect.DeepEqual(got, want) {
		t.Errorf("platform clusterResourceWhitelist = %#v", got)
	}
	if got := projects["services"].Input("spec.clusterResourceWhitelist"); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("services clusterResourceWhitelist = %#v, want none", got)
	}
	withoutIstio := deploy(t, nil)
	for _, p := range withoutIstio.ByType("kubernetes:argoproj.io/v1alpha1:AppProject") {
		if got := p.Input("spec.clusterResourceWhitelist"); !reflect.DeepEqual(got, []any{}) {
			t.Errorf("%s allows cluster resources %v without the istio app", p.Name, got)
		}
	}
}

func TestRootAppOwnsTheApplicationsWhenChosen(t *testing.T) {
	m := deploy(t, istio, func(a *gitops.Args) { a.AppsOwner = gitops.OwnerRootApp })
	apps := applications(m)
	if len(apps) != 1 {
		t.Fatalf("applications = %v, want only root-app", apps)
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
}

func TestNoIstioAppWhenPulumiInstallsIstiod(t *testing.T) {
	m := deploy(t, nil)
	for _, a := range m.ByType("kubernetes:argoproj.io/v1alpha1:Application") {
		if a.Input("metadata.name") == "istio-system" {
			t.Fatal("istiod would have two owners")
		}
	}
}

func TestValidateRepositories(t *testing.T) {
	tests := []struct {
		name, repo, want string
	}{
		{"https", "https://github.com/bac-platform/platform-gitops", ""},
		{"ssh URL", "ssh://git@github.com/bac-platform/platform-gitops.git", ""},
		{"scp-like ssh", "git@github.com:bac-platform/platform-gitops.git", ""},
		{"plain http", "http://github.com/bac-platform/platform-gitops",
			`bac:gitops.repoUrl: "http://github.com/bac-platform/platform-gitops" is not an https:// or ssh repository URL`},
		{"git protocol", "git://github.com/bac-platform/platform-gitops",
			`bac:gitops.repoUrl: "git://github.com/bac-platform/platform-gitops" is not an https:// or ssh repository URL`},
		{"local path", "file:///srv/platform-gitops", `bac:gitops.repoUrl: "file:///srv/platform-gitops" is not an https:// or ssh repository URL`},
		{"token in the URL", "https://x-access-token:ghp_abc@github.com/bac-platform/platform-gitops",
			`bac:gitops.repoUrl: "https://x-access-token:ghp_abc@github.com/bac-platform/platform-gitops" carries credentials`},
		{"password over ssh", "ssh://git:hunter2@github.com/bac-platform/platform-gitops.git",
			`bac:gitops.repoUrl: "ssh://git:hunter2@github.com/bac-platform/platform-gitops.git" carries a password`},
		{"glob", "https://github.com/bac-platform/*", `bac:gitops.repoUrl: "https://github.com/bac-platform/*" is a pattern; name one repository`},
		{"no repository", "https://github.com/", `bac:gitops.repoUrl: "https://github.com/" names no repository`},
		{"scp-like without a path", "git@github.com:", `bac:gitops.repoUrl: "git@github.com:" is not an ssh repository`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := gitops.DefaultArgs()
			a.Hostname, a.RepoURL = "argocd.bac-platform.io", tt.repo
			ps := a.Validate("bac:gitops")
			switch {
			case tt.want == "" && len(ps) != 0:
				t.Fatalf("problems = %v", ps)
			case tt.want != "" && (len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want)):
				t.Fatalf("problems = %v, want one starting %q", ps, tt.want)
			}
		})
	}
	a := gitops.DefaultArgs()
	a.Hostname, a.RepoURL, a.TargetRevision, a.HelmRepoURL = "argocd.bac-platform.io", tests[0].repo, "", "http://charts.helm.sh/stable"
	ps := a.Validate("bac:gitops")
	if len(ps) != 2 || !strings.HasPrefix(ps[0].String(), `bac:gitops.targetRevision: "" is not a branch, tag or commit`) ||
		!strings.HasPrefix(ps[1].String(), `bac:gitops.helmRepoUrl: "http://charts.helm.sh/stable" is not an https:// or oci:// chart repository`) {
		t.Fatalf("problems = %v", ps)
	}
}
