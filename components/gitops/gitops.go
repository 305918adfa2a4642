// Package gitops deploys ArgoCD (architecture document 3.2) with the
// app-of-apps root Application, the platform Applications and one
// Application per business service.
package gitops

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/components/validate"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// Args configures GitOps. Its JSON form is a stack config value.
type Args struct {
	Enabled   bool       `json:"enabled"`
	Namespace string     `json:"namespace"`
	Chart     kube.Chart `json:"chart"`
	Image     kube.Image `json:"image"`
	// AppsOwner is who owns the Applications: "pulumi" (this program
	// declares each platform and service Application; no root-app) or
	// "root-app" (the seed's app-of-apps syncs them from argocd/apps in
	// RepoURL; the program declares only the projects and the root-app).
	// One owner: with both, Pulumi and Argo CD's prune/selfHeal fight.
	AppsOwner string `json:"appsOwner"`

	ControllerReplicas  int            `json:"controllerReplicas"`
	ControllerResources kube.Resources `json:"controllerResources"`
	ServerReplicas      int            `json:"serverReplicas"`
	ServerResources     kube.Resources `json:"serverResources"`
	RepoServerReplicas  int            `json:"repoServerReplicas"`
	RepoServerResources kube.Resources `json:"repoServerResources"`
	RedisHA             bool           `json:"redisHa"`

	// RepoURL is the platform repository the apps come from.
	RepoURL        string `json:"repoUrl"`
	TargetRevision string `json:"targetRevision"`
	// HelmRepoURL is the extra Helm repository the seed registers.
	HelmRepoURL string `json:"helmRepoUrl"`
	// ServiceReplicas parameterises each service app. Image tags are not
	// set here: a Helm parameter would override the tag GitOps bumps in the
	// repository.
	ServiceReplicas int `json:"serviceReplicas"`

	// Set by the stack, never from the JSON form:

	// Hostname serves the Argo CD UI (argocd.<domain>) through the gateway
	// (Kong's ingress class); the seed's nginx class and letsencrypt issuer
	// do not exist in the cluster.
	Hostname string `json:"-"`
	// TLSSecret, when set, is the Secret (in Namespace) holding the
	// certificate for Hostname that the UI's Ingress serves; set by the
	// stack when it issues one.
	TLSSecret string `json:"-"`
	// Services get one Application each, in the services project.
	Services []services.Service `json:"-"`
	// Istio is what the istio-system Application installs when GitOps owns
	// istiod; nil when the mesh installs it itself.
	Istio *Istio `json:"-"`
	// MeshNamespace is where the mesh's istiod runs.
	MeshNamespace string `json:"-"`
	// ServiceAnnotations are annotations for each business service's own
	// Service, by service name (the gateway's, gateway.ServiceAnnotations).
	// The services' charts render them from the value service.annotations.
	ServiceAnnotations map[string]map[string]string `json:"-"`
}

// DefaultArgs returns the architecture document's ArgoCD. The chart/image
// pair is a released one (argo-cd 8.5.0 ships Argo CD v3.1.5); the seed's
// v2.9.3 is long out of support.
func DefaultArgs() Args {
	return Args{
		Enabled:            true,
		Namespace:          "argocd",
		Chart:              kube.Chart{Repository: "https://argoproj.github.io/argo-helm", Name: "argo-cd", Version: "8.5.0"},
		Image:              kube.Image{Repository: "quay.io/argoproj/argocd", Tag: "v3.1.5"},
		AppsOwner:          OwnerPulumi,
		ControllerReplicas: 3,
		ControllerResources: kube.Resources{Requests: kube.Quantities{CPU: "1000m", Memory: "2Gi"},
			Limits: kube.Quantities{CPU: "2000m", Memory: "4Gi"}},
		ServerReplicas: 3,
		ServerResources: kube.Resources{Requests: kube.Quantities{CPU: "500m", Memory: "512Mi"},
			Limits: kube.Quantities{CPU: "1000m", Memory: "1Gi"}},
		RepoServerReplicas: 3,
		RepoServerResources: kube.Resources{Requests: kube.Quantities{CPU: "500m", Memory: "1Gi"},
			Limits: kube.Quantities{CPU: "1000m", Memory: "2Gi"}},
		RedisHA:         true,
		TargetRevision:  "HEAD",
		HelmRepoURL:     "https://charts.helm.sh/stable",
		ServiceReplicas: 5,
	}
}

