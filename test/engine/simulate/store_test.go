package simulate

import (
	"context"
	"strings"
	"testing"

	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const bucketURN = "urn:pulumi:prod::bac::aws:s3/bucketV2:BucketV2::logs"

func create(t *testing.T, p *Provider, urn string, inputs map[string]any, preview bool) (*pulumirpc.CreateResponse, error) {
	t.Helper()
	props, err := marshal(resource.NewPropertyMapFromMap(inputs))
	if err != nil {
		t.Fatal(err)
	}
	return p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: urn, Properties: props, Preview: preview})
}

func TestCreatePreviewReportsWhatOnlyTheCloudAssignsAsUnknown(t *testing.T) {
	p := &Provider{pkg: "aws", region: "us-east-1", cloud: newStore()}
	tests := []struct {
		name, urn      string
		inputs         map[string]any
		known, unknown []string
	}{
		{"kms key", "urn:pulumi:prod::bac::aws:kms/key:Key::secrets", map[string]any{"description": "eks secrets"},
			[]string{"description"}, []string{"arn", "keyId"}},
		{"named bucket", bucketURN, map[string]any{"bucket": "bac-logs"},
			[]string{"bucket"}, []string{"arn", "bucketDomainName"}},
		{"auto-named bucket", "urn:pulumi:prod::bac::aws:s3/bucketV2:BucketV2::audit", map[string]any{},
			nil, []string{"bucket", "arn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := create(t, p, tt.urn, tt.inputs, true)
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetId() != "" {
				t.Errorf("preview ID %q, want none", resp.GetId())
			}
			outs, err := unmarshal(resp.GetProperties())
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.unknown {
				if !outs[resource.PropertyKey(k)].IsComputed() {
					t.Errorf("%s = %v at preview, want unknown", k, outs[resource.PropertyKey(k)])
				}
			}
			for _, k := range tt.known {
				if v := outs[resource.PropertyKey(k)]; v.ContainsUnknowns() || v.IsNull() {
					t.Errorf("%s = %v at preview, want known", k, v)
				}
			}
		})
	}
	if len(p.cloud.byID) != 0 {
		t.Errorf("a preview stored %d resources", len(p.cloud.byID))
	}
}

func TestPreviewStateKeepsGivenKubernetesNames(t *testing.T) {
	inputs := resource.NewPropertyMapFromMap(map[string]any{"metadata": map[string]any{"name": "kong", "namespace": "gateway"}})
	_, computed := mockengine.Outputs("us-east-1", "kubernetes:core/v1:Service", "kong", inputs, true)
	meta := mockengine.PreviewState(inputs, computed)["metadata"].ObjectValue()
	if meta["name"].StringValue() != "kong" || !meta["uid"].IsComputed() {
		t.Fatalf("metadata at preview %v, want the given name and an unknown uid", meta)
	}
	auto := resource.PropertyMap{"metadata": resource.NewObjectProperty(resource.PropertyMap{})}
	_, computed = mockengine.Outputs("us-east-1", "kubernetes:core/v1:Service", "kong", auto, true)
	if !mockengine.PreviewState(auto, computed)["metadata"].ObjectValue()["name"].IsComputed() {
		t.Fatal("an auto-name is known at preview")
	}
}

