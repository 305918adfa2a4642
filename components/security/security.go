// Package security deploys the vulnerability-management workloads of the
// architecture document (section 2.4): the daily Trivy image scan with the
// read access it needs, and the Wazuh host agent on every node.
package security

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/validate"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures the security workloads. Its JSON form is a stack config value.
type Args struct {
	Enabled   bool   `json:"enabled"`
	Namespace string `json:"namespace"`
	// Schedule is the scan's cron schedule (daily at 02:00).
	Schedule       string         `json:"schedule"`
	Severity       string         `json:"severity"`
	TrivyImage     kube.Image     `json:"trivyImage"`
	ScanResources  kube.Resources `json:"scanResources"`
	WazuhImage     kube.Image     `json:"wazuhImage"`
	WazuhManager   string         `json:"wazuhManager"`
	WazuhResources kube.Resources `json:"wazuhResources"`
}

// PrivilegedExceptionAnnotation documents why a workload may be privileged;
// the compliance gate accepts privileged pods only with a reason here.
const PrivilegedExceptionAnnotation = "compliance.bac-platform.io/privileged-exception"

// Exceptions are the workloads that need the privileged exception, by
// namespace and service account: only the Wazuh agent. The admission
// policies honour the exception annotation for these alone.
func (a Args) Exceptions() []kube.ServiceAccountRef {
	if !a.Enabled {
		return nil
	}
	return []kube.ServiceAccountRef{{Namespace: a.Namespace, Name: AgentName}}
}

// DefaultArgs returns the architecture document's workloads with pinned
// images (the seed used latest).
func DefaultArgs() Args {
	small := kube.Resources{Requests: kube.Quantities{CPU: "100m", Memory: "256Mi"}, Limits: kube.Quantities{CPU: "500m", Memory: "512Mi"}}
	return Args{
		Enabled:        true,
		Namespace:      "security",
		Schedule:       "0 2 * * *",
		Severity:       "HIGH,CRITICAL",
		TrivyImage:     kube.Image{Repository: "aquasec/trivy", Tag: "0.67.2"},
		ScanResources:  kube.Resources{Requests: kube.Quantities{CPU: "500m", Memory: "1Gi"}, Limits: kube.Quantities{CPU: "1000m", Memory: "2Gi"}},
		WazuhImage:     kube.Image{Repository: "wazuh/wazuh-agent", Tag: "4.12.0"},
		WazuhManager:   "wazuh-manager.security.svc.cluster.local",
		WazuhResources: small,
	}
}

// Validate returns every problem, each at its path below path.
func (a Args) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !a.Enabled {
		return ps
	}
	kube.ValidateNamespace(&ps, path+".namespace", a.Namespace)
	ps.Extend(a.TrivyImage.Validate(path + ".trivyImage"))
	ps.Extend(a.WazuhImage.Validate(path + ".wazuhImage"))
	ps.Extend(a.ScanResources.Validate(path + ".scanResources"))
	ps.Extend(a.WazuhResources.Validate(path + ".wazuhResources"))
	validateSeverity(&ps, path+".severity", a.Severity)
	kube.ValidateSchedule(&ps, path+".schedule", a.Schedule)
	if a.WazuhManager == "" {
		ps.Add(path+".wazuhManager", "is required")
	} else if _, err := netip.ParseAddr(a.WazuhManager); err != nil {
		validate.DNSName(&ps, path+".wazuhManager", a.WazuhManager)
	}
	return ps
}

