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
	unknownFields(&ps, path, reflect.TypeOf(dst).Elem(), over)
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

// unknownFields reports keys of v that the Go type t has no JSON field for,
// so a misspelt setting ("minsize") is an error instead of silently ignored.
func unknownFields(ps *validate.Problems, path string, t reflect.Type, v any) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return // a type error the decoder reports with its path
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
			unknownFields(ps, joinPath(path, key), ft, val)
		}
	case reflect.Map:
		if obj, ok := v.(map[string]any); ok {
			for key, val := range obj {
				unknownFields(ps, joinPath(path, key), t.Elem(), val)
			}
		}
	case reflect.Slice:
		if list, ok := v.([]any); ok {
			for i, val := range list {
				unknownFields(ps, fmt.Sprintf("%s[%d]", path, i), t.Elem(), val)
			}
		}
	}
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
