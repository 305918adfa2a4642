package admission_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/admission"
	"github.com/bac-platform/infra/components/kube"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// The CEL of the policies runs here with cel-go v0.26.0, the version
// Kubernetes 1.35 builds its API server with (k8s.io/apiserver v0.35.4
// go.mod). The objects are untyped (DynType): the API server also
// type-checks the expressions against the Pod schema, which the real API
// server tests of test/kubecluster exercise.

// evaluate returns the messages of the validations of p that pod fails.
func evaluate(t *testing.T, p admission.Policy, pod map[string]any) []string {
	t.Helper()
	env, err := cel.NewEnv(cel.Variable("object", cel.DynType), cel.Variable("request", cel.DynType),
		cel.Variable("variables", cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		t.Fatal(err)
	}
	run := func(expr string, vars map[string]any) ref.Val {
		t.Helper()
		ast, iss := env.Compile(expr)
		if iss.Err() != nil {
			t.Fatalf("%s: compile %q: %v", p.Rule, expr, iss.Err())
		}
		prg, err := env.Program(ast)
		if err != nil {
			t.Fatalf("%s: program: %v", p.Rule, err)
		}
		// The request's namespace is the pod's, as the API server sets it.
		meta, _ := pod["metadata"].(map[string]any)
		request := map[string]any{"namespace": meta["namespace"]}
		out, _, err := prg.Eval(map[string]any{"object": pod, "request": request, "variables": vars})
		if err != nil {
			t.Fatalf("%s: eval %q: %v", p.Rule, expr, err)
		}
		return out
	}
	vars := map[string]any{}
	for _, v := range admission.Variables(agentIdentity) {
		vars[v.Name] = run(v.Expression, vars)
	}
	var failed []string
	for _, v := range p.Validations {
		if out := run(v.Expression, vars); out != types.True {
			if out != types.False {
				t.Fatalf("%s: %q returned %v, not a bool", p.Rule, v.Expression, out)
			}
			failed = append(failed, v.Message)
		}
	}
	return failed
}

// podJSON decodes a pod, with whole numbers as int64 as the API server
// presents integer fields to CEL.
func podJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return ints(v).(map[string]any)
}

func ints(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = ints(e)
		}
	case []any:
		for i, e := range t {
			t[i] = ints(e)
		}
	}
	return v
}

const (
	resources = `"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":"1","memory":"1Gi"}}`
	app       = `{"name":"app","image":"ghcr.io/bac-platform/crm:1.2.3","securityContext":{"runAsNonRoot":true,"allowPrivilegeEscalation":false},` + resources + `}`
	// What Istio's injector adds without Istio CNI (injection-template.yaml).
	istioInit = `{"name":"istio-init","image":"docker.io/istio/proxyv2:1.29.2","securityContext":{"allowPrivilegeEscalation":false,"privileged":false,` +
		`"capabilities":{"add":["NET_ADMIN","NET_RAW"],"drop":["ALL"]},"runAsUser":0,"runAsGroup":0,"runAsNonRoot":false},"resources":{}}`
	istioProxy = `{"name":"istio-proxy","image":"docker.io/istio/proxyv2:1.29.2","securityContext":{"allowPrivilegeEscalation":false,"privileged":false,` +
		`"runAsUser":1337,"runAsNonRoot":true},` + resources + `}`
)

// pod is a business pod in the mesh with the given parts replaced.
func pod(annotations, podSecurity, initContainers, containers string) string {
	return `{"metadata":{"name":"crm-1","namespace":"crm","annotations":` + annotations + `},"spec":{` + podSecurity +
		`"initContainers":[` + initContainers + `],"containers":[` + containers + `]}}`
}

// sized gives a container the requests and limits istio-init lacks.
func sized(container string) string {
	return strings.Replace(container, `"resources":{}`, resources, 1)
}

var good = pod(`{}`, ``, istioInit, app+","+istioProxy)

