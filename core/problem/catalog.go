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

// PayloadTooLarge is the 413 for a body over max_body_size.
func PayloadTooLarge() Problem {
	return Problem{Type: TypeBase + "payload-too-large", Title: "Payload Too Large", Status: 413, Detail: "Request body exceeds the maximum allowed size"}
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

// MalformedJSON is the 400 for a body that does not parse as JSON.
func MalformedJSON() Problem {
	return Problem{Type: TypeBase + "bad-request", Title: "Bad Request", Status: 400, Detail: "Invalid request format", Bare: true}
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

// BodyLengthMismatch is the 400 for a body that ended before its declared
// Content-Length.
func BodyLengthMismatch() Problem {
	return Problem{Type: TypeBase + "bad-request", Title: "Bad Request", Status: 400, Detail: "Content-Length header does not match actual body size"}
}

// Timeout is the 504 for a request whose answer did not come in time.
func Timeout() Problem {
	return Problem{Type: TypeBase + "gateway-timeout", Title: "Gateway Timeout", Status: 504, Detail: "Request timed out"}
}

// Unavailable is the 503 for a request the app could not answer because it
// is shutting down.
func Unavailable() Problem {
	return Problem{Type: TypeBase + "service-unavailable", Title: "Service Unavailable", Status: 503, Detail: "Server is shutting down"}
}
