package main

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bac-platform/infra/components/validate"
	"github.com/bac-platform/infra/stacks"
	"github.com/bac-platform/infra/stacks/mockengine"
	"github.com/bac-platform/infra/stacks/pipeline"
	"github.com/bac-platform/infra/stacks/stackfile"
)

// Plan is what the offline engine planned for one stack.
type Plan struct {
	Stack     string
	Config    stacks.Config
	Resources []mockengine.Resource
	// FirstPreview marks the plan of a new stack's first preview: outputs
	// of resources not yet created are unknown (mockengine.PreviewStack).
	FirstPreview bool
}

// errConfig marks invalid configuration (exit code 2).
var errConfig = errors.New("invalid configuration")

// configError wraps problems so main can tell bad config from other failures.
type configError struct{ problems validate.Problems }

func (e configError) Error() string { return e.problems.Error() }
func (e configError) Unwrap() error { return errConfig }

// loadStacks reads and validates the named stacks of the project in dir. The
// network check compares every stack file in dir, so a new region cannot
// reuse another region's CIDR even when planned alone.
func loadStacks(dir string, names []string) (string, map[string]stackfile.File, map[string]stacks.Config, []string, error) {
	project, err := stackfile.ProjectName(dir)
	if err != nil {
		return "", nil, nil, nil, err
	}
	all, err := stackfile.Names(dir)
	if err != nil {
		return "", nil, nil, nil, err
	}
	if len(names) == 0 {
		names = all
	}
	files := map[string]stackfile.File{}
	configs := map[string]stacks.Config{}
	var problems validate.Problems
	var notes, broken []string
	for _, name := range all {
		sf, err := stackfile.Read(dir, project, name)
		var parseErr *stackfile.ParseError
		if errors.As(err, &parseErr) {
			// A broken file is a configuration problem; the others are still checked.
			problems.Extend(parseErr.Problems)
			broken = append(broken, name)
			continue
		}
		if err != nil {
			return "", nil, nil, nil, err
		}
		// Secrets are set per stack with `pulumi config set --secret`; the
		// plan stands in placeholders for the ones a stack file lacks.
		offline, ps := stacks.PrepareOffline(sf)
		sf, cfg, missing := offline.File, offline.Config, offline.Placeholders
		files[name], configs[name] = sf, cfg
		if slices.Contains(names, name) && len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("%s: planned with %s for secrets it does not set (%s); "+
				"set each with `pulumi config set --secret` before pulumi up", sf.Path, stackfile.SecretPlaceholder, strings.Join(missing, ", ")))
		}
		if slices.Contains(names, name) {
			for _, p := range ps {
				problems.Add(sf.Path+": "+p.Path, "%s", p.Message)
			}
		}
	}
	for _, name := range names {
		if _, ok := files[name]; !ok && !slices.Contains(broken, name) {
			return "", nil, nil, nil, fmt.Errorf("no stack %q: %s has no Pulumi.%s.yaml (stacks: %v)", name, dir, name, all)
		}
	}
	problems.Extend(stacks.CheckOverlaps(configs))
	// The workflows must reach every cluster they deploy.
	reach := map[string]pipeline.Stack{}
	for name, cfg := range configs {
		reach[name] = pipeline.Stack{OnAWS: !cfg.ExistingCluster(), RunnerCIDRs: cfg.Cluster.RunnerCIDRs}
	}
	pipelineProblems, err := pipeline.Check(dir, reach)
	if err != nil {
		return "", nil, nil, nil, err
	}
	problems.Extend(pipelineProblems)
	if len(problems) > 0 {
		return "", nil, nil, nil, configError{problems}
	}
	selected := map[string]stacks.Config{}
	for _, n := range names {
		selected[n] = configs[n]
	}
	return project, files, selected, notes, nil
}

// planStacks runs the real program for each stack with the mock engine, as
// the first preview of a new stack when firstPreview is set. The notes name
// secrets the stack files leave to `pulumi config set --secret`.
func planStacks(dir string, names []string, firstPreview bool) ([]Plan, []string, error) {
	project, files, configs, notes, err := loadStacks(dir, names)
	if err != nil {
		return nil, nil, err
	}
	order := make([]string, 0, len(configs))
	for n := range configs {
		order = append(order, n)
	}
	sort.Strings(order)
	var plans []Plan
	for _, name := range order {
		cfg := configs[name]
		run := mockengine.RunStack
		if firstPreview {
			run = mockengine.PreviewStack
		}
		m, err := run(stacks.Program, project, cfg.Region, files[name])
		if err != nil {
			return nil, nil, fmt.Errorf("stack %s: %w", name, err)
		}
		plans = append(plans, Plan{Stack: name, Config: cfg, Resources: m.Resources(), FirstPreview: firstPreview})
	}
	return plans, notes, nil
}
