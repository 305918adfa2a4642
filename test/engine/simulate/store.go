package simulate

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// record is a simulated cloud resource: the inputs it was configured with
// and the outputs it reports, both subject to drift.
type record struct {
	urn resource.URN
	key idKey
	// seed is the name the outputs generator was given; a replacement gets
	// a new one, so the cloud hands out a fresh ID and ARN (see create).
	seed string
	// physical is the resource's physical name (see PhysicalName), "" when
	// the cloud or the provider names it.
	physical        string
	inputs, outputs resource.PropertyMap
}

// idKey identifies a resource in the simulated cloud: its type and the ID
// the provider returned (IDs are only unique per type: an S3 bucket and its
// configuration resources share the bucket's name as ID).
type idKey struct{ typ, id string }

// store is a provider's simulated cloud: resources by ID, as a cloud keeps
// them, with the two indexes the protocol and the cloud need: URN to ID
// (Drift and Construct's children only know URNs; during a create-before-
// delete replacement a URN has two live resources and the index names the
// newer) and physical name to ID (uniqueness).
type store struct {
	byID  map[idKey]*record
	ids   map[resource.URN]idKey
	names map[string]idKey
	// creates counts the resources created per URN (replacements included).
	creates map[resource.URN]int
}

func newStore() *store {
	return &store{byID: map[idKey]*record{}, ids: map[resource.URN]idKey{},
		names: map[string]idKey{}, creates: map[resource.URN]int{}}
}

// put stores a new resource, refusing an ID or a physical name a live
// resource holds, as the cloud refuses a second bucket, role or cluster of
// one name.
func (s *store) put(rec *record) error {
	if held, ok := s.names[rec.physical]; rec.physical != "" && ok {
		return fmt.Errorf("%s %q already exists (held by %s, ID %q): %s", typeLabel(rec.key.typ),
			physicalLabel(rec.physical), s.byID[held].urn, held.id, conflictText(rec.key.typ))
	}
	if held, ok := s.byID[rec.key]; ok {
		return fmt.Errorf("%s with ID %q already exists (held by %s)", typeLabel(rec.key.typ), rec.key.id, held.urn)
	}
	s.byID[rec.key] = rec
	s.ids[rec.urn] = rec.key
	s.creates[rec.urn]++
	if rec.physical != "" {
		s.names[rec.physical] = rec.key
	}
	return nil
}

// get returns the live resource of a type with an ID.
func (s *store) get(typ, id string) (*record, bool) {
	rec, ok := s.byID[idKey{typ, id}]
	return rec, ok
}

// byURN returns the newest live resource of a URN.
func (s *store) byURN(urn resource.URN) (*record, bool) {
	key, ok := s.ids[urn]
	if !ok {
		return nil, false
	}
	rec, ok := s.byID[key]
	return rec, ok
}

// remove deletes the resource of a type with an ID; the URN index keeps
// pointing at a newer resource of the same URN (a replacement's).
func (s *store) remove(typ, id string) {
	key := idKey{typ, id}
	rec, ok := s.byID[key]
	if !ok {
		return
	}
	delete(s.byID, key)
	if s.ids[rec.urn] == key {
		delete(s.ids, rec.urn)
	}
	if rec.physical != "" && s.names[rec.physical] == key {
		delete(s.names, rec.physical)
	}
}

func typeLabel(typ string) string {
	if i := strings.LastIndex(typ, ":"); i >= 0 {
		return typ[i+1:]
	}
	return typ
}

// physicalLabel is the name part of a physical-name key.
func physicalLabel(key string) string {
	_, name, _ := strings.Cut(key, "\x00")
	return strings.ReplaceAll(name, "\x00", "/")
}

