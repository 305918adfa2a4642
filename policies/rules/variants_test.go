package rules

import (
	"strings"
	"testing"
)

// pod builds a Deployment whose pod spec is the given JSON object body.
func pod(spec string) string {
	return `{"metadata":{"name":"api","namespace":"crm"},"spec":{"template":{"spec":` + spec + `}}}`
}

// container is a compliant container with extra securityContext fields
// replacing the defaults (runAsNonRoot true, allowPrivilegeEscalation false).
func ctr(name, securityContext string) string {
	return `{"name":"` + name + `","image":"ghcr.io/x/api:1.2.3","securityContext":` + securityContext +
		`,"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":"1","memory":"1Gi"}}}`
}

// kongEnv is a kong release whose values.env is the given JSON object.
func kongEnv(env string) string {
	return `{"chart":"kong","name":"kong","values":{"env":` + env + `}}`
}

const restrictedCtx = `{"runAsNonRoot":true,"allowPrivilegeEscalation":false}`

// TestRulesRefuseWhatTheyExistToStop: bad variants, one per condition of
// each rule. The rows marked "passed before" were admitted by the gate
// before issue 12; the others pin conditions no test exercised.
func TestRulesRefuseWhatTheyExistToStop(t *testing.T) {
	tests := []struct {
		name, rule, typ, props, want string
		passedBefore                 bool
	}{
		// privilege-no-root-or-privileged
		{"escalation unset", "privilege-no-root-or-privileged", deployment,
			pod(`{"containers":[` + ctr("app", `{"runAsNonRoot":true}`) + `]}`), "container app does not set allowPrivilegeEscalation: false", true},
		{"escalation true", "privilege-no-root-or-privileged", deployment,
			pod(`{"containers":[` + ctr("app", `{"runAsNonRoot":true,"allowPrivilegeEscalation":true}`) + `]}`), "container app allows privilege escalation", false},
		{"no non-root setting", "privilege-no-root-or-privileged", deployment,
			pod(`{"containers":[` + ctr("app", `{"allowPrivilegeEscalation":false}`) + `]}`), "container app may run as root", true},
		{"container runAsNonRoot false over the pod's true", "privilege-no-root-or-privileged", deployment,
			pod(`{"securityContext":{"runAsNonRoot":true},"containers":[` + ctr("app", `{"runAsNonRoot":false,"allowPrivilegeEscalation":false}`) + `]}`), "container app may run as root", true},
		{"pod runAsUser 0", "privilege-no-root-or-privileged", deployment,
			pod(`{"securityContext":{"runAsUser":0},"containers":[` + ctr("app", `{"allowPrivilegeEscalation":false}`) + `]}`), "container app runs as root (runAsUser 0 from the pod)", false},
		{"root init container", "privilege-no-root-or-privileged", deployment,
			pod(`{"initContainers":[` + ctr("init", `{"runAsUser":0,"allowPrivilegeEscalation":false}`) + `],"containers":[` + ctr("app", restrictedCtx) + `]}`), "container init runs as root", false},
		{"init container without escalation setting", "privilege-no-root-or-privileged", deployment,
			pod(`{"initContainers":[` + ctr("init", `{"runAsNonRoot":true}`) + `],"containers":[` + ctr("app", restrictedCtx) + `]}`), "container init does not set allowPrivilegeEscalation", true},
		{"exception without a reason", "privilege-no-root-or-privileged", "kubernetes:apps/v1:DaemonSet",
			`{"metadata":{"name":"agent","annotations":{"compliance.bac-platform.io/privileged-exception":" "}},"spec":{"template":{"spec":{"containers":[` + ctr("c", `{"privileged":true,"allowPrivilegeEscalation":false,"runAsNonRoot":true}`) + `]}}}}`,
			"container c is privileged", false},
		// privilege-no-host-namespaces
		{"hostNetwork", "privilege-no-host-namespaces", deployment, pod(`{"hostNetwork":true,"containers":[]}`), "crm/api uses hostNetwork", false},
		{"hostIPC", "privilege-no-host-namespaces", deployment, pod(`{"hostIPC":true,"containers":[]}`), "crm/api uses hostIPC", false},
		// supply-chain-pinned-images
		{"dev tag", "supply-chain-pinned-images", deployment, pod(`{"containers":[{"name":"app","image":"ghcr.io/x/api:dev"}]}`), `uses the tag "dev"`, true},
		{"main tag", "supply-chain-pinned-images", deployment, pod(`{"containers":[{"name":"app","image":"ghcr.io/x/api:main"}]}`), `uses the tag "main"`, true},
		{"stable tag", "supply-chain-pinned-images", deployment, pod(`{"containers":[{"name":"app","image":"ghcr.io/x/api:stable"}]}`), `uses the tag "stable"`, true},
		{"minor-only tag", "supply-chain-pinned-images", deployment, pod(`{"containers":[{"name":"app","image":"ghcr.io/x/api:3.5"}]}`), `uses the tag "3.5"`, true},
		{"moving init container", "supply-chain-pinned-images", deployment,
			pod(`{"initContainers":[{"name":"init","image":"busybox:stable"}],"containers":[{"name":"app","image":"ghcr.io/x/api:1.2.3"}]}`), `container init image "busybox:stable"`, true},
		{"malformed digest", "supply-chain-pinned-images", deployment, pod(`{"containers":[{"name":"app","image":"ghcr.io/x/api@sha256:abc"}]}`), "is not a release version", true},
		{"chart value on a branch tag", "supply-chain-pinned-images", "kubernetes:helm.sh/v3:Release",
			`{"name":"kong","values":{"ingressController":{"image":{"tag":"main"}}}}`, `values.ingressController.image.tag uses the tag "main"`, true},
		// encryption-node-volumes
		{"launch template without mappings", "encryption-node-volumes", "aws:ec2/launchTemplate:LaunchTemplate", `{"name":"lt"}`, "no block device mappings", true},
		{"node group without a launch template", "encryption-node-volumes", "aws:eks/nodeGroup:NodeGroup", `{"diskSize":100}`, "no launch template", false},
		{"unencrypted EBS volume", "encryption-node-volumes", "aws:ebs/volume:Volume", `{"size":100}`, "volume is not encrypted", false},
		// retention-log-groups
		{"one day", "retention-log-groups", "aws:cloudwatch/logGroup:LogGroup", `{"name":"/aws/app","retentionInDays":1}`, "keeps logs for 1 days, less than the 30", true},
		{"production audit logs for 90 days", "retention-log-groups", "aws:cloudwatch/logGroup:LogGroup",
			`{"name":"/aws/eks/c/cluster","retentionInDays":90,"tags":{"Environment":"production"}}`, "keeps control-plane (audit) logs for 90 days, less than the 365", true},
		{"staging audit logs for 30 days", "retention-log-groups", "aws:cloudwatch/logGroup:LogGroup",
			`{"name":"/aws/eks/c/cluster","retentionInDays":30,"tags":{"Environment":"staging"}}`, "less than the 90", true},
		{"flow logs for a week", "retention-log-groups", "aws:cloudwatch/logGroup:LogGroup",
			`{"name":"/aws/vpc/c/flow-logs","retentionInDays":7}`, "keeps VPC flow logs for 7 days, less than the 90", true},
		// identity-brute-force
		{"100 failures", "identity-brute-force", keycloakRealm, bruteForce(`"maxLoginFailures":30`, `"maxLoginFailures":100`), "maxLoginFailures is 100", true},
		{"no quick login wait", "identity-brute-force", keycloakRealm, bruteForce(`"minimumQuickLoginWaitSeconds":60`, `"minimumQuickLoginWaitSeconds":0`), "minimumQuickLoginWaitSeconds is 0", true},
		{"one-second waits", "identity-brute-force", keycloakRealm, bruteForce(`"waitIncrementSeconds":60`, `"waitIncrementSeconds":1`), "waitIncrementSeconds is 1", true},
		{"short longest wait", "identity-brute-force", keycloakRealm, bruteForce(`"maxFailureWaitSeconds":900`, `"maxFailureWaitSeconds":60`), "maxFailureWaitSeconds is 60", true},
		{"failures forgotten in a minute", "identity-brute-force", keycloakRealm, bruteForce(`"failureResetTimeSeconds":43200`, `"failureResetTimeSeconds":60`), "failureResetTimeSeconds is 60", true},
		// identity-no-implicit-or-password-grant, vault-keys-never-leave
		{"implicit flow", "identity-no-implicit-or-password-grant", keycloakClient, `{"clientId":"bac-api","implicitFlowEnabled":true}`, "client bac-api enables the implicit flow", false},
		{"deletable key", "vault-keys-never-leave", "vault:transit/secretBackendKey:SecretBackendKey", `{"name":"pii","deletionAllowed":true}`, "key pii has deletionAllowed: true", false},
		{"plaintext backup", "vault-keys-never-leave", "vault:transit/secretBackendKey:SecretBackendKey", `{"name":"pii","allowPlaintextBackup":true}`, "key pii has allowPlaintextBackup: true", false},
		// iam-no-admin-grants (new)
		{"admin policy on the node role", "iam-no-admin-grants", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
			`{"role":"node","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, "attaches arn:aws:iam::aws:policy/AdministratorAccess", true},
		{"power user on a role", "iam-no-admin-grants", "aws:iam/role:Role", `{"managedPolicyArns":["arn:aws:iam::aws:policy/PowerUserAccess"]}`, "carries arn:aws:iam::aws:policy/PowerUserAccess", true},
		{"star on star inline", "iam-no-admin-grants", "aws:iam/rolePolicy:RolePolicy",
			`{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}`, "statement 0 allows * on every resource", true},
		{"iam:* in a role's inline policy", "iam-no-admin-grants", "aws:iam/role:Role",
			`{"inlinePolicies":[{"policy":"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"iam:*\"],\"Resource\":[\"*\"]}}"}]}`, "allows iam:* on every resource", true},
		// exposure-internal-apis (new)
		{"Kong admin API as a load balancer", "exposure-internal-apis", "kubernetes:helm.sh/v3:Release",
			`{"chart":"kong","values":{"admin":{"enabled":true,"type":"LoadBalancer"},"manager":{"enabled":false}}}`, "Kong's admin API is a LoadBalancer Service", true},
		{"Kong Manager left to the chart's default", "exposure-internal-apis", "kubernetes:helm.sh/v3:Release",
			`{"chart":"kong","values":{"admin":{"enabled":true,"type":"ClusterIP"}}}`, "Kong's manager API is a NodePort Service", true},
		{"Kong admin API with an Ingress", "exposure-internal-apis", "kubernetes:helm.sh/v3:Release",
			`{"chart":"kong","values":{"admin":{"enabled":true,"type":"ClusterIP","ingress":{"enabled":true}},"manager":{"enabled":false}}}`, "Kong's admin API has an Ingress", true},
		{"internal Service as a NodePort", "exposure-internal-apis", "kubernetes:core/v1:Service",
			`{"metadata":{"name":"keycloak","namespace":"auth"},"spec":{"type":"NodePort"}}`, "Service auth/keycloak is a NodePort", true},
		{"Argo CD server as a load balancer", "exposure-internal-apis", "kubernetes:helm.sh/v3:Release",
			`{"chart":"argo-cd","values":{"server":{"service":{"type":"LoadBalancer"}}}}`, "Argo CD's server is a LoadBalancer Service", true},
		// privilege-restricted-context (new)
		{"capabilities kept", "privilege-restricted-context", deployment,
			pod(`{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"app","securityContext":{}}]}`), "container app does not drop ALL capabilities", true},
		{"NET_ADMIN added", "privilege-restricted-context", deployment,
			pod(`{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"app","securityContext":{"capabilities":{"drop":["ALL"],"add":["NET_ADMIN"]}}}]}`), "adds capabilities [NET_ADMIN]", true},
		{"no seccomp profile", "privilege-restricted-context", deployment,
			pod(`{"containers":[{"name":"app","securityContext":{"capabilities":{"drop":["ALL"]}}}]}`), `has seccomp profile "", not RuntimeDefault`, true},
		{"unconfined init container", "privilege-restricted-context", deployment,
			pod(`{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"initContainers":[{"name":"init","securityContext":{"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"Unconfined"}}}],"containers":[]}`),
			`container init has seccomp profile "Unconfined"`, true},
		{"Kong as root in its chart values", "privilege-restricted-context", "kubernetes:helm.sh/v3:Release",
			`{"chart":"kong","name":"kong","values":{"containerSecurityContext":{"runAsNonRoot":false,"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}}}}`,
			"values containerSecurityContext may run as root", true},
		{"Kong with its chart's security context", "privilege-restricted-context", "kubernetes:helm.sh/v3:Release",
			`{"chart":"kong","name":"kong","values":{}}`, "values containerSecurityContext does not drop ALL capabilities", true},
		// tls-gateway-tls13-only: the rule read ssl_protocols only, which Kong
		// ignores unless the suite is custom.
		{"gateway on Kong's default suite", "tls-gateway-tls13-only", helmRelease, kongEnv(`{"ssl_protocols":"TLSv1.3"}`),
			`Kong serves TLSv1.2 (ssl_cipher_suite "intermediate", which sets the protocols itself)`, true},
		{"gateway on the intermediate suite", "tls-gateway-tls13-only", helmRelease, kongEnv(`{"ssl_cipher_suite":"intermediate","ssl_protocols":"TLSv1.3"}`),
			"Kong serves TLSv1.2", true},
		{"gateway on the old suite", "tls-gateway-tls13-only", helmRelease, kongEnv(`{"ssl_cipher_suite":"old","ssl_protocols":"TLSv1.3"}`),
			"offers ciphers without forward secrecy or AEAD over TLSv1, TLSv1.1, TLSv1.2: ECDHE-ECDSA-AES128-SHA256", true},
		{"gateway on the fips suite", "tls-gateway-tls13-only", helmRelease, kongEnv(`{"ssl_cipher_suite":"fips","ssl_protocols":"TLSv1.3"}`),
			"TLSv1.2+FIPS, kRSA+FIPS", true},
		{"gateway naming CBC ciphers", "tls-gateway-tls13-only", helmRelease, kongEnv(`{"ssl_cipher_suite":"custom","ssl_protocols":"TLSv1.3","ssl_ciphers":"ECDHE-RSA-AES128-SHA"}`),
			"ssl_ciphers names ciphers without forward secrecy or AEAD: ECDHE-RSA-AES128-SHA", true},
		{"gateway short-tag TLS 1.3 suite", "tls-gateway-tls13-only", helmRelease,
			kongEnv(`{"ssl_cipher_suite":"modern","ssl_protocols":"TLSv1.3","nginx_http_ssl_conf_command":"Ciphersuites TLS_AES_128_CCM_8_SHA256"}`),
			"without a full AEAD tag: TLS_AES_128_CCM_8_SHA256", true},
		{"gateway suite in customEnv", "tls-gateway-tls13-only", helmRelease,
			`{"chart":"kong","name":"kong","values":{"env":{"ssl_cipher_suite":"modern","ssl_protocols":"TLSv1.3"},"customEnv":{"KONG_SSL_CIPHER_SUITE":"intermediate"}}}`,
			"Kong serves TLSv1.2", true},
		{"gateway suite from a Secret", "tls-gateway-tls13-only", helmRelease,
			kongEnv(`{"ssl_cipher_suite":{"valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}},"ssl_protocols":"TLSv1.3"}`),
			"ssl_cipher_suite comes from outside the values", true},
		// tls-verify-peers (new)
		{"oidc plugin not verifying", "tls-verify-peers", "kubernetes:configuration.konghq.com/v1:KongClusterPlugin",
			`{"metadata":{"name":"oidc"},"plugin":"oidc","config":{"ssl_verify":"false"}}`, "oidc plugin oidc does not set ssl_verify: true", true},
		{"vault provider skipping verification", "tls-verify-peers", "pulumi:providers:vault", `{"skipTlsVerify":"true"}`, "sets skipTlsVerify", true},
		{"keycloak provider skipping verification", "tls-verify-peers", "pulumi:providers:keycloak", `{"tlsInsecureSkipVerify":true}`, "sets tlsInsecureSkipVerify", true},
		// gitops-projects-restricted (new)
		{"any repository", "gitops-projects-restricted", "kubernetes:argoproj.io/v1alpha1:AppProject",
			`{"metadata":{"name":"services"},"spec":{"sourceRepos":["*"]}}`, "project services accepts any source repository", true},
		{"any namespace", "gitops-projects-restricted", "kubernetes:argoproj.io/v1alpha1:AppProject",
			`{"metadata":{"name":"services"},"spec":{"sourceRepos":["https://github.com/x/y"],"destinations":[{"server":"https://kubernetes.default.svc","namespace":"*"}]}}`,
			"project services destination 0 is a wildcard", true},
		{"any cluster-scoped kind", "gitops-projects-restricted", "kubernetes:argoproj.io/v1alpha1:AppProject",
			`{"metadata":{"name":"platform"},"spec":{"clusterResourceWhitelist":[{"group":"*","kind":"*"}]}}`, "may create any cluster-scoped kind", true},
	}
	caught := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			applies, problems := rule(t, tt.rule).Check(res(tt.typ, tt.props))
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, tt.want)
			}
			if !applies || !found {
				t.Fatalf("applies %v, problems %q, want one containing %q", applies, problems, tt.want)
			}
			covered.refuse(tt.rule)
		})
		if tt.passedBefore {
			caught++
		}
	}
	t.Logf("%d resource variants the gate passed before issue 12 are refused", caught)
}

