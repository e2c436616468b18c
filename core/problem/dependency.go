package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Dependency kinds of a dependency-error problem: what went wrong while a
// host resolved a handler's injected dependencies (the corpus's
// "dependency-error" documents).
var dependencyKinds = []string{"missing_dependency", "circular_dependency", "type_mismatch"}

// Dependency is the 500 a route answers when its dependencies cannot be
// resolved: one entry of kind, naming key (missing_dependency,
// type_mismatch: the dependency; circular_dependency: where the cycle
// closes) and, for a cycle, the cycle's keys in order, first key repeated
// last. expected names the type a type_mismatch wanted (the host's
// spelling). Every binding's bytes are the same: the messages are core's.
func Dependency(kind, key string, cycle []string, expected string) Problem {
	e := Entry{Type: kind, NoInput: true, NoLoc: true}
	var detail string
	extra := []byte(`,"dependency_key":`)
	extra = AppendString(extra, key)
	switch kind {
	case "missing_dependency":
		detail = "Required dependency not found"
		e.Msg = "Dependency '" + key + "' is not registered"
	case "circular_dependency":
		detail = "Circular dependency detected"
		e.Msg = "Circular dependency detected: " + strings.Join(cycle, " -> ")
		extra = append(extra, `,"cycle":[`...)
		for i, k := range cycle {
			if i > 0 {
				extra = append(extra, ',')
			}
			extra = AppendString(extra, k)
		}
		extra = append(extra, ']')
	default:
		detail = "Dependency type mismatch"
		e.Msg = "Dependency '" + key + "' is not of the expected type '" + expected + "'"
	}
	e.Extra = extra
	return Problem{Type: TypeBase + "dependency-error", Title: "Dependency Resolution Failed", Status: 500,
		Detail: detail, Errors: []Entry{e}}
}

// dependency reads a description's "dependency" object: {"kind", "key",
// "cycle" (circular_dependency only), "expected" (type_mismatch only)}.
func dependency(raw json.RawMessage) (Problem, error) {
	var d struct {
		Kind     string   `json:"kind"`
		Key      string   `json:"key"`
		Cycle    []string `json:"cycle"`
		Expected string   `json:"expected"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Problem{}, fmt.Errorf(`must be {"kind", "key", "cycle", "expected"}: %v`, err)
	}
	switch {
	case d.Key == "":
		return Problem{}, errors.New(`"key" is required`)
	case d.Kind == "circular_dependency" && len(d.Cycle) < 2:
		return Problem{}, errors.New(`a circular_dependency has a "cycle" of at least two keys`)
	case d.Kind != "circular_dependency" && d.Cycle != nil:
		return Problem{}, errors.New(`"cycle" is for circular_dependency`)
	case d.Kind == "type_mismatch" && d.Expected == "":
		return Problem{}, errors.New(`a type_mismatch names the "expected" type`)
	case d.Kind != "type_mismatch" && d.Expected != "":
		return Problem{}, errors.New(`"expected" is for type_mismatch`)
	}
	for _, k := range dependencyKinds {
		if k == d.Kind {
			return Dependency(d.Kind, d.Key, d.Cycle, d.Expected), nil
		}
	}
	return Problem{}, fmt.Errorf(`"kind" must be one of %q`, dependencyKinds)
}
