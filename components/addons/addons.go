package addons

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/bac-platform/infra/components/kube"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Addons are the installed add-ons.
type Addons struct {
	pulumi.ResourceState

	// Releases are the Helm releases by add-on (autoscaler, metrics-server,
	// nvidia-device-plugin, dcgm-exporter, aws-load-balancer-controller,
	// cert-manager, external-dns, velero).
	Releases map[string]*helmv3.Release
	// LoadBalancerController is the controller's release (nil when off):
	// Services it annotates must come after it.
	LoadBalancerController *helmv3.Release
	// ZoneID and NameServers are the platform's hosted zone (empty when no
	// add-on uses it). Delegate the domain to NameServers.
	ZoneID      pulumi.StringOutput
	NameServers pulumi.StringArrayOutput
	// BackupBucket is the Velero bucket's name (empty when backups are off).
	BackupBucket pulumi.StringOutput
}

// NewAddons installs the enabled add-ons. The kubernetes provider (and an
// AWS provider for the region) come from opts; the namespaces must exist
// (DependsOn in opts).
func NewAddons(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Addons, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	if len(args.NeedAWS()) > 0 && (args.Cluster == "" || args.ClusterName == nil || args.Region == "" || args.ClusterArn == "") {
		return nil, errors.New("args.Cluster, args.ClusterName, args.ClusterArn and args.Region are required with the AWS add-ons")
	}
	if args.LoadBalancer.Enabled && args.VpcID == nil {
		return nil, errors.New("args.VpcID is required with the load balancer controller")
	}
	if args.ZoneNeeded() && args.Domain == "" {
		return nil, errors.New("args.Domain is required with certificates or DNS")
	}
	a := &Addons{Releases: map[string]*helmv3.Release{}}
	if err := ctx.RegisterComponentResource("bac:addons:Addons", name, a, opts...); err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, name: name, args: args, parent: kube.ChildOf(a, opts), addons: a}

	var zone pulumi.StringOutput
	if args.ZoneNeeded() {
		var err error
		if zone, err = b.hostedZone(); err != nil {
			return nil, err
		}
	}
	steps := []struct {
		on  bool
		run func() error
	}{
		{args.MetricsServer.Enabled, b.metricsServer},
		{args.Autoscaler.Enabled, b.autoscaler},
		{args.GPU.Enabled, b.gpu},
		{args.LoadBalancer.Enabled, b.loadBalancer},
		{args.Certificates.Enabled, func() error { return b.certificates(zone) }},
		{args.DNS.Enabled, func() error { return b.externalDNS(zone) }},
		{args.Backups.Enabled, b.backups},
	}
	for _, s := range steps {
		if s.on {
			if err := s.run(); err != nil {
				return nil, err
			}
		}
	}
	outputs := pulumi.Map{}
	for k, r := range a.Releases {
		outputs[k] = r.Version
	}
	if args.ZoneNeeded() {
		outputs["zoneId"], outputs["nameServers"] = a.ZoneID, a.NameServers
	}
	if args.Backups.Enabled {
		outputs["backupBucket"] = a.BackupBucket
	}
	if err := ctx.RegisterResourceOutputs(a, outputs); err != nil {
		return nil, err
	}
	return a, nil
}

// builder holds what every child of the add-ons shares.
type builder struct {
	ctx    *pulumi.Context
	name   string
	args   Args
	parent pulumi.ResourceOption
	addons *Addons
}

// tags returns the stack's tags.
func (b *builder) tags() pulumi.StringMap {
	all := maps.Clone(b.args.Tags)
	if all == nil {
		all = map[string]string{}
	}
	return pulumi.ToStringMap(all)
}

