package validate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// general compiles schema with the general validator, configured as
// core/request configures it plus format assertions, which the compiled
// validator always makes.
func general(t testing.TB, schema []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("spikard:///body.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("spikard:///body.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// decode decodes doc the way the general path must see it: numbers exact.
func decode(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// payload reads a benchmark payload from SPIKARD_PAYLOADS or the shared
// directory beside the repository, skipping when neither exists.
func payload(t testing.TB, name string) []byte {
	t.Helper()
	dir := os.Getenv("SPIKARD_PAYLOADS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "bench", "payloads")
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Skipf("payload %s: %v", name, err)
	}
	return b
}

func mustCompile(t testing.TB, schema []byte) *Validator {
	t.Helper()
	v, err := Compile(schema)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
