package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
)

// publicKey is one verification key with what it may verify: an RSA key
// verifies RS* and PS*, an EC key only the ES* of its own curve.
type publicKey struct {
	kid string
	alg string // the JWK's "alg", when it pins one
	key any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// keySet is the public keys a Verifier knows, looked up per token.
type keySet []publicKey

// find returns the key for a token's kid and alg. With a kid, the key of that
// kid (a set whose keys carry no kid also matches when it has one key);
// without one, the only key that fits the algorithm.
func (ks keySet) find(kid, alg string) (any, error) {
	var found any
	n := 0
	for _, k := range ks {
		if kid != "" && k.kid != "" && k.kid != kid {
			continue
		}
		if !fits(k, alg) {
			continue
		}
		found = k.key
		n++
	}
	switch {
	case n == 1:
		return found, nil
	case n == 0 && kid != "":
		return nil, fmt.Errorf("no key with kid %q for %s", kid, alg)
	case n == 0:
		return nil, errNoKey
	default:
		return nil, errors.New("several keys fit and the token names no kid")
	}
}

func fits(k publicKey, alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch key := k.key.(type) {
	case *rsa.PublicKey:
		return alg[:2] == "RS" || alg[:2] == "PS"
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return key.Curve == elliptic.P256()
		case "ES384":
			return key.Curve == elliptic.P384()
		case "ES512":
			return key.Curve == elliptic.P521()
		}
	}
	return false
}

// pemKey reads one PEM public key: a PKIX "PUBLIC KEY", a PKCS#1 "RSA
// PUBLIC KEY", or a certificate whose key is used.
func pemKey(field string, text []byte) (keySet, error) {
	block, _ := pem.Decode(text)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block found", field)
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("%s: a %q PEM block is not a public key (a private key must never be configured here)", field, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	switch key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return nil, fmt.Errorf("%s: %T keys are not supported (RSA or EC)", field, key)
	}
	return keySet{{key: key}}, nil
}

// jwk is the part of RFC 7517/7518 a verification key needs.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// loadJWKS reads a local JWKS file once, at start. Keys meant for
// encryption ("use": "enc") are skipped; an unusable key is an error naming
// its index, not a silent gap.
func loadJWKS(path string) (keySet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwt_auth.jwks_file: %w", err)
	}
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("jwt_auth.jwks_file %s: %w", path, err)
	}
	var ks keySet
	for i, k := range doc.Keys {
		if k.Use == "enc" {
			continue
		}
		key, err := k.public()
		if err != nil {
			return nil, fmt.Errorf("jwt_auth.jwks_file %s: keys[%d]: %w", path, i, err)
		}
		ks = append(ks, publicKey{kid: k.Kid, alg: k.Alg, key: key})
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("jwt_auth.jwks_file %s: no signature verification keys", path)
	}
	return ks, nil
}

func (k jwk) public() (any, error) {
	switch k.Kty {
	case "RSA":
		n, err := b64int(k.N, "n")
		if err != nil {
			return nil, err
		}
		e, err := b64int(k.E, "e")
		if err != nil {
			return nil, err
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, errors.New("e is out of range")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("crv %q is not supported", k.Crv)
		}
		x, err := b64int(k.X, "x")
		if err != nil {
			return nil, err
		}
		y, err := b64int(k.Y, "y")
		if err != nil {
			return nil, err
		}
		// Through the uncompressed point encoding, so a point off the curve
		// is refused here rather than at the first token.
		size := (curve.Params().BitSize + 7) / 8
		if len(x.Bytes()) > size || len(y.Bytes()) > size {
			return nil, errors.New("x or y is too long for the curve")
		}
		pt := make([]byte, 1+2*size)
		pt[0] = 4
		x.FillBytes(pt[1 : 1+size])
		y.FillBytes(pt[1+size:])
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, pt)
		if err != nil {
			return nil, err
		}
		return pub, nil
	case "":
		return nil, errors.New("kty is missing")
	default:
		return nil, fmt.Errorf("kty %q is not supported (RSA or EC)", k.Kty)
	}
}

func b64int(s, name string) (*big.Int, error) {
	if s == "" {
		return nil, fmt.Errorf("%s is missing", name)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64url: %w", name, err)
	}
	return new(big.Int).SetBytes(b), nil
}
