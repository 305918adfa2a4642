package addons

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/bac-platform/infra/components/kube"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Release names (and the Releases keys).
const (
	ReleaseAutoscaler    = "cluster-autoscaler"
	ReleaseMetricsServer = "metrics-server"
	ReleaseDevicePlugin  = "nvidia-device-plugin"
	ReleaseDCGMExporter  = "dcgm-exporter"
	ReleaseLoadBalancer  = "aws-load-balancer-controller"
	ReleaseCertManager   = "cert-manager"
	ReleaseExternalDNS   = "external-dns"
	ReleaseVelero        = "velero"
)

func (b *builder) metricsServer() error {
	_, err := b.release(ReleaseMetricsServer, ReleaseMetricsServer, SystemNamespace, b.args.MetricsServer.Chart, metricsServerValues(b.args.MetricsServer))
	return err
}

// metricsServerValues are metrics-server chart 3.13.1 values
// (charts/metrics-server/values.yaml at metrics-server-helm-chart-3.13.1).
func metricsServerValues(m MetricsServer) map[string]any {
	v := map[string]any{
		"replicas":  m.Replicas,
		"resources": m.Resources.Values(),
	}
	if m.Replicas > 1 {
		v["podDisruptionBudget"] = map[string]any{"enabled": true, "minAvailable": 1}
		v["topologySpreadConstraints"] = zoneSpread(chartLabels("metrics-server", ReleaseMetricsServer))
	}
	return v
}

func (b *builder) autoscaler() error {
	assoc, err := b.podIdentity("autoscaler", SystemNamespace, autoscalerSA, pulumi.String(autoscalerPolicy(b.args.Region, b.args.Cluster)))
	if err != nil {
		return err
	}
	_, err = b.release(ReleaseAutoscaler, ReleaseAutoscaler, SystemNamespace, b.args.Autoscaler.Chart,
		autoscalerValues(b.args.Autoscaler, b.args.Cluster, b.args.Region), pulumi.DependsOn([]pulumi.Resource{assoc}))
	return err
}

// autoscalerValues are cluster-autoscaler chart 9.59.0 values
// (cluster-autoscaler/charts/cluster-autoscaler/values.yaml at
// cluster-autoscaler-chart-9.59.0): auto-discovery of the node groups EKS
// tags k8s.io/cluster-autoscaler/enabled and .../<cluster>, balanced
// across the zones of each pool, and the service account Pod Identity
// associates.
func autoscalerValues(a Autoscaler, cluster, region string) map[string]any {
	return map[string]any{
		"cloudProvider": "aws",
		"awsRegion":     region,
		"autoDiscovery": map[string]any{"clusterName": cluster},
		"image":         map[string]any{"repository": a.Image.Repository, "tag": a.Image.Tag},
		"rbac":          map[string]any{"serviceAccount": map[string]any{"create": true, "name": autoscalerSA}},
		"resources":     a.Resources.Values(),
		"extraArgs": map[string]any{
			"expander":                      a.Expander,
			"balance-similar-node-groups":   true,
			"skip-nodes-with-system-pods":   false,
			"scale-down-unneeded-time":      a.ScaleDownUnneededTime,
			"skip-nodes-with-local-storage": false,
		},
		"securityContext": map[string]any{"runAsNonRoot": true, "runAsUser": 65534, "runAsGroup": 65534,
			"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
		"containerSecurityContext": map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
			"capabilities": map[string]any{"drop": []any{"ALL"}}},
	}
}

func (b *builder) gpu() error {
	g := b.args.GPU
	if _, err := b.release(ReleaseDevicePlugin, ReleaseDevicePlugin, SystemNamespace, g.DevicePlugin, devicePluginValues(b.args)); err != nil {
		return err
	}
	if g.DCGMEnabled {
		if _, err := b.release(ReleaseDCGMExporter, ReleaseDCGMExporter, SystemNamespace, g.DCGMExporter, dcgmValues(b.args)); err != nil {
			return err
		}
	}
	return nil
}

// gpuAffinity requires every label of the GPU pool.
func gpuAffinity(labels map[string]string) map[string]any {
	var exprs []any
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		exprs = append(exprs, map[string]any{"key": k, "operator": "In", "values": []any{labels[k]}})
	}
	return map[string]any{"nodeAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{
		"nodeSelectorTerms": []any{map[string]any{"matchExpressions": exprs}}}}}
}

