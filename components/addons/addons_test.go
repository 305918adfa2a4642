package addons_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bac-platform/infra/components/addons"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// stackArgs are the default add-ons with what a production stack sets.
func stackArgs() addons.Args {
	a := addons.DefaultArgs()
	a.Cluster, a.Region, a.Domain, a.OwnerID = "bac-prod-us-east-1", "us-east-1", "us-east-1.bac-platform.io", "bac-prod-us-east-1"
	a.TLS = []addons.TLSCertificate{
		{Name: "api-tls", Namespace: "crm", Hosts: []string{"api.us-east-1.bac-platform.io"}},
		{Name: "argocd-tls", Namespace: "argocd", Hosts: []string{"argocd.us-east-1.bac-platform.io"}},
	}
	a.BackupNamespaces = []string{"crm", "api-gateway", "auth"}
	a.GPUNodeLabels = map[string]string{"role": "gpu", "nvidia.com/gpu": "true"}
	a.GPUTaints = []addons.Toleration{{Key: "nvidia.com/gpu", Value: "true", Effect: "NoSchedule"}}
	a.Tags = map[string]string{"Environment": "production", "Cluster": "bac-prod-us-east-1", "ManagedBy": "pulumi"}
	return a
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*addons.Args)
		want   []string
	}{
		{"defaults", func(*addons.Args) {}, nil},
		{"everything off skips the checks", func(a *addons.Args) {
			*a = addons.Off()
			a.Autoscaler.Chart.Version = "latest"
		}, nil},
		{"unpinned chart", func(a *addons.Args) { a.MetricsServer.Chart.Version = "3.x" },
			[]string{`addons.metricsServer.chart.version: "3.x" is not an exact chart version like 1.2.3`}},
		{"autoscaler settings", func(a *addons.Args) {
			a.Autoscaler.Expander, a.Autoscaler.ScaleDownUnneededTime, a.Autoscaler.Image.Tag = "cheapest", "ten minutes", "latest"
		}, []string{
			`addons.autoscaler.expander: "cheapest" is not one of least-waste, random, most-pods, priority, price`,
			`addons.autoscaler.image.tag: "latest" is a moving tag, not a pinned version; use a release version (1.2.3) or a digest`,
			`addons.autoscaler.scaleDownUnneededTime: "ten minutes" is not a duration like 10m`,
		}},
		{"load balancer", func(a *addons.Args) {
			a.LoadBalancer.Scheme, a.LoadBalancer.TLSPolicy, a.LoadBalancer.Replicas = "public", "ELBSecurityPolicy-2016-08", 0
		}, []string{
			`addons.loadBalancer.replicas: 0 must be at least 1`,
			`addons.loadBalancer.scheme: "public" is not one of internet-facing, internal`,
			`addons.loadBalancer.tlsPolicy: "ELBSecurityPolicy-2016-08" is not a TLS 1.3 ELB security policy like ELBSecurityPolicy-TLS13-1-3-2021-06`,
		}},
		{"certificates", func(a *addons.Args) {
			a.Certificates.Issuer, a.Certificates.Email = "letsencrypt", "ops@example.com"
			a.TLS = append(a.TLS, addons.TLSCertificate{Name: "x", Namespace: "x", Hosts: []string{"api.other.io"}})
		}, []string{
			`addons.certificates.email: "ops@example.com" is not a real mailbox for the ACME account`,
			`addons.certificates.issuer: "letsencrypt" is not one of letsencrypt-prod, letsencrypt-staging`,
			`addons.certificates.tls[2].hosts[0]: "api.other.io" is outside the domain "us-east-1.bac-platform.io" whose zone answers the DNS-01 challenge`,
		}},
		{"dns", func(a *addons.Args) { a.DNS.Policy, a.DNS.ZoneID = "create-only", "zone-1" }, []string{
			`addons.dns.policy: "create-only" is not one of upsert-only, sync`,
			`addons.dns.zoneId: "zone-1" is not a Route 53 hosted zone ID like Z0123456789ABCDEFGHIJ`,
		}},
		{"backups", func(a *addons.Args) {
			a.Backups.BucketName, a.Backups.Schedule, a.Backups.TTLHours, a.Backups.ExpireDays = "Backups_Bucket", "daily", 2400, 30
		}, []string{
			`addons.backups.bucketName: "Backups_Bucket" is not an S3 bucket name (3-63 lowercase letters, digits, . and -)`,
			`addons.backups.expireDays: 30 days would delete backups before their 2400-hour TTL ends`,
			`addons.backups.schedule: "daily" is not a five-field cron expression like "0 3 * * *"`,
		}},
		{"backup lifecycle", func(a *addons.Args) { a.Backups.NoncurrentDays = 0 },
			[]string{`addons.backups: expireDays 90 and noncurrentDays 0 must be at least 1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := stackArgs()
			tt.change(&a)
			var got []string
			for _, p := range a.Validate("addons") {
				got = append(got, p.String())
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// deploy runs NewAddons with the mock engine.
func deploy(t *testing.T, args addons.Args) *mockengine.Mocks {
	t.Helper()
	m, err := mockengine.Run(t, "bac", "test", "us-east-1", func(ctx *pulumi.Context) error {
		args.ClusterName = pulumi.String(args.Cluster).ToStringOutput()
		args.ClusterArn = "arn:aws:eks:us-east-1:123456789012:cluster/" + args.Cluster
		args.VpcID = pulumi.String("vpc-0123")
		_, err := addons.NewAddons(ctx, "addons", args)
		return err
	})
	if err != nil {
		t.Fatalf("NewAddons: %v", err)
	}
	return m
}

func find(t *testing.T, m *mockengine.Mocks, typ, name string) mockengine.Resource {
	t.Helper()
	r, ok := m.Find(typ, name)
	if !ok {
		t.Fatalf("no %s %q registered", typ, name)
	}
	return r
}

// policy decodes a role policy's statements.
func policy(t *testing.T, m *mockengine.Mocks, key string) []map[string]any {
	t.Helper()
	raw, _ := find(t, m, "aws:iam/rolePolicy:RolePolicy", "addons-"+key).Input("policy").(string)
	var doc struct{ Statement []map[string]any }
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("%s policy %q: %v", key, raw, err)
	}
	return doc.Statement
}

const release = "kubernetes:helm.sh/v3:Release"

// TestReleasesArePinnedAndIdentified: every add-on is a pinned release, and
// each one with an AWS identity runs under the service account its Pod
// Identity association names, after the association exists.
func TestReleasesArePinnedAndIdentified(t *testing.T) {
	m := deploy(t, stackArgs())
	want := map[string]struct {
		chart, version, namespace string
		saPath, identity          string
	}{
		addons.ReleaseAutoscaler:    {"cluster-autoscaler", "9.59.0", "kube-system", "values.rbac.serviceAccount.name", "autoscaler"},
		addons.ReleaseMetricsServer: {"metrics-server", "3.13.1", "kube-system", "", ""},
		addons.ReleaseDevicePlugin:  {"nvidia-device-plugin", "0.19.3", "kube-system", "", ""},
		addons.ReleaseDCGMExporter:  {"dcgm-exporter", "4.8.2", "kube-system", "", ""},
		addons.ReleaseLoadBalancer:  {"aws-load-balancer-controller", "1.17.1", "kube-system", "values.serviceAccount.name", "load-balancer"},
		addons.ReleaseCertManager:   {"cert-manager", "v1.20.3", "cert-manager", "values.serviceAccount.name", "cert-manager"},
		addons.ReleaseExternalDNS:   {"external-dns", "1.21.1", "external-dns", "values.serviceAccount.name", "external-dns"},
		addons.ReleaseVelero:        {"velero", "11.4.0", "velero", "values.serviceAccount.server.name", "velero"},
	}
	if got := len(m.ByType(release)); got != len(want) {
		t.Errorf("%d releases, want %d", got, len(want))
	}
	for key, w := range want {
		r := find(t, m, release, "addons-"+key)
		if r.Input("chart") != w.chart || r.Input("version") != w.version || r.Input("namespace") != w.namespace {
			t.Errorf("%s = %v %v in %v", key, r.Input("chart"), r.Input("version"), r.Input("namespace"))
		}
		if w.identity == "" {
			continue
		}
		assoc := find(t, m, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "addons-"+w.identity)
		if assoc.Input("serviceAccount") != r.Input(w.saPath) || assoc.Input("namespace") != w.namespace {
			t.Errorf("%s runs as %v/%v, its association names %v/%v", key, w.namespace, r.Input(w.saPath), assoc.Input("namespace"), assoc.Input("serviceAccount"))
		}
		if assoc.Input("clusterName") != "bac-prod-us-east-1" {
			t.Errorf("%s association cluster = %v", key, assoc.Input("clusterName"))
		}
		role := find(t, m, "aws:iam/role:Role", "addons-"+w.identity)
		if assoc.Input("roleArn") != role.Outputs["arn"].StringValue() {
			t.Errorf("%s association role = %v", key, assoc.Input("roleArn"))
		}
		trust, _ := role.Input("assumeRolePolicy").(string)
		if !strings.Contains(trust, `"pods.eks.amazonaws.com"`) || !strings.Contains(trust, "sts:TagSession") {
			t.Errorf("%s trust policy is not EKS Pod Identity's: %s", key, trust)
		}
		// Only this cluster's association for this service account may use
		// the role (the session tags EKS Pod Identity passes).
		want := `"Condition":{"StringEquals":{"aws:RequestTag/eks-cluster-arn":"arn:aws:eks:us-east-1:123456789012:cluster/bac-prod-us-east-1",` +
			`"aws:RequestTag/kubernetes-namespace":"` + w.namespace + `","aws:RequestTag/kubernetes-service-account":"` + fmt.Sprint(r.Input(w.saPath)) + `"}}`
		if !strings.Contains(trust, want) {
			t.Errorf("%s trust policy is not scoped to its cluster and service account:\n got %s\nwant %s", key, trust, want)
		}
		if !slices.Contains(r.DependsOn, assoc.URN) {
			t.Errorf("%s release does not wait for its Pod Identity association", key)
		}
	}
}

func TestAutoscalerScopesItsWrites(t *testing.T) {
	m := deploy(t, stackArgs())
	r := find(t, m, release, "addons-"+addons.ReleaseAutoscaler)
	if r.Input("values.autoDiscovery.clusterName") != "bac-prod-us-east-1" || r.Input("values.awsRegion") != "us-east-1" {
		t.Errorf("auto-discovery = %v in %v", r.Input("values.autoDiscovery"), r.Input("values.awsRegion"))
	}
	if r.Input("values.image.tag") != "v1.35.0" || r.Input("values.extraArgs.balance-similar-node-groups") != true {
		t.Errorf("values = %v", r.Input("values"))
	}
	// Each check must find its statement: an empty or renamed policy is a
	// failure, not a pass.
	scaling, describe := 0, 0
	for _, s := range policy(t, m, "autoscaler") {
		actions, _ := json.Marshal(s["Action"])
		cond, _ := json.Marshal(s["Condition"])
		if strings.Contains(string(actions), "SetDesiredCapacity") {
			scaling++
			if !strings.Contains(string(cond), `"aws:ResourceTag/k8s.io/cluster-autoscaler/bac-prod-us-east-1":"owned"`) {
				t.Errorf("scaling is not limited to the cluster's groups: %s", cond)
			}
		}
		if strings.Contains(string(actions), "DescribeNodegroup") {
			describe++
			if s["Resource"] != "arn:aws:eks:us-east-1:*:nodegroup/bac-prod-us-east-1/*/*" {
				t.Errorf("DescribeNodegroup resource = %v", s["Resource"])
			}
		}
	}
	if scaling == 0 || describe == 0 {
		t.Errorf("the autoscaler's policy has %d SetDesiredCapacity and %d DescribeNodegroup statements; want both", scaling, describe)
	}
}

func TestGPUAddonsRunOnlyOnTheGPUPool(t *testing.T) {
	m := deploy(t, stackArgs())
	for _, key := range []string{addons.ReleaseDevicePlugin, addons.ReleaseDCGMExporter} {
		r := find(t, m, release, "addons-"+key)
		terms, _ := r.Input("values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms").([]any)
		got, _ := json.Marshal(terms)
		want := `[{"matchExpressions":[{"key":"nvidia.com/gpu","operator":"In","values":["true"]},{"key":"role","operator":"In","values":["gpu"]}]}]`
		if string(got) != want {
			t.Errorf("%s node selector terms = %s, want %s", key, got, want)
		}
		tol, _ := json.Marshal(r.Input("values.tolerations"))
		if string(tol) != `[{"effect":"NoSchedule","key":"nvidia.com/gpu","operator":"Equal","value":"true"}]` {
			t.Errorf("%s tolerations = %s", key, tol)
		}
	}
	if find(t, m, release, "addons-"+addons.ReleaseDCGMExporter).Input("values.serviceMonitor.enabled") != false {
		t.Error("the exporter's ServiceMonitor needs the Prometheus operator's CRDs; it must be off by default")
	}
}

func TestCertificatesSolveInTheZone(t *testing.T) {
	m := deploy(t, stackArgs())
	zone := find(t, m, "aws:route53/zone:Zone", "addons-zone")
	if !zone.Protect || zone.Input("name") != "us-east-1.bac-platform.io" {
		t.Errorf("zone %v protect %v", zone.Input("name"), zone.Protect)
	}
	zoneID := zone.Outputs["zoneId"].StringValue()
	for _, issuer := range []string{addons.IssuerProduction, addons.IssuerStaging} {
		ci := find(t, m, "kubernetes:cert-manager.io/v1:ClusterIssuer", "addons-"+issuer)
		if ci.Input("spec.acme.solvers[0].dns01.route53.hostedZoneID") != zoneID || ci.Input("spec.acme.email") != "hostmaster@us-east-1.bac-platform.io" {
			t.Errorf("%s solver = %v", issuer, ci.Input("spec.acme"))
		}
		if !slices.Contains(ci.DependsOn, find(t, m, release, "addons-cert-manager").URN) {
			t.Errorf("%s does not wait for cert-manager's CRDs", issuer)
		}
	}
	if s := find(t, m, "kubernetes:cert-manager.io/v1:ClusterIssuer", "addons-letsencrypt-staging").Input("spec.acme.server"); s != "https://acme-staging-v02.api.letsencrypt.org/directory" {
		t.Errorf("staging server = %v", s)
	}
	cert := find(t, m, "kubernetes:cert-manager.io/v1:Certificate", "addons-crm-api-tls")
	if cert.Input("metadata.namespace") != "crm" || cert.Input("spec.secretName") != "api-tls" || cert.Input("spec.issuerRef.name") != addons.IssuerProduction {
		t.Errorf("certificate = %v", mockengine.PlainMap(cert.Inputs))
	}
	zoneStatements := 0
	for _, s := range policy(t, m, "cert-manager") {
		if res, _ := s["Resource"].(string); strings.Contains(res, "hostedzone") {
			zoneStatements++
			if res != "arn:aws:route53:::hostedzone/"+zoneID {
				t.Errorf("cert-manager may change %s, want only zone %s", res, zoneID)
			}
		}
	}
	if zoneStatements == 0 {
		t.Error("cert-manager's policy grants nothing on the zone: it cannot solve DNS-01")
	}
	dns := find(t, m, release, "addons-"+addons.ReleaseExternalDNS)
	// external-dns never deletes a record it did not just write: sync
	// would delete whatever its ownership records claim.
	if got := dns.Input("values.policy"); got != "upsert-only" {
		t.Errorf("external-dns policy = %v, want upsert-only by default", got)
	}
	args, _ := json.Marshal(dns.Input("values.extraArgs"))
	if !strings.Contains(string(args), "--zone-id-filter="+zoneID) || dns.Input("values.txtOwnerId") != "bac-prod-us-east-1" ||
		dns.Input("values.domainFilters[0]") != "us-east-1.bac-platform.io" {
		t.Errorf("external-dns values = %v", dns.Input("values"))
	}
}

func TestAnExistingZoneIsNotCreated(t *testing.T) {
	a := stackArgs()
	a.DNS.ZoneID = "Z0123456789ABCDEFGHIJ"
	m := deploy(t, a)
	if len(m.ByType("aws:route53/zone:Zone")) != 0 {
		t.Error("a zone was created although dns.zoneId names one")
	}
	ci := find(t, m, "kubernetes:cert-manager.io/v1:ClusterIssuer", "addons-letsencrypt-prod")
	if ci.Input("spec.acme.solvers[0].dns01.route53.hostedZoneID") != "Z0123456789ABCDEFGHIJ" {
		t.Errorf("solver zone = %v", ci.Input("spec.acme.solvers[0].dns01.route53.hostedZoneID"))
	}
}

func TestBackupBucket(t *testing.T) {
	m := deploy(t, stackArgs())
	bucket := find(t, m, "aws:s3/bucketV2:BucketV2", "addons-backups")
	key := find(t, m, "aws:kms/key:Key", "addons-backups")
	if !bucket.Protect || !bucket.RetainOnDelete || !key.Protect || key.Input("enableKeyRotation") != true {
		t.Error("the bucket and its key hold the backups: protected, retained, rotating")
	}
	name, keyArn := bucket.Input("bucket"), key.Outputs["arn"].StringValue()
	if name != "bac-prod-us-east-1-velero-backups" {
		t.Errorf("bucket = %v", name)
	}
	sse := find(t, m, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "addons-backups")
	if sse.Input("bucket") != name || sse.Input("rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId") != keyArn {
		t.Errorf("encryption = %v", mockengine.PlainMap(sse.Inputs))
	}
	lc := find(t, m, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "addons-backups")
	if lc.Input("rules[0].expiration.days") != 90.0 || lc.Input("rules[0].noncurrentVersionExpiration.noncurrentDays") != 30.0 {
		t.Errorf("lifecycle = %v", lc.Input("rules"))
	}
	velero := find(t, m, release, "addons-velero")
	if velero.Input("values.configuration.backupStorageLocation[0].bucket") != name ||
		velero.Input("values.configuration.backupStorageLocation[0].config.kmsKeyId") != keyArn ||
		velero.Input("values.credentials.useSecret") != false {
		t.Errorf("velero storage = %v", velero.Input("values.configuration"))
	}
	if ns, _ := json.Marshal(velero.Input("values.schedules.platform.template.includedNamespaces")); string(ns) != `["api-gateway","auth","crm"]` {
		t.Errorf("schedule namespaces = %s", ns)
	}
	buckets, keys := 0, 0
	for _, s := range policy(t, m, "velero") {
		switch res := s["Resource"].(type) {
		case string:
			if strings.HasPrefix(res, "arn:aws:s3") {
				buckets++
				if !strings.HasPrefix(res, "arn:aws:s3:::bac-prod-us-east-1-velero-backups") {
					t.Errorf("velero reaches bucket %s", res)
				}
			}
			if strings.HasPrefix(res, "arn:aws:kms") {
				keys++
				if res != keyArn {
					t.Errorf("velero uses key %s, want %s", res, keyArn)
				}
			}
		}
	}
	if buckets == 0 || keys == 0 {
		t.Errorf("velero's policy has %d bucket and %d key statements; want both (it writes encrypted backups)", buckets, keys)
	}
}

func TestOffInstallsNothing(t *testing.T) {
	a := addons.Off()
	m := deploy(t, a)
	for _, r := range m.Resources() {
		if r.Type != "bac:addons:Addons" {
			t.Errorf("registered %s %s with every add-on off", r.Type, r.Name)
		}
	}
}

func TestProxyAnnotationsHandTheServiceToTheController(t *testing.T) {
	got := addons.ProxyAnnotations(addons.DefaultArgs().LoadBalancer)
	for k, v := range map[string]string{
		"service.beta.kubernetes.io/aws-load-balancer-type":            "external",
		"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
		"service.beta.kubernetes.io/aws-load-balancer-attributes":      "load_balancing.cross_zone.enabled=true",
		"service.beta.kubernetes.io/aws-load-balancer-scheme":          "internet-facing",
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
