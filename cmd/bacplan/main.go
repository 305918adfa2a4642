// Command bacplan is the offline plan: it runs the real Pulumi program of
// every stack against Pulumi's mock engine and the stack's real config file,
// and prints what `pulumi up` would create. It needs no cloud credentials.
//
//	bacplan plan [--stack NAME]... [--json] [--dir DIR]
//
// Exit codes: 0 planned, 1 failed, 2 invalid configuration (problems on stderr).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// stackList collects repeated --stack flags.
type stackList []string

func (s *stackList) String() string     { return fmt.Sprint(*s) }
func (s *stackList) Set(v string) error { *s = append(*s, v); return nil }

func run(args []string, stdout, stderr io.Writer) int {
	usage := "usage: bacplan plan [--stack NAME]... [--json] [--dir DIR]"
	if len(args) == 0 || args[0] != "plan" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	flags := flag.NewFlagSet("plan", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var names stackList
	flags.Var(&names, "stack", "stack to plan (repeatable; default: every Pulumi.<stack>.yaml)")
	asJSON := flags.Bool("json", false, "print the plan in the shape of `pulumi preview --json`")
	dir := flags.String("dir", ".", "project directory holding Pulumi.yaml")
	if err := flags.Parse(args[1:]); err != nil {
		return 2
	}
	plans, notes, err := planStacks(*dir, names)
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
		return 0
	}
	for _, p := range plans {
		renderText(stdout, p)
	}
	return 0
}
