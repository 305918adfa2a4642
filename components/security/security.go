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
	KubectlImage   kube.Image     `json:"kubectlImage"`
	ScanResources  kube.Resources `json:"scanResources"`
	WazuhImage     kube.Image     `json:"wazuhImage"`
	WazuhManager   string         `json:"wazuhManager"`
	WazuhResources kube.Resources `json:"wazuhResources"`
}

// PrivilegedExceptionAnnotation documents why a workload may be privileged;
// the compliance gate accepts privileged pods only with a reason here.
const PrivilegedExceptionAnnotation = "compliance.bac-platform.io/privileged-exception"

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
		KubectlImage:   kube.Image{Repository: "registry.k8s.io/kubectl", Tag: "v1.35.0"},
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
	ps.Extend(a.KubectlImage.Validate(path + ".kubectlImage"))
	ps.Extend(a.WazuhImage.Validate(path + ".wazuhImage"))
	ps.Extend(a.ScanResources.Validate(path + ".scanResources"))
	ps.Extend(a.WazuhResources.Validate(path + ".wazuhResources"))
	kube.ValidateSchedule(&ps, path+".schedule", a.Schedule)
	for _, level := range strings.Split(a.Severity, ",") {
		if !slices.Contains(severities, level) {
			ps.Add(path+".severity", "%q is not a comma-separated list of Trivy severities (%s)", a.Severity, strings.Join(severities, ", "))
			break
		}
	}
	if a.WazuhManager == "" {
		ps.Add(path+".wazuhManager", "is required")
	} else if _, err := netip.ParseAddr(a.WazuhManager); err != nil {
		validate.DNSName(&ps, path+".wazuhManager", a.WazuhManager)
	}
	return ps
}

// severities are the levels Trivy's --severity accepts.
var severities = []string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

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

// scan is the daily image scan. The seed's job runs kubectl inside the Trivy
// image, which has no kubectl and no permission to list pods: here a kubectl
// init container, allowed by a read-only ClusterRole, writes the image list
// to a shared volume and Trivy scans it.
func scan(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	sa, err := corev1.NewServiceAccount(ctx, name+"-"+ScanAccount, &corev1.ServiceAccountArgs{
		Metadata: kube.Metadata(ScanAccount, a.Namespace, nil),
	}, opts...)
	if err != nil {
		return fmt.Errorf("scanner service account: %w", err)
	}
	role, err := rbacv1.NewClusterRole(ctx, name+"-"+ScanAccount, &rbacv1.ClusterRoleArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String(ScanAccount + "-read-pods")},
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{""}),
			Resources: pulumi.ToStringArray([]string{"pods"}),
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
	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String("work"), MountPath: pulumi.String("/work")},
		corev1.VolumeMountArgs{Name: pulumi.String("cache"), MountPath: pulumi.String("/cache")},
	}
	listImages := `kubectl get pods --all-namespaces -o jsonpath="{.items[*].spec.containers[*].image}" | tr ' ' '\n' | sort -u > /work/images`
	scanImages := fmt.Sprintf(`status=0
while read -r image; do
  echo "Scanning $image"
  trivy image --cache-dir /cache --severity %s --exit-code 1 --no-progress "$image" || { echo "ALERT: vulnerabilities found in $image"; status=1; }
done < /work/images
exit $status`, a.Severity)
	container := func(n string, image kube.Image, script string) corev1.ContainerArgs {
		return corev1.ContainerArgs{
			Name: pulumi.String(n), Image: pulumi.String(image.String()),
			Command:         pulumi.ToStringArray([]string{"/bin/sh", "-c", script}),
			Resources:       a.ScanResources.Args(),
			SecurityContext: kube.Restricted(),
			VolumeMounts:    mounts,
		}
	}
	if _, err := batchv1.NewCronJob(ctx, name+"-"+ScanName, &batchv1.CronJobArgs{
		Metadata: kube.Metadata(ScanName, a.Namespace, map[string]string{"app": ScanName}),
		Spec: batchv1.CronJobSpecArgs{
			Schedule:          pulumi.String(a.Schedule),
			ConcurrencyPolicy: pulumi.String("Forbid"),
			JobTemplate: batchv1.JobTemplateSpecArgs{Spec: batchv1.JobSpecArgs{
				BackoffLimit: pulumi.Int(1),
				Template: corev1.PodTemplateSpecArgs{
					Metadata: metav1.ObjectMetaArgs{Labels: pulumi.StringMap{"app": pulumi.String(ScanName)}},
					Spec: corev1.PodSpecArgs{
						ServiceAccountName: pulumi.String(ScanAccount),
						RestartPolicy:      pulumi.String("OnFailure"),
						SecurityContext: corev1.PodSecurityContextArgs{RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(10001),
							FsGroup: pulumi.Int(10001), SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")}},
						InitContainers: corev1.ContainerArray{container("list-images", a.KubectlImage, listImages)},
						Containers:     corev1.ContainerArray{container("trivy", a.TrivyImage, scanImages)},
						Volumes: corev1.VolumeArray{
							corev1.VolumeArgs{Name: pulumi.String("work"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}},
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
					HostNetwork: pulumi.Bool(true),
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
	}, opts...); err != nil {
		return fmt.Errorf("wazuh daemonset: %w", err)
	}
	return nil
}
