package rules

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// res builds a resource from a type and JSON inputs.
func res(typ, props string) Resource {
	var m map[string]any
	if err := json.Unmarshal([]byte(props), &m); err != nil {
		panic(err)
	}
	return NewResource("urn:pulumi:test::bac::"+typ+"::r", typ, "r", "", m, nil)
}

func rule(t *testing.T, name string) *Rule {
	t.Helper()
	for _, r := range All() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no rule %s", name)
	return nil
}

const (
	seedBruteForce = `{"permanentLockout":false,"maxLoginFailures":30,"waitIncrementSeconds":60,"quickLoginCheckMilliSeconds":1000,` +
		`"minimumQuickLoginWaitSeconds":60,"maxFailureWaitSeconds":900,"failureResetTimeSeconds":43200}`
	deployment = "kubernetes:apps/v1:Deployment"
	okPod      = `{"metadata":{"name":"api","namespace":"crm"},"spec":{"template":{"spec":{"containers":[{"name":"app","image":"ghcr.io/x/api:1.2.3",` +
		`"securityContext":{"runAsNonRoot":true,"allowPrivilegeEscalation":false},` +
		`"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":"1","memory":"1Gi"}}}]}}}}`
)

// TestResourceRules: every resource rule passes a compliant resource and
// rejects a non-compliant one with the expected message.
func TestResourceRules(t *testing.T) {
	tests := []struct {
		rule, typ, good, bad, want string
	}{
		{"encryption-eks-secrets", eksComponent, `{"encryptionConfigKeyArn":"arn:aws:kms:us-east-1:1:key/k"}`, `{"name":"c"}`,
			"no encryptionConfigKeyArn"},
		{"encryption-eks-secrets", eksCluster, `{"encryptionConfig":{"provider":{"keyArn":"arn:k"},"resources":["secrets"]}}`, `{"encryptionConfig":{"provider":{"keyArn":"arn:k"},"resources":[]}}`,
			"encryptionConfig does not cover secrets"},
		{"encryption-node-volumes", "aws:ec2/launchTemplate:LaunchTemplate", `{"blockDeviceMappings":[{"deviceName":"/dev/xvda","ebs":{"encrypted":"true"}}]}`,
			`{"blockDeviceMappings":[{"deviceName":"/dev/xvda","ebs":{"volumeSize":100}}]}`, "block device 0 (/dev/xvda) is not encrypted"},
		{"encryption-node-volumes", "eks:index:ManagedNodeGroup", `{"launchTemplate":{"id":"lt-1","version":"1"}}`, `{"diskSize":100}`,
			"no launch template"},
		{"encryption-storage-classes", "kubernetes:storage.k8s.io/v1:StorageClass", `{"provisioner":"ebs.csi.aws.com","parameters":{"encrypted":"true"}}`,
			`{"metadata":{"name":"gp2"},"provisioner":"kubernetes.io/aws-ebs","parameters":{"type":"gp2"}}`, "storage class gp2 provisions unencrypted volumes"},
		{"encryption-kms-rotation", "aws:kms/key:Key", `{"enableKeyRotation":true}`, `{"enableKeyRotation":false}`, "key rotation is off"},
		{"mtls-no-permissive", "kubernetes:security.istio.io/v1:PeerAuthentication", `{"metadata":{"name":"default","namespace":"crm"},"spec":{"mtls":{"mode":"STRICT"}}}`,
			`{"metadata":{"name":"legacy","namespace":"erp"},"spec":{"mtls":{"mode":"PERMISSIVE"}}}`, "erp/legacy sets workload mTLS PERMISSIVE"},
		{"mtls-no-permissive", "kubernetes:security.istio.io/v1beta1:PeerAuthentication", `{"spec":{"mtls":{"mode":"STRICT"}}}`,
			`{"metadata":{"name":"p","namespace":"crm"},"spec":{"portLevelMtls":{"8080":{"mode":"DISABLE"}}}}`, "crm/p sets port 8080 mTLS DISABLE"},
		{"privilege-no-root-or-privileged", deployment, okPod,
			strings.Replace(okPod, `"allowPrivilegeEscalation":false`, `"allowPrivilegeEscalation":false,"privileged":true`, 1), "crm/api: container app is privileged"},
		{"privilege-no-root-or-privileged", "kubernetes:batch/v1:CronJob",
			`{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"a:1.0.0","securityContext":{"runAsUser":1000,"allowPrivilegeEscalation":false}}]}}}}}}`,
			`{"metadata":{"name":"job","namespace":"ops"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"a:1.0.0","securityContext":{"runAsUser":0,"allowPrivilegeEscalation":false}}]}}}}}}`,
			"ops/job: container c runs as root (runAsUser 0)"},
		{"privilege-no-host-namespaces", "kubernetes:apps/v1:DaemonSet",
			`{"metadata":{"name":"agent","annotations":{"compliance.bac-platform.io/privileged-exception":"host IDS"}},"spec":{"template":{"spec":{"hostNetwork":true,"containers":[]}}}}`,
			`{"metadata":{"name":"agent","namespace":"security"},"spec":{"template":{"spec":{"hostPID":true,"containers":[]}}}}`, "security/agent uses hostPID"},
		{"retention-log-groups", "aws:cloudwatch/logGroup:LogGroup", `{"name":"/aws/x","retentionInDays":365}`, `{"name":"/aws/x"}`,
			"log group /aws/x keeps logs forever"},
		{"audit-eks-control-plane-logs", eksCluster, `{"enabledClusterLogTypes":["api","audit","authenticator"]}`, `{"enabledClusterLogTypes":["api","audit"]}`,
			"authenticator logs are off"},
		{"audit-eks-control-plane-logs", eksComponent, `{"enabledClusterLogTypes":["api","audit","authenticator"]}`, `{"enabledClusterLogTypes":["api","authenticator"]}`,
			"audit logs are off"},
		{"network-eks-endpoint", eksComponent, `{"endpointPrivateAccess":true,"endpointPublicAccess":true,"publicAccessCidrs":["198.51.100.10/32"]}`,
			`{"endpointPrivateAccess":true,"endpointPublicAccess":true,"publicAccessCidrs":["0.0.0.0/0"]}`, "the public endpoint is open to 0.0.0.0/0"},
		{"network-eks-endpoint", eksCluster, `{"vpcConfig":{"endpointPrivateAccess":true,"endpointPublicAccess":false}}`,
			`{"vpcConfig":{"endpointPrivateAccess":false,"endpointPublicAccess":false}}`, "the private endpoint is off"},
		{"network-eks-endpoint", eksComponent, `{"endpointPrivateAccess":true,"endpointPublicAccess":false}`,
			`{"endpointPrivateAccess":true}`, "the public endpoint is open to 0.0.0.0/0 (no publicAccessCidrs)"},
		{"tls-gateway-tls13-only", "kubernetes:helm.sh/v3:Release", `{"chart":"kong","values":{"env":{"ssl_cipher_suite":"modern","ssl_protocols":"TLSv1.3"}}}`,
			`{"chart":"kong","values":{"env":{"ssl_cipher_suite":"custom","ssl_protocols":"TLSv1.2 TLSv1.3","ssl_ciphers":"ECDHE-RSA-AES128-GCM-SHA256"}}}`,
			`Kong serves TLSv1.2 (ssl_cipher_suite "custom", ssl_protocols "TLSv1.2 TLSv1.3")`},
		{"tls-cors-no-wildcard-with-credentials", "kubernetes:configuration.konghq.com/v1:KongClusterPlugin",
			`{"plugin":"cors","config":{"origins":["https://app.example.com"],"credentials":true}}`,
			`{"metadata":{"name":"cors-global"},"plugin":"cors","config":{"origins":["*"],"credentials":true}}`, "plugin cors-global allows origin * with credentials"},
		{"identity-password-length", keycloakRealm, `{"passwordPolicy":"length(12) and digits(1)"}`, `{"passwordPolicy":"length(8)"}`,
			`passwordPolicy "length(8)" does not require length(12)`},
		{"identity-brute-force", keycloakRealm, `{"securityDefenses":{"bruteForceDetection":` + seedBruteForce + `}}`, `{"securityDefenses":{}}`,
			"brute-force detection is off"},
		{"identity-token-lifetime", keycloakRealm, `{"accessTokenLifespan":"5m"}`, `{"accessTokenLifespan":"1h"}`, `accessTokenLifespan "1h" exceeds 5m`},
		{"identity-otp", keycloakRealm, `{"otpPolicy":{"type":"totp","digits":6}}`, `{"otpPolicy":{"type":"totp","digits":4}}`, `otpPolicy type "totp" digits 4`},
		{"identity-no-implicit-or-password-grant", keycloakClient, `{"clientId":"bac-api","implicitFlowEnabled":false}`,
			`{"clientId":"bac-api","directAccessGrantsEnabled":true}`, "client bac-api enables direct access grants"},
		{"vault-keys-never-leave", "vault:transit/secretBackendKey:SecretBackendKey", `{"name":"pii","exportable":false,"deletionAllowed":false}`,
			`{"name":"pii","exportable":true}`, "key pii has exportable: true"},
		{"vault-key-rotation", "vault:transit/secretBackendKey:SecretBackendKey", `{"name":"pii","autoRotatePeriod":2592000}`,
			`{"name":"pii","autoRotatePeriod":7776000}`, "key pii rotates every 7.776e+06 seconds"},
		{"supply-chain-pinned-images", deployment, okPod, strings.Replace(okPod, "api:1.2.3", "api:latest", 1),
			`crm/api: container app image "ghcr.io/x/api:latest" uses the moving latest tag`},
		{"supply-chain-pinned-images", deployment, okPod, strings.Replace(okPod, "api:1.2.3", "api", 1),
			`crm/api: container app image "ghcr.io/x/api" has no tag`},
		{"supply-chain-pinned-images", "kubernetes:helm.sh/v3:Release", `{"name":"kong","values":{"image":{"tag":"3.9.1"}}}`,
			`{"name":"kong","values":{"image":{"tag":"latest"}}}`, `release kong: values.image.tag uses the moving latest tag`},
		{"supply-chain-pinned-charts", "kubernetes:helm.sh/v3:Release", `{"chart":"kong","version":"3.2.0"}`, `{"chart":"kong","version":"~3.2"}`,
			`chart kong version "~3.2" is not pinned`},
		{"supply-chain-pinned-charts", "kubernetes:argoproj.io/v1alpha1:Application", `{"spec":{"source":{"chart":"istiod","targetRevision":"1.29.2"}}}`,
			`{"metadata":{"name":"istio-system"},"spec":{"source":{"chart":"istiod","targetRevision":"*"}}}`, `application istio-system chart istiod revision "*" is not pinned`},
		{"operability-requests-and-limits", deployment, okPod, strings.Replace(okPod, `"limits":{"cpu":"1","memory":"1Gi"}`, `"limits":{"cpu":"1"}`, 1),
			"crm/api: container app has no limits.memory"},
		{"operability-required-tags", "aws:ec2/vpc:Vpc", `{"tags":{"Environment":"production","Cluster":"c","ManagedBy":"pulumi"}}`, `{"tags":{"Environment":"production"}}`,
			"missing tags Cluster, ManagedBy"},
	}
	for _, tt := range tests {
		t.Run(tt.rule+"/"+tt.typ, func(t *testing.T) {
			r := rule(t, tt.rule)
			applies, problems := r.Check(res(tt.typ, tt.good))
			if !applies || len(problems) != 0 {
				t.Fatalf("compliant resource: applies %v, problems %v", applies, problems)
			}
			covered.pass(r.Name)
			applies, problems = r.Check(res(tt.typ, tt.bad))
			if !applies || len(problems) != 1 || !strings.Contains(problems[0], tt.want) {
				t.Fatalf("non-compliant resource: applies %v, problems %q, want one containing %q", applies, problems, tt.want)
			}
			covered.refuse(r.Name)
		})
	}
}

