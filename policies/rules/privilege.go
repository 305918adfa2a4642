package rules

import "fmt"

func privilegeRules() []*Rule {
	return []*Rule{
		{
			Name:        "privilege-no-root-or-privileged",
			Description: "Containers run unprivileged and not as root, unless a documented exception says why",
			Enforcement: mandatory,
			Controls:    withCIS(leastPrivilege, "4.2.1", "4.2.6"),
			Remediation: "drop privileged and runAsUser: 0, or annotate the workload with " + PrivilegedExceptionAnnotation + " and the reason",
			Check: func(r Resource) (bool, []string) {
				spec := podSpec(r)
				if spec == nil {
					return false, nil
				}
				if exception(r) != "" {
					return true, nil
				}
				var problems []string
				if n, ok := number(spec, "securityContext.runAsUser"); ok && n == 0 {
					problems = append(problems, fmt.Sprintf("%s: the pod runs as root (runAsUser 0)", workloadName(r)))
				}
				for _, c := range containers(spec) {
					name := str(c.spec, "name")
					if isTrue(c.spec, "securityContext.privileged") {
						problems = append(problems, fmt.Sprintf("%s: container %s is privileged", workloadName(r), name))
					}
					if isTrue(c.spec, "securityContext.allowPrivilegeEscalation") {
						problems = append(problems, fmt.Sprintf("%s: container %s allows privilege escalation", workloadName(r), name))
					}
					if n, ok := number(c.spec, "securityContext.runAsUser"); ok && n == 0 {
						problems = append(problems, fmt.Sprintf("%s: container %s runs as root (runAsUser 0)", workloadName(r), name))
					}
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
