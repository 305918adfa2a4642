package rules

import (
	"strconv"
	"strings"
)

// Lookup returns the value at a dotted path in plain JSON data, such as
// "scalingConfig.minSize", "taints[0].effect" or
// "metadata.annotations.konghq.com/plugins" (keys may contain dots: the
// longest run of path parts naming a key wins); nil when absent. Anything
// below a masked secret ("[secret]") reads as the mask, anything below an
// Unknown as that Unknown (and the read is recorded, see Unknown).
func Lookup(v any, path string) any {
	if path == "" {
		seen(v)
		return v
	}
	return lookup(v, strings.Split(path, "."))
}

func lookup(cur any, parts []string) any {
	if seen(cur) || len(parts) == 0 || cur == secretMask {
		return cur
	}
	obj, ok := cur.(map[string]any)
	if !ok {
		return nil
	}
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
				continue
			}
			if seen(v) {
				return v
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

// str returns the string at path, or "".
func str(v any, path string) string { s, _ := Lookup(v, path).(string); return s }

// isTrue reports whether the value at path is true (or "true").
func isTrue(v any, path string) bool {
	switch b := Lookup(v, path).(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}

// list returns the list at path, or nil. Reading a list reads its
// elements: an unknown element is recorded (see Unknown).
func list(v any, path string) []any {
	l, _ := Lookup(v, path).([]any)
	for _, e := range l {
		seen(e)
	}
	return l
}

// strings returns the strings of the list at path.
func stringsAt(v any, path string) []string {
	var out []string
	for _, e := range list(v, path) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// number returns the number at path and whether there is one.
func number(v any, path string) (float64, bool) {
	switch n := Lookup(v, path).(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}
