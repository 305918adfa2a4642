// Package enginestack creates stacks for tests that drive the real Pulumi
// engine: the pulumi CLI `make tools` builds (bin/pulumi), the Automation
// API with an inline program, a file backend in the test's temporary
// directory, and providers attached through PULUMI_DEBUG_PROVIDERS. The
// engine suite (test/engine) and the real-provider suite (test/realkube)
// share it.
package enginestack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Options describe a stack.
type Options struct {
	// Root is the repository (where bin/pulumi and the stack files are).
	Root string
	// Project and Stack name the stack.
	Project, Stack string
	Program        pulumi.RunFunc
	// DebugProviders is the PULUMI_DEBUG_PROVIDERS value: the providers the
	// engine attaches to instead of starting plugins.
	DebugProviders string
	// Files are copied from Root into the stack's directory (Pulumi.yaml and
	// the stack file, for a stack file's configuration).
	Files []string
}

// CLI is the pulumi CLI `make tools` builds under root/bin; the test fails
// without it.
func CLI(t testing.TB, root string) auto.PulumiCommand {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err != nil {
		t.Fatalf("bin/pulumi is missing: run `make tools` first (make test does)")
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
	if err != nil {
		t.Fatalf("pulumi CLI: %v", err)
	}
	return cmd
}

// New creates the stack in a fresh file backend with a passphrase secrets
// provider.
func New(t testing.TB, ctx context.Context, o Options) auto.Stack {
	t.Helper()
	root, err := filepath.Abs(o.Root)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range o.Files {
		raw, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PULUMI_BACKEND_URL":       "file://" + filepath.Join(dir, "state"),
		"PULUMI_CONFIG_PASSPHRASE": "engine-test-passphrase",
		"PULUMI_DEBUG_PROVIDERS":   o.DebugProviders,
		"PULUMI_HOME":              filepath.Join(dir, "home"),
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	}
	stack, err := auto.UpsertStackInlineSource(ctx, o.Stack, o.Project, o.Program,
		auto.WorkDir(dir), auto.Pulumi(CLI(t, root)), auto.EnvVars(env), auto.SecretsProvider("passphrase"))
	if err != nil {
		t.Fatalf("stack %s: %v", o.Stack, err)
	}
	return stack
}

// SetSecrets gives the stack a value for every secret cfg needs, in one CLI
// call (paths: the kubeconfig is nested): prefix and the setting's path,
// and kubeconfig for the kubeconfig. It returns the values by path.
func SetSecrets(t testing.TB, ctx context.Context, stack auto.Stack, cfg stacks.Config, prefix, kubeconfig string) map[string]string {
	t.Helper()
	config, values := auto.ConfigMap{}, map[string]string{}
	for _, path := range cfg.RequiredSecrets() {
		value := prefix + strings.NewReplacer(":", "-", ".", "-").Replace(path)
		if path == stacks.KubeconfigPath {
			value = kubeconfig
		}
		config[path], values[path] = auto.ConfigValue{Value: value, Secret: true}, value
	}
	if err := stack.SetAllConfigWithOptions(ctx, config, &auto.ConfigOptions{Path: true}); err != nil {
		t.Fatalf("config: %v", err)
	}
	return values
}
