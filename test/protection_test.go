package test

import (
	"strings"
	"testing"
)

// TestProtectionFollowsContainment: a protected resource is only as safe as
// what contains it. Deleting a Vault mount destroys every key under it, so
// each mount holding a protected transit key is protected too, in every
// stack that deploys Vault.
func TestProtectionFollowsContainment(t *testing.T) {
	checked := 0
	for _, name := range stackNames(t) {
		run := runStack(t, name)
		mounts := map[string]bool{}
		for _, r := range run.mocks.ByType("vault:index/mount:Mount") {
			if path, ok := r.Input("path").(string); ok {
				mounts[strings.Trim(path, "/")] = r.Protect
			}
		}
		for _, key := range run.mocks.ByType("vault:transit/secretBackendKey:SecretBackendKey") {
			if !key.Protect {
				t.Errorf("stack %s: transit key %s is not protected", name, key.Name)
			}
			backend, _ := key.Input("backend").(string)
			protected, ok := mounts[strings.Trim(backend, "/")]
			switch {
			case !ok:
				t.Errorf("stack %s: transit key %s names mount %q, which the stack does not create", name, key.Name, backend)
			case !protected:
				t.Errorf("stack %s: mount %s holds the protected key %s but is not protected itself", name, backend, key.Name)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no stack deploys a transit key")
	}
}
