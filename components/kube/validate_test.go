package kube

import (
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/validate"
)

// check runs one validator and asserts its single problem (or none when
// want is empty) by path and message prefix.
func check(t *testing.T, run func(ps *validate.Problems), want string) {
	t.Helper()
	var ps validate.Problems
	run(&ps)
	switch {
	case want == "" && len(ps) != 0:
		t.Fatalf("problems = %v, want none", ps)
	case want != "" && (len(ps) != 1 || !strings.HasPrefix(ps[0].String(), want)):
		t.Fatalf("problems = %v, want one starting %q", ps, want)
	}
}

func TestNamesAndNamespaces(t *testing.T) {
	tests := []struct {
		name, value, want string
		namespace         bool
	}{
		{"valid", "crm-service", "", false},
		{"upper case", "CRM", `x.name: "CRM" is not a Kubernetes name: a lowercase RFC 1123 label`, false},
		{"too long", strings.Repeat("a", 64), `x.name: "` + strings.Repeat("a", 64) + `" is not a Kubernetes name: must be no more than 63 characters`, false},
		{"dot", "crm.v1", `x.name: "crm.v1" is not a Kubernetes name`, false},
		{"valid namespace", "crm", "", true},
		{"kube-system", "kube-system", `x.name: "kube-system" is reserved for Kubernetes`, true},
		{"default", "default", `x.name: "default" is reserved for Kubernetes`, true},
		{"kube-node-lease", "kube-node-lease", `x.name: "kube-node-lease" is reserved for Kubernetes`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(ps *validate.Problems) {
				if tt.namespace {
					ValidateNamespace(ps, "x.name", tt.value)
				} else {
					ValidateName(ps, "x.name", tt.value)
				}
			}, tt.want)
		})
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"valid", map[string]string{"role": "gpu", "nvidia.com/gpu": "true", "app.kubernetes.io/name": "crm"}, ""},
		{"empty value", map[string]string{"role": ""}, ""},
		{"space in key", map[string]string{"team name": "x"}, `p.labels.team name: key "team name" is not a Kubernetes label key: name part must consist of alphanumeric characters`},
		{"two slashes", map[string]string{"a/b/c": "x"}, `p.labels.a/b/c: key "a/b/c" is not a Kubernetes label key: a valid label key must consist of alphanumeric characters`},
		{"bad prefix", map[string]string{"Nvidia_Com/gpu": "x"}, `p.labels.Nvidia_Com/gpu: key "Nvidia_Com/gpu" is not a Kubernetes label key: prefix part a lowercase RFC 1123 subdomain`},
		{"long value", map[string]string{"role": strings.Repeat("x", 64)}, `p.labels.role: value "` + strings.Repeat("x", 64) + `" is not a Kubernetes label value: must be no more than 63 bytes`},
		{"value with a space", map[string]string{"role": "gpu nodes"}, `p.labels.role: value "gpu nodes" is not a Kubernetes label value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(ps *validate.Problems) { ValidateLabels(ps, "p.labels", tt.labels) }, tt.want)
		})
	}
}

func TestSchedules(t *testing.T) {
	tests := []struct{ schedule, want string }{
		{"0 2 * * *", ""},
		{"@daily", ""},
		{"*/15 0-6 * * MON-FRI", ""},
		{"0 2 * *", `s: "0 2 * *" is not a cron schedule: expected exactly 5 fields, found 4`},
		{"0 2 * * * *", `s: "0 2 * * * *" is not a cron schedule: expected exactly 5 fields, found 6`},
		{"60 2 * * *", `s: "60 2 * * *" is not a cron schedule: end of range (60) above maximum (59)`},
		{"0 2 * * FUNDAY", `s: "0 2 * * FUNDAY" is not a cron schedule`},
		{"TZ=Europe/Paris 0 2 * * *", `s: "TZ=Europe/Paris 0 2 * * *": Kubernetes refuses TZ or CRON_TZ in a schedule`},
		{"", `s: "" is not a cron schedule: empty spec string`},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			check(t, func(ps *validate.Problems) { ValidateSchedule(ps, "s", tt.schedule) }, tt.want)
		})
	}
}

func TestImages(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name string
		img  Image
		want string
	}{
		{"release", Image{"kong", "3.9.1"}, ""},
		{"v release", Image{"quay.io/argoproj/argocd", "v3.1.5"}, ""},
		{"pre-release", Image{"ghcr.io/bac-platform/websocket-server", "1.4.2-rc.1"}, ""},
		{"digest", Image{"kong", digest}, ""},
		{"latest", Image{"kong", "latest"}, `i.tag: "latest" is a moving tag`},
		{"main", Image{"kong", "main"}, `i.tag: "main" is a moving tag`},
		{"Stable", Image{"kong", "Stable"}, `i.tag: "Stable" is a moving tag`},
		{"minor only", Image{"kong", "3.9"}, `i.tag: "3.9" is not a release version (major.minor.patch, e.g. 1.4.2) or a sha256 digest`},
		{"branch name", Image{"kong", "feature-x"}, `i.tag: "feature-x" is not a release version`},
		{"short digest", Image{"kong", "sha256:abc"}, `i.tag: "sha256:abc" is not a sha256 digest`},
		{"empty", Image{"kong", ""}, "i.tag: is required"},
		{"tag in the repository", Image{"kong:3.9.1", "3.9.1"}, `i.repository: "kong:3.9.1" must name the repository only`},
		{"placeholder", Image{"registry.yourcompany.com/kong", "3.9.1"}, `i.repository: "registry.yourcompany.com/kong" is a placeholder`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(ps *validate.Problems) { ps.Extend(tt.img.Validate("i")) }, tt.want)
		})
	}
}

func TestCharts(t *testing.T) {
	tests := []struct {
		name  string
		chart Chart
		want  string
	}{
		{"https", Chart{"https://charts.konghq.com", "kong", "3.2.0"}, ""},
		{"oci", Chart{"oci://ghcr.io/bac-platform/charts", "crm", "1.0.0"}, ""},
		{"http", Chart{"http://charts.konghq.com", "kong", "3.2.0"}, `c.repository: "http://charts.konghq.com" is not an https:// or oci:// chart repository`},
		{"credentials", Chart{"https://user:token@charts.bac-platform.io", "kong", "3.2.0"}, `c.repository: "https://user:token@charts.bac-platform.io" carries credentials`},
		{"range", Chart{"https://charts.konghq.com", "kong", "^3.2"}, `c.version: "^3.2" is not an exact chart version like 1.2.3`},
		{"no name", Chart{"https://charts.konghq.com", "", "3.2.0"}, "c.name: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func(ps *validate.Problems) { ps.Extend(tt.chart.Validate("c")) }, tt.want)
		})
	}
}

