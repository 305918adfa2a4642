package rules

import (
	"encoding/json"
	"strings"
	"testing"
)

// release is a Helm release of chart at version with the given values.
func release(chart, version, values string) string {
	return `{"chart":"` + chart + `","version":"` + version + `","name":"` + chart + `","values":` + values + `}`
}

const (
	seccompPod = `{"seccompProfile":{"type":"RuntimeDefault"}}`
	restrictRO = `{"runAsNonRoot":true,"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}}`
	veleroGood = `{"podSecurityContext":{"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}},"upgradeCRDs":false,` +
		`"containerSecurityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}},` +
		`"initContainers":[{"name":"velero-plugin-for-aws","securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}]}`
	autoscalerGood = `{"securityContext":{"runAsNonRoot":true,"runAsUser":65534,"seccompProfile":{"type":"RuntimeDefault"}},` +
		`"containerSecurityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}`
)

// TestChartSecurityContexts: per chart the project installs, the values
// it sets (or the chart's defaults at the pinned version) pass, and a
// weakened value is refused. Every "bad" row passed the gate before, which
// read Kong's containerSecurityContext only.
func TestChartSecurityContexts(t *testing.T) {
	tests := []struct {
		name, props string
		want        string // "" = compliant
	}{
		{"kong: the chart's defaults", release("kong", "3.2.0", `{}`), ""},
		{"kong: context switched off", release("kong", "3.2.0", `{"containerSecurityContext":{"enabled":false}}`),
			"pod kong, values containerSecurityContext does not set allowPrivilegeEscalation: false"},
		{"kong: pod runs as root", release("kong", "3.2.0", `{"containerSecurityContext":{"runAsUser":null,"runAsNonRoot":null},"securityContext":{"runAsUser":0}}`),
			"containerSecurityContext runs as root (runAsUser 0)"},
		{"kong: another version needs explicit values", release("kong", "3.3.0", `{}`), "the gate knows the chart's defaults at 3.2.0 only"},

		{"argo-cd: the chart's defaults", release("argo-cd", "8.5.0", `{"redis-ha":{"enabled":true}}`), ""},
		{"argo-cd: writable server root", release("argo-cd", "8.5.0", `{"server":{"containerSecurityContext":{"readOnlyRootFilesystem":false}}}`),
			"pod server, values server.containerSecurityContext does not set readOnlyRootFilesystem: true"},
		{"argo-cd: pods as root", release("argo-cd", "8.5.0", `{"global":{"securityContext":{"runAsUser":0}},"controller":{"containerSecurityContext":{"runAsNonRoot":null}}}`),
			"pod controller, values controller.containerSecurityContext runs as root (runAsUser 0)"},
		{"argo-cd: HA proxy keeps capabilities", release("argo-cd", "8.5.0", `{"redis-ha":{"enabled":true,"haproxy":{"containerSecurityContext":{"capabilities":null}}}}`),
			"pod redis-ha.haproxy, values redis-ha.haproxy.containerSecurityContext does not drop ALL capabilities"},
		{"argo-cd: dex escalates", release("argo-cd", "8.5.0", `{"dex":{"containerSecurityContext":{"allowPrivilegeEscalation":true}}}`),
			"pod dex, values dex.containerSecurityContext does not set allowPrivilegeEscalation: false"},

		{"istiod: the platform's values", release("istiod", "1.29.2", `{"seccompProfile":{"type":"RuntimeDefault"}}`), ""},
		{"istiod: no seccomp profile", release("istiod", "1.29.2", `{"autoscaleMin":3}`), `pod istiod, values discovery (template) has seccomp profile ""`},
		{"istiod: privileged sidecars", release("istiod", "1.29.2", `{"seccompProfile":{"type":"RuntimeDefault"},"global":{"proxy":{"privileged":true}}}`),
			"values global.proxy.privileged is true: every injected sidecar runs privileged"},
		{"istio base: no pods", release("base", "1.29.2", `{"defaultRevision":"default"}`), ""},

		{"cluster-autoscaler: the platform's values", release("cluster-autoscaler", "9.59.0", autoscalerGood), ""},
		{"cluster-autoscaler: capabilities kept", release("cluster-autoscaler", "9.59.0", strings.Replace(autoscalerGood, `"capabilities":{"drop":["ALL"]}`, `"capabilities":{}`, 1)),
			"values containerSecurityContext does not drop ALL capabilities"},
		{"metrics-server: the chart's defaults", release("metrics-server", "3.13.1", `{"replicas":2}`), ""},
		{"metrics-server: escalation", release("metrics-server", "3.13.1", `{"securityContext":{"allowPrivilegeEscalation":true}}`),
			"values securityContext does not set allowPrivilegeEscalation: false"},
		{"aws-load-balancer-controller: the platform's values", release("aws-load-balancer-controller", "1.17.1", `{"securityContext":`+restrictRO+`}`), ""},
		{"aws-load-balancer-controller: the chart's defaults", release("aws-load-balancer-controller", "1.17.1", `{}`),
			"values securityContext does not drop ALL capabilities"},
		{"cert-manager: the chart's defaults", release("cert-manager", "v1.20.3", `{"replicaCount":2}`), ""},
		{"cert-manager: writable webhook root", release("cert-manager", "v1.20.3", `{"webhook":{"containerSecurityContext":{"readOnlyRootFilesystem":false}}}`),
			"pod webhook, values webhook.containerSecurityContext does not set readOnlyRootFilesystem: true"},
		{"cert-manager: cainjector without seccomp", release("cert-manager", "v1.20.3", `{"cainjector":{"securityContext":{"seccompProfile":null}}}`),
			`pod cainjector, values cainjector.containerSecurityContext has seccomp profile ""`},
		{"external-dns: the chart's defaults", release("external-dns", "1.21.1", `{"policy":"sync"}`), ""},
		{"external-dns: privileged", release("external-dns", "1.21.1", `{"securityContext":{"privileged":true}}`), "values securityContext is privileged"},
		{"velero: the platform's values", release("velero", "11.4.0", veleroGood), ""},
		{"velero: init container without a context", release("velero", "11.4.0", strings.Replace(veleroGood, `"name":"velero-plugin-for-aws","securityContext"`, `"name":"velero-plugin-for-aws","x"`, 1)),
			"values initContainers[0] (velero-plugin-for-aws).securityContext does not set allowPrivilegeEscalation: false"},
		{"velero: node agent as root", release("velero", "11.4.0", strings.Replace(veleroGood, `"upgradeCRDs":false`, `"upgradeCRDs":false,"deployNodeAgent":true`, 1)),
			"pod node-agent, values nodeAgent.containerSecurityContext runs as root (runAsUser 0)"},
		{"velero: the CRD upgrade job left on", release("velero", "11.4.0", strings.Replace(veleroGood, `"upgradeCRDs":false`, `"upgradeCRDs":null`, 1)),
			"pod upgrade-crds job, values kubectl.containerSecurityContext does not set allowPrivilegeEscalation: false"},
		{"nvidia-device-plugin: the platform's values (root, documented)", release("nvidia-device-plugin", "0.19.3", `{"podSecurityContext":`+seccompPod+`}`), ""},
		{"nvidia-device-plugin: CPU manager compatibility", release("nvidia-device-plugin", "0.19.3", `{"podSecurityContext":`+seccompPod+`,"compatWithCPUManager":true}`),
			"pod device-plugin, values securityContext (both containers) is privileged"},
		{"nvidia-device-plugin: the chart's pod context", release("nvidia-device-plugin", "0.19.3", `{}`), `has seccomp profile ""`},
		{"nvidia-device-plugin: feature discovery", release("nvidia-device-plugin", "0.19.3", `{"podSecurityContext":`+seccompPod+`,"gfd":{"enabled":true}}`),
			"pod gpu-feature-discovery, values gfd.securityContext is privileged"},
		{"dcgm-exporter: the platform's values (root and SYS_ADMIN, documented)", release("dcgm-exporter", "4.8.2", `{"podSecurityContext":`+seccompPod+`}`), ""},
		{"dcgm-exporter: another capability", release("dcgm-exporter", "4.8.2", `{"podSecurityContext":`+seccompPod+`,"securityContext":{"capabilities":{"add":["SYS_ADMIN","NET_ADMIN"]}}}`),
			"values securityContext adds capabilities [NET_ADMIN]"},
		{"dcgm-exporter: escalation", release("dcgm-exporter", "4.8.2", `{"podSecurityContext":`+seccompPod+`,"securityContext":{"allowPrivilegeEscalation":true}}`),
			"values securityContext does not set allowPrivilegeEscalation: false"},
		{"a chart the gate does not know", release("redis", "20.0.0", `{}`), "chart redis is not one whose pods' security contexts the gate knows"},
	}
	r := rule(t, "privilege-restricted-context")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			applies, problems := r.Check(res(helmRelease, tt.props))
			if !applies {
				t.Fatal("the rule does not apply to a Helm release")
			}
			if tt.want == "" {
				if len(problems) != 0 {
					t.Fatalf("compliant values refused: %q", problems)
				}
				covered.pass(r.Name)
				return
			}
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, tt.want)
			}
			if !found {
				t.Fatalf("problems %q, want one containing %q", problems, tt.want)
			}
			covered.refuse(r.Name)
		})
	}
}

