// Package engine drives every stack file through the real Pulumi engine
// (the pulumi CLI built by `make tools`, the Automation API, a file
// backend) against the simulated providers of package simulate.
package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bac-platform/infra/policies/rules"
	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/bac-platform/infra/test/engine/simulate"
	"github.com/bac-platform/infra/test/enginestack"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

const repoRoot = "../.."

// engineStack is one stack file deployed through the real engine.
type engineStack struct {
	name    string
	stack   auto.Stack
	sims    *simulate.Set
	secrets map[string]string
}

// newStack creates the stack in a fresh file backend, with the stack file's
// config and a real value for every secret the stack needs.
func newStack(t *testing.T, ctx context.Context, name string) *engineStack {
	t.Helper()
	project, err := stackfile.ProjectName(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := stackfile.Read(repoRoot, project, name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := stacks.Decode(sf.Values)
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	sims, err := simulate.Start(region)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Stop)
	stack := enginestack.New(t, ctx, enginestack.Options{Root: repoRoot, Project: project, Stack: name, Program: stacks.Program,
		DebugProviders: sims.DebugProviders(), Files: []string{"Pulumi.yaml", "Pulumi." + name + ".yaml"}})
	secrets := enginestack.SetSecrets(t, ctx, stack, cfg, "engine-secret-",
		mockengine.Kubeconfig("bac-local", "https://127.0.0.1:6443", "local"))
	return &engineStack{name: name, stack: stack, sims: sims, secrets: secrets}
}

// offlineURNs are the URNs the offline plan lists for a stack.
func offlineURNs(t *testing.T, name string) map[string]string {
	t.Helper()
	project, _ := stackfile.ProjectName(repoRoot)
	sf, _ := stackfile.Read(repoRoot, project, name)
	offline, _ := stacks.PrepareOffline(sf)
	m, err := mockengine.RunStack(stacks.Program, project, offline.Config.Region, offline.File)
	if err != nil {
		t.Fatal(err)
	}
	urns := map[string]string{}
	for _, r := range m.Resources() {
		urns[r.URN] = r.Type
	}
	return urns
}

// exported returns the stack's deployment as JSON and its resources by URN.
func exported(t *testing.T, ctx context.Context, s auto.Stack) (string, map[string]apitype.ResourceV3) {
	t.Helper()
	dep, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var d apitype.DeploymentV3
	if err := json.Unmarshal(dep.Deployment, &d); err != nil {
		t.Fatal(err)
	}
	byURN := map[string]apitype.ResourceV3{}
	for _, r := range d.Resources {
		byURN[string(r.URN)] = r
	}
	return string(dep.Deployment), byURN
}

// ruleResources converts the engine's state for the compliance rules:
// secrets (shown by the Automation API's export) become "[secret]", and
// each resource gets its provider's inputs.
func ruleResources(resources map[string]apitype.ResourceV3) []rules.Resource {
	providers := map[string]map[string]any{}
	for urn, r := range resources {
		if strings.HasPrefix(string(r.Type), "pulumi:providers:") {
			providers[urn+"::"+string(r.ID)] = masked(r.Inputs).(map[string]any)
		}
	}
	var out []rules.Resource
	for urn, r := range resources {
		if !r.Custom && len(r.Inputs) == 0 {
			// Remote components keep only outputs in state; a preview's
			// analyzer sees their inputs, and their children are here.
			continue
		}
		out = append(out, rules.Resource{URN: urn, Type: string(r.Type), Parent: string(r.Parent),
			Props: masked(r.Inputs).(map[string]any), ProviderProps: providers[r.Provider]})
	}
	return out
}

// secretSig marks a secret value in the engine's serialized state.
const secretSig = "4dabf18193072939515e22adb298388d"

func masked(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t[secretSig]; ok {
			return stackfile.SecretPlaceholder
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = masked(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = masked(e)
		}
		return out
	case nil:
		return map[string]any{}
	}
	return v
}

// encryptedExport is `pulumi stack export` as an operator runs it (the
// Automation API's Export adds --show-secrets).
func encryptedExport(t *testing.T, ctx context.Context, s auto.Stack) string {
	t.Helper()
	ws := s.Workspace()
	var env []string
	for k, v := range ws.GetEnvVars() {
		env = append(env, k+"="+v)
	}
	stdout, stderr, code, err := ws.PulumiCommand().Run(ctx, ws.WorkDir(), nil, nil, nil, env, "stack", "export", "--stack", s.Name())
	if err != nil || code != 0 {
		t.Fatalf("stack export: %v %s", err, stderr)
	}
	return stdout
}

func containsSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

// Timings collects the figures make bench-engine prints.
type timing struct {
	stack                string
	resources            int
	up, preview, offline time.Duration
}

func TestEveryStackThroughTheEngine(t *testing.T) {
	names, err := stackfile.Names(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var timings []timing
	t.Cleanup(func() { writeTimings(t, timings) })
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			// Stacks are independent (own backend, own simulators): while one
			// waits on the CLI, another runs its program.
			t.Parallel()
			ctx := context.Background()
			start := time.Now()
			want := offlineURNs(t, name)
			offline := time.Since(start)

			es := newStack(t, ctx, name)
			start = time.Now()
			up, err := es.stack.Up(ctx, optup.SuppressProgress())
			upTime := time.Since(start)
			if err != nil {
				t.Fatalf("up: %v", err)
			}
			_, resources := exported(t, ctx, es.stack)
			state := encryptedExport(t, ctx, es.stack)

			// Every resource the offline plan listed exists under the same URN;
			// the only extras are the children the eks provider creates.
			for urn, typ := range want {
				if _, ok := resources[urn]; !ok {
					t.Errorf("offline plan lists %s %s; the engine created no such URN", typ, urn)
				}
			}
			for urn, r := range resources {
				if _, ok := want[urn]; !ok && string(r.Type) != "pulumi:pulumi:Stack" &&
					!strings.HasPrefix(string(r.Type), "pulumi:providers:") && !strings.Contains(string(r.Parent), "eks:index:") {
					t.Errorf("the engine created %s, which the offline plan does not list", urn)
				}
			}

			// The compliance rules pass the stack as the real engine holds it,
			// including the children the eks provider created.
			result := rules.Evaluate(ruleResources(resources), nil)
			for _, v := range result.Mandatory() {
				t.Errorf("engine state: %s", v.Format())
			}
			if name != "local" {
				for _, o := range result.Outcomes {
					if o.Rule.Name == "encryption-eks-secrets" && !containsSuffix(o.Evidence, "-eksCluster") {
						t.Errorf("rule %s never saw the aws:eks/cluster:Cluster child: %v", o.Rule.Name, o.Evidence)
					}
				}
			}

			// Idempotent: a second preview changes nothing.
			start = time.Now()
			pre, err := es.stack.Preview(ctx, optpreview.ExpectNoChanges())
			previewTime := time.Since(start)
			if err != nil {
				t.Fatalf("second preview is not empty: %v", err)
			}
			for op, n := range pre.ChangeSummary {
				if op != apitype.OpSame && n > 0 {
					t.Errorf("second preview: %d %s", n, op)
				}
			}

			// Secrets stay secret in the state: encrypted, never plaintext.
			if !strings.Contains(state, `"ciphertext"`) {
				t.Error("the exported state holds no encrypted value")
			}
			for path, value := range es.secrets {
				if strings.Contains(state, value) || (path == stacks.KubeconfigPath && strings.Contains(state, "127.0.0.1:6443")) {
					t.Errorf("stack export holds the plaintext of %s", path)
				}
			}
			if name != "local" {
				for _, k := range []string{"kubeconfig", "oidcProviderArn", "clusterName", "vpcId", "privateSubnetIds", "nodePoolNames"} {
					if _, ok := up.Outputs[k]; !ok {
						t.Errorf("output %s missing", k)
					}
				}
				if !up.Outputs["kubeconfig"].Secret {
					t.Error("the kubeconfig output must be secret")
				}
			}
			mu.Lock()
			timings = append(timings, timing{name, len(resources), upTime, previewTime, offline})
			mu.Unlock()

			// The change cases reuse the deployed production stack instead of
			// deploying their own.
			if name == "prod-us-east-1" {
				changesDriftAndProtection(t, ctx, es)
			}
		})
	}
}

