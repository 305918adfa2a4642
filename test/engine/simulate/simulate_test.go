package simulate

import (
	"context"
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func props(t *testing.T, m map[string]any) resource.PropertyMap {
	t.Helper()
	return resource.NewPropertyMapFromMap(m)
}

func TestCheckRejectsMissingRequiredInputs(t *testing.T) {
	p := &Provider{pkg: "aws", region: "us-east-1", cloud: newStore()}
	news, _ := marshal(props(t, map[string]any{"clusterName": "bac"}))
	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Type: "aws:eks/addon:Addon", News: news})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetFailures()) != 1 || resp.GetFailures()[0].GetProperty() != "addonName" ||
		resp.GetFailures()[0].GetReason() != `missing required property "addonName"` {
		t.Fatalf("failures = %v", resp.GetFailures())
	}
}

func TestDiffInputs(t *testing.T) {
	tests := []struct {
		name             string
		typ              string
		olds, news       map[string]any
		changed, replace []string
	}{
		{"desired size updates in place", "aws:eks/nodeGroup:NodeGroup",
			map[string]any{"scalingConfig": map[string]any{"desiredSize": 30}, "instanceTypes": []any{"m6i.2xlarge"}},
			map[string]any{"scalingConfig": map[string]any{"desiredSize": 31}, "instanceTypes": []any{"m6i.2xlarge"}},
			[]string{"scalingConfig"}, nil},
		{"instance type replaces", "aws:eks/nodeGroup:NodeGroup",
			map[string]any{"instanceTypes": []any{"c6i.4xlarge"}}, map[string]any{"instanceTypes": []any{"c7i.4xlarge"}},
			[]string{"instanceTypes"}, []string{"instanceTypes"}},
		{"cluster subnets replace", "aws:eks/cluster:Cluster",
			map[string]any{"vpcConfig": map[string]any{"subnetIds": []any{"a"}, "endpointPublicAccess": true}},
			map[string]any{"vpcConfig": map[string]any{"subnetIds": []any{"b"}, "endpointPublicAccess": true}},
			[]string{"vpcConfig"}, []string{"vpcConfig"}},
		{"cluster endpoint updates in place", "aws:eks/cluster:Cluster",
			map[string]any{"vpcConfig": map[string]any{"subnetIds": []any{"a"}, "endpointPublicAccess": true}},
			map[string]any{"vpcConfig": map[string]any{"subnetIds": []any{"a"}, "endpointPublicAccess": false}},
			[]string{"vpcConfig"}, nil},
		{"vpc cidr replaces", "aws:ec2/vpc:Vpc", map[string]any{"cidrBlock": "10.0.0.0/16"}, map[string]any{"cidrBlock": "10.1.0.0/16"},
			[]string{"cidrBlock"}, []string{"cidrBlock"}},
		{"kms key spec replaces", "aws:kms/key:Key", map[string]any{"customerMasterKeySpec": "SYMMETRIC_DEFAULT"},
			map[string]any{"customerMasterKeySpec": "RSA_2048"}, []string{"customerMasterKeySpec"}, []string{"customerMasterKeySpec"}},
		{"transit key type replaces", "vault:transit/secretBackendKey:SecretBackendKey", map[string]any{"type": "aes256-gcm96"},
			map[string]any{"type": "chacha20-poly1305"}, []string{"type"}, []string{"type"}},
		{"realm name replaces", "keycloak:index/realm:Realm", map[string]any{"realm": "bac"}, map[string]any{"realm": "bac2"},
			[]string{"realm"}, []string{"realm"}},
		{"kubernetes rename replaces", "kubernetes:core/v1:Namespace", map[string]any{"metadata": map[string]any{"name": "a"}},
			map[string]any{"metadata": map[string]any{"name": "b"}}, []string{"metadata"}, []string{"metadata"}},
		{"kubernetes label updates", "kubernetes:core/v1:Namespace", map[string]any{"metadata": map[string]any{"name": "a"}},
			map[string]any{"metadata": map[string]any{"name": "a", "labels": map[string]any{"x": "y"}}}, []string{"metadata"}, nil},
		{"secret data replaces (the real provider's default)", "kubernetes:core/v1:Secret",
			map[string]any{"metadata": map[string]any{"name": "s"}, "stringData": map[string]any{"k": "a"}},
			map[string]any{"metadata": map[string]any{"name": "s"}, "stringData": map[string]any{"k": "b"}},
			[]string{"stringData"}, []string{"stringData"}},
		{"config map data replaces", "kubernetes:core/v1:ConfigMap",
			map[string]any{"metadata": map[string]any{"name": "c"}, "data": map[string]any{"k": "a"}},
			map[string]any{"metadata": map[string]any{"name": "c"}, "data": map[string]any{"k": "b"}},
			[]string{"data"}, []string{"data"}},
		{"secret labels update in place", "kubernetes:core/v1:Secret",
			map[string]any{"metadata": map[string]any{"name": "s"}, "stringData": map[string]any{"k": "a"}},
			map[string]any{"metadata": map[string]any{"name": "s", "labels": map[string]any{"x": "y"}}, "stringData": map[string]any{"k": "a"}},
			[]string{"metadata"}, nil},
		{"a value turned secret is no change", "aws:kms/key:Key", map[string]any{"description": "k"},
			map[string]any{"description": resource.MakeSecret(resource.NewProperty("k"))}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed, replace := DiffInputs(tt.typ, props(t, tt.olds), props(t, tt.news))
			if !reflect.DeepEqual(changed, tt.changed) || !reflect.DeepEqual(replace, tt.replace) {
				t.Fatalf("changed %v replace %v, want %v %v", changed, replace, tt.changed, tt.replace)
			}
		})
	}
}
