package rules

import (
	"strings"
	"testing"
)

// condition is one condition of one resource rule: a resource the rule
// admits, and the same resource with exactly that condition broken (old
// replaced by new, once), which it must refuse with a problem containing
// want.
type condition struct {
	rule, condition, typ, good, old, new, want string
}

// Resources the conditions start from.
const (
	eksGood = `{"encryptionConfigKeyArn":"arn:k","enabledClusterLogTypes":["api","audit","authenticator"],` +
		`"endpointPrivateAccess":true,"endpointPublicAccess":true,"publicAccessCidrs":["198.51.100.0/24"],` +
		`"clusterTags":{"Environment":"production","Cluster":"c","ManagedBy":"pulumi"}}`
	eksClusterGood = `{"encryptionConfig":{"provider":{"keyArn":"arn:k"},"resources":["secrets"]},"enabledClusterLogTypes":["api","audit","authenticator"],` +
		`"vpcConfig":{"endpointPrivateAccess":true,"endpointPublicAccess":true,"publicAccessCidrs":["198.51.100.0/24"]}}`
	launchTemplate = `{"blockDeviceMappings":[{"deviceName":"/dev/sdb","virtualName":"ephemeral0"},{"deviceName":"/dev/xvda","ebs":{"encrypted":"true"}}]}`
	transitKey     = `{"name":"pii","exportable":false,"deletionAllowed":false,"allowPlaintextBackup":false,"autoRotatePeriod":2592000}`
	oidcClient     = `{"clientId":"bac-api","implicitFlowEnabled":false,"directAccessGrantsEnabled":false}`
	realm          = `{"passwordPolicy":"length(12) and digits(1)","accessTokenLifespan":"5m","otpPolicy":{"type":"totp","digits":6}}`
	kongModern     = `{"ssl_cipher_suite":"modern","ssl_protocols":"TLSv1.3"}`
	kongCustom     = `{"ssl_cipher_suite":"custom","ssl_protocols":"TLSv1.3","ssl_ciphers":"ECDHE-ECDSA-AES128-GCM-SHA256"}`
	project        = `{"metadata":{"name":"p"},"spec":{"sourceRepos":["https://github.com/x/y"],` +
		`"destinations":[{"server":"https://kubernetes.default.svc","name":"in-cluster","namespace":"crm"}],"clusterResourceWhitelist":[{"group":"","kind":"Namespace"}]}}`
	kongAdmin = `{"chart":"kong","values":{"admin":{"enabled":true,"type":"ClusterIP","ingress":{"enabled":false}},"manager":{"enabled":false}}}`
	withTags  = `{"tags":{"Environment":"production","Cluster":"c","ManagedBy":"pulumi"}}`
	ingress   = "kubernetes:networking.k8s.io/v1:Ingress"
	// Keycloak's public route and its admin route with the allow list.
	keycloakIngress = `{"metadata":{"name":"keycloak","namespace":"auth","annotations":{"konghq.com/plugins":"rate-limit"}},"spec":{"rules":[{"host":"auth.x.io","http":{"paths":[` +
		`{"path":"/realms/","pathType":"Prefix","backend":{"service":{"name":"keycloak","port":{"number":8080}}}},` +
		`{"path":"/resources/","pathType":"Prefix","backend":{"service":{"name":"keycloak","port":{"number":8080}}}}]}}]}}`
	keycloakAdmin = `{"metadata":{"name":"keycloak-admin","namespace":"auth","annotations":{"konghq.com/plugins":"rate-limit,admin-allow"}},"spec":{"rules":[{"host":"auth.x.io","http":{"paths":[` +
		`{"path":"/admin/","pathType":"Prefix","backend":{"service":{"name":"keycloak","port":{"number":8080}}}}]}}]}}`
)

// iamPolicy is an IAM policy document as a JSON string value.
func iamPolicy(effect, action, resource string) string {
	return `"{\"Statement\":[{\"Effect\":\"` + effect + `\",\"Action\":\"` + action + `\",\"Resource\":\"` + resource + `\"}]}"`
}

