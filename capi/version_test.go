package main

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

func TestABIVersionMatchesHeader(t *testing.T) {
	header, err := os.ReadFile("../include/spikard.h")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^#define SPIKARD_ABI_VERSION (\d+)$`).FindSubmatch(header)
	if m == nil {
		t.Fatal("no SPIKARD_ABI_VERSION in include/spikard.h")
	}
	if v, _ := strconv.Atoi(string(m[1])); v != abiVersion {
		t.Fatalf("include/spikard.h says %d, capi implements %d", v, abiVersion)
	}
}