// TestPoliciesAgainstGoodAndBadPods: a compliant meshed pod passes every
// policy; each bad variant fails exactly the policy of the rule it breaks.
func TestPoliciesAgainstGoodAndBadPods(t *testing.T) {
	with := func(old, replacement string) string {
		return pod(`{}`, ``, istioInit, strings.Replace(app, old, replacement, 1)+","+istioProxy)
	}
	tests := []struct{ name, pod, rule, message string }{
		{"privileged", with(`"runAsNonRoot":true`, `"runAsNonRoot":true,"privileged":true`), "privilege-no-root-or-privileged", "is privileged"},
		{"escalation unset", with(`,"allowPrivilegeEscalation":false`, ``), "privilege-no-root-or-privileged", "allowPrivilegeEscalation"},
		{"escalation allowed", with(`"allowPrivilegeEscalation":false`, `"allowPrivilegeEscalation":true`), "privilege-no-root-or-privileged", "allowPrivilegeEscalation"},
		{"root user", with(`"runAsNonRoot":true`, `"runAsUser":0`), "privilege-no-root-or-privileged", "may run as root"},
		{"no non-root setting", with(`"runAsNonRoot":true,`, ``), "privilege-no-root-or-privileged", "may run as root"},
		{"container runAsNonRoot false over the pod's true", pod(`{}`, `"securityContext":{"runAsNonRoot":true},`, istioInit,
			strings.Replace(app, `"runAsNonRoot":true`, `"runAsNonRoot":false`, 1)), "privilege-no-root-or-privileged", "may run as root"},
		{"pod runs as root", pod(`{}`, `"securityContext":{"runAsUser":0},`, ``, strings.Replace(app, `"runAsNonRoot":true,`, ``, 1)),
			"privilege-no-root-or-privileged", "may run as root"},
		{"root init container", pod(`{}`, ``, strings.Replace(app, `"name":"app"`, `"name":"migrate"`, 1)+","+
			sized(strings.Replace(istioInit, `"name":"istio-init"`, `"name":"setup"`, 1)), app), "privilege-no-root-or-privileged", "may run as root"},
		{"an istio-init that is not Istio's", pod(`{}`, ``, sized(strings.Replace(istioInit, "docker.io/istio/proxyv2:1.29.2", "ghcr.io/x/tool:1.0.0", 1)), app),
			"privilege-no-root-or-privileged", "may run as root"},
		{"exception without a reason", pod(`{"compliance.bac-platform.io/privileged-exception":"  "}`, ``, ``,
			strings.Replace(app, `"runAsNonRoot":true`, `"runAsNonRoot":true,"privileged":true`, 1)), "privilege-no-root-or-privileged", "is privileged"},
		{"host network", pod(`{}`, `"hostNetwork":true,`, istioInit, app), "privilege-no-host-namespaces", "host's network"},
		{"host PID", pod(`{}`, `"hostPID":true,`, istioInit, app), "privilege-no-host-namespaces", "host's network, PID"},
		{"host IPC", pod(`{}`, `"hostIPC":true,`, istioInit, app), "privilege-no-host-namespaces", "IPC"},
		{"latest image", with("crm:1.2.3", "crm:latest"), "supply-chain-pinned-images", "not pinned"},
		{"branch tag", with("crm:1.2.3", "crm:main"), "supply-chain-pinned-images", "not pinned"},
		{"minor-only tag", with("crm:1.2.3", "crm:1.2"), "supply-chain-pinned-images", "not pinned"},
		{"no tag", with("crm:1.2.3", "crm"), "supply-chain-pinned-images", "not pinned"},
		{"no limits", with(`,"limits":{"cpu":"1","memory":"1Gi"}`, ``), "operability-requests-and-limits", "requests and limits"},
		{"no memory request", with(`"cpu":"100m","memory":"128Mi"`, `"cpu":"100m"`), "operability-requests-and-limits", "requests and limits"},
	}
	for _, p := range admission.Policies() {
		if failed := evaluate(t, p, podJSON(t, good)); len(failed) != 0 {
			t.Errorf("compliant pod fails %s: %v", p.Rule, failed)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := podJSON(t, tt.pod)
			for _, p := range admission.Policies() {
				failed := evaluate(t, p, obj)
				switch {
				case p.Rule == tt.rule && (len(failed) == 0 || !strings.Contains(strings.Join(failed, "; "), tt.message)):
					t.Errorf("%s admitted the pod (failed: %v), want %q", p.Rule, failed, tt.message)
				case p.Rule != tt.rule && len(failed) != 0:
					t.Errorf("%s also refused the pod: %v", p.Rule, failed)
				}
			}
		})
	}
}

// agentIdentity is the one identity the tests' policies let claim the
// exception, as the stack sets it (security.Args.Exceptions).
var agentIdentity = []kube.ServiceAccountRef{{Namespace: "security", Name: "wazuh-agent"}}

// TestTheDocumentedExceptionAdmitsTheAgent: the Wazuh agent, privileged in
// the host's namespaces with its reason, passes the privilege policies; the
// same pod as another identity does not.
func TestTheDocumentedExceptionAdmitsTheAgent(t *testing.T) {
	agentPod := func(namespace, serviceAccount string) map[string]any {
		sa := ""
		if serviceAccount != "" {
			sa = `"serviceAccountName":"` + serviceAccount + `",`
		}
		return podJSON(t, `{"metadata":{"name":"wazuh-agent-x","namespace":"`+namespace+`","annotations":{"compliance.bac-platform.io/privileged-exception":"host intrusion detection"}},`+
			`"spec":{`+sa+`"hostNetwork":true,"hostPID":true,"hostIPC":true,"containers":[{"name":"wazuh","image":"wazuh/wazuh-agent:4.12.0","securityContext":{"privileged":true},`+resources+`}]}}`)
	}
	for _, other := range []struct{ name, namespace, serviceAccount string }{
		{"another namespace", "crm", "wazuh-agent"},
		{"another account of the namespace", "security", "scanner"},
		{"the namespace's default account", "security", ""},
	} {
		refused := 0
		for _, p := range admission.Policies() {
			if len(evaluate(t, p, agentPod(other.namespace, other.serviceAccount))) > 0 {
				refused++
			}
		}
		if refused != 2 {
			t.Errorf("the annotated pod as %s must fail both privilege policies, failed %d", other.name, refused)
		}
	}
	agent := agentPod("security", "wazuh-agent")
	for _, p := range admission.Policies() {
		if failed := evaluate(t, p, agent); len(failed) != 0 {
			t.Errorf("%s refused the documented exception: %v", p.Rule, failed)
		}
	}
	delete(agent["metadata"].(map[string]any), "annotations")
	refused := 0
	for _, p := range admission.Policies() {
		if len(evaluate(t, p, agent)) > 0 {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("without its reason the agent must fail both privilege policies, failed %d", refused)
	}
}
