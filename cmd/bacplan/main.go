// Command bacplan is the offline plan and compliance gate: it runs the real
// Pulumi program of every stack against Pulumi's mock engine and the stack's
// real config file, prints what `pulumi up` would create, and runs the
// compliance policy pack over it. It needs no cloud credentials.
//
//	bacplan plan   [--stack NAME]... [--first-preview] [--json] [--dir DIR] [--policy-config FILE]
//	bacplan report  --stack NAME [--state FILE] [--out DIR] [--push URL] [--dir DIR] [--policy-config FILE]
//
// With --state the report covers a deployed stack: the file is the output of
// `pulumi stack export`, and no plan is made.
//
// With --first-preview the program runs as the first preview of a new stack
// (nothing exists yet: provider-computed outputs are unknown) and the gate
// must pass it too; checks that read an unknown value are deferred.
//
// Exit codes: 0 planned and compliant, 1 a mandatory rule failed (or the
// plan failed), 2 invalid configuration (problems on stderr, nothing else).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bac-platform/infra/policies/rules"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// stackList collects repeated --stack flags.
type stackList []string

func (s *stackList) String() string     { return fmt.Sprint(*s) }
func (s *stackList) Set(v string) error { *s = append(*s, v); return nil }

const usage = `usage:
  bacplan plan   [--stack NAME]... [--first-preview] [--json] [--dir DIR] [--policy-config FILE]
  bacplan report  --stack NAME [--state FILE] [--out DIR] [--push URL] [--dir DIR] [--policy-config FILE]`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "plan" && args[0] != "report") {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	flags.SetOutput(stderr)
	var names stackList
	flags.Var(&names, "stack", "stack to plan (repeatable; default: every Pulumi.<stack>.yaml)")
	asJSON := flags.Bool("json", false, "print the plan in the shape of `pulumi preview --json`")
	firstPreview := flags.Bool("first-preview", false, "plan: run as the first preview of a new stack (provider-computed outputs unknown)")
	dir := flags.String("dir", ".", "project directory holding Pulumi.yaml")
	policyConfig := flags.String("policy-config", "", "policy config JSON overriding enforcement levels (as --policy-pack-config)")
	out := flags.String("out", "compliance", "report: output directory")
	push := flags.String("push", "", "report: Prometheus Pushgateway URL to POST the metrics to")
	state := flags.String("state", "", "report: a file written by pulumi stack export: report on the deployed state instead of the plan")
	if err := flags.Parse(args[1:]); err != nil {
		return 2
	}
	levels, err := loadLevels(*policyConfig)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if args[0] == "report" && *firstPreview {
		fmt.Fprintln(stderr, "--first-preview is a plan option\n"+usage)
		return 2
	}
	if args[0] == "report" && len(names) != 1 {
		fmt.Fprintln(stderr, "report needs exactly one --stack\n"+usage)
		return 2
	}
	if *state != "" {
		if args[0] != "report" {
			fmt.Fprintln(stderr, "--state is a report option\n"+usage)
			return 2
		}
		return reportState(names[0], *state, levels, *out, *push, stdout, stderr)
	}
	plans, notes, err := planStacks(*dir, names, *firstPreview)
	if err != nil {
		fmt.Fprintln(stderr, err)
		if errors.Is(err, errConfig) {
			return 2
		}
		return 1
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	if args[0] == "report" {
		if err := writeReport(plans[0].Stack, "the offline plan", ruleResources(plans[0]), levels, *out, *push, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(plans) == 1 {
			err = enc.Encode(toPreviewJSON(plans[0]))
		} else {
			byStack := map[string]previewJSON{}
			for _, p := range plans {
				byStack[p.Stack] = toPreviewJSON(p)
			}
			err = enc.Encode(byStack)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	} else {
		for _, p := range plans {
			renderText(stdout, p)
		}
	}
	if gate(plans, levels, stderr) {
		return 1
	}
	return 0
}

// reportState reports on a deployed stack from its `pulumi stack export`.
func reportState(stack, path string, levels rules.Levels, out, push string, stdout, stderr io.Writer) int {
	raw, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "read state: %v\n", err)
		return 2
	}
	resources, err := rules.FromStackExport(raw)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return 2
	}
	if err := writeReport(stack, "the deployed state in "+filepath.Base(path), resources, levels, out, push, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