// Validate returns every problem, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !a.Enabled {
		return ps
	}
	kube.ValidateNamespace(&ps, path+".namespace", a.Namespace)
	ps.Extend(a.Chart.Validate(path + ".chart"))
	ps.Extend(a.Image.Validate(path + ".image"))
	ps.Extend(a.ControllerResources.Validate(path + ".controllerResources"))
	ps.Extend(a.ServerResources.Validate(path + ".serverResources"))
	ps.Extend(a.RepoServerResources.Validate(path + ".repoServerResources"))
	for name, n := range map[string]int{"controllerReplicas": a.ControllerReplicas, "serverReplicas": a.ServerReplicas,
		"repoServerReplicas": a.RepoServerReplicas, "serviceReplicas": a.ServiceReplicas} {
		if n < 1 {
			ps.Add(path+"."+name, "%d must be at least 1", n)
		}
	}
	if a.AppsOwner != OwnerPulumi && a.AppsOwner != OwnerRootApp {
		ps.Add(path+".appsOwner", "%q is not %q or %q", a.AppsOwner, OwnerPulumi, OwnerRootApp)
	}
	if a.RepoURL == "" || validate.Placeholder(a.RepoURL, true) {
		ps.Add(path+".repoUrl", "%q: the platform repository Argo CD syncs is required", a.RepoURL)
	} else {
		validateRepoURL(&ps, path+".repoUrl", a.RepoURL)
	}
	if strings.TrimSpace(a.TargetRevision) == "" || strings.ContainsAny(a.TargetRevision, "* ") {
		ps.Add(path+".targetRevision", "%q is not a branch, tag or commit", a.TargetRevision)
	}
	if a.HelmRepoURL != "" {
		kube.ValidateChartRepository(&ps, path+".helmRepoUrl", a.HelmRepoURL)
	}
	validate.DNSName(&ps, path+".hostname (from the domain)", a.Hostname)
	return ps
}

// validateRepoURL checks a Git repository URL as Argo CD clones it: https
// or ssh (ssh://host/path or the scp-like git@host:path), never plain http,
// git:// or file (unauthenticated, unencrypted or local), no credentials in
// the URL (Argo CD keeps them in repository Secrets) and no glob (a
// repository URL names one repository).
func validateRepoURL(ps *validate.Problems, path, repo string) {
	if strings.ContainsAny(repo, "*?[") {
		ps.Add(path, "%q is a pattern; name one repository", repo)
		return
	}
	if user, rest, scp := strings.Cut(repo, "@"); scp && !strings.Contains(user, "://") && strings.Contains(rest, ":") {
		host, repoPath, _ := strings.Cut(rest, ":")
		if !strings.Contains(host, ".") || strings.Trim(repoPath, "/") == "" {
			ps.Add(path, "%q is not an ssh repository like git@github.com:org/repo.git", repo)
		}
		return
	}
	u, err := url.Parse(repo)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "ssh"):
		ps.Add(path, "%q is not an https:// or ssh repository URL (Argo CD must fetch it authenticated and encrypted)", repo)
	case u.Scheme == "https" && u.User != nil:
		ps.Add(path, "%q carries credentials; give them to Argo CD as a repository Secret", repo)
	case u.User != nil && func() bool { _, set := u.User.Password(); return set }():
		ps.Add(path, "%q carries a password; give Argo CD an ssh key as a repository Secret", repo)
	case strings.Trim(u.Path, "/") == "":
		ps.Add(path, "%q names no repository", repo)
	}
}

// Owners of the Applications (Args.AppsOwner).
const (
	OwnerPulumi  = "pulumi"
	OwnerRootApp = "root-app"
)

