package problem

import "strconv"

// The standard problems. Each constructor returns a fresh value; none
// allocates beyond what its arguments need.

// Validation is the 422 for failed request validation.
func Validation(errs []Entry) Problem {
	detail := "1 validation error in request"
	if len(errs) != 1 {
		detail = strconv.Itoa(len(errs)) + " validation errors in request"
	}
	return Problem{Type: TypeBase + "validation-error", Title: "Request Validation Failed", Status: 422, Detail: detail, Errors: errs}
}

// NotFound is the 404 for a path no route matches.
func NotFound() Problem {
	return Problem{Type: TypeBase + "not-found", Title: "Not Found", Status: 404, Detail: "Not found"}
}

// MethodNotAllowed is the 405 for a path whose routes lack the method. The
// server adds the Allow header.
func MethodNotAllowed(method string) Problem {
	return Problem{Type: TypeBase + "method-not-allowed", Title: "Method Not Allowed", Status: 405,
		Detail: "Method " + method + " not allowed"}
}

// Internal is the 500 for a failed handler; it never reveals details.
func Internal() Problem {
	return Problem{Type: TypeBase + "internal-server-error", Title: "Internal Server Error", Status: 500, Detail: "Internal server error"}
}

// Limits answer with a problem whose title is the status's reason phrase
// and whose detail names the limit, in its config key's words, and its
// value.

// PayloadTooLarge is the 413 for a body over max_body_size (limit bytes).
func PayloadTooLarge(limit int64) Problem {
	return Problem{Type: TypeBase + "payload-too-large", Title: "Payload Too Large", Status: 413,
		Detail: "Request body exceeds max_body_size (" + strconv.FormatInt(limit, 10) + " bytes)"}
}

// TooDeep is the 400 for a JSON body nested deeper than max_json_depth
// (limit levels).
func TooDeep(limit int) Problem {
	return Problem{Type: TypeBase + "bad-request", Title: "Bad Request", Status: 400,
		Detail: "JSON body nesting exceeds max_json_depth (" + strconv.Itoa(limit) + " levels)"}
}

// UnsupportedMediaType is the 415 for a body that is not JSON where a JSON
// body is declared.
func UnsupportedMediaType() Problem {
	return Problem{Type: TypeBase + "unsupported-media-type", Title: "Unsupported Media Type", Status: 415, Detail: "Unsupported media type"}
}

// UnsupportedCharset is the 415 for a JSON body declared in a charset other
// than UTF-8.
func UnsupportedCharset(charset string) Problem {
	return Problem{Type: TypeBase + "unsupported-charset", Title: "Unsupported Charset", Status: 415,
		Detail: "Unsupported charset '" + charset + "' for JSON. Only UTF-8 is supported."}
}

// MalformedJSON is the 400 for a body that does not parse as JSON: a
// problem document like every other error, whose detail is the words
// FastAPI's {"detail": ...} answer uses, so a client reading "detail" finds
// the same text.
func MalformedJSON() Problem {
	return Problem{Type: TypeBase + "bad-request", Title: "Bad Request", Status: 400, Detail: "Invalid request format"}
}

// BadRequest is a 400 with the given detail.
func BadRequest(detail string) Problem {
	return Problem{Type: TypeBase + "bad-request", Title: "Bad Request", Status: 400, Detail: detail}
}

// RequestTimeout is the 408 for a request body that stopped arriving for
// longer than read_timeout.
func RequestTimeout() Problem {
	return Problem{Type: TypeBase + "request-timeout", Title: "Request Timeout", Status: 408, Detail: "Request body not received within the read timeout"}
}

// HeaderTimeout is the 408 for a request head that did not arrive within
// the timeout named by key (header_timeout, read_timeout), of secs.
func HeaderTimeout(key, secs string) Problem {
	return Problem{Type: TypeBase + "request-timeout", Title: "Request Timeout", Status: 408,
		Detail: "Request header not received within " + key + " (" + secs + ")"}
}

// URITooLong is the 414 for a request target over max_uri_length (limit
// bytes).
func URITooLong(limit int) Problem {
	return Problem{Type: TypeBase + "uri-too-long", Title: "URI Too Long", Status: 414,
		Detail: "Request target exceeds max_uri_length (" + strconv.Itoa(limit) + " bytes)"}
}

// HeaderTooLarge is the 431 for header fields over max_header_size (limit
// bytes, line ends included).
func HeaderTooLarge(limit int) Problem {
	return Problem{Type: TypeBase + "request-header-fields-too-large", Title: "Request Header Fields Too Large", Status: 431,
		Detail: "Request header fields exceed max_header_size (" + strconv.Itoa(limit) + " bytes)"}
}

// TooManyHeaders is the 431 for more header fields than max_header_count.
func TooManyHeaders(limit int) Problem {
	return Problem{Type: TypeBase + "request-header-fields-too-large", Title: "Request Header Fields Too Large", Status: 431,
		Detail: "Request header fields exceed max_header_count (" + strconv.Itoa(limit) + ")"}
}

// ExpectationFailed is the 417 for an Expect field the server cannot meet.
func ExpectationFailed(detail string) Problem {
	return Problem{Type: TypeBase + "expectation-failed", Title: "Expectation Failed", Status: 417, Detail: detail}
}

// VersionNotSupported is the 505 for a well-formed HTTP version other
// than 1.0 and 1.1.
func VersionNotSupported(detail string) Problem {
	return Problem{Type: TypeBase + "http-version-not-supported", Title: "HTTP Version Not Supported", Status: 505, Detail: detail}
}

// BodyLengthMismatch is the 400 for a body that ended before its declared
// Content-Length.
func BodyLengthMismatch() Problem {
	return Problem{Type: TypeBase + "bad-request", Title: "Bad Request", Status: 400, Detail: "Content-Length header does not match actual body size"}
}

// Timeout is the 408 for a request whose handler had not answered when
// request_timeout (secs, as the config counts it: "30 s") passed.
func Timeout(secs string) Problem {
	return Problem{Type: TypeBase + "request-timeout", Title: "Request Timeout", Status: 408,
		Detail: "Request not answered within request_timeout (" + secs + ")"}
}

// Unavailable is the 503 for a request the app could not answer because it
// is shutting down.
func Unavailable() Problem {
	return Problem{Type: TypeBase + "service-unavailable", Title: "Service Unavailable", Status: 503, Detail: "Server is shutting down"}
}

// UpgradeRequired is the 426 for a request to a WebSocket route that is not
// a WebSocket handshake (or asks for a version other than 13); detail says
// what is missing.
func UpgradeRequired(detail string) Problem {
	return Problem{Type: TypeBase + "upgrade-required", Title: "Upgrade Required", Status: 426, Detail: detail}
}

// OriginForbidden is the 403 for a WebSocket handshake from an origin the
// route does not allow.
func OriginForbidden(origin string) Problem {
	return Problem{Type: TypeBase + "forbidden", Title: "Forbidden", Status: 403,
		Detail: "WebSocket origin '" + origin + "' is not allowed"}
}

// CORSForbidden is the 403 for a request a CORS policy refuses; detail
// names the origin, method or header refused.
func CORSForbidden(detail string) Problem {
	return Problem{Type: TypeBase + "forbidden", Title: "Forbidden", Status: 403, Detail: detail}
}
