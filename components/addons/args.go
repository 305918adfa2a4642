// Package addons installs the cluster add-ons that make the EKS cluster do
// what its node pools promise: node autoscaling (Cluster Autoscaler),
// metrics-server, the NVIDIA device plugin and DCGM exporter on the GPU pool,
// the AWS Load Balancer Controller, cert-manager with Let's Encrypt
// ClusterIssuers (DNS-01 through Route 53) and the platform's certificates,
// external-dns for the platform's hosted zone, and Velero with its encrypted
// S3 bucket. Every AWS identity is an EKS Pod Identity association with a
// least-privilege role.
package addons

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/validate"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures the add-ons. Its JSON form is a stack config value; each
// add-on turns off with its own enabled flag.
type Args struct {
	Autoscaler    Autoscaler    `json:"autoscaler"`
	MetricsServer MetricsServer `json:"metricsServer"`
	GPU           GPU           `json:"gpu"`
	LoadBalancer  LoadBalancer  `json:"loadBalancer"`
	Certificates  Certificates  `json:"certificates"`
	DNS           DNS           `json:"dns"`
	Backups       Backups       `json:"backups"`

	// Set by the stack, never from the JSON form:

	// Cluster is the EKS cluster's name (chart values, IAM scoping).
	Cluster string `json:"-"`
	// ClusterName is the same name as an output of the cluster, so the Pod
	// Identity associations wait for it.
	ClusterName pulumi.StringInput `json:"-"`
	// ClusterArn scopes the Pod Identity roles' trust to this cluster.
	ClusterArn string `json:"-"`
	// Region is the AWS region of the cluster.
	Region string `json:"-"`
	// VpcID is the cluster's VPC (the load balancer controller's).
	VpcID pulumi.StringInput `json:"-"`
	// Domain is the platform's DNS domain (bac:domain): the hosted zone,
	// the external-dns domain filter, the ACME account's mailbox.
	Domain string `json:"-"`
	// OwnerID marks the DNS records this stack's external-dns owns; unique
	// per stack and region.
	OwnerID string `json:"-"`
	// TLS lists the certificates to issue: hosts and the namespace of the
	// Ingress that serves them.
	TLS []TLSCertificate `json:"-"`
	// BackupNamespaces are the namespaces the backup schedule covers.
	BackupNamespaces []string `json:"-"`
	// GPUNodeLabels and GPUTaints describe the GPU pool: the device plugin
	// and DCGM exporter select its nodes and tolerate its taints.
	GPUNodeLabels map[string]string `json:"-"`
	GPUTaints     []Toleration      `json:"-"`
	// Tags are applied to every taggable AWS resource.
	Tags map[string]string `json:"-"`
}

// Toleration is a node taint the GPU add-ons tolerate.
type Toleration struct {
	Key    string
	Value  string
	Effect string
}

// TLSCertificate is one certificate to issue: its hosts and the Secret, in
// the namespace of the Ingress that serves them.
type TLSCertificate struct {
	Name      string
	Namespace string
	Hosts     []string
}

// Autoscaler is the Cluster Autoscaler: it scales the managed node groups
// it discovers by their tags between each pool's minSize and maxSize.
type Autoscaler struct {
	Enabled bool       `json:"enabled"`
	Chart   kube.Chart `json:"chart"`
	// Image is the autoscaler; its minor version follows the cluster's.
	Image     kube.Image     `json:"image"`
	Resources kube.Resources `json:"resources"`
	// Expander picks the node group to grow: least-waste, random,
	// most-pods, priority or price.
	Expander string `json:"expander"`
	// ScaleDownUnneededTime is how long a node stays unneeded before it is
	// removed (a Go duration).
	ScaleDownUnneededTime string `json:"scaleDownUnneededTime"`
}

// MetricsServer feeds the resource metrics API the HPAs of Kong and istiod use.
type MetricsServer struct {
	Enabled   bool           `json:"enabled"`
	Chart     kube.Chart     `json:"chart"`
	Replicas  int            `json:"replicas"`
	Resources kube.Resources `json:"resources"`
}