// istiodClusterResources are the cluster-scoped kinds the istiod chart
// renders (ClusterRoles and bindings, the sidecar-injector and validator
// webhooks: istio-discovery templates at 1.29.6); the platform project
// allows exactly these, not */*.
func istiodClusterResources() []any {
	return []any{
		map[string]any{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"},
		map[string]any{"group": "rbac.authorization.k8s.io", "kind": "ClusterRoleBinding"},
		map[string]any{"group": "admissionregistration.k8s.io", "kind": "MutatingWebhookConfiguration"},
		map[string]any{"group": "admissionregistration.k8s.io", "kind": "ValidatingWebhookConfiguration"},
	}
}

// istiodIgnoreDifferences are the webhook fields istiod rewrites at run
// time: it patches the caBundle into both webhook kinds and turns the
// validator's rendered failurePolicy Ignore into Fail once it serves
// (pkg/webhooks/validation/controller and pkg/webhooks/webhookpatch.go at
// 1.29.6). Without these Argo CD reports istio-system OutOfSync forever and
// selfHeal undoes istiod's changes.
func istiodIgnoreDifferences() []any {
	return []any{
		map[string]any{"group": "admissionregistration.k8s.io", "kind": "MutatingWebhookConfiguration",
			"jqPathExpressions": []any{".webhooks[]?.clientConfig.caBundle"}},
		map[string]any{"group": "admissionregistration.k8s.io", "kind": "ValidatingWebhookConfiguration",
			"jqPathExpressions": []any{".webhooks[]?.clientConfig.caBundle", ".webhooks[]?.failurePolicy"}},
	}
}

// MonitoringNamespace is where the monitoring-stack Application deploys.
const MonitoringNamespace = "monitoring"

// Istio is what the istio-system Application installs when GitOps owns istiod.
type Istio struct {
	Chart  kube.Chart
	Values map[string]any
}

// GitOps is ArgoCD and its Applications.
type GitOps struct {
	pulumi.ResourceState
}

// applicationHealth is the seed's Lua health check for Application objects,
// which lets the app-of-apps wait for its children's health.
const applicationHealth = `hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
`

// NewGitOps deploys ArgoCD and the Applications. The kubernetes provider
// comes from opts.
func NewGitOps(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*GitOps, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	if args.Istio != nil && args.MeshNamespace == "" {
		return nil, errors.New("args.MeshNamespace is required with args.Istio")
	}
	istio := args.Istio
	g := &GitOps{}
	if err := ctx.RegisterComponentResource("bac:gitops:GitOps", name, g, opts...); err != nil {
		return nil, err
	}
	parent := kube.ChildOf(g, opts)
	release, err := kube.HelmRelease(ctx, name+"-argocd", "argocd", args.Namespace, args.Chart, helmValues(args), parent)
	if err != nil {
		return nil, fmt.Errorf("argocd release: %w", err)
	}
	afterArgo := pulumi.DependsOn([]pulumi.Resource{release})
	newObject := func(kind, objName string, spec map[string]any, deps ...pulumi.Resource) (pulumi.Resource, error) {
		return apiextensions.NewCustomResource(ctx, name+"-"+objName, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String("argoproj.io/v1alpha1"),
			Kind:        pulumi.String(kind),
			Metadata:    kube.Metadata(objName, args.Namespace, nil),
			OtherFields: kubernetes.UntypedArgs{"spec": spec},
		}, parent, afterArgo, pulumi.DependsOn(deps))
	}
	automated := func(createNamespace bool) map[string]any {
		policy := map[string]any{"automated": map[string]any{"prune": true, "selfHeal": true}}
		if createNamespace {
			policy["syncOptions"] = []any{"CreateNamespace=true"}
		}
		return policy
	}
	destination := func(ns string) map[string]any {
		return map[string]any{"server": "https://kubernetes.default.svc", "namespace": ns}
	}

	// The seed's Applications use projects "platform" and "services" it
	// never defines; Argo CD refuses an Application whose project is missing.
	// Neither project may create cluster-scoped objects except what istiod
	// needs when Argo CD installs it.
	var serviceDestinations []any
	for _, s := range args.Services {
		serviceDestinations = append(serviceDestinations, destination(s.Namespace))
	}
	platformSpec := map[string]any{
		"description":              "Platform components",
		"sourceRepos":              []any{args.RepoURL},
		"destinations":             []any{destination(MonitoringNamespace), destination(args.Namespace)},
		"clusterResourceWhitelist": []any{},
	}
	if istio != nil {
		platformSpec["sourceRepos"] = []any{args.RepoURL, istio.Chart.Repository}
		platformSpec["destinations"] = append(platformSpec["destinations"].([]any), destination(args.MeshNamespace))
		platformSpec["clusterResourceWhitelist"] = istiodClusterResources()
	}
	platform, err := newObject("AppProject", "platform", platformSpec)
	if err != nil {
		return nil, fmt.Errorf("platform project: %w", err)
	}
	servicesProject, err := newObject("AppProject", "services", map[string]any{
		"description": "Business services", "sourceRepos": []any{args.RepoURL}, "destinations": serviceDestinations,
		"clusterResourceWhitelist": []any{},
	})
	if err != nil {
		return nil, fmt.Errorf("services project: %w", err)
	}

	if args.AppsOwner == OwnerRootApp {
		// The app-of-apps owns every Application, declared in the repository.
		if _, err := newObject("Application", "root-app", map[string]any{
			"project":     "default",
			"source":      map[string]any{"repoURL": args.RepoURL, "targetRevision": args.TargetRevision, "path": "argocd/apps"},
			"destination": destination(args.Namespace),
			"syncPolicy":  automated(true),
		}, platform, servicesProject); err != nil {
			return nil, fmt.Errorf("root app: %w", err)
		}
	} else if err := declaredApplications(newObject, args, platform, servicesProject); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{}); err != nil {
		return nil, err
	}
	return g, nil
}

