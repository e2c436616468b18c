package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/spikard/spikard/core/problem"
)

// The differential test runs the compiled validator and the general one
// on the same documents and requires them to agree: on malformed-ness
// (against encoding/json plus UTF-8), on valid versus invalid, and on the
// multiset of (type, location) of the entries, using core/request's
// mapping of the general validator's error kinds.

var bigExponent = regexp.MustCompile(`[eE][-+]?0*[1-9][0-9]{3}`)

var diffSchemas = []string{"order.schema.json", "small.schema.json", "constrained.schema.json", "formats.schema.json"}

type diffCase struct {
	compiled *Validator
	general  *jsonschema.Schema
}

func diffCases(t testing.TB) []diffCase {
	var cs []diffCase
	for _, name := range diffSchemas {
		s := readTestdata(t, name)
		cs = append(cs, diffCase{mustCompile(t, s), general(t, s)})
	}
	return cs
}

// generalKeys maps the general validator's error tree to "type loc"
// strings the way core/request's flatten does (the vocabulary of
// core/problem): one entry for a failed anyOf or oneOf, one per missing
// or unexpected property, one per other leaf. root is the decoded
// document.
func generalKeys(ve *jsonschema.ValidationError, root any, out []string) []string {
	loc := "body"
	for _, tok := range ve.InstanceLocation {
		loc += "/" + tok
	}
	switch ve.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		return append(out, problem.Native+" "+loc)
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = generalKeys(c, root, out)
		}
		return out
	}
	var typ string
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			out = append(out, "missing "+loc+"/"+m)
		}
		return out
	case *kind.AdditionalProperties:
		for _, m := range k.Properties {
			out = append(out, problem.Native+" "+loc+"/"+m)
		}
		return out
	case *kind.Type:
		want := ""
		for _, w := range k.Want {
			if w != "null" {
				want = w
				break
			}
		}
		if want == "" && len(k.Want) > 0 {
			want = k.Want[0]
		}
		if k.Got == "string" {
			typ = problem.Parsing(want).Type
		} else {
			typ = problem.WrongType(want).Type
		}
	case *kind.MinLength:
		typ = "string_too_short"
	case *kind.MaxLength:
		typ = "string_too_long"
	case *kind.Pattern:
		typ = "string_pattern_mismatch"
		if s, ok := valueAt(root, ve.InstanceLocation).(string); ok && strings.IndexByte(s, 0) >= 0 {
			typ = problem.Native
		}
	case *kind.Minimum:
		typ = "greater_than_equal"
	case *kind.Maximum:
		typ = "less_than_equal"
	case *kind.ExclusiveMinimum:
		typ = "greater_than"
	case *kind.ExclusiveMaximum:
		typ = "less_than"
	case *kind.Enum:
		typ = "enum"
	case *kind.Format:
		typ = problem.FormatParsing(k.Want, "").Type
	default:
		typ = problem.Native // const, multipleOf, items and property counts, uniqueItems, false schema
	}
	return append(out, typ+" "+loc)
}

// valueAt is the value at an instance location of the decoded document.
func valueAt(root any, path []string) any {
	cur := root
	for _, tok := range path {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i := 0
			fmt.Sscan(tok, &i)
			if i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

func compiledKeys(es []problem.Entry) []string {
	var out []string
	for _, e := range es {
		parts := make([]string, len(e.Loc))
		for i, l := range e.Loc {
			if l.IsIndex {
				parts[i] = fmt.Sprint(l.Index)
			} else {
				parts[i] = l.Key
			}
		}
		out = append(out, e.Type+" "+strings.Join(parts, "/"))
	}
	return out
}

// agree checks one document against one schema pair.
func agree(t testing.TB, c diffCase, doc []byte) {
	t.Helper()
	got, err := c.compiled.Validate(doc, nil)
	cerr := c.compiled.Check(doc)
	switch {
	case err != nil && !errors.Is(cerr, err), err == nil && len(got) > 0 && cerr != ErrInvalid,
		err == nil && len(got) == 0 && cerr != nil:
		t.Fatalf("Check = %v, Validate = %v, %d entries for %q", cerr, err, len(got), doc)
	}
	wellFormed := json.Valid(doc) && utf8.Valid(doc)
	if errors.Is(err, ErrMalformed) {
		if wellFormed {
			t.Fatalf("compiled says malformed, encoding/json accepts: %q", doc)
		}
		return
	}
	if !wellFormed {
		t.Fatalf("compiled accepts malformed %q: %v %v", doc, got, err)
	}
	if errors.Is(err, ErrUndecided) || bigExponent.Match(doc) {
		// Undecided goes to the general validator anyway; and the general
		// validator's exact arithmetic on exponents in the thousands is too
		// slow (or fails) for a fuzzing loop.
		return
	}
	if err != nil {
		t.Fatalf("unexpected error %v for %q", err, doc)
	}
	v, derr := decode(doc)
	if derr != nil {
		t.Fatalf("decode %q: %v", doc, derr)
	}
	var want []string
	if gerr := c.general.Validate(v); gerr != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(gerr, &ve) {
			t.Fatalf("general: %v", gerr)
		}
		want = generalKeys(ve, v, nil)
	}
	have := compiledKeys(got)
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		t.Fatalf("disagree on %s\ncompiled: %q\ngeneral:  %q", doc, have, want)
	}
}

