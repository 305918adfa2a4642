package engine

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/bac-platform/infra/policies/rules"
	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// previewed is a preview through the real engine as the engine's events
// show it: each resource's step with its inputs and outputs, unknowns as
// the engine's sentinel (plugin.UnknownStringValue), secrets masked.
type previewed struct {
	steps map[string]apitype.StepEventMetadata
}

// previewFresh previews the stack and collects the engine's step events.
func previewFresh(t *testing.T, ctx context.Context, es *engineStack) previewed {
	t.Helper()
	ch := make(chan events.EngineEvent)
	p := previewed{steps: map[string]apitype.StepEventMetadata{}}
	outputs := map[string]map[string]any{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range ch {
			if pre := ev.ResourcePreEvent; pre != nil && pre.Metadata.New != nil {
				p.steps[pre.Metadata.URN] = pre.Metadata
			}
			if out := ev.ResOutputsEvent; out != nil && out.Metadata.New != nil {
				outputs[out.Metadata.URN] = out.Metadata.New.Outputs
			}
		}
	}()
	_, err := es.stack.Preview(ctx, optpreview.EventStreams(ch))
	wg.Wait()
	if err != nil {
		t.Fatalf("fresh preview of %s: %v", es.name, err)
	}
	for urn, outs := range outputs {
		if s, ok := p.steps[urn]; ok {
			state := *s.New
			state.Outputs = outs
			s.New = &state
			p.steps[urn] = s
		}
	}
	return p
}

// ruleResources converts the previewed resources for the compliance rules:
// the inputs of every resource, unknowns read as rules.Unknown, and each
// resource's provider inputs. As in the state (ruleResources), a remote
// component's step carries no inputs (its children are judged instead).
func (p previewed) ruleResources() []rules.Resource {
	providers := map[string]map[string]any{}
	for urn, s := range p.steps {
		if strings.HasPrefix(s.Type, "pulumi:providers:") {
			providers[urn] = masked(s.New.Inputs).(map[string]any)
		}
	}
	var out []rules.Resource
	for urn, s := range p.steps {
		if s.Type == "pulumi:pulumi:Stack" || strings.HasPrefix(s.Type, "pulumi:providers:") ||
			(!s.New.Custom && len(s.New.Inputs) == 0) {
			continue
		}
		// A provider reference is "<provider URN>::<ID>"; a new provider's
		// ID is unknown at preview.
		provider := s.New.Provider
		if i := strings.LastIndex(provider, "::"); i >= 0 {
			provider = provider[:i]
		}
		u := resource.URN(urn)
		out = append(out, rules.NewResource(urn, s.Type, u.Name(), s.New.Parent,
			masked(s.New.Inputs).(map[string]any), providers[provider]))
	}
	return out
}

// unknownOutputs returns the outputs the preview reports as unknown for the
// resources of type typ.
func (p previewed) unknownOutputs(typ string) map[string]bool {
	unknown := map[string]bool{}
	for _, s := range p.steps {
		if s.Type != typ {
			continue
		}
		for k, v := range s.New.Outputs {
			if v == plugin.UnknownStringValue {
				unknown[k] = true
			}
		}
	}
	return unknown
}

func outcome(res rules.Result, name string) rules.Outcome {
	for _, o := range res.Outcomes {
		if o.Rule.Name == name {
			return o
		}
	}
	return rules.Outcome{}
}

// TestFreshStackPreviewPassesTheGate previews brand-new stacks (no prior
// up) through the real engine, with the simulated providers reporting what
// only the cloud assigns as unknown, and runs the compliance pack's rules
// over the preview: no violation, and the checks that read an unknown are
// reported as deferred. The last row shows the test can fail: the same
// preview with the KMS key's ARN known and empty is a violation.
//
// What stays simulated: the AWS, Vault, Keycloak and Kubernetes providers
// (package simulate: which outputs are unknown follows
// mockengine.PreviewState), and the pulumi-eks components' children
// (simulate/children.go, rendered as upstream's cluster.ts renders them).
// The rules run in the test process over the engine's preview events, as
// the policy pack's analyzer would receive the same inputs: the Go policy
// pack cannot be attached to the CLI here (no pulumi-language-go).
func TestFreshStackPreviewPassesTheGate(t *testing.T) {
	names, err := stackfile.Names(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		stack string
		// emptyKeyArn previews with the KMS key's ARN known and empty.
		emptyKeyArn bool
	}
	var rows []row
	for _, name := range names {
		rows = append(rows, row{stack: name})
	}
	rows = append(rows, row{stack: "prod-us-east-1", emptyKeyArn: true})
	for _, tt := range rows {
		label := tt.stack
		if tt.emptyKeyArn {
			label += "/known-empty-key-arn"
		}
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			es := newStack(t, ctx, tt.stack)
			if tt.emptyKeyArn {
				es.sims.PreviewOutput("aws:kms/key:Key", "arn", resource.NewProperty(""))
			}
			p := previewFresh(t, ctx, es)
			if es.sims.Count() != 0 {
				t.Fatalf("a preview created %d simulated resources", es.sims.Count())
			}
			res := rules.Evaluate(p.ruleResources(), nil)
			eks := outcome(res, "encryption-eks-secrets")

			if tt.emptyKeyArn {
				if eks.Status() != "failed" {
					t.Fatalf("encryption-eks-secrets is %s with a known-empty key ARN, want failed (deferred: %v)", eks.Status(), eks.Deferred)
				}
				if !containsSuffix(urnsOf(eks.Violations), "-eksCluster") {
					t.Errorf("the violation does not name the cluster the eks component creates: %v", eks.Violations)
				}
				return
			}

			for _, v := range res.Mandatory() {
				t.Errorf("fresh preview: %s", v.Format())
			}
			deferred := res.Deferred()
			for _, v := range deferred {
				t.Logf("deferred: %s %s: %s", v.Rule.Name, v.URN, v.Message)
			}
			if tt.stack == "local" {
				// No rule reads a value the local stack's preview leaves
				// unknown (Kubernetes uids and auto-names).
				return
			}
			if len(deferred) == 0 {
				t.Error("no check was deferred, although a fresh preview's outputs are unknown")
			}
			// What only AWS assigns is unknown; what the program set is not.
			if unknown := p.unknownOutputs("aws:kms/key:Key"); !unknown["arn"] || !unknown["keyId"] || unknown["description"] {
				t.Errorf("the KMS key's unknown outputs at preview: %v, want arn and keyId only", unknown)
			}
			if eks.Status() != "deferred" {
				t.Errorf("encryption-eks-secrets is %s at a fresh preview, want deferred (the key ARN is unknown): violations %v", eks.Status(), eks.Violations)
			}
			if !containsSuffix(urnsOf(eks.Deferred), "-eksCluster") {
				t.Errorf("the deferred check is not the cluster's key ARN: %v", eks.Deferred)
			}
		})
	}
}

func urnsOf(vs []rules.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.URN)
	}
	return out
}