// objectFunc creates an Argo CD object of kind with a spec, after deps.
type objectFunc func(kind, name string, spec map[string]any, deps ...pulumi.Resource) (pulumi.Resource, error)

// declaredApplications are the platform and service Applications this
// program owns (AppsOwner pulumi).
func declaredApplications(newObject objectFunc, args Args, platform, servicesProject pulumi.Resource) error {
	destination := func(ns string) map[string]any {
		return map[string]any{"server": "https://kubernetes.default.svc", "namespace": ns}
	}
	automated := map[string]any{"automated": map[string]any{"prune": true, "selfHeal": true}}
	if istio := args.Istio; istio != nil {
		values, err := yaml.Marshal(istio.Values)
		if err != nil {
			return fmt.Errorf("istiod values: %w", err)
		}
		if _, err := newObject("Application", "istio-system", map[string]any{
			"project": "platform",
			"source": map[string]any{"repoURL": istio.Chart.Repository, "chart": istio.Chart.Name,
				"targetRevision": istio.Chart.Version, "helm": map[string]any{"values": string(values)}},
			"destination":       destination(args.MeshNamespace),
			"ignoreDifferences": istiodIgnoreDifferences(),
			"syncPolicy": map[string]any{"automated": map[string]any{"prune": true, "selfHeal": true},
				// Sync must not write back the fields istiod owns.
				"syncOptions": []any{"RespectIgnoreDifferences=true"}},
		}, platform); err != nil {
			return fmt.Errorf("istio app: %w", err)
		}
	}
	if _, err := newObject("Application", "monitoring-stack", map[string]any{
		"project":     "platform",
		"source":      map[string]any{"repoURL": args.RepoURL, "targetRevision": args.TargetRevision, "path": "monitoring"},
		"destination": destination(MonitoringNamespace),
		"syncPolicy":  automated,
	}, platform); err != nil {
		return fmt.Errorf("monitoring app: %w", err)
	}
	for _, s := range args.Services {
		helm := map[string]any{"parameters": []any{
			map[string]any{"name": "replicaCount", "value": fmt.Sprint(args.ServiceReplicas)},
		}}
		if ann := args.ServiceAnnotations[s.Name]; len(ann) > 0 {
			// Annotation keys hold dots and slashes, which Helm parameter
			// names would split; valuesObject carries them as written
			// (Argo CD v3.1 ApplicationSourceHelm.ValuesObject).
			helm["valuesObject"] = map[string]any{"service": map[string]any{"annotations": ann}}
		}
		if _, err := newObject("Application", s.ServiceName, map[string]any{
			"project": "services",
			"source": map[string]any{"repoURL": args.RepoURL, "targetRevision": args.TargetRevision, "path": "services/" + s.Name,
				"helm": helm},
			"destination": destination(s.Namespace),
			"syncPolicy":  automated,
		}, servicesProject); err != nil {
			return fmt.Errorf("%s app: %w", s.Name, err)
		}
	}
	return nil
}