func TestUpdatePreviewUnknownsOnlyWhatTheChangeAffects(t *testing.T) {
	p := &Provider{pkg: "aws", region: "us-east-1", cloud: newStore()}
	urn := "urn:pulumi:prod::bac::aws:eks/addon:Addon::coredns"
	resp, err := create(t, p, urn, map[string]any{"clusterName": "bac", "addonName": "coredns"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// Pinning the version changes the computed addonVersion; the ARN stays.
	news, _ := marshal(resource.NewPropertyMapFromMap(map[string]any{"clusterName": "bac", "addonName": "coredns", "addonVersion": "v1.11.4-eksbuild.2"}))
	up, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: urn, Id: resp.GetId(), News: news, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	outs, _ := unmarshal(up.GetProperties())
	if outs["arn"].ContainsUnknowns() || outs["addonVersion"].StringValue() != "v1.11.4-eksbuild.2" {
		t.Fatalf("update preview outputs %v: the ARN must stay known and the version echo the input", outs)
	}
	olds, _ := unmarshal(resp.GetProperties())
	if olds["addonVersion"].DeepEquals(outs["addonVersion"]) {
		t.Fatal("test premise: the version must change")
	}
}

func TestNamedResourcesAreUniqueInTheCloud(t *testing.T) {
	p := &Provider{pkg: "aws", region: "us-east-1", cloud: newStore()}
	first, err := create(t, p, bucketURN, map[string]any{"bucket": "bac-logs"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// A create-before-delete replacement of the same URN with the same name.
	if _, err := create(t, p, bucketURN, map[string]any{"bucket": "bac-logs", "forceDestroy": true}, false); err == nil ||
		!strings.Contains(err.Error(), `BucketV2 "bac-logs" already exists`) || !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		t.Fatalf("second bucket of one name: %v", err)
	}
	// Another URN, same name: the same refusal.
	if _, err := create(t, p, "urn:pulumi:prod::bac::aws:s3/bucketV2:BucketV2::other", map[string]any{"bucket": "bac-logs"}, false); err == nil {
		t.Fatal("a second stack resource took a live bucket's name")
	}
	// Once the old one is deleted (delete-before-replace), the name is free.
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: bucketURN, Id: first.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := create(t, p, bucketURN, map[string]any{"bucket": "bac-logs"}, false); err != nil {
		t.Fatalf("after the delete: %v", err)
	}

	// An auto-named replacement gets a fresh ID and ARN; both live until
	// the engine deletes the old one by its ID.
	urn := "urn:pulumi:prod::bac::aws:kms/key:Key::secrets"
	a, err := create(t, p, urn, map[string]any{}, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := create(t, p, urn, map[string]any{"keyUsage": "ENCRYPT_DECRYPT"}, false)
	if err != nil {
		t.Fatalf("replacement of an auto-named key: %v", err)
	}
	if a.GetId() == b.GetId() {
		t.Fatalf("the replacement reused ID %s", a.GetId())
	}
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: urn, Id: a.GetId()}); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	rec, ok := p.cloud.byURN(resource.URN(urn))
	p.mu.Unlock()
	if !ok || rec.key.id != b.GetId() {
		t.Fatalf("after deleting the old key the URN resolves to %v, want the replacement %s", rec, b.GetId())
	}
}

func TestPhysicalName(t *testing.T) {
	tests := []struct {
		typ    string
		inputs map[string]any
		named  bool
	}{
		{"aws:iam/role:Role", map[string]any{"name": "bac-deploy"}, true},
		{"aws:iam/role:Role", map[string]any{}, false},
		{"aws:eks/cluster:Cluster", map[string]any{"name": "bac-prod"}, true},
		{"vault:index/mount:Mount", map[string]any{"path": "bac/transit"}, true},
		{"keycloak:index/realm:Realm", map[string]any{"realm": "bac"}, true},
		{"keycloak:index/role:Role", map[string]any{"realmId": "bac", "name": "admin"}, true},
		{"kubernetes:apps/v1:Deployment", map[string]any{"metadata": map[string]any{"name": "kong", "namespace": "gateway"}}, true},
		{"kubernetes:apps/v1:Deployment", map[string]any{"metadata": map[string]any{}}, false},
		{"aws:kms/key:Key", map[string]any{"description": "k"}, false},
	}
	for _, tt := range tests {
		if _, named := PhysicalName(tt.typ, resource.NewPropertyMapFromMap(tt.inputs)); named != tt.named {
			t.Errorf("PhysicalName(%s, %v) named = %v, want %v", tt.typ, tt.inputs, named, tt.named)
		}
	}
	a, _ := PhysicalName("kubernetes:apps/v1:Deployment", resource.NewPropertyMapFromMap(map[string]any{"metadata": map[string]any{"name": "kong", "namespace": "a"}}))
	b, _ := PhysicalName("kubernetes:apps/v1:Deployment", resource.NewPropertyMapFromMap(map[string]any{"metadata": map[string]any{"name": "kong", "namespace": "b"}}))
	c, _ := PhysicalName("kubernetes:core/v1:Service", resource.NewPropertyMapFromMap(map[string]any{"metadata": map[string]any{"name": "kong", "namespace": "a"}}))
	if a == b || a == c {
		t.Error("objects of one name in other namespaces or of another kind collide")
	}
	unknown := resource.PropertyMap{"path": resource.MakeComputed(resource.NewProperty(""))}
	if _, named := PhysicalName("vault:index/mount:Mount", unknown); named {
		t.Error("an unknown path is a physical name")
	}
}

func TestDeleteBeforeReplace(t *testing.T) {
	m := func(v map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(v) }
	tests := []struct {
		name       string
		typ        string
		olds, news map[string]any
		replaces   []string
		want       bool
	}{
		{"named security group", "aws:ec2/securityGroup:SecurityGroup", map[string]any{"name": "api"},
			map[string]any{"name": "api", "description": "b"}, []string{"description"}, true},
		{"auto-named security group", "aws:ec2/securityGroup:SecurityGroup", map[string]any{"name": "api-1234567"},
			map[string]any{"name": "api-1234567", "description": "b", "__defaults": []any{"name"}}, []string{"description"}, false},
		{"no replacement", "aws:ec2/securityGroup:SecurityGroup", map[string]any{"name": "api"},
			map[string]any{"name": "api"}, nil, false},
		{"eks cluster name is not auto-nameable", "aws:eks/cluster:Cluster", map[string]any{"name": "bac"},
			map[string]any{"name": "bac"}, []string{"vpcConfig"}, false},
		{"vault mount path", "vault:index/mount:Mount", map[string]any{"path": "t"}, map[string]any{"path": "t", "type": "kv"},
			[]string{"type"}, false},
		{"named kubernetes object keeps its name", "kubernetes:apps/v1:Deployment",
			map[string]any{"metadata": map[string]any{"name": "kong", "namespace": "gateway"}},
			map[string]any{"metadata": map[string]any{"name": "kong", "namespace": "gateway"}}, []string{"spec"}, true},
		{"renamed kubernetes object", "kubernetes:apps/v1:Deployment",
			map[string]any{"metadata": map[string]any{"name": "kong", "namespace": "gateway"}},
			map[string]any{"metadata": map[string]any{"name": "kong2", "namespace": "gateway"}}, []string{"metadata"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeleteBeforeReplace(tt.typ, m(tt.olds), m(tt.news), tt.replaces); got != tt.want {
				t.Fatalf("DeleteBeforeReplace = %v, want %v", got, tt.want)
			}
		})
	}
}
