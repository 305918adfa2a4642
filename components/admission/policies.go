package admission

import (
	"fmt"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/policies/rules"
)

// Validation is one CEL check of a policy and the message a refused object
// gets, which starts with the gate rule's name.
type Validation struct {
	Expression string
	Message    string
}

// Policy is one gate rule mirrored at admission: a ValidatingAdmissionPolicy
// over pods named after the rule.
type Policy struct {
	// Rule is the Go policy pack's rule this policy mirrors.
	Rule        string
	Validations []Validation
	// BusinessOnly limits the policy to business-service namespaces (the
	// namespaces labelled bac-platform.io/tier=service).
	BusinessOnly bool
}

// Variable is a CEL variable of a policy (spec.variables), read by the
// validations as variables.<Name>.
type Variable struct {
	Name       string
	Expression string
}

// Variables are the CEL variables every policy reads: every container of
// the pod, init containers included, and whether the pod may claim the
// documented privileged exception: it carries the annotation with a reason
// and runs as one of the exception identities (request.namespace and the
// pod's service account, which the ServiceAccount admission plugin has
// defaulted to "default" before validation). Without identities no pod
// is exempt.
func Variables(exceptions []kube.ServiceAccountRef) []Variable {
	identity := "false"
	if len(exceptions) > 0 {
		pairs := make([]string, len(exceptions))
		for i, e := range exceptions {
			pairs[i] = "['" + e.Namespace + "', '" + e.Name + "']"
		}
		identity = "[" + strings.Join(pairs, ", ") + "].exists(e, e[0] == request.namespace && " +
			"e[1] == (has(object.spec.serviceAccountName) ? object.spec.serviceAccountName : 'default'))"
	}
	return []Variable{
		{Name: "containers", Expression: "object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])"},
		{Name: "exempt", Expression: "has(object.metadata.annotations) && '" + rules.PrivilegedExceptionAnnotation + "' in object.metadata.annotations && " +
			"object.metadata.annotations['" + rules.PrivilegedExceptionAnnotation + "'].matches('\\\\S') && " + identity},
	}
}

// istioInit is the init container Istio injects without Istio CNI: it runs
// as root with NET_ADMIN and NET_RAW to write the pod's iptables rules
// (istio manifests/charts/istio-control/istio-discovery/files/
// injection-template.yaml: runAsUser 0, runAsNonRoot false, privileged and
// allowPrivilegeEscalation from global.proxy.privileged, false by default).
// It is the one container exempt from the non-root check, and its
// resources are the mesh's (global.proxy_init.resources), not the
// workload's.
const istioInit = "(c.name == 'istio-init' && c.image.contains('/proxyv2:'))"

// Policies are the gate rules mirrored at admission, by rule name. Pods are
// what every controller (Deployments, Helm charts' workloads, whatever Argo
// CD syncs) finally creates, so the policies match pods.
func Policies() []Policy {
	return []Policy{
		{Rule: "privilege-no-root-or-privileged", Validations: []Validation{
			{"variables.exempt || variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged == false)",
				"a container is privileged"},
			{"variables.exempt || variables.containers.all(c, has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && c.securityContext.allowPrivilegeEscalation == false)",
				"a container does not set allowPrivilegeEscalation: false (unset means allowed)"},
			// A container's user overrides the pod's; a user id decides, then runAsNonRoot.
			{"variables.exempt || variables.containers.all(c, " + istioInit + " || (" +
				"has(c.securityContext) && has(c.securityContext.runAsUser) ? c.securityContext.runAsUser > 0 : " +
				"has(object.spec.securityContext) && has(object.spec.securityContext.runAsUser) ? object.spec.securityContext.runAsUser > 0 : " +
				"has(c.securityContext) && has(c.securityContext.runAsNonRoot) ? c.securityContext.runAsNonRoot == true : " +
				"has(object.spec.securityContext) && has(object.spec.securityContext.runAsNonRoot) && object.spec.securityContext.runAsNonRoot == true))",
				"a container may run as root: set runAsNonRoot: true or runAsUser > 0"},
		}},
		{Rule: "privilege-no-host-namespaces", Validations: []Validation{
			{"variables.exempt || !((has(object.spec.hostNetwork) && object.spec.hostNetwork) || (has(object.spec.hostPID) && object.spec.hostPID) || " +
				"(has(object.spec.hostIPC) && object.spec.hostIPC))",
				"the pod shares the host's network, PID or IPC namespace"},
		}},
		{Rule: "supply-chain-pinned-images", Validations: []Validation{
			// The same release-tag pattern as the Go rule (policies/rules supplychain.go).
			{"variables.containers.all(c, c.image.matches('@sha256:[0-9a-f]{64}$') || c.image.matches(':v?[0-9]+[.][0-9]+[.][0-9]+([-._][0-9A-Za-z._-]+)?$'))",
				"an image is not pinned to a release version tag or a digest"},
		}},
		{Rule: "operability-requests-and-limits", BusinessOnly: true, Validations: []Validation{
			{"variables.containers.all(c, " + istioInit + " || (has(c.resources) && has(c.resources.requests) && has(c.resources.limits) && " +
				"['cpu', 'memory'].all(q, q in c.resources.requests && q in c.resources.limits)))",
				"a container does not set cpu and memory requests and limits"},
		}},
	}
}

// message is what a refused pod reads: the rule, the problem and the
// controls, as the plan-time gate reports them.
func (p Policy) message(v Validation) string {
	for _, r := range rules.All() {
		if r.Name == p.Rule {
			return fmt.Sprintf("%s: %s (controls: %s)", p.Rule, v.Message, r.Controls)
		}
	}
	return p.Rule + ": " + v.Message
}

// Spec is the ValidatingAdmissionPolicy spec of p, with the identities
// that may claim the privileged exception.
func (p Policy) Spec(exceptions []kube.ServiceAccountRef) map[string]any {
	vars := Variables(exceptions)
	variables := make([]any, len(vars))
	for i, v := range vars {
		variables[i] = map[string]any{"name": v.Name, "expression": v.Expression}
	}
	validations := make([]any, len(p.Validations))
	for i, v := range p.Validations {
		validations[i] = map[string]any{"expression": v.Expression, "message": p.message(v), "reason": "Forbidden"}
	}
	return map[string]any{
		"failurePolicy": "Fail",
		"matchConstraints": map[string]any{"resourceRules": []any{map[string]any{
			"apiGroups": []any{""}, "apiVersions": []any{"v1"}, "operations": []any{"CREATE", "UPDATE"}, "resources": []any{"pods"},
		}}},
		"variables":   variables,
		"validations": validations,
	}
}

// BindingSpec is the ValidatingAdmissionPolicyBinding spec binding p with
// the given actions, outside the exempt namespaces.
func (p Policy) BindingSpec(actions, exempt []string) map[string]any {
	expressions := []any{map[string]any{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": toAny(exempt)}}
	if p.BusinessOnly {
		expressions = append(expressions, map[string]any{"key": rules.ServiceTierLabel, "operator": "In", "values": []any{"service"}})
	}
	return map[string]any{
		"policyName":        p.Rule,
		"validationActions": toAny(actions),
		"matchResources":    map[string]any{"namespaceSelector": map[string]any{"matchExpressions": expressions}},
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
