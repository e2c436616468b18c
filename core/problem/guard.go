package problem

import "strconv"

// Unauthorized is the 401 of a request the JWT or API-key guard refused;
// title and detail are the guard's words (the fixture corpus's), the type
// is the corpus's.
func Unauthorized(title, detail string) Problem {
	return Problem{Type: TypeBase + "unauthorized", Title: title, Status: 401, Detail: detail}
}

// TooManyRequests is the 429 of a request over its rate limit; retry is
// the whole seconds Retry-After says.
func TooManyRequests(retry int64) Problem {
	return Problem{Type: TypeBase + "too-many-requests", Title: "Too Many Requests", Status: 429,
		Detail: "Rate limit exceeded: retry after " + strconv.FormatInt(retry, 10) + " s"}
}

// LimitUnavailable is the 503 of a request whose rate-limit store (Redis)
// did not answer, when the limit is not configured to fail open.
func LimitUnavailable() Problem {
	return Problem{Type: TypeBase + "service-unavailable", Title: "Service Unavailable", Status: 503,
		Detail: "Rate limit store unavailable"}
}