// GPU is the NVIDIA device plugin (advertises nvidia.com/gpu) and the DCGM
// exporter (GPU metrics), both only on the GPU pool's nodes.
type GPU struct {
	Enabled      bool       `json:"enabled"`
	DevicePlugin kube.Chart `json:"devicePlugin"`
	// DCGMExporter is the metrics exporter chart; DCGMEnabled turns it off.
	DCGMEnabled  bool           `json:"dcgmEnabled"`
	DCGMExporter kube.Chart     `json:"dcgmExporter"`
	DCGMResource kube.Resources `json:"dcgmResources"`
	// ServiceMonitor creates the exporter's ServiceMonitor; it needs the
	// Prometheus operator's CRDs on the cluster.
	ServiceMonitor bool `json:"serviceMonitor"`
}

// LoadBalancer is the AWS Load Balancer Controller, which provisions the NLB
// of Kong's proxy Service (target type ip, cross-zone).
type LoadBalancer struct {
	Enabled   bool           `json:"enabled"`
	Chart     kube.Chart     `json:"chart"`
	Replicas  int            `json:"replicas"`
	Resources kube.Resources `json:"resources"`
	// Scheme is internet-facing or internal.
	Scheme string `json:"scheme"`
	// TLSPolicy is the NLB security policy of any TLS listener.
	TLSPolicy string `json:"tlsPolicy"`
}

// Certificates is cert-manager with Let's Encrypt ClusterIssuers (staging
// and production, DNS-01 through Route 53) and the platform's certificates.
type Certificates struct {
	Enabled   bool           `json:"enabled"`
	Chart     kube.Chart     `json:"chart"`
	Replicas  int            `json:"replicas"`
	Resources kube.Resources `json:"resources"`
	// Issuer is the ClusterIssuer the platform's certificates use.
	Issuer string `json:"issuer"`
	// Email is the ACME account's contact; hostmaster@<domain> by default.
	Email string `json:"email"`
}

// DNS is the platform's public hosted zone and external-dns, which keeps the
// records of the platform's hosts pointing at the load balancer.
type DNS struct {
	Enabled   bool           `json:"enabled"`
	Chart     kube.Chart     `json:"chart"`
	Resources kube.Resources `json:"resources"`
	// ZoneID names an existing public hosted zone for the domain; empty
	// creates one (delegate it from the parent zone: see the nameServers
	// output).
	ZoneID string `json:"zoneId"`
	// Policy is upsert-only (never deletes records) or sync.
	Policy string `json:"policy"`
}

// Backups is Velero with its S3 bucket (KMS-encrypted, versioned, public
// access blocked, expiring old backups) and a schedule for the platform's
// namespaces.
type Backups struct {
	Enabled   bool           `json:"enabled"`
	Chart     kube.Chart     `json:"chart"`
	Plugin    kube.Image     `json:"plugin"`
	Resources kube.Resources `json:"resources"`
	// BucketName is the S3 bucket (globally unique); <cluster>-velero-backups by default.
	BucketName string `json:"bucketName"`
	// Schedule is the backup's cron expression (UTC).
	Schedule string `json:"schedule"`
	// TTLHours is how long Velero keeps each backup.
	TTLHours int `json:"ttlHours"`
	// ExpireDays deletes backup objects after this many days (S3
	// lifecycle), a backstop beyond the TTL; NoncurrentDays removes
	// overwritten or deleted versions.
	ExpireDays     int `json:"expireDays"`
	NoncurrentDays int `json:"noncurrentDays"`
	// Snapshots takes EBS snapshots of persistent volumes.
	Snapshots bool `json:"snapshots"`
}

// Issuers.
const (
	IssuerProduction = "letsencrypt-prod"
	IssuerStaging    = "letsencrypt-staging"
)

// Namespaces the add-ons install into.
const (
	SystemNamespace       = "kube-system"
	CertManagerNamespace  = "cert-manager"
	ExternalDNSNamespace  = "external-dns"
	VeleroNamespace       = "velero"
	certManagerSA         = "cert-manager"
	externalDNSSA         = "external-dns"
	veleroSA              = "velero-server"
	autoscalerSA          = "cluster-autoscaler"
	loadBalancerSA        = "aws-load-balancer-controller"
	defaultACMEMailboxFmt = "hostmaster@%s"
)

