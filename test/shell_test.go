package test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/bac-platform/infra/stacks/stackfile"
)

// hostile is a value that runs a command wherever a shell evaluates it.
const hostile = "$(touch /tmp/pwned)"

// podSpecPaths are where each workload kind keeps its pod spec.
var podSpecPaths = map[string]string{
	"kubernetes:apps/v1:Deployment":  "spec.template.spec",
	"kubernetes:apps/v1:DaemonSet":   "spec.template.spec",
	"kubernetes:apps/v1:StatefulSet": "spec.template.spec",
	"kubernetes:batch/v1:Job":        "spec.template.spec",
	"kubernetes:batch/v1:CronJob":    "spec.jobTemplate.spec.template.spec",
}

// container is what one container runs.
type container struct {
	workload, name string
	argv           []string
}

// shell reports whether the container hands its arguments to a shell.
func (c container) shell() bool {
	for i, a := range c.argv {
		base := a[strings.LastIndex(a, "/")+1:]
		if (base == "sh" || base == "bash" || base == "ash") && i+1 < len(c.argv) && c.argv[i+1] == "-c" {
			return true
		}
	}
	return false
}

// containers lists every container (init containers too) the plan runs,
// with its command and arguments.
func containers(m *mockengine.Mocks) []container {
	var out []container
	for _, r := range m.Resources() {
		spec, ok := podSpecPaths[r.Type]
		if !ok {
			continue
		}
		for _, field := range []string{"initContainers", "containers"} {
			list, _ := r.Input(spec + "." + field).([]any)
			for _, item := range list {
				c, _ := item.(map[string]any)
				var argv []string
				for _, key := range []string{"command", "args"} {
					words, _ := c[key].([]any)
					for _, w := range words {
						argv = append(argv, fmt.Sprint(w))
					}
				}
				out = append(out, container{workload: r.Name, name: fmt.Sprint(c["name"]), argv: argv})
			}
		}
	}
	return out
}