func TestDocumentedExceptionAllowsPrivilege(t *testing.T) {
	r := rule(t, "privilege-no-root-or-privileged")
	agent := `{"metadata":{"name":"agent","annotations":{"compliance.bac-platform.io/privileged-exception":"host IDS reads host files"}},` +
		`"spec":{"template":{"spec":{"containers":[{"name":"c","securityContext":{"privileged":true}}]}}}}`
	if _, problems := r.Check(res("kubernetes:apps/v1:DaemonSet", agent)); len(problems) != 0 {
		t.Fatalf("documented exception rejected: %v", problems)
	}
	blank := strings.Replace(agent, "host IDS reads host files", "  ", 1)
	if _, problems := r.Check(res("kubernetes:apps/v1:DaemonSet", blank)); len(problems) == 0 {
		t.Fatal("an exception without a reason must not count")
	}
}

func TestRequiredTagsFromProviderDefaults(t *testing.T) {
	r := rule(t, "operability-required-tags")
	child := res("aws:eks/cluster:Cluster", `{"name":"c"}`)
	if _, problems := r.Check(child); len(problems) != 1 {
		t.Fatal("an untagged child with no provider default tags must fail")
	}
	child.ProviderProps = map[string]any{"defaultTags": map[string]any{"tags": map[string]any{"Environment": "p", "Cluster": "c", "ManagedBy": "pulumi"}}}
	if _, problems := r.Check(child); len(problems) != 0 {
		t.Fatalf("provider default tags must count: %v", problems)
	}
}

