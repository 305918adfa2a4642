// Package services lists the platform's business services, the one registry
// the gateway routes, mesh policies, GraphQL subgraphs and GitOps apps share.
package services

import (
	"fmt"

	"github.com/bac-platform/infra/components/kube"
	"github.com/bac-platform/infra/components/validate"
)

// Service is one business service.
type Service struct {
	// Name is the short name (crm).
	Name string `json:"name"`
	// Namespace is the service's own namespace (crm).
	Namespace string `json:"namespace"`
	// ServiceName is the Kubernetes Service and the pods' app label (crm-service).
	ServiceName string `json:"serviceName"`
	// Port is the HTTP port the service listens on.
	Port int `json:"port"`
}

// Host is the service's in-cluster DNS name.
func (s Service) Host() string { return kube.ServiceHost(s.ServiceName, s.Namespace) }

// Default returns the architecture document's five services (sections 1.2,
// 2.1): CRM, ERP, e-commerce, analytics and users, each on port 8080.
func Default() []Service {
	return []Service{
		{Name: "crm", Namespace: "crm", ServiceName: "crm-service", Port: 8080},
		{Name: "erp", Namespace: "erp", ServiceName: "erp-service", Port: 8080},
		{Name: "ecommerce", Namespace: "ecommerce", ServiceName: "ecommerce-service", Port: 8080},
		{Name: "analytics", Namespace: "analytics", ServiceName: "analytics-service", Port: 8080},
		{Name: "users", Namespace: "users", ServiceName: "user-service", Port: 8080},
	}
}

// Validate checks every service's names and port, and that names,
// namespaces and Service names are unique: two services in one namespace
// would share its zero-trust policies and its GitOps Application's target.
func Validate(path string, list []Service) validate.Problems {
	var ps validate.Problems
	names, namespaces, serviceNames := map[string]int{}, map[string]int{}, map[string]int{}
	for i, s := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		kube.ValidateName(&ps, p+".name", s.Name)
		kube.ValidateNamespace(&ps, p+".namespace", s.Namespace)
		kube.ValidateName(&ps, p+".serviceName", s.ServiceName)
		if s.Port < 1 || s.Port > 65535 {
			ps.Add(p+".port", "%d is not a port", s.Port)
		}
		for _, u := range []struct {
			field, value string
			seen         map[string]int
		}{{"name", s.Name, names}, {"namespace", s.Namespace, namespaces}, {"serviceName", s.ServiceName, serviceNames}} {
			if first, dup := u.seen[u.value]; dup {
				ps.Add(p+"."+u.field, "%q is also %s[%d]'s; every service needs its own", u.value, path, first)
				continue
			}
			u.seen[u.value] = i
		}
	}
	return ps
}