// seeds are valid and invalid documents for the differential schemas.
func seeds(t testing.TB) [][]byte {
	out := [][]byte{
		payload(t, "json-medium.json"),
		[]byte(`{"name":"n","description":"d","price":1.5,"tax":null}`),
		[]byte(`{"name":"n","description":"d","price":"1.5","tax":"x"}`),
		[]byte(`{"order_id":1,"customer":{"name":"a","email":"e","address":{"street":1}},"items":[{"id":1.5,"tags":[1]}],"notes":null}`),
		[]byte(`{"id":"7f1c6a1e-9c2b-4c3e-8a55-1f0c2d3e4b5a","when":"2026-11-24T10:00:00Z","day":null,"ip":"10.0.0.1","count":15,"ratio":0.5,"kind":3,"fixed":"x","tags":["a","b"],"pair":[1,"a",true],"meta":{"a":1},"tree":{"label":"root","children":[{"label":"leaf"}]},"choice":7,"all":3}`),
		[]byte(`{"id":"nope","when":"2026-13-24T10:00:00Z","day":"2024-02-30","ip":"1.2.3","count":17,"ratio":1.5,"kind":"c","fixed":"y","tags":["a","a"],"pair":["1",2,3],"meta":{},"tree":{"label":"Root","children":[{},{},{},{"x":1}]},"choice":"ab","all":1}`),
		[]byte(`{"count":-5.0,"choice":true,"tags":[],"meta":{"a":"1","b":2,"c":3}}`),
		[]byte(`{"uuid":"x","date":"2024-02-29","datetime":"2026-11-24T10:00:00Z","time":"23:59:60Z","duration":"P1D","email":"a@b.co","uri":"http://x","ipv4":"1.2.3.4","ipv6":"::1"}`),
		[]byte(`[]`), []byte(`null`), []byte(`"s"`), []byte(`{"a":1,,}`), []byte(`{"count":1e400}`),
	}
	return out
}

// mutate returns a random structural mutation of the JSON value v.
func mutate(r *rand.Rand, v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if len(keys) > 0 && r.IntN(3) > 0 {
			k := keys[r.IntN(len(keys))]
			if r.IntN(6) == 0 {
				delete(x, k)
			} else {
				x[k] = mutate(r, x[k], depth+1)
			}
			return x
		}
		x[fmt.Sprintf("k%d", r.IntN(4))] = leaf(r)
		return x
	case []any:
		if len(x) > 0 && r.IntN(3) > 0 {
			i := r.IntN(len(x))
			x[i] = mutate(r, x[i], depth+1)
			return x
		}
		if r.IntN(2) == 0 && len(x) > 0 {
			return append(x, x[0])
		}
		return append(x, leaf(r))
	}
	return leaf(r)
}