// conditions lists every condition of every resource rule (the stack
// rules' conditions are in TestStackRules, TestAddonStackRules and
// TestNamespaceIsolationVariants; the gateway TLS rule's in kongtls too,
// the charts' in TestChartSecurityContexts).
func conditions() []condition {
	rootPod := pod(`{"initContainers":[` + ctr("init", `{"runAsNonRoot":true,"allowPrivilegeEscalation":false}`) + `],"containers":[` +
		ctr("app", `{"runAsNonRoot":true,"allowPrivilegeEscalation":false,"privileged":false}`) + `]}`)
	podUser := pod(`{"securityContext":{"runAsUser":1000},"containers":[` + ctr("app", `{"allowPrivilegeEscalation":false}`) + `]}`)
	podNonRoot := pod(`{"securityContext":{"runAsNonRoot":true},"containers":[` + ctr("app", `{"allowPrivilegeEscalation":false}`) + `]}`)
	ctrUser := pod(`{"containers":[` + ctr("app", `{"runAsUser":1000,"allowPrivilegeEscalation":false}`) + `]}`)
	excepted := `{"metadata":{"name":"agent","namespace":"security","annotations":{"` + PrivilegedExceptionAnnotation + `":"host IDS reads host files"}},` +
		`"spec":{"template":{"spec":{"hostPID":true,"containers":[{"name":"c","securityContext":{"privileged":true}}]}}}}`
	hostPod := pod(`{"hostNetwork":false,"hostPID":false,"hostIPC":false,"containers":[]}`)
	restrictedPod := pod(`{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"initContainers":[{"name":"init","securityContext":{"capabilities":{"drop":["ALL"]}}}],` +
		`"containers":[{"name":"app","securityContext":{"capabilities":{"drop":["ALL"],"add":[]},"seccompProfile":{"type":"RuntimeDefault"}}}]}`)
	limitsPod := pod(`{"initContainers":[` + ctr("init", restrictedCtx) + `],"containers":[` + ctr("app", restrictedCtx) + `]}`)
	imagePod := pod(`{"initContainers":[{"name":"init","image":"busybox:1.37.0"}],"containers":[{"name":"app","image":"ghcr.io/x/api@sha256:` + strings.Repeat("ab", 32) + `"},{"name":"side","image":"ghcr.io/x/side:1.2.3"}]}`)
	helmImages := `{"chart":"kong","name":"kong","version":"3.2.0","values":{"image":{"tag":"3.9.1"},"global":{"image":{"tag":"1.0.0"}},"ingressController":{"image":{"tag":"3.5.1"}}}}`
	return []condition{
		{"encryption-eks-secrets", "component: key ARN", eksComponent, eksGood, `"encryptionConfigKeyArn":"arn:k",`, ``, "no encryptionConfigKeyArn"},
		{"encryption-eks-secrets", "cluster: key ARN", eksCluster, eksClusterGood, `"keyArn":"arn:k"`, `"keyArn":""`, "encryptionConfig does not cover secrets"},
		{"encryption-eks-secrets", "cluster: secrets among the resources", eksCluster, eksClusterGood, `"resources":["secrets"]`, `"resources":["configmaps"]`, "encryptionConfig does not cover secrets"},

		{"encryption-node-volumes", "launch template: EBS mapping encrypted", "aws:ec2/launchTemplate:LaunchTemplate", launchTemplate, `"encrypted":"true"`, `"encrypted":"false"`, "block device 1 (/dev/xvda) is not encrypted"},
		{"encryption-node-volumes", "launch template: mappings present", "aws:ec2/launchTemplate:LaunchTemplate", launchTemplate, `"blockDeviceMappings":[`, `"other":[`, "no block device mappings"},
		{"encryption-node-volumes", "eks managed node group: launch template", "eks:index:ManagedNodeGroup", `{"launchTemplate":{"id":"lt-1","version":"1"}}`, `"launchTemplate"`, `"template"`, "no launch template"},
		{"encryption-node-volumes", "aws node group: launch template", "aws:eks/nodeGroup:NodeGroup", `{"launchTemplate":{"id":"lt-1","version":"1"}}`, `"launchTemplate"`, `"template"`, "no launch template"},
		{"encryption-node-volumes", "EBS volume: encrypted", "aws:ebs/volume:Volume", `{"size":100,"encrypted":true}`, `true`, `false`, "volume is not encrypted"},

		{"encryption-storage-classes", "EBS CSI: encrypted", "kubernetes:storage.k8s.io/v1:StorageClass", `{"metadata":{"name":"gp3"},"provisioner":"ebs.csi.aws.com","parameters":{"encrypted":"true"}}`,
			`"encrypted":"true"`, `"type":"gp3"`, "storage class gp3 provisions unencrypted volumes"},
		{"encryption-storage-classes", "in-tree EBS: encrypted", "kubernetes:storage.k8s.io/v1:StorageClass", `{"metadata":{"name":"gp2"},"provisioner":"kubernetes.io/aws-ebs","parameters":{"encrypted":"true"}}`,
			`"encrypted":"true"`, `"encrypted":"false"`, "storage class gp2 provisions unencrypted volumes"},
		{"encryption-kms-rotation", "symmetric key rotates", "aws:kms/key:Key", `{"customerMasterKeySpec":"SYMMETRIC_DEFAULT","enableKeyRotation":true}`, `true`, `false`, "key rotation is off"},

		{"mtls-no-permissive", "workload mode", "kubernetes:security.istio.io/v1:PeerAuthentication", `{"metadata":{"name":"p","namespace":"crm"},"spec":{"mtls":{"mode":"STRICT"},"portLevelMtls":{"8080":{"mode":"STRICT"}}}}`,
			`{"mode":"STRICT"},"portLevelMtls"`, `{"mode":"DISABLE"},"portLevelMtls"`, "crm/p sets workload mTLS DISABLE"},
		{"mtls-no-permissive", "port-level mode", "kubernetes:security.istio.io/v1:PeerAuthentication", `{"metadata":{"name":"p","namespace":"crm"},"spec":{"mtls":{"mode":"STRICT"},"portLevelMtls":{"8080":{"mode":"STRICT"}}}}`,
			`"8080":{"mode":"STRICT"}`, `"8080":{"mode":"PERMISSIVE"}`, "crm/p sets port 8080 mTLS PERMISSIVE"},

		{"privilege-no-root-or-privileged", "privileged", deployment, rootPod, `"privileged":false`, `"privileged":true`, "container app is privileged"},
		{"privilege-no-root-or-privileged", "allowPrivilegeEscalation true", deployment, rootPod, `"allowPrivilegeEscalation":false,"privileged"`, `"allowPrivilegeEscalation":true,"privileged"`, "container app allows privilege escalation"},
		{"privilege-no-root-or-privileged", "allowPrivilegeEscalation unset", deployment, rootPod, `"allowPrivilegeEscalation":false,"privileged"`, `"privileged"`, "container app does not set allowPrivilegeEscalation: false"},
		{"privilege-no-root-or-privileged", "init container non-root", deployment, rootPod, `"runAsNonRoot":true`, `"runAsNonRoot":false`, "container init may run as root"},
		{"privilege-no-root-or-privileged", "init container escalation", deployment, rootPod, `"allowPrivilegeEscalation":false}`, `"allowPrivilegeEscalation":true}`, "container init allows privilege escalation"},
		{"privilege-no-root-or-privileged", "container runAsUser", deployment, ctrUser, `"runAsUser":1000`, `"runAsUser":0`, "container app runs as root (runAsUser 0)"},
		{"privilege-no-root-or-privileged", "pod runAsUser", deployment, podUser, `"runAsUser":1000`, `"runAsUser":0`, "container app runs as root (runAsUser 0 from the pod)"},
		{"privilege-no-root-or-privileged", "pod runAsUser present", deployment, podUser, `"runAsUser":1000`, `"runAsGroup":1000`, "container app may run as root"},
		{"privilege-no-root-or-privileged", "pod runAsNonRoot", deployment, podNonRoot, `"runAsNonRoot":true`, `"runAsNonRoot":false`, "container app may run as root"},
		{"privilege-no-root-or-privileged", "exception has a reason", "kubernetes:apps/v1:DaemonSet", excepted, "host IDS reads host files", " ", "container c is privileged"},

		{"privilege-no-host-namespaces", "hostNetwork", deployment, hostPod, `"hostNetwork":false`, `"hostNetwork":true`, "crm/api uses hostNetwork"},
		{"privilege-no-host-namespaces", "hostPID", deployment, hostPod, `"hostPID":false`, `"hostPID":true`, "crm/api uses hostPID"},
		{"privilege-no-host-namespaces", "hostIPC", deployment, hostPod, `"hostIPC":false`, `"hostIPC":true`, "crm/api uses hostIPC"},
		{"privilege-no-host-namespaces", "exception has a reason", "kubernetes:apps/v1:DaemonSet", excepted, "host IDS reads host files", "", "security/agent uses hostPID"},

		{"retention-log-groups", "retention set", "aws:cloudwatch/logGroup:LogGroup", `{"name":"/aws/app","retentionInDays":30}`, `,"retentionInDays":30`, ``, "keeps logs forever"},
		{"retention-log-groups", "retention not 0 (forever)", "aws:cloudwatch/logGroup:LogGroup", `{"name":"/aws/app","retentionInDays":30}`, `30`, `0`, "keeps logs forever"},
		{"retention-log-groups", "other logs 30 days", "aws:cloudwatch/logGroup:LogGroup", `{"name":"/aws/app","retentionInDays":30}`, `30`, `29`, "less than the 30"},
		{"retention-log-groups", "production audit logs 365 days", "aws:cloudwatch/logGroup:LogGroup", `{"name":"/aws/eks/c/cluster","retentionInDays":365,"tags":{"Environment":"production"}}`, `365`, `364`, "less than the 365"},
		{"retention-log-groups", "other audit logs 90 days", "aws:cloudwatch/logGroup:LogGroup", `{"name":"/aws/eks/c/cluster","retentionInDays":90,"tags":{"Environment":"staging"}}`, `90`, `89`, "less than the 90"},
		{"retention-log-groups", "flow logs 90 days", "aws:cloudwatch/logGroup:LogGroup", `{"name":"/aws/vpc/c/flow-logs","retentionInDays":90}`, `90`, `60`, "keeps VPC flow logs for 60 days, less than the 90"},

		{"audit-eks-control-plane-logs", "component: audit", eksComponent, eksGood, `"audit",`, ``, "audit logs are off"},
		{"audit-eks-control-plane-logs", "component: authenticator", eksComponent, eksGood, `,"authenticator"`, ``, "authenticator logs are off"},
		{"audit-eks-control-plane-logs", "cluster: audit", eksCluster, eksClusterGood, `"audit",`, ``, "audit logs are off"},
		{"audit-eks-control-plane-logs", "cluster: authenticator", eksCluster, eksClusterGood, `,"authenticator"`, ``, "authenticator logs are off"},

		{"network-eks-endpoint", "component: private endpoint", eksComponent, eksGood, `"endpointPrivateAccess":true`, `"endpointPrivateAccess":false`, "the private endpoint is off"},
		{"network-eks-endpoint", "component: public CIDRs listed", eksComponent, eksGood, `["198.51.100.0/24"]`, `[]`, "no publicAccessCidrs"},
		{"network-eks-endpoint", "component: no IPv4 /0", eksComponent, eksGood, `"198.51.100.0/24"`, `"0.0.0.0/0"`, "open to 0.0.0.0/0"},
		{"network-eks-endpoint", "component: no IPv6 /0", eksComponent, eksGood, `"198.51.100.0/24"`, `"::/0"`, "open to ::/0"},
		{"network-eks-endpoint", "cluster: private endpoint", eksCluster, eksClusterGood, `"endpointPrivateAccess":true`, `"endpointPrivateAccess":false`, "the private endpoint is off"},
		{"network-eks-endpoint", "cluster: public CIDRs", eksCluster, eksClusterGood, `"198.51.100.0/24"`, `"0.0.0.0/0"`, "open to 0.0.0.0/0"},

		{"tls-gateway-tls13-only", "named suite", helmRelease, kongEnv(kongModern), `"modern"`, `"intermediate"`, "Kong serves TLSv1.2"},
		{"tls-gateway-tls13-only", "suite set", helmRelease, kongEnv(kongModern), `"ssl_cipher_suite":"modern",`, ``, `ssl_cipher_suite "intermediate"`},
		{"tls-gateway-tls13-only", "custom protocols", helmRelease, kongEnv(kongCustom), `"ssl_protocols":"TLSv1.3"`, `"ssl_protocols":"TLSv1.2 TLSv1.3"`, "Kong serves TLSv1.2"},
		{"tls-gateway-tls13-only", "custom ciphers AEAD", helmRelease, kongEnv(kongCustom), `ECDHE-ECDSA-AES128-GCM-SHA256`, `ECDHE-ECDSA-AES128-SHA`, "ssl_ciphers names ciphers without forward secrecy or AEAD"},
		{"tls-gateway-tls13-only", "stream protocols", helmRelease, kongEnv(kongCustom), `"ssl_protocols":"TLSv1.3"`, `"ssl_protocols":"TLSv1.3","nginx_stream_ssl_protocols":"TLSv1.2"`, "Kong serves TLSv1.2"},
		{"tls-gateway-tls13-only", "customEnv", helmRelease, `{"chart":"kong","name":"kong","values":{"env":` + kongModern + `,"customEnv":{"KONG_LOG_LEVEL":"notice"}}}`,
			`"KONG_LOG_LEVEL":"notice"`, `"KONG_SSL_CIPHER_SUITE":"old"`, "Kong serves TLSv1, TLSv1.1, TLSv1.2"},
		{"tls-gateway-tls13-only", "values only", helmRelease, kongEnv(kongModern), `"modern"`, `{"valueFrom":{"configMapKeyRef":{"name":"c","key":"k"}}}`, "comes from outside the values"},

		{"tls-cors-no-wildcard-with-credentials", "named origins", "kubernetes:configuration.konghq.com/v1:KongPlugin",
			`{"metadata":{"name":"cors"},"plugin":"cors","config":{"origins":["https://a.example"],"credentials":true}}`, `"https://a.example"`, `"*"`, "plugin cors allows origin * with credentials"},
		{"tls-cors-no-wildcard-with-credentials", "no credentials with *", "kubernetes:configuration.konghq.com/v1:KongClusterPlugin",
			`{"metadata":{"name":"cors"},"plugin":"cors","config":{"origins":["*"],"credentials":false}}`, `false`, `true`, "plugin cors allows origin * with credentials"},

		{"identity-password-length", "length 12", keycloakRealm, realm, `length(12)`, `length(11)`, `does not require length(12)`},
		{"identity-password-length", "length present", keycloakRealm, realm, `length(12) and `, ``, `does not require length(12)`},
		{"identity-brute-force", "detection on", keycloakRealm, `{"securityDefenses":{"bruteForceDetection":` + seedBruteForce + `}}`, `"bruteForceDetection"`, `"other"`, "brute-force detection is off"},
		{"identity-brute-force", "maxLoginFailures at least 1", keycloakRealm, `{"securityDefenses":{"bruteForceDetection":` + seedBruteForce + `}}`, `"maxLoginFailures":30`, `"maxLoginFailures":0`, "maxLoginFailures is 0, want 1-30"},
		{"identity-brute-force", "maxLoginFailures set", keycloakRealm, `{"securityDefenses":{"bruteForceDetection":` + seedBruteForce + `}}`, `"maxLoginFailures":30,`, ``, "maxLoginFailures is <nil>"},
		{"identity-brute-force", "waits unless permanent", keycloakRealm, `{"securityDefenses":{"bruteForceDetection":{"permanentLockout":true,"maxLoginFailures":5,"minimumQuickLoginWaitSeconds":60}}}`,
			`"permanentLockout":true`, `"permanentLockout":false`, "waitIncrementSeconds is <nil>"},
		{"identity-token-lifetime", "at most 5m", keycloakRealm, realm, `"5m"`, `"301s"`, `accessTokenLifespan "301s" exceeds 5m`},
		{"identity-token-lifetime", "set", keycloakRealm, realm, `"accessTokenLifespan":"5m",`, ``, `accessTokenLifespan "" exceeds 5m`},
		{"identity-token-lifetime", "a duration", keycloakRealm, realm, `"5m"`, `"5 minutes"`, `accessTokenLifespan "5 minutes" exceeds 5m`},
		{"identity-otp", "TOTP or HOTP", keycloakRealm, realm, `"totp"`, `"sms"`, `otpPolicy type "sms"`},
		{"identity-otp", "6 digits", keycloakRealm, realm, `"digits":6`, `"digits":5`, `digits 5`},
		{"identity-no-implicit-or-password-grant", "implicit flow", keycloakClient, oidcClient, `"implicitFlowEnabled":false`, `"implicitFlowEnabled":true`, "enables the implicit flow"},
		{"identity-no-implicit-or-password-grant", "direct access grants", keycloakClient, oidcClient, `"directAccessGrantsEnabled":false`, `"directAccessGrantsEnabled":"true"`, "enables direct access grants"},

		{"vault-keys-never-leave", "exportable", "vault:transit/secretBackendKey:SecretBackendKey", transitKey, `"exportable":false`, `"exportable":true`, "key pii has exportable: true"},
		{"vault-keys-never-leave", "deletionAllowed", "vault:transit/secretBackendKey:SecretBackendKey", transitKey, `"deletionAllowed":false`, `"deletionAllowed":true`, "key pii has deletionAllowed: true"},
		{"vault-keys-never-leave", "allowPlaintextBackup", "vault:transit/secretBackendKey:SecretBackendKey", transitKey, `"allowPlaintextBackup":false`, `"allowPlaintextBackup":"true"`, "key pii has allowPlaintextBackup: true"},
		{"vault-key-rotation", "30 days at most", "vault:transit/secretBackendKey:SecretBackendKey", transitKey, `2592000`, `2592001`, "key pii rotates every"},
		{"vault-key-rotation", "rotation on", "vault:transit/secretBackendKey:SecretBackendKey", transitKey, `"autoRotatePeriod":2592000`, `"autoRotatePeriod":0`, "key pii rotates every 0 seconds"},

		{"supply-chain-pinned-images", "container tag", deployment, imagePod, `side:1.2.3`, `side:latest`, `container side image "ghcr.io/x/side:latest" uses the moving latest tag`},
		{"supply-chain-pinned-images", "container has a tag", deployment, imagePod, `side:1.2.3`, `side`, `container side image "ghcr.io/x/side" has no tag`},
		{"supply-chain-pinned-images", "release version tag", deployment, imagePod, `side:1.2.3`, `side:1.2`, `uses the tag "1.2"`},
		{"supply-chain-pinned-images", "well-formed digest", deployment, imagePod, `@sha256:ab`, `@sha256:`, `container app image`},
		{"supply-chain-pinned-images", "init container", deployment, imagePod, `busybox:1.37.0`, `busybox:stable`, `container init image "busybox:stable"`},
		{"supply-chain-pinned-images", "chart values.image", helmRelease, helmImages, `"3.9.1"`, `"3.9"`, `values.image.tag uses the tag "3.9"`},
		{"supply-chain-pinned-images", "chart values.global.image", helmRelease, helmImages, `"1.0.0"`, `"latest"`, `values.global.image.tag uses the moving latest tag`},
		{"supply-chain-pinned-images", "chart values.ingressController.image", helmRelease, helmImages, `"3.5.1"`, `""`, `values.ingressController.image.tag has no tag`},
		{"supply-chain-pinned-charts", "release version", helmRelease, `{"chart":"kong","version":"3.2.0"}`, `"3.2.0"`, `"3.x"`, `chart kong version "3.x" is not pinned`},
		{"supply-chain-pinned-charts", "application revision", "kubernetes:argoproj.io/v1alpha1:Application", `{"metadata":{"name":"i"},"spec":{"source":{"chart":"istiod","targetRevision":"1.29.2"}}}`,
			`"1.29.2"`, `"HEAD"`, `application i chart istiod revision "HEAD" is not pinned`},

		{"operability-requests-and-limits", "requests.cpu", deployment, limitsPod, `"requests":{"cpu":"100m",`, `"requests":{`, "container init has no requests.cpu"},
		{"operability-requests-and-limits", "requests.memory", deployment, limitsPod, `"cpu":"100m","memory":"128Mi"`, `"cpu":"100m"`, "container init has no requests.memory"},
		{"operability-requests-and-limits", "limits.cpu", deployment, limitsPod, `"limits":{"cpu":"1",`, `"limits":{`, "container init has no limits.cpu"},
		{"operability-requests-and-limits", "limits.memory", deployment, limitsPod, `"cpu":"1","memory":"1Gi"`, `"cpu":"1"`, "container init has no limits.memory"},
		{"operability-required-tags", "Environment", "aws:ec2/vpc:Vpc", withTags, `"Environment":"production",`, ``, "missing tags Environment"},
		{"operability-required-tags", "Cluster", "aws:kms/key:Key", withTags, `"Cluster":"c",`, ``, "missing tags Cluster"},
		{"operability-required-tags", "ManagedBy", "aws:iam/role:Role", withTags, `,"ManagedBy":"pulumi"`, ``, "missing tags ManagedBy"},
		{"operability-required-tags", "the eks component's clusterTags", eksComponent, eksGood, `"Cluster":"c",`, ``, "missing tags Cluster"},

		{"iam-no-admin-grants", "role policy attachment", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", `{"policyArn":"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}`,
			`AmazonEKSWorkerNodePolicy`, `AdministratorAccess`, "attaches arn:aws:iam::aws:policy/AdministratorAccess"},
		{"iam-no-admin-grants", "policy attachment", "aws:iam/policyAttachment:PolicyAttachment", `{"policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`, `ReadOnlyAccess`, `IAMFullAccess`, "attaches arn:aws:iam::aws:policy/IAMFullAccess"},
		{"iam-no-admin-grants", "user policy attachment", "aws:iam/userPolicyAttachment:UserPolicyAttachment", `{"policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`, `ReadOnlyAccess`, `PowerUserAccess`, "attaches"},
		{"iam-no-admin-grants", "group policy attachment", "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", `{"policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`, `ReadOnlyAccess`, `AdministratorAccess`, "attaches"},
		{"iam-no-admin-grants", "role managed policies", "aws:iam/role:Role", `{"managedPolicyArns":["arn:aws:iam::aws:policy/ReadOnlyAccess"]}`, `ReadOnlyAccess`, `AdministratorAccess`, "carries arn:aws:iam::aws:policy/AdministratorAccess"},
		{"iam-no-admin-grants", "role inline policy", "aws:iam/role:Role", `{"inlinePolicies":[{"policy":` + iamPolicy("Allow", "s3:GetObject", "*") + `}]}`, `s3:GetObject`, `*:*`, "inline policy 0: statement 0 allows *:* on every resource"},
		{"iam-no-admin-grants", "action *", "aws:iam/rolePolicy:RolePolicy", `{"policy":` + iamPolicy("Allow", "logs:PutLogEvents", "*") + `}`, `logs:PutLogEvents`, `*`, "statement 0 allows * on every resource"},
		{"iam-no-admin-grants", "iam:*", "aws:iam/policy:Policy", `{"policy":` + iamPolicy("Allow", "iam:GetRole", "*") + `}`, `iam:GetRole`, `IAM:*`, "statement 0 allows IAM:* on every resource"},
		{"iam-no-admin-grants", "scoped resource", "aws:iam/userPolicy:UserPolicy", `{"policy":` + iamPolicy("Allow", "*", "arn:aws:s3:::b") + `}`, `arn:aws:s3:::b`, `*`, "allows * on every resource"},
		{"iam-no-admin-grants", "effect", "aws:iam/groupPolicy:GroupPolicy", `{"policy":` + iamPolicy("Deny", "*", "*") + `}`, `Deny`, `Allow`, "allows * on every resource"},

		{"exposure-internal-apis", "Service type LoadBalancer", "kubernetes:core/v1:Service", `{"metadata":{"name":"k","namespace":"auth"},"spec":{"type":"ClusterIP"}}`, `ClusterIP`, `LoadBalancer`, "Service auth/k is a LoadBalancer"},
		{"exposure-internal-apis", "Service type NodePort", "kubernetes:core/v1:Service", `{"metadata":{"name":"k","namespace":"auth"},"spec":{"type":"ClusterIP"}}`, `ClusterIP`, `NodePort`, "Service auth/k is a NodePort"},
		{"exposure-internal-apis", "Kong admin type", helmRelease, kongAdmin, `"type":"ClusterIP"`, `"type":"NodePort"`, "Kong's admin API is a NodePort Service"},
		{"exposure-internal-apis", "Kong admin type default", helmRelease, kongAdmin, `"type":"ClusterIP",`, ``, "Kong's admin API is a NodePort Service"},
		{"exposure-internal-apis", "Kong admin Ingress", helmRelease, kongAdmin, `"ingress":{"enabled":false}`, `"ingress":{"enabled":true}`, "Kong's admin API has an Ingress"},
		{"exposure-internal-apis", "Kong Manager off", helmRelease, kongAdmin, `"manager":{"enabled":false}`, `"manager":{"enabled":true}`, "Kong's manager API is a NodePort Service"},
		{"exposure-internal-apis", "Keycloak path beyond the public ones", ingress, keycloakIngress, `"/realms/"`, `"/"`, `routes "/" of Keycloak to everyone`},
		{"exposure-internal-apis", "Keycloak admin path without the allow list", ingress, keycloakAdmin, `,admin-allow`, ``, `routes "/admin/" of Keycloak to everyone`},
		{"exposure-internal-apis", "Argo CD server", helmRelease, `{"chart":"argo-cd","values":{"server":{"service":{"type":"ClusterIP"}}}}`, `ClusterIP`, `NodePort`, "Argo CD's server is a NodePort Service"},

		{"privilege-restricted-context", "drop ALL", deployment, restrictedPod, `{"drop":["ALL"],"add":[]}`, `{"drop":["NET_RAW"],"add":[]}`, "container app does not drop ALL capabilities"},
		{"privilege-restricted-context", "no capability added", deployment, restrictedPod, `"add":[]`, `"add":["SYS_ADMIN"]`, "container app adds capabilities [SYS_ADMIN]"},
		{"privilege-restricted-context", "container seccomp", deployment, restrictedPod, `"add":[]},"seccompProfile":{"type":"RuntimeDefault"}`, `"add":[]},"seccompProfile":{"type":"Unconfined"}`, `container app has seccomp profile "Unconfined"`},
		{"privilege-restricted-context", "pod seccomp (inherited)", deployment, restrictedPod, `{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"initContainers"`, `{"initContainers"`, `container init has seccomp profile ""`},
		{"privilege-restricted-context", "init container drop ALL", deployment, restrictedPod, `"name":"init","securityContext":{"capabilities":{"drop":["ALL"]}}`, `"name":"init","securityContext":{}`, "container init does not drop ALL capabilities"},

		{"tls-verify-peers", "oidc ssl_verify", "kubernetes:configuration.konghq.com/v1:KongClusterPlugin", `{"metadata":{"name":"oidc"},"plugin":"oidc","config":{"ssl_verify":true}}`, `true`, `"no"`, "does not set ssl_verify: true"},
		{"tls-verify-peers", "vault provider", "pulumi:providers:vault", `{"address":"https://v","skipTlsVerify":false}`, `false`, `true`, "sets skipTlsVerify"},
		{"tls-verify-peers", "keycloak provider", "pulumi:providers:keycloak", `{"url":"https://k","tlsInsecureSkipVerify":"false"}`, `"false"`, `"true"`, "sets tlsInsecureSkipVerify"},
		{"tls-verify-peers", "kubernetes provider", "pulumi:providers:kubernetes", `{"insecure":false}`, `false`, `true`, "sets insecure"},

		{"gitops-projects-restricted", "source repositories", "kubernetes:argoproj.io/v1alpha1:AppProject", project, `"https://github.com/x/y"`, `"*"`, "project p accepts any source repository"},
		{"gitops-projects-restricted", "destination namespace", "kubernetes:argoproj.io/v1alpha1:AppProject", project, `"namespace":"crm"`, `"namespace":"*"`, "project p destination 0 is a wildcard"},
		{"gitops-projects-restricted", "destination server", "kubernetes:argoproj.io/v1alpha1:AppProject", project, `"server":"https://kubernetes.default.svc"`, `"server":"*"`, "project p destination 0 is a wildcard"},
		{"gitops-projects-restricted", "destination name", "kubernetes:argoproj.io/v1alpha1:AppProject", project, `"name":"in-cluster"`, `"name":"*"`, "project p destination 0 is a wildcard"},
		{"gitops-projects-restricted", "cluster-scoped kinds", "kubernetes:argoproj.io/v1alpha1:AppProject", project, `"kind":"Namespace"`, `"kind":"*"`, "may create any cluster-scoped kind"},
	}
}

// TestEveryConditionIsPinned: for every condition of every resource rule,
// the good resource passes and the same resource with that one condition
// broken is refused. Removing a condition from a rule fails its row.
func TestEveryConditionIsPinned(t *testing.T) {
	for _, c := range conditions() {
		t.Run(c.rule+"/"+c.condition, func(t *testing.T) {
			r := rule(t, c.rule)
			applies, problems := r.Check(res(c.typ, c.good))
			if !applies || len(problems) != 0 {
				t.Fatalf("good resource: applies %v, problems %q", applies, problems)
			}
			covered.pass(r.Name)
			bad := strings.Replace(c.good, c.old, c.new, 1)
			if bad == c.good {
				t.Fatalf("%q is not in the good resource", c.old)
			}
			applies, problems = r.Check(res(c.typ, bad))
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, c.want)
			}
			if !applies || !found {
				t.Fatalf("broken resource: applies %v, problems %q, want one containing %q", applies, problems, c.want)
			}
			covered.refuse(r.Name)
		})
	}
}

// TestEveryResourceRuleHasConditions: each resource rule has rows in
// conditions(), so a new rule comes with its conditions.
func TestEveryResourceRuleHasConditions(t *testing.T) {
	rows := map[string]int{}
	for _, c := range conditions() {
		rows[c.rule]++
	}
	for _, r := range All() {
		if r.Check != nil && rows[r.Name] == 0 {
			t.Errorf("rule %s has no rows in conditions()", r.Name)
		}
	}
}