func TestResources(t *testing.T) {
	valid := Resources{Requests: Quantities{CPU: "500m", Memory: "512Mi"}, Limits: Quantities{CPU: "1", Memory: "1Gi"}}
	tests := []struct {
		name   string
		mutate func(r *Resources)
		want   []string
	}{
		{"valid", func(r *Resources) {}, nil},
		{"decimal units", func(r *Resources) { r.Requests.Memory, r.Limits.Memory = "500M", "1G" }, nil},
		{"not a quantity", func(r *Resources) { r.Limits.CPU = "two" }, []string{`r.limits.cpu: "two" is not a Kubernetes quantity`}},
		{"lower-case unit", func(r *Resources) { r.Limits.Memory = "1gi" }, []string{`r.limits.memory: "1gi" is not a Kubernetes quantity`}},
		{"request above limit", func(r *Resources) { r.Requests.Memory = "2Gi" },
			[]string{"r.requests.memory: 2Gi is above the limit 1Gi (Kubernetes requires requests <= limits)"}},
		{"request above limit across units", func(r *Resources) { r.Requests.CPU = "1500m" }, []string{"r.requests.cpu: 1500m is above the limit 1"}},
		{"memory without a unit", func(r *Resources) { r.Limits.Memory, r.Requests.Memory = "1024", "1024" }, []string{
			`r.requests.memory: "1024" is less than 4Mi: memory without a unit is bytes (did you mean 1024Mi?)`,
			`r.limits.memory: "1024" is less than 4Mi`}},
		{"zero", func(r *Resources) { r.Requests.CPU = "0" }, []string{`r.requests.cpu: "0" must be positive`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid
			tt.mutate(&r)
			ps := r.Validate("r")
			if len(ps) != len(tt.want) {
				t.Fatalf("problems = %v, want %q", ps, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(ps[i].String(), w) {
					t.Errorf("problem %d = %q, want prefix %q", i, ps[i], w)
				}
			}
		})
	}
}
