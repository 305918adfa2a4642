package mockengine_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
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
		return ctx.Invoke("aws:index/getAvailabilityZones:getAvailabilityZones", map[string]any{"id": "x"}, &out)
	})
	if err == nil || !strings.Contains(err.Error(), "no answer for invoke aws:index/getAvailabilityZones:getAvailabilityZones") {
		t.Fatalf("err = %v, want the unknown invoke refused", err)
	}
}

// TestRealmKeysAnswerLikeKeycloak: getRealmKeys filters by every criterion
// given, returns Keycloak's base64 DER public keys, and fails when no key
// matches, as the keycloak provider does.
func TestRealmKeysAnswerLikeKeycloak(t *testing.T) {
	keys := func(args resource.PropertyMap) []resource.PropertyValue {
		t.Helper()
		out, err := mockengine.Invoke("keycloak:index/getRealmKeys:getRealmKeys", args)
		if err != nil {
			t.Fatal(err)
		}
		return out["keys"].ArrayValue()
	}
	strs := func(v ...string) resource.PropertyValue {
		var out []resource.PropertyValue
		for _, s := range v {
			out = append(out, resource.NewProperty(s))
		}
		return resource.NewArrayProperty(out)
	}
	realm := resource.NewProperty("bac")
	if n := len(keys(resource.PropertyMap{"realmId": realm})); n != 4 {
		t.Errorf("unfiltered: %d keys, want the 4 a new realm has", n)
	}
	rs := keys(resource.PropertyMap{"realmId": realm, "algorithms": strs("RS256"), "statuses": strs("ACTIVE")})
	if len(rs) != 1 || rs[0].ObjectValue()["publicKey"].StringValue() != mockengine.RealmRS256Key {
		t.Errorf("RS256 ACTIVE = %v, want the signing key", rs)
	}
	der, err := base64.StdEncoding.DecodeString(mockengine.RealmRS256Key)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := x509.ParsePKIXPublicKey(der); err != nil {
		t.Errorf("signing key is not a DER public key: %v", err)
	} else if _, ok := k.(*rsa.PublicKey); !ok {
		t.Errorf("signing key is %T", k)
	}
	for _, args := range []resource.PropertyMap{
		{"realmId": realm, "algorithms": strs("ES256")},
		{"realmId": realm, "statuses": strs("PASSIVE")},
		{"algorithms": strs("RS256")},
	} {
		if _, err := mockengine.Invoke("keycloak:index/getRealmKeys:getRealmKeys", args); err == nil {
			t.Errorf("%v: no error, want no matching key refused", args)
		}
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

// TestSessionContextLikeTheAWSProvider: getSessionContext gives an assumed
// role's IAM ARN for its session ARN and returns any other ARN unchanged
// (the aws provider's documented behaviour), so the creator check sees the
// role EKS names in its access entries.
func TestSessionContextLikeTheAWSProvider(t *testing.T) {
	for _, tc := range []struct{ arn, want string }{
		{"arn:aws:sts::123456789012:assumed-role/bac-deploy/gha-run-17", "arn:aws:iam::123456789012:role/bac-deploy"},
		{"arn:aws-us-gov:sts::123456789012:assumed-role/ops/alice", "arn:aws-us-gov:iam::123456789012:role/ops"},
		{"arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice"},
		{"arn:aws:iam::123456789012:role/bac-deploy", "arn:aws:iam::123456789012:role/bac-deploy"},
	} {
		out, err := mockengine.Invoke("aws:iam/getSessionContext:getSessionContext", resource.PropertyMap{"arn": resource.NewProperty(tc.arn)})
		if err != nil {
			t.Fatalf("%s: %v", tc.arn, err)
		}
		if got := out["issuerArn"].StringValue(); got != tc.want {
			t.Errorf("issuerArn of %s = %s, want %s", tc.arn, got, tc.want)
		}
	}
	if _, err := mockengine.Invoke("aws:iam/getSessionContext:getSessionContext", resource.PropertyMap{"arn": resource.NewProperty("arn:aws:sts::1:assumed-role/nosession")}); err == nil {
		t.Error("a malformed session ARN must be refused")
	}
}
