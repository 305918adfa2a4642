package rules

import "fmt"

func privilegeRules() []*Rule {
	return []*Rule{
		{
			Name:        "privilege-no-root-or-privileged",
			Description: "Containers run unprivileged and not as root, unless a documented exception says why",
			Enforcement: mandatory,
			Controls:    withCIS(leastPrivilege, "4.2.1", "4.2.5", "4.2.6"),
			Remediation: "set runAsNonRoot: true (or runAsUser > 0) and allowPrivilegeEscalation: false, drop privileged, or annotate the workload with " + PrivilegedExceptionAnnotation + " and the reason",
			Check: func(r Resource) (bool, []string) {
				spec := podSpec(r)
				if spec == nil {
					return false, nil
				}
				if exception(r) != "" {
					return true, nil
				}
				var problems []string
				for _, c := range containers(spec) {
					problems = append(problems, containerPrivilege(workloadName(r), spec, c)...)
				}
				return true, problems
			},
		},
		{
			Name:        "privilege-no-host-namespaces",
			Description: "Pods do not share the host's network, PID or IPC namespaces, unless a documented exception says why",
			Enforcement: mandatory,
			Controls:    withCIS(leastPrivilege, "4.2.2", "4.2.3", "4.2.4"),
			Remediation: "remove hostNetwork/hostPID/hostIPC, or annotate the workload with " + PrivilegedExceptionAnnotation + " and the reason",
			Check: func(r Resource) (bool, []string) {
				spec := podSpec(r)
				if spec == nil {
					return false, nil
				}
				if exception(r) != "" {
					return true, nil
				}
				var problems []string
				for _, ns := range []string{"hostNetwork", "hostPID", "hostIPC"} {
					if isTrue(spec, ns) {
						problems = append(problems, fmt.Sprintf("%s uses %s", workloadName(r), ns))
					}
				}
				return true, problems
			},
		},
	}
}

// containerPrivilege explains how one container may gain privileges. A
// container setting overrides the pod's (PodSecurityContext documents
// runAsUser and runAsNonRoot as defaults for every container), and an unset
// allowPrivilegeEscalation lets a process gain more privileges than its
// parent (no_new_privs is only set when it is false), so it must be false
// explicitly.
func containerPrivilege(workload string, pod map[string]any, c container) []string {
	name := str(c.spec, "name")
	var problems []string
	if isTrue(c.spec, "securityContext.privileged") {
		problems = append(problems, fmt.Sprintf("%s: container %s is privileged", workload, name))
	}
	switch ape := Lookup(c.spec, "securityContext.allowPrivilegeEscalation"); {
	case ape == true || ape == "true":
		problems = append(problems, fmt.Sprintf("%s: container %s allows privilege escalation", workload, name))
	case ape != false && ape != "false":
		problems = append(problems, fmt.Sprintf("%s: container %s does not set allowPrivilegeEscalation: false (unset means allowed)", workload, name))
	}
	user, hasUser := number(c.spec, "securityContext.runAsUser")
	from := ""
	if !hasUser {
		user, hasUser = number(pod, "securityContext.runAsUser")
		from = " from the pod"
	}
	nonRoot := Lookup(c.spec, "securityContext.runAsNonRoot")
	if nonRoot == nil {
		nonRoot = Lookup(pod, "securityContext.runAsNonRoot")
	}
	switch {
	case hasUser && user == 0:
		problems = append(problems, fmt.Sprintf("%s: container %s runs as root (runAsUser 0%s)", workload, name, from))
	case (hasUser && user > 0) || nonRoot == true || nonRoot == "true":
	default:
		problems = append(problems, fmt.Sprintf("%s: container %s may run as root: set runAsNonRoot: true or runAsUser > 0", workload, name))
	}
	return problems
}
