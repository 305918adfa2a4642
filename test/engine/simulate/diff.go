package simulate

import (
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Required are inputs the real providers refuse to go without, by type.
var Required = map[string][]string{
	"aws:ec2/subnet:Subnet":                                          {"vpcId"},
	"aws:ec2/routeTable:RouteTable":                                  {"vpcId"},
	"aws:ec2/natGateway:NatGateway":                                  {"subnetId"},
	"aws:ec2/flowLog:FlowLog":                                        {"trafficType"},
	"aws:iam/role:Role":                                              {"assumeRolePolicy"},
	"aws:iam/rolePolicy:RolePolicy":                                  {"role", "policy"},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":              {"role", "policyArn"},
	"aws:kms/alias:Alias":                                            {"targetKeyId"},
	"aws:eks/addon:Addon":                                            {"clusterName", "addonName"},
	"aws:eks/cluster:Cluster":                                        {"roleArn", "vpcConfig"},
	"aws:eks/nodeGroup:NodeGroup":                                    {"clusterName", "scalingConfig", "subnetIds"},
	"aws:ec2/securityGroupRule:SecurityGroupRule":                    {"securityGroupId", "type", "protocol", "fromPort", "toPort"},
	"vault:index/mount:Mount":                                        {"path", "type"},
	"vault:transit/secretBackendKey:SecretBackendKey":                {"backend", "name"},
	"vault:database/secretBackendConnection:SecretBackendConnection": {"backend"},
	"vault:database/secretBackendRole:SecretBackendRole":             {"backend", "dbName", "creationStatements"},
	"keycloak:index/realm:Realm":                                     {"realm"},
	"keycloak:openid/client:Client":                                  {"realmId", "clientId", "accessType"},
	"keycloak:index/role:Role":                                       {"realmId"},
	"keycloak:ldap/userFederation:UserFederation":                    {"realmId", "connectionUrl", "usersDn", "usernameLdapAttribute", "rdnLdapAttribute", "uuidLdapAttribute", "userObjectClasses"},
	"kubernetes:helm.sh/v3:Release":                                  {"chart"},
}

// replaceKeys are inputs the real providers cannot change in place.
var replaceKeys = map[string][]string{
	"aws:ec2/vpc:Vpc":                                 {"cidrBlock"},
	"aws:ec2/subnet:Subnet":                           {"cidrBlock", "availabilityZone", "vpcId"},
	"aws:ec2/natGateway:NatGateway":                   {"subnetId", "allocationId"},
	"aws:ec2/securityGroup:SecurityGroup":             {"vpcId", "name", "description"},
	"aws:cloudwatch/logGroup:LogGroup":                {"name"},
	"aws:kms/key:Key":                                 {"customerMasterKeySpec", "keyUsage"},
	"aws:kms/alias:Alias":                             {"name"},
	"aws:eks/cluster:Cluster":                         {"name", "vpcConfig.subnetIds"},
	"aws:eks/nodeGroup:NodeGroup":                     {"instanceTypes", "subnetIds", "nodeGroupName", "nodeGroupNamePrefix", "amiType", "clusterName"},
	"aws:eks/addon:Addon":                             {"clusterName", "addonName"},
	"vault:index/mount:Mount":                         {"path", "type"},
	"vault:transit/secretBackendKey:SecretBackendKey": {"name", "type", "backend"},
	"keycloak:index/realm:Realm":                      {"realm"},
	"keycloak:openid/client:Client":                   {"realmId", "clientId"},
	"kubernetes:helm.sh/v3:Release":                   {"name", "namespace"},
	// The real provider treats Secret and ConfigMap contents as immutable
	// unless its enableSecretMutable / enableConfigMapMutable options are
	// on (forceNewProperties, pkg/provider/diff.go of provider/v4 at
	// f47bc2d6f199); found by test/realkube, where the simulator had
	// answered an update.
	"kubernetes:core/v1:Secret":    {"type", "stringData", "data"},
	"kubernetes:core/v1:ConfigMap": {"binaryData", "data"},
}

// DiffInputs returns the top-level inputs that changed and those of them
// whose change forces a replacement. A nested replace key (vpcConfig.subnetIds)
// replaces only when that nested value changed. Kubernetes objects replace
// when their name or namespace changes.
func DiffInputs(typ string, olds, news resource.PropertyMap) (changed, replaces []string) {
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	for k := range keys {
		if k == "__defaults" {
			continue
		}
		o, n := olds[k], news[k]
		if equal(o, n) {
			continue
		}
		changed = append(changed, string(k))
		if forcesReplace(typ, string(k), o, n) {
			replaces = append(replaces, string(k))
		}
	}
	sort.Strings(changed)
	sort.Strings(replaces)
	return changed, replaces
}

func forcesReplace(typ, key string, o, n resource.PropertyValue) bool {
	if strings.HasPrefix(typ, "kubernetes:") && typ != "kubernetes:helm.sh/v3:Release" && key == "metadata" {
		return !equal(field(o, "name"), field(n, "name")) || !equal(field(o, "namespace"), field(n, "namespace"))
	}
	for _, rk := range replaceKeys[typ] {
		top, nested, isNested := strings.Cut(rk, ".")
		if top != key {
			continue
		}
		if !isNested || !equal(field(o, nested), field(n, nested)) {
			return true
		}
	}
	return false
}

// field returns a nested value of an object (through secrets and outputs).
func field(v resource.PropertyValue, key string) resource.PropertyValue {
	for v.IsSecret() || v.IsOutput() {
		if v.IsSecret() {
			v = v.SecretValue().Element
		} else {
			v = v.OutputValue().Element
		}
	}
	if !v.IsObject() {
		return resource.NewNullProperty()
	}
	return v.ObjectValue()[resource.PropertyKey(key)]
}

// equal compares values ignoring secretness (a value that became a secret
// is no change of the resource).
func equal(a, b resource.PropertyValue) bool {
	return plainEqual(goValue(a), goValue(b))
}

func plainEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !plainEqual(v, y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !plainEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// autonamed are, per type, the inputs the bridged providers fill in when
// the program leaves them out (auto-naming): pulumi-aws's provider
// resources.go marks a node group's nodeGroupName (tfbridge.AutoName) and
// its eks cluster gets no auto-name (name is required); the bucket of a
// bucket and the optional `name` of the other types are auto-named too
// (pulumi-aws's provider-wide auto-naming). The pulumi-aws provider module
// is not in this machine's module cache (only its SDK); this table is read
// from its public source. The Vault mount path and the Keycloak realm name
// the object they address and are not auto-named.
var autonamed = map[string]string{
	"aws:s3/bucketV2:BucketV2":                "bucket",
	"aws:s3/bucket:Bucket":                    "bucket",
	"aws:iam/role:Role":                       "name",
	"aws:iam/policy:Policy":                   "name",
	"aws:iam/instanceProfile:InstanceProfile": "name",
	"aws:cloudwatch/logGroup:LogGroup":        "name",
	"aws:ec2/securityGroup:SecurityGroup":     "name",
	"aws:ec2/launchTemplate:LaunchTemplate":   "name",
	"aws:kms/alias:Alias":                     "name",
	"aws:eks/nodeGroup:NodeGroup":             "nodeGroupName",
}

// DeleteBeforeReplace reports whether the real provider asks the engine to
// delete the old resource before creating its replacement, given the old
// outputs, the new inputs and the replacing keys:
//
//   - Kubernetes objects (pulumi-kubernetes provider/v4
//     pkg/provider/provider.go Diff): when the object is replaced, is named
//     by the program (metadata.name, not auto-named) and keeps its name and
//     namespace, since the API server holds one object per name.
//   - Bridged providers (pulumi-terraform-bridge pkg/tfbridge provider.go
//     Diff and schema.go nameRequiresDeleteBeforeReplace): when the
//     resource is replaced and the program set an auto-nameable input
//     itself (it is not listed in __defaults).
//
// Where neither applies (an EKS cluster's fixed name, a Vault mount's path)
// the engine creates the replacement first and the cloud refuses the name:
// the program must set the deleteBeforeReplace resource option.
func DeleteBeforeReplace(typ string, olds, news resource.PropertyMap, replaces []string) bool {
	if len(replaces) == 0 {
		return false
	}
	if strings.HasPrefix(typ, "kubernetes:") && typ != "kubernetes:helm.sh/v3:Release" {
		oldMeta, newMeta := field(resource.NewObjectProperty(olds), "metadata"), field(resource.NewObjectProperty(news), "metadata")
		name := field(newMeta, "name")
		return name.IsString() && name.StringValue() != "" && equal(name, field(oldMeta, "name")) &&
			equal(field(newMeta, "namespace"), field(oldMeta, "namespace"))
	}
	key, ok := autonamed[typ]
	if !ok {
		return false
	}
	if v, set := news[resource.PropertyKey(key)]; !set || v.IsNull() {
		return false
	}
	if defaults := news["__defaults"]; defaults.IsArray() {
		for _, d := range defaults.ArrayValue() {
			if d.IsString() && d.StringValue() == key {
				return false
			}
		}
	}
	return true
}
