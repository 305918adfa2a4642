package realkube

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bac-platform/infra/components/gateway"
	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/bac-platform/infra/test/engine/simulate"
	"github.com/bac-platform/infra/test/enginestack"
	"github.com/bac-platform/infra/test/kubecluster"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const (
	repoRoot  = "../.."
	stackName = "local"
	// opTimeout bounds each engine operation: the real provider waits for
	// every Deployment to become available (KWOK makes pods Ready within
	// seconds) and for namespaces to finish on destroy.
	opTimeout = 15 * time.Minute
)

// TestLocalStackOnARealCluster is the local stack's life through the real
// engine and the real kubernetes provider against a real API server:
//   - up creates every Kubernetes object, and the provider's own await logic
//     sees every Deployment and DaemonSet become available on KWOK nodes;
//   - a second preview shows no change (the real provider's diff of what
//     the server normalised, not the simulator's);
//   - a changed Secret value is a replacement, as the real provider treats
//     Secret data as immutable by default (provider pkg/provider/provider.go
//     at the pinned commit: enableSecretMutable off), and the up applies it;
//   - destroy refuses the protected realm, naming it, and keeps what the
//     realm depends on; every other object leaves the cluster;
//   - once unprotected (pulumi state unprotect --all), destroy removes
//     everything: the namespaces are finalized by the real namespace
//     controller.
func TestLocalStackOnARealCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("real cluster and engine: not in -short")
	}
	ctx := context.Background()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	providerPath := filepath.Join(root, filepath.FromSlash(ProviderPath))
	for _, p := range []string{providerPath, filepath.Join(root, "bin", "pulumi")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: run `make tools` first (make test does)", p)
		}
	}

	project, err := stackfile.ProjectName(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := stackfile.Read(repoRoot, project, stackName)
	if err != nil {
		t.Fatal(err)
	}
	cfg, ps := stacks.Decode(sf.Values)
	if len(ps) != 0 {
		t.Fatal(ps)
	}

	c := kubecluster.Start(t, kubecluster.WithServiceAccountAdmission())
	c.StartScheduler(t)
	c.StartWorkloadControllers(t)
	nodes, err := kubecluster.Nodes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddNodes(ctx, nodes); err != nil {
		t.Fatal(err)
	}

	debugProviders, fwd := serveProviders(t)
	// Kong's controller publishes the addresses its release's values give
	// it: a stack that sets none fails its up here as on a laptop.
	kic, stopKIC := context.WithCancel(ctx)
	go PublishIngressStatus(kic, c, func() (resource.PropertyMap, bool) { return fwd.Release(gateway.ReleaseName) })
	t.Cleanup(stopKIC)

	stack, secrets := newStack(t, ctx, root, project, cfg, c.Kubeconfig, debugProviders)

	t.Run("up creates every object", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		start := time.Now()
		if _, err := stack.Up(ctx, optup.SuppressProgress()); err != nil {
			t.Fatalf("up: %v", err)
		}
		objects := liveObjects(t, ctx, stack)
		missing := 0
		for _, o := range objects {
			if _, err := c.Get(ctx, o.gvk, o.namespace, o.name); err != nil {
				t.Errorf("%s: %v", o.urn, err)
				missing++
			}
		}
		pending, err := c.WaitAvailable(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range pending {
			t.Errorf("%s not available (%s): %v", u.Workload, u.Status, u.Why)
		}
		t.Logf("up: %d Kubernetes objects created by the real provider in %s", len(objects), time.Since(start).Round(time.Second))
	})
	if t.Failed() {
		return
	}

	t.Run("a second preview shows no change", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		pre, err := stack.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.SuppressProgress())
		if err != nil {
			t.Fatalf("preview: %v", err)
		}
		for op, n := range pre.ChangeSummary {
			if op != apitype.OpSame && n > 0 {
				t.Errorf("%d %s", n, op)
			}
		}
	})

	t.Run("a changed Secret value replaces the Secret", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		setting, secretURN := secretInAKubernetesSecret(t, ctx, c, liveObjects(t, ctx, stack), secrets)
		rotated := "rotated-" + secrets[setting]
		if err := stack.SetConfigWithOptions(ctx, setting, auto.ConfigValue{Value: rotated, Secret: true}, &auto.ConfigOptions{Path: true}); err != nil {
			t.Fatal(err)
		}
		ops := previewOps(t, ctx, stack)
		if ops[secretURN] != apitype.OpReplace {
			t.Errorf("changing %s: %s is %q, want a replacement", setting, secretURN, ops[secretURN])
		}
		for urn, op := range ops {
			// Only objects the real provider handles: the simulated
			// releases and Keycloak resources may update.
			if op == apitype.OpReplace && strings.Contains(urn, "::kubernetes:") && !strings.Contains(urn, "::kubernetes:core/v1:Secret::") {
				t.Errorf("changing %s replaces %s", setting, urn)
			}
		}
		if _, err := stack.Up(ctx, optup.SuppressProgress()); err != nil {
			t.Fatalf("up after changing %s: %v", setting, err)
		}
		found, _ := secretInAKubernetesSecret(t, ctx, c, liveObjects(t, ctx, stack), map[string]string{setting: rotated})
		t.Logf("changing %s replaced %s; the cluster holds the new value (%s)", setting, secretURN, found)
	})

	t.Run("destroy keeps what is protected and what it depends on", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		objects := liveObjects(t, ctx, stack)
		before := deployment(t, ctx, stack)
		keep := keptByProtection(before)
		// As an operator would: go on past the protected resources, which
		// the engine refuses to delete and names. What they depend on (their
		// namespaces, through the component's dependencies) must stay too.
		_, err := stack.Destroy(ctx, optdestroy.SuppressProgress(), optdestroy.ContinueOnError())
		if len(keep) > 0 && (err == nil || !strings.Contains(err.Error(), "because it is protected")) {
			t.Errorf("destroy with protected resources: %v, want it refused naming them", err)
		}
		if len(keep) == 0 && err != nil {
			t.Fatalf("destroy: %v", err)
		}
		gone, kept := 0, 0
		for _, o := range objects {
			_, err := c.Get(ctx, o.gvk, o.namespace, o.name)
			switch {
			case keep[o.urn] && err != nil:
				t.Errorf("%s was deleted, but a protected resource depends on it: %v", o.urn, err)
			case keep[o.urn]:
				kept++
			case !apierrors.IsNotFound(err):
				t.Errorf("%s still in the cluster after destroy (%v)", o.urn, err)
			default:
				gone++
			}
		}
		left := map[string]bool{}
		for _, r := range deployment(t, ctx, stack).Resources {
			left[string(r.URN)] = true
		}
		for _, r := range before.Resources {
			if r.Protect && !left[string(r.URN)] {
				t.Errorf("protected %s was deleted", r.URN)
			}
		}
		t.Logf("destroy removed %d Kubernetes objects and kept %d that protected resources depend on", gone, kept)
	})

	t.Run("after unprotecting, destroy removes everything", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, opTimeout)
		defer cancel()
		objects := liveObjects(t, ctx, stack)
		ws := stack.Workspace()
		env := []string{}
		for k, v := range ws.GetEnvVars() {
			env = append(env, k+"="+v)
		}
		if _, stderr, _, err := ws.PulumiCommand().Run(ctx, ws.WorkDir(), nil, nil, nil, env,
			"state", "unprotect", "--all", "--yes", "--stack", stackName); err != nil {
			t.Fatalf("pulumi state unprotect --all: %v\n%s", err, stderr)
		}
		if _, err := stack.Destroy(ctx, optdestroy.SuppressProgress()); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		if n := len(deployment(t, ctx, stack).Resources); n != 0 {
			t.Errorf("%d resources left in the state", n)
		}
		for _, o := range objects {
			_, err := c.Get(ctx, o.gvk, o.namespace, o.name)
			if !apierrors.IsNotFound(err) {
				t.Errorf("%s still in the cluster after destroy (%v)", o.urn, err)
			}
		}
	})
}

