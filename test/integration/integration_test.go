//go:build integration

// Package integration deploys a real, uniquely named, ephemeral stack with
// the Pulumi Automation API, verifies it with Terratest, and always destroys
// it. Run with `make test-integration`; without cloud credentials it skips.
package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/bac-platform/infra/stacks"
	terraaws "github.com/gruntwork-io/terratest/modules/aws"
	http_helper "github.com/gruntwork-io/terratest/modules/http-helper"
	"github.com/gruntwork-io/terratest/modules/k8s"
	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// requirement is an environment the suite needs, and why.
type requirement struct {
	env, why string
}

// requirements lists what a run needs: cloud credentials, the CLI, and the
// endpoints of the services the stack configures but does not host.
var requirements = []requirement{
	{"BAC_IT_PUBLIC_CIDR", "the runner's egress CIDR for the EKS public endpoint"},
	{"BAC_IT_KEYCLOAK_URL", "the URL the stack's Keycloak answers on (DNS to the Kong load balancer)"},
	{"BAC_IT_VAULT_ADDRESS", "a Vault the stack configures"},
	{"BAC_IT_VAULT_TOKEN", "a token for that Vault"},
	{"BAC_IT_YUGABYTE_PASSWORD", "the vault user's YugabyteDB password"},
	{"BAC_IT_LDAP_BIND_CREDENTIAL", "the LDAP bind password"},
}

// missing returns what this machine lacks to run the suite.
func missing() []string {
	var out []string
	creds := false
	for _, e := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		creds = creds || os.Getenv(e) != ""
	}
	if !creds {
		out = append(out, "AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID or an OIDC role)")
	}
	if _, err := exec.LookPath("pulumi"); err != nil {
		out = append(out, "the pulumi CLI on PATH")
	}
	if os.Getenv("PULUMI_BACKEND_URL") == "" {
		out = append(out, "PULUMI_BACKEND_URL (a state backend)")
	}
	for _, r := range requirements {
		if os.Getenv(r.env) == "" {
			out = append(out, r.env+" ("+r.why+")")
		}
	}
	return out
}

