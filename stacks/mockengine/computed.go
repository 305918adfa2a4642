package mockengine

import "github.com/pulumi/pulumi/sdk/v3/go/common/resource"

// PreviewState is the state a provider reports when it previews the
// creation of a resource: the inputs as given, and as computed (unknown)
// every output of computed (what Outputs returns for the resource) that the
// inputs do not already hold. An output that merely echoes an input (a log
// group's given name, a Kubernetes object's given metadata.name) stays
// known; what only the cloud assigns (IDs, ARNs, generated names, a uid) is
// unknown until the resource exists. Objects are compared key by key, so
// metadata keeps its given name while its uid is unknown.
//
// This is the one description of "known at a first preview": PreviewStack
// (the offline plan's fresh-stack mode) and the engine suite's simulated
// providers (Create with preview=true) both use it.
func PreviewState(inputs, computed resource.PropertyMap) resource.PropertyMap {
	return UpdatePreviewState(inputs, computed, nil)
}

// UpdatePreviewState is PreviewState for the preview of an in-place update
// of a resource whose current outputs are olds: an output stays known when
// the update leaves it as it is (the ID, the ARN) or when it echoes an
// input; an output that depends on a changed input is unknown until the
// update has run.
func UpdatePreviewState(inputs, computed, olds resource.PropertyMap) resource.PropertyMap {
	state := inputs.Copy()
	for k, out := range computed {
		state[k] = previewValue(inputs[k], olds[k], out)
	}
	return state
}

// previewValue is out as a preview reports it, given the input at the same
// place and the output the resource has now (both null when absent).
func previewValue(given, old, out resource.PropertyValue) resource.PropertyValue {
	in := given
	if in.IsSecret() {
		in = in.SecretValue().Element
	}
	if old.IsSecret() {
		old = old.SecretValue().Element
	}
	plainOut := out
	if plainOut.IsSecret() {
		plainOut = plainOut.SecretValue().Element
	}
	switch {
	case !old.IsNull() && old.DeepEquals(plainOut):
		return out
	case !in.IsNull() && in.DeepEquals(plainOut):
		return given
	case plainOut.IsObject() && (in.IsObject() || old.IsObject()):
		obj := resource.PropertyMap{}
		if in.IsObject() {
			obj = in.ObjectValue().Copy()
		}
		ins, olds := objectOf(in), objectOf(old)
		for k, v := range plainOut.ObjectValue() {
			obj[k] = previewValue(ins[k], olds[k], v)
		}
		return resource.NewObjectProperty(obj)
	}
	return resource.MakeComputed(resource.NewProperty(""))
}

func objectOf(v resource.PropertyValue) resource.PropertyMap {
	if v.IsObject() {
		return v.ObjectValue()
	}
	return resource.PropertyMap{}
}