// keptByProtection is every resource a destroy must leave: the protected
// ones and, transitively, what they depend on and their parents.
func keptByProtection(d apitype.DeploymentV3) map[string]bool {
	byURN := map[string]apitype.ResourceV3{}
	for _, r := range d.Resources {
		byURN[string(r.URN)] = r
	}
	keep := map[string]bool{}
	var visit func(urn string)
	visit = func(urn string) {
		r, ok := byURN[urn]
		if !ok || keep[urn] {
			return
		}
		keep[urn] = true
		for _, dep := range r.Dependencies {
			visit(string(dep))
		}
		for _, deps := range r.PropertyDependencies {
			for _, dep := range deps {
				visit(string(dep))
			}
		}
		visit(string(r.Parent))
	}
	for _, r := range d.Resources {
		if r.Protect {
			visit(string(r.URN))
		}
	}
	return keep
}

// deployment is the stack's state.
func deployment(t *testing.T, ctx context.Context, stack auto.Stack) apitype.DeploymentV3 {
	t.Helper()
	dep, err := stack.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var d apitype.DeploymentV3
	if err := json.Unmarshal(dep.Deployment, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// serveProviders starts the simulated providers and the forwarder in front
// of the real kubernetes provider, and returns PULUMI_DEBUG_PROVIDERS and
// the forwarder.
func serveProviders(t *testing.T) (string, *Forwarder) {
	t.Helper()
	sims, err := simulate.Start("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Stop)
	logPath := filepath.Join(t.TempDir(), "pulumi-resource-kubernetes.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs(repoRoot)
	fwd := NewForwarder(func() (*RealProvider, error) {
		return StartRealProvider(filepath.Join(root, filepath.FromSlash(ProviderPath)), nil, logFile)
	}, sims.Providers["kubernetes"])
	t.Cleanup(func() {
		fwd.Stop()
		logFile.Close()
		if t.Failed() {
			if out, err := os.ReadFile(logPath); err == nil && len(out) > 0 {
				if len(out) > 6000 {
					out = out[len(out)-6000:]
				}
				t.Logf("real kubernetes provider log:\n%s", out)
			}
		}
	})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
	pulumirpc.RegisterResourceProviderServer(srv, fwd)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	kube := "kubernetes:" + strings.TrimPrefix(lis.Addr().String(), "127.0.0.1:")
	return regexp.MustCompile(`kubernetes:\d+`).ReplaceAllString(sims.DebugProviders(), kube), fwd
}

// newStack creates the local stack in a fresh file backend, pointed at the
// test cluster, with a value for every secret it needs.
func newStack(t *testing.T, ctx context.Context, root, project string, cfg stacks.Config, kubeconfig []byte, debugProviders string) (auto.Stack, map[string]string) {
	t.Helper()
	stack := enginestack.New(t, ctx, enginestack.Options{Root: root, Project: project, Stack: stackName, Program: stacks.Program,
		DebugProviders: debugProviders, Files: []string{"Pulumi.yaml", "Pulumi." + stackName + ".yaml"}})
	return stack, enginestack.SetSecrets(t, ctx, stack, cfg, "realkube-", string(kubeconfig))
}

// object is a Kubernetes object the stack's state says the real provider
// created.
type object struct {
	urn             string
	gvk             schema.GroupVersionKind
	namespace, name string
}

// liveObjects are the Kubernetes objects in the stack's state (Helm
// releases aside), named as the real provider recorded them.
func liveObjects(t *testing.T, ctx context.Context, stack auto.Stack) []object {
	t.Helper()
	d := deployment(t, ctx, stack)
	var out []object
	for _, r := range d.Resources {
		typ := string(r.Type)
		if !r.Custom || !strings.HasPrefix(typ, "kubernetes:") || strings.HasPrefix(typ, "pulumi:") || typ == simulatedType {
			continue
		}
		apiVersion, _ := r.Outputs["apiVersion"].(string)
		kind, _ := r.Outputs["kind"].(string)
		meta, _ := r.Outputs["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		ns, _ := meta["namespace"].(string)
		if apiVersion == "" || kind == "" || name == "" {
			t.Errorf("%s: no apiVersion, kind or name in its outputs", r.URN)
			continue
		}
		gv, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			t.Errorf("%s: %v", r.URN, err)
			continue
		}
		out = append(out, object{urn: string(r.URN), gvk: gv.WithKind(kind), namespace: ns, name: name})
	}
	if len(out) == 0 {
		t.Fatal("the state holds no Kubernetes object")
	}
	return out
}

// secretInAKubernetesSecret finds a secret setting of the stack whose
// value the stack writes into a Kubernetes Secret: the setting whose value
// the cluster holds in a Secret's data. It returns the setting and the
// Secret's URN.
func secretInAKubernetesSecret(t *testing.T, ctx context.Context, c *kubecluster.Cluster, objects []object, values map[string]string) (string, string) {
	t.Helper()
	for _, o := range objects {
		if o.gvk.Kind != "Secret" || o.gvk.Group != "" {
			continue
		}
		s, err := c.Clientset.CoreV1().Secrets(o.namespace).Get(ctx, o.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for path, value := range values {
			for _, data := range s.Data {
				if path != stacks.KubeconfigPath && strings.Contains(string(data), value) {
					return path, o.urn
				}
			}
		}
	}
	t.Fatal("no secret setting of the stack reaches a Kubernetes Secret")
	return "", ""
}

// previewOps previews and returns each resource's planned operation, but
// for those that stay the same.
func previewOps(t *testing.T, ctx context.Context, stack auto.Stack) map[string]apitype.OpType {
	t.Helper()
	ch := make(chan events.EngineEvent)
	ops := map[string]apitype.OpType{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			if e.ResourcePreEvent == nil {
				continue
			}
			m := e.ResourcePreEvent.Metadata
			if m.Op != apitype.OpSame && m.Op != apitype.OpRead {
				if prev, ok := ops[m.URN]; !ok || prev != apitype.OpReplace {
					ops[m.URN] = m.Op
				}
			}
		}
	}()
	if _, err := stack.Preview(ctx, optpreview.EventStreams(ch), optpreview.SuppressProgress()); err != nil {
		t.Fatalf("preview: %v", err)
	}
	<-done
	return ops
}