// TestStackRules: each stack rule on a compliant and a non-compliant stack.
func TestStackRules(t *testing.T) {
	ns := res("kubernetes:core/v1:Namespace", `{"metadata":{"name":"crm","labels":{"bac-platform.io/tier":"service"}}}`)
	deny := res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `{"metadata":{"namespace":"crm"},"spec":{"podSelector":{},"policyTypes":["Ingress","Egress"]}}`)
	allowAll := res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `{"metadata":{"namespace":"crm"},"spec":{"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{}]}}`)
	authz := res("kubernetes:security.istio.io/v1:AuthorizationPolicy", `{"metadata":{"namespace":"crm"},"spec":{"action":"ALLOW"}}`)
	strict := res("kubernetes:security.istio.io/v1:PeerAuthentication", `{"metadata":{"name":"default","namespace":"istio-system"},"spec":{"mtls":{"mode":"STRICT"}}}`)
	scoped := res("kubernetes:security.istio.io/v1:PeerAuthentication", `{"metadata":{"name":"default","namespace":"istio-system"},"spec":{"selector":{"matchLabels":{"app":"x"}},"mtls":{"mode":"STRICT"}}}`)
	limiter := res("kubernetes:configuration.konghq.com/v1:KongClusterPlugin", `{"metadata":{"name":"rl"},"plugin":"rate-limiting"}`)
	jwt := res("kubernetes:configuration.konghq.com/v1:KongClusterPlugin", `{"metadata":{"name":"jwt-auth"},"plugin":"jwt"}`)
	route := func(plugins string) Resource {
		return res("kubernetes:networking.k8s.io/v1:Ingress", `{"metadata":{"name":"crm","namespace":"crm","annotations":{"konghq.com/plugins":"`+plugins+`"}},"spec":{"ingressClassName":"kong"}}`)
	}
	tests := []struct {
		rule      string
		good, bad []Resource
		want      string
	}{
		{"mtls-strict-mesh-wide", []Resource{ns, strict}, []Resource{ns, scoped},
			"no mesh-wide STRICT PeerAuthentication in istio-system"},
		{"mtls-strict-mesh-wide", []Resource{ns, strict}, []Resource{ns, res("kubernetes:security.istio.io/v1:PeerAuthentication",
			`{"metadata":{"name":"default","namespace":"crm"},"spec":{"mtls":{"mode":"STRICT"}}}`)}, "no mesh-wide STRICT PeerAuthentication in istio-system"},
		{"mtls-strict-mesh-wide", []Resource{ns, strict}, []Resource{ns, res("kubernetes:security.istio.io/v1:PeerAuthentication",
			`{"metadata":{"name":"default","namespace":"istio-system"},"spec":{"mtls":{"mode":"PERMISSIVE"}}}`)}, "no mesh-wide STRICT PeerAuthentication in istio-system"},
		{"network-namespace-isolation", []Resource{ns, deny, authz}, []Resource{ns, allowAll, authz},
			"business namespace crm has no default-deny NetworkPolicy"},
		{"network-namespace-isolation", []Resource{ns, deny, authz}, []Resource{ns, deny},
			"business namespace crm has no AuthorizationPolicy"},
		{"gateway-rate-limited-routes", []Resource{limiter, jwt, route("rl,jwt-auth")}, []Resource{limiter, jwt, route("jwt-auth")},
			`route crm/crm has no rate-limiting plugin (plugins: "jwt-auth")`},
		{"gateway-rate-limited-routes", []Resource{limiter, jwt, route("rl,jwt-auth")}, []Resource{limiter, jwt, route("rl,jwt-auth"),
			res("kubernetes:networking.k8s.io/v1:Ingress", `{"metadata":{"name":"erp","namespace":"erp","annotations":{"kubernetes.io/ingress.class":"kong","konghq.com/plugins":"jwt-auth"}}}`)},
			`route erp/erp has no rate-limiting plugin`},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			r := rule(t, tt.rule)
			evidence, violations := r.CheckStack(tt.good)
			if len(evidence) == 0 || len(violations) != 0 {
				t.Fatalf("compliant stack: evidence %v, violations %v", evidence, violations)
			}
			covered.pass(r.Name)
			_, violations = r.CheckStack(tt.bad)
			if len(violations) != 1 || !strings.Contains(violations[0].Message, tt.want) {
				t.Fatalf("non-compliant stack: %v, want %q", violations, tt.want)
			}
			covered.refuse(r.Name)
		})
	}
}

func TestEveryRuleIsDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[r.Name] {
			t.Errorf("duplicate rule %s", r.Name)
		}
		seen[r.Name] = true
		c := r.Controls
		if r.Description == "" || r.Remediation == "" || len(c.SOC2) == 0 || len(c.ISO27001) == 0 || len(c.GDPR) == 0 || len(c.HIPAA) == 0 {
			t.Errorf("rule %s lacks a description, remediation or a framework mapping", r.Name)
		}
		if (r.Check == nil) == (r.CheckStack == nil) && !r.Manual {
			t.Errorf("rule %s needs exactly one of Check, CheckStack", r.Name)
		}
	}
}

func TestManualControlIsNeverPassed(t *testing.T) {
	res := Evaluate(nil, nil)
	for _, o := range res.Outcomes {
		if o.Rule.Manual && o.Status() != "manual" {
			t.Fatalf("%s status %s, want manual", o.Rule.Name, o.Status())
		}
	}
}

func TestLevelsOverrideEnforcement(t *testing.T) {
	bad := []Resource{res("aws:kms/key:Key", `{"enableKeyRotation":false,"tags":{"Environment":"p","Cluster":"c","ManagedBy":"pulumi"}}`)}
	if got := len(Evaluate(bad, nil).Mandatory()); got != 1 {
		t.Fatalf("mandatory violations = %d", got)
	}
	res := Evaluate(bad, Levels{"encryption-kms-rotation": advisory})
	if len(res.Mandatory()) != 0 || len(res.Advisory()) != 1 {
		t.Fatal("an advisory override must turn the violation into a warning")
	}
	if _, err := ParseLevel("blocking"); err == nil || !strings.Contains(err.Error(), `"blocking" is not mandatory, advisory or disabled`) {
		t.Fatalf("err = %v", err)
	}
}

