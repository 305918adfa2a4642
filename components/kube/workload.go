package kube

import (
	"fmt"
	"maps"
	"slices"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Port is a named container port, exposed by the workload's Service on the
// same number.
type Port struct {
	Name string
	Port int
}

// WorkloadArgs describe a Deployment of one restricted container and the
// ClusterIP Service in front of it.
type WorkloadArgs struct {
	// App names the Deployment, the Service and the pods' app label.
	App       string
	Namespace string
	Image     Image
	Replicas  int
	// Container is the container's name; App when empty.
	Container string
	// Args are the container's arguments (the image's entrypoint stays).
	Args []string
	Env  corev1.EnvVarArray
	// Ports are served by the container and the Service; the first is the
	// probes' default.
	Ports     []Port
	Resources Resources
	Liveness  Probe
	Readiness Probe
	// RunAsUser and FSGroup are the pod's non-root user and file group.
	RunAsUser int
	FSGroup   int
	// WritableDirs are mounted as emptyDir volumes; the root filesystem
	// stays read-only.
	WritableDirs map[string]string
	// ServiceAccount is the pods' service account (its mesh identity);
	// "default" when empty.
	ServiceAccount string
	// MountServiceAccountToken mounts the API token; off unless the
	// workload calls the Kubernetes API.
	MountServiceAccountToken bool
	// SessionAffinitySeconds > 0 keeps a client on one pod (ClientIP affinity).
	SessionAffinitySeconds int
	// Init are steps run to completion, in order, before the container:
	// the same image and restricted security context.
	Init []InitContainer
}

// InitContainer is a step run to completion before the workload starts.
type InitContainer struct {
	Name string
	// Args are passed to the image's entrypoint or, with Command, replace it.
	Command []string
	Args    []string
	Env     corev1.EnvVarArray
	// Mounts, by WritableDirs volume name, mount those volumes at other
	// paths in this step (e.g. to fill a volume from the image's own copy
	// of the directory it will later cover); the other volumes are
	// mounted where the container has them.
	Mounts map[string]string
}

// Workload is the created Deployment and Service, and with more than one
// replica its PodDisruptionBudget.
type Workload struct {
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	// Disruption keeps all but one replica up through voluntary
	// disruptions (node drains, autoscaler scale-downs); nil with one replica.
	Disruption *policyv1.PodDisruptionBudget
}

// TopologyZone and TopologyHost are the well-known node labels replicas
// spread over.
const (
	TopologyZone = "topology.kubernetes.io/zone"
	TopologyHost = "kubernetes.io/hostname"
)

// Spread spreads the pods matching labels across zones, then nodes. Skew is
// preferred, not required: a zone outage must never block rescheduling.
func Spread(labels pulumi.StringMap) corev1.TopologySpreadConstraintArray {
	var out corev1.TopologySpreadConstraintArray
	for _, key := range []string{TopologyZone, TopologyHost} {
		out = append(out, corev1.TopologySpreadConstraintArgs{
			MaxSkew: pulumi.Int(1), TopologyKey: pulumi.String(key), WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
			LabelSelector: metav1.LabelSelectorArgs{MatchLabels: labels},
		})
	}
	return out
}

// NewWorkload creates the Deployment and Service; name prefixes their
// logical names (name-App). opts apply to both (parent, provider, DependsOn).
func NewWorkload(ctx *pulumi.Context, name string, w WorkloadArgs, opts ...pulumi.ResourceOption) (*Workload, error) {
	labels := pulumi.StringMap{"app": pulumi.String(w.App)}
	container := w.Container
	if container == "" {
		container = w.App
	}
	var ports corev1.ContainerPortArray
	var servicePorts corev1.ServicePortArray
	for _, p := range w.Ports {
		ports = append(ports, corev1.ContainerPortArgs{ContainerPort: pulumi.Int(p.Port), Name: pulumi.String(p.Name)})
		servicePorts = append(servicePorts, corev1.ServicePortArgs{Name: pulumi.String(p.Name), Port: pulumi.Int(p.Port),
			TargetPort: pulumi.Int(p.Port), Protocol: pulumi.String("TCP")})
	}
	var mounts corev1.VolumeMountArray
	var volumes corev1.VolumeArray
	for _, volume := range slices.Sorted(maps.Keys(w.WritableDirs)) {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(volume), MountPath: pulumi.String(w.WritableDirs[volume])})
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(volume), EmptyDir: corev1.EmptyDirVolumeSourceArgs{}})
	}
	pod := corev1.PodSpecArgs{
		AutomountServiceAccountToken: pulumi.Bool(w.MountServiceAccountToken),
		SecurityContext: corev1.PodSecurityContextArgs{
			RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(w.RunAsUser), FsGroup: pulumi.Int(w.FSGroup),
			SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Containers: corev1.ContainerArray{corev1.ContainerArgs{
			Name:            pulumi.String(container),
			Image:           pulumi.String(w.Image.String()),
			Args:            pulumi.ToStringArray(w.Args),
			Ports:           ports,
			Env:             w.Env,
			Resources:       w.Resources.Args(),
			LivenessProbe:   w.Liveness.Args(),
			ReadinessProbe:  w.Readiness.Args(),
			SecurityContext: Restricted(),
			VolumeMounts:    mounts,
		}},
		Volumes: volumes,
	}
	var inits corev1.ContainerArray
	for _, step := range w.Init {
		var stepMounts corev1.VolumeMountArray
		for _, volume := range slices.Sorted(maps.Keys(w.WritableDirs)) {
			path := w.WritableDirs[volume]
			if p, ok := step.Mounts[volume]; ok {
				path = p
			}
			stepMounts = append(stepMounts, corev1.VolumeMountArgs{Name: pulumi.String(volume), MountPath: pulumi.String(path)})
		}
		inits = append(inits, corev1.ContainerArgs{
			Name:            pulumi.String(step.Name),
			Image:           pulumi.String(w.Image.String()),
			Command:         pulumi.ToStringArray(step.Command),
			Args:            pulumi.ToStringArray(step.Args),
			Env:             step.Env,
			Resources:       w.Resources.Args(),
			SecurityContext: Restricted(),
			VolumeMounts:    stepMounts,
		})
	}
	if len(inits) > 0 {
		pod.InitContainers = inits
	}
	if w.ServiceAccount != "" {
		pod.ServiceAccountName = pulumi.String(w.ServiceAccount)
	}
	if w.Replicas > 1 {
		pod.TopologySpreadConstraints = Spread(labels)
	}
	deployment, err := appsv1.NewDeployment(ctx, name+"-"+w.App, &appsv1.DeploymentArgs{
		Metadata: Metadata(w.App, w.Namespace, map[string]string{"app": w.App}),
		Spec: appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(w.Replicas),
			Selector: metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: corev1.PodTemplateSpecArgs{Metadata: metav1.ObjectMetaArgs{Labels: labels}, Spec: pod},
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s deployment: %w", w.App, err)
	}
	spec := corev1.ServiceSpecArgs{Type: pulumi.String("ClusterIP"), Selector: labels, Ports: servicePorts}
	if w.SessionAffinitySeconds > 0 {
		spec.SessionAffinity = pulumi.String("ClientIP")
		spec.SessionAffinityConfig = corev1.SessionAffinityConfigArgs{
			ClientIP: corev1.ClientIPConfigArgs{TimeoutSeconds: pulumi.Int(w.SessionAffinitySeconds)}}
	}
	service, err := corev1.NewService(ctx, name+"-"+w.App, &corev1.ServiceArgs{
		Metadata: Metadata(w.App, w.Namespace, map[string]string{"app": w.App}),
		Spec:     spec,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s service: %w", w.App, err)
	}
	out := &Workload{Deployment: deployment, Service: service}
	if w.Replicas > 1 {
		if out.Disruption, err = policyv1.NewPodDisruptionBudget(ctx, name+"-"+w.App, &policyv1.PodDisruptionBudgetArgs{
			Metadata: Metadata(w.App, w.Namespace, map[string]string{"app": w.App}),
			Spec: policyv1.PodDisruptionBudgetSpecArgs{
				MaxUnavailable: pulumi.Int(1),
				Selector:       metav1.LabelSelectorArgs{MatchLabels: labels},
			},
		}, opts...); err != nil {
			return nil, fmt.Errorf("%s disruption budget: %w", w.App, err)
		}
	}
	return out, nil
}

// EnvValue is an environment variable with a literal value.
func EnvValue(name, value string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), Value: pulumi.String(value)}
}

// EnvFromSecret is an environment variable read from a key of a Secret.
func EnvFromSecret(name, secret, key string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), ValueFrom: corev1.EnvVarSourceArgs{
		SecretKeyRef: corev1.SecretKeySelectorArgs{Name: pulumi.String(secret), Key: pulumi.String(key)}}}
}