// gpuTolerations tolerate the GPU pool's taints.
func gpuTolerations(taints []Toleration) []any {
	out := []any{}
	for _, t := range taints {
		out = append(out, map[string]any{"key": t.Key, "operator": "Equal", "value": t.Value, "effect": t.Effect})
	}
	return out
}

// devicePluginValues are nvidia-device-plugin chart 0.19.3 values
// (deployments/helm/nvidia-device-plugin/values.yaml at v0.19.3). The
// chart's default affinity selects nodes by node-feature-discovery labels,
// which nothing here installs: it is replaced by the GPU pool's labels, and
// the tolerations by the pool's taints, so the DaemonSet runs there only.
func devicePluginValues(a Args) map[string]any {
	return map[string]any{
		"affinity":    gpuAffinity(a.GPUNodeLabels),
		"tolerations": gpuTolerations(a.GPUTaints),
		"resources":   resources("50m", "64Mi", "200m", "256Mi").Values(),
		// The chart leaves the pod's context empty (podSecurityContext: {}
		// at v0.19.3); its containers' default drops every capability and
		// escalation but keeps root, which the plugin needs for the kubelet's
		// device-plugin socket directory (a documented exception of
		// privilege-restricted-context). The runtime's seccomp profile is
		// set here.
		"podSecurityContext": map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
	}
}

// dcgmValues are dcgm-exporter chart 4.8.2 values (deployment/values.yaml
// at 4.5.3-4.8.2). Its ServiceMonitor is on by default and the chart does
// not check for the Prometheus operator's CRD, so it follows
// gpu.serviceMonitor.
func dcgmValues(a Args) map[string]any {
	return map[string]any{
		"affinity":       gpuAffinity(a.GPUNodeLabels),
		"tolerations":    gpuTolerations(a.GPUTaints),
		"resources":      a.GPU.DCGMResource.Values(),
		"serviceMonitor": map[string]any{"enabled": a.GPU.ServiceMonitor},
		// The chart's pod context is empty (podSecurityContext: {} at
		// 4.5.3-4.8.2); its container runs as root with SYS_ADMIN for the
		// profiling metrics (a documented exception of
		// privilege-restricted-context), so the runtime's seccomp profile is
		// set here.
		"podSecurityContext": map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
	}
}

func (b *builder) loadBalancer() error {
	assoc, err := b.podIdentity("load-balancer", SystemNamespace, loadBalancerSA, pulumi.String(loadBalancerPolicy(b.args.Region)))
	if err != nil {
		return err
	}
	values := loadBalancerValues(b.args.LoadBalancer, b.args.Cluster, b.args.Region)
	values["vpcId"] = b.args.VpcID
	r, err := b.release(ReleaseLoadBalancer, ReleaseLoadBalancer, SystemNamespace, b.args.LoadBalancer.Chart, values, pulumi.DependsOn([]pulumi.Resource{assoc}))
	b.addons.LoadBalancerController = r
	return err
}

