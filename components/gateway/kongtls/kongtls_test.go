package kongtls

import (
	"strings"
	"testing"
)

// TestProblems: what Kong 3.9.1 serves decides, not the names of the
// settings. The platform's own configuration (modern, TLSv1.3) passes.
func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		conf Config
		want []string // substrings, one per expected problem; none = compliant
	}{
		{"the platform's configuration", Config{"ssl_cipher_suite": "modern", "ssl_protocols": "TLSv1.3"}, nil},
		{"modern alone", Config{"ssl_cipher_suite": "modern"}, nil},
		{"modern with an ignored protocol list", Config{"ssl_cipher_suite": "modern", "ssl_protocols": "TLSv1.2 TLSv1.3"}, nil},
		{"custom TLS 1.3 with nginx's default ciphers unused", Config{"ssl_cipher_suite": "custom", "ssl_protocols": "TLSv1.3"}, nil},
		{"custom TLS 1.3 with AEAD ciphers named", Config{"ssl_cipher_suite": "custom", "ssl_protocols": "TLSv1.3",
			"ssl_ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:!aNULL"}, nil},
		{"custom TLS 1.3 with full-tag TLS 1.3 suites", Config{"ssl_cipher_suite": "custom", "ssl_protocols": "TLSv1.3",
			"nginx_http_ssl_conf_command": "Ciphersuites TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"}, nil},

		// Each of these passed the gate before: it read ssl_protocols only.
		{"suite unset: Kong's intermediate", Config{"ssl_protocols": "TLSv1.3"},
			[]string{`Kong serves TLSv1.2 (ssl_cipher_suite "intermediate", which sets the protocols itself)`}},
		{"intermediate", Config{"ssl_cipher_suite": "intermediate", "ssl_protocols": "TLSv1.3"}, []string{"Kong serves TLSv1.2"}},
		{"old", Config{"ssl_cipher_suite": "old", "ssl_protocols": "TLSv1.3"},
			[]string{"Kong serves TLSv1, TLSv1.1, TLSv1.2", "offers ciphers without forward secrecy or AEAD over TLSv1, TLSv1.1, TLSv1.2: ECDHE-ECDSA-AES128-SHA256"}},
		{"fips", Config{"ssl_cipher_suite": "fips", "ssl_protocols": "TLSv1.3"},
			[]string{"Kong serves TLSv1.2", "TLSv1.2+FIPS, kRSA+FIPS"}},
		{"custom without protocols: Kong's default", Config{"ssl_cipher_suite": "custom"},
			[]string{"ssl_protocols unset: TLSv1.2 TLSv1.3", "over TLSv1.2: HIGH"}},
		{"custom TLS 1.3 with a stream override", Config{"ssl_cipher_suite": "custom", "ssl_protocols": "TLSv1.3", "nginx_stream_ssl_protocols": "TLSv1.2 TLSv1.3"},
			[]string{`nginx_stream_ssl_protocols "TLSv1.2 TLSv1.3"`, "HIGH"}},
		{"custom TLS 1.3 with CBC ciphers named", Config{"ssl_cipher_suite": "custom", "ssl_protocols": "TLSv1.3", "ssl_ciphers": "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"},
			[]string{"ssl_ciphers names ciphers without forward secrecy or AEAD: AES128-SHA"}},
		{"modern with a weak list Kong ignores", Config{"ssl_cipher_suite": "modern", "ssl_ciphers": "RC4-SHA"}, []string{"ssl_ciphers names ciphers without forward secrecy or AEAD: RC4-SHA"}},
		{"short-tag TLS 1.3 suite", Config{"ssl_cipher_suite": "modern", "nginx_http_ssl_conf_command": "Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_8_SHA256"},
			[]string{"without a full AEAD tag: TLS_AES_128_CCM_8_SHA256"}},
		{"OpenSSL protocol override", Config{"ssl_cipher_suite": "modern", "nginx_stream_ssl_conf_command": "MinProtocol TLSv1.2"},
			[]string{"nginx_stream_ssl_conf_command sets MinProtocol TLSv1.2"}},
		{"OpenSSL cipher override", Config{"ssl_cipher_suite": "modern", "nginx_http_ssl_conf_command": "CipherString DEFAULT:@SECLEVEL=0"},
			[]string{"overrides Kong's protocol and cipher settings"}},
		{"unknown suite", Config{"ssl_cipher_suite": "strong"}, []string{`ssl_cipher_suite "strong" is not one of Kong's suites`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.conf.Problems()
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d containing %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestWeakCiphers(t *testing.T) {
	tests := []struct{ ciphers, want string }{
		{"ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-CCM", ""},
		{"ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL:-MD5:+ECDHE-RSA-AES128-GCM-SHA256:@STRENGTH", ""},
		{"AES128-GCM-SHA256", "AES128-GCM-SHA256"}, // AEAD without forward secrecy
		{"ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256"},
		{"ECDHE-ECDSA-AES128-CCM8", "ECDHE-ECDSA-AES128-CCM8"},
		{"DEFAULT@SECLEVEL=2 ALL", "DEFAULT@SECLEVEL=2 ALL"},
		{"ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0", "@SECLEVEL=0"},
	}
	for _, tt := range tests {
		if got := strings.Join(WeakCiphers(tt.ciphers), " "); got != tt.want {
			t.Errorf("WeakCiphers(%q) = %q, want %q", tt.ciphers, got, tt.want)
		}
	}
}

// TestCipherSuiteIsACopy: callers cannot change Kong's table.
func TestCipherSuiteIsACopy(t *testing.T) {
	s, _ := CipherSuite("modern")
	s.Protocols[0] = "TLSv1"
	if again, _ := CipherSuite("modern"); again.Protocols[0] != "TLSv1.3" {
		t.Fatalf("modern now serves %v", again.Protocols)
	}
	if _, ok := CipherSuite(Custom); ok {
		t.Fatal("custom is not a named suite")
	}
}

func TestServedProtocols(t *testing.T) {
	for _, tt := range []struct{ suite, protocols, want string }{
		{"modern", "TLSv1.2", "TLSv1.3"},
		{"intermediate", "TLSv1.3", "TLSv1.2 TLSv1.3"},
		{"custom", " TLSv1.3  ", "TLSv1.3"},
		{"custom", "", "TLSv1.2 TLSv1.3"},
		{"strong", "TLSv1.3", ""},
	} {
		if got := ServedProtocols(tt.suite, tt.protocols); got != tt.want {
			t.Errorf("ServedProtocols(%q, %q) = %q, want %q", tt.suite, tt.protocols, got, tt.want)
		}
	}
}