// release installs a pinned chart and records it under key.
func (b *builder) release(key, release, namespace string, chart kube.Chart, values map[string]any, opts ...pulumi.ResourceOption) (*helmv3.Release, error) {
	r, err := kube.HelmRelease(b.ctx, b.name+"-"+key, release, namespace, chart, values, append([]pulumi.ResourceOption{b.parent}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("%s release: %w", key, err)
	}
	b.addons.Releases[key] = r
	return r, nil
}

// podIdentity gives a service account an IAM role through EKS Pod Identity:
// a role only the EKS Pod Identity service may assume (the agent add-on
// hands its credentials to the association's pods), its inline policy, and
// the association (pulumi-aws 6.83.4 eks.PodIdentityAssociation). It
// returns the association, which the add-on's release waits for, so the
// pods start with credentials.
func (b *builder) podIdentity(key, namespace, serviceAccount string, policy pulumi.StringInput) (pulumi.Resource, error) {
	trust, err := PodIdentityTrust(b.args.ClusterArn, namespace, serviceAccount)
	if err != nil {
		return nil, fmt.Errorf("%s trust policy: %w", key, err)
	}
	role, err := iam.NewRole(b.ctx, b.name+"-"+key, &iam.RoleArgs{
		Description:      pulumi.Sprintf("%s %s (EKS Pod Identity %s/%s)", b.args.Cluster, key, namespace, serviceAccount),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             b.tags(),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("%s role: %w", key, err)
	}
	if _, err := iam.NewRolePolicy(b.ctx, b.name+"-"+key, &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, b.parent); err != nil {
		return nil, fmt.Errorf("%s role policy: %w", key, err)
	}
	assoc, err := awseks.NewPodIdentityAssociation(b.ctx, b.name+"-"+key, &awseks.PodIdentityAssociationArgs{
		ClusterName:    b.args.ClusterName,
		Namespace:      pulumi.String(namespace),
		ServiceAccount: pulumi.String(serviceAccount),
		RoleArn:        role.Arn,
		Tags:           b.tags(),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("%s pod identity association: %w", key, err)
	}
	return assoc, nil
}

// PodIdentityTrust is the trust policy of a Pod Identity role: only the
// EKS Pod Identity service may assume it, and only for the one service
// account of this cluster it is for. The scope is the session tags EKS
// Pod Identity passes (eks-cluster-arn, kubernetes-namespace,
// kubernetes-service-account), the form AWS's EKS user guide documents for
// these roles (pod-id-role, pod-id-abac). aws:SourceArn and
// aws:SourceAccount are documented only for the cluster's own service role
// (eks.amazonaws.com), not for pods.eks.amazonaws.com, so they are not
// relied on here. The associations must keep session tags on (they do: no
// disableSessionTags).
func PodIdentityTrust(clusterArn, namespace, serviceAccount string) (string, error) {
	doc := map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": "pods.eks.amazonaws.com"},
		"Action":    []string{"sts:AssumeRole", "sts:TagSession"},
		"Condition": map[string]any{"StringEquals": map[string]any{
			"aws:RequestTag/eks-cluster-arn":            clusterArn,
			"aws:RequestTag/kubernetes-namespace":       namespace,
			"aws:RequestTag/kubernetes-service-account": serviceAccount,
		}},
	}}}
	out, err := json.Marshal(doc)
	return string(out), err
}

// hostedZone is the platform's public hosted zone: the one named by
// dns.zoneId, or a new zone for the domain. A new zone is protected:
// replacing it would change its name servers and break the delegation.
func (b *builder) hostedZone() (pulumi.StringOutput, error) {
	if id := b.args.DNS.ZoneID; id != "" {
		b.addons.ZoneID = pulumi.String(id).ToStringOutput()
		b.addons.NameServers = pulumi.StringArray{}.ToStringArrayOutput()
		return b.addons.ZoneID, nil
	}
	zone, err := route53.NewZone(b.ctx, b.name+"-zone", &route53.ZoneArgs{
		Name:    pulumi.String(b.args.Domain),
		Comment: pulumi.Sprintf("BAC platform %s (managed by Pulumi; records by external-dns and cert-manager)", b.args.Cluster),
		Tags:    b.tags(),
	}, b.parent, pulumi.Protect(true))
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("hosted zone: %w", err)
	}
	b.addons.ZoneID, b.addons.NameServers = zone.ZoneId, zone.NameServers
	return zone.ZoneId, nil
}

// zoneSpread spreads a workload's replicas across zones, preferring but not
// requiring balance (a zone outage must not block rescheduling).
func zoneSpread(labels map[string]any) []any {
	return []any{map[string]any{
		"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
		"labelSelector": map[string]any{"matchLabels": labels},
	}}
}

// chartLabels are the selector labels most charts give their pods.
func chartLabels(name, instance string) map[string]any {
	return map[string]any{"app.kubernetes.io/name": name, "app.kubernetes.io/instance": instance}
}