// loadBalancerValues are aws-load-balancer-controller chart 1.17.1 values
// (helm/aws-load-balancer-controller/values.yaml at v2.17.1). The cluster
// name, region and VPC are explicit so the controller never reads instance
// metadata; WAF and Shield are off (its policy grants none of them).
func loadBalancerValues(l LoadBalancer, cluster, region string) map[string]any {
	v := map[string]any{
		"clusterName":    cluster,
		"region":         region,
		"replicaCount":   l.Replicas,
		"resources":      l.Resources.Values(),
		"serviceAccount": map[string]any{"create": true, "name": loadBalancerSA},
		"enableShield":   false,
		"enableWaf":      false,
		"enableWafv2":    false,
		// The chart registers two webhooks that match objects of every
		// other release with failurePolicy Fail and no namespace selector
		// (templates/webhook.yaml at v2.17.1): mservice.elbv2.k8s.aws on
		// every Service CREATE and vingress.elbv2.k8s.aws on every Ingress
		// CREATE/UPDATE, whatever its class. While the controller's pods
		// are not serving (first install, a node drain, a rollout), every
		// Service and Ingress of the cluster is refused ("no endpoints
		// available for service aws-load-balancer-webhook-service";
		// upstream issue #4140). This platform needs neither: the mutator
		// only defaults spec.loadBalancerClass, and the controller takes
		// Kong's proxy Service by its annotations (ProxyAnnotations:
		// type external + nlb-target-type; pkg/service IsServiceSupported);
		// the validator checks only ALB Ingresses, and every Ingress here
		// is Kong's. The remaining Fail webhooks match only the
		// controller's own kinds (TargetGroupBinding, IngressClassParams)
		// or pods in namespaces that opt in by label, which none does.
		"enableServiceMutatorWebhook": false,
		"webhookConfig":               map[string]any{"disableIngressValidation": true},
		// The chart's container context (values.yaml at chart 1.17.1) keeps
		// every capability (its drop: [ALL] is commented out) and sets no
		// seccomp profile; the whole restricted context is set here.
		"securityContext": map[string]any{"runAsNonRoot": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
			"capabilities": map[string]any{"drop": []any{"ALL"}}, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
	}
	if l.Replicas > 1 {
		v["podDisruptionBudget"] = map[string]any{"maxUnavailable": 1}
		v["topologySpreadConstraints"] = zoneSpread(chartLabels(ReleaseLoadBalancer, ReleaseLoadBalancer))
	}
	return v
}

// ProxyProtocolAnnotation turns on PROXY protocol v2 for the NLB's target
// groups ("*": all of them).
const ProxyProtocolAnnotation = "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol"

// ProxyAnnotations are the annotations that hand a LoadBalancer Service to
// the AWS Load Balancer Controller (docs/guide/service/annotations.md at
// v2.17.1): an NLB ("external" is the controller's type; the in-tree
// controller ignores such Services), pod IPs as targets, cross-zone
// balancing, and the TLS 1.3 policy for any TLS listener. Kong terminates
// TLS itself, so its listeners are TCP and the policy applies only if a
// listener gains an ACM certificate (aws-load-balancer-ssl-cert).
func ProxyAnnotations(l LoadBalancer) map[string]string {
	return map[string]string{
		"service.beta.kubernetes.io/aws-load-balancer-type":                   "external",
		"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type":        "ip",
		"service.beta.kubernetes.io/aws-load-balancer-scheme":                 l.Scheme,
		"service.beta.kubernetes.io/aws-load-balancer-attributes":             "load_balancing.cross_zone.enabled=true",
		"service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy": l.TLSPolicy,
		// IP targets do not see the client's address (client IP
		// preservation defaults to off for them: docs/guide/service/
		// annotations.md and buildPreserveClientIPFlag at v2.17.1); the
		// NLB sends it in a PROXY protocol v2 header instead, which Kong
		// reads (gateway.Args.ProxyProtocolFrom). Preserving the client IP
		// would also work but breaks hairpin connections from inside the VPC.
		ProxyProtocolAnnotation: "*",
	}
}

func (b *builder) certificates(zone pulumi.StringOutput) error {
	c := b.args.Certificates
	policy := zone.ApplyT(func(id string) string { return certManagerPolicy(id, b.args.Domain) }).(pulumi.StringOutput)
	assoc, err := b.podIdentity("cert-manager", CertManagerNamespace, certManagerSA, policy)
	if err != nil {
		return err
	}
	release, err := b.release(ReleaseCertManager, ReleaseCertManager, CertManagerNamespace, c.Chart, certManagerValues(c), pulumi.DependsOn([]pulumi.Resource{assoc}))
	if err != nil {
		return err
	}
	// The issuers and certificates are cert-manager CRDs the release installs.
	afterRelease := pulumi.DependsOn([]pulumi.Resource{release})
	for _, issuer := range []struct{ name, server string }{
		{IssuerProduction, "https://acme-v02.api.letsencrypt.org/directory"},
		{IssuerStaging, "https://acme-staging-v02.api.letsencrypt.org/directory"},
	} {
		if _, err := apiextensions.NewCustomResource(b.ctx, b.name+"-"+issuer.name, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String("cert-manager.io/v1"),
			Kind:        pulumi.String("ClusterIssuer"),
			Metadata:    metav1.ObjectMetaArgs{Name: pulumi.String(issuer.name), Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("bac-platform")}},
			OtherFields: kubernetes.UntypedArgs{"spec": clusterIssuerSpec(issuer.server, issuer.name, b.args.ACMEEmail(), b.args.Region, b.args.Domain, zone)},
		}, b.parent, afterRelease); err != nil {
			return fmt.Errorf("cluster issuer %s: %w", issuer.name, err)
		}
	}
	for _, cert := range b.args.TLS {
		if _, err := apiextensions.NewCustomResource(b.ctx, b.name+"-"+cert.Namespace+"-"+cert.Name, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String("cert-manager.io/v1"),
			Kind:        pulumi.String("Certificate"),
			Metadata:    kube.Metadata(cert.Name, cert.Namespace, nil),
			OtherFields: kubernetes.UntypedArgs{"spec": certificateSpec(cert, c.Issuer)},
		}, b.parent, afterRelease); err != nil {
			return fmt.Errorf("certificate %s/%s: %w", cert.Namespace, cert.Name, err)
		}
	}
	return nil
}

