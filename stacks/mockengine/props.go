package mockengine

import (
	"sort"

	"github.com/bac-platform/infra/policies/rules"
	"github.com/bac-platform/infra/stacks/stackfile"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Input returns the plain value of an input at a dotted path such as
// "scalingConfig.minSize", "taints[0].effect" or
// "metadata.annotations.konghq.com/plugins" (see rules.Lookup); nil when
// absent. Anything below a secret reads as "[secret]".
func (r Resource) Input(path string) any {
	return rules.Lookup(PlainMap(r.Inputs), path)
}

// IsSecretInput reports whether the input at a top-level key is a secret.
func (r Resource) IsSecretInput(key string) bool {
	v, ok := r.Inputs[resource.PropertyKey(key)]
	return ok && (v.IsSecret() || (v.IsOutput() && v.OutputValue().Secret))
}

// PlainMap converts a property map to JSON-ready values (see Plain).
func PlainMap(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = Plain(m[resource.PropertyKey(k)])
	}
	return out
}

// Plain converts one property value to a JSON-ready value: secrets become
// "[secret]", unknowns "[unknown]", resource references their URN.
func Plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return stackfile.SecretPlaceholder
	case v.IsComputed():
		return "[unknown]"
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return stackfile.SecretPlaceholder
		}
		if !o.Known {
			return "[unknown]"
		}
		return Plain(o.Element)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsObject():
		return PlainMap(v.ObjectValue())
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = Plain(e)
		}
		return out
	case v.IsNull():
		return nil
	default:
		return v.V
	}
}

// RevealedInput is Input with secrets shown: for tests that check what a
// secret input holds (the kubernetes SDK makes a Secret's data and
// stringData secret as a whole, public values included).
func (r Resource) RevealedInput(path string) any {
	return rules.Lookup(Plain(reveal(resource.NewObjectProperty(r.Inputs))), path)
}

// reveal unwraps every known secret in v.
func reveal(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return reveal(v.SecretValue().Element)
	case v.IsOutput() && v.OutputValue().Known:
		return reveal(v.OutputValue().Element)
	case v.IsObject():
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			out[k] = reveal(e)
		}
		return resource.NewObjectProperty(out)
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]resource.PropertyValue, len(arr))
		for i, e := range arr {
			out[i] = reveal(e)
		}
		return resource.NewArrayProperty(out)
	}
	return v
}
