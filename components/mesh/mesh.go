// Package mesh deploys Istio (architecture document 2.1): istio-base and
// istiod by Helm unless GitOps owns the install, mesh-wide STRICT mTLS, and
// per business service an AuthorizationPolicy and NetworkPolicies (zero trust).
package mesh

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/components/validate"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Args configures the mesh. Its JSON form is a stack config value.
type Args struct {
	Enabled bool `json:"enabled"`
	// InstallWithHelm installs istio-base and istiod here; false when the
	// GitOps component's istio-system Application owns the install.
	InstallWithHelm  bool       `json:"installWithHelm"`
	Chart            kube.Chart `json:"chart"`
	MeshID           string     `json:"meshId"`
	Network          string     `json:"network"`
	PilotMinReplicas int        `json:"pilotMinReplicas"`
	PilotMaxReplicas int        `json:"pilotMaxReplicas"`
	// AllowedPrincipals may call the business services, besides the
	// principals the stack adds (the gateway's service account).
	AllowedPrincipals []string `json:"allowedPrincipals"`
	AllowedMethods    []string `json:"allowedMethods"`
	AllowedPaths      []string `json:"allowedPaths"`
	// IngressNamespaces may open connections to the services' port, besides
	// the namespaces the stack adds (the gateway's).
	IngressNamespaces []string `json:"ingressNamespaces"`
	// Egress are the only destinations services may connect to, besides DNS.
	Egress []Egress `json:"egress"`

	// Set by the stack, never from the JSON form:

	// Services are the business services the zero-trust policies protect.
	Services []services.Service `json:"-"`
	// Callers are further workloads the services admit, each on its own
	// paths (the GraphQL gateway on the subgraph path).
	Callers []Caller `json:"-"`
}

// Caller is a workload the services admit by its mesh identity.
type Caller struct {
	Principal string
	Methods   []string
	Paths     []string
}

// Namespace is where istiod and the mesh-wide policies live.
const Namespace = "istio-system"

// Principal is the mesh identity (SPIFFE path) of a service account.
func Principal(namespace, serviceAccount string) string {
	return "cluster.local/ns/" + namespace + "/sa/" + serviceAccount
}

// Egress is an allowed destination namespace and TCP port.
type Egress struct {
	Namespace string `json:"namespace"`
	Port      int    `json:"port"`
}

// DefaultArgs returns the architecture document's mesh (sections 2.1, 3.2).
func DefaultArgs() Args {
	return Args{
		Enabled: true,
		// istiod must serve its injection webhook before any pod of an
		// injected namespace is created (pods created earlier never get a
		// sidecar), so Pulumi installs it and waits for it; Argo CD
		// installing it would race the workloads.
		InstallWithHelm: true,
		// Istio 1.29 (2026); the seed's 1.20 is long out of support.
		Chart:            kube.Chart{Repository: "https://istio-release.storage.googleapis.com/charts", Name: "istiod", Version: "1.29.2"},
		MeshID:           "bac-mesh",
		Network:          "bac-network",
		PilotMinReplicas: 3,
		PilotMaxReplicas: 10,
		// The seed's second caller; the gateway's identity and namespace
		// are added by the stack from the gateway's settings.
		AllowedPrincipals: []string{Principal("ai-services", "mcp-orchestrator")},
		AllowedMethods:    []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
		AllowedPaths:      []string{"/v1/*"},
		IngressNamespaces: []string{"ai-services"},
		// The seed's three destinations, plus istiod: without xDS and
		// certificates from it, the sidecars of a STRICT mesh never start.
		Egress: []Egress{{"database", 5432}, {"cache", 6379}, {"event-streaming", 9092}, {Namespace, 15012}},
	}
}

