package rules

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// FromStackExport reads the output of `pulumi stack export` (a deployed
// stack's state, version 3) as the rules see a stack: each resource with
// its inputs and its provider's inputs. Secrets, encrypted or shown with
// --show-secrets, read as "[secret]"; resources pending deletion and remote
// components (whose state holds outputs only; their children are in the
// state themselves) are left out.
func FromStackExport(data []byte) ([]Resource, error) {
	var untyped apitype.UntypedDeployment
	if err := json.Unmarshal(data, &untyped); err != nil {
		return nil, fmt.Errorf("read stack export: %w", err)
	}
	if untyped.Version != 3 {
		return nil, fmt.Errorf("read stack export: deployment version %d, want 3 (`pulumi stack export` of Pulumi v3)", untyped.Version)
	}
	var d apitype.DeploymentV3
	if err := json.Unmarshal(untyped.Deployment, &d); err != nil {
		return nil, fmt.Errorf("read stack export: %w", err)
	}
	providers := map[string]map[string]any{}
	for _, r := range d.Resources {
		if strings.HasPrefix(string(r.Type), "pulumi:providers:") {
			providers[string(r.URN)+"::"+string(r.ID)] = maskSecrets(r.Inputs).(map[string]any)
		}
	}
	var out []Resource
	for _, r := range d.Resources {
		if r.Delete || (!r.Custom && len(r.Inputs) == 0) {
			continue
		}
		props, _ := maskSecrets(r.Inputs).(map[string]any)
		out = append(out, NewResource(string(r.URN), string(r.Type), r.URN.Name(), string(r.Parent), props, providers[r.Provider]))
	}
	return out, nil
}

// maskSecrets replaces every serialized secret with the mask.
func maskSecrets(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if t[resource.SigKey] == resource.SecretSig {
			return secretMask
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = maskSecrets(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = maskSecrets(e)
		}
		return out
	}
	return v
}