// TestChartValuesFromArgoCDApplications: a chart Argo CD installs with
// values (the istio-system Application) is judged like a release.
func TestChartValuesFromArgoCDApplications(t *testing.T) {
	app := func(helm string) Resource {
		return res("kubernetes:argoproj.io/v1alpha1:Application", `{"metadata":{"name":"istio-system"},"spec":{"source":{"chart":"istiod","targetRevision":"1.29.2","helm":`+helm+`}}}`)
	}
	r := rule(t, "privilege-restricted-context")
	values, _ := json.Marshal("autoscaleMin: 3\nseccompProfile:\n  type: RuntimeDefault\n")
	if _, problems := r.Check(app(`{"values":` + string(values) + `}`)); len(problems) != 0 {
		t.Fatalf("values YAML with the seccomp profile: %q", problems)
	}
	values, _ = json.Marshal("autoscaleMin: 3\n")
	_, problems := r.Check(app(`{"values":` + string(values) + `}`))
	if len(problems) != 1 || !strings.Contains(problems[0], `application istio-system (chart istiod 1.29.2): pod istiod, values discovery (template) has seccomp profile ""`) {
		t.Fatalf("problems %q", problems)
	}
	_, problems = r.Check(app(`{"values":` + string(values) + `,"valuesObject":{"global":{"proxy":{"privileged":true}},"seccompProfile":{"type":"RuntimeDefault"}}}`))
	if len(problems) != 1 || !strings.Contains(problems[0], "global.proxy.privileged is true") {
		t.Fatalf("valuesObject must be read over values: %q", problems)
	}
}

func TestCoalesceIsHelms(t *testing.T) {
	defaults := map[string]any{"a": map[string]any{"x": 1.0, "y": []any{"ALL"}}, "b": true}
	got, _ := json.Marshal(coalesce(defaults, map[string]any{"a": map[string]any{"x": nil, "y": []any{"NET_RAW"}, "z": "new"}}))
	if string(got) != `{"a":{"y":["NET_RAW"],"z":"new"},"b":true}` {
		t.Fatalf("coalesce = %s", got)
	}
	if again, _ := json.Marshal(defaults); string(again) != `{"a":{"x":1,"y":["ALL"]},"b":true}` {
		t.Fatalf("coalesce changed the defaults: %s", again)
	}
}
