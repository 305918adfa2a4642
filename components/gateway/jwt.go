package gateway

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/bac-platform/infra/components/kube"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// JWTIssuer is the Kong consumer that the jwt plugin matches tokens of the
// identity realm to, with the credential holding the realm's public key.
// Without it every route with the jwt plugin answers 401: the plugin finds
// the credential by the token's key claim and verifies the signature with
// that credential's key.
type JWTIssuer struct {
	pulumi.ResourceState
}

// JWTIssuerArgs configures the issuer's consumer.
type JWTIssuerArgs struct {
	// Namespace holds the consumer and its credential Secret (the gateway's).
	Namespace string
	// Issuer is the realm's issuer URL: the tokens' iss claim, which the
	// jwt plugin reads as the credential key (JWT.KeyClaimName "iss").
	Issuer string
	// PublicKeyPEM is the realm's active RS256 public key in PEM form
	// (identity.SigningKey, PublicKeyPEM).
	PublicKeyPEM pulumi.StringInput
}

// Names of the consumer and its credential Secret.
const (
	JWTConsumerName   = "bac-realm"
	JWTCredentialName = "bac-realm-jwt"
)

// NewJWTIssuer creates the consumer and its JWT credential. KIC 3.5 reads
// credentials from Secrets labelled konghq.com/credential (the kongCredType
// data key was removed in KIC 3.2), and an RS256 credential carries key,
// algorithm and rsa_public_key, no secret (KIC v3.5.13
// internal/admission/validation/consumers/credentials).
func NewJWTIssuer(ctx *pulumi.Context, name string, args JWTIssuerArgs, opts ...pulumi.ResourceOption) (*JWTIssuer, error) {
	if args.Namespace == "" || args.Issuer == "" || args.PublicKeyPEM == nil {
		return nil, errors.New("args.Namespace, args.Issuer and args.PublicKeyPEM are required")
	}
	j := &JWTIssuer{}
	if err := ctx.RegisterComponentResource("bac:gateway:JWTIssuer", name, j, opts...); err != nil {
		return nil, err
	}
	parent := kube.ChildOf(j, opts)
	meta := kube.Metadata(JWTCredentialName, args.Namespace, map[string]string{"konghq.com/credential": "jwt"})
	credential, err := corev1.NewSecret(ctx, name+"-credential", &corev1.SecretArgs{
		Metadata: meta,
		Type:     pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			"key":            pulumi.String(args.Issuer),
			"algorithm":      pulumi.String("RS256"),
			"rsa_public_key": args.PublicKeyPEM,
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("jwt credential: %w", err)
	}
	consumer := kube.Metadata(JWTConsumerName, args.Namespace, nil)
	consumer.Annotations = pulumi.StringMap{"kubernetes.io/ingress.class": pulumi.String(IngressClass)}
	if _, err := apiextensions.NewCustomResource(ctx, name+"-consumer", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("configuration.konghq.com/v1"),
		Kind:       pulumi.String("KongConsumer"),
		Metadata:   consumer,
		OtherFields: kubernetes.UntypedArgs{
			"username":    JWTConsumerName,
			"credentials": []string{JWTCredentialName},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{credential})); err != nil {
		return nil, fmt.Errorf("jwt consumer: %w", err)
	}
	if err := ctx.RegisterResourceOutputs(j, pulumi.Map{}); err != nil {
		return nil, err
	}
	return j, nil
}

// PublicKeyPEM turns a public key as Keycloak publishes it (base64 of the
// DER SubjectPublicKeyInfo, the realm keys' publicKey) into the PEM the jwt
// plugin's rsa_public_key takes. Anything but an RSA key is an error.
func PublicKeyPEM(base64DER string) (string, error) {
	der, err := base64.StdEncoding.DecodeString(base64DER)
	if err != nil {
		return "", fmt.Errorf("public key is not base64: %w", err)
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return "", fmt.Errorf("public key: %w", err)
	}
	if _, ok := key.(*rsa.PublicKey); !ok {
		return "", fmt.Errorf("public key is %T, not RSA", key)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