// bruteForce is a realm with the seed's brute-force settings, one changed.
func bruteForce(old, replacement string) string {
	return `{"securityDefenses":{"bruteForceDetection":` + strings.Replace(seedBruteForce, old, replacement, 1) + `}}`
}

// TestRulesAdmitCompliantVariants: settings that are compliant although they
// differ from the project's own (so the stronger rules do not overreach).
func TestRulesAdmitCompliantVariants(t *testing.T) {
	tests := []struct{ name, rule, typ, props string }{
		{"non-root inherited from the pod", "privilege-no-root-or-privileged", deployment,
			pod(`{"securityContext":{"runAsNonRoot":true},"containers":[` + ctr("app", `{"allowPrivilegeEscalation":false}`) + `]}`)},
		{"user id instead of runAsNonRoot", "privilege-no-root-or-privileged", deployment,
			pod(`{"securityContext":{"runAsUser":1000},"containers":[` + ctr("app", `{"allowPrivilegeEscalation":"false"}`) + `]}`)},
		{"documented exception", "privilege-no-root-or-privileged", "kubernetes:apps/v1:DaemonSet",
			`{"metadata":{"name":"agent","annotations":{"compliance.bac-platform.io/privileged-exception":"host IDS"}},"spec":{"template":{"spec":{"containers":[{"name":"c","securityContext":{"privileged":true}}]}}}}`},
		{"release tag with a suffix", "supply-chain-pinned-images", deployment, pod(`{"containers":[{"name":"app","image":"registry:5000/x/api:v1.2.3-alpine"}]}`)},
		{"digest", "supply-chain-pinned-images", deployment,
			pod(`{"containers":[{"name":"app","image":"ghcr.io/x/api@sha256:` + strings.Repeat("ab", 32) + `"}]}`)},
		{"staging audit logs for 90 days", "retention-log-groups", "aws:cloudwatch/logGroup:LogGroup",
			`{"name":"/aws/eks/c/cluster","retentionInDays":90,"tags":{"Environment":"staging"}}`},
		{"permanent lockout", "identity-brute-force", keycloakRealm,
			`{"securityDefenses":{"bruteForceDetection":{"permanentLockout":true,"maxLoginFailures":5,"minimumQuickLoginWaitSeconds":60}}}`},
		{"encrypted EBS volume", "encryption-node-volumes", "aws:ebs/volume:Volume", `{"encrypted":true}`},
		{"node group with a launch template", "encryption-node-volumes", "aws:eks/nodeGroup:NodeGroup", `{"launchTemplate":{"id":"lt-1","version":"1"}}`},
		{"scoped IAM statement", "iam-no-admin-grants", "aws:iam/rolePolicy:RolePolicy",
			`{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"logs:PutLogEvents\",\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}`},
		{"worker node policy", "iam-no-admin-grants", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", `{"policyArn":"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}`},
		{"Kong admin API inside the cluster", "exposure-internal-apis", "kubernetes:helm.sh/v3:Release",
			`{"chart":"kong","values":{"proxy":{"type":"LoadBalancer"},"admin":{"enabled":true,"type":"ClusterIP"},"manager":{"enabled":false}}}`},
		{"restricted container, seccomp from the pod", "privilege-restricted-context", deployment,
			pod(`{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"app","securityContext":{"capabilities":{"drop":["ALL"]}}}]}`)},
		{"gateway on a custom TLS 1.3 suite", "tls-gateway-tls13-only", helmRelease,
			kongEnv(`{"SSL_CIPHER_SUITE":"custom","ssl_protocols":"TLSv1.3","ssl_ciphers":"ECDHE-ECDSA-AES256-GCM-SHA384:!aNULL"}`)},
		{"gateway certificate from a Secret", "tls-gateway-tls13-only", helmRelease,
			kongEnv(`{"ssl_cipher_suite":"modern","ssl_cert_key":{"valueFrom":{"secretKeyRef":{"name":"tls","key":"key"}}}}`)},
		{"gateway TLS 1.3 suites named", "tls-gateway-tls13-only", helmRelease,
			kongEnv(`{"ssl_cipher_suite":"modern","nginx_stream_ssl_conf_command":"Ciphersuites TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"}`)},
		{"verifying oidc plugin", "tls-verify-peers", "kubernetes:configuration.konghq.com/v1:KongClusterPlugin", `{"plugin":"oidc","config":{"ssl_verify":"true"}}`},
		{"named project", "gitops-projects-restricted", "kubernetes:argoproj.io/v1alpha1:AppProject",
			`{"metadata":{"name":"platform"},"spec":{"sourceRepos":["https://github.com/x/y"],"destinations":[{"server":"https://kubernetes.default.svc","namespace":"istio-system"}],"clusterResourceWhitelist":[{"group":"admissionregistration.k8s.io","kind":"MutatingWebhookConfiguration"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if applies, problems := rule(t, tt.rule).Check(res(tt.typ, tt.props)); !applies || len(problems) != 0 {
				t.Fatalf("applies %v, problems %q", applies, problems)
			}
			covered.pass(tt.rule)
		})
	}
}