// writeTimings logs the figures and writes them where make bench-engine reads them.
func writeTimings(t *testing.T, timings []timing) {
	sort.Slice(timings, func(i, j int) bool { return timings[i].stack < timings[j].stack })
	if len(timings) > 0 {
		var b strings.Builder
		b.WriteString("bench: stack              resources  engine-up  engine-preview  offline-plan\n")
		for _, tm := range timings {
			fmt.Fprintf(&b, "bench: %-18s %9d  %9s  %14s  %12s\n", tm.stack, tm.resources,
				tm.up.Round(10*time.Millisecond), tm.preview.Round(10*time.Millisecond), tm.offline.Round(10*time.Millisecond))
		}
		t.Log("\n" + b.String())
		if out := os.Getenv("BENCH_ENGINE_OUT"); out != "" {
			_ = os.WriteFile(out, []byte(b.String()), 0o644)
		}
	}
}

// changesDriftAndProtection: in-place updates, replacements, drift and the
// protected resources, on the deployed production stack (destroy runs last).
func changesDriftAndProtection(t *testing.T, ctx context.Context, es *engineStack) {
	setPath := func(path, value string) {
		t.Helper()
		if err := es.stack.SetConfigWithOptions(ctx, path, auto.ConfigValue{Value: value}, &auto.ConfigOptions{Path: true}); err != nil {
			t.Fatal(err)
		}
	}

	// Every AWS pool is autoscaled: the Cluster Autoscaler owns its size, so
	// the real pulumi-eks creates its node group with ignoreChanges on the
	// desired size, and a config change of it shows no diff at all (the
	// simulator registers the child node group the same way).
	t.Run("desired size of an autoscaled pool changes nothing", func(t *testing.T) {
		setPath("bac:cluster.nodePools.general.desiredSize", "31")
		defer setPath("bac:cluster.nodePools.general.desiredSize", "30")
		pre, err := es.stack.Preview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pre.ChangeSummary[apitype.OpUpdate] != 0 || pre.ChangeSummary[apitype.OpReplace] != 0 {
			t.Fatalf("change summary %v, want no change: the autoscaler owns the size", pre.ChangeSummary)
		}
	})
	t.Run("maximum size is an in-place update", func(t *testing.T) {
		setPath("bac:cluster.nodePools.general.maxSize", "101")
		defer setPath("bac:cluster.nodePools.general.maxSize", "100")
		pre, err := es.stack.Preview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pre.ChangeSummary[apitype.OpUpdate] < 1 || pre.ChangeSummary[apitype.OpReplace] != 0 {
			t.Fatalf("change summary %v, want an update and no replace", pre.ChangeSummary)
		}
	})

	t.Run("instance type is a replacement", func(t *testing.T) {
		setPath("bac:cluster.nodePools.compute.instanceTypes[0]", "c7i.4xlarge")
		defer setPath("bac:cluster.nodePools.compute.instanceTypes[0]", "c6i.4xlarge")
		pre, err := es.stack.Preview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pre.ChangeSummary[apitype.OpReplace] != 1 {
			t.Fatalf("change summary %v, want the node group replaced", pre.ChangeSummary)
		}
	})

	t.Run("drift is detected", func(t *testing.T) {
		if _, err := es.stack.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.Refresh()); err != nil {
			t.Fatalf("before drift: %v", err)
		}
		_, resources := exported(t, ctx, es.stack)
		var vpc string
		for urn, r := range resources {
			if r.Type == "aws:ec2/vpc:Vpc" {
				vpc = urn
			}
		}
		if err := es.sims.Drift(vpc, "enableDnsHostnames", resource.NewProperty(false)); err != nil {
			t.Fatal(err)
		}
		if _, err := es.stack.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.Refresh()); err == nil {
			t.Fatal("preview --refresh --expect-no-changes passed although the VPC drifted")
		}
		refresh, err := es.stack.PreviewRefresh(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if refresh.ChangeSummary[apitype.OpUpdate] < 1 {
			t.Fatalf("refresh --preview-only summary %v, want the drifted VPC", refresh.ChangeSummary)
		}
		if _, err := es.stack.Refresh(ctx, optrefresh.SuppressProgress()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("destroy is blocked by the protected resources", func(t *testing.T) {
		_, err := es.stack.Destroy(ctx, optdestroy.SuppressProgress())
		if err == nil {
			t.Fatal("destroy succeeded over protected resources")
		}
		_, resources := exported(t, ctx, es.stack)
		var protected []string
		for urn, r := range resources {
			if r.Protect {
				protected = append(protected, urn)
			}
		}
		sort.Strings(protected)
		for _, want := range []string{"aws:kms/key:Key::bac-prod-us-east-1-secrets", "SecretBackendKey::vault-database-encryption",
			"SecretBackendKey::vault-pii-encryption", "keycloak:index/realm:Realm::identity-realm"} {
			found := false
			for _, urn := range protected {
				found = found || strings.HasSuffix(urn, want)
			}
			if !found {
				t.Errorf("%s is not protected after the failed destroy (protected: %v)", want, protected)
			}
			name := want[strings.LastIndex(want, "::")+2:]
			if !strings.Contains(err.Error(), name) {
				t.Errorf("the destroy error does not name %s", name)
			}
		}
	})
}
