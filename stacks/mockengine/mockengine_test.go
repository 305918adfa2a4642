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