// TestNamespaceIsolationVariants: allow-all policies beside the default deny
// and NetworkPolicies nothing enforces were admitted before issue 12.
func TestNamespaceIsolationVariants(t *testing.T) {
	ns := res("kubernetes:core/v1:Namespace", `{"metadata":{"name":"crm","labels":{"bac-platform.io/tier":"service"}}}`)
	deny := res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `{"metadata":{"name":"default-deny-all","namespace":"crm"},"spec":{"podSelector":{},"policyTypes":["Ingress","Egress"]}}`)
	authz := res("kubernetes:security.istio.io/v1:AuthorizationPolicy",
		`{"metadata":{"name":"crm-authz","namespace":"crm"},"spec":{"action":"ALLOW","rules":[{"from":[{"source":{"principals":["cluster.local/ns/api-gateway/sa/kong"]}}]}]}}`)
	netpol := func(spec string) Resource {
		return res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `{"metadata":{"name":"extra","namespace":"crm"},"spec":`+spec+`}`)
	}
	cluster := res(eksComponent, `{"name":"c"}`)
	cni := func(values string) Resource {
		return res("aws:eks/addon:Addon", `{"addonName":"vpc-cni","configurationValues":`+values+`}`)
	}
	enforced := cni(`"{\"enableNetworkPolicy\":\"true\"}"`)
	tests := []struct {
		name string
		rs   []Resource
		want string
	}{
		{"allow-all ingress beside the deny", []Resource{ns, deny, authz, netpol(`{"podSelector":{},"policyTypes":["Ingress"],"ingress":[{}]}`)},
			"NetworkPolicy extra ingress rule 0 allows every source"},
		{"allow-all egress on a port", []Resource{ns, deny, authz, netpol(`{"podSelector":{"matchLabels":{"app":"crm"}},"policyTypes":["Egress"],"egress":[{"ports":[{"port":443}]}]}`)},
			"NetworkPolicy extra egress rule 0 allows every destination"},
		{"every namespace", []Resource{ns, deny, authz, netpol(`{"podSelector":{},"ingress":[{"from":[{"namespaceSelector":{}}]}]}`)},
			"ingress rule 0 allows every source"},
		{"the internet", []Resource{ns, deny, authz, netpol(`{"podSelector":{},"egress":[{"to":[{"ipBlock":{"cidr":"0.0.0.0/0"}}]}]}`)},
			"egress rule 0 allows every destination"},
		{"allow-all AuthorizationPolicy", []Resource{ns, deny, authz, res("kubernetes:security.istio.io/v1:AuthorizationPolicy",
			`{"metadata":{"name":"open","namespace":"crm"},"spec":{"rules":[{}]}}`)}, "AuthorizationPolicy open rule 0 allows every request"},
		{"EKS without network policy enforcement", []Resource{cluster, cni(`"{}"`), ns, deny, authz},
			"has a default-deny NetworkPolicy that nothing enforces"},
		{"EKS without the vpc-cni add-on", []Resource{cluster, ns, deny, authz}, "nothing enforces"},
	}
	r := rule(t, "network-namespace-isolation")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, violations := r.CheckStack(tt.rs)
			if len(violations) != 1 || !strings.Contains(violations[0].Message, tt.want) {
				t.Fatalf("violations %v, want one containing %q", violations, tt.want)
			}
		})
	}
	if _, violations := r.CheckStack([]Resource{cluster, enforced, ns, deny, authz}); len(violations) != 0 {
		t.Fatalf("an enforced default deny with a scoped AuthorizationPolicy: %v", violations)
	}
	denyDeny := res("kubernetes:security.istio.io/v1:AuthorizationPolicy", `{"metadata":{"name":"deny","namespace":"crm"},"spec":{"action":"DENY","rules":[{}]}}`)
	if _, violations := r.CheckStack([]Resource{ns, deny, authz, denyDeny}); len(violations) != 0 {
		t.Fatalf("a DENY-all policy is not an allow-all: %v", violations)
	}
}

