package mesh_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/mesh"
	"github.com/bac-platform/infra/components/services"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func deploy(t *testing.T, args mesh.Args) *mockengine.Mocks {
	t.Helper()
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		args.Services = services.Default()
		_, err := mesh.NewMesh(ctx, "mesh", args)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIstioInstallAndStrictMTLS(t *testing.T) {
	args := mesh.DefaultArgs()
	args.InstallWithHelm = true
	m := deploy(t, args)
	istiod, ok := m.Find("kubernetes:helm.sh/v3:Release", "mesh-istiod")
	if !ok {
		t.Fatal("no istiod release")
	}
	for path, want := range map[string]any{
		"chart": "istiod", "version": "1.29.2", "namespace": "istio-system",
		"values.global.meshID": "bac-mesh", "values.global.network": "bac-network",
		// Top-level keys: istio-discovery values.yaml and templates/autoscale.yaml at 1.29.6.
		"values.autoscaleEnabled": true, "values.autoscaleMin": 3.0, "values.autoscaleMax": 10.0, "values.pilot": nil,
	} {
		if got := istiod.Input(path); !reflect.DeepEqual(got, want) {
			t.Errorf("istiod %s = %#v, want %#v", path, got, want)
		}
	}
	base, _ := m.Find("kubernetes:helm.sh/v3:Release", "mesh-base")
	if !slices.Contains(istiod.DependsOn, base.URN) {
		t.Error("istiod must install after istio-base (CRDs)")
	}
	pa, ok := m.Find("kubernetes:security.istio.io/v1:PeerAuthentication", "mesh-peer-authentication")
	if !ok || pa.Input("metadata.namespace") != "istio-system" || pa.Input("metadata.name") != "default" || pa.Input("spec.mtls.mode") != "STRICT" {
		t.Fatalf("peer authentication = %v", pa.Inputs)
	}
}

func TestGitOpsOwnedIstiodKeepsBase(t *testing.T) {
	args := mesh.DefaultArgs()
	args.InstallWithHelm = false // GitOps owns istiod (outside production only)
	m := deploy(t, args)
	releases := m.ByType("kubernetes:helm.sh/v3:Release")
	if len(releases) != 1 || releases[0].Input("chart") != "base" {
		t.Fatalf("releases = %v, want only istio-base when GitOps owns istiod", releases)
	}
	if len(m.ByType("kubernetes:security.istio.io/v1:PeerAuthentication")) != 1 {
		t.Fatal("mTLS policy must still be applied")
	}
}

func TestEveryServiceIsZeroTrust(t *testing.T) {
	// The stack adds the gateway's identity and namespace (stacks/wiring.go);
	// here they are set as the stack would.
	args := mesh.DefaultArgs()
	args.AllowedPrincipals = append([]string{mesh.Principal("api-gateway", "kong")}, args.AllowedPrincipals...)
	args.IngressNamespaces = append([]string{"api-gateway"}, args.IngressNamespaces...)
	m := deploy(t, args)
	for _, svc := range services.Default() {
		authz, ok := m.Find("kubernetes:security.istio.io/v1:AuthorizationPolicy", "mesh-"+svc.Name+"-authz")
		if !ok {
			t.Fatalf("no authorization policy for %s", svc.Name)
		}
		for path, want := range map[string]any{
			"metadata.namespace":                      svc.Namespace,
			"spec.selector.matchLabels.app":           svc.ServiceName,
			"spec.action":                             "ALLOW",
			"spec.rules[0].from[0].source.principals": []any{"cluster.local/ns/api-gateway/sa/kong", "cluster.local/ns/ai-services/sa/mcp-orchestrator"},
			"spec.rules[0].to[0].operation.methods":   []any{"GET", "POST", "PUT", "PATCH", "DELETE"},
			"spec.rules[0].to[0].operation.paths":     []any{"/v1/*"},
			"spec.rules[0].when[0].key":               "request.headers[x-tenant-id]",
			"spec.rules[0].when[0].notValues":         []any{""},
		} {
			if got := authz.Input(path); !reflect.DeepEqual(got, want) {
				t.Errorf("%s authz %s = %#v, want %#v", svc.Name, path, got, want)
			}
		}
		np, _ := m.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mesh-"+svc.Name+"-netpol")
		for path, want := range map[string]any{
			"spec.podSelector.matchLabels.app":                           svc.ServiceName,
			"spec.policyTypes":                                           []any{"Ingress", "Egress"},
			"spec.ingress[0].from[0].namespaceSelector.matchLabels.name": "api-gateway",
			"spec.ingress[0].from[1].namespaceSelector.matchLabels.name": "ai-services",
			"spec.ingress[0].ports[0].port":                              8080.0,
			"spec.egress[0].ports[0]":                                    map[string]any{"protocol": "UDP", "port": 53.0},
			"spec.egress[0].ports[1]":                                    map[string]any{"protocol": "TCP", "port": 53.0},
			"spec.egress[1].to[0].namespaceSelector.matchLabels.name":    "database",
			"spec.egress[1].ports[0].port":                               5432.0,
			"spec.egress[2].to[0].namespaceSelector.matchLabels.name":    "cache",
			"spec.egress[2].ports[0].port":                               6379.0,
			"spec.egress[3].to[0].namespaceSelector.matchLabels.name":    "event-streaming",
			"spec.egress[3].ports[0].port":                               9092.0,
		} {
			if got := np.Input(path); !reflect.DeepEqual(got, want) {
				t.Errorf("%s netpol %s = %#v, want %#v", svc.Name, path, got, want)
			}
		}
		deny, _ := m.Find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mesh-"+svc.Name+"-default-deny")
		if deny.Input("metadata.namespace") != svc.Namespace || !reflect.DeepEqual(deny.Input("spec.policyTypes"), []any{"Ingress", "Egress"}) ||
			deny.Input("spec.ingress") != nil || deny.Input("spec.egress") != nil {
			t.Errorf("%s default deny = %v", svc.Name, mockengine.PlainMap(deny.Inputs))
		}
	}
}

func TestValidatePrincipalsMethodsAndPaths(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *mesh.Args)
		want   string
	}{
		{"any workload", func(a *mesh.Args) { a.AllowedPrincipals = []string{"*"} }, `bac:mesh.allowedPrincipals[0]: "*" is a wildcard`},
		{"every account of a namespace", func(a *mesh.Args) { a.AllowedPrincipals = []string{"cluster.local/ns/ai-services/sa/*"} },
			`bac:mesh.allowedPrincipals[0]: "cluster.local/ns/ai-services/sa/*" is a wildcard`},
		{"prefix wildcard", func(a *mesh.Args) { a.AllowedPrincipals = []string{"*/sa/mcp-orchestrator"} },
			`bac:mesh.allowedPrincipals[0]: "*/sa/mcp-orchestrator" is a wildcard`},
		{"not a principal", func(a *mesh.Args) { a.AllowedPrincipals = []string{"mcp-orchestrator"} },
			`bac:mesh.allowedPrincipals[0]: "mcp-orchestrator" is not a principal like cluster.local/ns/<namespace>/sa/<account>`},
		{"bad namespace", func(a *mesh.Args) { a.AllowedPrincipals = []string{"cluster.local/ns/AI/sa/x"} },
			`bac:mesh.allowedPrincipals[0]: "AI" is not a Kubernetes name`},
		{"listed twice", func(a *mesh.Args) { a.AllowedPrincipals = append(a.AllowedPrincipals, a.AllowedPrincipals[0]) },
			`bac:mesh.allowedPrincipals[1]: "cluster.local/ns/ai-services/sa/mcp-orchestrator" is also allowedPrincipals[0]`},
		{"unknown method", func(a *mesh.Args) { a.AllowedMethods = []string{"GET", "*"} }, `bac:mesh.allowedMethods[1]: "*" is not an HTTP method`},
		{"every path", func(a *mesh.Args) { a.AllowedPaths = []string{"/*"} }, `bac:mesh.allowedPaths[0]: "/*" must be a path starting with / that is narrower`},
		{"egress to kube-system", func(a *mesh.Args) { a.Egress = append(a.Egress, mesh.Egress{Namespace: "kube-system", Port: 443}) },
			`bac:mesh.egress[4].namespace: "kube-system" is reserved for Kubernetes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mesh.DefaultArgs()
			tt.mutate(&a)
			ps := a.Validate("bac:mesh")
			if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want) {
				t.Fatalf("problems = %v, want one starting %q", ps, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	a := mesh.DefaultArgs()
	a.PilotMinReplicas, a.PilotMaxReplicas = 5, 2
	a.AllowedPrincipals = nil
	a.Chart.Version = "latest"
	ps := a.Validate("bac:mesh")
	want := []string{
		`bac:mesh.chart.version: "latest" is not an exact chart version like 1.2.3`,
		"bac:mesh: pilotMinReplicas 5 must be between 1 and pilotMaxReplicas 2",
		"bac:mesh.allowedPrincipals: at least one principal is required",
	}
	if len(ps) != len(want) {
		t.Fatalf("got %v", ps)
	}
	for i, w := range want {
		if !strings.HasPrefix(ps[i].String(), w) {
			t.Errorf("problem %d = %q, want %q", i, ps[i], w)
		}
	}
}