// Validate returns every problem, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !a.Enabled {
		return ps
	}
	ps.Extend(a.Chart.Validate(path + ".chart"))
	if a.PilotMinReplicas < 1 || a.PilotMinReplicas > a.PilotMaxReplicas {
		ps.Add(path, "pilotMinReplicas %d must be between 1 and pilotMaxReplicas %d", a.PilotMinReplicas, a.PilotMaxReplicas)
	}
	if len(a.AllowedPrincipals) == 0 {
		ps.Add(path+".allowedPrincipals", "at least one principal is required (an empty ALLOW rule admits nobody)")
	}
	seen := map[string]int{}
	for i, pr := range a.AllowedPrincipals {
		p := fmt.Sprintf("%s.allowedPrincipals[%d]", path, i)
		validatePrincipal(&ps, p, pr)
		if first, dup := seen[pr]; dup {
			ps.Add(p, "%q is also allowedPrincipals[%d]", pr, first)
		}
		seen[pr] = i
	}
	for i, m := range a.AllowedMethods {
		if !slices.Contains(httpMethods, m) {
			ps.Add(fmt.Sprintf("%s.allowedMethods[%d]", path, i), "%q is not an HTTP method (%s)", m, strings.Join(httpMethods, ", "))
		}
	}
	for i, p := range a.AllowedPaths {
		if !strings.HasPrefix(p, "/") || p == "/*" {
			ps.Add(fmt.Sprintf("%s.allowedPaths[%d]", path, i), "%q must be a path starting with / that is narrower than every path (/*)", p)
		}
	}
	for i, e := range a.Egress {
		kube.ValidateNamespace(&ps, fmt.Sprintf("%s.egress[%d].namespace", path, i), e.Namespace)
		if e.Port < 1 || e.Port > 65535 {
			ps.Add(fmt.Sprintf("%s.egress[%d].port", path, i), "%d is not a port", e.Port)
		}
	}
	for i, n := range a.IngressNamespaces {
		kube.ValidateNamespace(&ps, fmt.Sprintf("%s.ingressNamespaces[%d]", path, i), n)
	}
	return ps
}

// httpMethods are the methods an AuthorizationPolicy may name.
var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// validatePrincipal checks a mesh principal as Istio matches it: exactly
// one service account, cluster.local/ns/<namespace>/sa/<account>. Istio
// reads "*" in a principal as a prefix or suffix wildcard (and "*" alone as
// any authenticated workload), so none is accepted.
func validatePrincipal(ps *validate.Problems, path, principal string) {
	if strings.Contains(principal, "*") {
		ps.Add(path, "%q is a wildcard; Istio then admits every matching workload; name one service account as %s", principal, Principal("<namespace>", "<account>"))
		return
	}
	rest, ok := strings.CutPrefix(principal, "cluster.local/ns/")
	namespace, account, found := strings.Cut(rest, "/sa/")
	if !ok || !found {
		ps.Add(path, "%q is not a principal like %s", principal, Principal("<namespace>", "<account>"))
		return
	}
	kube.ValidateName(ps, path, namespace)
	for _, msg := range validation.IsDNS1123Subdomain(account) {
		ps.Add(path, "service account %q: %s", account, msg)
	}
}

// Mesh is the Istio installation and the zero-trust policies.
type Mesh struct {
	pulumi.ResourceState
}

// NewMesh deploys the mesh for args.Services. The kubernetes provider comes
// from opts; the namespaces must exist.
func NewMesh(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Mesh, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	m := &Mesh{}
	if err := ctx.RegisterComponentResource("bac:mesh:Mesh", name, m, opts...); err != nil {
		return nil, err
	}
	parent := kube.ChildOf(m, opts)
	release := func(chart string, values map[string]any, deps []pulumi.Resource) (*helmv3.Release, error) {
		c := args.Chart
		c.Name = chart // base and istiod share the repository and version
		return kube.HelmRelease(ctx, name+"-"+chart, "istio-"+chart, Namespace, c, values, parent, pulumi.DependsOn(deps))
	}
	base, err := release("base", map[string]any{"defaultRevision": "default"}, nil)
	if err != nil {
		return nil, fmt.Errorf("istio base: %w", err)
	}
	installed := []pulumi.Resource{base}
	if args.InstallWithHelm {
		istiod, err := release("istiod", IstiodValues(args), []pulumi.Resource{base})
		if err != nil {
			return nil, fmt.Errorf("istiod: %w", err)
		}
		installed = append(installed, istiod)
	}
	afterIstio := pulumi.DependsOn(installed)

	if _, err := apiextensions.NewCustomResource(ctx, name+"-peer-authentication", &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String("security.istio.io/v1"),
		Kind:        pulumi.String("PeerAuthentication"),
		Metadata:    kube.Metadata("default", Namespace, nil),
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{"mtls": map[string]any{"mode": "STRICT"}}},
	}, parent, afterIstio); err != nil {
		return nil, fmt.Errorf("peer authentication: %w", err)
	}
	for _, svc := range args.Services {
		if err := servicePolicies(ctx, name, args, svc, parent, afterIstio); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(m, pulumi.Map{}); err != nil {
		return nil, err
	}
	return m, nil
}

