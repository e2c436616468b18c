package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/cloudwego/hertz/pkg/common/utils"
)

// Request ids: every answer serveHTTP writes carries one (X-Request-ID by
// default), and the request the host sees carries the same one in that
// header, so a handler, a later hook and the access log (exchange.requestID)
// all name the request alike. A client's own id is kept when it is sane
// (requestIDOK); otherwise core makes a random UUID (version 4) from the
// runtime's per-thread generator: no lock, no system call, no allocation.
// Heads the front refuses (front.go) never reach serveHTTP and carry none.

// RequestIDConfig is the config's "request_id": true/false, or
// {"enabled": bool, "header": "X-Request-ID"}.
type RequestIDConfig struct {
	Enabled bool
	// Header is the field's name as it goes on the wire (no case folding:
	// "X-Request-ID", not Hertz's "X-Request-Id"). Default X-Request-ID.
	Header string
}

// DefaultRequestIDHeader is RequestIDConfig.Header when it is not set.
const DefaultRequestIDHeader = "X-Request-ID"

// maxRequestIDLength is the longest client id kept; a longer one is
// replaced.
const maxRequestIDLength = 128

// parseRequestID reads the "request_id" value.
func parseRequestID(raw json.RawMessage) (RequestIDConfig, error) {
	rc := RequestIDConfig{Enabled: true, Header: DefaultRequestIDHeader}
	if decode(raw, &rc.Enabled) {
		return rc, nil
	}
	var m map[string]json.RawMessage
	if !decode(raw, &m) {
		return rc, errors.New(`must be true, false or {"enabled": bool, "header": "X-Request-ID"}`)
	}
	for k, v := range m {
		var err error
		switch k {
		case "enabled":
			rc.Enabled, err = boolean(v)
		case "header":
			rc.Header, err = text(v)
			if err == nil && !isToken([]byte(rc.Header)) {
				err = fmt.Errorf("%q is not a header field name", rc.Header)
			}
		default:
			return rc, fmt.Errorf("unknown key %q (known: \"enabled\", \"header\")", k)
		}
		if err != nil {
			return rc, fmt.Errorf("%q: %v", k, err)
		}
	}
	return rc, nil
}

// requestIDOK reports whether a client's id may be kept: 1 to 128 bytes of
// letters, digits and -_.:~+/=@, so that it can go into a log line or a
// header unquoted and names nothing but an id.
func requestIDOK(v []byte) bool {
	if len(v) == 0 || len(v) > maxRequestIDLength {
		return false
	}
	for _, b := range v {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b == '-' || b == '_' || b == '.' || b == ':' || b == '~' || b == '+' || b == '/' || b == '=' || b == '@':
		default:
			return false
		}
	}
	return true
}

// appendUUID appends a random version-4 UUID in its 36-character form.
// Two draws from the runtime's generator fill it; the version and variant
// bits are set in place, and each nibble goes to its fixed position.
func appendUUID(dst []byte) []byte {
	const hex = "0123456789abcdef"
	hi := rand.Uint64()&^(0xf<<12) | 0x4<<12 // byte 6's high nibble: version 4
	lo := rand.Uint64()&^(0x3<<62) | 0x2<<62 // byte 8's top bits: the RFC 9562 variant
	var out [36]byte
	for i := range 16 {
		out[uuidPos[i]] = hex[hi>>(60-4*i)&0xf]
		out[uuidPos[16+i]] = hex[lo>>(60-4*i)&0xf]
	}
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return append(dst, out[:]...)
}

// uuidPos is where each of a UUID's 32 hex digits goes in its text form
// (8-4-4-4-12).
var uuidPos = [32]uint8{0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17,
	19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35}

// stampRequestID gives ex its id: the client's when sane, else a new one
// put into the request's own header too, so that the host reads the id its
// answer carries. It sets the answer's header now: every way an answer
// leaves (Hertz, the wire, a stream, a WebSocket's 101) keeps it.
func (a *App) stampRequestID(ex *exchange) {
	c := ex.c
	if v := c.Request.Header.PeekArgBytes(a.rid.key); requestIDOK(v) {
		ex.requestID = append(ex.requestID[:0], v...)
	} else {
		ex.requestID = appendUUID(ex.requestID[:0])
		c.Request.Header.SetArgBytes(a.rid.key, ex.requestID, false)
	}
	c.Response.Header.SetArgBytes(a.rid.wire, ex.requestID, false)
}

// ridNames is the request id's header name in the two forms it is used in:
// as Hertz keeps request fields (canonical case: X-Request-Id), and as it
// goes on the wire (as configured). nil key: request ids are off.
type ridNames struct {
	key, wire []byte
}

// newRIDNames compiles the configured header name.
func newRIDNames(rc RequestIDConfig) ridNames {
	if !rc.Enabled {
		return ridNames{}
	}
	name := rc.Header
	if name == "" {
		name = DefaultRequestIDHeader
	}
	key := []byte(name)
	utils.NormalizeHeaderKey(key, false)
	return ridNames{key: key, wire: []byte(name)}
}