func TestEphemeralStack(t *testing.T) {
	if m := missing(); len(m) > 0 {
		t.Skipf("integration suite skipped: it deploys real infrastructure and needs %s", strings.Join(m, "; "))
	}
	ctx := context.Background()
	region := envOr("BAC_IT_REGION", "us-east-1")
	name := "it-" + strings.ToLower(random.UniqueId())
	passphrase := envOr("PULUMI_CONFIG_PASSPHRASE", random.UniqueId()+random.UniqueId())
	stack, err := auto.UpsertStackInlineSource(ctx, name, stacks.Namespace, stacks.Program,
		auto.SecretsProvider("passphrase"),
		auto.EnvVars(map[string]string{"PULUMI_CONFIG_PASSPHRASE": passphrase}))
	if err != nil {
		t.Fatalf("create stack %s: %v", name, err)
	}
	defer destroy(t, ctx, stack, region)

	cluster := "bac-" + name
	set := func(key, value string, secret bool) {
		if err := stack.SetConfig(ctx, key, auto.ConfigValue{Value: value, Secret: secret}); err != nil {
			t.Fatalf("config %s: %v", key, err)
		}
	}
	set("bac:environment", "staging", false)
	set("bac:region", region, false)
	set("bac:network", `{"cidr":"10.250.0.0/16","natGateways":"single","flowLogRetentionDays":1}`, false)
	set("bac:cluster", fmt.Sprintf(`{"name":%q,"publicAccessCidrs":[%q],"logRetentionDays":1,"nodePools":{`+
		`"general":{"minSize":2,"desiredSize":3,"maxSize":4},"compute":{"minSize":1,"desiredSize":1,"maxSize":2},`+
		`"memory":{"minSize":1,"desiredSize":1,"maxSize":2},"gpu":{"minSize":0,"desiredSize":0,"maxSize":1}}}`,
		cluster, os.Getenv("BAC_IT_PUBLIC_CIDR")), false)
	// Per-run Vault mounts, so runs never touch each other's keys.
	set("bac:vault", fmt.Sprintf(`{"transitPath":"transit-%s","databasePath":"database-%s"}`, name, name), false)
	set("bac:oidcClientSecret", random.UniqueId()+random.UniqueId(), true)
	set("bac:jwtSecret", random.UniqueId()+random.UniqueId(), true)
	set("bac:keycloakAdminPassword", random.UniqueId()+random.UniqueId(), true)
	set("bac:keycloakDbPassword", random.UniqueId()+random.UniqueId(), true)
	set("bac:keycloakUrl", os.Getenv("BAC_IT_KEYCLOAK_URL"), true)
	set("bac:vaultAddress", os.Getenv("BAC_IT_VAULT_ADDRESS"), true)
	set("bac:vaultToken", os.Getenv("BAC_IT_VAULT_TOKEN"), true)
	set("bac:yugabyteVaultPassword", os.Getenv("BAC_IT_YUGABYTE_PASSWORD"), true)
	set("bac:ldapBindCredential", os.Getenv("BAC_IT_LDAP_BIND_CREDENTIAL"), true)

	up, err := stack.Up(ctx, optup.ProgressStreams(os.Stdout))
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	kubeconfig, _ := up.Outputs["kubeconfig"].Value.(string)
	path := filepath.Join(t.TempDir(), "kubeconfig.json")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	kube := func(ns string) *k8s.KubectlOptions { return k8s.NewKubectlOptions("", path, ns) }
	// What the stack's configuration deploys: its API host and Applications.
	cfg := stacks.Defaults(stacks.Staging, region)
	apiHost := cfg.Gateway.Host
	wantApplications := []string{"root-app", "monitoring-stack"}
	if !cfg.Mesh.InstallWithHelm {
		wantApplications = append(wantApplications, "istio-system")
	}
	for _, svc := range cfg.Services {
		wantApplications = append(wantApplications, svc.ServiceName)
	}

	t.Run("node pools ready with labels and taints", func(t *testing.T) {
		k8s.WaitUntilAllNodesReady(t, kube(""), 60, 20*time.Second)
		pools := map[string]string{"general": "", "compute": "compute", "memory": "memory"}
		seen := map[string]bool{}
		for _, node := range k8s.GetNodes(t, kube("")) {
			role := node.Labels["role"]
			seen[role] = true
			taint, want := "", pools[role]
			for _, tn := range node.Spec.Taints {
				if tn.Effect == "NoSchedule" && tn.Key == want {
					taint = tn.Key
				}
			}
			if taint != want {
				t.Errorf("node %s (role %s) taints %v, want %q", node.Name, role, node.Spec.Taints, want)
			}
		}
		for role := range pools {
			if !seen[role] {
				t.Errorf("no Ready node with role=%s", role)
			}
		}
	})

	t.Run("add-ons active", func(t *testing.T) {
		for _, ds := range []string{"aws-node", "kube-proxy", "ebs-csi-node"} {
			retry.DoWithRetry(t, "daemonset "+ds+" ready", 30, 10*time.Second, func() (string, error) {
				out, err := k8s.RunKubectlAndGetOutputE(t, kube("kube-system"), "get", "daemonset", ds,
					"-o", "jsonpath={.status.numberReady}/{.status.desiredNumberScheduled}")
				if err != nil || strings.HasPrefix(out, "0/") || !sameSides(out) {
					return "", fmt.Errorf("%s: %s %v", ds, out, err)
				}
				return out, nil
			})
		}
		for _, d := range []string{"coredns", "ebs-csi-controller"} {
			k8s.RunKubectl(t, kube("kube-system"), "rollout", "status", "deployment/"+d, "--timeout=10m")
		}
	})

	t.Run("secrets key rotates", func(t *testing.T) {
		arn, _ := up.Outputs["secretsKeyArn"].Value.(string)
		client := terraaws.NewKmsClient(t, region)
		status, err := client.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: awssdk.String(arn)})
		if err != nil || !status.KeyRotationEnabled {
			t.Fatalf("rotation status %v: %v", status, err)
		}
	})

	t.Run("zero trust in place", func(t *testing.T) {
		out, err := k8s.RunKubectlAndGetOutputE(t, kube("istio-system"), "get", "peerauthentication", "default", "-o", "jsonpath={.spec.mtls.mode}")
		if err != nil || out != "STRICT" {
			t.Fatalf("mesh mTLS = %q, %v", out, err)
		}
		for _, ns := range []string{"crm", "erp", "ecommerce", "analytics", "users"} {
			out, err := k8s.RunKubectlAndGetOutputE(t, kube(ns), "get", "networkpolicy", "-o", "name")
			if err != nil || !strings.Contains(out, "default-deny-all") || strings.Count(out, "\n") < 1 {
				t.Errorf("%s network policies: %q %v", ns, out, err)
			}
		}
		if n := len(k8s.ListNamespaces(t, kube(""), metav1.ListOptions{LabelSelector: "bac-platform.io/tier=service"})); n != 5 {
			t.Errorf("%d service namespaces, want 5", n)
		}
	})

	t.Run("kong proxy rejects requests without a JWT", func(t *testing.T) {
		k8s.WaitUntilServiceAvailable(t, kube("api-gateway"), "kong-kong-proxy", 60, 10*time.Second)
		svc := k8s.GetService(t, kube("api-gateway"), "kong-kong-proxy")
		host := ""
		if len(svc.Status.LoadBalancer.Ingress) > 0 {
			host = svc.Status.LoadBalancer.Ingress[0].Hostname
		}
		if host == "" {
			t.Fatal("the proxy has no load balancer address")
		}
		// The routes are https-only: plain http is refused with 426 Upgrade
		// Required, and https without a token with 401. Both must hold; a
		// 426 alone proves nothing about the JWT plugin.
		http_helper.HttpGetWithRetryWithCustomValidation(t, "http://"+host+"/v1/crm/contacts", nil, 60, 10*time.Second,
			func(status int, _ string) bool { return status == 426 })
		retry.DoWithRetry(t, "https route without a token", 60, 10*time.Second, func() (string, error) {
			status, err := getWithHost("https://"+host+"/v1/crm/contacts", apiHost)
			if err != nil {
				return "", err
			}
			if status != 401 {
				return "", fmt.Errorf("status %d, want 401", status)
			}
			return "401", nil
		})
	})

	t.Run("keycloak serves the realm", func(t *testing.T) {
		base := strings.TrimSuffix(os.Getenv("BAC_IT_KEYCLOAK_URL"), "/")
		http_helper.HttpGetWithRetryWithCustomValidation(t, base+"/realms/bac/.well-known/openid-configuration", nil, 60, 10*time.Second,
			func(status int, body string) bool {
				var doc struct {
					Issuer string `json:"issuer"`
				}
				return status == 200 && json.Unmarshal([]byte(body), &doc) == nil && strings.HasSuffix(doc.Issuer, "/realms/bac")
			})
	})

	t.Run("transit keys never leave vault", func(t *testing.T) {
		for _, key := range []string{"database-encryption", "pii-encryption"} {
			status, body, err := http_helper.HTTPDoE(t, "GET",
				fmt.Sprintf("%s/v1/transit-%s/keys/%s", strings.TrimSuffix(os.Getenv("BAC_IT_VAULT_ADDRESS"), "/"), name, key),
				nil, map[string]string{"X-Vault-Token": os.Getenv("BAC_IT_VAULT_TOKEN")}, nil)
			var doc struct {
				Data struct {
					Exportable           bool `json:"exportable"`
					DeletionAllowed      bool `json:"deletion_allowed"`
					AllowPlaintextBackup bool `json:"allow_plaintext_backup"`
				} `json:"data"`
			}
			if err != nil || status != 200 || json.Unmarshal([]byte(body), &doc) != nil ||
				doc.Data.Exportable || doc.Data.DeletionAllowed || doc.Data.AllowPlaintextBackup {
				t.Errorf("key %s: status %d %v %+v", key, status, err, doc.Data)
			}
		}
	})

	t.Run("argocd applications synced and healthy", func(t *testing.T) {
		retry.DoWithRetry(t, "argocd applications", 60, 20*time.Second, func() (string, error) {
			out, err := k8s.RunKubectlAndGetOutputE(t, kube("argocd"), "get", "applications",
				"-o", "jsonpath={range .items[*]}{.metadata.name}={.status.sync.status}/{.status.health.status} {end}")
			if err != nil {
				return "", err
			}
			apps := strings.Fields(out)
			for _, want := range wantApplications {
				if !slices.ContainsFunc(apps, func(a string) bool { return strings.HasPrefix(a, want+"=") }) {
					return "", fmt.Errorf("application %s missing: %s", want, out)
				}
			}
			for _, app := range apps {
				if !strings.HasSuffix(app, "=Synced/Healthy") {
					return "", fmt.Errorf("not yet: %s", out)
				}
			}
			return out, nil
		})
	})
}

