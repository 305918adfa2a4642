package identity

import (
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestSigningKeyIsTheActiveRS256KeyOfHighestPriority(t *testing.T) {
	key := func(alg, status, pub string, priority int) keycloak.GetRealmKeysKey {
		return keycloak.GetRealmKeysKey{Algorithm: alg, Status: status, PublicKey: pub, ProviderPriority: priority}
	}
	tests := []struct {
		name string
		keys []keycloak.GetRealmKeysKey
		want string
		err  string
	}{
		{"one", []keycloak.GetRealmKeysKey{key("RS256", "ACTIVE", "a", 100)}, "a", ""},
		{"highest priority signs", []keycloak.GetRealmKeysKey{key("RS256", "ACTIVE", "low", 100), key("RS256", "ACTIVE", "high", 200)}, "high", ""},
		{"passive ignored", []keycloak.GetRealmKeysKey{key("RS256", "PASSIVE", "old", 300), key("RS256", "ACTIVE", "new", 100)}, "new", ""},
		{"other algorithm ignored", []keycloak.GetRealmKeysKey{key("RSA-OAEP", "ACTIVE", "enc", 300), key("RS256", "ACTIVE", "sig", 100)}, "sig", ""},
		{"none", []keycloak.GetRealmKeysKey{key("HS512", "ACTIVE", "", 100)}, "", "no active RS256 key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := signingKey(tt.keys)
			if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("got %q, %v; want %q, error %q", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestTheSigningKeyIsReadFromTheRealm: the key is read from the realm the
// program created (its ID, which the provider knows only once the realm
// exists), through getRealmKeys.
func TestTheSigningKeyIsReadFromTheRealm(t *testing.T) {
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		realm, err := keycloak.NewRealm(ctx, "realm", &keycloak.RealmArgs{Realm: pulumi.String("bac")})
		if err != nil {
			return err
		}
		// A resource that consumes the key, so the mock records it.
		_, err = corev1.NewSecret(ctx, "consumer", &corev1.SecretArgs{
			StringData: pulumi.StringMap{"key": SigningKey(ctx, realm)},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := m.Find("kubernetes:core/v1:Secret", "consumer")
	if !ok || s.RevealedInput("stringData.key") != mockengine.RealmRS256Key {
		t.Fatalf("key = %v, want the realm's RS256 key", s.RevealedInput("stringData.key"))
	}
}
