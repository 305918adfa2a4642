package mocks

import (
	"sort"
	"strconv"
	"strings"

	"github.com/bac-platform/infra/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Input returns the plain value of an input at a dotted path such as
// "scalingConfig.minSize", "taints[0].effect" or
// "metadata.annotations.konghq.com/plugins" (keys may contain dots); nil when
// absent. Anything below a secret reads as "[secret]".
func (r Resource) Input(path string) any {
	return lookup(PlainMap(r.Inputs), strings.Split(path, "."))
}

// IsSecretInput reports whether the input at a top-level key is a secret.
func (r Resource) IsSecretInput(key string) bool {
	v, ok := r.Inputs[resource.PropertyKey(key)]
	return ok && (v.IsSecret() || (v.IsOutput() && v.OutputValue().Secret))
}

func lookup(cur any, parts []string) any {
	if len(parts) == 0 || cur == stacks.SecretPlaceholder {
		return cur
	}
	obj, ok := cur.(map[string]any)
	if !ok {
		return nil
	}
	// The longest run of parts that names a key wins, so keys with dots work.
	for n := len(parts); n >= 1; n-- {
		segment := strings.Join(parts[:n], ".")
		name, index, hasIndex := strings.Cut(segment, "[")
		v, found := obj[name]
		if !found {
			continue
		}
		if hasIndex {
			i, err := strconv.Atoi(strings.TrimSuffix(index, "]"))
			if err != nil || !strings.HasSuffix(index, "]") {
				continue // the "[" belongs to a longer run; try a shorter one
			}
			list, ok := v.([]any)
			if !ok || i < 0 || i >= len(list) {
				return nil
			}
			v = list[i]
		}
		return lookup(v, parts[n:])
	}
	return nil
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
		return stacks.SecretPlaceholder
	case v.IsComputed():
		return "[unknown]"
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return stacks.SecretPlaceholder
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
