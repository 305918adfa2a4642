package rules

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// setPath sets the value at a dotted path of plain JSON data ("a.b", "a[0]").
func setPath(t *testing.T, m map[string]any, path string, v any) {
	t.Helper()
	parts := strings.Split(path, ".")
	var cur any = m
	for i, p := range parts {
		name, index, isIndex := strings.Cut(p, "[")
		obj := cur.(map[string]any)
		last := i == len(parts)-1
		switch {
		case isIndex:
			l := obj[name].([]any)
			n := int(index[0] - '0')
			if last {
				l[n] = v
				return
			}
			cur = l[n]
		case last:
			obj[name] = v
			return
		default:
			cur = obj[name]
		}
	}
}

// outcome returns a rule's outcome in an evaluation.
func outcome(t *testing.T, res Result, name string) Outcome {
	t.Helper()
	for _, o := range res.Outcomes {
		if o.Rule.Name == name {
			return o
		}
	}
	t.Fatalf("no outcome for %s", name)
	return Outcome{}
}

// TestUnknownValuesAreDeferred: a value unknown at preview, wherever the
// rule reads it (top level, nested, a list element, a whole object), defers
// the verdict; the same resource with the known bad value is a violation.
func TestUnknownValuesAreDeferred(t *testing.T) {
	tests := []struct {
		name, rule, typ, props, path string
		bad                          any
	}{
		{"top level", "encryption-eks-secrets", eksComponent, `{"encryptionConfigKeyArn":"arn:k"}`, "encryptionConfigKeyArn", ""},
		{"nested", "encryption-eks-secrets", eksCluster, `{"encryptionConfig":{"provider":{"keyArn":"arn:k"},"resources":["secrets"]}}`,
			"encryptionConfig.provider.keyArn", ""},
		{"list element", "encryption-eks-secrets", eksCluster, `{"encryptionConfig":{"provider":{"keyArn":"arn:k"},"resources":["secrets"]}}`,
			"encryptionConfig.resources[0]", "configmaps"},
		{"list element read by iteration", "encryption-node-volumes", "aws:ec2/launchTemplate:LaunchTemplate",
			`{"blockDeviceMappings":[{"deviceName":"/dev/xvda","ebs":{"encrypted":"true"}}]}`, "blockDeviceMappings[0]", map[string]any{"ebs": map[string]any{}}},
		{"whole object", "identity-brute-force", keycloakRealm, `{"securityDefenses":{"bruteForceDetection":` + seedBruteForce + `}}`,
			"securityDefenses", map[string]any{}},
		{"container field", "privilege-no-root-or-privileged", deployment, okPod,
			"spec.template.spec.containers[0].securityContext.runAsNonRoot", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := res(tt.typ, tt.props)
			setPath(t, r.Props, tt.path, r.Unknown())
			o := outcome(t, Evaluate([]Resource{r}, nil), tt.rule)
			if len(o.Violations) != 0 || len(o.Deferred) == 0 || o.Status() != "deferred" {
				t.Fatalf("unknown %s: violations %v, deferred %v, status %s", tt.path, o.Violations, o.Deferred, o.Status())
			}
			known := res(tt.typ, tt.props)
			setPath(t, known.Props, tt.path, tt.bad)
			o = outcome(t, Evaluate([]Resource{known}, nil), tt.rule)
			if len(o.Violations) == 0 || len(o.Deferred) != 0 {
				t.Fatalf("known bad %s: violations %v, deferred %v", tt.path, o.Violations, o.Deferred)
			}
		})
	}
}

// TestAnUnknownValueTheRuleDoesNotReadDefersNothing: an unknown the rule
// does not look at leaves its verdict standing.
func TestAnUnknownValueTheRuleDoesNotReadDefersNothing(t *testing.T) {
	r := res("aws:kms/key:Key", `{"enableKeyRotation":false,"tags":{"Environment":"p","Cluster":"c","ManagedBy":"pulumi"}}`)
	r.Props["description"] = r.Unknown()
	r.Props["policy"] = r.Unknown()
	o := outcome(t, Evaluate([]Resource{r}, nil), "encryption-kms-rotation")
	if len(o.Violations) != 1 || len(o.Deferred) != 0 {
		t.Fatalf("violations %v, deferred %v", o.Violations, o.Deferred)
	}
}