func TestPackBuilds(t *testing.T) {
	pack, err := Pack()
	if err != nil {
		t.Fatal(err)
	}
	if pack.Name() != PackName || len(pack.Policies()) != len(All())-1 { // manual rules are not policies
		t.Fatalf("pack %s has %d policies", pack.Name(), len(pack.Policies()))
	}
}

// readmeRow is a rule's row of the README's rule table: every column.
func readmeRow(r *Rule) string {
	enforcement := LevelName(r.Enforcement) + " (resource)"
	switch {
	case r.Manual:
		enforcement = "manual (needs evidence)"
	case r.CheckStack != nil:
		enforcement = LevelName(r.Enforcement) + " (stack)"
	}
	c := r.Controls
	cells := []string{"`" + r.Name + "`", r.Description, enforcement, strings.Join(c.SOC2, ", "), strings.Join(c.ISO27001, ", "),
		strings.Join(c.GDPR, ", "), strings.Join(c.HIPAA, ", "), strings.Join(c.CISEKS, ", ")}
	return "| " + strings.Join(cells, " | ") + " |"
}

// TestReadmeRuleTableIsTrue: the README's rule table has exactly one row
// per rule, and each row's columns (description, enforcement, every
// framework's controls) are the rule's.
func TestReadmeRuleTableIsTrue(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if name, ok := strings.CutPrefix(line, "| `"); ok && strings.Count(line, " | ") == 7 {
			name, _, _ = strings.Cut(name, "`")
			rows[name] = line
		}
	}
	for _, r := range All() {
		want := readmeRow(r)
		if got, ok := rows[r.Name]; !ok {
			t.Errorf("README's rule table lacks %s:\n%s", r.Name, want)
		} else if got != want {
			t.Errorf("README's row of %s:\n got %s\nwant %s", r.Name, got, want)
		}
		delete(rows, r.Name)
	}
	for name := range rows {
		t.Errorf("README's rule table lists %s, which is no rule", name)
	}
}
