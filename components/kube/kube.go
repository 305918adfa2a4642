// Package kube holds the Kubernetes building blocks the platform components
// share: pinned images and charts, resource requirements, probes, the
// restricted container security context, and their validation.
package kube

import (
	"fmt"
	"strings"

	"github.com/bac-platform/infra/components/validate"
	"github.com/blang/semver"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Image is a container image pinned to a tag (or digest).
type Image struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
}

// String is the image reference, repository:tag (or repository@digest).
func (i Image) String() string {
	if strings.HasPrefix(i.Tag, "sha256:") {
		return i.Repository + "@" + i.Tag
	}
	return i.Repository + ":" + i.Tag
}

// Validate requires a real repository and a pinned tag: a release version
// or a digest, never a moving tag (latest, main, stable, ...).
func (i Image) Validate(path string) validate.Problems {
	var ps validate.Problems
	if i.Repository == "" {
		ps.Add(path+".repository", "is required")
	} else if validate.Placeholder(i.Repository, true) {
		ps.Add(path+".repository", "%q is a placeholder; name the real image", i.Repository)
	} else if strings.ContainsAny(i.Repository, ":@ ") {
		ps.Add(path+".repository", "%q must name the repository only; the version goes in tag", i.Repository)
	}
	ValidateImageTag(&ps, path+".tag", i.Tag)
	return ps
}

// Chart is a Helm chart pinned to a version.
type Chart struct {
	Repository string `json:"repository"`
	Name       string `json:"name"`
	Version    string `json:"version"`
}

// Validate requires an https or oci repository, a chart name and an exact
// chart version.
func (c Chart) Validate(path string) validate.Problems {
	var ps validate.Problems
	ValidateChartRepository(&ps, path+".repository", c.Repository)
	if c.Name == "" {
		ps.Add(path+".name", "is required")
	}
	if _, err := semver.Parse(strings.TrimPrefix(c.Version, "v")); err != nil {
		ps.Add(path+".version", "%q is not an exact chart version like 1.2.3", c.Version)
	}
	return ps
}

// Quantities are CPU and memory amounts ("500m", "2Gi").
type Quantities struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

// Resources are a container's requests and limits.
type Resources struct {
	Requests Quantities `json:"requests"`
	Limits   Quantities `json:"limits"`
}

// Validate requires every request and limit as a Kubernetes quantity, each
// request at most its limit.
func (r Resources) Validate(path string) validate.Problems {
	var ps validate.Problems
	validateResources(&ps, path, r)
	return ps
}

// Args converts the resources for a container spec.
func (r Resources) Args() corev1.ResourceRequirementsArgs {
	return corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(r.Requests.CPU), "memory": pulumi.String(r.Requests.Memory)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(r.Limits.CPU), "memory": pulumi.String(r.Limits.Memory)},
	}
}

// Values renders the resources as Helm values.
func (r Resources) Values() map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": r.Requests.CPU, "memory": r.Requests.Memory},
		"limits":   map[string]any{"cpu": r.Limits.CPU, "memory": r.Limits.Memory},
	}
}

// Probe is an HTTP GET probe.
type Probe struct {
	Path                string `json:"path"`
	Port                int    `json:"port"`
	InitialDelaySeconds int    `json:"initialDelaySeconds"`
	PeriodSeconds       int    `json:"periodSeconds"`
}

// Args converts the probe for a container spec.
func (p Probe) Args() corev1.ProbeArgs {
	return corev1.ProbeArgs{
		HttpGet:             corev1.HTTPGetActionArgs{Path: pulumi.String(p.Path), Port: pulumi.Int(p.Port)},
		InitialDelaySeconds: pulumi.Int(p.InitialDelaySeconds),
		PeriodSeconds:       pulumi.Int(p.PeriodSeconds),
	}
}

// Validate checks the probe's path, port and timings.
func (p Probe) Validate(path string) validate.Problems {
	var ps validate.Problems
	if !strings.HasPrefix(p.Path, "/") {
		ps.Add(path+".path", "%q must start with /", p.Path)
	}
	if p.Port < 1 || p.Port > 65535 {
		ps.Add(path+".port", "%d is not a port", p.Port)
	}
	if p.InitialDelaySeconds < 0 || p.PeriodSeconds < 1 {
		ps.Add(path, "initialDelaySeconds must be >= 0 and periodSeconds >= 1")
	}
	return ps
}

// Restricted is the container security context of the Kubernetes
// "restricted" Pod Security Standard, with a read-only root filesystem.
func Restricted() corev1.SecurityContextArgs {
	return corev1.SecurityContextArgs{
		RunAsNonRoot:             pulumi.Bool(true),
		AllowPrivilegeEscalation: pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		Privileged:               pulumi.Bool(false),
		Capabilities:             corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
		SeccompProfile:           corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// Metadata is object metadata with the platform's standard labels.
func Metadata(name, namespace string, labels map[string]string) metav1.ObjectMetaArgs {
	all := map[string]string{"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "bac-platform"}
	for k, v := range labels {
		all[k] = v
	}
	return metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(namespace), Labels: pulumi.ToStringMap(all)}
}

// ServiceAccountRef names a service account: the identity a pod runs as.
type ServiceAccountRef struct {
	Namespace string
	Name      string
}

// ServiceHost is the in-cluster DNS name of a Service.
func ServiceHost(service, namespace string) string {
	return fmt.Sprintf("%s.%s.svc.cluster.local", service, namespace)
}

// HelmRelease installs a pinned chart as a Helm release in namespace,
// atomically (a failed install rolls back) and with a generous timeout for
// charts that wait on load balancers.
func HelmRelease(ctx *pulumi.Context, name, release, namespace string, chart Chart, values map[string]any,
	opts ...pulumi.ResourceOption,
) (*helmv3.Release, error) {
	return helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
		Name:           pulumi.String(release),
		Namespace:      pulumi.String(namespace),
		Chart:          pulumi.String(chart.Name),
		Version:        pulumi.String(chart.Version),
		RepositoryOpts: helmv3.RepositoryOptsArgs{Repo: pulumi.String(chart.Repository)},
		Values:         pulumi.ToMap(values),
		Atomic:         pulumi.Bool(true),
		Timeout:        pulumi.Int(900),
	}, opts...)
}

// ChildOf is the option every child of a component takes: the component as
// parent, and the component's own explicit dependencies. Pulumi does not pass
// a component's DependsOn on to its children (sdk/v3 go/pulumi context.go
// takes dependencies from each resource's own options only), so without it
// a Helm release could be installed before the namespace its component
// waits for.
func ChildOf(component pulumi.Resource, componentOpts []pulumi.ResourceOption) pulumi.ResourceOption {
	o, err := pulumi.NewResourceOptions(componentOpts...)
	if err != nil || len(o.DependsOn) == 0 {
		return pulumi.Parent(component)
	}
	return pulumi.Composite(pulumi.Parent(component), pulumi.DependsOn(o.DependsOn))
}
