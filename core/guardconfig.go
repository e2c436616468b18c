package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spikard/spikard/core/auth"
	"github.com/spikard/spikard/core/ratelimit"
)

// Override is a route's choice about one of the app's guards (JWT, API
// keys, rate limit; see guard.go): its own configuration in place of the
// app's (Own), none at all (Off), or, zero, the app's.
type Override[T any] struct {
	Own *T
	Off bool
}

// parseGuard reads a config or route value of "jwt_auth", "api_key_auth"
// or "rate_limit": an object of T's keys plus an optional "enabled" (false
// turns the guard off, as the fixture corpus writes it), or, on a route,
// false. Unknown keys are refused by name; check validates the values, with
// messages naming the field ("jwt_auth.secret is required for HS256").
func parseGuard[T any](raw json.RawMessage, routeLevel bool, check func(*T) error) (Override[T], error) {
	var o Override[T]
	t := bytes.TrimSpace(raw)
	if bytes.Equal(t, []byte("false")) {
		if !routeLevel {
			return o, errors.New("must be an object (leave the key out for none)")
		}
		o.Off = true
		return o, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil || m == nil {
		if routeLevel {
			return o, errors.New("must be an object or false")
		}
		return o, errors.New("must be an object")
	}
	if e, ok := m["enabled"]; ok {
		var on bool
		if err := json.Unmarshal(e, &on); err != nil {
			return o, errors.New(`"enabled" must be a boolean`)
		}
		if !on {
			o.Off = true
			return o, nil
		}
		delete(m, "enabled")
	}
	rest, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		msg := err.Error()
		if k, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return o, fmt.Errorf("unknown key %s", k)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return o, fmt.Errorf("%q must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return o, err
	}
	if err := check(&v); err != nil {
		return o, err
	}
	o.Own = &v
	return o, nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "bool":
		return "a boolean"
	case "ptr":
		return "a boolean"
	default:
		return "a number"
	}
}

func checkJWT(c *auth.JWTConfig) error {
	_, err := auth.NewVerifier(*c, nil)
	return err
}

func checkAPIKeys(c *auth.APIKeyConfig) error {
	_, err := auth.NewAPIKeys(*c)
	return err
}

func checkRateLimit(c *ratelimit.Config) error { return c.Check("rate_limit.") }

// parseGuardKey is ParseConfig's and ParseRouteSpec's reading of the three
// guard keys; ok is false for any other key.
func parseGuardKey(k string, raw json.RawMessage, routeLevel bool, jwt *Override[auth.JWTConfig],
	keys *Override[auth.APIKeyConfig], limit *Override[ratelimit.Config]) (ok bool, err error) {
	switch k {
	case "jwt_auth":
		*jwt, err = parseGuard(raw, routeLevel, checkJWT)
	case "api_key_auth":
		*keys, err = parseGuard(raw, routeLevel, checkAPIKeys)
	case "rate_limit":
		*limit, err = parseGuard(raw, routeLevel, checkRateLimit)
	default:
		return false, nil
	}
	return true, err
}

// orKeep is the app-level value of a guard key: its object, nil for
// "enabled": false; keep is what another key set (none: each is read once).
func orKeep[T any](keep *T, o Override[T]) *T {
	if o.Own != nil {
		return o.Own
	}
	return keep
}