// helmValues are the argo-cd chart values of the seed.
func helmValues(a Args) map[string]any {
	return map[string]any{
		// Replicas spread over zones (without a labelSelector the chart
		// uses each component's own; argo-cd 8.5.0 deployment templates),
		// and components with more than one replica get a PDB.
		"global":     map[string]any{"image": map[string]any{"repository": a.Image.Repository, "tag": a.Image.Tag}, "topologySpreadConstraints": []any{map[string]any{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}}},
		"controller": map[string]any{"replicas": a.ControllerReplicas, "resources": a.ControllerResources.Values(), "pdb": pdb(a.ControllerReplicas)},
		"server": map[string]any{
			"replicas":  a.ServerReplicas,
			"resources": a.ServerResources.Values(),
			"pdb":       pdb(a.ServerReplicas),
			// The UI is served through the gateway: Kong's ingress class,
			// https only (Kong answers plain http with a redirect), and
			// argocd-server speaking https to Kong.
			"ingress": map[string]any{
				"enabled":          true,
				"ingressClassName": "kong",
				"annotations": map[string]any{
					"konghq.com/protocols":                  "https",
					"konghq.com/https-redirect-status-code": "308",
				},
				"hostname": a.Hostname,
				// extraTls names the Secret (argo-cd 8.5.0
				// templates/argocd-server/ingress.yaml); tls: true would
				// fix it to argocd-server-tls.
				"extraTls": extraTLS(a),
			},
			"service": map[string]any{"annotations": map[string]any{"konghq.com/protocol": "https"}},
		},
		"repoServer": map[string]any{"replicas": a.RepoServerReplicas, "resources": a.RepoServerResources.Values(), "pdb": pdb(a.RepoServerReplicas)},
		// The chart's HA Redis lives under redis-ha; the plain redis is then off.
		"redis-ha": map[string]any{"enabled": a.RedisHA},
		"configs": map[string]any{
			// The chart creates argocd-secret (argo-cd 8.5.0
			// templates/argocd-configs/argocd-secret.yaml); with
			// createSecret false nothing would, and argocd-server would not start.
			"secret": map[string]any{"createSecret": true},
			"repositories": map[string]any{
				"bac-platform": map[string]any{"type": "git", "url": a.RepoURL},
				"stable":       map[string]any{"type": "helm", "name": "stable", "url": a.HelmRepoURL},
			},
			"cm": map[string]any{"resource.customizations.health.argoproj.io_Application": applicationHealth},
		},
	}
}

// extraTLS is the UI Ingress's TLS section: the stack's certificate for the
// host, or none.
func extraTLS(a Args) []any {
	if a.TLSSecret == "" {
		return []any{}
	}
	return []any{map[string]any{"hosts": []any{a.Hostname}, "secretName": a.TLSSecret}}
}

// pdb is a component's PodDisruptionBudget values: one pod at a time may
// go with more than one replica, none otherwise.
func pdb(replicas int) map[string]any {
	if replicas < 2 {
		return map[string]any{"enabled": false}
	}
	return map[string]any{"enabled": true, "maxUnavailable": 1}
}
