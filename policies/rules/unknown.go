package rules

import (
	"encoding/json"
	"sync/atomic"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Unknown stands in for a value the engine does not know yet. During a
// preview the outputs of resources that do not exist yet (a new stack's KMS
// key ARN) reach other resources' inputs as unknowns; at update time the
// engine registers each resource only once its inputs are known, and the
// same rule judges the real value then.
//
// One mechanism serves every rule: the reading helpers (Lookup and the typed
// helpers built on it, list elements included) count each unknown they
// meet, and Evaluate and Pack defer a verdict that read one instead of
// reporting it. An unknown a rule never reads defers nothing.
type Unknown struct{ reads *readCount }

// readCount counts the unknown values the rules read in one resource.
type readCount struct{ n atomic.Int64 }

// String renders an unknown value for messages.
func (Unknown) String() string { return "[unknown]" }

// seen records a read of v and reports whether v is unknown.
func seen(v any) bool {
	u, ok := v.(Unknown)
	if ok && u.reads != nil {
		u.reads.n.Add(1)
	}
	return ok
}

// Unknown returns the marker of an unknown value in r, for building
// resources whose values are not known yet (tests, other engines' data).
func (r Resource) Unknown() Unknown { return Unknown{r.reads} }

// unknownReads is how many unknown values the rules have read in r so far.
func (r Resource) unknownReads() int64 {
	if r.reads == nil {
		return 0
	}
	return r.reads.n.Load()
}

// secretMask stands for a secret's value wherever the rules must not see it.
const secretMask = "[secret]"

// NewResource builds a resource from plain JSON data, as a stack export or
// the engine's events hold it: the engine's unknown sentinel
// (plugin.UnknownStringValue) reads as Unknown, and provider inputs the
// engine keeps as JSON strings (defaultTags) are decoded.
func NewResource(urn, typ, name, parent string, props, providerProps map[string]any) Resource {
	r := Resource{URN: urn, Type: typ, Name: name, Parent: parent, reads: &readCount{}}
	u := r.Unknown()
	r.Props, _ = u.plainJSON(props).(map[string]any)
	if r.Props == nil {
		r.Props = map[string]any{}
	}
	if providerProps != nil {
		r.ProviderProps, _ = u.plainJSON(providerProps).(map[string]any)
		r.ProviderProps = decodeProviderProps(r.ProviderProps)
	}
	return r
}

func (u Unknown) plainJSON(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		if t == plugin.UnknownStringValue {
			return u
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = u.plainJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = u.plainJSON(e)
		}
		return out
	}
	return v
}

// FromProperties builds a resource from the engine's property maps (the
// offline plan's mock engine): secrets read as "[secret]", unknowns (also a
// secret whose value is unknown) as Unknown, resource references as their
// URN.
func FromProperties(urn, typ, name, parent string, props, providerProps resource.PropertyMap) Resource {
	r := Resource{URN: urn, Type: typ, Name: name, Parent: parent, reads: &readCount{}}
	u := r.Unknown()
	r.Props = u.propertyMap(props)
	if providerProps != nil {
		r.ProviderProps = decodeProviderProps(u.propertyMap(providerProps))
	}
	return r
}

func (u Unknown) propertyMap(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[string(k)] = u.propertyValue(v)
	}
	return out
}

func (u Unknown) propertyValue(v resource.PropertyValue) any {
	switch {
	case v.ContainsUnknowns() && !v.IsObject() && !v.IsArray():
		// A computed value, an unknown output, or a secret wrapping one.
		return u
	case v.IsSecret(), v.IsOutput() && v.OutputValue().Secret:
		return secretMask
	case v.IsOutput():
		return u.propertyValue(v.OutputValue().Element)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsObject():
		return u.propertyMap(v.ObjectValue())
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = u.propertyValue(e)
		}
		return out
	case v.IsNull():
		return nil
	case v.IsString():
		return u.plainJSON(v.StringValue())
	}
	return v.V
}

// FromAnalyzer converts a resource as the Pulumi engine hands it to a policy.
// Secrets are unwrapped (rules need the values; they never print them) and
// computed values read as Unknown.
func FromAnalyzer(r policyx.AnalyzerResource) Resource {
	res := Resource{URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, reads: &readCount{}}
	u := res.Unknown()
	res.Props = u.analyzerMap(r.Properties)
	res.ProviderProps = decodeProviderProps(u.analyzerMap(r.Provider.Properties))
	return res
}

func (u Unknown) analyzerMap(m property.Map) map[string]any {
	out := make(map[string]any, m.Len())
	for k, v := range m.All {
		out[k] = u.analyzerValue(v)
	}
	return out
}

func (u Unknown) analyzerValue(v property.Value) any {
	switch {
	case v.IsComputed():
		return u
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.AsBool()
	case v.IsNumber():
		return v.AsNumber()
	case v.IsString():
		return u.plainJSON(v.AsString())
	case v.IsArray():
		arr := v.AsArray()
		out := make([]any, 0, arr.Len())
		for _, e := range arr.All {
			out = append(out, u.analyzerValue(e))
		}
		return out
	case v.IsMap():
		return u.analyzerMap(v.AsMap())
	case v.IsResourceReference():
		return string(v.AsResourceReference().URN)
	}
	return nil
}

// decodeProviderProps decodes provider inputs the engine keeps as JSON
// strings: the engine passes a provider's object-valued config (the aws
// provider's defaultTags) to analyzers and to state as JSON text.
func decodeProviderProps(m map[string]any) map[string]any {
	for k, v := range m {
		if s, ok := v.(string); ok && len(s) > 0 && (s[0] == '{' || s[0] == '[') {
			var decoded any
			if json.Unmarshal([]byte(s), &decoded) == nil {
				m[k] = decoded
			}
		}
	}
	return m
}
