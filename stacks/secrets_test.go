package stacks

import (
	"strings"
	"testing"
)

// TestAPlaintextKubeconfigIsRefused: a kubeconfig (cluster credentials) set
// in plain text in a stack file is refused by its nested path, and the same
// value set with --secret is accepted.
func TestAPlaintextKubeconfigIsRefused(t *testing.T) {
	cfg := Defaults(Local, "")
	cfg.Cluster.Kubeconfig = "apiVersion: v1\nkind: Config"
	values := map[string]string{"bac:cluster": `{"name":"bac-local","kubeconfig":"apiVersion: v1\nkind: Config"}`}
	var found []string
	for _, p := range CheckSecrets(cfg, values, nil) {
		if strings.HasPrefix(p.String(), KubeconfigPath+": ") {
			found = append(found, p.String())
		}
	}
	want := KubeconfigPath + `: must be encrypted; set it with: pulumi config set --secret --path bac:cluster.kubeconfig "$(kind get kubeconfig)"`
	if len(found) != 1 || found[0] != want {
		t.Fatalf("problems %v, want %q", found, want)
	}
	for _, p := range CheckSecrets(cfg, values, []string{"bac:cluster"}) {
		if strings.HasPrefix(p.String(), KubeconfigPath) {
			t.Errorf("an encrypted kubeconfig was refused: %s", p)
		}
	}
}
