package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/validate"
)

// overlay decodes raw, a structured stack config value (JSON, as Pulumi hands
// objects to programs), onto dst, which already holds the defaults. Objects
// merge key by key, so a stack file names only what it changes; lists and
// scalars replace. Unknown settings and type mismatches are problems at their
// full config path.
func overlay(path, raw string, dst any) validate.Problems {
	var ps validate.Problems
	var over any
	if err := json.Unmarshal([]byte(raw), &over); err != nil {
		ps.Add(path, "is not a structured value: %v", err)
		return ps
	}
	checkShape(&ps, path, reflect.TypeOf(dst).Elem(), over)
	if len(ps) > 0 {
		return ps
	}
	baseJSON, err := json.Marshal(dst)
	if err != nil {
		ps.Add(path, "cannot encode defaults: %v", err)
		return ps
	}
	var base any
	if err := json.Unmarshal(baseJSON, &base); err != nil {
		ps.Add(path, "cannot decode defaults: %v", err)
		return ps
	}
	merged, err := json.Marshal(merge(base, over))
	if err != nil {
		ps.Add(path, "cannot merge: %v", err)
		return ps
	}
	fresh := reflect.New(reflect.TypeOf(dst).Elem())
	if err := json.Unmarshal(merged, fresh.Interface()); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			ps.Add(joinPath(path, typeErr.Field), "expected %s, got %s", typeErr.Type, typeErr.Value)
		} else {
			ps.Add(path, "%v", err)
		}
		return ps
	}
	reflect.ValueOf(dst).Elem().Set(fresh.Elem())
	return ps
}

// merge overlays over onto base: objects merge recursively, anything else replaces.
func merge(base, over any) any {
	b, bok := base.(map[string]any)
	o, ook := over.(map[string]any)
	if !bok || !ook {
		return over
	}
	out := make(map[string]any, len(b)+len(o))
	for k, v := range b {
		out[k] = v
	}
	for k, v := range o {
		out[k] = merge(b[k], v)
	}
	return out
}

// checkShape reports keys of v that the Go type t has no JSON field for, so a
// misspelt setting ("minsize") is an error instead of silently ignored, and
// values of the wrong JSON type, each at its full path.
func checkShape(ps *validate.Problems, path string, t reflect.Type, v any) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return // null resets to the zero value
	}
	mismatch := func(want string) { ps.Add(path, "expected %s, got %s", want, jsonType(v)) }
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			mismatch("an object")
			return
		}
		fields := jsonFields(t)
		for key, val := range obj {
			ft, known := fields[key]
			if !known {
				names := make([]string, 0, len(fields))
				for n := range fields {
					names = append(names, n)
				}
				sort.Strings(names)
				ps.Add(joinPath(path, key), "unknown setting; known settings are %s", strings.Join(names, ", "))
				continue
			}
			checkShape(ps, joinPath(path, key), ft, val)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			mismatch("an object")
			return
		}
		for key, val := range obj {
			checkShape(ps, joinPath(path, key), t.Elem(), val)
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			mismatch("a list")
			return
		}
		for i, val := range list {
			checkShape(ps, fmt.Sprintf("%s[%d]", path, i), t.Elem(), val)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			mismatch("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			mismatch("true or false")
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			mismatch("a whole number")
		}
	}
}

// jsonType names the JSON type of a decoded value for error messages.
func jsonType(v any) string {
	switch t := v.(type) {
	case string:
		return fmt.Sprintf("string %q", t)
	case float64:
		return fmt.Sprintf("number %v", t)
	case bool:
		return fmt.Sprintf("%v", t)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonFields maps a struct's JSON names to their types, skipping `json:"-"`.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

func joinPath(path, field string) string {
	if field == "" {
		return path
	}
	return path + "." + field
}