func resources(cpu, memory, cpuLimit, memoryLimit string) kube.Resources {
	return kube.Resources{Requests: kube.Quantities{CPU: cpu, Memory: memory}, Limits: kube.Quantities{CPU: cpuLimit, Memory: memoryLimit}}
}

// DefaultArgs returns every add-on on, at the versions verified against
// their charts (chart version / app version in each comment).
func DefaultArgs() Args {
	return Args{
		Autoscaler: Autoscaler{
			Enabled: true,
			// cluster-autoscaler chart 9.59.0 (app 1.35.0).
			Chart:                 kube.Chart{Repository: "https://kubernetes.github.io/autoscaler", Name: "cluster-autoscaler", Version: "9.59.0"},
			Image:                 kube.Image{Repository: "registry.k8s.io/autoscaling/cluster-autoscaler", Tag: "v1.35.0"},
			Resources:             resources("100m", "300Mi", "500m", "600Mi"),
			Expander:              "least-waste",
			ScaleDownUnneededTime: "10m",
		},
		MetricsServer: MetricsServer{
			Enabled: true,
			// metrics-server chart 3.13.1 (app 0.8.1).
			Chart:     kube.Chart{Repository: "https://kubernetes-sigs.github.io/metrics-server/", Name: "metrics-server", Version: "3.13.1"},
			Replicas:  2,
			Resources: resources("100m", "200Mi", "1", "500Mi"),
		},
		GPU: GPU{
			Enabled: true,
			// nvidia-device-plugin chart 0.19.3 (app 0.19.3).
			DevicePlugin: kube.Chart{Repository: "https://nvidia.github.io/k8s-device-plugin", Name: "nvidia-device-plugin", Version: "0.19.3"},
			DCGMEnabled:  true,
			// dcgm-exporter chart 4.8.2 (image 4.5.3-4.8.2-distroless).
			DCGMExporter: kube.Chart{Repository: "https://nvidia.github.io/dcgm-exporter/helm-charts", Name: "dcgm-exporter", Version: "4.8.2"},
			DCGMResource: resources("100m", "128Mi", "200m", "512Mi"),
		},
		LoadBalancer: LoadBalancer{
			Enabled: true,
			// aws-load-balancer-controller chart 1.17.1 (app v2.17.1).
			Chart:     kube.Chart{Repository: "https://aws.github.io/eks-charts", Name: "aws-load-balancer-controller", Version: "1.17.1"},
			Replicas:  2,
			Resources: resources("100m", "200Mi", "500m", "500Mi"),
			Scheme:    "internet-facing",
			TLSPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06",
		},
		Certificates: Certificates{
			Enabled: true,
			// cert-manager chart v1.20.3 (images v1.20.3).
			Chart:     kube.Chart{Repository: "https://charts.jetstack.io", Name: "cert-manager", Version: "v1.20.3"},
			Replicas:  2,
			Resources: resources("50m", "128Mi", "500m", "512Mi"),
			Issuer:    IssuerProduction,
		},
		DNS: DNS{
			Enabled: true,
			// external-dns chart 1.21.1 (app 0.21.0).
			Chart:     kube.Chart{Repository: "https://kubernetes-sigs.github.io/external-dns/", Name: "external-dns", Version: "1.21.1"},
			Resources: resources("50m", "64Mi", "200m", "256Mi"),
			Policy:    "upsert-only",
		},
		Backups: Backups{
			Enabled: true,
			// velero chart 11.4.0 (Velero 1.17.1) with the AWS plugin v1.13.2,
			// the plugin line built against Velero v1.17 (its go.mod at
			// v1.13.2; v1.14 targets Velero 1.18).
			Chart:          kube.Chart{Repository: "https://vmware-tanzu.github.io/helm-charts", Name: "velero", Version: "11.4.0"},
			Plugin:         kube.Image{Repository: "velero/velero-plugin-for-aws", Tag: "v1.13.2"},
			Resources:      resources("500m", "256Mi", "1", "1Gi"),
			Schedule:       "0 3 * * *",
			TTLHours:       720,
			ExpireDays:     90,
			NoncurrentDays: 30,
			Snapshots:      true,
		},
	}
}

