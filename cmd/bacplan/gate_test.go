package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bac-platform/infra/policies/rules"
)

var (
	prodOnce  sync.Once
	prodPlan  Plan
	prodError error
)

// prodResources plans prod-us-east-1 once and returns a fresh copy of its
// resources for the rules.
func prodResources(t *testing.T) []rules.Resource {
	t.Helper()
	prodOnce.Do(func() {
		plans, _, err := planStacks("../..", []string{"prod-us-east-1"}, false)
		if err == nil {
			prodPlan = plans[0]
		}
		prodError = err
	})
	if prodError != nil {
		t.Fatal(prodError)
	}
	return ruleResources(prodPlan)
}

// set changes the value at a dotted path in plain JSON data, creating maps.
func set(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// mutate applies f to the first resource of type typ (and name, if given).
func mutate(typ, name string, f func(r *rules.Resource)) func([]rules.Resource) []rules.Resource {
	return func(rs []rules.Resource) []rules.Resource {
		for i := range rs {
			if rs[i].Type == typ && (name == "" || rs[i].Name == name) {
				f(&rs[i])
				return rs
			}
		}
		panic("no " + typ + " " + name)
	}
}

// drop removes the resources of a type.
func drop(typ string) func([]rules.Resource) []rules.Resource {
	return func(rs []rules.Resource) []rules.Resource {
		var out []rules.Resource
		for _, r := range rs {
			if r.Type != typ {
				out = append(out, r)
			}
		}
		return out
	}
}

// dropNamed removes the resource of a type and name.
func dropNamed(typ, name string) func([]rules.Resource) []rules.Resource {
	return func(rs []rules.Resource) []rules.Resource {
		var out []rules.Resource
		for _, r := range rs {
			if r.Type != typ || r.Name != name {
				out = append(out, r)
			}
		}
		if len(out) == len(rs) {
			panic("no " + typ + " " + name)
		}
		return out
	}
}

func TestEveryStackPassesTheGate(t *testing.T) {
	plans, _, err := planStacks("../..", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		res := rules.Evaluate(ruleResources(p), nil)
		for _, v := range append(res.Mandatory(), res.Advisory()...) {
			t.Errorf("stack %s: %s", p.Stack, v.Format())
		}
		if d := res.Deferred(); len(d) != 0 {
			t.Errorf("stack %s: a plan with known values deferred %d check(s): %v", p.Stack, len(d), d)
		}
		for _, o := range res.Outcomes {
			if o.Status() == "not-applicable" && p.Stack != "local" {
				t.Errorf("stack %s: rule %s examined no resource", p.Stack, o.Rule.Name)
			}
		}
	}
}

// TestTheFirstPreviewOfEveryStackPassesTheGate: the first preview of a new
// stack (nothing exists yet, so provider-computed outputs are unknown)
// passes the gate, and it passes because the checks that read unknown
// values are deferred, not because the unknowns read as present: on AWS the
// cluster's KMS key ARN is unknown and encryption-eks-secrets is deferred.
func TestTheFirstPreviewOfEveryStackPassesTheGate(t *testing.T) {
	plans, _, err := planStacks("../..", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		res := rules.Evaluate(ruleResources(p), nil)
		for _, v := range append(res.Mandatory(), res.Advisory()...) {
			t.Errorf("stack %s: %s", p.Stack, v.Format())
		}
		if p.Stack == "local" {
			continue
		}
		deferredKey := false
		for _, v := range res.Deferred() {
			deferredKey = deferredKey || (v.Rule.Name == "encryption-eks-secrets" && strings.Contains(v.URN, "eks:index:Cluster"))
		}
		if !deferredKey {
			t.Errorf("stack %s: encryption-eks-secrets was not deferred on the unknown KMS key ARN (deferred: %v)", p.Stack, res.Deferred())
		}
		for _, r := range p.Resources {
			if r.Type == "eks:index:Cluster" && !r.Inputs["encryptionConfigKeyArn"].ContainsUnknowns() {
				t.Errorf("stack %s: the first preview knows the KMS key ARN %v before the key exists", p.Stack, r.Inputs["encryptionConfigKeyArn"])
			}
		}
	}
	// The same gate still refuses a known empty ARN in the same plan.
	for _, p := range plans {
		if p.Stack != "prod-us-east-1" {
			continue
		}
		rs := ruleResources(p)
		for i := range rs {
			if rs[i].Type == "eks:index:Cluster" {
				rs[i].Props["encryptionConfigKeyArn"] = ""
			}
		}
		if !failedRules(rules.Evaluate(rs, nil))["encryption-eks-secrets"] {
			t.Error("a known empty KMS key ARN passed the first-preview gate")
		}
	}
}

// failedRules names the rules with mandatory violations.
func failedRules(res rules.Result) map[string]bool {
	failed := map[string]bool{}
	for _, v := range res.Mandatory() {
		failed[v.Rule.Name] = true
	}
	return failed
}

// TestGateRejectsBadResourceVariants changes one planned resource of the
// production plan at a time and expects exactly the matching rule to fail.
func TestGateRejectsBadResourceVariants(t *testing.T) {
	tests := []struct {
		name, rule string
		change     func([]rules.Resource) []rules.Resource
	}{
		{"cluster without envelope encryption", "encryption-eks-secrets",
			mutate("eks:index:Cluster", "", func(r *rules.Resource) { delete(r.Props, "encryptionConfigKeyArn") })},
		{"unencrypted node volume", "encryption-node-volumes",
			mutate("aws:ec2/launchTemplate:LaunchTemplate", "bac-prod-us-east-1-gpu", func(r *rules.Resource) {
				set(r.Props["blockDeviceMappings"].([]any)[0].(map[string]any), "ebs.encrypted", "false")
			})},
		{"unencrypted storage class", "encryption-storage-classes",
			mutate("kubernetes:storage.k8s.io/v1:StorageClass", "", func(r *rules.Resource) { set(r.Props, "parameters.encrypted", "false") })},
		{"kms key without rotation", "encryption-kms-rotation",
			mutate("aws:kms/key:Key", "", func(r *rules.Resource) { r.Props["enableKeyRotation"] = false })},
		{"permissive mesh", "mtls-no-permissive+mtls-strict-mesh-wide",
			mutate("kubernetes:security.istio.io/v1:PeerAuthentication", "", func(r *rules.Resource) { set(r.Props, "spec.mtls.mode", "PERMISSIVE") })},
		{"privileged realtime container", "privilege-no-root-or-privileged",
			mutate("kubernetes:apps/v1:Deployment", "realtime-websocket-server", func(r *rules.Resource) {
				c := r.Get("spec.template.spec.containers").([]any)[0].(map[string]any)
				set(c, "securityContext.privileged", true)
			})},
		{"host network without a reason", "privilege-no-host-namespaces",
			mutate("kubernetes:apps/v1:Deployment", "realtime-graphql-gateway", func(r *rules.Resource) {
				set(r.Props, "spec.template.spec.hostNetwork", true)
			})},
		{"log group kept forever", "retention-log-groups",
			mutate("aws:cloudwatch/logGroup:LogGroup", "bac-prod-us-east-1-flow-logs", func(r *rules.Resource) { delete(r.Props, "retentionInDays") })},
		{"no audit logs", "audit-eks-control-plane-logs",
			mutate("eks:index:Cluster", "", func(r *rules.Resource) { r.Props["enabledClusterLogTypes"] = []any{"api", "authenticator"} })},
		{"public API open to the internet", "network-eks-endpoint",
			mutate("eks:index:Cluster", "", func(r *rules.Resource) { r.Props["publicAccessCidrs"] = []any{"0.0.0.0/0"} })},
		{"service namespace without default deny", "network-namespace-isolation",
			mutate("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mesh-erp-default-deny", func(r *rules.Resource) {
				set(r.Props, "spec.ingress", []any{map[string]any{}})
			})},
		// Kong ignores ssl_protocols unless the suite is custom: the suite
		// decides what it serves (components/gateway/kongtls).
		{"gateway allowing TLS 1.2", "tls-gateway-tls13-only",
			mutate("kubernetes:helm.sh/v3:Release", "gateway-kong", func(r *rules.Resource) { set(r.Props, "values.env.ssl_cipher_suite", "intermediate") })},
		{"gateway on Kong's default suite", "tls-gateway-tls13-only",
			mutate("kubernetes:helm.sh/v3:Release", "gateway-kong", func(r *rules.Resource) { delete(r.Get("values.env").(map[string]any), "ssl_cipher_suite") })},
		{"gateway naming a CBC cipher", "tls-gateway-tls13-only",
			mutate("kubernetes:helm.sh/v3:Release", "gateway-kong", func(r *rules.Resource) { set(r.Props, "values.env.ssl_ciphers", "ECDHE-RSA-AES128-SHA") })},
		{"wildcard CORS with credentials", "tls-cors-no-wildcard-with-credentials",
			mutate("kubernetes:configuration.konghq.com/v1:KongClusterPlugin", "gateway-cors-global", func(r *rules.Resource) {
				set(r.Props, "config.origins", []any{"*"})
			})},
		{"route without rate limit", "gateway-rate-limited-routes",
			mutate("kubernetes:networking.k8s.io/v1:Ingress", "gateway-erp", func(r *rules.Resource) {
				set(r.Props, "metadata.annotations", map[string]any{"konghq.com/plugins": "jwt-auth,cors-global"})
			})},
		{"short passwords", "identity-password-length",
			mutate("keycloak:index/realm:Realm", "", func(r *rules.Resource) { r.Props["passwordPolicy"] = "length(8) and digits(1)" })},
		{"no brute-force protection", "identity-brute-force",
			mutate("keycloak:index/realm:Realm", "", func(r *rules.Resource) { delete(r.Props, "securityDefenses") })},
		{"hour-long access tokens", "identity-token-lifetime",
			mutate("keycloak:index/realm:Realm", "", func(r *rules.Resource) { r.Props["accessTokenLifespan"] = "1h" })},
		{"no OTP policy", "identity-otp",
			mutate("keycloak:index/realm:Realm", "", func(r *rules.Resource) { delete(r.Props, "otpPolicy") })},
		{"password grant on the API client", "identity-no-implicit-or-password-grant",
			mutate("keycloak:openid/client:Client", "", func(r *rules.Resource) { r.Props["directAccessGrantsEnabled"] = true })},
		{"exportable transit key", "vault-keys-never-leave",
			mutate("vault:transit/secretBackendKey:SecretBackendKey", "vault-pii-encryption", func(r *rules.Resource) { r.Props["exportable"] = true })},
		{"quarterly key rotation", "vault-key-rotation",
			mutate("vault:transit/secretBackendKey:SecretBackendKey", "vault-database-encryption", func(r *rules.Resource) { r.Props["autoRotatePeriod"] = 7776000.0 })},
		{"latest image", "supply-chain-pinned-images",
			mutate("kubernetes:apps/v1:DaemonSet", "", func(r *rules.Resource) {
				c := r.Get("spec.template.spec.containers").([]any)[0].(map[string]any)
				c["image"] = "wazuh/wazuh-agent:latest"
			})},
		// A floating version also leaves the chart's security-context
		// defaults unknown: they are credited at the version they were read at.
		{"floating chart version", "supply-chain-pinned-charts+privilege-restricted-context",
			mutate("kubernetes:helm.sh/v3:Release", "gitops-argocd", func(r *rules.Resource) { r.Props["version"] = "8.x" })},
		{"container without limits", "operability-requests-and-limits",
			mutate("kubernetes:apps/v1:Deployment", "identity-keycloak", func(r *rules.Resource) {
				c := r.Get("spec.template.spec.containers").([]any)[0].(map[string]any)
				delete(c, "resources")
			})},
		{"untagged VPC without provider defaults", "operability-required-tags",
			mutate("aws:ec2/vpc:Vpc", "", func(r *rules.Resource) { delete(r.Props, "tags"); r.ProviderProps = nil })},
		{"mesh removed", "mtls-strict-mesh-wide", drop("kubernetes:security.istio.io/v1:PeerAuthentication")},
		// Variants the gate passed before issue 12.
		{"privilege escalation left to the default", "privilege-no-root-or-privileged",
			mutate("kubernetes:apps/v1:Deployment", "realtime-websocket-server", func(r *rules.Resource) {
				c := r.Get("spec.template.spec.containers").([]any)[0].(map[string]any)
				delete(c["securityContext"].(map[string]any), "allowPrivilegeEscalation")
			})},
		{"branch-tagged image", "supply-chain-pinned-images",
			mutate("kubernetes:apps/v1:DaemonSet", "", func(r *rules.Resource) {
				c := r.Get("spec.template.spec.containers").([]any)[0].(map[string]any)
				c["image"] = "wazuh/wazuh-agent:stable"
			})},
		{"launch template without block devices", "encryption-node-volumes",
			mutate("aws:ec2/launchTemplate:LaunchTemplate", "bac-prod-us-east-1-gpu", func(r *rules.Resource) { delete(r.Props, "blockDeviceMappings") })},
		{"flow logs kept a day", "retention-log-groups",
			mutate("aws:cloudwatch/logGroup:LogGroup", "bac-prod-us-east-1-flow-logs", func(r *rules.Resource) { r.Props["retentionInDays"] = 1.0 })},
		{"production audit logs kept 90 days", "retention-log-groups",
			mutate("aws:cloudwatch/logGroup:LogGroup", "bac-prod-us-east-1-control-plane", func(r *rules.Resource) { r.Props["retentionInDays"] = 90.0 })},
		{"brute force after 100 failures", "identity-brute-force",
			mutate("keycloak:index/realm:Realm", "", func(r *rules.Resource) {
				set(r.Props, "securityDefenses.bruteForceDetection.maxLoginFailures", 100.0)
			})},
		{"allow-all ingress beside the default deny", "network-namespace-isolation",
			mutate("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mesh-erp-netpol", func(r *rules.Resource) {
				set(r.Props, "spec.ingress", []any{map[string]any{}})
			})},
		{"allow-all AuthorizationPolicy", "network-namespace-isolation",
			mutate("kubernetes:security.istio.io/v1:AuthorizationPolicy", "mesh-crm-authz", func(r *rules.Resource) {
				set(r.Props, "spec.rules", append(r.Get("spec.rules").([]any), map[string]any{}))
			})},
		{"NetworkPolicies nothing enforces", "network-namespace-isolation", func(rs []rules.Resource) []rules.Resource {
			for i := range rs {
				if rs[i].Type == "aws:eks/addon:Addon" && rs[i].Get("addonName") == "vpc-cni" {
					rs[i].Props["configurationValues"] = "{}"
					return rs
				}
			}
			panic("no vpc-cni add-on")
		}},
		{"GPU pool without a device plugin", "gpu-device-plugin", dropNamed("kubernetes:helm.sh/v3:Release", "addons-nvidia-device-plugin")},
		{"device plugin without the GPU toleration", "gpu-device-plugin",
			mutate("kubernetes:helm.sh/v3:Release", "addons-nvidia-device-plugin", func(r *rules.Resource) { set(r.Props, "values.tolerations", []any{}) })},
		{"backup bucket with S3-managed keys", "storage-bucket-kms-encrypted",
			mutate("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "addons-backups", func(r *rules.Resource) {
				r.Props["rules"] = []any{map[string]any{"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": "AES256"}}}
			})},
		{"backup bucket versioning suspended", "storage-bucket-versioned-with-lifecycle",
			mutate("aws:s3/bucketVersioningV2:BucketVersioningV2", "addons-backups", func(r *rules.Resource) {
				set(r.Props, "versioningConfiguration.status", "Suspended")
			})},
		{"backup bucket without lifecycle", "storage-bucket-versioned-with-lifecycle",
			drop("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")},
		{"backup bucket open to public policies", "storage-bucket-public-access-blocked",
			mutate("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "addons-backups", func(r *rules.Resource) { r.Props["blockPublicPolicy"] = false })},
		// Helm values are workloads: each chart's pods as its values set them.
		{"velero escalating", "privilege-restricted-context",
			mutate("kubernetes:helm.sh/v3:Release", "addons-velero", func(r *rules.Resource) {
				set(r.Props, "values.containerSecurityContext.allowPrivilegeEscalation", true)
			})},
		{"load balancer controller with the chart's context", "privilege-restricted-context",
			mutate("kubernetes:helm.sh/v3:Release", "addons-aws-load-balancer-controller", func(r *rules.Resource) {
				delete(r.Get("values").(map[string]any), "securityContext")
			})},
		{"Argo CD server as root", "privilege-restricted-context",
			mutate("kubernetes:helm.sh/v3:Release", "gitops-argocd", func(r *rules.Resource) {
				set(r.Props, "values.server.containerSecurityContext", map[string]any{"runAsNonRoot": false, "runAsUser": 0.0})
			})},
		{"cert-manager webhook with a writable root", "privilege-restricted-context",
			mutate("kubernetes:helm.sh/v3:Release", "addons-cert-manager", func(r *rules.Resource) {
				set(r.Props, "values.webhook.containerSecurityContext", map[string]any{"readOnlyRootFilesystem": false})
			})},
		{"device plugin without seccomp", "privilege-restricted-context",
			mutate("kubernetes:helm.sh/v3:Release", "addons-nvidia-device-plugin", func(r *rules.Resource) {
				delete(r.Get("values").(map[string]any), "podSecurityContext")
			})},
		{"privileged Istio sidecars through istiod's values", "privilege-restricted-context",
			mutate("kubernetes:helm.sh/v3:Release", "mesh-istiod", func(r *rules.Resource) {
				set(r.Props, "values.global.proxy", map[string]any{"privileged": true})
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failed := failedRules(rules.Evaluate(tt.change(prodResources(t)), nil))
			want := strings.Split(tt.rule, "+")
			for _, w := range want {
				if !failed[w] {
					t.Errorf("rule %s did not fail", w)
				}
			}
			if len(failed) != len(want) {
				t.Errorf("failed rules = %v, want only %v", failed, want)
			}
		})
	}
}

// writeProject copies the repo's Pulumi.yaml into a temp dir with one stack file.
func writeProject(t *testing.T, stack, body string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"Pulumi.yaml": "name: bac\nruntime: go\n", "Pulumi." + stack + ".yaml": body} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestGateBlocksBadConfigThatValidationAllows: configurations that are valid
// stack config but not compliant are stopped by the gate (exit 1), naming
// the rule, unless policy config downgrades the rule.
func TestGateBlocksBadConfigThatValidationAllows(t *testing.T) {
	staging := "config:\n  bac:environment: staging\n  bac:region: eu-west-1\n  bac:network: {cidr: 10.120.0.0/16}\n" +
		"  bac:domain: eu-west-1.staging.bac-platform.io\n" +
		"  bac:identity: {databaseUrl: 'jdbc:postgresql://kc-db.bac-platform.io:5432/keycloak', ldap: {enabled: false}}\n" +
		"  bac:realtime: {websocket: {image: {repository: ghcr.io/bac-platform/websocket-server, tag: 1.4.2}}," +
		" graphql: {image: {repository: ghcr.io/bac-platform/graphql-gateway, tag: 1.4.2}}}\n" +
		"  bac:gitops: {repoUrl: 'https://github.com/bac-platform/platform-gitops'}\n"
	tests := []struct {
		name, extra, rule string
	}{
		{"staging API open to the internet", "  bac:cluster: {publicAccessCidrs: [0.0.0.0/0]}\n", "network-eks-endpoint"},
		{"mesh switched off", "  bac:cluster: {publicAccessCidrs: [198.51.100.10/32]}\n  bac:mesh: {enabled: false}\n", "mtls-strict-mesh-wide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, "staging-eu-west-1", staging+tt.extra)
			code, out, errOut := runPlan(t, "plan", "--dir", dir)
			if code != 1 || !strings.Contains(errOut, "rule: "+tt.rule) || !strings.Contains(errOut, "remediation:") ||
				!strings.Contains(errOut, "controls: SOC 2") {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			if !strings.Contains(out, "Stack staging-eu-west-1") {
				t.Error("the plan must still be printed with the violations")
			}
		})
	}
	dir := writeProject(t, "staging-eu-west-1", staging+tests[0].extra)
	config := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(config, []byte(`{"network-eks-endpoint": {"enforcementLevel": "advisory"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runPlan(t, "plan", "--dir", dir, "--policy-config", config)
	if code != 0 || !strings.Contains(errOut, "warning: stack staging-eu-west-1: advisory rule") {
		t.Fatalf("advisory override: exit %d, stderr:\n%s", code, errOut)
	}
	if err := os.WriteFile(config, []byte(`{"no-such-rule": "advisory"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runPlan(t, "plan", "--dir", dir, "--policy-config", config); code != 2 || !strings.Contains(errOut, `no rule "no-such-rule"`) {
		t.Fatalf("bad policy config: exit %d, stderr:\n%s", code, errOut)
	}
}