// IstiodValues are the istiod chart values of the seed (also used by the
// GitOps istio-system Application when it owns the install). The istiod
// chart of 1.29 reads the autoscale settings at the top level
// (manifests/charts/istio-control/istio-discovery/values.yaml and
// templates/autoscale.yaml at 1.29.6); the seed's pilot.* form survives
// only as a legacy alias (templates/zzy_descope_legacy.yaml), so the
// canonical keys are used.
func IstiodValues(a Args) map[string]any {
	return map[string]any{
		"global":           map[string]any{"meshID": a.MeshID, "network": a.Network},
		"autoscaleEnabled": true,
		"autoscaleMin":     a.PilotMinReplicas,
		"autoscaleMax":     a.PilotMaxReplicas,
		// The discovery container's context is fixed by the chart
		// (non-root, no escalation, no capabilities, read-only root) but
		// for its seccomp profile, which it leaves unset (seccompProfile: {}
		// in istio-discovery values.yaml at 1.29.2).
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
}

// authorizationRules admit the allowed principals on the API paths with a
// tenant, and each caller on its own paths.
func authorizationRules(a Args) []any {
	rules := []any{map[string]any{
		"from": []any{map[string]any{"source": map[string]any{"principals": a.AllowedPrincipals}}},
		"to":   []any{map[string]any{"operation": map[string]any{"methods": a.AllowedMethods, "paths": a.AllowedPaths}}},
		"when": []any{map[string]any{"key": "request.headers[x-tenant-id]", "notValues": []any{""}}},
	}}
	for _, c := range a.Callers {
		rules = append(rules, map[string]any{
			"from": []any{map[string]any{"source": map[string]any{"principals": []any{c.Principal}}}},
			"to":   []any{map[string]any{"operation": map[string]any{"methods": c.Methods, "paths": c.Paths}}},
		})
	}
	return rules
}

// servicePolicies are one service's AuthorizationPolicy, its NetworkPolicy
// and the namespace's default-deny NetworkPolicy.
func servicePolicies(ctx *pulumi.Context, name string, a Args, svc services.Service, opts ...pulumi.ResourceOption) error {
	selector := map[string]any{"matchLabels": map[string]any{"app": svc.ServiceName}}
	if _, err := apiextensions.NewCustomResource(ctx, fmt.Sprintf("%s-%s-authz", name, svc.Name), &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("security.istio.io/v1"),
		Kind:       pulumi.String("AuthorizationPolicy"),
		Metadata:   kube.Metadata(svc.ServiceName+"-authz", svc.Namespace, nil),
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
			"selector": selector,
			"action":   "ALLOW",
			"rules":    authorizationRules(a),
		}},
	}, opts...); err != nil {
		return fmt.Errorf("%s authorization policy: %w", svc.Name, err)
	}

	nsSelector := func(ns string) networkingv1.NetworkPolicyPeerArgs {
		return networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: metav1.LabelSelectorArgs{
			MatchLabels: pulumi.StringMap{"name": pulumi.String(ns)}}}
	}
	tcp := func(port int) networkingv1.NetworkPolicyPortArray {
		return networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}}
	}
	var from networkingv1.NetworkPolicyPeerArray
	for _, ns := range a.IngressNamespaces {
		from = append(from, nsSelector(ns))
	}
	egress := networkingv1.NetworkPolicyEgressRuleArray{
		// DNS, which the seed's policy forgot: without it no name resolves.
		networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
				PodSelector:       metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"k8s-app": pulumi.String("kube-dns")}},
			}},
			Ports: networkingv1.NetworkPolicyPortArray{
				networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(53)},
				networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(53)},
			},
		},
	}
	for _, e := range a.Egress {
		egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{To: networkingv1.NetworkPolicyPeerArray{nsSelector(e.Namespace)}, Ports: tcp(e.Port)})
	}
	if _, err := networkingv1.NewNetworkPolicy(ctx, fmt.Sprintf("%s-%s-netpol", name, svc.Name), &networkingv1.NetworkPolicyArgs{
		Metadata: kube.Metadata(svc.ServiceName+"-netpol", svc.Namespace, nil),
		Spec: networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app": pulumi.String(svc.ServiceName)}},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
			Ingress:     networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{From: from, Ports: tcp(svc.Port)}},
			Egress:      egress,
		},
	}, opts...); err != nil {
		return fmt.Errorf("%s network policy: %w", svc.Name, err)
	}
	if _, err := networkingv1.NewNetworkPolicy(ctx, fmt.Sprintf("%s-%s-default-deny", name, svc.Name), &networkingv1.NetworkPolicyArgs{
		Metadata: kube.Metadata("default-deny-all", svc.Namespace, nil),
		Spec: networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
		},
	}, opts...); err != nil {
		return fmt.Errorf("%s default-deny policy: %w", svc.Name, err)
	}
	return nil
}