// TestTagsFromClusterTagsAndJSONProviderConfig: the eks component's
// clusterTags count, and the engine's JSON-string provider config is decoded.
func TestTagsFromClusterTagsAndJSONProviderConfig(t *testing.T) {
	r := rule(t, "operability-required-tags")
	if _, problems := r.Check(res(eksComponent, `{"clusterTags":{"Environment":"p","Cluster":"c","ManagedBy":"pulumi"}}`)); len(problems) != 0 {
		t.Fatalf("clusterTags must count: %v", problems)
	}
	child := NewResource("urn:c", eksCluster, "c", "", map[string]any{"name": "c"},
		map[string]any{"defaultTags": `{"tags":{"Environment":"p","Cluster":"c","ManagedBy":"pulumi"}}`})
	if _, problems := r.Check(child); len(problems) != 0 {
		t.Fatalf("JSON-string default tags must be decoded: %v", problems)
	}
	child = NewResource("urn:c", eksCluster, "c", "", map[string]any{"name": "c"}, map[string]any{"defaultTags": `{"tags":{"Environment":"p"}}`})
	if _, problems := r.Check(child); len(problems) != 1 || !strings.Contains(problems[0], "missing tags Cluster, ManagedBy") {
		t.Fatalf("problems = %v", problems)
	}
}
