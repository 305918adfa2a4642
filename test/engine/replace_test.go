package engine

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/bac-platform/infra/test/engine/simulate"
	"github.com/bac-platform/infra/test/enginestack"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-vault/sdk/v7/go/vault"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// newProgramStack creates a stack of a small inline program in a fresh file
// backend, attached to its own simulated providers.
func newProgramStack(t *testing.T, ctx context.Context, program pulumi.RunFunc) (auto.Stack, *simulate.Set) {
	t.Helper()
	sims, err := simulate.Start("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Stop)
	stack := enginestack.New(t, ctx, enginestack.Options{Root: repoRoot, Project: "replace-test", Stack: "replace",
		Program: program, DebugProviders: sims.DebugProviders()})
	return stack, sims
}

// upOps runs up and returns the engine's step operations in order.
func upOps(ctx context.Context, s auto.Stack) ([]apitype.OpType, error) {
	ch := make(chan events.EngineEvent)
	var ops []apitype.OpType
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range ch {
			if out := ev.ResOutputsEvent; out != nil {
				ops = append(ops, out.Metadata.Op)
			}
		}
	}()
	_, err := s.Up(ctx, optup.SuppressProgress(), optup.EventStreams(ch))
	wg.Wait()
	return ops, err
}

func index(ops []apitype.OpType, op apitype.OpType) int {
	for i, o := range ops {
		if o == op {
			return i
		}
	}
	return -1
}

// TestReplacingNamedResources replaces resources through the real engine
// and the simulated cloud, which holds one live resource per physical name:
//
//   - a Vault mount keeps its path when its type changes (a replacement).
//     pulumi-vault does not ask for delete-before-replace (the path is no
//     auto-named input), so the engine creates the new mount first and
//     Vault refuses the path; the deleteBeforeReplace option fixes it.
//   - an AWS security group with a name the program set: the bridged
//     provider asks for delete-before-replace (simulate.DeleteBeforeReplace),
//     so the engine deletes the old group first and the replacement
//     succeeds; without a name, the engine creates first.
//
// What stays simulated: the Vault and AWS providers (package simulate).
func TestReplacingNamedResources(t *testing.T) {
	tests := []struct {
		name    string
		program func(ctx *pulumi.Context, variant string) error
		// wantErr is in the second up's error; "" means it succeeds.
		wantErr     string
		deleteFirst bool
	}{
		{
			name: "vault mount, create-before-delete collides",
			program: func(ctx *pulumi.Context, variant string) error {
				_, err := vault.NewMount(ctx, "transit", &vault.MountArgs{Path: pulumi.String("bac/transit"), Type: pulumi.String(variant)})
				return err
			},
			wantErr: "path is already in use",
		},
		{
			name: "vault mount, deleteBeforeReplace succeeds",
			program: func(ctx *pulumi.Context, variant string) error {
				_, err := vault.NewMount(ctx, "transit", &vault.MountArgs{Path: pulumi.String("bac/transit"), Type: pulumi.String(variant)},
					pulumi.DeleteBeforeReplace(true))
				return err
			},
			deleteFirst: true,
		},
		{
			name: "named security group, the provider deletes first",
			program: func(ctx *pulumi.Context, variant string) error {
				_, err := ec2.NewSecurityGroup(ctx, "api", &ec2.SecurityGroupArgs{Name: pulumi.String("bac-api"), Description: pulumi.String(variant)})
				return err
			},
			deleteFirst: true,
		},
		{
			name: "auto-named security group, created first",
			program: func(ctx *pulumi.Context, variant string) error {
				_, err := ec2.NewSecurityGroup(ctx, "api", &ec2.SecurityGroupArgs{Description: pulumi.String(variant)})
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			stack, sims := newProgramStack(t, ctx, func(pctx *pulumi.Context) error {
				return tt.program(pctx, config.Require(pctx, "variant"))
			})
			set := func(v string) {
				if err := stack.SetConfig(ctx, "replace-test:variant", auto.ConfigValue{Value: v}); err != nil {
					t.Fatal(err)
				}
			}
			// The mount's type and the group's description are replace keys.
			first, second := "transit", "kv"
			if strings.Contains(tt.name, "security group") {
				first, second = "api servers", "api and admin servers"
			}
			set(first)
			if _, err := upOps(ctx, stack); err != nil {
				t.Fatalf("first up: %v", err)
			}
			set(second)
			ops, err := upOps(ctx, stack)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("second up: %v, want an error with %q", err, tt.wantErr)
				}
				if sims.Count() != 1 {
					t.Errorf("the simulated cloud holds %d resources after the refused replacement, want the old one", sims.Count())
				}
				return
			}
			if err != nil {
				t.Fatalf("second up: %v", err)
			}
			created, deleted := index(ops, apitype.OpCreateReplacement), index(ops, apitype.OpDeleteReplaced)
			if created < 0 || deleted < 0 {
				t.Fatalf("second up's steps %v are no replacement", ops)
			}
			if tt.deleteFirst != (deleted < created) {
				t.Errorf("steps %v: delete-before-replace %v, want %v", ops, deleted < created, tt.deleteFirst)
			}
			if sims.Count() != 1 {
				t.Errorf("the simulated cloud holds %d resources after the replacement, want 1", sims.Count())
			}
		})
	}
}