// conflictText is what each cloud answers when the name is taken.
func conflictText(typ string) string {
	switch {
	case strings.HasPrefix(typ, "aws:s3/"):
		return "BucketAlreadyOwnedByYou: Your previous request to create the named bucket succeeded and you already own it"
	case strings.HasPrefix(typ, "aws:iam/"):
		return "EntityAlreadyExists: an IAM entity with this name already exists"
	case strings.HasPrefix(typ, "aws:eks/"):
		return "ResourceInUseException: a resource with this name already exists in the cluster's account and region"
	case strings.HasPrefix(typ, "aws:"):
		return "AlreadyExists: the name is in use in this account and region"
	case strings.HasPrefix(typ, "kubernetes:"):
		return "AlreadyExists: an object of this kind with this name exists in the namespace"
	case strings.HasPrefix(typ, "vault:"):
		return "path is already in use"
	case strings.HasPrefix(typ, "keycloak:"):
		return "409 Conflict: an object with the same name exists in the realm"
	}
	return "the name is taken"
}

// physicalNameKeys are, per type, the inputs that make up a resource's
// physical name in its cloud: the scope first (a cluster, a realm, a mount),
// the name last. A resource without the last one is named by the provider or
// the cloud (auto-naming), and never collides.
var physicalNameKeys = map[string][]string{
	"aws:s3/bucketV2:BucketV2":                                       {"bucket"},
	"aws:s3/bucket:Bucket":                                           {"bucket"},
	"aws:iam/role:Role":                                              {"name"},
	"aws:iam/policy:Policy":                                          {"name"},
	"aws:iam/rolePolicy:RolePolicy":                                  {"role", "name"},
	"aws:iam/instanceProfile:InstanceProfile":                        {"name"},
	"aws:eks/cluster:Cluster":                                        {"name"},
	"aws:eks/nodeGroup:NodeGroup":                                    {"clusterName", "nodeGroupName"},
	"aws:eks/addon:Addon":                                            {"clusterName", "addonName"},
	"aws:cloudwatch/logGroup:LogGroup":                               {"name"},
	"aws:kms/alias:Alias":                                            {"name"},
	"aws:ec2/securityGroup:SecurityGroup":                            {"vpcId", "name"},
	"aws:ec2/launchTemplate:LaunchTemplate":                          {"name"},
	"vault:index/mount:Mount":                                        {"path"},
	"vault:transit/secretBackendKey:SecretBackendKey":                {"backend", "name"},
	"vault:database/secretBackendConnection:SecretBackendConnection": {"backend", "name"},
	"vault:database/secretBackendRole:SecretBackendRole":             {"backend", "name"},
	"keycloak:index/realm:Realm":                                     {"realm"},
	"keycloak:openid/client:Client":                                  {"realmId", "clientId"},
	"keycloak:index/role:Role":                                       {"realmId", "clientId", "name"},
	"keycloak:ldap/userFederation:UserFederation":                    {"realmId", "name"},
	"kubernetes:helm.sh/v3:Release":                                  {"namespace", "name"},
}

// PhysicalName returns the physical name of a resource of type typ with
// the given inputs, as a key unique per kind of object (for Kubernetes
// objects: apiVersion/kind, namespace and metadata.name), and whether it
// has one. A name that is not known yet (a preview) is no name.
func PhysicalName(typ string, inputs resource.PropertyMap) (string, bool) {
	keys, ok := physicalNameKeys[typ]
	values := inputs
	if !ok && strings.HasPrefix(typ, "kubernetes:") {
		meta := inputs["metadata"]
		if meta.IsSecret() {
			meta = meta.SecretValue().Element
		}
		if !meta.IsObject() {
			return "", false
		}
		keys, values = []string{"namespace", "name"}, meta.ObjectValue()
	}
	if len(keys) == 0 {
		return "", false
	}
	parts := []string{typ}
	for i, k := range keys {
		v := values[resource.PropertyKey(k)]
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		switch {
		case v.IsString() && v.StringValue() != "":
			parts = append(parts, v.StringValue())
		case v.IsNull() && i < len(keys)-1:
			parts = append(parts, "") // an optional scope (a realm-level role)
		default:
			return "", false
		}
	}
	return strings.Join(parts, "\x00"), true
}
