package identity

import (
	"fmt"

	"github.com/pulumi/pulumi-keycloak/sdk/v5/go/keycloak"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SigningKey is the realm's active RS256 public key as Keycloak publishes
// it (base64 DER), read from the realm once it exists (pulumi-keycloak
// 5.2.1 getRealmKeys, filtered by algorithm and status). With several
// active RS256 keys Keycloak signs with the one of highest provider
// priority, so that one is returned. The realm's ID is unknown until the
// realm is created, so the read never runs in a first preview, when
// Keycloak does not exist yet. opts carry the keycloak provider.
func SigningKey(ctx *pulumi.Context, realm *keycloak.Realm, opts ...pulumi.InvokeOption) pulumi.StringOutput {
	keys := keycloak.GetRealmKeysOutput(ctx, keycloak.GetRealmKeysOutputArgs{
		RealmId:    realm.ID().ToStringOutput(),
		Algorithms: pulumi.ToStringArray([]string{"RS256"}),
		Statuses:   pulumi.ToStringArray([]string{"ACTIVE"}),
	}, opts...)
	return keys.Keys().ApplyT(func(keys []keycloak.GetRealmKeysKey) (string, error) {
		return signingKey(keys)
	}).(pulumi.StringOutput)
}

// signingKey picks the key Keycloak signs with among the active RS256 keys.
func signingKey(keys []keycloak.GetRealmKeysKey) (string, error) {
	best := -1
	for i, k := range keys {
		if k.Algorithm != "RS256" || k.Status != "ACTIVE" || k.PublicKey == "" {
			continue
		}
		if best < 0 || k.ProviderPriority > keys[best].ProviderPriority {
			best = i
		}
	}
	if best < 0 {
		return "", fmt.Errorf("the realm has no active RS256 key with a public key (%d keys read)", len(keys))
	}
	return keys[best].PublicKey, nil
}