// certManagerValues are cert-manager chart v1.20.3 values
// (deploy/charts/cert-manager/values.yaml at v1.20.3): the CRDs with the
// release (kept on uninstall, the chart's default), the controller's
// service account named for its Pod Identity association, and with more
// than one replica a PDB and zone spread for the controller, webhook and
// cainjector.
func certManagerValues(c Certificates) map[string]any {
	v := map[string]any{
		"crds":            map[string]any{"enabled": true, "keep": true},
		"serviceAccount":  map[string]any{"create": true, "name": certManagerSA},
		"replicaCount":    c.Replicas,
		"resources":       c.Resources.Values(),
		"webhook":         map[string]any{"replicaCount": c.Replicas, "resources": c.Resources.Values()},
		"cainjector":      map[string]any{"replicaCount": c.Replicas, "resources": c.Resources.Values()},
		"startupapicheck": map[string]any{"resources": c.Resources.Values()},
	}
	if c.Replicas > 1 {
		v["podDisruptionBudget"] = map[string]any{"enabled": true, "minAvailable": 1}
		v["topologySpreadConstraints"] = zoneSpread(map[string]any{"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/instance": ReleaseCertManager, "app.kubernetes.io/component": "controller"})
		for _, component := range []string{"webhook", "cainjector"} {
			sub := v[component].(map[string]any)
			sub["podDisruptionBudget"] = map[string]any{"enabled": true, "minAvailable": 1}
			sub["topologySpreadConstraints"] = zoneSpread(map[string]any{"app.kubernetes.io/name": component, "app.kubernetes.io/instance": ReleaseCertManager, "app.kubernetes.io/component": component})
		}
	}
	return v
}

// clusterIssuerSpec is an ACME issuer that solves DNS-01 challenges in the
// platform's zone through Route 53, with the controller's ambient (Pod
// Identity) credentials: ClusterIssuers may use them by default
// (--cluster-issuer-ambient-credentials).
func clusterIssuerSpec(server, name, email, region, domain string, zone pulumi.StringOutput) map[string]any {
	return map[string]any{"acme": map[string]any{
		"server":              server,
		"email":               email,
		"privateKeySecretRef": map[string]any{"name": name + "-account"},
		"solvers": []any{map[string]any{
			"selector": map[string]any{"dnsZones": []any{domain}},
			"dns01":    map[string]any{"route53": map[string]any{"region": region, "hostedZoneID": zone}},
		}},
	}}
}

