package rules

import "fmt"

// MaxKeyRotationSeconds is the longest transit key rotation accepted (30 days).
const MaxKeyRotationSeconds = 2592000

func vaultRules() []*Rule {
	transitKey := func(r Resource) bool { return r.Type == "vault:transit/secretBackendKey:SecretBackendKey" }
	return []*Rule{
		{
			Name:        "vault-keys-never-leave",
			Description: "Vault transit keys are never exportable, deletable or backed up in plaintext",
			Enforcement: mandatory,
			Controls:    keyManagement,
			Remediation: "set exportable, deletionAllowed and allowPlaintextBackup to false",
			Check: func(r Resource) (bool, []string) {
				if !transitKey(r) {
					return false, nil
				}
				var problems []string
				for _, field := range []string{"exportable", "deletionAllowed", "allowPlaintextBackup"} {
					if isTrue(r.Props, field) {
						problems = append(problems, fmt.Sprintf("key %s has %s: true", str(r.Props, "name"), field))
					}
				}
				return true, problems
			},
		},
		{
			Name:        "vault-key-rotation",
			Description: "Vault transit keys rotate at least every 30 days",
			Enforcement: mandatory,
			Controls:    keyManagement,
			Remediation: "set autoRotatePeriod to 2592000 seconds or less",
			Check: func(r Resource) (bool, []string) {
				if !transitKey(r) {
					return false, nil
				}
				n, ok := number(r.Props, "autoRotatePeriod")
				if !ok || n <= 0 || n > MaxKeyRotationSeconds {
					return true, []string{fmt.Sprintf("key %s rotates every %v seconds (want 1-%d)", str(r.Props, "name"), n, MaxKeyRotationSeconds)}
				}
				return true, nil
			},
		},
	}
}
