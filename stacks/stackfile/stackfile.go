// Package stackfile reads Pulumi.<stack>.yaml files the way the Pulumi CLI hands
// their config to a program: values by full key, structured values as JSON,
// secure values masked.
package stackfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/validate"
	"gopkg.in/yaml.v3"
)

// SecretPlaceholder stands in for a secure config value wherever the real
// value is not available (the offline plan has no decryption key).
const SecretPlaceholder = "[secret]"

// File is a Pulumi.<stack>.yaml read the way the Pulumi CLI hands it to
// a program: values by full key, structured values as JSON.
type File struct {
	// Stack is the stack name (prod-us-east-1).
	Stack string
	// Path is the file's path.
	Path string
	// Values are the config values by full key ("bac:cluster").
	Values map[string]string
	// SecretKeys are the keys whose values are secure (shown as [secret]).
	SecretKeys []string
}

// ProjectName reads the project name from dir/Pulumi.yaml.
func ProjectName(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return "", fmt.Errorf("read project file: %w", err)
	}
	var project struct {
		Name string `yaml:"name"`
	}
	if err := yaml.Unmarshal(raw, &project); err != nil {
		return "", fmt.Errorf("parse Pulumi.yaml: %w", err)
	}
	if project.Name == "" {
		return "", fmt.Errorf("Pulumi.yaml in %s has no name", dir)
	}
	return project.Name, nil
}

// Names lists the stacks that have a Pulumi.<stack>.yaml in dir, sorted.
func Names(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "Pulumi."), ".yaml"))
	}
	sort.Strings(names)
	return names, nil
}

// Read reads dir/Pulumi.<stack>.yaml of project. Keys without a
// namespace belong to the project, as in the Pulumi CLI.
func Read(dir, project, stack string) (File, error) {
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("read stack %s: %w", stack, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return File{}, syntaxError(path, err)
	}
	if dups := duplicateKeys(path, &root); len(dups) > 0 {
		return File{}, &ParseError{Problems: dups}
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := root.Decode(&doc); err != nil {
		return File{}, syntaxError(path, err)
	}
	sf := File{Stack: stack, Path: path, Values: map[string]string{}}
	for key, value := range doc.Config {
		if !strings.Contains(key, ":") {
			key = project + ":" + key
		}
		if isSecure(value) {
			sf.Values[key] = SecretPlaceholder
			sf.SecretKeys = append(sf.SecretKeys, key)
			continue
		}
		text, secret, err := configString(value)
		if err != nil {
			return File{}, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		sf.Values[key] = text
		if secret {
			sf.SecretKeys = append(sf.SecretKeys, key)
		}
	}
	sort.Strings(sf.SecretKeys)
	return sf, nil
}

// ParseError is a stack file that is not valid YAML or repeats a key: a
// configuration error like any other, each problem named by file and line.
type ParseError struct {
	Problems validate.Problems
}

func (e *ParseError) Error() string { return e.Problems.Error() }

// syntaxError turns a YAML parser error into a ParseError at its line: the
// parser reports "yaml: line N: message" (or a list of such lines for type
// errors).
func syntaxError(path string, err error) error {
	var ps validate.Problems
	var typeErr *yaml.TypeError
	messages := []string{err.Error()}
	if errors.As(err, &typeErr) {
		messages = typeErr.Errors
	}
	for _, msg := range messages {
		msg = strings.TrimPrefix(msg, "yaml: ")
		var line int
		if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
			_, text, _ := strings.Cut(msg, ":")
			if parserProblem(text) {
				line++
			}
			ps.Add(fmt.Sprintf("%s:%d", path, line), "invalid YAML:%s", text)
		} else {
			ps.Add(path, "invalid YAML: %s", msg)
		}
	}
	return &ParseError{Problems: ps}
}

// parserProblem reports whether a YAML error message is the parser's
// rather than the scanner's: gopkg.in/yaml.v3 v3.0.1 (decode.go,
// parser.fail) reports a scanner error at its 1-based line but a parser
// error at the 0-based line of the construct it was parsing (an unclosed
// { or [ ...), so that line is one more.
func parserProblem(text string) bool {
	text = strings.TrimSpace(text)
	for _, prefix := range []string{"did not find expected", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"} {
		if strings.HasPrefix(text, prefix) {
			return true
		}
	}
	return false
}

// duplicateKeys reports every mapping key that appears twice in one
// mapping, at the line of its repetition: YAML forbids it, and which value
// would win is a parser's choice.
func duplicateKeys(path string, n *yaml.Node) validate.Problems {
	var ps validate.Problems
	if n.Kind == yaml.MappingNode {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if first, dup := seen[k.Value]; dup {
				ps.Add(fmt.Sprintf("%s:%d", path, k.Line), "key %q is already set at line %d", k.Value, first)
			} else {
				seen[k.Value] = k.Line
			}
		}
	}
	for _, c := range n.Content {
		ps.Extend(duplicateKeys(path, c))
	}
	return ps
}

// isSecure reports whether a config value is an encrypted {secure: ...} value.
func isSecure(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	_, ok = m["secure"]
	return ok
}

// configString renders a config value as the CLI passes it: scalars as text,
// objects and lists as JSON with nested secure values replaced by the
// placeholder (the whole value then counts as secret).
func configString(v any) (string, bool, error) {
	switch t := v.(type) {
	case string:
		return t, false, nil
	case map[string]any, []any:
		secret := false
		out, err := json.Marshal(maskSecure(t, &secret))
		return string(out), secret, err
	case nil:
		return "", false, nil
	default:
		return fmt.Sprint(t), false, nil
	}
}

func maskSecure(v any, secret *bool) any {
	if isSecure(v) {
		*secret = true
		return SecretPlaceholder
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = maskSecure(e, secret)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = maskSecure(e, secret)
		}
		return out
	}
	return v
}