// certificateSpec is a certificate for cert's hosts in its Secret, with a
// fresh ECDSA key at every renewal.
func certificateSpec(cert TLSCertificate, issuer string) map[string]any {
	hosts := make([]any, len(cert.Hosts))
	for i, h := range cert.Hosts {
		hosts[i] = h
	}
	return map[string]any{
		"secretName": cert.Name,
		"dnsNames":   hosts,
		"issuerRef":  map[string]any{"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer},
		"privateKey": map[string]any{"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
	}
}

func (b *builder) externalDNS(zone pulumi.StringOutput) error {
	policy := zone.ApplyT(func(id string) string { return externalDNSPolicy(id, b.args.Domain) }).(pulumi.StringOutput)
	assoc, err := b.podIdentity("external-dns", ExternalDNSNamespace, externalDNSSA, policy)
	if err != nil {
		return err
	}
	values := externalDNSValues(b.args)
	values["extraArgs"] = []any{pulumi.Sprintf("--zone-id-filter=%s", zone), "--aws-zone-type=public"}
	_, err = b.release(ReleaseExternalDNS, ReleaseExternalDNS, ExternalDNSNamespace, b.args.DNS.Chart, values, pulumi.DependsOn([]pulumi.Resource{assoc}))
	return err
}

// externalDNSValues are external-dns chart 1.21.1 values
// (charts/external-dns/values.yaml at external-dns-helm-chart-1.21.1):
// records for the hosts of Services and Ingresses (Kong publishes its
// proxy's NLB in the Ingresses' status), limited to the platform's domain
// and zone, owned by this stack's TXT records.
func externalDNSValues(a Args) map[string]any {
	return map[string]any{
		"provider":       map[string]any{"name": "aws"},
		"sources":        []any{"service", "ingress"},
		"domainFilters":  []any{a.Domain},
		"txtOwnerId":     a.OwnerID,
		"policy":         a.DNS.Policy,
		"registry":       "txt",
		"serviceAccount": map[string]any{"create": true, "name": externalDNSSA},
		"resources":      a.DNS.Resources.Values(),
		"env":            []any{map[string]any{"name": "AWS_DEFAULT_REGION", "value": a.Region}},
	}
}

func (b *builder) backups() error {
	bucket, key, err := b.backupBucket()
	if err != nil {
		return err
	}
	policy := key.ApplyT(func(arn string) string {
		return veleroPolicy(b.args.Region, b.args.Bucket(), arn, b.args.Backups.Snapshots)
	}).(pulumi.StringOutput)
	assoc, err := b.podIdentity("velero", VeleroNamespace, veleroSA, policy)
	if err != nil {
		return err
	}
	values := veleroValues(b.args)
	values["configuration"] = map[string]any{
		"backupStorageLocation": []any{map[string]any{
			"name": "default", "provider": "aws", "bucket": bucket, "default": true,
			"config": map[string]any{"region": b.args.Region, "kmsKeyId": key},
		}},
		"volumeSnapshotLocation": []any{map[string]any{"name": "default", "provider": "aws", "config": map[string]any{"region": b.args.Region}}},
	}
	_, err = b.release(ReleaseVelero, ReleaseVelero, VeleroNamespace, b.args.Backups.Chart, values, pulumi.DependsOn([]pulumi.Resource{assoc}))
	return err
}

// veleroUID is the user Velero's pod runs as (any non-root id: the image's
// files are world-readable and it writes only to emptyDir volumes).
const veleroUID = 65532

// veleroValues are velero chart 11.4.0 values (charts/velero/values.yaml at
// velero-11.4.0): the AWS plugin as the init container the chart's values
// describe, credentials from Pod Identity instead of a Secret, and one
// schedule over the platform's namespaces.
func veleroValues(a Args) map[string]any {
	bk := a.Backups
	namespaces := slices.Clone(a.BackupNamespaces)
	sort.Strings(namespaces)
	included := make([]any, len(namespaces))
	for i, n := range namespaces {
		included[i] = n
	}
	// The chart sets no security context at all (podSecurityContext and
	// containerSecurityContext are {} at velero-11.4.0, and initContainers
	// are rendered as given). The image's USER is the name cnb, which the
	// kubelet cannot check against runAsNonRoot, so the user is numeric;
	// with readOnlyRootFilesystem the chart mounts an emptyDir at /tmp
	// (templates/deployment.yaml), and the plugin's init container writes
	// only to the plugins emptyDir.
	container := func() map[string]any {
		return map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
			"capabilities": map[string]any{"drop": []any{"ALL"}}}
	}
	return map[string]any{
		"podSecurityContext": map[string]any{"runAsNonRoot": true, "runAsUser": veleroUID, "runAsGroup": veleroUID, "fsGroup": veleroUID,
			"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
		"containerSecurityContext": container(),
		"initContainers": []any{map[string]any{
			"name": "velero-plugin-for-aws", "image": bk.Plugin.String(), "imagePullPolicy": "IfNotPresent",
			"volumeMounts":    []any{map[string]any{"mountPath": "/target", "name": "plugins"}},
			"resources":       resources("50m", "64Mi", "200m", "128Mi").Values(),
			"securityContext": container(),
		}},
		"credentials": map[string]any{"useSecret": false},
		// The chart's CRD upgrade job copies a shell and kubectl out of
		// docker.io/bitnamilegacy/kubectl:<cluster version>
		// (templates/upgrade-crds at velero-11.4.0), a frozen repository
		// with no tag for this cluster's Kubernetes version: a failing hook
		// would roll the whole release back. Helm installs the chart's
		// crds/ instead; a chart upgrade that changes them applies them
		// by hand (velero install --crds-only --dry-run -o yaml).
		"upgradeCRDs":      false,
		"serviceAccount":   map[string]any{"server": map[string]any{"create": true, "name": veleroSA}},
		"snapshotsEnabled": bk.Snapshots,
		"deployNodeAgent":  false,
		"resources":        bk.Resources.Values(),
		"schedules": map[string]any{"platform": map[string]any{
			"schedule": bk.Schedule,
			"template": map[string]any{
				"ttl":                fmt.Sprintf("%dh0m0s", bk.TTLHours),
				"storageLocation":    "default",
				"includedNamespaces": included,
				"snapshotVolumes":    bk.Snapshots,
			},
		}},
	}
}