// formatSamples are valid and invalid strings for every asserted format.
var formatSamples = []string{
	"7f1c6a1e-9c2b-4c3e-8a55-1f0c2d3e4b5a", "7F1C6A1E-9C2B-4C3E-8A55-1F0C2D3E4B5A", "7f1c6a1e9c2b4c3e8a551f0c2d3e4b5a",
	"2026-11-24", "2024-02-29", "2023-02-29", "2026-1-24", "2026-11-24T10:00:00+01:00", "2026-11-24t10:00:00.123z",
	"2026-11-24T24:00:00Z", "23:59:60Z", "12:00:60+01:00", "10:00:00", "10:00:00.Z", "P1D", "PT1H30M", "P1W", "P1M1Y",
	"PT", "P", "P1DT", "a@b.co", "a..b@c.d", "\"q\"@x.io", "a@[1.2.3.4]", "a@[IPv6:::1]", "a@-x.com", "@x.com", "a@",
	"http://x.y/z?q#f", "mailto:a@b", "/rel", "http://[::1", "urn:isbn:1", "255.255.255.255", "01.2.3.4", "1.2.3",
	"1.2.3.4.5", "256.1.1.1", "::1", "1::", "fe80::1%eth0", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8:9", "gg::1", "",
}

func leaf(r *rand.Rand) any {
	switch r.IntN(12) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return json.Number(fmt.Sprint(r.IntN(200) - 50))
	case 3:
		return json.Number(fmt.Sprintf("%d.%d", r.IntN(10), r.IntN(10)))
	case 4:
		return json.Number([]string{"1e2", "5.0", "-0", "1.5e1", "0.1", "100", "1e-3"}[r.IntN(7)])
	case 5:
		return []any{}
	case 6:
		return map[string]any{}
	case 7:
		return []string{"", "a", "ab", "abcdefghij", "é", "a\u0000b", "Root", "x"}[r.IntN(8)]
	case 8:
		return formatSamples[r.IntN(len(formatSamples))]
	case 9:
		return map[string]any{"label": "ab", "children": []any{}}
	case 10:
		return []any{json.Number("1"), "a", true}
	}
	return "c"
}

func TestDifferential(t *testing.T) {
	cs := diffCases(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, seed := range seeds(t) {
		for _, c := range cs {
			agree(t, c, seed)
		}
		base, err := decode(seed)
		if err != nil {
			continue
		}
		for n := 0; n < 300; n++ {
			v, _ := decode(seed)
			_ = base
			for m := 0; m <= r.IntN(4); m++ {
				v = mutate(r, v, 0)
			}
			doc, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				agree(t, c, doc)
			}
		}
	}
}

// FuzzDifferential lets the fuzzer mutate bytes; the first byte picks the
// schema.
func FuzzDifferential(f *testing.F) {
	for _, s := range seeds(f) {
		for i := range diffSchemas {
			f.Add(uint8(i), s)
		}
	}
	cs := diffCases(f)
	f.Fuzz(func(t *testing.T, which uint8, doc []byte) {
		agree(t, cs[int(which)%len(cs)], doc)
	})
}

// TestDifferentialFixtures runs every conformance fixture that declares a
// body schema through both validators.
func TestDifferentialFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "conformance", "fixtures", "*", "*.json"))
	if len(files) == 0 {
		t.Skip("no conformance fixtures beside the repository")
	}
	ran := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fx struct {
			Handler struct {
				BodySchema json.RawMessage `json:"body_schema"`
			} `json:"handler"`
			Request struct {
				Body json.RawMessage `json:"body"`
			} `json:"request"`
		}
		if json.Unmarshal(raw, &fx) != nil || len(fx.Handler.BodySchema) == 0 || len(fx.Request.Body) == 0 ||
			string(fx.Handler.BodySchema) == "null" {
			continue
		}
		v, err := Compile(fx.Handler.BodySchema)
		if errors.Is(err, ErrUnsupported) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			agree(t, diffCase{v, general(t, fx.Handler.BodySchema)}, fx.Request.Body)
		})
		ran++
	}
	t.Logf("%d fixtures compared", ran)
}

// TestFormatAgreement checks every format sample under every format.
func TestFormatAgreement(t *testing.T) {
	c := diffCases(t)[len(diffSchemas)-1]
	for _, f := range []string{"uuid", "date", "datetime", "time", "duration", "email", "uri", "ipv4", "ipv6"} {
		for _, s := range formatSamples {
			b, err := json.Marshal(map[string]string{f: s})
			if err != nil {
				t.Fatal(err)
			}
			agree(t, c, b)
		}
	}
}
