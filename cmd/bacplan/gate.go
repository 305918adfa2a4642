package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bac-platform/infra/policies/rules"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// ruleResources converts a plan's resources for the compliance rules, with
// each resource's provider inputs (default tags) attached.
func ruleResources(p Plan) []rules.Resource {
	providers := map[string]resource.PropertyMap{}
	for _, r := range p.Resources {
		if strings.HasPrefix(r.Type, "pulumi:providers:") {
			providers[r.URN] = r.Inputs
		}
	}
	out := make([]rules.Resource, 0, len(p.Resources))
	for _, r := range p.Resources {
		// A provider reference is "<provider URN>::<provider ID>".
		providerURN := ""
		if i := strings.LastIndex(r.Provider, "::"); i > 0 {
			providerURN = r.Provider[:i]
		}
		out = append(out, rules.FromProperties(r.URN, r.Type, r.Name, r.Parent, r.Inputs, providers[providerURN]))
	}
	return out
}

// loadLevels reads a policy config file in the shape `pulumi preview
// --policy-pack-config` takes: {"rule": "advisory"} or
// {"rule": {"enforcementLevel": "advisory"}}; "all" sets every rule.
func loadLevels(path string) (rules.Levels, error) {
	levels := rules.Levels{}
	if path == "" {
		return levels, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy config: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse policy config %s: %w", path, err)
	}
	known := map[string]bool{"all": true}
	for _, r := range rules.All() {
		known[r.Name] = true
	}
	for name, v := range doc {
		if !known[name] {
			return nil, fmt.Errorf("policy config %s: no rule %q", path, name)
		}
		text, _ := v.(string)
		if obj, ok := v.(map[string]any); ok {
			text, _ = obj["enforcementLevel"].(string)
		}
		level, err := rules.ParseLevel(text)
		if err != nil {
			return nil, fmt.Errorf("policy config %s: %s: %w", path, name, err)
		}
		if name == "all" {
			for _, r := range rules.All() {
				if _, set := doc[r.Name]; !set {
					levels[r.Name] = level
				}
			}
			continue
		}
		levels[name] = level
	}
	return levels, nil
}

// gate evaluates the rules over each plan, prints every violation (mandatory
// ones as errors, advisory ones as warnings) and reports whether any
// mandatory rule failed.
func gate(plans []Plan, levels rules.Levels, w io.Writer) (failed bool) {
	for _, p := range plans {
		result := rules.Evaluate(ruleResources(p), levels)
		for _, v := range result.Mandatory() {
			fmt.Fprintf(w, "error: stack %s violates a mandatory compliance rule:\n  %s\n", p.Stack, strings.ReplaceAll(v.Format(), "\n", "\n  "))
			failed = true
		}
		for _, v := range result.Advisory() {
			fmt.Fprintf(w, "warning: stack %s: advisory rule:\n  %s\n", p.Stack, strings.ReplaceAll(v.Format(), "\n", "\n  "))
		}
		mode := ""
		if p.FirstPreview {
			mode = " (first preview)"
		}
		fmt.Fprintf(w, "compliance gate %s%s: %d mandatory and %d advisory violation(s) over %d resources; %d check(s) deferred until their values are known\n",
			p.Stack, mode, len(result.Mandatory()), len(result.Advisory()), len(p.Resources), len(result.Deferred()))
	}
	return failed
}
