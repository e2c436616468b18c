package main

// abiVersion is the ABI version this library implements: SPIKARD_ABI_VERSION
// of include/spikard.h, which TestABIVersionMatchesHeader keeps equal (the
// spikard_abi_next test build reports the next minor; see abinext.go). It is
// a Go constant rather than the header's macro because Go's build cache does
// not notice a change to a header outside the package, and a stale library
// would then report the old number.
const abiVersion = headerABIVersion + nextMinor

// headerABIVersion is SPIKARD_ABI_VERSION.
const headerABIVersion = 20003