// getWithHost GETs url with the Host header and TLS server name of host,
// without verifying the certificate: the gateway serves Kong's default
// certificate until cert-manager issues one, and the test checks
// authentication, not the certificate.
func getWithHost(url, host string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Host = host
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: host, InsecureSkipVerify: true}, //nolint:gosec // see above
	}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// destroy always tears the stack down: protected resources are unprotected
// first (they are protected against accidents, not against this suite), and
// the retained KMS key is scheduled for deletion.
func destroy(t *testing.T, ctx context.Context, stack auto.Stack, region string) {
	outputs, _ := stack.Outputs(ctx)
	unprotect := exec.Command("pulumi", "state", "unprotect", "--all", "--yes", "--stack", stack.Name())
	unprotect.Dir = stack.Workspace().WorkDir()
	unprotect.Env = os.Environ()
	if out, err := unprotect.CombinedOutput(); err != nil {
		t.Errorf("unprotect %s: %v\n%s", stack.Name(), err, out)
	}
	if _, err := stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout)); err != nil {
		t.Errorf("destroy %s: %v (clean up by hand: pulumi destroy -s %s)", stack.Name(), err, stack.Name())
	}
	if arn, ok := outputs["secretsKeyArn"].Value.(string); ok && arn != "" {
		client := terraaws.NewKmsClient(t, region)
		if _, err := client.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: awssdk.String(arn), PendingWindowInDays: awssdk.Int32(7)}); err != nil {
			t.Errorf("schedule deletion of %s: %v", arn, err)
		}
	}
	if err := stack.Workspace().RemoveStack(ctx, stack.Name()); err != nil {
		t.Errorf("remove stack %s: %v", stack.Name(), err)
	}
}

// sameSides reports whether "a/b" has a == b.
func sameSides(s string) bool {
	a, b, ok := strings.Cut(s, "/")
	return ok && a == b
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