// Severities are Trivy's severity names (trivy-db pkg/types); Trivy
// refuses any other.
func Severities() []string { return []string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"} }

// validateSeverity checks a comma-separated list of Trivy severities.
func validateSeverity(ps *validate.Problems, path, value string) {
	if value == "" {
		ps.Add(path, "is required: the severities that fail the scan (%s)", strings.Join(Severities(), ", "))
		return
	}
	for _, s := range strings.Split(value, ",") {
		if !slices.Contains(Severities(), s) {
			ps.Add(path, "%q is not a Trivy severity (%s, comma-separated, no spaces)", s, strings.Join(Severities(), ", "))
		}
	}
}

// ScanArgs are the Trivy command line of the scan: the image's entrypoint
// is trivy, so no shell runs and no setting is interpreted by one. `trivy
// k8s` lists the cluster's pods itself through its in-cluster service
// account (trivy pkg/k8s/commands/run.go: k8s.GetCluster with no
// kubeconfig), scans the images they run, and exits 1 when it finds
// vulnerabilities of the given severities. The flags are those of trivy's
// pkg/flag/kubernetes_flags.go; --report is explicit because the table
// format refuses a whole-cluster scan without it (validateReportArguments).
func ScanArgs(severity string) []string {
	return []string{"k8s",
		"--include-kinds", "pods", // the workloads' images; no misconfiguration scan of other kinds
		"--disable-node-collector", // no privileged node-collector Job
		"--scanners", "vuln",
		"--severity", severity,
		"--exit-code", "1",
		"--report", "summary",
		"--cache-dir", "/cache",
		"--no-progress",
		"--timeout", "30m",
	}
}

// Security is the scan and the agent.
type Security struct {
	pulumi.ResourceState
}

// Names of the objects (as in the seed, plus the scanner's identity).
const (
	ScanName    = "trivy-image-scan"
	ScanAccount = "trivy-scanner"
	AgentName   = "wazuh-agent"
)

// ScanReads are the core resources the scanner may get and list.
func ScanReads() []string { return []string{"pods", "namespaces"} }

// NewSecurity deploys the workloads; the kubernetes provider comes from opts.
func NewSecurity(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Security, error) {
	if err := args.Validate(name).Err(); err != nil {
		return nil, err
	}
	s := &Security{}
	if err := ctx.RegisterComponentResource("bac:security:Security", name, s, opts...); err != nil {
		return nil, err
	}
	parent := kube.ChildOf(s, opts)
	if err := scan(ctx, name, args, parent); err != nil {
		return nil, err
	}
	if err := agent(ctx, name, args, parent); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{}); err != nil {
		return nil, err
	}
	return s, nil
}

// scan is the daily image scan. The seed runs kubectl inside the Trivy
// image, which has no kubectl and no permission to list pods. Here Trivy
// itself lists the pods (`trivy k8s`, see ScanArgs) under a read-only
// ClusterRole, with no shell and no second image.
func scan(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	sa, err := corev1.NewServiceAccount(ctx, name+"-"+ScanAccount, &corev1.ServiceAccountArgs{
		Metadata: kube.Metadata(ScanAccount, a.Namespace, nil),
	}, opts...)
	if err != nil {
		return fmt.Errorf("scanner service account: %w", err)
	}
	role, err := rbacv1.NewClusterRole(ctx, name+"-"+ScanAccount, &rbacv1.ClusterRoleArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(ScanAccount + "-read-pods")},
		// Read only: the pods whose images are scanned, and the namespaces a
		// cluster-wide listing walks.
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{""}),
			Resources: pulumi.ToStringArray(ScanReads()),
			Verbs:     pulumi.ToStringArray([]string{"get", "list"}),
		}},
	}, opts...)
	if err != nil {
		return fmt.Errorf("scanner cluster role: %w", err)
	}
	binding, err := rbacv1.NewClusterRoleBinding(ctx, name+"-"+ScanAccount, &rbacv1.ClusterRoleBindingArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(ScanAccount + "-read-pods")},
		RoleRef: rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"),
			Name: role.Metadata.Name().Elem()},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"),
			Name: pulumi.String(ScanAccount), Namespace: pulumi.String(a.Namespace)}},
	}, opts...)
	if err != nil {
		return fmt.Errorf("scanner binding: %w", err)
	}
	trivy := corev1.ContainerArgs{
		Name: pulumi.String("trivy"), Image: pulumi.String(a.TrivyImage.String()),
		// No command: the image's entrypoint (trivy) gets the arguments.
		Args:            pulumi.ToStringArray(ScanArgs(a.Severity)),
		Resources:       a.ScanResources.Args(),
		SecurityContext: kube.Restricted(),
		VolumeMounts: corev1.VolumeMountArray{
			// The vulnerability database; the root filesystem is read-only.
			corev1.VolumeMountArgs{Name: pulumi.String("cache"), MountPath: pulumi.String("/cache")},
			corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
		},
	}
	if _, err := batchv1.NewCronJob(ctx, name+"-"+ScanName, &batchv1.CronJobArgs{
		Metadata: kube.Metadata(ScanName, a.Namespace, map[string]string{"app": ScanName}),
		Spec: batchv1.CronJobSpecArgs{
			Schedule:          pulumi.String(a.Schedule),
			ConcurrencyPolicy: pulumi.String("Forbid"),
			// A scan with findings exits 1 (ScanArgs): that is its report,
			// not an error to retry. One attempt a day (no restart, no
			// backoff retry), so the day's result is one failed Job, which
			// the monitoring stack's failed-Job alert reports, and its pod's
			// log (the summary of findings) is kept with the last week's
			// failed Jobs instead of being replaced by reruns.
			SuccessfulJobsHistoryLimit: pulumi.Int(3),
			FailedJobsHistoryLimit:     pulumi.Int(7),
			JobTemplate: batchv1.JobTemplateSpecArgs{Spec: batchv1.JobSpecArgs{
				BackoffLimit: pulumi.Int(0),
				Template: corev1.PodTemplateSpecArgs{
					Metadata: metav1.ObjectMetaArgs{Labels: pulumi.StringMap{"app": pulumi.String(ScanName)}},
					Spec: corev1.PodSpecArgs{
						ServiceAccountName: pulumi.String(ScanAccount),
						RestartPolicy:      pulumi.String("Never"),
						SecurityContext: corev1.PodSecurityContextArgs{RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(10001),
							FsGroup: pulumi.Int(10001), SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")}},
						Containers: corev1.ContainerArray{trivy},
						Volumes: corev1.VolumeArray{
							corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}},
							corev1.VolumeArgs{Name: pulumi.String("cache"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}},
						},
					},
				},
			}},
		},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{sa, binding}))...); err != nil {
		return fmt.Errorf("scan cronjob: %w", err)
	}
	return nil
}

