package kubecluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// helmRelease is the one Kubernetes type not sent to the API server: its
// chart cannot be fetched here, and what a chart renders is the chart's.
const helmRelease = "kubernetes:helm.sh/v3:Release"

// fieldManager owns what the tests apply.
const fieldManager = "bac-kubecluster-test"

// Object is one Kubernetes object of a plan and the resource it came from.
type Object struct {
	// URN is the Pulumi resource that declares the object.
	URN string
	*unstructured.Unstructured
}

// Objects returns the Kubernetes objects a plan declares (Helm releases
// aside), as the kubernetes provider would send them: the resource's inputs
// with secrets revealed and metadata.name as the provider names it (the mock
// engine's auto-name for objects that set none). Namespaces come first, as
// the objects in them need them.
func Objects(resources []mockengine.Resource) ([]Object, error) {
	var namespaces, rest []Object
	for _, r := range resources {
		if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") || r.Type == helmRelease {
			continue
		}
		obj, err := object(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.URN, err)
		}
		if obj.GetKind() == "Namespace" && obj.GetAPIVersion() == "v1" {
			namespaces = append(namespaces, obj)
		} else {
			rest = append(rest, obj)
		}
	}
	return append(namespaces, rest...), nil
}

func object(r mockengine.Resource) (Object, error) {
	content := map[string]any{}
	for k, v := range r.Inputs {
		pv, err := reveal(v)
		if err != nil {
			return Object{}, fmt.Errorf("input %s: %w", k, err)
		}
		content[string(k)] = pv
	}
	obj := Object{URN: r.URN, Unstructured: &unstructured.Unstructured{Object: content}}
	if obj.GetAPIVersion() == "" || obj.GetKind() == "" {
		return Object{}, errors.New("no apiVersion or kind")
	}
	if obj.GetName() == "" {
		meta, ok := r.Outputs["metadata"]
		if !ok || !meta.IsObject() || !meta.ObjectValue()["name"].IsString() {
			return Object{}, errors.New("no metadata.name in the inputs or the mock's outputs")
		}
		obj.SetName(meta.ObjectValue()["name"].StringValue())
	}
	return obj, nil
}

// reveal converts a property value to the JSON value the provider sends:
// secrets are revealed; an unknown value is an error (the mock engine
// resolves every output, so an unknown here is a bug in the plan).
func reveal(v resource.PropertyValue) (any, error) {
	switch {
	case v.IsSecret():
		return reveal(v.SecretValue().Element)
	case v.IsComputed():
		return nil, errors.New("unknown value")
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return nil, errors.New("unknown value")
		}
		return reveal(o.Element)
	case v.IsResourceReference():
		return nil, fmt.Errorf("resource reference %s", v.ResourceReferenceValue().URN)
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			pe, err := reveal(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[string(k)] = pe
		}
		return out, nil
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			pe, err := reveal(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = pe
		}
		return out, nil
	case v.IsNull():
		return nil, nil
	default:
		return v.V, nil
	}
}

// ApplyOptions say how Apply sends an object.
type ApplyOptions struct {
	// DryRun asks the server to validate and admit without persisting.
	DryRun bool
}

// Apply sends obj to the API server with server-side apply and strict field
// validation (unknown and duplicate fields are errors, as they are for the
// kubernetes provider's server-side apply mode), and returns the object the
// server answered with.
func (c *Cluster) Apply(ctx context.Context, obj *unstructured.Unstructured, opts ApplyOptions) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		// A CRD installed after the mapper was filled: ask discovery again.
		c.Mapper.Reset()
		if mapping, err = c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, fmt.Errorf("no resource for %s: %w", gvk, err)
		}
	}
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	patch := metav1.PatchOptions{FieldManager: fieldManager, FieldValidation: metav1.FieldValidationStrict, Force: ptr(true)}
	if opts.DryRun {
		patch.DryRun = []string{metav1.DryRunAll}
	}
	client := c.Dynamic.Resource(mapping.Resource)
	if mapping.Scope.Name() == "namespace" {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault
		}
		return client.Namespace(ns).Patch(ctx, obj.GetName(), types.ApplyPatchType, body, patch)
	}
	return client.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, patch)
}

func ptr[T any](v T) *T { return &v }

// Get reads an object from the API server.
func (c *Cluster) Get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	mapping, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		c.Mapper.Reset()
		if mapping, err = c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, fmt.Errorf("no resource for %s: %w", gvk, err)
		}
	}
	client := c.Dynamic.Resource(mapping.Resource)
	if mapping.Scope.Name() == "namespace" {
		return client.Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	}
	return client.Get(ctx, name, metav1.GetOptions{})
}
