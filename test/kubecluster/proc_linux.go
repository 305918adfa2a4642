package kubecluster

import "syscall"

// childProcAttr makes the kernel kill a control-plane process when the test
// binary that started it dies, even by SIGKILL (a `go test -timeout` or a
// cancelled CI job), so no etcd or API server outlives its test.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