// agent is the Wazuh DaemonSet: the one documented exception to the
// no-privileged rule. A host intrusion detection agent must see the host's
// files, processes and network, so it runs privileged in the host
// namespaces; the host root and /sys are mounted read-only.
func agent(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	labels := pulumi.StringMap{"app": pulumi.String(AgentName)}
	hostPath := func(n, path string) corev1.VolumeArgs {
		return corev1.VolumeArgs{Name: pulumi.String(n), HostPath: corev1.HostPathVolumeSourceArgs{Path: pulumi.String(path)}}
	}
	// Its own service account: the admission exception names it (with the
	// namespace), so no other pod of the namespace can claim the exception.
	sa, err := corev1.NewServiceAccount(ctx, name+"-"+AgentName, &corev1.ServiceAccountArgs{
		Metadata:                     kube.Metadata(AgentName, a.Namespace, map[string]string{"app": AgentName}),
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, opts...)
	if err != nil {
		return fmt.Errorf("wazuh service account: %w", err)
	}
	meta := kube.Metadata(AgentName, a.Namespace, map[string]string{"app": AgentName})
	meta.Annotations = pulumi.StringMap{PrivilegedExceptionAnnotation: pulumi.String(
		"host intrusion detection: the Wazuh agent reads host files, processes and network (FIM, rootcheck, syscollector)")}
	if _, err := appsv1.NewDaemonSet(ctx, name+"-"+AgentName, &appsv1.DaemonSetArgs{
		Metadata: meta,
		Spec: appsv1.DaemonSetSpecArgs{
			Selector: metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: metav1.ObjectMetaArgs{Labels: labels, Annotations: meta.Annotations},
				Spec: corev1.PodSpecArgs{
					ServiceAccountName:           pulumi.String(AgentName),
					AutomountServiceAccountToken: pulumi.Bool(false),
					HostNetwork:                  pulumi.Bool(true),
					// With the host's network the pod would use the node's
					// resolver and never find in-cluster names.
					DnsPolicy: pulumi.String("ClusterFirstWithHostNet"),
					HostPID:   pulumi.Bool(true),
					HostIPC:   pulumi.Bool(true),
					// Every node, including the tainted compute, memory and GPU pools.
					Tolerations: corev1.TolerationArray{corev1.TolerationArgs{Operator: pulumi.String("Exists")}},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("wazuh"),
						Image: pulumi.String(a.WazuhImage.String()),
						Env: corev1.EnvVarArray{
							corev1.EnvVarArgs{Name: pulumi.String("WAZUH_MANAGER"), Value: pulumi.String(a.WazuhManager)},
							corev1.EnvVarArgs{Name: pulumi.String("WAZUH_AGENT_NAME"), ValueFrom: corev1.EnvVarSourceArgs{
								FieldRef: corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("spec.nodeName")}}},
						},
						Resources:       a.WazuhResources.Args(),
						SecurityContext: corev1.SecurityContextArgs{Privileged: pulumi.Bool(true)},
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("host-root"), MountPath: pulumi.String("/host"), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("var-run"), MountPath: pulumi.String("/var/run")},
							corev1.VolumeMountArgs{Name: pulumi.String("sys"), MountPath: pulumi.String("/sys"), ReadOnly: pulumi.Bool(true)},
						},
					}},
					Volumes: corev1.VolumeArray{hostPath("host-root", "/"), hostPath("var-run", "/var/run"), hostPath("sys", "/sys")},
				},
			},
		},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{sa}))...); err != nil {
		return fmt.Errorf("wazuh daemonset: %w", err)
	}
	return nil
}
