// Package admission enforces the compliance gate's workload rules inside
// the cluster, where the plan-time gate cannot look: pods that Helm charts
// render (Kong, Argo CD, istiod) and everything Argo CD syncs. Each rule is a
// Kubernetes ValidatingAdmissionPolicy (CEL, evaluated by the API server
// itself: nothing to install) with its binding, named after the Go pack's
// rule so a refusal reads the same in both places.
package admission

import (
	"fmt"
	"slices"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/validate"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Binding actions (ValidatingAdmissionPolicyBinding validationActions).
const (
	Deny  = "Deny"
	Warn  = "Warn"
	Audit = "Audit"
)

// RuleLabel names the gate rule an admission object mirrors.
const RuleLabel = "compliance.bac-platform.io/rule"

// Args configure the admission policies (bac:admission).
type Args struct {
	Enabled bool `json:"enabled"`
	// Actions are what a violation does: [Deny] refuses the pod; [Warn,
	// Audit] admits it with a warning to the client and an audit
	// annotation.
	Actions []string `json:"actions"`
	// ExemptNamespaces are never checked: the control plane's own
	// (kube-system runs the CNI and CSI drivers, which need the host).
	ExemptNamespaces []string `json:"exemptNamespaces"`

	// Production is set by the stack: production must deny.
	Production bool `json:"-"`
	// Exceptions are the only identities (namespace and service account)
	// whose pods may claim the privileged exception; set by the stack from
	// the components that need it (the Wazuh agent). An annotated pod that
	// runs as any other identity is judged like any pod.
	Exceptions []kube.ServiceAccountRef `json:"-"`
}

// SystemNamespaces are the control plane's namespaces, exempt by default.
var SystemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// DefaultArgs deny in production and warn and audit elsewhere, so a staging
// workload that breaks a rule is seen before it reaches production.
func DefaultArgs(production bool) Args {
	actions := []string{Warn, Audit}
	if production {
		actions = []string{Deny}
	}
	return Args{Enabled: true, Actions: actions, ExemptNamespaces: slices.Clone(SystemNamespaces), Production: production}
}

// Validate returns every problem, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if a.Production && !a.Enabled {
		ps.Add(path+".enabled", "cannot be false in production: the admission policies enforce the gate's workload rules in the cluster")
	}
	if !a.Enabled {
		return ps
	}
	if len(a.Actions) == 0 {
		ps.Add(path+".actions", "is empty: list Deny, or Warn and Audit")
	}
	for i, act := range a.Actions {
		if act != Deny && act != Warn && act != Audit {
			ps.Add(fmt.Sprintf("%s.actions[%d]", path, i), "%q is not Deny, Warn or Audit", act)
		}
	}
	// The API server refuses a binding that both denies and warns
	// (k8s.io/kubernetes pkg/apis/admissionregistration/validation, v1.35.4).
	if slices.Contains(a.Actions, Deny) && slices.Contains(a.Actions, Warn) {
		ps.Add(path+".actions", "cannot hold both Deny and Warn")
	}
	if a.Production && !slices.Contains(a.Actions, Deny) {
		ps.Add(path+".actions", "%v does not deny: production refuses non-compliant pods", a.Actions)
	}
	for i, ns := range a.ExemptNamespaces {
		kube.ValidateName(&ps, fmt.Sprintf("%s.exemptNamespaces[%d]", path, i), ns)
	}
	// The list replaces the default, so a production list without the
	// control plane's namespaces would refuse its pods (the CNI and CSI
	// drivers need the host).
	if a.Production {
		for _, ns := range SystemNamespaces {
			if !slices.Contains(a.ExemptNamespaces, ns) {
				ps.Add(path+".exemptNamespaces", "%v lacks %s: the list replaces the default, and in production the control plane's pods there would be refused; list %v and nothing else the platform runs",
					a.ExemptNamespaces, ns, SystemNamespaces)
			}
		}
	}
	return ps
}

// Admission is the admission policies and their bindings.
type Admission struct {
	pulumi.ResourceState
}

// NewAdmission creates a ValidatingAdmissionPolicy and a binding per
// mirrored rule. The kubernetes provider comes from opts.
//
// The objects are written as untyped resources from Policy.Spec, the same
// data the tests evaluate with cel-go, so what is tested is what is applied.
func NewAdmission(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Admission, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	a := &Admission{}
	if err := ctx.RegisterComponentResource("bac:admission:Admission", name, a, opts...); err != nil {
		return nil, err
	}
	parent := kube.ChildOf(a, opts)
	for _, p := range Policies() {
		meta := metav1.ObjectMetaArgs{Name: pulumi.String(p.Rule), Labels: pulumi.StringMap{RuleLabel: pulumi.String(p.Rule)}}
		policy, err := apiextensions.NewCustomResource(ctx, name+"-"+p.Rule, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String("admissionregistration.k8s.io/v1"),
			Kind:        pulumi.String("ValidatingAdmissionPolicy"),
			Metadata:    meta,
			OtherFields: kubernetes.UntypedArgs{"spec": p.Spec(args.Exceptions)},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("admission policy %s: %w", p.Rule, err)
		}
		if _, err := apiextensions.NewCustomResource(ctx, name+"-"+p.Rule+"-binding", &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String("admissionregistration.k8s.io/v1"),
			Kind:        pulumi.String("ValidatingAdmissionPolicyBinding"),
			Metadata:    meta,
			OtherFields: kubernetes.UntypedArgs{"spec": p.BindingSpec(args.Actions, args.ExemptNamespaces)},
		}, parent, pulumi.DependsOn([]pulumi.Resource{policy})); err != nil {
			return nil, fmt.Errorf("admission binding %s: %w", p.Rule, err)
		}
	}
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{}); err != nil {
		return nil, err
	}
	return a, nil
}
