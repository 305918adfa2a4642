package mockengine_test

import (
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TestUnknownInvokesFail: a data-source call the mock engine has no answer
// for fails the run instead of echoing its arguments back as a result, so a
// new data source in the program cannot be silently faked.
func TestUnknownInvokesFail(t *testing.T) {
	_, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		var out struct {
			AccountID string `pulumi:"accountId"`
		}
		return ctx.Invoke("aws:index/getCallerIdentity:getCallerIdentity", map[string]any{"id": "x"}, &out)
	})
	if err == nil || !strings.Contains(err.Error(), "no answer for invoke aws:index/getCallerIdentity:getCallerIdentity") {
		t.Fatalf("err = %v, want the unknown invoke refused", err)
	}
}

type thing struct{ pulumi.CustomResourceState }

// TestDuplicateURNsAreRefused: the mock engine refuses a second resource
// with the same type, name and parent, with the engine's own message, as
// `pulumi up` would.
func TestDuplicateURNsAreRefused(t *testing.T) {
	_, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		var first, second, other thing
		if err := ctx.RegisterResource("test:index:Thing", "dup", pulumi.Map{}, &first); err != nil {
			return err
		}
		if err := ctx.RegisterResource("test:index:Thing", "unique", pulumi.Map{}, &other); err != nil {
			return err
		}
		return ctx.RegisterResource("test:index:Thing", "dup", pulumi.Map{}, &second)
	})
	want := "Duplicate resource URN 'urn:pulumi:test::bac::test:index:Thing::dup'; try giving it a unique name"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}
