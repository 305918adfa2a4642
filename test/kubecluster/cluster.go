// Package kubecluster runs a real Kubernetes control plane for tests: etcd
// and kube-apiserver through controller-runtime's envtest, the CRDs of the
// charts the platform installs (read from their Go modules), and optionally
// the real kube-scheduler. Everything listens on 127.0.0.1 with random ports
// and temporary directories, and is torn down by the test's cleanup, also
// when the test fails or panics.
//
// The binaries come from $KUBEBUILDER_ASSETS when it is set (prebuilt envtest
// binaries) and from bin/k8s otherwise, where `make tools` builds them from
// modules (tools/k8s/go.mod).
package kubecluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// OptionalEnv names the environment variable that turns missing binaries
// into a skip instead of a failure (for machines without `make tools`).
const OptionalEnv = "BAC_TEST_CLUSTER_OPTIONAL"

// startTimeout bounds each control-plane process's start. It is generous:
// on a loaded 2-core machine a cold etcd and API server take tens of seconds.
const startTimeout = 3 * time.Minute

// Cluster is a running control plane.
type Cluster struct {
	// Config reaches the API server as an administrator (system:masters).
	Config *rest.Config
	// Kubeconfig is Config as a kubeconfig file's content.
	Kubeconfig []byte
	// Clientset and Dynamic are clients built from Config.
	Clientset *kubernetes.Clientset
	Dynamic   dynamic.Interface
	// Mapper maps kinds to resources, CRDs included.
	Mapper *restmapper.DeferredDiscoveryRESTMapper
	// CRDs is how many CustomResourceDefinitions were installed.
	CRDs int

	env     *envtest.Environment
	binDir  string
	workDir string
	// exited is the first early exit of a process run started (its name,
	// status and log tail); the cluster's waits stop on it.
	exitMu sync.Mutex
	exited error
}

// Option changes how Start configures the control plane.
type Option func(*envtest.Environment)

// WithServiceAccountAdmission turns the API server's ServiceAccount
// admission plugin back on: envtest turns it off (controlplane/apiserver.go
// at controller-runtime v0.24.1) because no controller creates namespaces'
// default accounts there. On every real cluster it is on, and a pod naming
// an account that does not exist is refused; with it, so is it here. Use it
// with StartWorkloadControllers, whose serviceaccount-controller creates
// the default accounts.
func WithServiceAccountAdmission() Option {
	return func(env *envtest.Environment) {
		env.ControlPlane.GetAPIServer().Configure().Disable("disable-admission-plugins")
	}
}

// Start starts etcd and the API server, installs the CRDs of every module
// in CRDSources and registers their teardown with t.Cleanup. It fails the
// test when a binary is missing (skips with BAC_TEST_CLUSTER_OPTIONAL=1).
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	binDir, err := BinaryDir()
	if err != nil {
		t.Fatal(err)
	}
	if missing := missingBinaries(binDir, "kube-apiserver", "etcd"); len(missing) > 0 {
		absent(t, binDir, missing)
	}
	crdPaths, err := CRDPaths(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// envtest logs through controller-runtime's logger; the tests report
	// what matters themselves.
	ctrllog.SetLogger(logr.Discard())
	workDir := t.TempDir()
	assets, err := reapable(binDir, workDir, "etcd", "kube-apiserver")
	if err != nil {
		t.Fatal(err)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        crdPaths,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: startTimeout,
		ControlPlaneStopTimeout:  time.Minute,
	}
	env.CRDInstallOptions.MaxTime = startTimeout
	for _, opt := range opts {
		opt(env)
	}
	c := &Cluster{env: env, binDir: binDir, workDir: workDir}
	// Registered before Start: a control plane that started halfway (etcd
	// up, the API server not) is stopped too.
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the test control plane: %v", err)
		}
	})
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting the test control plane from %s: %v", binDir, err)
	}
	c.Config, c.Kubeconfig, c.CRDs = cfg, env.KubeConfig, len(env.CRDs)
	if c.Clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if c.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return c
}

// reapable returns a directory where each named binary of binDir is a
// two-line script that execs it under setpriv --pdeathsig KILL (util-linux),
// so the kernel kills the process when the test binary that started it
// dies: envtest starts etcd and the API server in process groups of their
// own and stops them only from a cleanup, which a killed test binary never
// runs. Without setpriv, binDir itself is returned.
func reapable(binDir, workDir string, names ...string) (string, error) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || runtime.GOOS != "linux" {
		return binDir, nil
	}
	dir := filepath.Join(workDir, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, n := range names {
		script := fmt.Sprintf("#!/bin/sh\nexec %s --pdeathsig KILL -- %s \"$@\"\n", setpriv, filepath.Join(binDir, n))
		if err := os.WriteFile(filepath.Join(dir, n), []byte(script), 0o755); err != nil {
			return "", fmt.Errorf("wrapping %s: %w", n, err)
		}
	}
	return dir, nil
}

// BinaryDir is where the control-plane binaries are: $KUBEBUILDER_ASSETS
// when set (envtest's convention), else bin/k8s in the repository.
func BinaryDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin", "k8s"), nil
}

// repoRoot is the directory holding go.mod, found from this source file.
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("kubecluster: cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", ".."), nil
}

func missingBinaries(dir string, names ...string) []string {
	var missing []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			missing = append(missing, n)
		}
	}
	return missing
}