// TestStackRulesDeferWhereTheyReadUnknowns: a stack verdict that read an
// unknown (a policy's namespace not known yet) is deferred, one that did
// not is reported.
func TestStackRulesDeferWhereTheyReadUnknowns(t *testing.T) {
	ns := res("kubernetes:core/v1:Namespace", `{"metadata":{"name":"crm","labels":{"bac-platform.io/tier":"service"}}}`)
	deny := res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `{"metadata":{"namespace":"crm"},"spec":{"podSelector":{},"policyTypes":["Ingress","Egress"]}}`)
	authz := res("kubernetes:security.istio.io/v1:AuthorizationPolicy", `{"metadata":{"namespace":"crm"},"spec":{"action":"ALLOW","rules":[{"from":[{"source":{"principals":["p"]}}]}]}}`)
	deny.Props["metadata"].(map[string]any)["namespace"] = deny.Unknown()
	o := outcome(t, Evaluate([]Resource{ns, deny, authz}, nil), "network-namespace-isolation")
	if len(o.Violations) != 0 || len(o.Deferred) != 1 {
		t.Fatalf("violations %v, deferred %v", o.Violations, o.Deferred)
	}
	known := res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `{"metadata":{"namespace":"erp"},"spec":{"podSelector":{},"policyTypes":["Ingress","Egress"]}}`)
	o = outcome(t, Evaluate([]Resource{ns, known, authz}, nil), "network-namespace-isolation")
	if len(o.Violations) != 1 || len(o.Deferred) != 0 {
		t.Fatalf("violations %v, deferred %v", o.Violations, o.Deferred)
	}
}

// TestUnknownsFromEveryEngineForm: the engine's forms of an unknown value
// (a computed property, an unknown output, a secret whose value is unknown,
// the JSON sentinel of state and events) all read as Unknown; a known
// secret reads as the mask.
func TestUnknownsFromEveryEngineForm(t *testing.T) {
	props := resource.PropertyMap{
		"computed":      resource.MakeComputed(resource.NewProperty("")),
		"output":        resource.NewProperty(resource.Output{Known: false}),
		"secretUnknown": resource.MakeSecret(resource.MakeComputed(resource.NewProperty(""))),
		"secret":        resource.MakeSecret(resource.NewProperty("hunter2")),
		"sentinel":      resource.NewProperty(plugin.UnknownStringValue),
		"nested":        resource.NewProperty(resource.PropertyMap{"list": resource.NewProperty([]resource.PropertyValue{resource.MakeComputed(resource.NewProperty(""))})}),
		"known":         resource.NewProperty("v"),
	}
	r := FromProperties("urn:x", "t:m:T", "x", "", props, nil)
	for _, path := range []string{"computed", "output", "secretUnknown", "sentinel", "nested.list[0]"} {
		if _, ok := r.Get(path).(Unknown); !ok {
			t.Errorf("%s = %#v, want Unknown", path, r.Get(path))
		}
	}
	if r.Get("secret") != "[secret]" || r.Get("known") != "v" {
		t.Errorf("secret %v, known %v", r.Get("secret"), r.Get("known"))
	}
	if r.unknownReads() != 5 {
		t.Errorf("reads = %d, want the 5 unknowns read", r.unknownReads())
	}
	j := NewResource("urn:x", "t:m:T", "x", "", map[string]any{"a": []any{plugin.UnknownStringValue}}, nil)
	if _, ok := j.Get("a[0]").(Unknown); !ok {
		t.Errorf("the JSON sentinel must read as Unknown: %#v", j.Get("a[0]"))
	}
}
