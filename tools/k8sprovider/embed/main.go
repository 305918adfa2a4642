// Command embed writes the two files the provider command embeds, from the
// schema and Terraform mapping the provider module ships, the way the
// module's own go:generate step does: the schema compacted with the version
// set, the mapping compacted.
//
//	go run ./embed -from <module>/cmd/pulumi-resource-kubernetes -version V -out DIR
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	from := flag.String("from", "", "the provider module's cmd/pulumi-resource-kubernetes directory")
	version := flag.String("version", "", "the version the schema reports")
	out := flag.String("out", ".", "where to write the embedded files")
	flag.Parse()
	if err := run(*from, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

func run(from, version, out string) error {
	if from == "" || version == "" {
		return fmt.Errorf("-from and -version are required")
	}
	// The schema is kept as a generic document: only its version changes,
	// every other field passes through untouched.
	var schema map[string]json.RawMessage
	if err := readJSON(filepath.Join(from, "schema.json"), &schema); err != nil {
		return err
	}
	v, err := json.Marshal(version)
	if err != nil {
		return err
	}
	schema["version"] = v
	if err := writeJSON(filepath.Join(out, "schema-embed.json"), schema); err != nil {
		return err
	}
	var mapping any
	if err := readJSON(filepath.Join(from, "terraform-mapping.json"), &mapping); err != nil {
		return err
	}
	return writeJSON(filepath.Join(out, "terraform-mapping-embed.json"), mapping)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, data, 0o644)
}
