package rules

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

// Shorthands for the two enforcement levels.
const (
	mandatory = policyx.EnforcementLevelMandatory
	advisory  = policyx.EnforcementLevelAdvisory
)

// Control sets shared by several rules. ISO 27001 ids are Annex A of the
// 2022 edition (the seed's A.10.1.1-style ids are the withdrawn 2013 ones).
var (
	encryptionAtRest = Controls{
		SOC2: []string{"CC6.1", "CC6.7"}, ISO27001: []string{"A.8.24"},
		GDPR: []string{"Art. 32(1)(a)"}, HIPAA: []string{"164.312(a)(2)(iv)"},
	}
	transmissionSecurity = Controls{
		SOC2: []string{"CC6.6", "CC6.7"}, ISO27001: []string{"A.8.20", "A.8.24"},
		GDPR: []string{"Art. 32(1)(a)"}, HIPAA: []string{"164.312(e)(1)", "164.312(e)(2)(ii)"},
	}
	leastPrivilege = Controls{
		SOC2: []string{"CC6.3"}, ISO27001: []string{"A.8.2", "A.8.18"},
		GDPR: []string{"Art. 25", "Art. 32(1)(b)"}, HIPAA: []string{"164.312(a)(1)"},
	}
	networkSegregation = Controls{
		SOC2: []string{"CC6.6"}, ISO27001: []string{"A.8.20", "A.8.22"},
		GDPR: []string{"Art. 32(1)(b)"}, HIPAA: []string{"164.312(e)(1)"},
	}
	authentication = Controls{
		SOC2: []string{"CC6.1", "CC6.2"}, ISO27001: []string{"A.5.17", "A.8.5"},
		GDPR: []string{"Art. 32(1)(b)"}, HIPAA: []string{"164.312(d)", "164.308(a)(5)(ii)(D)"},
	}
	keyManagement = Controls{
		SOC2: []string{"CC6.1"}, ISO27001: []string{"A.8.24"},
		GDPR: []string{"Art. 32(1)(a)"}, HIPAA: []string{"164.312(a)(2)(iv)", "164.312(e)(2)(ii)"},
	}
	changeIntegrity = Controls{
		SOC2: []string{"CC7.1", "CC8.1"}, ISO27001: []string{"A.8.8", "A.8.32"},
		GDPR: []string{"Art. 32(1)(b)"}, HIPAA: []string{"164.308(a)(1)(ii)(A)"},
	}
	availability = Controls{
		SOC2: []string{"A1.1", "CC7.2"}, ISO27001: []string{"A.8.6"},
		GDPR: []string{"Art. 32(1)(b)"}, HIPAA: []string{"164.308(a)(7)(i)"},
	}
	assetInventory = Controls{
		SOC2: []string{"CC6.1"}, ISO27001: []string{"A.5.9", "A.5.12"},
		GDPR: []string{"Art. 30"}, HIPAA: []string{"164.310(d)(1)"},
	}
)
