package mockengine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Realm key public halves the mock Keycloak publishes: base64 DER
// SubjectPublicKeyInfo, as Keycloak's realm keys endpoint does. Only public
// keys; no private key exists anywhere.
const (
	// RealmRS256Key is the realm's signing key (rsa-generated, priority 100).
	RealmRS256Key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAkDWYnEJrIWEZe3WGH1ewna7O34vZWvIV5YKlDs1odKQK72GdHRt4ttXETV9/g+P9UOoTHzKjXSQE4kuJ+TKL7/egcnAQZMD1x3VHAPULMWnOdKmCKPKcsD+uo+m6Bs6Je6lUfvPtEkFWrgY805m5okJgsZZdFGtYJONpgn0ar/QQvxT9GxilFC5dmbKyxelr7DGC6NB08OmKnOeO59mC6ZIqWk/wvSnbNwm1y+VZ3WqUm2I3bb7Pru/ZEMFiu5nfpnHJiTzYb/HX45j/OCp85eCsC2tdZzKOlpGtcMdojHyzBvaGzRRNUDcmCoK2q52GX06cozS6VimJpRZKwnjSawIDAQAB"
	// realmOAEPKey is the realm's encryption key (rsa-enc-generated).
	realmOAEPKey = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtINGNrV39HotJgmBf4c/DcdRuzsfpXaxJMMT1fCNWxJNReRMCpomOehAWKybTT9uEZr2ApjChY87CmZj7b6c+mC0yX0X+Jf6kh3OiAzCYk/wHQ6cQ92o/pZstz5L29Wwq30mzcYigMt463jWfesKDYROdhCPv675BPJyvjRUjLK9Ecq3egDKkx9Ffhs4YOGxnniiIjW6QFguo3yaG4iuSrxJ0/bDdSuEFohL/egQxNxHhtHtjhAHDHcNJCf8o69A+2Rz48n6JLNWnoW2SIwFh6bF/GbrDUERveV5EqHCm/kjtwcw5VsXCoOw9jSy2r0bVWgrbRnRHMO916zeWQ8T7wIDAQAB"
)

// realmKey is one key of a Keycloak realm as getRealmKeys reports it.
type realmKey struct {
	algorithm, kid, providerID, status, typ, publicKey string
	priority                                           int
}

// realmKeys are the keys a new Keycloak 26 realm generates: an RS256
// signing key, an RSA-OAEP encryption key, and the HMAC and AES secrets
// (which have no public key).
func realmKeys() []realmKey {
	return []realmKey{
		{"RS256", "kid-rs256", "rsa-generated", "ACTIVE", "RSA", RealmRS256Key, 100},
		{"RSA-OAEP", "kid-rsa-oaep", "rsa-enc-generated", "ACTIVE", "RSA", realmOAEPKey, 100},
		{"HS512", "kid-hs512", "hmac-generated-hs512", "ACTIVE", "OCT", "", 100},
		{"AES", "kid-aes", "aes-generated", "ACTIVE", "OCT", "", 100},
	}
}

// Invoke answers a provider function (data source) call as the real
// provider would. Both the offline plan (Mocks.Call) and the real-engine
// simulator use it; a function without an answer here is an error, never a
// silent echo of its arguments.
func Invoke(token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	switch token {
	case "keycloak:index/getRealmKeys:getRealmKeys":
		return getRealmKeys(args)
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return callerIdentity(), nil
	case "aws:iam/getSessionContext:getSessionContext":
		return sessionContext(inputString(args, "arn"))
	}
	return nil, fmt.Errorf("mock engine: no answer for invoke %s; add one to mockengine.Invoke", token)
}

// getRealmKeys filters the realm's keys like the keycloak provider: a key
// must match every filter, and no match is an error.
func getRealmKeys(args resource.PropertyMap) (resource.PropertyMap, error) {
	realm := inputString(args, "realmId")
	if realm == "" {
		return nil, fmt.Errorf("getRealmKeys: realmId is required")
	}
	filter := func(key string) []string {
		var out []string
		if v, ok := args[resource.PropertyKey(key)]; ok && v.IsArray() {
			for _, e := range v.ArrayValue() {
				if e.IsString() {
					out = append(out, e.StringValue())
				}
			}
		}
		return out
	}
	algorithms, statuses := filter("algorithms"), filter("statuses")
	var keys []resource.PropertyValue
	for _, k := range realmKeys() {
		if (len(algorithms) > 0 && !slices.Contains(algorithms, k.algorithm)) || (len(statuses) > 0 && !slices.Contains(statuses, k.status)) {
			continue
		}
		keys = append(keys, resource.NewObjectProperty(resource.PropertyMap{
			"algorithm": str(k.algorithm), "certificate": str(""), "kid": str(k.kid), "providerId": str(k.providerID),
			"providerPriority": resource.NewNumberProperty(float64(k.priority)), "publicKey": str(k.publicKey),
			"status": str(k.status), "type": str(k.typ),
		}))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("getRealmKeys: no key of realm %s matches the filter", realm)
	}
	out := resource.PropertyMap{"id": str(realm), "realmId": str(realm), "keys": resource.NewArrayProperty(keys)}
	for key, list := range map[string][]string{"algorithms": algorithms, "statuses": statuses} {
		var vs []resource.PropertyValue
		for _, s := range list {
			vs = append(vs, str(s))
		}
		out[resource.PropertyKey(key)] = resource.NewArrayProperty(vs)
	}
	return out, nil
}

// Caller is the principal the simulated AWS credentials belong to: a
// platform engineer's assumed role, which no stack names, so the creator
// contract (components/cluster/creator.go) holds for every stack file.
const (
	CallerAccount = "123456789012"
	CallerRole    = "bac-platform-engineer"
)

// callerIdentity answers sts:GetCallerIdentity for an assumed role, as STS
// does: the ARN is the session's (arn:aws:sts::<account>:assumed-role/...).
func callerIdentity() resource.PropertyMap {
	return resource.PropertyMap{
		"id": str(CallerAccount), "accountId": str(CallerAccount),
		"arn":    str("arn:aws:sts::" + CallerAccount + ":assumed-role/" + CallerRole + "/session"),
		"userId": str("AROAEXAMPLEID:session"),
	}
}

// sessionContext answers aws.iam.getSessionContext as the aws provider
// documents it: an assumed-role session ARN gives the role's IAM ARN as
// issuerArn (the real provider also looks up the role's path, which a
// simulated account does not have: roles here have none), any other ARN
// is returned as issuerArn unchanged with the other fields empty.
func sessionContext(arn string) (resource.PropertyMap, error) {
	if arn == "" {
		return nil, fmt.Errorf("getSessionContext: arn is required")
	}
	out := resource.PropertyMap{"id": str(arn), "arn": str(arn), "issuerArn": str(arn),
		"issuerId": str(""), "issuerName": str(""), "sessionName": str("")}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[2] == "sts" && strings.HasPrefix(parts[5], "assumed-role/") {
		role, session, ok := strings.Cut(strings.TrimPrefix(parts[5], "assumed-role/"), "/")
		if !ok {
			return nil, fmt.Errorf("getSessionContext: %q is not an assumed-role session ARN", arn)
		}
		out["issuerArn"] = str("arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + role)
		out["issuerName"] = str(role)
		out["sessionName"] = str(session)
	}
	return out, nil
}
