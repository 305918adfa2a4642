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
}

// Start starts etcd and the API server, installs the CRDs of every module
// in CRDSources and registers their teardown with t.Cleanup. It fails the
// test when a binary is missing (skips with BAC_TEST_CLUSTER_OPTIONAL=1).
func Start(t testing.TB) *Cluster {
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
	env := &envtest.Environment{
		BinaryAssetsDirectory:    binDir,
		CRDDirectoryPaths:        crdPaths,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: startTimeout,
		ControlPlaneStopTimeout:  time.Minute,
	}
	env.CRDInstallOptions.MaxTime = startTimeout
	c := &Cluster{env: env, binDir: binDir, workDir: t.TempDir()}
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

// SchedulerPath is the kube-scheduler binary: prebuilt envtest assets carry
// no scheduler, so it is always the one `make tools` builds into bin/k8s.
func SchedulerPath() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin", "k8s", "kube-scheduler"), nil
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
// test ends. Its log is written to the test's temporary directory and shown
// when the test fails.
func (c *Cluster) StartScheduler(t testing.TB) {
	t.Helper()
	path, err := SchedulerPath()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		absent(t, filepath.Dir(path), []string{"kube-scheduler"})
	}
	kubeconfig := filepath.Join(c.workDir, "scheduler.kubeconfig")
	if err := os.WriteFile(kubeconfig, c.Kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(c.workDir, "scheduler.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// --secure-port=0 serves no health endpoint, so nothing listens: the
	// scheduler only talks to the API server. No leader election: it is alone.
	cmd := exec.Command(path, "--kubeconfig="+kubeconfig, "--leader-elect=false", "--secure-port=0", "-v=2")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting kube-scheduler: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
		if t.Failed() {
			if out, err := os.ReadFile(logPath); err == nil {
				t.Logf("kube-scheduler log:\n%s", tail(out, 4000))
			}
		}
	})
}

// tail returns at most the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
