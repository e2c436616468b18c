package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// FromDescription is the problem a host asks core to render instead of
// encoding RFC 9457 JSON itself (SPIKARD_RESPONSE_PROBLEM), so every
// binding's errors read the same, byte for byte. status is 400..599; desc
// is a JSON object whose keys are all optional:
//
//	{"detail": string, "type": string, "title": string,
//	 "errors": [{"type": string, "loc": [string|int...], "msg": string,
//	             "input": any, "ctx": object}]}
//
// or, alone with status 500, {"dependency": {"kind", "key", "cycle",
// "expected"}}: the dependency-error problem (see Dependency).
//
// type and title default by status (422: the validation problem core sends
// itself), detail to the title or, with errors, to "N validation errors in
// request". Unknown keys are refused, as everywhere in the ABI, and entries
// are re-encoded in core's fixed order and spacing, so the bytes on the wire
// never depend on the host's JSON encoder.
func FromDescription(status int, desc []byte) (Problem, error) {
	if status < 400 || status > 599 {
		return Problem{}, fmt.Errorf("problem: status %d is not an error status (400..599)", status)
	}
	p := byStatus(status)
	if len(bytes.TrimSpace(desc)) == 0 {
		return p, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(desc, &m); err != nil || m == nil {
		return Problem{}, errors.New("problem: the description must be a JSON object")
	}
	var detail *string
	for k, raw := range m {
		var err error
		switch k {
		case "detail":
			var s string
			err = str(raw, &s)
			detail = &s
		case "type":
			err = str(raw, &p.Type)
		case "title":
			err = str(raw, &p.Title)
		case "errors":
			p.Errors, err = entries(raw)
		case "dependency":
			if len(m) != 1 || status != 500 {
				return Problem{}, errors.New(`problem: "dependency" goes alone, with status 500`)
			}
			p, err = dependency(raw) // dependency.go
			if err == nil {
				return p, nil
			}
		default:
			return Problem{}, fmt.Errorf("problem: unknown key %q", k)
		}
		if err != nil {
			return Problem{}, fmt.Errorf("problem: %q: %v", k, err)
		}
	}
	switch {
	case detail != nil:
		p.Detail = *detail
	case p.Errors != nil:
		p.Detail = Validation(p.Errors).Detail
	}
	return p, nil
}

// byStatus is the default problem for status: core's own where it has one,
// else the reason phrase.
func byStatus(status int) Problem {
	switch status {
	case 422:
		p := Validation(nil)
		p.Errors = nil
		p.Detail = p.Title
		return p
	case 500:
		return Internal()
	}
	title := http.StatusText(status)
	if title == "" {
		return Problem{Type: "about:blank", Title: "HTTP " + strconv.Itoa(status), Status: status, Detail: "HTTP " + strconv.Itoa(status)}
	}
	slug := strings.ToLower(strings.NewReplacer(" ", "-", "'", "").Replace(title))
	return Problem{Type: TypeBase + slug, Title: title, Status: status, Detail: title}
}

func str(raw json.RawMessage, dst *string) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) || json.Unmarshal(raw, dst) != nil {
		return errors.New("must be a string")
	}
	return nil
}

func entries(raw json.RawMessage) ([]Entry, error) {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, errors.New("must be a list of objects")
	}
	out := make([]Entry, 0, len(items))
	for i, item := range items {
		e, err := entry(item)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func entry(m map[string]json.RawMessage) (Entry, error) {
	e := Entry{NoInput: true}
	for _, k := range []string{"type", "loc", "msg"} {
		if _, ok := m[k]; !ok {
			return e, fmt.Errorf("%q is required", k)
		}
	}
	for k, raw := range m {
		var err error
		switch k {
		case "type":
			err = str(raw, &e.Type)
		case "msg":
			err = str(raw, &e.Msg)
		case "loc":
			e.Loc, err = locs(raw)
		case "input":
			e.Input, err = compact(raw)
			e.NoInput = false
		case "ctx":
			if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
				err = errors.New("must be an object")
			} else {
				e.Ctx, err = compact(raw)
			}
		default:
			return e, fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return e, fmt.Errorf("%q: %v", k, err)
		}
	}
	return e, nil
}

func locs(raw json.RawMessage) ([]Loc, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || parts == nil {
		return nil, errors.New("must be a list of keys and indexes")
	}
	out := make([]Loc, 0, len(parts))
	for _, part := range parts {
		var key string
		var index int
		switch {
		case json.Unmarshal(part, &key) == nil && !bytes.Equal(bytes.TrimSpace(part), []byte("null")):
			out = append(out, Key(key))
		case json.Unmarshal(part, &index) == nil:
			out = append(out, Index(index))
		default:
			return nil, errors.New("must be a list of strings and integers")
		}
	}
	return out, nil
}

// compact re-encodes a JSON value without insignificant space, keeping its
// key order.
func compact(raw json.RawMessage) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, errors.New("must be JSON")
	}
	return b.Bytes(), nil
}
