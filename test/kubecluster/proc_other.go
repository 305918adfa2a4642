//go:build !linux

package kubecluster

import "syscall"

// childProcAttr is empty where the kernel offers no parent-death signal:
// the test's cleanup still stops every process.
func childProcAttr() *syscall.SysProcAttr { return nil }
