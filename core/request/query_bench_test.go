package request

import (
	"testing"

	"github.com/spikard/spikard/core/problem"
)

// BenchmarkExtractQueryMany is the query-many workload of the benchmark
// suite (bench/WORKLOADS.md): 15 typed query parameters, one of them a
// list, from 18 pairs.
func BenchmarkExtractQueryMany(b *testing.B) {
	p := plan(b, "/query/many", `{"type":"object","properties":{
		"page":{"type":"integer","source":"query"},"limit":{"type":"integer","source":"query"},
		"sort":{"type":"string","source":"query"},"order":{"type":"string","source":"query"},
		"q":{"type":"string","source":"query"},"active":{"type":"boolean","source":"query"},
		"min_price":{"type":"number","source":"query"},"category":{"type":"string","source":"query"},
		"max_price":{"type":"number","source":"query"},"brand":{"type":"string","source":"query"},
		"color":{"type":"string","source":"query"},"size":{"type":"string","source":"query"},
		"tag":{"type":"array","items":{"type":"string"},"source":"query"},
		"in_stock":{"type":"boolean","source":"query"},"rating":{"type":"integer","source":"query"}},
		"required":["page","limit","sort","order","q","active","min_price","category","max_price",
		"brand","color","size","tag","in_stock","rating"]}`)
	in := &fakeInput{query: "page=2&limit=50&sort=created_at&order=desc&q=widget&active=true&min_price=9.5" +
		"&category=tools&max_price=99.5&brand=acme&color=red&size=m&tag=a&tag=b&tag=c&in_stock=true&rating=4"}
	var s Scratch
	var dst []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var errs []problem.Entry
		dst, errs = p.Extract(dst[:0], in, &s, errs)
		if len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
