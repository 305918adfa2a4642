package rules

import (
	"strings"
	"testing"
)

// TestChartTemplatesAsRead: what the templates render beyond values.yaml,
// read at the pinned tags (see the citations in charts.go): the behaviours
// the gate missed before they were checked against the charts.
func TestChartTemplatesAsRead(t *testing.T) {
	gpu := func(extra string) string {
		return release("nvidia-device-plugin", "0.19.3", `{"podSecurityContext":`+seccompPod+extra+`}`)
	}
	velero := func(from, to string) string {
		return release("velero", "11.4.0", strings.Replace(veleroGood, from, to, 1))
	}
	tests := []struct {
		name, props string
		want        string // "" = compliant
	}{
		// nvidia-device-plugin v0.19.3 templates/_helpers.tpl: a ConfigMap
		// alone makes requiresCapSysAdmin true.
		{"device plugin: a ConfigMap adds SYS_ADMIN", gpu(`,"config":{"name":"plugin-config"}`),
			"pod device-plugin, values securityContext (both containers) adds capabilities [SYS_ADMIN]"},
		// templates/daemonset-mps-control-daemon.yml: privileged in the
		// template; its pods run only on MPS-capable nodes, which only a
		// device-plugin config that shares GPUs through MPS makes.
		{"device plugin: the MPS control daemon with a config", gpu(`,"config":{"name":"plugin-config"}`),
			"pod mps-control-daemon, values mps-control-daemon-ctr (template) is privileged"},
		{"device plugin: no MPS-capable node without a config", gpu(``), ""},
		{"device plugin: nothing rendered", gpu(`,"devicePlugin":{"enabled":false}`), ""},
		// Chart.yaml: gfd.enabled brings the node-feature-discovery subchart.
		{"device plugin: feature discovery's subchart", gpu(`,"devicePlugin":{"enabled":false},"gfd":{"enabled":true,"securityContext":{"privileged":false}}`),
			"node-feature-discovery subchart"},
		// velero-11.4.0 templates: legacy keys merged under the new ones.
		{"velero: node agent's legacy context", velero(`"upgradeCRDs":false`, `"upgradeCRDs":false,"deployNodeAgent":true,"nodeAgent":{"securityContext":{"privileged":true}}`),
			"pod node-agent, values nodeAgent.containerSecurityContext is privileged"},
		{"velero: the CRD upgrade job's pod context", velero(`"upgradeCRDs":false`, `"upgradeCRDs":true,"kubectl":{"containerSecurityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}`), ""},
		{"velero: the legacy pod key loses to podSecurityContext", velero(`"upgradeCRDs":false`, `"upgradeCRDs":false,"securityContext":{"runAsUser":0}`), ""},
		{"velero: the CRD upgrade job's velero container", strings.Replace(velero(`"upgradeCRDs":false`, `"upgradeCRDs":true`),
			`"containerSecurityContext":{"allowPrivilegeEscalation":false`, `"containerSecurityContext":{"allowPrivilegeEscalation":true`, 1),
			"pod upgrade-crds job, values containerSecurityContext does not set allowPrivilegeEscalation: false"},
		{"velero: the CRD cleanup job", velero(`"upgradeCRDs":false`, `"upgradeCRDs":false,"cleanUpCRDs":true`),
			"pod cleanup-crds job, values kubectl.containerSecurityContext does not set allowPrivilegeEscalation: false"},
	}
	r := rule(t, "privilege-restricted-context")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := r.Check(res(helmRelease, tt.props))
			if tt.want == "" {
				if len(problems) != 0 {
					t.Fatalf("compliant values refused: %q", problems)
				}
				return
			}
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Fatalf("problems %q, want one containing %q", problems, tt.want)
		})
	}
}

// TestDeviceSysAdmin: requiresCapSysAdmin of nvidia-device-plugin v0.19.3
// (templates/_helpers.tpl).
func TestDeviceSysAdmin(t *testing.T) {
	for values, want := range map[string]bool{
		`{}`:                              false,
		`{"migStrategy":"none"}`:          false,
		`{"migStrategy":"mixed"}`:         true,
		`{"deviceListStrategy":"envvar"}`: false,
		`{"deviceListStrategy":"envvar,volume-mounts"}`:                              true,
		`{"config":{"name":"c"}}`:                                                    true,
		`{"config":{"map":{"default":"x"}}}`:                                         true,
		`{"config":{"name":"c"},"migStrategy":"none"}`:                               true,
		`{"config":{"name":"c"},"migStrategy":"none","deviceListStrategy":"envvar"}`: false,
	} {
		if got := deviceSysAdmin(res(helmRelease, values).Props); got != want {
			t.Errorf("%s: %v, want %v", values, got, want)
		}
	}
}