// Off returns every add-on turned off: the local stack's, and the start of a
// bring-your-own-cluster stack's.
func Off() Args {
	a := DefaultArgs()
	a.Autoscaler.Enabled, a.MetricsServer.Enabled, a.GPU.Enabled = false, false, false
	a.LoadBalancer.Enabled, a.Certificates.Enabled, a.DNS.Enabled, a.Backups.Enabled = false, false, false, false
	return a
}

// NeedAWS lists the enabled add-ons that need the stack's own EKS cluster
// (AWS identities, the VPC, the node groups), by config key.
func (a Args) NeedAWS() []string {
	var out []string
	for key, on := range map[string]bool{
		"autoscaler": a.Autoscaler.Enabled, "loadBalancer": a.LoadBalancer.Enabled,
		"certificates": a.Certificates.Enabled, "dns": a.DNS.Enabled, "backups": a.Backups.Enabled,
	} {
		if on {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}

// ZoneNeeded reports whether the stack uses the platform's hosted zone.
func (a Args) ZoneNeeded() bool { return a.DNS.Enabled || a.Certificates.Enabled }

// ACMEEmail is the ACME account's contact.
func (a Args) ACMEEmail() string {
	if a.Certificates.Email != "" {
		return a.Certificates.Email
	}
	return fmt.Sprintf(defaultACMEMailboxFmt, a.Domain)
}

// Bucket is the backup bucket's name.
func (a Args) Bucket() string {
	if a.Backups.BucketName != "" {
		return a.Backups.BucketName
	}
	return a.Cluster + "-velero-backups"
}

var (
	expanders    = []string{"least-waste", "random", "most-pods", "priority", "price"}
	schemes      = []string{"internet-facing", "internal"}
	dnsPolicies  = []string{"upsert-only", "sync"}
	issuers      = []string{IssuerProduction, IssuerStaging}
	zoneID       = regexp.MustCompile(`^Z[0-9A-Z]{1,31}$`)
	bucketName   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	cronField    = regexp.MustCompile(`^[0-9*/,-]+$`)
	email        = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	duration     = regexp.MustCompile(`^([0-9]+(h|m|s))+$`)
	tlsPolicyRef = regexp.MustCompile(`^ELBSecurityPolicy-[A-Za-z0-9-]+$`)
)

// Validate returns every problem in the args, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	chart := func(on bool, p string, c kube.Chart) {
		if on {
			ps.Extend(c.Validate(p))
		}
	}
	res := func(on bool, p string, r kube.Resources) {
		if on {
			ps.Extend(r.Validate(p))
		}
	}

	as, asPath := a.Autoscaler, path+".autoscaler"
	chart(as.Enabled, asPath+".chart", as.Chart)
	res(as.Enabled, asPath+".resources", as.Resources)
	if as.Enabled {
		ps.Extend(as.Image.Validate(asPath + ".image"))
		if !slices.Contains(expanders, as.Expander) {
			ps.Add(asPath+".expander", "%q is not one of %s", as.Expander, strings.Join(expanders, ", "))
		}
		if !duration.MatchString(as.ScaleDownUnneededTime) {
			ps.Add(asPath+".scaleDownUnneededTime", "%q is not a duration like 10m", as.ScaleDownUnneededTime)
		}
	}

	ms, msPath := a.MetricsServer, path+".metricsServer"
	chart(ms.Enabled, msPath+".chart", ms.Chart)
	res(ms.Enabled, msPath+".resources", ms.Resources)
	if ms.Enabled && ms.Replicas < 1 {
		ps.Add(msPath+".replicas", "%d must be at least 1", ms.Replicas)
	}

	gpu, gpuPath := a.GPU, path+".gpu"
	chart(gpu.Enabled, gpuPath+".devicePlugin", gpu.DevicePlugin)
	chart(gpu.Enabled && gpu.DCGMEnabled, gpuPath+".dcgmExporter", gpu.DCGMExporter)
	res(gpu.Enabled && gpu.DCGMEnabled, gpuPath+".dcgmResources", gpu.DCGMResource)

	lb, lbPath := a.LoadBalancer, path+".loadBalancer"
	chart(lb.Enabled, lbPath+".chart", lb.Chart)
	res(lb.Enabled, lbPath+".resources", lb.Resources)
	if lb.Enabled {
		if lb.Replicas < 1 {
			ps.Add(lbPath+".replicas", "%d must be at least 1", lb.Replicas)
		}
		if !slices.Contains(schemes, lb.Scheme) {
			ps.Add(lbPath+".scheme", "%q is not one of %s", lb.Scheme, strings.Join(schemes, ", "))
		}
		if !tlsPolicyRef.MatchString(lb.TLSPolicy) || !strings.Contains(lb.TLSPolicy, "TLS13") {
			ps.Add(lbPath+".tlsPolicy", "%q is not a TLS 1.3 ELB security policy like ELBSecurityPolicy-TLS13-1-3-2021-06", lb.TLSPolicy)
		}
	}

	cm, cmPath := a.Certificates, path+".certificates"
	chart(cm.Enabled, cmPath+".chart", cm.Chart)
	res(cm.Enabled, cmPath+".resources", cm.Resources)
	if cm.Enabled {
		if cm.Replicas < 1 {
			ps.Add(cmPath+".replicas", "%d must be at least 1", cm.Replicas)
		}
		if !slices.Contains(issuers, cm.Issuer) {
			ps.Add(cmPath+".issuer", "%q is not one of %s", cm.Issuer, strings.Join(issuers, ", "))
		}
		if cm.Email != "" && (!email.MatchString(cm.Email) || validate.Placeholder(strings.SplitN(cm.Email, "@", 2)[1], false)) {
			ps.Add(cmPath+".email", "%q is not a real mailbox for the ACME account", cm.Email)
		}
		for i, c := range a.TLS {
			for j, h := range c.Hosts {
				if h != a.Domain && !strings.HasSuffix(h, "."+a.Domain) {
					ps.Add(fmt.Sprintf("%s.tls[%d].hosts[%d]", cmPath, i, j), "%q is outside the domain %q whose zone answers the DNS-01 challenge", h, a.Domain)
				}
			}
		}
	}

	dns, dnsPath := a.DNS, path+".dns"
	chart(dns.Enabled, dnsPath+".chart", dns.Chart)
	res(dns.Enabled, dnsPath+".resources", dns.Resources)
	if dns.Enabled && !slices.Contains(dnsPolicies, dns.Policy) {
		ps.Add(dnsPath+".policy", "%q is not one of %s", dns.Policy, strings.Join(dnsPolicies, ", "))
	}
	if a.ZoneNeeded() && dns.ZoneID != "" && !zoneID.MatchString(dns.ZoneID) {
		ps.Add(dnsPath+".zoneId", "%q is not a Route 53 hosted zone ID like Z0123456789ABCDEFGHIJ", dns.ZoneID)
	}

	bk, bkPath := a.Backups, path+".backups"
	chart(bk.Enabled, bkPath+".chart", bk.Chart)
	res(bk.Enabled, bkPath+".resources", bk.Resources)
	if bk.Enabled {
		ps.Extend(bk.Plugin.Validate(bkPath + ".plugin"))
		if name := a.Bucket(); !bucketName.MatchString(name) || strings.Contains(name, "..") {
			ps.Add(bkPath+".bucketName", "%q is not an S3 bucket name (3-63 lowercase letters, digits, . and -)", name)
		}
		if fields := strings.Fields(bk.Schedule); len(fields) != 5 || slices.ContainsFunc(fields, func(f string) bool { return !cronField.MatchString(f) }) {
			ps.Add(bkPath+".schedule", "%q is not a five-field cron expression like \"0 3 * * *\"", bk.Schedule)
		}
		if bk.TTLHours < 1 {
			ps.Add(bkPath+".ttlHours", "%d must be at least 1", bk.TTLHours)
		}
		if bk.ExpireDays < 1 || bk.NoncurrentDays < 1 {
			ps.Add(bkPath, "expireDays %d and noncurrentDays %d must be at least 1", bk.ExpireDays, bk.NoncurrentDays)
		} else if bk.ExpireDays*24 < bk.TTLHours {
			ps.Add(bkPath+".expireDays", "%d days would delete backups before their %d-hour TTL ends", bk.ExpireDays, bk.TTLHours)
		}
	}
	return ps
}