// absent fails (or, when OptionalEnv is set, skips) a test whose binaries
// are not built.
func absent(t testing.TB, dir string, missing []string) {
	t.Helper()
	msg := fmt.Sprintf("%v not found in %s: run `make tools` (or set KUBEBUILDER_ASSETS to prebuilt envtest binaries)", missing, dir)
	if os.Getenv(OptionalEnv) == "1" {
		t.Skip(msg)
	}
	t.Fatal(msg)
}

// StartScheduler runs the real kube-scheduler against the cluster until the
// test ends. --secure-port=0 serves no health endpoint, so nothing listens:
// the scheduler only talks to the API server. No leader election: it is alone.
func (c *Cluster) StartScheduler(t testing.TB) {
	t.Helper()
	c.run(t, "kube-scheduler", "--leader-elect=false", "--secure-port=0", "-v=2")
}

// WorkloadControllers are the kube-controller-manager controllers the test
// cluster runs (names from cmd/kube-controller-manager/names at v1.35.4):
// the ones that turn Deployments, DaemonSets, StatefulSets and Jobs into
// pods, give Services their endpoints, create every namespace's default
// ServiceAccount, lift a Ready node's not-ready taint, finish a deleted
// namespace and collect what its owner left. No cloud, volume or
// certificate controllers: nothing here would serve them.
var WorkloadControllers = []string{
	"deployment-controller", "replicaset-controller", "daemonset-controller",
	"statefulset-controller", "job-controller", "cronjob-controller",
	"endpoints-controller", "endpointslice-controller", "serviceaccount-controller", "namespace-controller",
	"garbage-collector-controller", "node-lifecycle-controller", "disruption-controller",
}

// KWOKNodeAnnotation marks the nodes KWOK manages (its own convention).
const KWOKNodeAnnotation = "kwok.x-k8s.io/node"

// StartWorkloadControllers runs the real kube-controller-manager (the
// WorkloadControllers) and KWOK, which plays the kubelet of every node
// annotated KWOKNodeAnnotation=fake with the default stages kwokctl uses
// (bin/k8s/kwok-stages.yaml): nodes become Ready and keep their lease,
// scheduled pods become Running and Ready with an address. With the
// scheduler, Deployments and DaemonSets become available as on a real
// cluster, only no container runs.
func (c *Cluster) StartWorkloadControllers(t testing.TB) {
	t.Helper()
	stages := filepath.Join(filepath.Dir(toolPath(t, "kwok")), "kwok-stages.yaml")
	if _, err := os.Stat(stages); err != nil {
		absent(t, filepath.Dir(stages), []string{"kwok-stages.yaml"})
	}
	c.run(t, "kube-controller-manager", "--leader-elect=false", "--secure-port=0",
		"--controllers="+strings.Join(WorkloadControllers, ","),
		// The node lifecycle controller's defaults wait 40 s before acting on a
		// node; KWOK renews leases, so a shorter grace only speeds the start.
		"--node-monitor-grace-period=20s", "-v=1")
	c.run(t, "kwok", "--config="+stages, "--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector="+KWOKNodeAnnotation+"=fake",
		"--cidr=10.244.0.0/16", "--node-ip=10.0.0.10", "--node-lease-duration-seconds=40")
}

// toolPath is a control-plane binary `make tools` builds into bin/k8s:
// prebuilt envtest assets carry only the API server and etcd, so the
// scheduler, controller manager and KWOK always come from there. The test
// fails (or skips, see OptionalEnv) when it is missing.
func toolPath(t testing.TB, name string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "bin", "k8s", name)
	if _, err := os.Stat(path); err != nil {
		absent(t, filepath.Dir(path), []string{name})
	}
	return path
}

// run starts bin/k8s/<name> with the administrator's kubeconfig and args,
// and stops it when the test ends. Its output goes to a log in the test's
// temporary directory, shown (its tail) when the test fails. The process
// gets its own process group and is killed with the test binary (Pdeathsig),
// so a test binary killed by a timeout leaves no control plane behind.
func (c *Cluster) run(t testing.TB, name string, args ...string) {
	t.Helper()
	path := toolPath(t, name)
	kubeconfig := filepath.Join(c.workDir, name+".kubeconfig")
	if err := os.WriteFile(kubeconfig, c.Kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(c.workDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, append([]string{"--kubeconfig=" + kubeconfig}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan error, 1)
	stopping := make(chan struct{})
	go func() {
		err := cmd.Wait()
		select {
		case <-stopping:
		default:
			// Nothing of the test stopped it: the cluster is broken, and
			// every wait on it would only time out. Say why now.
			out, _ := os.ReadFile(logPath)
			early := fmt.Errorf("%s exited early (%v); its log:\n%s", name, err, tail(out, 4000))
			t.Errorf("%v", early)
			c.exitMu.Lock()
			if c.exited == nil {
				c.exited = early
			}
			c.exitMu.Unlock()
		}
		exited <- err
	}()
	t.Cleanup(func() {
		close(stopping)
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
		if t.Failed() {
			if out, err := os.ReadFile(logPath); err == nil {
				t.Logf("%s log:\n%s", name, tail(out, 4000))
			}
		}
	})
}

// Alive returns the early exit of a control-plane process, if one
// happened; the cluster's waits poll it, so a dead scheduler, controller
// manager or KWOK ends them at once with its log instead of a timeout.
func (c *Cluster) Alive() error {
	c.exitMu.Lock()
	defer c.exitMu.Unlock()
	return c.exited
}

// tail returns at most the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
