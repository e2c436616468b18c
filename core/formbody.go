package core

import (
	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/request"
)

// decodeBody turns the request body into what the host receives and
// validates it against the route's body schema. JSON bodies pass through
// unchanged; form and multipart bodies become the equivalent JSON object
// (files as descriptors into attachments, the raw body). Routes without a
// body schema get the raw body whatever its type. When ok is false the
// error response has been written.
func (ex *exchange) decodeBody(body []byte) (out, attachments []byte, ok bool) {
	rt := ex.rt
	ct := ex.c.Request.Header.ContentType()
	kind := request.KindOf(ct)
	if kind == request.MediaMultipart {
		if _, err := request.Boundary(ct); err != nil {
			// A multipart body without a boundary cannot be read at all,
			// whatever the route expects.
			ex.writeErrorJSON(400, err.Error())
			return nil, nil, false
		}
	}
	// A JSON body nested past max_json_depth is refused before any parser
	// meets it: for a route with a body schema Validate decides it in its
	// own pass; for one without, the host's parser would be the first.
	if kind == request.MediaJSON && rt.body == nil && len(ct) > 0 && request.TooDeep(body, rt.jsonDepth) {
		p := problem.TooDeep(rt.jsonDepth)
		ex.out = writeProblem(ex.c, &p, ex.out)
		return nil, nil, false
	}
	if rt.body == nil && rt.files == nil {
		return body, nil, true
	}
	var coerc []problem.Entry
	var fileErrs []problem.Entry // declared upload fields (file_params)
	validate := body
	switch kind {
	case request.MediaJSON:
		if rt.body == nil {
			// Only file_params: a body that is not multipart has no files.
			fileErrs = rt.files.Check(nil, nil)
			break
		}
		if len(ct) > 0 {
			if p := request.CheckContentType(ct); p != nil {
				ex.out = writeProblem(ex.c, p, ex.out)
				return nil, nil, false
			}
		}
	case request.MediaForm:
		body, coerc = rt.shape.DecodeForm(body, &ex.form)
		validate = body
		fileErrs = rt.files.Check(nil, nil)
	case request.MediaMultipart:
		boundary, _ := request.Boundary(ct)
		raw := body
		var files bool
		var err error
		body, validate, files, coerc, err = rt.shape.DecodeMultipart(raw, boundary, &ex.form)
		if err != nil {
			p := problem.BadRequest("Malformed multipart/form-data body")
			ex.out = writeProblem(ex.c, &p, ex.out)
			return nil, nil, false
		}
		if files {
			attachments = raw
		}
		fileErrs = rt.files.Check(ex.form.Parts(), nil)
	default:
		p := problem.UnsupportedMediaType()
		ex.out = writeProblem(ex.c, &p, ex.out)
		return nil, nil, false
	}
	var p *problem.Problem
	if rt.body != nil {
		p = rt.body.Validate(validate)
	}
	if p == nil && len(coerc) == 0 && len(fileErrs) == 0 {
		return body, attachments, true
	}
	if p == nil || p.Status == 422 {
		// Parameter, coercion, body and upload errors are reported
		// together; an upload error at a position the schema also
		// flags (a required file) is reported once.
		var entries []problem.Entry
		if p != nil {
			entries = p.Errors
		}
		entries = request.MergeCoercion(coerc, entries)
		entries = request.MergeCoercion(entries, fileErrs)
		if kind == request.MediaForm || kind == request.MediaMultipart {
			request.MarkFormMissing(entries)
		}
		v := problem.Validation(append(ex.errs, entries...))
		p = &v
	}
	ex.out = writeProblem(ex.c, p, ex.out)
	return nil, nil, false
}

// writeErrorJSON writes {"error": msg}, the plain shape of framing errors
// that precede any routing to a schema (the conformance corpus uses it).
func (ex *exchange) writeErrorJSON(status int, msg string) {
	ex.out = append(problem.AppendString(append(ex.out[:0], `{"error":`...), msg), '}')
	ex.c.Response.SetStatusCode(status)
	ex.c.Response.Header.SetContentType("application/json")
	ex.c.Response.SetBody(ex.out)
}
