package admission_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/admission"
	"github.com/bac-platform/infra/policies/rules"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	vapType     = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
	bindingType = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
)

func deploy(t *testing.T, args admission.Args) *mockengine.Mocks {
	t.Helper()
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		_, err := admission.NewAdmission(ctx, "admission", args)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEveryPolicyMirrorsAGateRuleAndIsBound: one policy and one binding per
// mirrored rule, named after a rule of the Go pack, messages carrying the
// rule's controls; production denies, staging warns and audits.
func TestEveryPolicyMirrorsAGateRuleAndIsBound(t *testing.T) {
	known := map[string]*rules.Rule{}
	for _, r := range rules.All() {
		known[r.Name] = r
	}
	for _, env := range []struct {
		production bool
		actions    []any
	}{{true, []any{"Deny"}}, {false, []any{"Warn", "Audit"}}} {
		m := deploy(t, admission.DefaultArgs(env.production))
		policies, bindings := m.ByType(vapType), m.ByType(bindingType)
		if len(policies) != len(admission.Policies()) || len(bindings) != len(policies) {
			t.Fatalf("%d policies, %d bindings", len(policies), len(bindings))
		}
		for _, p := range policies {
			name, _ := p.Input("metadata.name").(string)
			rule := known[name]
			if rule == nil {
				t.Errorf("policy %s mirrors no gate rule", name)
				continue
			}
			if p.Input("spec.failurePolicy") != "Fail" || p.Input("spec.matchConstraints.resourceRules[0].resources[0]") != "pods" {
				t.Errorf("policy %s: %v", name, mockengine.PlainMap(p.Inputs))
			}
			msg, _ := p.Input("spec.validations[0].message").(string)
			if !strings.HasPrefix(msg, name+": ") || !strings.Contains(msg, rule.Controls.String()) {
				t.Errorf("policy %s message %q lacks the rule's name or controls", name, msg)
			}
		}
		for _, b := range bindings {
			name := b.Input("metadata.name")
			if b.Input("spec.policyName") != name || !reflect.DeepEqual(b.Input("spec.validationActions"), env.actions) {
				t.Errorf("production %v: binding %v: %v", env.production, name, mockengine.PlainMap(b.Inputs))
			}
			exempt := b.Input("spec.matchResources.namespaceSelector.matchExpressions[0]")
			if !reflect.DeepEqual(exempt, map[string]any{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
				"values": []any{"kube-system", "kube-public", "kube-node-lease"}}) {
				t.Errorf("binding %v exempts %v", name, exempt)
			}
			business := b.Input("spec.matchResources.namespaceSelector.matchExpressions[1].key")
			if (name == "operability-requests-and-limits") != (business == rules.ServiceTierLabel) {
				t.Errorf("binding %v business-namespace selector %v", name, business)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	prod, staging := admission.DefaultArgs(true), admission.DefaultArgs(false)
	tests := []struct {
		name   string
		change func(a *admission.Args)
		base   admission.Args
		want   string
	}{
		{"production turned off", func(a *admission.Args) { a.Enabled = false }, prod, "a.enabled: cannot be false in production"},
		{"production only warns", func(a *admission.Args) { a.Actions = []string{"Warn", "Audit"} }, prod, "a.actions: [Warn Audit] does not deny"},
		{"unknown action", func(a *admission.Args) { a.Actions = []string{"Block"} }, staging, `a.actions[0]: "Block" is not Deny, Warn or Audit`},
		{"deny and warn", func(a *admission.Args) { a.Actions = []string{"Deny", "Warn"} }, staging, "a.actions: cannot hold both Deny and Warn"},
		{"no action", func(a *admission.Args) { a.Actions = nil }, staging, "a.actions: is empty"},
		{"bad namespace", func(a *admission.Args) { a.ExemptNamespaces = []string{"Kube_System"} }, staging, `a.exemptNamespaces[0]: "Kube_System" is not a Kubernetes name`},
		// The list replaces the default: production must keep the control plane's.
		{"production list without kube-system", func(a *admission.Args) { a.ExemptNamespaces = []string{"kube-public", "kube-node-lease"} }, prod,
			"a.exemptNamespaces: [kube-public kube-node-lease] lacks kube-system"},
		{"staging may narrow the list", func(a *admission.Args) { a.ExemptNamespaces = []string{"kube-system"}; a.Actions = nil }, staging, "a.actions: is empty"},
	}
	for _, a := range []admission.Args{prod, staging} {
		if ps := a.Validate("a"); len(ps) != 0 {
			t.Fatalf("defaults: %v", ps)
		}
	}
	off := admission.DefaultArgs(false)
	off.Enabled = false
	if ps := off.Validate("a"); len(ps) != 0 {
		t.Fatalf("staging may turn admission off: %v", ps)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.base
			a.Actions = append([]string(nil), a.Actions...)
			tt.change(&a)
			if ps := a.Validate("a"); len(ps) != 1 || !strings.Contains(ps.Error(), tt.want) {
				t.Fatalf("problems %v, want one containing %q", ps, tt.want)
			}
		})
	}
}