// planHostile runs the production stack file with settings replaced; it returns
// the config problems, or the mocks of a valid plan.
func planHostile(t *testing.T, set map[string]string) (*mockengine.Mocks, []string) {
	t.Helper()
	project, err := stackfile.ProjectName(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := stackfile.Read(repoRoot, project, "prod-us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	sf.Values = maps.Clone(sf.Values)
	maps.Copy(sf.Values, set)
	offline, ps := stacks.PrepareOffline(sf)
	if len(ps) > 0 {
		var problems []string
		for _, p := range ps {
			problems = append(problems, p.String())
		}
		return nil, problems
	}
	m, err := mockengine.RunStack(stacks.Program, project, offline.Config.Region, offline.File)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return m, nil
}

// TestHostileValuesNeverReachACommand sets a shell substitution in every
// setting that could plausibly reach a container: each is either refused as
// configuration, or reaches no command or argument of any container, and
// every shell script the plan runs is the same as with the stack file's own
// values (configuration never becomes script text).
func TestHostileValuesNeverReachACommand(t *testing.T) {
	base, problems := planHostile(t, nil)
	if len(problems) > 0 {
		t.Fatalf("the production stack is invalid: %v", problems)
	}
	scripts := map[string][]string{}
	for _, c := range containers(base) {
		if c.shell() {
			scripts[c.workload+"/"+c.name] = c.argv
		}
	}
	cases := map[string]string{
		"bac:domain":                "bac-platform.io" + hostile,
		"bac:security":              `{"severity":"HIGH,CRITICAL` + hostile + `"}`,
		"bac:security#wazuhManager": `{"wazuhManager":"wazuh-manager.security.svc.cluster.local;` + hostile + `"}`,
		"bac:security#schedule":     `{"schedule":"0 2 * * *` + hostile + `"}`,
		"bac:identity": `{"databaseUrl":"jdbc:postgresql://keycloak-db.us-east-1.bac-platform.io:5432/keycloak?x=` + hostile + `",` +
			`"ldap":{"connectionUrl":"ldaps://ldap.corp.bac-platform.io:636","usersDn":"ou=users","bindDn":"cn=kc"},` +
			`"features":["token-exchange` + hostile + `"]}`,
		"bac:identity#realm": `{"databaseUrl":"jdbc:postgresql://keycloak-db.us-east-1.bac-platform.io:5432/keycloak",` +
			`"ldap":{"connectionUrl":"ldaps://ldap.corp.bac-platform.io:636","usersDn":"ou=users","bindDn":"cn=kc"},` +
			`"realm":{"name":"bac` + hostile + `"}}`,
		"bac:realtime": `{"websocket":{"image":{"repository":"ghcr.io/bac-platform/websocket-server","tag":"1.4.2"},"redisUrl":"redis://cache` + hostile + `:6379"},` +
			`"graphql":{"image":{"repository":"ghcr.io/bac-platform/graphql-gateway","tag":"1.4.2"},"subgraphPath":"/graphql` + hostile + `"}}`,
		"bac:realtime#image": `{"websocket":{"image":{"repository":"ghcr.io/bac-platform/websocket-server","tag":"1.4.2` + hostile + `"}},` +
			`"graphql":{"image":{"repository":"ghcr.io/bac-platform/graphql-gateway","tag":"1.4.2"}}}`,
		"bac:gateway": `{"requestTransformer":{"addHeaders":["X-Trace:` + hostile + `"]}}`,
		"bac:gitops":  `{"repoUrl":"https://github.com/bac-platform/platform-gitops` + hostile + `"}`,
		"bac:mesh":    `{"allowedPrincipals":["cluster.local/ns/ai-services/sa/x` + hostile + `"]}`,
	}
	refused := 0
	for _, key := range slices.Sorted(maps.Keys(cases)) {
		t.Run(key, func(t *testing.T) {
			setting, _, _ := strings.Cut(key, "#")
			m, problems := planHostile(t, map[string]string{setting: cases[key]})
			if len(problems) > 0 {
				// Refused for the hostile value itself: a problem at the
				// changed setting that quotes it. Any other problem means
				// the case broke something else and tests nothing.
				if !slices.ContainsFunc(problems, func(p string) bool {
					return strings.HasPrefix(p, setting) && strings.Contains(p, "pwned")
				}) {
					t.Fatalf("refused, but not for the hostile value: %v", problems)
				}
				refused++
				t.Logf("refused as configuration: %v", problems)
				return
			}
			for _, c := range containers(m) {
				for _, word := range c.argv {
					if strings.Contains(word, "touch /tmp/pwned") {
						t.Errorf("%s/%s runs %q", c.workload, c.name, word)
					}
				}
				if want, ok := scripts[c.workload+"/"+c.name]; c.shell() && (!ok || !slices.Equal(c.argv, want)) {
					t.Errorf("%s/%s runs a shell script that depends on the configuration: %q", c.workload, c.name, c.argv)
				}
			}
		})
	}
	if refused == 0 {
		t.Error("no hostile value was refused; the cases no longer exercise validation")
	}
}

// TestKeycloakGetsItsHostnameWithoutAShell: kc.sh runs its arguments
// through eval, so the hostname (from bac:domain) is an environment
// variable and the arguments are constants.
func TestKeycloakGetsItsHostnameWithoutAShell(t *testing.T) {
	run := runStack(t, "prod-us-east-1")
	d := find(t, run.mocks, "kubernetes:apps/v1:Deployment", "identity-keycloak")
	args, _ := d.Input("spec.template.spec.containers[0].args").([]any)
	for _, a := range args {
		if strings.Contains(fmt.Sprint(a), run.config.Domain) {
			t.Errorf("argument %q carries the domain; kc.sh would evaluate it", a)
		}
	}
	env, _ := d.Input("spec.template.spec.containers[0].env").([]any)
	found := false
	for _, e := range env {
		kv, _ := e.(map[string]any)
		found = found || (kv["name"] == "KC_HOSTNAME" && kv["value"] == "https://auth."+run.config.Domain)
	}
	if !found {
		t.Errorf("KC_HOSTNAME is not https://auth.%s: %v", run.config.Domain, env)
	}
}
