package validate

import (
	"testing"

	"github.com/bytedance/sonic"

	"github.com/spikard/spikard/core/problem"
)

// The benchmarks compare the compiled validator with the general one on
// the benchmark workloads' Order model. "General" includes decoding with
// sonic, as core/request does, since the compiled validator's figure
// includes its own scan; GeneralValidateOnly isolates the tree walk.

var sonicNumbers = sonic.Config{UseNumber: true}.Froze()

func benchCompiled(b *testing.B, file string) {
	doc := payload(b, file)
	v := mustCompile(b, readTestdata(b, "order.schema.json"))
	errs := make([]problem.Entry, 0, 8)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := v.Validate(doc, errs[:0])
		if err != nil || len(out) != 0 {
			b.Fatalf("invalid: %v %v", err, out)
		}
	}
}

func benchGeneral(b *testing.B, file string, decodeEach bool) {
	doc := payload(b, file)
	s := general(b, readTestdata(b, "order.schema.json"))
	var pre any
	if err := sonicNumbers.Unmarshal(doc, &pre); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		v := pre
		if decodeEach {
			v = nil
			if err := sonicNumbers.Unmarshal(doc, &v); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Validate(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckInvalid measures the verdict on a failing document.
func BenchmarkCheckInvalid(b *testing.B) {
	doc := []byte(`{"order_id":1,"customer":{"name":"a","email":"e","address":{}},"items":[{"id":"x"}],"notes":"","priority":""}`)
	v := mustCompile(b, readTestdata(b, "order.schema.json"))
	b.ReportAllocs()
	for b.Loop() {
		if v.Check(doc) != ErrInvalid {
			b.Fatal("want invalid")
		}
	}
}

func BenchmarkCompiledMedium(b *testing.B)            { benchCompiled(b, "json-medium.json") }
func BenchmarkGeneralMedium(b *testing.B)             { benchGeneral(b, "json-medium.json", true) }
func BenchmarkGeneralValidateOnlyMedium(b *testing.B) { benchGeneral(b, "json-medium.json", false) }
func BenchmarkCompiledVeryLarge(b *testing.B)         { benchCompiled(b, "json-very-large.json") }
func BenchmarkGeneralVeryLarge(b *testing.B)          { benchGeneral(b, "json-very-large.json", true) }
func BenchmarkGeneralValidateOnlyVeryLarge(b *testing.B) {
	benchGeneral(b, "json-very-large.json", false)
}
